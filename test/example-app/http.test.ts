// The example app's HTTP behaviour, end to end, in one test process with one example app shared
// by every test that needs the same configuration, which saves a node process, the toolkit's
// import and a migrated database per test file (a second or more of CPU each). The app runs in
// this process (in-process.ts), built from its environment exactly as `npm start` builds it;
// smoke.test.ts runs `npm start` itself. Each test below creates its own users and applications,
// so none sees another's grants or tokens, and the rate-limit counters they drive are per user or
// per client, except the per-address one, which they stay far below together (BRUTE-1 runs
// first, on fresh counters, as it ran alone).
//
// The shared app runs with a client secret sealing key (OAT_CLIENT_SECRET_SEALING_KEY), which the
// OpenID Connect test needs for HS256 applications and the others never use. CIMD needs an app
// of its own (CIMD_ENABLED=1 changes the metadata every client reads); its "off by default"
// counterpart is the shared app.
import { randomBytes } from 'node:crypto'
import t from 'tap'
import { openIdClientTests } from '../oidc/example-app.js'
import { bruteForceHttpTests } from '../security/brute-force-http.js'
import { nextAndIssuerTests } from '../security/example-app-next-issuer.js'
import { cimdTests } from './cimd.js'
import { runExampleApp } from './in-process.js'
import { oauthClientTests } from './oauth-client.js'

const [shared, cimd] = await Promise.all([
  runExampleApp(t, { env: { OAT_CLIENT_SECRET_SEALING_KEY: randomBytes(32).toString('base64url') } }),
  runExampleApp(t, { env: { CIMD_ENABLED: '1' } }),
])

// test/security/brute-force-http.ts
await bruteForceHttpTests(t, shared)
// test/example-app/oauth-client.ts
await oauthClientTests(t, shared)
// test/oidc/example-app.ts
await openIdClientTests(t, shared)
// test/security/example-app-next-issuer.ts
await nextAndIssuerTests(t, shared)
// test/example-app/cimd.ts
await cimdTests(t, cimd, shared)
