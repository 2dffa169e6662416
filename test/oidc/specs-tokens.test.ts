// The other half of the in-process spec files of test/oidc (see specs.test.ts), in one test process.
import { runSpecs } from '../helpers/specs.js'

await runSpecs(import.meta.url, [
  './algorithms.spec.ts',
  './id-token.spec.ts',
  './logout.spec.ts',
  './userinfo.spec.ts',
])
