import { readFileSync, readdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import Database from 'better-sqlite3'
import Fastify from 'fastify'
import t from 'tap'
import { fastifyOAuthToolkit, ImproperlyConfiguredError, oauthRoutes, type AppAuthorizedEvent } from '../../index.js'
import { createSqliteStore } from '../../lib/store/sqlite/store.js'
import type { Store } from '../../lib/store/types.js'
import { tokenChecksum } from '../../lib/tokens/checksum.js'
import {
  ALICE, basicAuth, bearerWorks, buildApp, createApplication, databasePath, fixedClock, postToken, testHasher, type TokenBody,
} from '../helpers/index.js'
import { passwordGrant, passwordGrantOptions } from '../helpers/password-grant.js'

const BASE64URL_256_BITS = /^[A-Za-z0-9_-]{43}$/

t.test('a client_credentials token is a no-store JSON body with DOT\'s fields and no refresh token', async (t) => {
  const app = await buildApp(t)
  const { application, clientSecret } = await createApplication(app)
  const res = await postToken(app, { grant_type: 'client_credentials' }, { authorization: basicAuth(application.clientId, clientSecret ?? '') })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^application\/json/)
  t.equal(res.headers['cache-control'], 'no-store')
  t.equal(res.headers.pragma, 'no-cache')
  const body = res.json<TokenBody>()
  t.same(Object.keys(body).sort(), ['access_token', 'expires_in', 'scope', 'token_type'], 'DOT issues no refresh token for client_credentials')
  t.match(body.access_token, BASE64URL_256_BITS)
  t.equal(body.token_type, 'Bearer')
  t.equal(body.expires_in, 36000, 'accessTokenExpireSeconds defaults to 36000')
  t.equal(body.scope, 'read write', 'defaultScopes __all__ grants every scope')
  t.ok(await bearerWorks(app, body.access_token, ['read', 'write']))
})

t.test('the token endpoint answers with and without the trailing slash, under any prefix', async (t) => {
  const app = await buildApp(t, { prefix: '/auth' })
  const { application, clientSecret } = await createApplication(app)
  const authorization = basicAuth(application.clientId, clientSecret ?? '')
  for (const url of ['/auth/token/', '/auth/token']) {
    const res = await postToken(app, { grant_type: 'client_credentials' }, { authorization }, url)
    t.equal(res.statusCode, 200, url)
  }
  const elsewhere = await postToken(app, { grant_type: 'client_credentials' }, { authorization }, '/o/token/')
  t.equal(elsewhere.statusCode, 404)
})

t.test('each token is new, and two tokens for one client are both valid', async (t) => {
  const app = await buildApp(t)
  const { application, clientSecret } = await createApplication(app)
  const authorization = basicAuth(application.clientId, clientSecret ?? '')
  const a = (await postToken(app, { grant_type: 'client_credentials' }, { authorization })).json<TokenBody>()
  const b = (await postToken(app, { grant_type: 'client_credentials' }, { authorization })).json<TokenBody>()
  t.not(a.access_token, b.access_token)
  t.ok(await bearerWorks(app, a.access_token))
  t.ok(await bearerWorks(app, b.access_token))
})

t.test('expires_in follows accessTokenExpireSeconds, and the token dies on time', async (t) => {
  const clock = fixedClock()
  const app = await buildApp(t, { clock, settings: { accessTokenExpireSeconds: 60 } })
  const { application, clientSecret } = await createApplication(app)
  const res = await postToken(app, { grant_type: 'client_credentials' }, { authorization: basicAuth(application.clientId, clientSecret ?? '') })
  const body = res.json<TokenBody>()
  t.equal(body.expires_in, 60)
  clock.advance(59)
  t.ok(await bearerWorks(app, body.access_token), 'valid one second before expiry')
  clock.advance(1)
  t.notOk(await bearerWorks(app, body.access_token), 'refused at expiry')
})

t.test('expires_in is the lifetime issued, however long the commit took', async (t) => {
  // A commit that waits (for the write lock, a busy PostgreSQL) used to shave the wait off
  // expires_in, which was computed from the clock after the store answered.
  const clock = fixedClock()
  const inner = createSqliteStore({ database: ':memory:', migrate: true })
  t.teardown(() => inner.close())
  const store: Store = new Proxy(inner, {
    get (target, name, receiver) {
      if (name !== 'issueTokens') return Reflect.get(target, name, receiver)
      return async (...args: Parameters<Store['issueTokens']>) => {
        const rows = await target.issueTokens(...args)
        clock.advance(3)
        return rows
      }
    },
  })
  const app = await buildApp(t, { clock, store, settings: { accessTokenExpireSeconds: 60 } })
  const { application, clientSecret } = await createApplication(app)
  const res = await postToken(app, { grant_type: 'client_credentials' }, { authorization: basicAuth(application.clientId, clientSecret ?? '') })
  t.equal(res.json<TokenBody>().expires_in, 60)
})

