// The verification cache (issue 7): a verified token is served without a query, yet every path
// that revokes, rotates or deletes it (or its application) is refused on the very next request,
// in this process, from another connection (SQLite data_version) and from another instance
// (PostgreSQL LISTEN/NOTIFY, including a dropped listener connection).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import pg from 'pg'
import t, { type Test } from 'tap'
import { resolveSettings } from '../../lib/settings.js'
import { decodeInvalidation, encodeInvalidation, guardUnknownMethods } from '../../lib/store/invalidation.js'
import { createSqliteStore } from '../../lib/store/sqlite/store.js'
import type { Store } from '../../lib/store/types.js'
import { LISTENER_APPLICATION_NAME } from '../../lib/store/pg/listener.js'
import { createPgStore } from '../../lib/store/pg/store.js'
import { tokenChecksum } from '../../lib/tokens/checksum.js'
import { ALICE, basicAuth, createApplication, fixedClock, postToken, type BuildAppOptions, type FixedClock } from '../helpers/index.js'
import { passwordGrantOptions, passwordTokens } from '../helpers/password-grant.js'
import { buildAuthorizeApp, codeClient, createCodeApplication, exchangeCode, obtainCode, pkcePair } from '../helpers/authorize.js'
import { postgresTestDatabase } from '../helpers/postgres.js'
import { accessTokenRow, bearer } from '../views/support.js'
import { eventually } from '../helpers/wait.js'

/**
 * An app whose store runs on `db` (so the test can change rows behind the store's back, on the
 * same connection), with `/me` protected. Other connections' commits are looked for at every
 * event-loop iteration (`sqlite: { crossProcessCheckMs: 0 }`), so that the tests of what the store
 * learns from them can expect it at the next iteration; the default period has tests of its own.
 */
async function cachedApp (t: Test, options: BuildAppOptions = {}): Promise<{ app: FastifyInstance, db: Database.Database, clock: FixedClock }> {
  // Not in t.testdir(): buildApp calls that, which empties it.
  const dir = mkdtempSync(join(tmpdir(), 'oat-cache-'))
  const db = new Database(join(dir, 'oauth.db'))
  t.teardown(() => { db.close(); rmSync(dir, { recursive: true, force: true }) })
  const clock = fixedClock(new Date().toISOString())
  const app = await buildAuthorizeApp(t, passwordGrantOptions({ database: db, clock, sqlite: { crossProcessCheckMs: 0 }, ...options }))
  app.get('/me', { onRequest: app.oauth.protect() }, async (request) => ({ application: request.accessToken?.application?.name, scopes: request.accessToken?.scopes }))
  app.get('/mutate', { onRequest: app.oauth.protect() }, async (request) => {
    try {
      (request.accessToken?.scopes as string[]).push('admin')
      return 'mutated'
    } catch {
      return 'frozen'
    }
  })
  return { app, db, clock }
}

async function status (app: FastifyInstance, token: string): Promise<number> {
  return (await app.inject({ method: 'GET', url: '/me', headers: bearer(token) })).statusCode
}

/** Deletes a token's row on `db` directly: no store method, so no invalidation. */
function deleteBehindTheStore (db: Database.Database, token: string): void {
  db.prepare('DELETE FROM oauth2_accesstoken WHERE token_checksum = ?').run(tokenChecksum(token))
}

t.test('a verified token is served from the cache (on by default)', async (t) => {
  const { app, db } = await cachedApp(t)
  const token = (await passwordTokens(app)).accessToken
  t.equal(await status(app, token), 200)
  deleteBehindTheStore(db, token)
  t.equal(await status(app, token), 200, 'the row is gone, the cached verification answers (no store query)')
})

t.test('verificationCacheSize: 0 turns the cache off', async (t) => {
  const { app, db } = await cachedApp(t, { settings: { verificationCacheSize: 0 } })
  const token = (await passwordTokens(app)).accessToken
  t.equal(await status(app, token), 200)
  deleteBehindTheStore(db, token)
  t.equal(await status(app, token), 403, 'without the cache every request asks the store')
})

