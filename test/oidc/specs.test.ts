// Half of the in-process spec files of test/oidc, in one test process (see test/helpers/specs.ts);
// the other half, in specs-tokens.test.ts, runs beside it: each app of these files signs with an
// RSA key of its own, and on a first run every key is made (test/oidc/support.ts).
import { runSpecs } from '../helpers/specs.js'

await runSpecs(import.meta.url, [
  './discovery.spec.ts',
  './hs256.spec.ts',
  './hybrid.spec.ts',
  './prompt.spec.ts',
])
