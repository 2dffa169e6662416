// LEAK-5 / goal G8 (grey-box): the main flows run against a real SQLite file and a real
// PostgreSQL database, leaving every kind of secret behind, some consumed and some still live
// (client secrets, HS256-keying secrets, access and refresh tokens, codes, PKCE verifiers,
// device and user codes, registration access tokens, PAR request_uris); then the whole
// database is dumped (every row of every SQLite table plus the file and its WAL; `pg_dump`) and
// no secret may appear in it, raw or percent-encoded.
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import Database from 'better-sqlite3'
import type { FastifyInstance } from 'fastify'
import t, { type Test } from 'tap'
import { tokenChecksum } from '../../lib/tokens/checksum.js'
import { ALICE, basicAuth, createApplication, postToken, type BuildAppOptions, type TokenBody } from '../helpers/index.js'
import { passwordGrant, verifyAlice } from '../helpers/password-grant.js'
import { codeClient, createCodeApplication, exchangeCode, obtainCode, pkcePair, REDIRECT_URI } from '../helpers/authorize.js'
import { createDeviceApplication, decide, deviceCode, poll } from '../device/support.js'
import { postgresTestDatabase } from '../helpers/postgres.js'
import { buildOidcApp } from '../oidc/support.js'

const run = promisify(execFile)

function options (database: string): BuildAppOptions {
  return {
    database,
    verifyUserCredentials: verifyAlice,
    clientSecretSealingKey: randomBytes(32).toString('base64url'),
    settings: { passwordGrantEnabled: true, deviceFlowEnabled: true, dcrEnabled: true, dcrRegistrationPolicy: 'open', rateLimitFailures: null },
  }
}

/** Runs every flow that stores a secret; returns the secrets handed out or received, and the checksum of one access token (it must be in the dump: the scan reads the right data). */
async function issueSecrets (t: Test, app: FastifyInstance): Promise<{ secrets: string[], probe: string }> {
  const secrets: string[] = []
  const keep = (...values: Array<string | null | undefined>): void => {
    for (const v of values) if (typeof v === 'string' && v.length >= 8) secrets.push(v)
  }
  const ok = (status: number, expected: number, label: string): void => { t.equal(status, expected, label) }

  // Code + PKCE + OIDC on an HS256 application (its secret is kept sealed), then refresh.
  const hs = await createCodeApplication(app, { algorithm: 'HS256' })
  keep(hs.clientSecret)
  const { verifier, challenge } = pkcePair(randomBytes(8).toString('hex'))
  const params = { response_type: 'code', client_id: hs.application.clientId, redirect_uri: REDIRECT_URI, code_challenge: challenge, code_challenge_method: 'S256', scope: 'openid read', nonce: 'n-0123456789' }
  const code = await obtainCode(app, params)
  const live = await obtainCode(app, { ...params, nonce: 'n-live-code' }) // left unredeemed
  keep(verifier, code, live)
  const exchanged = await exchangeCode(app, codeClient(hs), code, { redirect_uri: REDIRECT_URI, code_verifier: verifier })
  ok(exchanged.statusCode, 200, 'code exchange')
  const tokens = exchanged.json<TokenBody>()
  keep(tokens.access_token, tokens.refresh_token)
  const refreshed = await postToken(app, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token ?? '' }, { authorization: basicAuth(hs.application.clientId, hs.clientSecret ?? '') })
  ok(refreshed.statusCode, 200, 'refresh')
  keep(refreshed.json<TokenBody>().access_token, refreshed.json<TokenBody>().refresh_token)

  // Client credentials and password.
  const cc = await createApplication(app)
  keep(cc.clientSecret)
  const ccRes = await postToken(app, { grant_type: 'client_credentials' }, { authorization: basicAuth(cc.application.clientId, cc.clientSecret ?? '') })
  ok(ccRes.statusCode, 200, 'client_credentials')
  const ccToken = ccRes.json<TokenBody>().access_token
  keep(ccToken)
  const pw = await createApplication(app, { authorizationGrantType: 'password' })
  keep(pw.clientSecret, ALICE.password)
  const pwRes = await passwordGrant(app, pw)
  ok(pwRes.statusCode, 200, 'password')
  keep(pwRes.json<TokenBody>().access_token, pwRes.json<TokenBody>().refresh_token)

  // Device flow: one approved and redeemed, one left pending.
  const tv = await createDeviceApplication(app)
  const device = await deviceCode(app, tv, { scope: 'read' })
  const pending = await deviceCode(app, tv, { scope: 'read' })
  keep(device.device_code, device.user_code, device.user_code.replace('-', ''), pending.device_code, pending.user_code, pending.user_code.replace('-', ''))
  ok((await decide(app, device.user_code, true, { user: ALICE.id })).statusCode, 200, 'device approval')
  const polled = await poll(app, tv, device.device_code)
  ok(polled.statusCode, 200, 'device poll')
  keep(polled.json<TokenBody>().access_token, polled.json<TokenBody>().refresh_token)

  // Dynamic registration (a confidential client: secret and registration access token).
  const reg = await app.inject({
    method: 'POST',
    url: '/o/register/',
    headers: { 'content-type': 'application/json' },
    payload: JSON.stringify({ redirect_uris: ['https://dcr.example/cb'], token_endpoint_auth_method: 'client_secret_basic', grant_types: ['authorization_code'], response_types: ['code'] }),
  })
  ok(reg.statusCode, 201, 'dynamic registration')
  const registered = reg.json<{ client_secret?: string, registration_access_token?: string }>()
  t.type(registered.registration_access_token, 'string', 'a registration access token was issued')
  keep(registered.client_secret, registered.registration_access_token)

  // PAR: a pushed request left unused.
  const par = await app.inject({
    method: 'POST',
    url: '/o/par/',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basicAuth(hs.application.clientId, hs.clientSecret ?? '') },
    payload: new URLSearchParams({ ...params, nonce: 'n-pushed' }).toString(),
  })
  ok(par.statusCode, 201, 'PAR')
  const requestUri = par.json<{ request_uri: string }>().request_uri
  keep(requestUri, requestUri.slice(requestUri.lastIndexOf(':') + 1))
  return { secrets: [...new Set(secrets)], probe: tokenChecksum(ccToken) }
}

