// The cache of successful client authentications (issue 7, `clientCacheSize`): a client
// presenting the same id and secret again is not looked up nor hashed, yet a rotated secret, a
// changed grant type or a deleted application is never served again: in this process at once,
// from another connection to the SQLite file at the next look, from another PostgreSQL instance
// by NOTIFY. A wrong secret and an unknown client id both miss and take the same path (CAUTH-2).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import type { FastifyInstance } from 'fastify'
import t, { type Test } from 'tap'
import { regenerateClientSecret } from '../../lib/applications.js'
import { resolveSettings } from '../../lib/settings.js'
import { serverContext } from '../../lib/server.js'
import { createPgStore } from '../../lib/store/pg/store.js'
import type { Application, Store } from '../../lib/store/types.js'
import { ClientCache } from '../../lib/validator/client-cache.js'
import { basicAuth, createApplication, fixedClock, postToken, type BuildAppOptions, type FixedClock } from '../helpers/index.js'
import { buildAuthorizeApp } from '../helpers/authorize.js'
import { postgresTestDatabase } from '../helpers/postgres.js'
import { eventually } from '../helpers/wait.js'

interface Client { clientId: string, secret: string, id: number }

/** An app on a SQLite file opened by the test (`db`, so rows can change behind the store on its own connection). */
async function cachedApp (t: Test, options: BuildAppOptions = {}): Promise<{ app: FastifyInstance, db: Database.Database, clock: FixedClock, client: Client }> {
  const dir = mkdtempSync(join(tmpdir(), 'oat-clientcache-'))
  const db = new Database(join(dir, 'oauth.db'))
  t.teardown(() => { db.close(); rmSync(dir, { recursive: true, force: true }) })
  const clock = fixedClock(new Date().toISOString())
  const app = await buildAuthorizeApp(t, { database: db, clock, sqlite: { crossProcessCheckMs: 0 }, ...options })
  const created = await createApplication(app, { authorizationGrantType: 'client-credentials' })
  return { app, db, clock, client: { clientId: created.application.clientId, secret: created.clientSecret ?? '', id: created.application.id } }
}

/** The status of a client_credentials request with Basic authentication. */
async function tokenStatus (app: FastifyInstance, clientId: string, secret: string): Promise<number> {
  return (await postToken(app, { grant_type: 'client_credentials' }, { authorization: basicAuth(clientId, secret) })).statusCode
}

/** Changes the grant type on `db` with SQL: on the store's own connection no store hears it. */
function disallowClientCredentials (db: Database.Database, clientId: string): void {
  db.prepare('UPDATE oauth2_application SET authorization_grant_type = \'password\' WHERE client_id = ?').run(clientId)
}

async function nextIteration (): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve))
}

t.test('an authenticated client\'s application is served from the cache (on by default)', async (t) => {
  const { app, db, client } = await cachedApp(t)
  t.equal(await tokenStatus(app, client.clientId, client.secret), 200)
  disallowClientCredentials(db, client.clientId)
  t.equal(await tokenStatus(app, client.clientId, client.secret), 200, 'the row changed behind the store: the cached application answers (no store query)')
})

t.test('clientCacheSize: 0 turns the cache off', async (t) => {
  const { app, db, client } = await cachedApp(t, { settings: { clientCacheSize: 0 } })
  t.equal(await tokenStatus(app, client.clientId, client.secret), 200)
  disallowClientCredentials(db, client.clientId)
  t.equal(await tokenStatus(app, client.clientId, client.secret), 400, 'without the cache every authentication asks the store: unauthorized_client')
})

t.test('an entry lives verificationCacheSeconds at most', async (t) => {
  const { app, db, clock, client } = await cachedApp(t, { settings: { verificationCacheSeconds: 30 } })
  t.equal(await tokenStatus(app, client.clientId, client.secret), 200)
  disallowClientCredentials(db, client.clientId)
  clock.advance(29)
  t.equal(await tokenStatus(app, client.clientId, client.secret), 200, 'still cached')
  clock.advance(1)
  t.equal(await tokenStatus(app, client.clientId, client.secret), 400, 'after 30 s the store is asked again')
})

