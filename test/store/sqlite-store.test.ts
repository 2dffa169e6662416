import { join } from 'node:path'
import Database from 'better-sqlite3'
import t, { type Test } from 'tap'
import { addSeconds } from '../../lib/clock.js'
import { createOAuthServer } from '../../lib/server.js'
import type { SettingsInput } from '../../lib/settings.js'
import { createSqliteStore } from '../../lib/store/sqlite/store.js'
import type { Application, NewAccessToken, NewApplication, NewGrant, NewRefreshToken, Store, TokenIssue } from '../../lib/store/types.js'
import { tokenChecksum } from '../../lib/tokens/checksum.js'
import { basicAuth, buildApp, fixedClock, postToken, testHasher, type FixedClock } from '../helpers/index.js'
import { passwordTokens, withPasswordGrant } from '../views/support.js'

const T0 = new Date('2026-01-01T00:00:00.000Z')
const at = (seconds: number): Date => addSeconds(T0, seconds)

/** A migrated store on a fresh file, plus a second raw connection to inspect it; both closed with the test. */
function openStore (t: Test): { store: Store, raw: Database.Database, file: string } {
  const file = join(t.testdir(), 'store.db')
  const store = createSqliteStore({ database: file, migrate: true })
  const raw = new Database(file)
  t.teardown(async () => { raw.close(); await store.close() })
  return { store, raw, file }
}

let clientCounter = 0
async function newApplication (store: Store, overrides: Partial<NewApplication> = {}): Promise<Application> {
  return await store.createApplication({
    clientId: `client-${++clientCounter}`,
    clientSecretHash: 'scrypt$hash',
    clientType: 'confidential',
    authorizationGrantType: 'client-credentials',
    redirectUris: [],
    postLogoutRedirectUris: [],
    allowedOrigins: [],
    name: 'App',
    userId: null,
    skipAuthorization: false,
    algorithm: '',
    now: T0,
    ...overrides,
  })
}

interface IssueOptions {
  applicationId: number
  token: string
  refresh?: string
  family?: string
  expiresAt?: Date
  now?: Date
  userId?: string | null
  scope?: string
  grantId?: number | null
}

/** A token issuance; the checksums are those of the clear `token` and `refresh`. */
function issueOf (o: IssueOptions): TokenIssue {
  const family = o.family ?? (o.refresh === undefined ? null : `family-${o.refresh}`)
  const accessToken: NewAccessToken = {
    checksum: tokenChecksum(o.token),
    applicationId: o.applicationId,
    userId: o.userId ?? null,
    scope: o.scope ?? 'read',
    expiresAt: o.expiresAt ?? at(3600),
    tokenFamily: family,
    grantId: o.grantId ?? null,
    resource: '',
  }
  const refreshToken: NewRefreshToken | null = o.refresh === undefined || family === null
    ? null
    : { checksum: tokenChecksum(o.refresh), applicationId: o.applicationId, userId: o.userId ?? null, scope: o.scope ?? 'read', tokenFamily: family, resource: '' }
  return { accessToken, refreshToken, now: o.now ?? T0 }
}

function newGrant (applicationId: number, code: string, expiresAt = at(60)): NewGrant {
  return {
    checksum: tokenChecksum(code),
    applicationId,
    userId: 'user-1',
    expiresAt,
    redirectUri: 'https://app.example/cb',
    scope: 'read',
    codeChallenge: 'x'.repeat(43),
    codeChallengeMethod: 'S256',
    nonce: '',
    claims: '',
    resource: '',
    authTime: T0,
  }
}

t.test('connections run in WAL mode with a busy timeout and foreign keys (STORE-2)', async (t) => {
  const file = join(t.testdir(), 'pragmas.db')
  const db = new Database(file)
  const store = createSqliteStore({ database: db, migrate: true })
  t.teardown(async () => { await store.close(); db.close() })
  t.equal(db.pragma('journal_mode', { simple: true }), 'wal')
  t.equal(db.pragma('busy_timeout', { simple: true }), 5000)
  t.equal(db.pragma('foreign_keys', { simple: true }), 1)
  t.equal(db.pragma('synchronous', { simple: true }), 1, 'NORMAL')

  const reader = new Database(file, { readonly: true })
  t.teardown(() => reader.close())
  t.equal(reader.pragma('journal_mode', { simple: true }), 'wal', 'WAL is a property of the file')
})