t.test('the cache never outlives the token, nor verificationCacheSeconds', async (t) => {
  const { app, db, clock } = await cachedApp(t, { settings: { accessTokenExpireSeconds: 600, verificationCacheSeconds: 30 } })
  const expiring = (await passwordTokens(app)).accessToken
  t.equal(await status(app, expiring), 200)
  clock.advance(601)
  t.equal(await status(app, expiring), 403, 'expired: refused although cached')

  const bounded = (await passwordTokens(app)).accessToken
  t.equal(await status(app, bounded), 200)
  deleteBehindTheStore(db, bounded)
  clock.advance(29)
  t.equal(await status(app, bounded), 200, 'within verificationCacheSeconds')
  clock.advance(2)
  t.equal(await status(app, bounded), 403, 'after verificationCacheSeconds the store is asked again')
})

t.test('every revocation path is seen by the very next request', async (t) => {
  const { app } = await cachedApp(t, { settings: { rotateRefreshToken: true } })

  await t.test('RFC 7009 revocation of the access token', async (t) => {
    const tokens = await passwordTokens(app)
    t.equal(await status(app, tokens.accessToken), 200)
    const res = await app.inject({ method: 'POST', url: '/o/revoke_token/', headers: { authorization: basicAuth(tokens.clientId, tokens.clientSecret), 'content-type': 'application/x-www-form-urlencoded' }, payload: `token=${tokens.accessToken}` })
    t.equal(res.statusCode, 200)
    t.equal(await status(app, tokens.accessToken), 403)
  })

  await t.test('RFC 7009 revocation of the refresh token revokes its access token', async (t) => {
    const tokens = await passwordTokens(app)
    t.equal(await status(app, tokens.accessToken), 200)
    const res = await app.inject({ method: 'POST', url: '/o/revoke_token/', headers: { authorization: basicAuth(tokens.clientId, tokens.clientSecret), 'content-type': 'application/x-www-form-urlencoded' }, payload: `token=${tokens.refreshToken}&token_type_hint=refresh_token` })
    t.equal(res.statusCode, 200)
    t.equal(await status(app, tokens.accessToken), 403)
  })

  await t.test('refresh rotation retires the old access token; reusing the old refresh token revokes the family', async (t) => {
    const tokens = await passwordTokens(app)
    const auth = { authorization: basicAuth(tokens.clientId, tokens.clientSecret) }
    t.equal(await status(app, tokens.accessToken), 200)
    const refreshed = await postToken(app, { grant_type: 'refresh_token', refresh_token: tokens.refreshToken }, auth)
    t.equal(refreshed.statusCode, 200)
    t.equal(await status(app, tokens.accessToken), 403, 'the rotated-out access token')
    const next = refreshed.json<{ access_token: string }>().access_token
    t.equal(await status(app, next), 200)
    t.equal((await postToken(app, { grant_type: 'refresh_token', refresh_token: tokens.refreshToken }, auth)).statusCode, 400, 'a replay')
    t.equal(await status(app, next), 403, 'reuse protection revoked the family, cached token included')
  })

  await t.test('a replayed authorization code revokes the tokens of its first exchange (CODE-1)', async (t) => {
    const created = await createCodeApplication(app)
    const { verifier, challenge } = pkcePair()
    const redirectUri = created.application.redirectUris[0] ?? ''
    const code = await obtainCode(app, { response_type: 'code', client_id: created.application.clientId, redirect_uri: redirectUri, code_challenge: challenge, code_challenge_method: 'S256' })
    const exchange = { redirect_uri: redirectUri, code_verifier: verifier }
    const first = await exchangeCode(app, codeClient(created), code, exchange)
    const token = first.json<{ access_token: string }>().access_token
    t.equal(await status(app, token), 200)
    t.equal((await exchangeCode(app, codeClient(created), code, exchange)).statusCode, 400)
    t.equal(await status(app, token), 403)
  })

  await t.test('deleting the application', async (t) => {
    const tokens = await passwordTokens(app)
    t.equal(await status(app, tokens.accessToken), 200)
    const application = await app.oauth.store.findApplicationByClientId(tokens.clientId)
    t.ok(await app.oauth.store.deleteApplication(application?.id ?? 0))
    t.equal(await status(app, tokens.accessToken), 403)
  })

  await t.test('updating the application: the cached token shows the new application at once', async (t) => {
    const tokens = await passwordTokens(app)
    const application = await app.oauth.store.findApplicationByClientId(tokens.clientId)
    t.equal((await app.inject({ method: 'GET', url: '/me', headers: bearer(tokens.accessToken) })).json().application, application?.name)
    await app.oauth.store.updateApplication(application?.id ?? 0, { name: 'Renamed' }, new Date())
    t.equal((await app.inject({ method: 'GET', url: '/me', headers: bearer(tokens.accessToken) })).json().application, 'Renamed')
  })

  await t.test('a cached verification is frozen: a handler cannot change what the next request sees', async (t) => {
    const tokens = await passwordTokens(app)
    t.equal((await app.inject({ method: 'GET', url: '/mutate', headers: bearer(tokens.accessToken) })).body, 'frozen')
    t.same((await app.inject({ method: 'GET', url: '/me', headers: bearer(tokens.accessToken) })).json().scopes, ['read', 'write'])
  })
})

