// The in-process spec files of test/oidc, in one test process (see test/helpers/specs.ts).
import { runSpecs } from '../helpers/specs.js'

await runSpecs(import.meta.url, [
  './discovery.spec.ts',
  './hs256.spec.ts',
  './hybrid.spec.ts',
  './id-token.spec.ts',
  './logout.spec.ts',
  './prompt.spec.ts',
  './userinfo.spec.ts',
])