t.test('two apps in one process share neither settings nor stores', async (t) => {
  const short = await buildApp(t, { settings: { accessTokenExpireSeconds: 60 }, database: ':memory:' })
  const normal = await buildApp(t, { database: ':memory:' })
  const { application, clientSecret } = await createApplication(short)
  const res = await postToken(short, { grant_type: 'client_credentials' }, { authorization: basicAuth(application.clientId, clientSecret ?? '') })
  t.equal(res.json<TokenBody>().expires_in, 60)
  t.equal(normal.oauth.settings.accessTokenExpireSeconds, 36000)
  t.notOk(await bearerWorks(normal, res.json<TokenBody>().access_token))
  const unknown = await postToken(normal, { grant_type: 'client_credentials' }, { authorization: basicAuth(application.clientId, clientSecret ?? '') })
  t.equal(unknown.statusCode, 401)
})

/** Every string value of every row of every table, and the raw bytes of the database files. */
function readEverything (dbPath: string): { rows: string, bytes: Buffer } {
  const db = new Database(dbPath, { readonly: true })
  try {
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>
    const rows = tables.map(({ name }) => JSON.stringify(db.prepare(`SELECT * FROM "${name}"`).all())).join('\n')
    const dir = dirname(dbPath)
    const bytes = Buffer.concat(readdirSync(dir).filter((f) => f.startsWith('oauth.db')).map((f) => readFileSync(join(dir, f))))
    return { rows, bytes }
  } finally {
    db.close()
  }
}

t.test('tokens are stored only as SHA-256 checksums and client secrets only as scrypt hashes', async (t) => {
  const app = await buildApp(t, passwordGrantOptions())
  const cc = await createApplication(app)
  const pw = await createApplication(app, { authorizationGrantType: 'password' })
  const ccRes = await postToken(app, { grant_type: 'client_credentials' }, { authorization: basicAuth(cc.application.clientId, cc.clientSecret ?? '') })
  const pwAuth = { authorization: basicAuth(pw.application.clientId, pw.clientSecret ?? '') }
  const first = (await passwordGrant(app, pw)).json<TokenBody>()
  const refreshed = (await postToken(app, { grant_type: 'refresh_token', refresh_token: first.refresh_token ?? '' }, pwAuth)).json<TokenBody>()
  const secrets = [
    ccRes.json<TokenBody>().access_token, first.access_token, first.refresh_token, refreshed.access_token, refreshed.refresh_token,
    cc.clientSecret, pw.clientSecret, ALICE.password,
  ].filter((s): s is string => typeof s === 'string' && s.length > 0)
  t.equal(secrets.length, 8)

  const { rows, bytes } = readEverything(databasePath(t))
  for (const secret of secrets) {
    t.notOk(rows.includes(secret), 'no table holds a secret in clear')
    t.equal(bytes.indexOf(secret), -1, 'no byte of the database files holds a secret in clear')
  }
  t.ok(rows.includes(tokenChecksum(refreshed.access_token)), 'the access token is found by its checksum')
  t.ok(rows.includes(tokenChecksum(refreshed.refresh_token ?? '')), 'the refresh token is found by its checksum')

  const db = new Database(databasePath(t), { readonly: true })
  t.teardown(() => db.close())
  const stored = db.prepare('SELECT client_id, client_secret FROM oauth2_application ORDER BY id').all() as Array<{ client_id: string, client_secret: string }>
  t.equal(stored.length, 2)
  for (const row of stored) t.match(row.client_secret, /^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9_-]+\$[A-Za-z0-9_-]{43}$/)
})

t.test('appAuthorized fires once after each token with the application and the stored token', async (t) => {
  const app = await buildApp(t, passwordGrantOptions())
  const events: AppAuthorizedEvent[] = []
  app.oauth.events.on('appAuthorized', (event) => { events.push(event) })
  const cc = await createApplication(app)
  const pw = await createApplication(app, { authorizationGrantType: 'password' })
  const ccRes = await postToken(app, { grant_type: 'client_credentials', scope: 'read' }, { authorization: basicAuth(cc.application.clientId, cc.clientSecret ?? '') })
  t.equal(ccRes.statusCode, 200)
  t.equal(events.length, 1)
  const [first] = events
  t.equal(first?.application.clientId, cc.application.clientId)
  t.equal(first?.grantType, 'client_credentials')
  t.equal(first?.accessToken.checksum, tokenChecksum(ccRes.json<TokenBody>().access_token))
  t.equal(first?.accessToken.scope, 'read')
  t.equal(first?.accessToken.userId, null)
  t.equal(first?.refreshToken, null)
  t.notOk(JSON.stringify(first).includes(ccRes.json<TokenBody>().access_token), 'the event carries no clear token')

  const pwAuth = { authorization: basicAuth(pw.application.clientId, pw.clientSecret ?? '') }
  const pwRes = await passwordGrant(app, pw)
  const body = pwRes.json<TokenBody>()
  t.equal(events.length, 2)
  t.equal(events[1]?.grantType, 'password')
  t.equal(events[1]?.accessToken.userId, ALICE.id)
  t.equal(events[1]?.refreshToken?.checksum, tokenChecksum(body.refresh_token ?? ''))

  await postToken(app, { grant_type: 'refresh_token', refresh_token: body.refresh_token ?? '' }, pwAuth)
  t.equal(events.length, 3)
  t.equal(events[2]?.grantType, 'refresh_token')
  t.equal(events[2]?.application.id, pw.application.id)

  const failed = await postToken(app, { grant_type: 'client_credentials' }, { authorization: basicAuth(cc.application.clientId, 'wrong secret') })
  t.equal(failed.statusCode, 401)
  t.equal(events.length, 3, 'no event for a refused request')
})

