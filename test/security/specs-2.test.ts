// The in-process spec files of test/security, in three test processes (see test/helpers/specs.ts)
// of about equal length, which run side by side: one long bundle would finish the suite last on a
// busy machine. specs.test.ts, specs-2.test.ts and specs-3.test.ts; each spec file is in one.
import { runSpecs } from '../helpers/specs.js'

await runSpecs(import.meta.url, [
  './rate-limit-outage.spec.ts',
  './rate-limit-redis.spec.ts',
  './redirect-target-reply.spec.ts',
  './request-object.spec.ts',
  './contention.spec.ts',
  './dpop.spec.ts',
  './token-rows.spec.ts',
  './backchannel-logout.spec.ts',
])
