// The other half of test/security's in-process spec files (see specs.test.ts): the rate-limit,
// redirect-fuzzing, request-object, contention, protocol-race and DPoP probes, the bundle's longest.
import { runSpecs } from '../helpers/specs.js'

await runSpecs(import.meta.url, [
  './rate-limit-outage.spec.ts',
  './rate-limit-redis.spec.ts',
  './redirect-target-reply.spec.ts',
  './request-object.spec.ts',
  './contention.spec.ts',
  './dpop.spec.ts',
  './client-auth-endpoints.spec.ts',
  './protocol-races.spec.ts',
])