function leaked (dump: string, secrets: readonly string[]): string[] {
  return secrets.filter((s) => dump.includes(s) || dump.includes(encodeURIComponent(s)))
}

t.test('LEAK-5 SQLite: no issued secret is in any row of any table, nor in the file or its WAL', async (t) => {
  const dir = t.testdir()
  const path = join(dir, 'leak.db')
  const app = await buildOidcApp(t, options(path))
  const { secrets, probe } = await issueSecrets(t, app)
  t.ok(secrets.length >= 20, `${secrets.length} secrets issued`)
  // Read while the app still holds the file open: the WAL has not been checkpointed away yet.
  const bytes = Buffer.concat([readFileSync(path), ...['-wal'].map((s) => { try { return readFileSync(path + s) } catch { return Buffer.alloc(0) } })]).toString('latin1')
  const db = new Database(path, { readonly: true })
  t.teardown(() => db.close())
  const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>).map((r) => r.name)
  t.ok(tables.length >= 8, `${tables.length} tables`)
  const rows = tables.map((name) => JSON.stringify(db.prepare(`SELECT * FROM "${name}"`).all())).join('\n')
  t.ok(rows.includes(probe), 'the dump holds the token rows (an access token\'s checksum is there)')
  t.same(leaked(rows, secrets), [], 'no secret in any row')
  t.same(leaked(bytes, secrets), [], 'no secret in the file bytes')
})

t.test('LEAK-5 PostgreSQL: no issued secret is in pg_dump', async (t) => {
  const url = await postgresTestDatabase(t)
  if (url === null) return
  const app = await buildOidcApp(t, options(url))
  const { secrets, probe } = await issueSecrets(t, app)
  const { stdout: dump } = await run('pg_dump', ['--no-owner', '--data-only', url], { maxBuffer: 64 * 1024 * 1024 })
  t.match(dump, /COPY public\.oauth2_accesstoken/, 'pg_dump dumped the token table')
  t.ok(dump.includes(probe), 'and its rows (an access token\'s checksum is there)')
  t.same(leaked(dump, secrets), [], `none of ${secrets.length} secrets is in the dump`)
})