t.test('the schema has the five tables, their foreign keys and the lookup indexes', async (t) => {
  const { raw } = openStore(t)
  const tables = raw.prepare('SELECT name FROM sqlite_master WHERE type = \'table\' AND name LIKE \'oauth2_%\' ORDER BY name').pluck().all()
  t.same(tables, ['oauth2_accesstoken', 'oauth2_application', 'oauth2_grant', 'oauth2_idtoken', 'oauth2_refreshtoken'])

  const indexes = (table: string): Record<string, { unique: boolean, columns: string[] }> => {
    const out: Record<string, { unique: boolean, columns: string[] }> = {}
    for (const ix of raw.pragma(`index_list(${table})`) as Array<{ name: string, unique: number, origin: string }>) {
      if (ix.origin === 'pk') continue
      const columns = (raw.pragma(`index_info(${ix.name})`) as Array<{ name: string }>).map((c) => c.name)
      out[ix.name] = { unique: ix.unique === 1, columns }
    }
    return out
  }
  t.match(indexes('oauth2_application'), {
    oauth2_application_client_id_uq: { unique: true, columns: ['client_id'] },
    oauth2_application_user_idx: { unique: false, columns: ['user_id'] },
  })
  t.match(indexes('oauth2_accesstoken'), {
    oauth2_accesstoken_checksum_uq: { unique: true, columns: ['token_checksum'] },
    oauth2_accesstoken_expires_idx: { columns: ['expires'] },
    oauth2_accesstoken_user_idx: { columns: ['user_id'] },
    oauth2_accesstoken_family_idx: { columns: ['token_family'] },
    oauth2_accesstoken_grant_idx: { columns: ['grant_id'] },
  })
  t.match(indexes('oauth2_refreshtoken'), {
    oauth2_refreshtoken_checksum_uq: { unique: true, columns: ['token_checksum'] },
    oauth2_refreshtoken_access_token_uq: { unique: true, columns: ['access_token_id'] },
    oauth2_refreshtoken_family_idx: { columns: ['token_family'] },
    oauth2_refreshtoken_revoked_idx: { columns: ['revoked'] },
    oauth2_refreshtoken_created_idx: { columns: ['created'] },
  })
  t.match(indexes('oauth2_grant'), {
    oauth2_grant_code_checksum_uq: { unique: true, columns: ['code_checksum'] },
    oauth2_grant_expires_idx: { columns: ['expires'] },
  })
  t.match(indexes('oauth2_idtoken'), {
    oauth2_idtoken_jti_uq: { unique: true, columns: ['jti'] },
    oauth2_idtoken_expires_idx: { columns: ['expires'] },
  })

  const fks = (table: string) => (raw.pragma(`foreign_key_list(${table})`) as Array<{ table: string, from: string, on_delete: string }>)
    .map((fk) => `${fk.from}->${fk.table}:${fk.on_delete}`).sort()
  t.same(fks('oauth2_accesstoken'), [
    'application_id->oauth2_application:CASCADE', 'grant_id->oauth2_grant:SET NULL', 'id_token_id->oauth2_idtoken:CASCADE',
  ])
  t.same(fks('oauth2_refreshtoken'), ['access_token_id->oauth2_accesstoken:SET NULL', 'application_id->oauth2_application:CASCADE'])
  t.same(fks('oauth2_grant'), ['application_id->oauth2_application:CASCADE'])
  t.same(fks('oauth2_idtoken'), ['application_id->oauth2_application:CASCADE'])
})