t.test('SQLite: a revocation by another connection to the file (another process) is seen at once (PRAGMA data_version)', async (t) => {
  const { app, db } = await cachedApp(t)
  const client = await createApplication(app, { authorizationGrantType: 'client-credentials' })
  const issued = await postToken(app, { grant_type: 'client_credentials' }, { authorization: basicAuth(client.application.clientId, client.clientSecret ?? '') })
  const accessToken = issued.json<{ access_token: string }>().access_token
  t.equal(await status(app, accessToken), 200)
  const other = new Database(db.name)
  t.teardown(() => { other.close() })
  deleteBehindTheStore(other, accessToken)
  t.equal(await status(app, accessToken), 403, 'another connection committed: the cache is dropped')
})

/** A request as the guard reads it: the bearer header, no query. */
function bearerRequest (token: string): FastifyRequest {
  return { headers: bearer(token), query: {} } as unknown as FastifyRequest
}

/** Lets the event loop run one iteration (the SQLite store reads data_version at most once per iteration). */
async function nextIteration (): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve))
}

/** A client-credentials token (no user, so no loadUser call). */
async function serviceToken (app: FastifyInstance): Promise<string> {
  const client = await createApplication(app, { authorizationGrantType: 'client-credentials' })
  const issued = await postToken(app, { grant_type: 'client_credentials' }, { authorization: basicAuth(client.application.clientId, client.clientSecret ?? '') })
  return issued.json<{ access_token: string }>().access_token
}

t.test('a cache hit is answered synchronously; a revoked token is refused on the next request', async (t) => {
  const { app } = await cachedApp(t)
  const token = await serviceToken(app)
  const first = app.oauth.verifyRequestNow(bearerRequest(token), [])
  t.ok(first !== null && 'then' in first, 'not cached yet: the store is asked (a promise)')
  t.equal(await first, null)
  const request = bearerRequest(token)
  t.equal(app.oauth.verifyRequestNow(request, []), null, 'cached: answered without a promise')
  t.equal(request.accessToken?.scopes.join(' '), 'read write', 'and request.accessToken is set')
  const refused = app.oauth.verifyRequestNow(bearerRequest(token), ['admin'])
  t.equal(refused !== null && !('then' in refused) ? refused.error : null, 'insufficient_scope', 'a missing scope is refused synchronously too')
  const hook = app.oauth.protect()
  let passed = false
  hook.call(app, bearerRequest(token), {} as FastifyReply, () => { passed = true })
  t.ok(passed, 'protect() called done() before returning')

  const row = await app.oauth.store.findAccessToken(tokenChecksum(token))
  await app.oauth.store.revokeAccessToken(row?.id ?? 0, app.oauth.clock.now())
  const after = app.oauth.verifyRequestNow(bearerRequest(token), [])
  t.ok(after !== null && 'then' in after, 'revoked: no longer cached, the store is asked')
  t.equal((await after)?.error, 'invalid_token')
  t.equal(await status(app, token), 403)
})

t.test('with loadUser, a cached token of a user still waits for the user', async (t) => {
  const loaded: string[] = []
  const { app } = await cachedApp(t, { loadUser: async (id) => { loaded.push(id); return { id, username: ALICE.username } } })
  const token = (await passwordTokens(app)).accessToken
  t.equal(await status(app, token), 200)
  const request = bearerRequest(token)
  const outcome = app.oauth.verifyRequestNow(request, [])
  t.ok(outcome !== null && 'then' in outcome, 'a promise: loadUser runs')
  t.equal(await outcome, null)
  t.same(request.resourceOwner, { id: ALICE.id, username: ALICE.username })
  t.same(loaded, [ALICE.id, ALICE.id])
})

