// The in-process spec files of test/events, in one test process (see test/helpers/specs.ts).
import { runSpecs } from '../helpers/specs.js'

await runSpecs(import.meta.url, [
  './revocation.spec.ts',
  './tokens.spec.ts',
])
