// The in-process spec files of test/security, in three test processes (see test/helpers/specs.ts)
// of about equal length, which run side by side: one long bundle would finish the suite last on a
// busy machine. specs.test.ts, specs-2.test.ts and specs-3.test.ts; each spec file is in one.
import { runSpecs } from '../helpers/specs.js'

await runSpecs(import.meta.url, [
  './revocation-expiry.spec.ts',
  './client-assertion.spec.ts',
  './cimd.spec.ts',
  './names.spec.ts',
  './crash-consistency.spec.ts',
  './introspection-rights.spec.ts',
  './issuer.spec.ts',
  './log-redaction.spec.ts',
  './accept-language.spec.ts',
  './signing-algorithms.spec.ts',
])
