// The in-process spec files of test/tokens, in one test process (see test/helpers/specs.ts).
import { runSpecs } from '../helpers/specs.js'

await runSpecs(import.meta.url, [
  './jwt-access-token.spec.ts',
  './secret-hasher.spec.ts',
])
