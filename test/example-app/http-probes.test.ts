// The example app probed over HTTP as an attacker would: failing credentials (BRUTE-1 over HTTP),
// hostile `next` values and forged Host headers, and Client ID Metadata Documents switched on and
// off. One example app, in this process (in-process.ts), built from its environment exactly as
// `npm start` builds it, is shared by the probes (each creates its own users and applications);
// the rate-limit counters they drive are per user or per client, except the per-address one,
// which they stay far below together (BRUTE-1 runs first, on fresh counters, as it ran alone).
// CIMD needs an app of its own (CIMD_ENABLED=1 changes the metadata every client reads); its
// "off by default" counterpart is the shared app. TRUST_PROXY's probes start two apps of their own.
// http-clients.test.ts runs the real clients.
import t from 'tap'
import { bruteForceHttpTests } from '../security/brute-force-http.js'
import { nextAndIssuerTests } from '../security/example-app-next-issuer.js'
import { cimdTests } from './cimd.js'
import { runExampleApp } from './in-process.js'
import { trustProxyTests } from './trust-proxy.js'

const [shared, cimd] = await Promise.all([
  runExampleApp(t),
  runExampleApp(t, { env: { CIMD_ENABLED: '1' } }),
])

// test/security/brute-force-http.ts
await bruteForceHttpTests(t, shared)
// test/security/example-app-next-issuer.ts
await nextAndIssuerTests(t, shared)
// test/example-app/cimd.ts
await cimdTests(t, cimd, shared)
// test/example-app/trust-proxy.ts (two apps of its own)
await trustProxyTests(t)