t.test('SQLite: data_version is read once per event-loop iteration; the next iteration sees another connection\'s commit', async (t) => {
  const { app, db } = await cachedApp(t)
  const token = await serviceToken(app)
  t.equal(await status(app, token), 200)
  await nextIteration()
  t.equal(app.oauth.verifyRequestNow(bearerRequest(token), []), null, 'served from the cache')
  const other = new Database(db.name)
  t.teardown(() => { other.close() })
  deleteBehindTheStore(other, token)
  t.equal(app.oauth.verifyRequestNow(bearerRequest(token), []), null, 'the same iteration: data_version was read already')
  await nextIteration()
  const outcome = app.oauth.verifyRequestNow(bearerRequest(token), [])
  t.ok(outcome !== null && 'then' in outcome, 'the next iteration: the cache was dropped, the store is asked')
  t.equal((await outcome)?.error, 'invalid_token')
})

t.test('SQLite sqlite.crossProcessCheckMs: one look at other connections\' commits covers that long, then a revocation behind the store is refused', async (t) => {
  const PERIOD = 200
  const { app, db } = await cachedApp(t, { sqlite: { crossProcessCheckMs: PERIOD } })
  const token = await serviceToken(app)
  t.equal(await status(app, token), 200)
  await new Promise((resolve) => setTimeout(resolve, PERIOD + 10))
  // The clock is read before the look: the period measured here is never shorter than the store's.
  const lookedAt = performance.now()
  t.equal(app.oauth.verifyRequestNow(bearerRequest(token), []), null, 'served from the cache (a look starts its period)')
  const other = new Database(db.name)
  t.teardown(() => { other.close() })
  deleteBehindTheStore(other, token)
  await nextIteration()
  const within = app.oauth.verifyRequestNow(bearerRequest(token), [])
  // Only meaningful while the period lasts; a machine stalled past it would have looked again.
  const withinPeriod = performance.now() - lookedAt < PERIOD
  if (withinPeriod) t.equal(within, null, 'within the period: still served from the cache')
  else if (within !== null && 'then' in within) await within
  await new Promise((resolve) => setTimeout(resolve, PERIOD + 10))
  t.equal(await status(app, token), 403, 'after it: refused (the row is gone)')
})

/** Whether `token` is answered from the cache now: `verifyRequestNow` answers a hit synchronously, a miss with a promise (it then asks the store). */
function servedFromCache (app: FastifyInstance, token: string): boolean {
  const outcome = app.oauth.verifyRequestNow(bearerRequest(token), [])
  if (outcome === null) return true
  if ('then' in outcome) outcome.then(undefined, () => {})
  return false
}

/** A second store on the app's file: another server process or the cleartokens CLI, as SQLite sees it. */
function otherProcess (t: Test, db: Database.Database): Store {
  const other = createSqliteStore({ database: db.name })
  t.teardown(async () => { await other.close() })
  return other
}

t.test('SQLite: another process\'s cleartokens keeps the cached unexpired tokens and drops those expiring before its bound (state row, issue 7)', async (t) => {
  const { app, db, clock } = await cachedApp(t, { settings: { accessTokenExpireSeconds: 3600 } })
  const early = await serviceToken(app)
  clock.advance(1800)
  const late = await serviceToken(app)
  t.equal(await status(app, early), 200)
  t.equal(await status(app, late), 200)
  await nextIteration()
  t.ok(servedFromCache(app, early) && servedFromCache(app, late), 'both cached')
  const expiredEarly = await app.oauth.store.findAccessToken(tokenChecksum(early))
  const cleaner = otherProcess(t, db)
  // The cleaner's clock is ahead: `early` has expired for it, `late` has not.
  const bound = new Date((expiredEarly?.expiresAt.getTime() ?? 0) + 1000)
  const cleared = await cleaner.clearExpired({ now: bound, revokedBefore: null, refreshCreatedBefore: null, batchSize: 100 })
  t.equal(cleared.accessTokens, 1)
  await nextIteration()
  t.ok(servedFromCache(app, late), 'the unexpired token is still served from the cache')
  t.notOk(servedFromCache(app, early), 'the token expiring before the bound was dropped')
  t.equal(await status(app, early), 403, 'and is refused (its row is gone)')
  t.equal(await status(app, late), 200)
})

