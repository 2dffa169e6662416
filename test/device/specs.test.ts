// The in-process spec files of test/device, in one test process (see test/helpers/specs.ts).
import { runSpecs } from '../helpers/specs.js'

await runSpecs(import.meta.url, [
  './device-authorization.spec.ts',
  './pages.spec.ts',
  './polling.spec.ts',
  './resource.spec.ts',
])
