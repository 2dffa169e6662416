// The in-process spec files of test/views, in one test process (see test/helpers/specs.ts).
import { runSpecs } from '../helpers/specs.js'

await runSpecs(import.meta.url, [
  './admin.spec.ts',
  './admin-sessions.spec.ts',
  './i18n.spec.ts',
  './management.spec.ts',
  './protected-resource.spec.ts',
  './resource-audience.spec.ts',
  './scoped-views.spec.ts',
])
