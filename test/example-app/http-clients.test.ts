// The example app's HTTP behaviour with real client libraries, end to end: oauth4webapi
// (oauth-client.ts) and openid-client (test/oidc/example-app.ts) against one example app shared
// by both, in this process (in-process.ts), built from its environment exactly as `npm start`
// builds it; smoke.test.ts runs `npm start` itself. Sharing saves a node process, the toolkit's
// import and a migrated database per test (a second or more of CPU each); each test creates its
// own users and applications, so neither sees the other's grants or tokens.
// http-probes.test.ts holds the attacker-style probes, in a process of its own so that the two
// halves run side by side (on a busy machine one long file would finish the suite last).
//
// The app runs with a client secret sealing key (OAT_CLIENT_SECRET_SEALING_KEY), which the
// OpenID Connect test needs for HS256 applications.
import { randomBytes } from 'node:crypto'
import t from 'tap'
import { openIdClientTests } from '../oidc/example-app.js'
import { runExampleApp } from './in-process.js'
import { oauthClientTests } from './oauth-client.js'

const shared = await runExampleApp(t, { env: { OAT_CLIENT_SECRET_SEALING_KEY: randomBytes(32).toString('base64url') } })

// test/example-app/oauth-client.ts
await oauthClientTests(t, shared)
// test/oidc/example-app.ts
await openIdClientTests(t, shared)