t.test('application CRUD', async (t) => {
  const { store } = openStore(t)
  const created = await newApplication(store, {
    clientId: 'crud-client',
    redirectUris: ['https://a.example/cb', 'https://b.example/cb'],
    allowedOrigins: ['https://a.example'],
    userId: 'owner-1',
    skipAuthorization: true,
    algorithm: 'RS256',
  })
  t.match(created, {
    clientId: 'crud-client',
    clientSecretHash: 'scrypt$hash',
    redirectUris: ['https://a.example/cb', 'https://b.example/cb'],
    postLogoutRedirectUris: [],
    allowedOrigins: ['https://a.example'],
    userId: 'owner-1',
    skipAuthorization: true,
    algorithm: 'RS256',
  })
  t.equal(created.createdAt.getTime(), T0.getTime())
  t.same(await store.findApplicationByClientId('crud-client'), created)
  t.same(await store.findApplicationById(created.id), created)
  t.equal(await store.findApplicationByClientId('nobody'), null)
  t.equal(await store.findApplicationById(9999), null)
  await t.rejects(newApplication(store, { clientId: 'crud-client' }), /UNIQUE/, 'client_id is unique')

  const other = await newApplication(store, { userId: null })
  t.same((await store.listApplications()).map((a) => a.id), [created.id, other.id])
  t.same((await store.listApplications({ userId: 'owner-1' })).map((a) => a.id), [created.id])
  t.same((await store.listApplications({ userId: null })).map((a) => a.id), [other.id])

  const updated = await store.updateApplication(created.id, { name: 'Renamed', redirectUris: ['https://c.example/cb'], skipAuthorization: false }, at(10))
  t.match(updated, { name: 'Renamed', redirectUris: ['https://c.example/cb'], skipAuthorization: false, allowedOrigins: ['https://a.example'] })
  t.equal(updated?.updatedAt.getTime(), at(10).getTime())
  t.equal(updated?.createdAt.getTime(), T0.getTime())
  t.equal(await store.updateApplication(9999, { name: 'x' }, at(10)), null)

  await store.issueTokens(issueOf({ applicationId: created.id, token: 'crud-access', refresh: 'crud-refresh' }))
  const grant = await store.createGrant(newGrant(created.id, 'crud-code'), T0)
  t.equal(await store.deleteApplication(created.id), true)
  t.equal(await store.deleteApplication(created.id), false, 'already gone')
  t.equal(await store.findApplicationById(created.id), null)
  t.equal(await store.findAccessToken(tokenChecksum('crud-access')), null, 'tokens cascade')
  t.equal(await store.findRefreshToken(tokenChecksum('crud-refresh')), null)
  t.equal(await store.findGrant(grant.checksum), null, 'codes cascade')
  t.ok(await store.findApplicationById(other.id), 'other applications stay')
})

t.test('issueTokens stores checksums only; findAccessToken looks tokens up by checksum', async (t) => {
  const { store, raw } = openStore(t)
  const app = await newApplication(store)
  const rows = await store.issueTokens(issueOf({ applicationId: app.id, token: 'clear-access-token', refresh: 'clear-refresh-token', family: 'fam-1', userId: 'u1', scope: 'read write' }))
  t.match(rows.accessToken, { applicationId: app.id, userId: 'u1', scope: 'read write', tokenFamily: 'fam-1', checksum: tokenChecksum('clear-access-token') })
  t.equal(rows.accessToken.expiresAt.getTime(), at(3600).getTime())
  t.match(rows.refreshToken, { accessTokenId: rows.accessToken.id, tokenFamily: 'fam-1', revokedAt: null })

  t.same(await store.findAccessToken(tokenChecksum('clear-access-token')), rows.accessToken)
  t.same(await store.findAccessTokenById(rows.accessToken.id), rows.accessToken)
  t.equal(await store.findAccessToken('clear-access-token'), null, 'the clear token is not a lookup key')
  t.same(await store.findRefreshToken(tokenChecksum('clear-refresh-token')), rows.refreshToken)
  t.same((await store.listAccessTokensForUser('u1')).map((r) => r.id), [rows.accessToken.id])

  const dump = JSON.stringify([
    raw.prepare('SELECT * FROM oauth2_accesstoken').all(),
    raw.prepare('SELECT * FROM oauth2_refreshtoken').all(),
  ])
  t.notMatch(dump, 'clear-access-token', 'no clear access token in the database')
  t.notMatch(dump, 'clear-refresh-token', 'no clear refresh token in the database')
  t.match(dump, tokenChecksum('clear-access-token'))
})

