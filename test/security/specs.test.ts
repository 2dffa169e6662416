// The in-process spec files of test/security, in one test process (see test/helpers/specs.ts).
import { runSpecs } from '../helpers/specs.js'

await runSpecs(import.meta.url, [
  './browser-rows.spec.ts',
  './client-assertion.spec.ts',
  './crash-consistency.spec.ts',
  './database-leak.spec.ts',
  './introspection-rights.spec.ts',
  './issuer.spec.ts',
  './log-redaction.spec.ts',
  './names.spec.ts',
  './rate-limit-outage.spec.ts',
  './rate-limit-redis.spec.ts',
  './redirect-target-reply.spec.ts',
  './request-object.spec.ts',
  './token-rows.spec.ts',
  './contention.spec.ts',
  './dpop.spec.ts',
  './revocation-expiry.spec.ts',
  './signing-algorithms.spec.ts',
  './backchannel-logout.spec.ts',
])