t.test('SQLite: another process issuing tokens keeps the cache; its revocation is refused at once', async (t) => {
  const { app, db } = await cachedApp(t)
  const token = await serviceToken(app)
  t.equal(await status(app, token), 200)
  const other = otherProcess(t, db)
  const row = await app.oauth.store.findAccessToken(tokenChecksum(token))
  const client = await app.oauth.store.findApplicationById(row?.applicationId ?? 0)
  for (let i = 0; i < 3; i++) {
    await other.issueTokens({
      accessToken: { checksum: tokenChecksum(`other-${i}`), applicationId: client?.id ?? 0, userId: null, scope: 'read', expiresAt: new Date(Date.now() + 3600e3), tokenFamily: null, grantId: null, resource: '' },
      refreshToken: null,
      now: new Date(),
    })
    await nextIteration()
    t.ok(servedFromCache(app, token), `still cached after the other process issued token ${i + 1}`)
  }
  await other.revokeAccessToken(row?.id ?? 0, new Date())
  t.equal(await status(app, token), 403, 'revoked by the other process: refused on the next request')
})

t.test('SQLite: a host\'s own SQL on another connection (DELETE or UPDATE of a token, UPDATE of an application) is seen at once', async (t) => {
  const { app, db } = await cachedApp(t)
  const host = new Database(db.name)
  t.teardown(() => { host.close() })
  // Each change is followed by a new event-loop iteration, as a request read from a socket after it would be.
  const tokens = await passwordTokens(app)
  t.equal((await app.inject({ method: 'GET', url: '/me', headers: bearer(tokens.accessToken) })).json().scopes.join(' '), 'read write')
  host.prepare('UPDATE oauth2_accesstoken SET scope = \'read\' WHERE token_checksum = ?').run(tokenChecksum(tokens.accessToken))
  await nextIteration()
  t.same((await app.inject({ method: 'GET', url: '/me', headers: bearer(tokens.accessToken) })).json().scopes, ['read'], 'the narrowed scope, at once')
  host.prepare('UPDATE oauth2_application SET name = \'Renamed by SQL\' WHERE client_id = ?').run(tokens.clientId)
  await nextIteration()
  t.equal((await app.inject({ method: 'GET', url: '/me', headers: bearer(tokens.accessToken) })).json().application, 'Renamed by SQL', 'the renamed application, at once')
  host.prepare('UPDATE oauth2_accesstoken SET expires = 0 WHERE token_checksum = ?').run(tokenChecksum(tokens.accessToken))
  await nextIteration()
  t.equal(await status(app, tokens.accessToken), 403, 'expired by SQL: refused at once')

  const second = (await passwordTokens(app)).accessToken
  t.equal(await status(app, second), 200)
  await nextIteration()
  t.ok(servedFromCache(app, second))
  deleteBehindTheStore(host, second)
  await nextIteration()
  t.equal(await status(app, second), 403, 'deleted by SQL: refused at once')
})

/**
 * After the cache-state schema was damaged by `host` (heard once first): `token` is cached again,
 * then an unrelated insert by that other connection drops the whole cache, as before migration 0007.
 */
async function anyCommitDropsTheCache (t: Test, app: FastifyInstance, host: Database.Database, token: string): Promise<void> {
  await nextIteration()
  app.oauth.store.invalidationsReliable()
  t.equal(await status(app, token), 200)
  await nextIteration()
  t.ok(servedFromCache(app, token), 'cached (the drop itself was heard before)')
  host.prepare('INSERT INTO oauth2_grant (code_checksum, application_id, user_id, expires, redirect_uri, auth_time, created, updated) VALUES (\'x\', 1, \'u\', 0, \'r\', 0, 0, 0)').run()
  await nextIteration()
  t.notOk(servedFromCache(app, token), 'an insert by another connection: the cache was dropped')
}

t.test('SQLite: on a database without the state table, any commit of another process drops the cache (as before migration 0007)', async (t) => {
  const { app, db } = await cachedApp(t)
  const host = new Database(db.name)
  t.teardown(() => { host.close() })
  host.exec('DROP TABLE oauth_cache_state')
  await anyCommitDropsTheCache(t, app, host, await serviceToken(app))
})