t.test('revokeAccessToken deletes a lone token, or revokes its whole refresh family (RFC 7009 §2.1)', async (t) => {
  const { store } = openStore(t)
  const app = await newApplication(store)
  const lone = await store.issueTokens(issueOf({ applicationId: app.id, token: 'lone' }))
  const first = await store.issueTokens(issueOf({ applicationId: app.id, token: 'fam-a1', refresh: 'fam-r1', family: 'fam' }))
  const second = await store.issueTokens(issueOf({ applicationId: app.id, token: 'fam-a2', refresh: 'fam-r2', family: 'fam' }))
  const bystander = await store.issueTokens(issueOf({ applicationId: app.id, token: 'other-a', refresh: 'other-r', family: 'other' }))

  await store.revokeAccessToken(lone.accessToken.id, at(5))
  t.equal(await store.findAccessToken(tokenChecksum('lone')), null)

  await store.revokeAccessToken(first.accessToken.id, at(6))
  t.equal(await store.findAccessToken(tokenChecksum('fam-a1')), null)
  t.equal(await store.findAccessToken(tokenChecksum('fam-a2')), null, 'the family\'s other access token too')
  for (const r of ['fam-r1', 'fam-r2']) {
    t.equal((await store.findRefreshToken(tokenChecksum(r)))?.revokedAt?.getTime(), at(6).getTime(), `${r} revoked`)
  }
  t.ok(await store.findAccessToken(bystander.accessToken.checksum), 'other families untouched')
  t.equal((await store.findRefreshToken(tokenChecksum('other-r')))?.revokedAt, null)
  t.ok(second.refreshToken)
  await store.revokeAccessToken(9999, at(7))
  t.pass('revoking an unknown id is a no-op')
})

t.test('rotateRefreshToken is a conditional update: a second rotation of the same token fails', async (t) => {
  const { store } = openStore(t)
  const app = await newApplication(store)
  const original = await store.issueTokens(issueOf({ applicationId: app.id, token: 'a0', refresh: 'r0', family: 'f' }))
  const rtId = original.refreshToken?.id ?? -1

  const won = await store.rotateRefreshToken(rtId, 'sealed-successor', issueOf({ applicationId: app.id, token: 'a1', refresh: 'r1', family: 'f', now: at(10) }))
  t.equal(won.ok, true)
  const old = await store.findRefreshToken(tokenChecksum('r0'))
  t.equal(old?.revokedAt?.getTime(), at(10).getTime())
  t.equal(old?.successorSealed, 'sealed-successor')
  t.equal(await store.findAccessToken(tokenChecksum('a0')), null, 'the old access token is gone')
  t.ok(await store.findAccessToken(tokenChecksum('a1')))
  t.equal((await store.findRefreshToken(tokenChecksum('r1')))?.revokedAt, null)

  const lost = await store.rotateRefreshToken(rtId, null, issueOf({ applicationId: app.id, token: 'a2', refresh: 'r2', family: 'f', now: at(11) }))
  t.same(lost, { ok: false })
  t.equal(await store.findAccessToken(tokenChecksum('a2')), null, 'the loser wrote nothing')
  t.equal(await store.findRefreshToken(tokenChecksum('r2')), null)
  t.equal((await store.findRefreshToken(tokenChecksum('r0')))?.successorSealed, 'sealed-successor', 'the winner\'s seal is kept')
})

t.test('rotateRefreshToken rolls back the revocation when the insert fails', async (t) => {
  const { store } = openStore(t)
  const app = await newApplication(store)
  const original = await store.issueTokens(issueOf({ applicationId: app.id, token: 'a0', refresh: 'r0', family: 'f' }))
  // Reusing a live access token's checksum violates the unique index inside the transaction.
  await store.issueTokens(issueOf({ applicationId: app.id, token: 'taken' }))
  await t.rejects(store.rotateRefreshToken(original.refreshToken?.id ?? -1, 'sealed', issueOf({ applicationId: app.id, token: 'taken', refresh: 'r1', family: 'f' })), /UNIQUE/)
  const old = await store.findRefreshToken(tokenChecksum('r0'))
  t.equal(old?.revokedAt, null, 'the refresh token is still live')
  t.equal(old?.successorSealed, null)
  t.ok(await store.findAccessToken(tokenChecksum('a0')), 'its access token is still there')
  t.equal(await store.findRefreshToken(tokenChecksum('r1')), null)
})

