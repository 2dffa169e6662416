// The in-process spec files of test/lib (and test/lib/http), with test/architecture's, in one
// test process (see test/helpers/specs.ts).
import { runSpecs } from '../helpers/specs.js'

await runSpecs(import.meta.url, [
  './random.spec.ts',
  './redirect-target.spec.ts',
  './remote-cache.spec.ts',
  './settings.spec.ts',
  './cimd.spec.ts',
  './client-lookup.spec.ts',
  './throttle.spec.ts',
  './server.spec.ts',
  './deployment-check.spec.ts',
  './i18n.spec.ts',
  './spec-bundles.spec.ts',
  './http/safe-fetch.spec.ts',
  '../architecture/layers.spec.ts',
])
