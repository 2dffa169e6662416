// The in-process spec files of test/dpop, in one test process (see test/helpers/specs.ts).
import { runSpecs } from '../helpers/specs.js'

await runSpecs(import.meta.url, [
  './authorize.spec.ts',
  './fapi2.spec.ts',
  './resource-server.spec.ts',
  './resource.spec.ts',
  './token-endpoint.spec.ts',
])