t.test('SQLite: another process\'s revocation, rotation and family revocation evict only those tokens; the others are still served from the cache (log, migration 0008)', async (t) => {
  const { app, db } = await cachedApp(t)
  const other = otherProcess(t, db)
  const revoked = await serviceToken(app)
  const bystander = await serviceToken(app)
  const rotated = await passwordTokens(app)
  const family = await passwordTokens(app)
  const all = [revoked, bystander, rotated.accessToken, family.accessToken]
  for (const token of all) t.equal(await status(app, token), 200)
  await nextIteration()
  t.ok(all.every((token) => servedFromCache(app, token)), 'all four cached')

  await other.revokeAccessToken((await accessTokenRow(app, revoked)).id, new Date())
  await nextIteration()
  t.notOk(servedFromCache(app, revoked), 'the revoked token was evicted')
  t.ok(servedFromCache(app, bystander) && servedFromCache(app, rotated.accessToken) && servedFromCache(app, family.accessToken), 'the others are still served from the cache')
  t.equal(await status(app, revoked), 403)

  const refresh = await app.oauth.store.findRefreshToken(tokenChecksum(rotated.refreshToken))
  const old = await accessTokenRow(app, rotated.accessToken)
  const now = new Date()
  const base = { applicationId: old.applicationId ?? 0, userId: old.userId, scope: old.scope, tokenFamily: old.tokenFamily ?? '', resource: '' }
  t.match(await other.rotateRefreshToken(refresh?.id ?? 0, null, {
    accessToken: { ...base, checksum: tokenChecksum('rotated-new'), expiresAt: new Date(Date.now() + 3600e3), grantId: null },
    refreshToken: { ...base, checksum: tokenChecksum('rotated-new-r') },
    now,
  }), { ok: true })
  await nextIteration()
  t.notOk(servedFromCache(app, rotated.accessToken), 'rotated by the other process: the old access token was evicted')
  t.ok(servedFromCache(app, bystander) && servedFromCache(app, family.accessToken), 'the others are still served from the cache')
  t.equal(await status(app, rotated.accessToken), 403)

  await other.revokeTokenFamily((await accessTokenRow(app, family.accessToken)).tokenFamily ?? '', new Date())
  await nextIteration()
  t.notOk(servedFromCache(app, family.accessToken), 'its family revoked by the other process: evicted')
  t.ok(servedFromCache(app, bystander), 'the bystander is still served from the cache')
  t.equal(await status(app, family.accessToken), 403)
  t.equal(await status(app, bystander), 200)
})

t.test('SQLite: a host\'s DELETE or scope UPDATE of one token on another connection refuses that token at once and keeps the others cached; an application UPDATE drops all', async (t) => {
  const { app, db } = await cachedApp(t)
  const host = new Database(db.name)
  t.teardown(() => { host.close() })
  const deleted = await serviceToken(app)
  const narrowed = await passwordTokens(app)
  const bystander = await serviceToken(app)
  for (const token of [deleted, narrowed.accessToken, bystander]) t.equal(await status(app, token), 200)
  await nextIteration()
  t.ok([deleted, narrowed.accessToken, bystander].every((token) => servedFromCache(app, token)), 'all cached')

  deleteBehindTheStore(host, deleted)
  await nextIteration()
  t.notOk(servedFromCache(app, deleted), 'deleted by SQL: evicted at once')
  t.ok(servedFromCache(app, narrowed.accessToken) && servedFromCache(app, bystander), 'the others are still served from the cache')
  t.equal(await status(app, deleted), 403)

  host.prepare('UPDATE oauth2_accesstoken SET scope = \'read\' WHERE token_checksum = ?').run(tokenChecksum(narrowed.accessToken))
  await nextIteration()
  t.notOk(servedFromCache(app, narrowed.accessToken), 'its scope narrowed by SQL: evicted at once')
  t.ok(servedFromCache(app, bystander), 'the bystander is still served from the cache')
  t.same((await app.inject({ method: 'GET', url: '/me', headers: bearer(narrowed.accessToken) })).json().scopes, ['read'], 'the narrowed scope')

  await nextIteration()
  t.ok(servedFromCache(app, narrowed.accessToken) && servedFromCache(app, bystander))
  host.prepare('UPDATE oauth2_application SET name = \'Renamed\' WHERE client_id = ?').run(narrowed.clientId)
  await nextIteration()
  t.notOk(servedFromCache(app, bystander), 'an application changed by SQL: the whole cache dropped (even another application\'s token)')
  t.notOk(servedFromCache(app, narrowed.accessToken))
})

