import { existsSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import Fastify, { type FastifyInstance } from 'fastify'
import t, { type Test } from 'tap'
import {
  fastifyOAuthToolkit,
  ImproperlyConfiguredError,
  oauthRoutes,
  ProtectedResourceView,
  type FastifyOAuthToolkitOptions,
} from '../../index.js'
import type { Store } from '../../entries/store.js'
import { createSqliteStore, migrateSqlite } from '../../entries/sqlite.js'
import { clientCredentialsToken, testHasher } from '../helpers/index.js'
import { bearer } from '../views/support.js'

class Hello extends ProtectedResourceView {
  async get () { return 'Hello, OAuth2!' }
}

/** A full app (core plugin, token endpoint, /api/hello) on the given options; closed with the test. */
async function appWith (t: Test, options: FastifyOAuthToolkitOptions): Promise<FastifyInstance> {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastifyOAuthToolkit, { hasher: testHasher, ...options })
  await app.register(oauthRoutes, { prefix: '/o' })
  await app.register(Hello.asView('/api/hello'))
  return app
}

/** Registration must fail with this configuration error; the app is closed either way. */
async function rejectsRegistration (t: Test, options: unknown, expected: { code: string, message?: RegExp }): Promise<void> {
  const app = Fastify()
  t.teardown(() => app.close())
  app.register(fastifyOAuthToolkit, options as FastifyOAuthToolkitOptions)
  await t.rejects(async () => await app.ready(), { constructor: ImproperlyConfiguredError, ...expected })
}

/** A SQLite file closed by every connection has no -wal/-shm files left (the last close checkpoints them away). */
function walOpen (file: string): boolean {
  return existsSync(`${file}-wal`) || existsSync(`${file}-shm`)
}

/** Answers 200 to a token from the same app's token endpoint. */
async function helloWorks (t: Test, app: FastifyInstance): Promise<void> {
  const token = await clientCredentialsToken(app)
  const res = await app.inject({ method: 'GET', url: '/api/hello', headers: bearer(token) })
  t.equal(res.statusCode, 200)
  t.equal(res.body, 'Hello, OAuth2!')
}

t.test('registration needs exactly one of database and store', async (t) => {
  const dir = t.testdir()
  await t.test('neither', async (t) => {
    await rejectsRegistration(t, {}, { code: 'OAT_ERR_OPTIONS', message: /exactly one of `database` or `store`/ })
  })
  await t.test('an unset environment variable', async (t) => {
    // `database: process.env.DATABASE_URL` with the variable unset: say so, not just "give one".
    await rejectsRegistration(t, { database: undefined }, { code: 'OAT_ERR_OPTIONS', message: /`database` is undefined \(an unset environment variable\?\)/ })
  })
  await t.test('both', async (t) => {
    const store = createSqliteStore({ database: ':memory:', migrate: true })
    t.teardown(() => store.close())
    await rejectsRegistration(t, { database: join(dir, 'both.db'), store }, { code: 'OAT_ERR_OPTIONS', message: /exactly one of/ })
    t.notOk(existsSync(join(dir, 'both.db')), 'no database was opened')
  })
})

