// The in-process spec files of test/device and test/tokens, in one test process (see
// test/helpers/specs.ts).
import { runSpecs } from '../helpers/specs.js'

await runSpecs(import.meta.url, [
  './device-authorization.spec.ts',
  './pages.spec.ts',
  './polling.spec.ts',
  './resource.spec.ts',
  '../tokens/jwt-access-token.spec.ts',
  '../tokens/secret-hasher.spec.ts',
])
