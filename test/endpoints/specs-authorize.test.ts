// The in-process spec files of test/endpoints, in one test process (see test/helpers/specs.ts).
import { runSpecs } from '../helpers/specs.js'

await runSpecs(import.meta.url, [
  './authorize.spec.ts',
  './authorize-approval.spec.ts',
  './authorize-consent.spec.ts',
  './authorize-redirect-uri.spec.ts',
  './authorize-response-mode.spec.ts',
  './authorize-self-registered.spec.ts',
  './request-object.spec.ts',
])