t.test('a throwing appAuthorized listener neither breaks the response nor silences later listeners', async (t) => {
  const app = await buildApp(t)
  const reported: unknown[] = []
  const seen: string[] = []
  app.oauth.events.on('error', (err) => { reported.push(err) })
  app.oauth.events.on('appAuthorized', () => { throw new Error('listener bug') })
  app.oauth.events.on('appAuthorized', () => { seen.push('after') })
  const { application, clientSecret } = await createApplication(app)
  const res = await postToken(app, { grant_type: 'client_credentials' }, { authorization: basicAuth(application.clientId, clientSecret ?? '') })
  t.equal(res.statusCode, 200)
  t.ok(await bearerWorks(app, res.json<TokenBody>().access_token))
  t.same(seen, ['after'])
  t.equal(reported.length, 1)
  t.match(reported[0], { message: 'listener bug' })
})

t.test('a rejecting async appAuthorized listener is reported, not an unhandled rejection', async (t) => {
  const app = await buildApp(t)
  const reported: unknown[] = []
  app.oauth.events.on('error', (err) => { reported.push(err) })
  app.oauth.events.on('appAuthorized', async () => { throw new Error('async listener bug') })
  const { application, clientSecret } = await createApplication(app)
  const res = await postToken(app, { grant_type: 'client_credentials' }, { authorization: basicAuth(application.clientId, clientSecret ?? '') })
  t.equal(res.statusCode, 200)
  await new Promise((resolve) => setImmediate(resolve))
  t.equal(reported.length, 1)
  t.match(reported[0], { message: 'async listener bug' })
})

t.test('listener errors are logged by the plugin when the host registers no error listener', async (t) => {
  const lines: string[] = []
  const app = Fastify({ logger: { level: 'error', stream: { write: (line: string) => { lines.push(line) } } } })
  t.teardown(() => app.close())
  await app.register(fastifyOAuthToolkit, { database: ':memory:', migrate: true, hasher: testHasher })
  await app.register(oauthRoutes, { prefix: '/o' })
  app.oauth.events.once('appAuthorized', () => { throw new Error('listener bug') })
  const { application, clientSecret } = await createApplication(app)
  const authorization = basicAuth(application.clientId, clientSecret ?? '')
  t.equal((await postToken(app, { grant_type: 'client_credentials' }, { authorization })).statusCode, 200)
  t.equal(lines.length, 1)
  t.match(JSON.parse(lines[0] ?? '{}'), { level: 50, msg: 'fastify-oauth-toolkit event listener failed', err: { message: 'listener bug' } })
  t.equal((await postToken(app, { grant_type: 'client_credentials' }, { authorization })).statusCode, 200)
  t.equal(lines.length, 1, 'a once() listener runs once')
})

t.test('bad settings fail registration with ImproperlyConfiguredError, never a request', async (t) => {
  const cases: Array<[string, Parameters<typeof buildApp>[1], string]> = [
    ['negative lifetime', { settings: { accessTokenExpireSeconds: -1 } }, 'OAT_ERR_SETTINGS'],
    ['unknown default scope', { settings: { defaultScopes: ['admin'] } }, 'OAT_ERR_SETTINGS'],
    ['reuse protection without rotation (DOT W012)', { settings: { rotateRefreshToken: false, refreshTokenReuseProtection: true } }, 'OAT_ERR_SETTINGS'],
    ['password grant without a checker', { settings: { passwordGrantEnabled: true } }, 'OAT_ERR_OPTIONS'],
  ]
  for (const [name, options, code] of cases) {
    await t.test(name, async (t) => {
      const err = await buildApp(t, options).then(() => null, (e: unknown) => e)
      t.type(err, ImproperlyConfiguredError)
      t.match(err, { code, message: /^fastify-oauth-toolkit: / })
    })
  }
})
