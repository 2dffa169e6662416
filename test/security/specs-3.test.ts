// The in-process spec files of test/security, in three test processes (see test/helpers/specs.ts)
// of about equal length, which run side by side: one long bundle would finish the suite last on a
// busy machine. specs.test.ts, specs-2.test.ts and specs-3.test.ts; each spec file is in one.
import { runSpecs } from '../helpers/specs.js'

await runSpecs(import.meta.url, [
  './protocol-races.spec.ts',
  './client-auth-endpoints.spec.ts',
  './database-leak.spec.ts',
  './shared-address.spec.ts',
  './cimd-disabled.spec.ts',
  './event-secrets.spec.ts',
  './admin-probes.spec.ts',
  './browser-rows.spec.ts',
  './page-probes.spec.ts',
])