t.test('bad options and settings fail registration, never a request', async (t) => {
  const dir = t.testdir()
  const cases: Array<[string, Record<string, unknown>, { code: string, message?: RegExp }]> = [
    ['invalid setting', { settings: { accessTokenExpireSeconds: 0 } }, { code: 'OAT_ERR_SETTINGS', message: /accessTokenExpireSeconds must be a positive integer/ }],
    ['unknown setting', { settings: { acessTokenExpireSeconds: 60 } }, { code: 'OAT_ERR_SETTINGS', message: /unknown setting "acessTokenExpireSeconds"/ }],
    ['settings not an object', { settings: 'strict' }, { code: 'OAT_ERR_SETTINGS' }],
    ['loadUser not a function', { loadUser: 'users' }, { code: 'OAT_ERR_OPTIONS', message: /`loadUser` must be a function/ }],
    ['verifyUserCredentials not a function', { verifyUserCredentials: {} }, { code: 'OAT_ERR_OPTIONS' }],
    ['password grant without a checker', { settings: { passwordGrantEnabled: true } }, { code: 'OAT_ERR_OPTIONS', message: /verifyUserCredentials/ }],
    ['negative sqlite.mmapSize', { sqlite: { mmapSize: -1 } }, { code: 'OAT_ERR_OPTIONS', message: /`sqlite.mmapSize` must be a non-negative integer/ }],
    ['sqlite.mmapSize not a number', { sqlite: { mmapSize: '1GB' } }, { code: 'OAT_ERR_OPTIONS', message: /`sqlite.mmapSize`/ }],
    ['negative sqlite.crossProcessCheckMs', { sqlite: { crossProcessCheckMs: -1 } }, { code: 'OAT_ERR_OPTIONS', message: /`sqlite.crossProcessCheckMs` must be a non-negative number/ }],
    ['sqlite.crossProcessCheckMs not a number', { sqlite: { crossProcessCheckMs: '1ms' } }, { code: 'OAT_ERR_OPTIONS', message: /`sqlite.crossProcessCheckMs`/ }],
    ['sqlite.crossProcessCheckMs NaN', { sqlite: { crossProcessCheckMs: Number.NaN } }, { code: 'OAT_ERR_OPTIONS', message: /`sqlite.crossProcessCheckMs`/ }],
    ['sqlite.backgroundCheckpoint not a boolean', { sqlite: { backgroundCheckpoint: 'yes' } }, { code: 'OAT_ERR_OPTIONS', message: /`sqlite.backgroundCheckpoint` must be true or false/ }],
    ['sqlite not an object', { sqlite: true }, { code: 'OAT_ERR_OPTIONS', message: /^fastify-oauth-toolkit: `sqlite` must be an object/ }],
    ['a misspelt sqlite key', { sqlite: { mmapsize: 1 } }, { code: 'OAT_ERR_OPTIONS', message: /^fastify-oauth-toolkit: fastifyOAuthToolkit `sqlite` has no option "mmapsize" \(did you mean "mmapSize"\?\); it knows mmapSize, crossProcessCheckMs, backgroundCheckpoint$/ }],
    ['outboundHttp not an object', { outboundHttp: 'https' }, { code: 'OAT_ERR_OPTIONS', message: /^fastify-oauth-toolkit: `outboundHttp` must be an object/ }],
    ['outboundHttp.allowPrivateAddresses not a boolean', { outboundHttp: { allowPrivateAddresses: 'yes' } }, { code: 'OAT_ERR_OPTIONS', message: /`outboundHttp.allowPrivateAddresses` must be true or false/ }],
    ['outboundHttp.maxBytes zero', { outboundHttp: { maxBytes: 0 } }, { code: 'OAT_ERR_OPTIONS', message: /`outboundHttp.maxBytes` must be a positive integer/ }],
    ['outboundHttp.ca not PEM', { outboundHttp: { ca: 42 } }, { code: 'OAT_ERR_OPTIONS', message: /`outboundHttp.ca` must be PEM text/ }],
    ['a misspelt outboundHttp key', { outboundHttp: { allowPrivate: true } }, { code: 'OAT_ERR_OPTIONS', message: /fastifyOAuthToolkit `outboundHttp` has no option "allowPrivate"/ }],
    // The former top-level names say where the option went, in one line.
    ['the former sqliteMmapSize', { sqliteMmapSize: 1 << 20 }, { code: 'OAT_ERR_OPTIONS', message: /^fastify-oauth-toolkit: fastifyOAuthToolkit option "sqliteMmapSize" is now `sqlite: \{ mmapSize \}`$/ }],
    ['the former sqliteCrossProcessCheckMs', { sqliteCrossProcessCheckMs: 0 }, { code: 'OAT_ERR_OPTIONS', message: /^fastify-oauth-toolkit: fastifyOAuthToolkit option "sqliteCrossProcessCheckMs" is now `sqlite: \{ crossProcessCheckMs \}`$/ }],
    ['the former sqliteBackgroundCheckpoint', { sqliteBackgroundCheckpoint: false }, { code: 'OAT_ERR_OPTIONS', message: /^fastify-oauth-toolkit: fastifyOAuthToolkit option "sqliteBackgroundCheckpoint" is now `sqlite: \{ backgroundCheckpoint \}`$/ }],
  ]
  for (const [i, [name, options, expected]] of cases.entries()) {
    await t.test(name, async (t) => {
      const database = join(dir, `${i}.db`)
      await rejectsRegistration(t, { database, migrate: true, ...options }, expected)
      // A failed registration adds no onClose hook, so the plugin must close what it opened itself.
      t.notOk(walOpen(database), 'the SQLite connection it opened was closed')
    })
  }
  await t.test('unreachable PostgreSQL URL', async (t) => {
    await rejectsRegistration(t, { database: 'postgres://127.0.0.1:1/oauth' }, { code: 'OAT_ERR_DATABASE', message: /cannot prepare PostgreSQL at postgres:\/\/127\.0\.0\.1:1\/oauth: / })
  })
  await t.test('empty database path', async (t) => {
    await rejectsRegistration(t, { database: '' }, { code: 'OAT_ERR_DATABASE', message: /the SQLite path is empty/ })
  })
})

