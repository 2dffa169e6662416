// The in-process spec files of test/endpoints, in one test process (see test/helpers/specs.ts).
import { runSpecs } from '../helpers/specs.js'

await runSpecs(import.meta.url, [
  './cors.spec.ts',
  './introspect.spec.ts',
  './par.spec.ts',
  './register-policy.spec.ts',
  './register.spec.ts',
  './resource-indicators.spec.ts',
  './revoke.spec.ts',
  './token-errors.spec.ts',
  './token.spec.ts',
])