t.test('replaceAccessToken swaps the bound access token, only while the refresh token is live', async (t) => {
  const { store } = openStore(t)
  const app = await newApplication(store)
  const original = await store.issueTokens(issueOf({ applicationId: app.id, token: 'a0', refresh: 'r0', family: 'f' }))
  const rtId = original.refreshToken?.id ?? -1
  const replaced = await store.replaceAccessToken(rtId, issueOf({ applicationId: app.id, token: 'a1', family: 'f', now: at(5) }))
  t.equal(replaced.ok, true)
  if (replaced.ok) t.equal(replaced.rows.refreshToken?.accessTokenId, replaced.rows.accessToken.id)
  t.equal(await store.findAccessToken(tokenChecksum('a0')), null)
  t.ok(await store.findAccessToken(tokenChecksum('a1')))

  await store.revokeTokenFamily('f', at(6))
  t.same(await store.replaceAccessToken(rtId, issueOf({ applicationId: app.id, token: 'a2', family: 'f' })), { ok: false })
  t.equal(await store.findAccessToken(tokenChecksum('a2')), null)
  t.equal(await store.findAccessToken(tokenChecksum('a1')), null, 'revokeTokenFamily deleted the family\'s access tokens')
})

t.test('redeemGrant is single-use and refuses expired codes (RFC 6749 §4.1.2)', async (t) => {
  const { store } = openStore(t)
  const app = await newApplication(store, { authorizationGrantType: 'authorization-code' })
  const grant = await store.createGrant(newGrant(app.id, 'code-1'), T0)
  t.same(await store.findGrant(tokenChecksum('code-1')), grant)
  t.equal(grant.consumedAt, null)

  const first = await store.redeemGrant(grant.id, issueOf({ applicationId: app.id, token: 'a1', refresh: 'r1', family: 'code-fam', grantId: grant.id, now: at(5) }))
  t.equal(first.ok, true)
  const consumed = await store.findGrant(tokenChecksum('code-1'))
  t.equal(consumed?.consumedAt?.getTime(), at(5).getTime())
  t.equal(consumed?.tokenFamily, 'code-fam', 'the family is recorded for replay revocation')

  const second = await store.redeemGrant(grant.id, issueOf({ applicationId: app.id, token: 'a2', refresh: 'r2', grantId: grant.id, now: at(6) }))
  t.same(second, { ok: false })
  t.equal(await store.findAccessToken(tokenChecksum('a2')), null, 'the replay wrote nothing')

  await store.revokeGrantTokens(grant.id, at(7))
  t.equal(await store.findAccessToken(tokenChecksum('a1')), null, 'a replay revokes what the code issued')
  t.equal((await store.findRefreshToken(tokenChecksum('r1')))?.revokedAt?.getTime(), at(7).getTime())

  const stale = await store.createGrant(newGrant(app.id, 'code-2', at(60)), T0)
  t.same(await store.redeemGrant(stale.id, issueOf({ applicationId: app.id, token: 'a3', grantId: stale.id, now: at(60) })), { ok: false }, 'expired at expiresAt')
  t.equal((await store.findGrant(tokenChecksum('code-2')))?.consumedAt, null)
})

t.test('a transaction failing mid-way leaves nothing half-written', async (t) => {
  const { store, raw } = openStore(t)
  const app = await newApplication(store)
  const issue = issueOf({ applicationId: app.id, token: 'half-access', refresh: 'half-refresh' })
  // The refresh token names a missing application: a foreign-key violation after the access token insert.
  const broken: TokenIssue = { ...issue, refreshToken: issue.refreshToken === null ? null : { ...issue.refreshToken, applicationId: 9999 } }
  await t.rejects(store.issueTokens(broken), /FOREIGN KEY/)
  t.equal(await store.findAccessToken(tokenChecksum('half-access')), null, 'the access token insert was rolled back')
  t.equal(raw.prepare('SELECT count(*) FROM oauth2_accesstoken').pluck().get(), 0)
  t.equal(raw.prepare('SELECT count(*) FROM oauth2_refreshtoken').pluck().get(), 0)
  t.ok(await store.issueTokens(issue), 'the connection is usable afterwards')
})