t.test('changes made through the toolkit are seen by the very next request', async (t) => {
  const { app } = await cachedApp(t)

  await t.test('a regenerated secret: the old one is refused, the new one accepted', async (t) => {
    const created = await createApplication(app)
    const old = created.clientSecret ?? ''
    t.equal(await tokenStatus(app, created.application.clientId, old), 200)
    const renewed = await regenerateClientSecret(serverContext(app.oauth), created.application.id)
    t.equal(await tokenStatus(app, created.application.clientId, old), 401, 'the old secret')
    t.equal(await tokenStatus(app, created.application.clientId, renewed?.clientSecret ?? ''), 200, 'the new secret')
  })

  await t.test('an updated grant type', async (t) => {
    const created = await createApplication(app)
    t.equal(await tokenStatus(app, created.application.clientId, created.clientSecret ?? ''), 200)
    await app.oauth.store.updateApplication(created.application.id, { authorizationGrantType: 'password' }, new Date())
    t.equal(await tokenStatus(app, created.application.clientId, created.clientSecret ?? ''), 400)
  })

  await t.test('a deleted application', async (t) => {
    const created = await createApplication(app)
    t.equal(await tokenStatus(app, created.application.clientId, created.clientSecret ?? ''), 200)
    t.ok(await app.oauth.store.deleteApplication(created.application.id))
    t.equal(await tokenStatus(app, created.application.clientId, created.clientSecret ?? ''), 401)
  })

  await t.test('introspection authenticates through the same cache, and sees a deletion too', async (t) => {
    const created = await createApplication(app)
    const auth = { authorization: basicAuth(created.application.clientId, created.clientSecret ?? '') }
    const introspect = async (): Promise<number> => (await app.inject({ method: 'POST', url: '/o/introspect/', headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' }, payload: 'token=unknown' })).statusCode
    t.equal(await introspect(), 200)
    t.ok(await app.oauth.store.deleteApplication(created.application.id))
    t.equal(await introspect(), 401)
  })
})

t.test('store lookups: one per client while cached; a wrong secret or an unknown id costs one each (CAUTH-2 timing)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'oat-clientcache-'))
  t.teardown(() => { rmSync(dir, { recursive: true, force: true }) })
  const { createSqliteStore } = await import('../../lib/store/sqlite/store.js')
  const store = createSqliteStore({ database: join(dir, 'oauth.db'), migrate: true })
  t.teardown(async () => { await store.close() })
  let lookups = 0
  const counted: Store = { ...store, findApplicationByClientId: async (clientId) => { lookups++; return await store.findApplicationByClientId(clientId) } }
  const app = await buildAuthorizeApp(t, { database: undefined, store: counted })
  const created = await createApplication(app)
  const id = created.application.clientId
  const secret = created.clientSecret ?? ''
  t.equal(await tokenStatus(app, id, secret), 200)
  t.equal(lookups, 1, 'the first authentication reads the store')
  t.equal(await tokenStatus(app, id, secret), 200)
  t.equal(lookups, 1, 'the second is served from the cache')
  t.equal(await tokenStatus(app, id, 'wrong'), 401)
  t.equal(lookups, 2, 'a wrong secret for the cached client reads the store, as an unknown client id does')
  t.equal(await tokenStatus(app, 'nobody', 'wrong'), 401)
  t.equal(lookups, 3, 'an unknown client id reads the store')
})

t.test('an unknown client id is not cached: an application created after a failed attempt authenticates', async (t) => {
  const { app } = await cachedApp(t)
  t.equal(await tokenStatus(app, 'made-later', 'secret-made-later-0123456789'), 401)
  const created = await app.oauth.createApplication({ clientId: 'made-later', clientType: 'confidential', authorizationGrantType: 'client-credentials', name: 'Later' })
  t.equal(await tokenStatus(app, 'made-later', created.clientSecret ?? ''), 200)
})

t.test('SQLite: another connection\'s change to an application is seen at the next iteration (state row, migration 0007)', async (t) => {
  const { app, db, client } = await cachedApp(t)
  const other = new Database(db.name)
  t.teardown(() => { other.close() })
  t.equal(await tokenStatus(app, client.clientId, client.secret), 200)
  disallowClientCredentials(other, client.clientId)
  await nextIteration()
  t.equal(await tokenStatus(app, client.clientId, client.secret), 400, 'the grant type changed by another process')
  other.prepare('UPDATE oauth2_application SET authorization_grant_type = \'client-credentials\' WHERE client_id = ?').run(client.clientId)
  await nextIteration()
  t.equal(await tokenStatus(app, client.clientId, client.secret), 200, 'and changed back')
  other.prepare('DELETE FROM oauth2_application WHERE client_id = ?').run(client.clientId)
  await nextIteration()
  t.equal(await tokenStatus(app, client.clientId, client.secret), 401, 'deleted by another process')
})

t.test('SQLite: another process issuing tokens keeps the cache (inserts change no application)', async (t) => {
  const { app, db, clock, client } = await cachedApp(t)
  const other = new Database(db.name)
  t.teardown(() => { other.close() })
  const cache = serverContext(app.oauth).clientCache
  const cached = (): boolean => cache?.get(cache.keyOf(client.clientId, client.secret), clock.now().getTime()) !== null
  t.equal(await tokenStatus(app, client.clientId, client.secret), 200)
  t.ok(cached(), 'cached')
  other.prepare('INSERT INTO oauth2_accesstoken (token_checksum, application_id, scope, expires, resource, created, updated) VALUES (\'c\', ?, \'read\', 0, \'\', 0, 0)').run(client.id)
  await nextIteration()
  t.ok(cached(), 'still cached once the other connection\'s commit was looked at')
  t.equal(await tokenStatus(app, client.clientId, client.secret), 200)
})

t.test('the cache: bounded, and a lookup raced by an invalidation is not kept', async (t) => {
  const dir = t.testdir()
  const { createSqliteStore } = await import('../../lib/store/sqlite/store.js')
  const store: Store = createSqliteStore({ database: join(dir, 'oauth.db'), migrate: true })
  t.teardown(async () => { await store.close() })
  const application = (id: number): Application => Object.freeze({ id, clientId: `c${id}` }) as Application
  const cache = new ClientCache(store, 2, 60)
  for (const id of [1, 2, 3]) cache.set(`c${id}`, application(id), cache.generation, 0)
  t.equal(cache.size, 2, 'full: the oldest goes')
  t.equal(cache.get('c1', 0), null)
  t.equal(cache.get('c3', 0)?.id, 3)

  const generation = cache.generation
  cache.invalidate({ kind: 'application', applicationId: 99 })
  cache.set('c4', application(4), generation, 0)
  t.equal(cache.get('c4', 0), null, 'read before an invalidation, not stored after it')

  cache.invalidate({ kind: 'tokens', checksums: ['x'] })
  cache.invalidate({ kind: 'expired', before: new Date(10) })
  t.equal(cache.get('c3', 0)?.id, 3, 'token invalidations leave applications alone')
  cache.invalidate({ kind: 'application', applicationId: 3 })
  t.equal(cache.get('c3', 0), null, 'its application\'s invalidation removes it')
  cache.set('c2', application(2), cache.generation, 0)
  cache.invalidate({ kind: 'all' })
  t.equal(cache.size, 0, 'all')
  cache.close()
  cache.set('c2', application(2), cache.generation, 0)
  t.equal(cache.size, 0, 'closed: nothing is kept')
})

t.test('keys: one per (client id, secret) pair, unambiguous, and per process', async (t) => {
  const dir = t.testdir()
  const { createSqliteStore } = await import('../../lib/store/sqlite/store.js')
  const store: Store = createSqliteStore({ database: join(dir, 'oauth.db'), migrate: true })
  t.teardown(async () => { await store.close() })
  const cache = new ClientCache(store, 10, 60)
  t.equal(cache.keyOf('client', 'secret'), cache.keyOf('client', 'secret'))
  t.not(cache.keyOf('client', 'secret'), cache.keyOf('client', 'Secret'))
  t.not(cache.keyOf('ab', 'c'), cache.keyOf('a', 'bc'), 'the split between id and secret counts')
  t.not(cache.keyOf('client', 'secret'), new ClientCache(store, 10, 60).keyOf('client', 'secret'), 'another process (another random key) has other keys')
  t.notMatch(cache.keyOf('client', 'secret'), /secret/)
})

t.test('a cached application is frozen, lists included', async (t) => {
  const { app, client } = await cachedApp(t)
  t.equal(await tokenStatus(app, client.clientId, client.secret), 200)
  const cache = serverContext(app.oauth).clientCache
  const cached = cache?.get(cache.keyOf(client.clientId, client.secret), Date.now() + 1000)
  t.ok(cached !== null && cached !== undefined && Object.isFrozen(cached) && Object.isFrozen(cached.redirectUris) && Object.isFrozen(cached.allowedOrigins))
})

t.test('settings: clientCacheSize is validated', async (t) => {
  t.equal(resolveSettings({}).clientCacheSize, 1000)
  for (const bad of [-1, 1.5, Number.NaN]) t.throws(() => resolveSettings({ clientCacheSize: bad }), /clientCacheSize/)
  t.equal(resolveSettings({ clientCacheSize: 0 }).clientCacheSize, 0)
})

const url = await postgresTestDatabase(t)
if (url !== null) {
  t.test('PostgreSQL: another instance\'s change to an application is heard by NOTIFY and refused', async (t) => {
    const a = await createPgStore({ connectionString: url, poolConfig: { max: 3 }, migrate: true })
    const b = await createPgStore({ connectionString: url, poolConfig: { max: 2 } })
    t.teardown(async () => { await a.close(); await b.close() })
    const app = await buildAuthorizeApp(t, { database: undefined, store: a })
    const created = await createApplication(app)
    const secret = created.clientSecret ?? ''
    t.equal(await tokenStatus(app, created.application.clientId, secret), 200)
    await eventually(() => a.invalidationsReliable())
    t.ok(a.invalidationsReliable(), 'listening')
    t.equal(await tokenStatus(app, created.application.clientId, secret), 200, 'cached')
    await b.updateApplication(created.application.id, { authorizationGrantType: 'password' }, new Date())
    t.ok(await eventually(async () => await tokenStatus(app, created.application.clientId, secret) === 400), 'the other instance\'s update reached this one')
    await b.deleteApplication(created.application.id)
    t.ok(await eventually(async () => await tokenStatus(app, created.application.clientId, secret) === 401), 'the other instance\'s deletion reached this one')
  })
}