t.test('sqlite.mmapSize memory-maps the SQLite file the plugin uses (PRAGMA mmap_size)', async (t) => {
  const db = new Database(join(t.testdir(), 'mmap.db'))
  t.teardown(() => { db.close() })
  const app = Fastify()
  t.teardown(async () => { await app.close() })
  await app.register(fastifyOAuthToolkit, { database: db, migrate: true, sqlite: { mmapSize: 64 << 20 } })
  await app.ready()
  t.equal(db.pragma('mmap_size', { simple: true }), 64 << 20)
})

t.test('an unmigrated database fails registration with the remedy, not the first request', async (t) => {
  const dir = t.testdir()
  await t.test('empty file', async (t) => {
    const file = join(dir, 'empty.db')
    await rejectsRegistration(t, { database: file }, { code: 'OAT_ERR_DATABASE', message: /lacks \d+ migration\(s\); run `fastify-oauth-toolkit migrate` or pass `migrate: true`/ })
    t.notOk(walOpen(file), 'the connection was closed')
  })
  await t.test(':memory:', async (t) => {
    await rejectsRegistration(t, { database: ':memory:' }, { code: 'OAT_ERR_DATABASE', message: /migrate/ })
  })
  await t.test('an open database stays open for its owner', async (t) => {
    const db = new Database(join(dir, 'owned.db'))
    t.teardown(() => db.close())
    await rejectsRegistration(t, { database: db }, { code: 'OAT_ERR_DATABASE' })
    t.ok(db.open)
  })
})

t.test('migrate: true applies the migrations; a later start needs no migrate', async (t) => {
  const file = join(t.testdir(), 'oauth.db')
  await t.test('first start', async (t) => {
    const app = await appWith(t, { database: file, migrate: true })
    await helloWorks(t, app)
  })
  const db = new Database(file, { readonly: true })
  const tables = db.prepare('SELECT name FROM sqlite_master WHERE type = \'table\' AND name LIKE \'oauth2_%\' ORDER BY name').pluck().all()
  db.close()
  t.same(tables, ['oauth2_accesstoken', 'oauth2_application', 'oauth2_client_registration', 'oauth2_devicegrant', 'oauth2_grant', 'oauth2_idtoken', 'oauth2_logout_delivery', 'oauth2_pushed_authorization_request', 'oauth2_refreshtoken', 'oauth2_session', 'oauth2_session_client', 'oauth2_used_jti'])
  await t.test('second start without migrate', async (t) => {
    const app = await appWith(t, { database: file })
    await helloWorks(t, app)
    t.equal((await app.oauth.store.listApplications()).length, 2, 'the first start\'s application is still there')
  })
})

t.test('database accepts a path, a sqlite: URL, :memory: and an open better-sqlite3 database', async (t) => {
  const dir = t.testdir()
  await t.test('path', async (t) => { await helloWorks(t, await appWith(t, { database: join(dir, 'path.db'), migrate: true })) })
  await t.test('sqlite: URL', async (t) => {
    await helloWorks(t, await appWith(t, { database: `sqlite:${join(dir, 'url.db')}`, migrate: true }))
    t.ok(existsSync(join(dir, 'url.db')))
  })
  await t.test(':memory:', async (t) => { await helloWorks(t, await appWith(t, { database: ':memory:', migrate: true })) })
  await t.test('open database', async (t) => {
    const db = new Database(join(dir, 'open.db'))
    t.teardown(() => db.close())
    const app = await appWith(t, { database: db, migrate: true })
    await helloWorks(t, app)
    t.equal(db.pragma('journal_mode', { simple: true }), 'wal', 'the adopted connection gets WAL')
    t.equal(db.pragma('foreign_keys', { simple: true }), 1)
    await app.close()
    t.ok(db.open, 'the caller owns the connection: app.close() leaves it open')
    t.equal(db.prepare('SELECT count(*) FROM oauth2_accesstoken').pluck().get(), 1)
  })
})

