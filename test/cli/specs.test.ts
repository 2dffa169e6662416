// The in-process spec files of test/cli, in one test process (see test/helpers/specs.ts).
import { runSpecs } from '../helpers/specs.js'

await runSpecs(import.meta.url, [
  './usage.spec.ts',
  './database.spec.ts',
  './createapplication.spec.ts',
  './cleartokens.spec.ts',
  './clearcimdapplications.spec.ts',
  './check.spec.ts',
  './postgres.spec.ts',
])
