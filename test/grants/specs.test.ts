// The in-process spec files of test/grants, in one test process (see test/helpers/specs.ts).
import { runSpecs } from '../helpers/specs.js'

await runSpecs(import.meta.url, [
  './authorization-code.spec.ts',
  './client-credentials.spec.ts',
  './password.spec.ts',
  './refresh-token.spec.ts',
])