t.test('the plugin closes the database it opened on app.close()', async (t) => {
  const file = join(t.testdir(), 'oauth.db')
  const app = await appWith(t, { database: file, migrate: true })
  await helloWorks(t, app)
  t.ok(walOpen(file), 'open while the app runs')
  await app.close()
  t.notOk(walOpen(file), 'closed with the app')
})

t.test('a store passed in belongs to the caller and is not closed', async (t) => {
  const inner = createSqliteStore({ database: ':memory:', migrate: true })
  let closed = 0
  const store: Store = { ...inner, close: async () => { closed++; await inner.close() } }
  const app = await appWith(t, { store })
  await helloWorks(t, app)
  t.equal(app.oauth.store, store)
  await app.close()
  t.equal(closed, 0)
  t.ok(await inner.listApplications(), 'still usable')
  await store.close()
})

t.test('two apps in one process share neither settings nor data', async (t) => {
  const dir = t.testdir()
  const a = await appWith(t, { database: join(dir, 'a.db'), migrate: true, settings: { bearerChallenge: true, realm: 'a' } })
  const b = await appWith(t, { database: join(dir, 'b.db'), migrate: true })
  const tokenA = await clientCredentialsToken(a)
  const tokenB = await clientCredentialsToken(b)
  t.equal((await a.inject({ method: 'GET', url: '/api/hello', headers: bearer(tokenA) })).statusCode, 200)
  t.equal((await b.inject({ method: 'GET', url: '/api/hello', headers: bearer(tokenB) })).statusCode, 200)

  const aOnB = await b.inject({ method: 'GET', url: '/api/hello', headers: bearer(tokenA) })
  t.equal(aOnB.statusCode, 403, 'B refuses A\'s token, with B\'s default bare 403')
  const bOnA = await a.inject({ method: 'GET', url: '/api/hello', headers: bearer(tokenB) })
  t.equal(bOnA.statusCode, 401, 'A refuses B\'s token, with A\'s RFC 6750 challenge')
  t.equal(bOnA.headers['www-authenticate'], 'Bearer realm="a", error="invalid_token", error_description="The access token is invalid."')
  t.not(a.oauth.settings, b.oauth.settings)
  t.equal(b.oauth.settings.realm, 'api')
  t.equal((await a.oauth.store.listApplications()).length, 1)
  t.equal((await b.oauth.store.listApplications()).length, 1)
})

t.test('two apps on one file see the same tokens (all state lives in the database)', async (t) => {
  const file = join(t.testdir(), 'shared.db')
  const a = await appWith(t, { database: file, migrate: true })
  const b = await appWith(t, { database: file })
  const token = await clientCredentialsToken(a)
  t.equal((await b.inject({ method: 'GET', url: '/api/hello', headers: bearer(token) })).statusCode, 200)
})

t.test('the routes plugin needs the core plugin first', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  app.register(oauthRoutes, { prefix: '/o' })
  await t.rejects(async () => await app.ready(), { constructor: ImproperlyConfiguredError, code: 'OAT_ERR_PLUGIN_ORDER' })
})

t.test('migrateSqlite on an open database is idempotent and makes it usable', async (t) => {
  const db = new Database(':memory:')
  t.teardown(() => db.close())
  migrateSqlite(db)
  migrateSqlite(db)
  await helloWorks(t, await appWith(t, { database: db }))
})

t.test('sqlite.backgroundCheckpoint reaches the SQLite store: with false, a store that writes keeps SQLite\'s automatic checkpoints', async (t) => {
  const writes = async (options: Partial<FastifyOAuthToolkitOptions>): Promise<number> => {
    const db = new Database(join(t.testdir(), `${String(options.sqlite?.backgroundCheckpoint)}.db`))
    t.teardown(() => db.close())
    // A threshold of 100 pages instead of SQLite's 1,000 (the store takes the connection's): the
    // store's commits pass half of it within a few dozen tokens (about 4 WAL frames each).
    db.pragma('journal_mode = WAL')
    db.pragma('wal_autocheckpoint = 100')
    const app = await appWith(t, { database: db, migrate: true, ...options })
    for (let i = 0; i < 30; i++) await clientCredentialsToken(app)
    return Number(db.pragma('wal_autocheckpoint', { simple: true }))
  }
  t.equal(await writes({ sqlite: { backgroundCheckpoint: false } }), 100, 'kept')
  t.equal(await writes({}), 0, 'by default the worker took over')
})