t.test('SQLite: many revocations by another process between two requests are all refused', async (t) => {
  const { app, db } = await cachedApp(t)
  const other = otherProcess(t, db)
  const tokens: string[] = []
  for (let i = 0; i < 12; i++) tokens.push(await serviceToken(app))
  for (const token of tokens) t.equal(await status(app, token), 200)
  await nextIteration()
  t.ok(tokens.every((token) => servedFromCache(app, token)), 'all cached')
  const ids = await Promise.all(tokens.slice(0, 10).map(async (token) => (await accessTokenRow(app, token)).id))
  await Promise.all(ids.map(async (id) => { await other.revokeAccessToken(id, new Date()) }))
  await nextIteration()
  t.same(tokens.map((token) => servedFromCache(app, token)), [...Array(10).fill(false), true, true], 'the ten revoked evicted, the two others still cached')
  for (const token of tokens.slice(0, 10)) t.equal(await status(app, token), 403)
})

t.test('SQLite: a process that fell behind the pruned part of the log drops its whole cache', async (t) => {
  const { app, db } = await cachedApp(t)
  const host = new Database(db.name)
  t.teardown(() => { host.close() })
  const other = otherProcess(t, db)
  const token = await serviceToken(app)
  const row = await accessTokenRow(app, token)
  t.equal(await status(app, token), 200)
  await nextIteration()
  const churn = (): void => {
    host.exec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 11001)
      INSERT INTO oauth2_accesstoken (token_checksum, application_id, scope, expires, resource, created, updated) SELECT 'churn-' || i, ${row.applicationId}, 'read', 9e15, '', 0, 0 FROM n`)
    host.exec('DELETE FROM oauth2_accesstoken WHERE token_checksum LIKE \'churn-%\'')
  }
  churn()
  await nextIteration()
  t.ok(servedFromCache(app, token), 'read 11,001 other tokens\' deletions: still cached')
  churn()
  // The other process's next write prunes the log before this process read the newest entries.
  await other.issueTokens({
    accessToken: { checksum: tokenChecksum('pruner'), applicationId: row.applicationId ?? 0, userId: null, scope: 'read', expiresAt: new Date(Date.now() + 3600e3), tokenFamily: null, grantId: null, resource: '' },
    refreshToken: null,
    now: new Date(),
  })
  t.equal(host.prepare('SELECT count(*) FROM oauth_cache_log').pluck().get(), 10_000, 'pruned to the newest 10,000')
  await nextIteration()
  t.notOk(servedFromCache(app, token), 'entries it had not read were pruned: the cache was dropped')
  t.equal(await status(app, token), 200, 'the token is valid: verified by the store again')
})

t.test('SQLite: on a database without the log table, any commit of another process drops the cache (as before migration 0008)', async (t) => {
  const { app, db } = await cachedApp(t)
  const host = new Database(db.name)
  t.teardown(() => { host.close() })
  const [first, second] = [await serviceToken(app), await serviceToken(app)]
  for (const token of [first, second]) t.equal(await status(app, token), 200)
  await nextIteration()
  deleteBehindTheStore(host, first)
  await nextIteration()
  t.ok(!servedFromCache(app, first) && servedFromCache(app, second), 'with the log: one evicted, one kept')
  // The token triggers write the log: they cannot stay without it.
  host.exec('DROP TRIGGER oauth_cache_log_accesstoken_delete; DROP TRIGGER oauth_cache_log_accesstoken_update; DROP TABLE oauth_cache_log')
  await anyCommitDropsTheCache(t, app, host, second)
})

t.test('settings: verificationCacheSize and verificationCacheSeconds are validated', async (t) => {
  t.match(resolveSettings({}), { verificationCacheSize: 10000, verificationCacheSeconds: 60 }, 'on by default')
  for (const settings of [{ verificationCacheSize: -1 }, { verificationCacheSize: 1.5 }, { verificationCacheSeconds: 0 }]) {
    t.throws(() => resolveSettings(settings), { code: 'OAT_ERR_SETTINGS' }, JSON.stringify(settings))
  }
})

t.test('a store method not on the invalidation list reports `all` after every call (the rule holds for methods added later)', async (t) => {
  const base = createSqliteStore({ database: ':memory:', migrate: true })
  t.teardown(async () => { await base.close() })
  const events: string[] = []
  const store = guardUnknownMethods({ ...base, deleteSomethingNew: async () => 'done' } as Store & { deleteSomethingNew: () => Promise<string> }, async () => { events.push('all') })
  t.equal(await store.deleteSomethingNew(), 'done')
  t.same(events, ['all'])
  await store.findAccessToken('x')
  t.same(events, ['all'], 'a listed method passes through')
  t.equal(store.findAccessToken, base.findAccessToken, 'untouched: the hot path pays nothing')
})

t.test('NOTIFY payloads: chunked below PostgreSQL\'s 8,000 bytes, decoded back, anything unknown means all', async (t) => {
  const checksums = Array.from({ length: 250 }, (_, i) => tokenChecksum(`token-${i}`))
  const payloads = encodeInvalidation({ kind: 'tokens', checksums }, 'origin1')
  t.equal(payloads.length, 3)
  t.ok(payloads.every((p) => Buffer.byteLength(p) < 8000))
  t.same(payloads.flatMap((p) => { const d = decodeInvalidation(p); return d.event.kind === 'tokens' ? d.event.checksums : [] }), checksums)
  t.same(decodeInvalidation(encodeInvalidation({ kind: 'application', applicationId: 42 }, 'o')[0]), { origin: 'o', event: { kind: 'application', applicationId: 42 } })
  t.same(decodeInvalidation(encodeInvalidation({ kind: 'expired', before: new Date(5000) }, 'o')[0]), { origin: 'o', event: { kind: 'expired', before: new Date(5000) } })
  for (const garbage of [undefined, '', '*', 'x t:nothex', 'x a:0', 'x a:-1', 'x q:1']) t.same(decodeInvalidation(garbage).event, { kind: 'all' }, String(garbage))
})

const url = await postgresTestDatabase(t)
if (url !== null) {
  t.test('PostgreSQL: while the LISTEN connection is down nothing is served from the cache; it reconnects and caches again', async (t) => {
    const store = await createPgStore({ connectionString: url, poolConfig: { max: 3 }, migrate: true })
    t.teardown(async () => { await store.close() })
    const raw = new pg.Client({ connectionString: url })
    await raw.connect()
    t.teardown(async () => { await raw.end() })
    const app = await buildAuthorizeApp(t, passwordGrantOptions({ database: undefined, store }))
    app.get('/me', { onRequest: app.oauth.protect() }, async () => 'me')
    const listening = async (): Promise<void> => {
      await eventually(() => store.invalidationsReliable())
      t.ok(store.invalidationsReliable(), 'listening')
    }
    const removeBehindTheStore = async (token: string): Promise<void> => {
      await raw.query('DELETE FROM oauth2_accesstoken WHERE token_checksum = $1', [tokenChecksum(token)])
    }

    const first = (await passwordTokens(app)).accessToken
    t.equal(await status(app, first), 200)
    await listening()
    t.equal(await status(app, first), 200, 'cached once the listener is up')
    await removeBehindTheStore(first)
    t.equal(await status(app, first), 200, 'served from the cache: a delete without NOTIFY is not heard')

    const second = (await passwordTokens(app)).accessToken
    t.equal(await status(app, second), 200)
    const killed = await raw.query('SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()', [LISTENER_APPLICATION_NAME])
    t.equal(killed.rowCount, 1, 'the listener connection is terminated')
    await removeBehindTheStore(second)
    await eventually(() => !store.invalidationsReliable())
    t.equal(await status(app, second), 403, 'the drop cleared the cache (and it does not serve while down)')
    t.equal(await status(app, first), 403)

    await listening()
    const third = (await passwordTokens(app)).accessToken
    t.equal(await status(app, third), 200)
    await removeBehindTheStore(third)
    t.equal(await status(app, third), 200, 'reconnected: caching again')
    await raw.query("NOTIFY oat_invalidate, 'manual *'")
    await eventually(async () => await status(app, third) !== 200)
    t.equal(await status(app, third), 403, 'a manual NOTIFY oat_invalidate drops the cache (docs/deployment.md)')
  })
}
