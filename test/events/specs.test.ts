// The in-process spec files of test/events, in one test process (see test/helpers/specs.ts).
import { runSpecs } from '../helpers/specs.js'

await runSpecs(import.meta.url, [
  './client-auth.spec.ts',
  './decisions.spec.ts',
  './listener-errors.spec.ts',
  './prometheus.spec.ts',
  './rate-limit.spec.ts',
  './registration.spec.ts',
  './revocation.spec.ts',
  './sessions.spec.ts',
  './tokens.spec.ts',
])