t.test('two Store instances on one file see each other\'s writes', async (t) => {
  const file = join(t.testdir(), 'shared.db')
  const a = createSqliteStore({ database: file, migrate: true })
  const b = createSqliteStore({ database: file })
  t.teardown(async () => { await a.close(); await b.close() })
  const app = await newApplication(a, { clientId: 'shared-client' })
  t.same(await b.findApplicationByClientId('shared-client'), app)
  const rows = await b.issueTokens(issueOf({ applicationId: app.id, token: 'shared-access' }))
  t.same(await a.findAccessToken(tokenChecksum('shared-access')), rows.accessToken)
  await a.revokeAccessToken(rows.accessToken.id, at(1))
  t.equal(await b.findAccessToken(tokenChecksum('shared-access')), null)
})

t.test('close() closes a connection the store opened, not one it was given', async (t) => {
  const dir = t.testdir()
  const given = new Database(join(dir, 'given.db'))
  t.teardown(() => given.close())
  const adopted = createSqliteStore({ database: given, migrate: true })
  await adopted.close()
  t.ok(given.open)
  t.ok(await adopted.listApplications(), 'still usable through the open connection')

  const owned = createSqliteStore({ database: join(dir, 'owned.db'), migrate: true })
  await owned.close()
  await t.rejects(owned.listApplications(), /not open/)
})

/** A clock, a store on an open connection (for raw ID-token rows) and DOT's cleartokens over them. */
function cleartokensFixture (t: Test, settings: SettingsInput = {}): { store: Store, raw: Database.Database, clock: FixedClock, clear: () => Promise<{ counts: unknown, batches: number }> } {
  const raw = new Database(join(t.testdir(), 'clear.db'))
  const store = createSqliteStore({ database: raw, migrate: true })
  t.teardown(async () => { await store.close(); raw.close() })
  const clock = fixedClock(T0.toISOString())
  const server = createOAuthServer({ store, clock, settings, hasher: testHasher })
  return {
    store,
    raw,
    clock,
    clear: async () => {
      let batches = 0
      const counts = await server.clearExpiredTokens({ onBatch: () => { batches++ } })
      return { counts, batches }
    },
  }
}

function insertIdToken (raw: Database.Database, applicationId: number, jti: string, expiresAt: Date): number {
  return Number(raw.prepare('INSERT INTO oauth2_idtoken (jti, application_id, user_id, scope, expires, created, updated) VALUES (?, ?, ?, ?, ?, ?, ?)')
    .run(jti, applicationId, 'u1', 'openid', expiresAt.getTime(), T0.getTime(), T0.getTime()).lastInsertRowid)
}

t.test('cleartokens deletes expired access tokens, codes and unreferenced ID tokens, in batches', async (t) => {
  const { store, raw, clock, clear } = cleartokensFixture(t, { clearExpiredTokensBatchSize: 2 })
  const app = await newApplication(store)
  for (let i = 0; i < 5; i++) await store.issueTokens(issueOf({ applicationId: app.id, token: `expired-${i}`, expiresAt: at(100) }))
  await store.issueTokens(issueOf({ applicationId: app.id, token: 'live', expiresAt: at(10_000) }))
  await store.issueTokens(issueOf({ applicationId: app.id, token: 'boundary', expiresAt: at(1000) }))
  const expiredGrant = await store.createGrant(newGrant(app.id, 'old-code', at(60)), T0)
  const liveGrant = await store.createGrant(newGrant(app.id, 'new-code', at(5000)), T0)
  await store.redeemGrant(expiredGrant.id, issueOf({ applicationId: app.id, token: 'from-code', grantId: expiredGrant.id, expiresAt: at(10_000) }))
  const orphanId = insertIdToken(raw, app.id, 'jti-orphan', at(100))
  const referencedId = insertIdToken(raw, app.id, 'jti-referenced', at(100))
  const liveId = insertIdToken(raw, app.id, 'jti-live', at(10_000))
  raw.prepare('UPDATE oauth2_accesstoken SET id_token_id = ? WHERE token_checksum = ?').run(referencedId, tokenChecksum('live'))

  clock.set(at(1000).toISOString())
  const { counts, batches } = await clear()
  t.same(counts, { accessTokens: 5, refreshTokens: 0, grants: 1, idTokens: 1 })
  t.equal(batches, 2, 'five rows in batches of two: two pauses between three batches')
  for (let i = 0; i < 5; i++) t.equal(await store.findAccessToken(tokenChecksum(`expired-${i}`)), null)
  t.ok(await store.findAccessToken(tokenChecksum('live')))
  t.ok(await store.findAccessToken(tokenChecksum('boundary')), 'expires exactly now: not yet cleared (expires < now)')
  t.ok(await store.findAccessToken(tokenChecksum('from-code')), 'a code\'s live token survives the code')
  t.equal(await store.findGrant(expiredGrant.checksum), null)
  t.ok(await store.findGrant(liveGrant.checksum))
  const jtis = raw.prepare('SELECT id FROM oauth2_idtoken ORDER BY id').pluck().all()
  t.same(jtis, [referencedId, liveId], 'an expired ID token an access token still refers to is kept')
  t.notOk(jtis.includes(orphanId))

  t.same((await clear()).counts, { accessTokens: 0, refreshTokens: 0, grants: 0, idTokens: 0 }, 'idempotent')
})

