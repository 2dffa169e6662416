// The in-process spec files of test/security, in two test processes (see test/helpers/specs.ts);
// specs-2.test.ts holds the other half, so that each bundle stays well inside tap's timeout on a
// busy machine and the two run in parallel.
import { runSpecs } from '../helpers/specs.js'

await runSpecs(import.meta.url, [
  './accept-language.spec.ts',
  './admin-probes.spec.ts',
  './browser-rows.spec.ts',
  './client-assertion.spec.ts',
  './crash-consistency.spec.ts',
  './database-leak.spec.ts',
  './introspection-rights.spec.ts',
  './issuer.spec.ts',
  './log-redaction.spec.ts',
  './names.spec.ts',
  './token-rows.spec.ts',
  './event-secrets.spec.ts',
  './revocation-expiry.spec.ts',
  './signing-algorithms.spec.ts',
  './backchannel-logout.spec.ts',
  './cimd.spec.ts',
  './cimd-disabled.spec.ts',
  './shared-address.spec.ts',
])
