// The in-process spec files of test/plugins, in one test process (see test/helpers/specs.ts).
import { runSpecs } from '../helpers/specs.js'

await runSpecs(import.meta.url, [
  './client-cache.spec.ts',
  './metadata.spec.ts',
  './misconfiguration.spec.ts',
  './oauth-toolkit.spec.ts',
  './protect.spec.ts',
  './protected-resource-metadata.spec.ts',
  './resource-server-jwt.spec.ts',
  './resource-server.spec.ts',
  './verification-cache.spec.ts',
])