t.test('cleartokens with reuse protection keeps revoked refresh tokens until they idle-expire', async (t) => {
  const { store, clock, clear } = cleartokensFixture(t, { refreshTokenExpireSeconds: 1000 })
  const app = await newApplication(store)
  await store.issueTokens(issueOf({ applicationId: app.id, token: 'a-old', refresh: 'r-old', now: T0 }))
  await store.issueTokens(issueOf({ applicationId: app.id, token: 'a-revoked', refresh: 'r-revoked', now: at(500) }))
  await store.issueTokens(issueOf({ applicationId: app.id, token: 'a-live', refresh: 'r-live', now: at(500) }))
  await store.revokeTokenFamily('family-r-revoked', at(600))

  clock.set(at(1200).toISOString())
  const { counts } = await clear()
  t.match(counts, { refreshTokens: 1 })
  t.equal(await store.findRefreshToken(tokenChecksum('r-old')), null, 'idle past refreshTokenExpireSeconds')
  t.ok(await store.findRefreshToken(tokenChecksum('r-revoked')), 'revoked but kept so that a replay is still recognised')
  t.ok(await store.findRefreshToken(tokenChecksum('r-live')))

  clock.set(at(1600).toISOString())
  t.match((await clear()).counts, { refreshTokens: 2 }, 'both idle-expired by now')
})

t.test('cleartokens without reuse protection deletes refresh tokens revoked before the grace period', async (t) => {
  const { store, clock, clear } = cleartokensFixture(t, { refreshTokenReuseProtection: false, refreshTokenGracePeriodSeconds: 100 })
  const app = await newApplication(store)
  for (const name of ['early', 'recent', 'live']) {
    await store.issueTokens(issueOf({ applicationId: app.id, token: `a-${name}`, refresh: `r-${name}`, expiresAt: at(100_000) }))
  }
  await store.revokeTokenFamily('family-r-early', at(800))
  await store.revokeTokenFamily('family-r-recent', at(950))
  clock.set(at(1000).toISOString())
  const { counts } = await clear()
  t.match(counts, { refreshTokens: 1 })
  t.equal(await store.findRefreshToken(tokenChecksum('r-early')), null)
  t.ok(await store.findRefreshToken(tokenChecksum('r-recent')), 'still inside the grace period')
  t.ok(await store.findRefreshToken(tokenChecksum('r-live')), 'refreshTokenExpireSeconds is null: live tokens never idle-expire')
})

t.test('cleartokens leaves a live refresh token usable after its access token is cleared', async (t) => {
  const clock = fixedClock(T0.toISOString())
  const app = await buildApp(t, withPasswordGrant({ clock, settings: { accessTokenExpireSeconds: 60 } }))
  const tokens = await passwordTokens(app)
  clock.advance(120)
  t.match(await app.oauth.clearExpiredTokens(), { accessTokens: 1, refreshTokens: 0 })
  const res = await postToken(app, { grant_type: 'refresh_token', refresh_token: tokens.refreshToken }, { authorization: basicAuth(tokens.clientId, tokens.clientSecret) })
  t.equal(res.statusCode, 200)
})
