// The in-process spec files of test/plugins, in two test processes of about equal length that run
// side by side (see test/helpers/specs.ts): specs.test.ts and specs-2.test.ts.
import { runSpecs } from '../helpers/specs.js'

await runSpecs(import.meta.url, [
  './oauth-toolkit.spec.ts',
  './client-cache.spec.ts',
  './resource-server-jwt.spec.ts',
  './protect.spec.ts',
])
