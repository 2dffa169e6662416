// The Store contract: every dialect-independent store test, run against SQLite by
// sqlite-store.spec.ts and against PostgreSQL by pg-store.spec.ts (issue 6: one shared suite).
// A dialect supplies a harness: a fresh, migrated, empty store per test, a second Store on the
// same database (a second instance), and raw SQL for what the Store API cannot show.
import type { Test } from 'tap'
import { addSeconds } from '../../lib/clock.js'
import { createOAuthServer } from '../../lib/server.js'
import type { SettingsInput } from '../../lib/settings.js'
import type { Application, NewAccessToken, NewApplication, NewDeviceGrant, NewGrant, NewRefreshToken, NewSession, Store, StoreInvalidation, TokenIssue } from '../../lib/store/types.js'
import { tokenChecksum } from '../../lib/tokens/checksum.js'
import { basicAuth, buildApp, fixedClock, postToken, testHasher, type FixedClock } from '../helpers/index.js'
import { passwordGrantOptions, passwordTokens } from '../helpers/password-grant.js'
import { adminContract } from './admin-contract.js'
import { registrationContract } from './registration-contract.js'
import { eventually } from '../helpers/wait.js'

/** One test's view of a store on a fresh, migrated, empty database. */
export interface StoreHarness {
  readonly store: Store
  /** Another `Store` on the same database, as a second instance would open it; closed with the test. */
  openAnother (): Promise<Store>
  /** Raw SQL with `$1, $2, …` placeholders, numbered in order of appearance; rows as the driver returns them. */
  query (text: string, params?: readonly unknown[]): Promise<Array<Record<string, unknown>>>
  /** A `Date` as this dialect's time columns take it in a raw query parameter. */
  time (date: Date): unknown
}

/** Opens a harness for one test; everything it opens is closed by the test's teardown. */
export type OpenHarness = (t: Test) => Promise<StoreHarness>

export const T0 = new Date('2026-01-01T00:00:00.000Z')
export const at = (seconds: number): Date => addSeconds(T0, seconds)

/** Constraint violations, worded by SQLite ("UNIQUE constraint failed") or PostgreSQL ("violates unique constraint"). */
const UNIQUE_VIOLATION = /unique constraint/i
const FOREIGN_KEY_VIOLATION = /foreign key constraint/i

/** A test application; `clientId` must be unique per database. */
export async function newApplication (store: Store, overrides: Partial<NewApplication> & { clientId: string }): Promise<Application> {
  return await store.createApplication({
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

export interface IssueOptions {
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
export function issueOf (o: IssueOptions): TokenIssue {
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

export function newGrant (applicationId: number, code: string, expiresAt = at(60)): NewGrant {
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

/** A pending device authorization for `applicationId` whose codes are `code` and `user-<code>`. */
export function newDeviceGrant (applicationId: number, code: string, expiresAt = at(1800)): NewDeviceGrant {
  return { checksum: tokenChecksum(code), userCodeChecksum: tokenChecksum(`user-${code}`), applicationId, scope: 'read', resource: 'https://api.example/ https://files.example/', expiresAt, interval: 5 }
}

/** `SELECT count(*) AS n …` as a number (PostgreSQL returns bigint counts as strings). */
async function count (h: StoreHarness, text: string, params: readonly unknown[] = []): Promise<number> {
  const [row] = await h.query(text, params)
  return Number(row?.n)
}

/** Registers every contract test on `t`, each on its own harness. */
export function storeContract (t: Test, open: OpenHarness): void {
  registrationContract(t, open)
  adminContract(t, open)
  t.test('application CRUD', async (t) => {
    const { store } = await open(t)
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
    await t.rejects(newApplication(store, { clientId: 'crud-client' }), UNIQUE_VIOLATION, 'client_id is unique')

    const other = await newApplication(store, { clientId: 'crud-other', userId: null })
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

  t.test('allowIntrospection: false unless given, kept by other changes, in every lookup (INTRO-1)', async (t) => {
    const { store } = await open(t)
    const plain = await newApplication(store, { clientId: 'plain-client' })
    t.equal(plain.allowIntrospection, false, 'default')
    const rs = await newApplication(store, { clientId: 'rs-client', allowIntrospection: true })
    t.equal(rs.allowIntrospection, true)
    t.equal((await store.findApplicationByClientId('rs-client'))?.allowIntrospection, true)
    t.equal((await store.findApplicationById(rs.id))?.allowIntrospection, true)
    t.same((await store.listApplications()).map((a) => [a.clientId, a.allowIntrospection]), [['plain-client', false], ['rs-client', true]])
    await store.issueTokens(issueOf({ applicationId: rs.id, token: 'rs-access' }))
    t.equal((await store.findAccessTokenForVerification(tokenChecksum('rs-access')))?.application?.allowIntrospection, true, 'joined with its token')
    t.equal((await store.updateApplication(rs.id, { name: 'renamed' }, at(1)))?.allowIntrospection, true, 'other changes keep it')
    t.equal((await store.updateApplication(rs.id, { allowIntrospection: false }, at(2)))?.allowIntrospection, false, 'withdrawn')
    t.equal((await store.findApplicationById(rs.id))?.allowIntrospection, false)
    t.equal((await store.updateApplication(plain.id, { allowIntrospection: true }, at(3)))?.allowIntrospection, true, 'granted')
  })

  t.test('REDIR-4 selfRegistered: false unless given, kept by other changes, in every lookup; host code may clear it', async (t) => {
    const { store, query } = await open(t)
    const operator = await newApplication(store, { clientId: 'operator-client', userId: 'owner' })
    t.equal(operator.selfRegistered, false, 'default, even with an owner')
    const user = await newApplication(store, { clientId: 'user-client', userId: 'owner', selfRegistered: true })
    t.equal(user.selfRegistered, true)
    t.equal((await store.findApplicationByClientId('user-client'))?.selfRegistered, true)
    t.equal((await store.findApplicationById(user.id))?.selfRegistered, true)
    t.same((await store.listApplications({ userId: 'owner' })).map((a) => [a.clientId, a.selfRegistered]), [['operator-client', false], ['user-client', true]])
    await store.issueTokens(issueOf({ applicationId: user.id, token: 'user-access' }))
    t.equal((await store.findAccessTokenForVerification(tokenChecksum('user-access')))?.application?.selfRegistered, true, 'joined with its token')
    t.equal((await store.updateApplication(user.id, { name: 'renamed', redirectUris: ['https://elsewhere.example/cb'] }, at(1)))?.selfRegistered, true, 'other changes keep it')
    t.same((await query('SELECT client_id, self_registered FROM oauth2_application ORDER BY id')).map((r) => [r.client_id, Boolean(r.self_registered)]),
      [['operator-client', false], ['user-client', true]], 'stored in its column')
    // The operator vetted the client's redirect URIs.
    t.equal((await store.updateApplication(user.id, { selfRegistered: false }, at(2)))?.selfRegistered, false, 'cleared by the operator')
    t.equal((await store.findApplicationByClientId('user-client'))?.selfRegistered, false)
  })

  t.test('findApplicationByClientId: the client\'s own row, never the stand-in an unknown client_id reads (G10)', async (t) => {
    const { store } = await open(t)
    t.equal(await store.findApplicationByClientId('anyone'), null, 'empty table: no stand-in, no match')
    const first = await newApplication(store, { clientId: 'stand-in-first' })
    const second = await newApplication(store, { clientId: 'stand-in-second' })
    t.same(await store.findApplicationByClientId('stand-in-second'), second, 'a client that is not the lowest id gets its own row')
    t.same(await store.findApplicationByClientId('stand-in-first'), first)
    t.equal(await store.findApplicationByClientId('nobody'), null, 'an unknown client_id gets null, although a row was read')
    t.equal(await store.findApplicationByClientId('STAND-IN-FIRST'), null, 'client_ids match exactly')
    await store.deleteApplication(first.id)
    t.same(await store.findApplicationByClientId('stand-in-second'), second, 'the stand-in moves on when the lowest id goes')
    t.equal(await store.findApplicationByClientId('stand-in-first'), null)
  })

  t.test('isOriginAllowed matches one list entry exactly: no wildcard, no prefix', async (t) => {
    const { store } = await open(t)
    await newApplication(store, { clientId: 'cors-1', allowedOrigins: ['https://a_b.example.com', 'https://first.example'] })
    await newApplication(store, { clientId: 'cors-2', allowedOrigins: ['https://second.example'] })
    for (const origin of ['https://a_b.example.com', 'https://first.example', 'https://second.example']) {
      t.equal(await store.isOriginAllowed(origin), true, origin)
    }
    const refused = ['https://aXb.example.com', 'https://a%.example.com', '%', '_', 'https://a_b', 'https://a_b.example.com.evil.net',
      'https://first.example https://a_b.example.com', '', ' ', 'https://first.example\n', 'https://FIRST.example']
    for (const origin of refused) t.equal(await store.isOriginAllowed(origin), false, JSON.stringify(origin))
  })

  t.test('issueTokens stores checksums only; findAccessToken looks tokens up by checksum', async (t) => {
    const h = await open(t)
    const { store } = h
    const app = await newApplication(store, { clientId: 'checksums' })
    const rows = await store.issueTokens(issueOf({ applicationId: app.id, token: 'clear-access-token', refresh: 'clear-refresh-token', family: 'fam-1', userId: 'u1', scope: 'read write' }))
    t.match(rows.accessToken, { applicationId: app.id, userId: 'u1', scope: 'read write', tokenFamily: 'fam-1', checksum: tokenChecksum('clear-access-token') })
    t.equal(rows.accessToken.expiresAt.getTime(), at(3600).getTime())
    t.match(rows.refreshToken, { accessTokenId: rows.accessToken.id, tokenFamily: 'fam-1', revokedAt: null })

    t.same(await store.findAccessToken(tokenChecksum('clear-access-token')), rows.accessToken)
    t.same(await store.findAccessTokenById(rows.accessToken.id), rows.accessToken)
    t.equal(await store.findAccessToken('clear-access-token'), null, 'the clear token is not a lookup key')
    t.same(await store.findRefreshToken(tokenChecksum('clear-refresh-token')), rows.refreshToken)
    t.same((await store.listAccessTokensForUser('u1')).map((r) => r.id), [rows.accessToken.id])

    const dump = JSON.stringify([await h.query('SELECT * FROM oauth2_accesstoken'), await h.query('SELECT * FROM oauth2_refreshtoken')])
    t.notMatch(dump, 'clear-access-token', 'no clear access token in the database')
    t.notMatch(dump, 'clear-refresh-token', 'no clear refresh token in the database')
    t.match(dump, tokenChecksum('clear-access-token'))
  })

  t.test('revokeAccessToken deletes a lone token, or revokes its whole refresh family (RFC 7009 §2.1)', async (t) => {
    const { store } = await open(t)
    const app = await newApplication(store, { clientId: 'revoke' })
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
    const { store } = await open(t)
    const app = await newApplication(store, { clientId: 'rotate' })
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

    await store.revokeTokenFamily('f', at(12))
    t.equal((await store.findRefreshToken(tokenChecksum('r0')))?.successorSealed, null, 'a revoked family hands out no sealed successor (RT-3)')
    t.equal((await store.findRefreshToken(tokenChecksum('r1')))?.revokedAt?.getTime(), at(12).getTime())
  })

  t.test('rotateRefreshToken rolls back the revocation when the insert fails', async (t) => {
    const { store } = await open(t)
    const app = await newApplication(store, { clientId: 'rollback' })
    const original = await store.issueTokens(issueOf({ applicationId: app.id, token: 'a0', refresh: 'r0', family: 'f' }))
    // Reusing a live access token's checksum violates the unique index inside the transaction.
    await store.issueTokens(issueOf({ applicationId: app.id, token: 'taken' }))
    await t.rejects(store.rotateRefreshToken(original.refreshToken?.id ?? -1, 'sealed', issueOf({ applicationId: app.id, token: 'taken', refresh: 'r1', family: 'f' })), UNIQUE_VIOLATION)
    const old = await store.findRefreshToken(tokenChecksum('r0'))
    t.equal(old?.revokedAt, null, 'the refresh token is still live')
    t.equal(old?.successorSealed, null)
    t.ok(await store.findAccessToken(tokenChecksum('a0')), 'its access token is still there')
    t.equal(await store.findRefreshToken(tokenChecksum('r1')), null)
  })

  t.test('replaceAccessToken swaps the bound access token, only while the refresh token is live', async (t) => {
    const { store } = await open(t)
    const app = await newApplication(store, { clientId: 'replace' })
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
    const { store } = await open(t)
    const app = await newApplication(store, { clientId: 'redeem', authorizationGrantType: 'authorization-code' })
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

  t.test('ID tokens: createIdToken records one by jti; an issuance records its ID token and links it, or nothing (OIDC)', async (t) => {
    const h = await open(t)
    const { store } = h
    const app = await newApplication(store, { clientId: 'idtokens', authorizationGrantType: 'authorization-code' })
    const alone = await store.createIdToken({ jti: 'jti-alone', applicationId: app.id, userId: 'u1', scope: 'openid', expiresAt: at(600) }, T0)
    t.match(alone, { jti: 'jti-alone', applicationId: app.id, userId: 'u1', scope: 'openid' })
    t.equal(alone.expiresAt.getTime(), at(600).getTime())
    t.equal(alone.createdAt.getTime(), T0.getTime())
    t.same(await store.findIdTokenByJti('jti-alone'), alone)
    t.equal(await store.findIdTokenByJti('nope'), null)
    await t.rejects(store.createIdToken({ jti: 'jti-alone', applicationId: app.id, userId: 'u2', scope: 'openid', expiresAt: at(600) }, T0), UNIQUE_VIOLATION, 'jti is unique')

    const grant = await store.createGrant(newGrant(app.id, 'oidc-code'), T0)
    const idToken = { jti: 'jti-code', applicationId: app.id, userId: 'user-1', scope: 'openid read', expiresAt: at(36000) }
    const redeemed = await store.redeemGrant(grant.id, { ...issueOf({ applicationId: app.id, token: 'oidc-a1', refresh: 'oidc-r1', grantId: grant.id, now: at(1) }), idToken })
    t.equal(redeemed.ok, true)
    const recorded = await store.findIdTokenByJti('jti-code')
    t.match(recorded, { applicationId: app.id, userId: 'user-1', scope: 'openid read' })
    t.equal(redeemed.ok && redeemed.rows.accessToken.idTokenId, recorded?.id, 'the access token refers to its ID token')

    const replay = await store.redeemGrant(grant.id, { ...issueOf({ applicationId: app.id, token: 'oidc-a2', grantId: grant.id, now: at(2) }), idToken: { ...idToken, jti: 'jti-replay' } })
    t.same(replay, { ok: false })
    t.equal(await store.findIdTokenByJti('jti-replay'), null, 'a lost race records no ID token')

    const refresh = await store.findRefreshToken(tokenChecksum('oidc-r1'))
    const rotated = await store.rotateRefreshToken(refresh?.id ?? 0, null, { ...issueOf({ applicationId: app.id, token: 'oidc-a3', refresh: 'oidc-r3', family: refresh?.tokenFamily, now: at(3) }), idToken: { ...idToken, jti: 'jti-refresh' } })
    t.equal(rotated.ok && rotated.rows.accessToken.idTokenId, (await store.findIdTokenByJti('jti-refresh'))?.id, 'rotation links the new ID token')
    t.ok(await store.findIdTokenByJti('jti-code'), 'the old ID token stays until cleartokens finds it unreferenced and expired')
  })

  t.test('OIDC columns: a refresh token keeps auth_time through issuance and rotation; an application keeps its sealed secret', async (t) => {
    const { store } = await open(t)
    const app = await newApplication(store, { clientId: 'oidc-columns', algorithm: 'HS256', clientSecretSealed: 'v1.kid.iv.ct.tag' })
    t.equal(app.clientSecretSealed, 'v1.kid.iv.ct.tag')
    t.equal((await store.findApplicationByClientId('oidc-columns'))?.clientSecretSealed, 'v1.kid.iv.ct.tag')
    t.equal((await newApplication(store, { clientId: 'oidc-columns-none' })).clientSecretSealed, '', 'none by default')
    t.equal((await store.updateApplication(app.id, { clientSecretSealed: 'v1.kid.iv2.ct2.tag2' }, at(1)))?.clientSecretSealed, 'v1.kid.iv2.ct2.tag2')
    t.equal((await store.updateApplication(app.id, { name: 'kept' }, at(2)))?.clientSecretSealed, 'v1.kid.iv2.ct2.tag2', 'other changes keep it')
    t.equal((await store.updateApplication(app.id, { algorithm: 'RS256', clientSecretSealed: '' }, at(3)))?.clientSecretSealed, '')

    const authTime = new Date(T0.getTime() - 90_123)
    const first = issueOf({ applicationId: app.id, token: 'at-a0', refresh: 'at-r0', family: 'at-f' })
    const rows = await store.issueTokens({ ...first, refreshToken: first.refreshToken === null ? null : { ...first.refreshToken, authTime } })
    t.equal(rows.refreshToken?.authTime?.getTime(), authTime.getTime(), 'milliseconds kept')
    const found = await store.findRefreshToken(tokenChecksum('at-r0'))
    t.equal(found?.authTime?.getTime(), authTime.getTime())
    const next = issueOf({ applicationId: app.id, token: 'at-a1', refresh: 'at-r1', family: 'at-f', now: at(5) })
    const rotated = await store.rotateRefreshToken(found?.id ?? 0, null, { ...next, refreshToken: next.refreshToken === null ? null : { ...next.refreshToken, authTime: found?.authTime ?? null } })
    t.equal(rotated.ok && rotated.rows.refreshToken?.authTime?.getTime(), authTime.getTime())
    await store.issueTokens(issueOf({ applicationId: app.id, token: 'at-a2', refresh: 'at-r2' }))
    t.equal((await store.findRefreshToken(tokenChecksum('at-r2')))?.authTime, null, 'unknown when not given')
  })

  t.test('a transaction failing mid-way leaves nothing half-written', async (t) => {
    const h = await open(t)
    const { store } = h
    const app = await newApplication(store, { clientId: 'half' })
    const issue = issueOf({ applicationId: app.id, token: 'half-access', refresh: 'half-refresh' })
    // The refresh token names a missing application: a foreign-key violation after the access token insert.
    const broken: TokenIssue = { ...issue, refreshToken: issue.refreshToken === null ? null : { ...issue.refreshToken, applicationId: 9999 } }
    await t.rejects(store.issueTokens(broken), FOREIGN_KEY_VIOLATION)
    t.equal(await store.findAccessToken(tokenChecksum('half-access')), null, 'the access token insert was rolled back')
    t.equal(await count(h, 'SELECT count(*) AS n FROM oauth2_accesstoken'), 0)
    t.equal(await count(h, 'SELECT count(*) AS n FROM oauth2_refreshtoken'), 0)
    t.ok(await store.issueTokens(issue), 'the connection is usable afterwards')
  })

  t.test('concurrent issuances are all-or-nothing each: one failing mid-way leaves the others stored', async (t) => {
    const h = await open(t)
    const { store } = h
    const app = await newApplication(store, { clientId: 'concurrent' })
    const issues = [0, 1, 2, 3, 4].map((i) => issueOf({ applicationId: app.id, token: `c-access-${i}`, refresh: `c-refresh-${i}` }))
    // The third one fails after its access token insert (a foreign-key violation on the refresh token).
    const third = issues[2]!
    issues[2] = { ...third, refreshToken: third.refreshToken === null ? null : { ...third.refreshToken, applicationId: 9999 } }
    const outcomes = await Promise.allSettled(issues.map(async (issue) => await store.issueTokens(issue)))
    t.same(outcomes.map((o) => o.status), ['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled'])
    for (const i of [0, 1, 3, 4]) {
      t.ok(await store.findAccessToken(tokenChecksum(`c-access-${i}`)), `issuance ${i} stored its access token`)
      t.ok(await store.findRefreshToken(tokenChecksum(`c-refresh-${i}`)), 'and its refresh token')
    }
    t.equal(await store.findAccessToken(tokenChecksum('c-access-2')), null, 'the failed issuance left no access token')
    t.equal(await count(h, 'SELECT count(*) AS n FROM oauth2_accesstoken'), 4)
    t.equal(await count(h, 'SELECT count(*) AS n FROM oauth2_refreshtoken'), 4)
  })

  t.test('two Store instances on one database see each other\'s writes at once', async (t) => {
    const h = await open(t)
    const a = h.store
    const b = await h.openAnother()
    const app = await newApplication(a, { clientId: 'shared-client' })
    t.same(await b.findApplicationByClientId('shared-client'), app)
    const rows = await b.issueTokens(issueOf({ applicationId: app.id, token: 'shared-access' }))
    t.same(await a.findAccessToken(tokenChecksum('shared-access')), rows.accessToken)
    await a.revokeAccessToken(rows.accessToken.id, at(1))
    t.equal(await b.findAccessToken(tokenChecksum('shared-access')), null, 'no cache: a revocation on one instance is seen on the other')
  })

  t.test('two Store instances racing: one of 50 code exchanges and one of 50 rotations wins (CODE-2, RT-2)', async (t) => {
    const h = await open(t)
    const stores = [h.store, await h.openAnother()] as const
    const on = (i: number): Store => stores[i % 2] as Store
    const app = await newApplication(h.store, { clientId: 'race', authorizationGrantType: 'authorization-code' })
    const grant = await h.store.createGrant(newGrant(app.id, 'race-code'), T0)
    const redeems = await Promise.all(Array.from({ length: 50 }, async (_, i) =>
      await on(i).redeemGrant(grant.id, issueOf({ applicationId: app.id, token: `code-a${i}`, refresh: `code-r${i}`, family: `code-f${i}`, grantId: grant.id, now: at(1) }))))
    t.equal(redeems.filter((r) => r.ok).length, 1, 'exactly one exchange won')
    t.equal(await count(h, 'SELECT count(*) AS n FROM oauth2_accesstoken WHERE grant_id = $1', [grant.id]), 1, 'one token set for the code')
    t.equal(await count(h, 'SELECT count(*) AS n FROM oauth2_refreshtoken'), 1)

    const original = await h.store.issueTokens(issueOf({ applicationId: app.id, token: 'rot-a', refresh: 'rot-r', family: 'rot' }))
    const rtId = original.refreshToken?.id ?? -1
    const rotations = await Promise.all(Array.from({ length: 50 }, async (_, i) =>
      await on(i).rotateRefreshToken(rtId, null, issueOf({ applicationId: app.id, token: `rot-a${i}`, refresh: `rot-r${i}`, family: 'rot', now: at(2) }))))
    t.equal(rotations.filter((r) => r.ok).length, 1, 'exactly one rotation won')
    t.equal(await count(h, 'SELECT count(*) AS n FROM oauth2_refreshtoken WHERE token_family = $1 AND revoked IS NULL', ['rot']), 1, 'one live successor')
    t.equal(await count(h, 'SELECT count(*) AS n FROM oauth2_accesstoken WHERE token_family = $1', ['rot']), 1, 'one live access token')
  })

  t.test('a family revocation racing rotations leaves nothing of the family live (RT-1, STORE-5)', async (t) => {
    const h = await open(t)
    const [a, b] = [h.store, await h.openAnother()]
    const app = await newApplication(a, { clientId: 'family-race' })
    for (let round = 0; round < 20; round++) {
      const family = `fr-${round}`
      const first = await a.issueTokens(issueOf({ applicationId: app.id, token: `${family}-a0`, refresh: `${family}-r0`, family }))
      const rtId = first.refreshToken?.id ?? -1
      await Promise.all([
        a.rotateRefreshToken(rtId, null, issueOf({ applicationId: app.id, token: `${family}-a1`, refresh: `${family}-r1`, family, now: at(1) })),
        b.revokeTokenFamily(family, at(1)),
        b.rotateRefreshToken(rtId, null, issueOf({ applicationId: app.id, token: `${family}-a2`, refresh: `${family}-r2`, family, now: at(1) })),
      ])
      const live = await count(h, 'SELECT count(*) AS n FROM oauth2_refreshtoken WHERE token_family = $1 AND revoked IS NULL', [family])
      const access = await count(h, 'SELECT count(*) AS n FROM oauth2_accesstoken WHERE token_family = $1', [family])
      if (live !== 0 || access !== 0) {
        t.fail(`round ${round}: ${live} live refresh token(s) and ${access} access token(s) survived the revocation`)
        return
      }
    }
    t.pass('20 rounds: every successor was revoked with its family')
  })

  t.test('device grants: stored by checksums; a taken user code inserts nothing (RFC 8628)', async (t) => {
    const h = await open(t)
    const app = await newApplication(h.store, { clientId: 'tv', clientType: 'public', authorizationGrantType: 'urn:ietf:params:oauth:grant-type:device_code' })
    const created = await h.store.createDeviceGrant(newDeviceGrant(app.id, 'dev-1'), T0)
    t.match(created, {
      checksum: tokenChecksum('dev-1'),
      userCodeChecksum: tokenChecksum('user-dev-1'),
      applicationId: app.id,
      userId: null,
      scope: 'read',
      resource: 'https://api.example/ https://files.example/',
      status: 'authorization-pending',
      expiresAt: at(1800),
      interval: 5,
      lastPolledAt: null,
      authTime: null,
      consumedAt: null,
      createdAt: T0,
    })
    t.same(await h.store.findDeviceGrant(tokenChecksum('dev-1')), created)
    t.same(await h.store.findDeviceGrantByUserCode(tokenChecksum('user-dev-1')), created)
    t.same(await h.store.findDeviceGrantById(created?.id ?? -1), created)
    t.equal(await h.store.findDeviceGrant(tokenChecksum('nope')), null)
    t.equal(await h.store.createDeviceGrant({ ...newDeviceGrant(app.id, 'dev-2'), userCodeChecksum: tokenChecksum('user-dev-1') }, T0), null, 'user code taken')
    t.equal(await h.store.findDeviceGrant(tokenChecksum('dev-2')), null, 'nothing inserted')
    const dump = JSON.stringify(await h.query('SELECT * FROM oauth2_devicegrant'))
    t.notMatch(dump, '"dev-1"', 'no clear device code')
    t.ok(await h.store.deleteApplication(app.id))
    t.equal(await h.store.findDeviceGrantById(created?.id ?? -1), null, 'deleted with its application')
  })

  t.test('device grants: claimed by one user only, decided once by that user, only while pending and unexpired (DEV-2)', async (t) => {
    const h = await open(t)
    const app = await newApplication(h.store, { clientId: 'tv-claim' })
    const grant = await h.store.createDeviceGrant(newDeviceGrant(app.id, 'claim'), T0)
    const id = grant?.id ?? -1
    t.match(await h.store.claimDeviceGrant(id, 'alice', at(1)), { userId: 'alice' })
    t.match(await h.store.claimDeviceGrant(id, 'alice', at(2)), { userId: 'alice' }, 'the same user may claim again')
    t.equal(await h.store.claimDeviceGrant(id, 'mallory', at(2)), null, 'another user may not')
    t.equal(await h.store.decideDeviceGrant(id, 'mallory', 'authorized', at(2), at(2)), false, 'nor decide')
    t.equal(await h.store.decideDeviceGrant(id, 'alice', 'authorized', at(1), at(3)), true)
    t.match(await h.store.findDeviceGrantById(id), { status: 'authorized', authTime: at(1) })
    t.equal(await h.store.decideDeviceGrant(id, 'alice', 'denied', at(3), at(3)), false, 'decided once')
    t.equal(await h.store.claimDeviceGrant(id, 'alice', at(4)), null, 'a decided grant cannot be claimed')

    const late = await h.store.createDeviceGrant(newDeviceGrant(app.id, 'late', at(10)), T0)
    t.equal(await h.store.claimDeviceGrant(late?.id ?? -1, 'alice', at(10)), null, 'expired: cannot be claimed')
    const racing = await h.store.createDeviceGrant(newDeviceGrant(app.id, 'race-claim'), T0)
    const other = await h.openAnother()
    const claims = await Promise.all(Array.from({ length: 10 }, async (_, i) => await (i % 2 === 0 ? h.store : other).claimDeviceGrant(racing?.id ?? -1, `user-${i}`, at(1))))
    t.equal(claims.filter((c) => c !== null).length, 1, 'ten users racing: one claim wins')
  })

  t.test('device grants: polls record their time; too fast grows the interval (RFC 8628 §3.5)', async (t) => {
    const h = await open(t)
    const app = await newApplication(h.store, { clientId: 'tv-poll' })
    const id = (await h.store.createDeviceGrant(newDeviceGrant(app.id, 'poll'), T0))?.id ?? -1
    t.same(await h.store.recordDevicePoll(id, at(0), 5), { tooFast: false, interval: 5 })
    t.same(await h.store.recordDevicePoll(id, at(1), 5), { tooFast: true, interval: 10 })
    t.same(await h.store.recordDevicePoll(id, at(11), 5), { tooFast: false, interval: 10 })
    t.match(await h.store.findDeviceGrantById(id), { lastPolledAt: at(11), interval: 10 })
    t.equal(await h.store.recordDevicePoll(999999, at(12), 5), null)
  })

  t.test('DEV-1 redeemDeviceGrant: once, only when authorized and unexpired; 20 racing polls on two instances give one token set', async (t) => {
    const h = await open(t)
    const stores = [h.store, await h.openAnother()] as const
    const app = await newApplication(h.store, { clientId: 'tv-redeem' })
    const pending = await h.store.createDeviceGrant(newDeviceGrant(app.id, 'pending'), T0)
    t.same(await h.store.redeemDeviceGrant(pending?.id ?? -1, issueOf({ applicationId: app.id, token: 'p-a', refresh: 'p-r', now: at(1) })), { ok: false }, 'pending: not redeemable')
    const denied = await h.store.createDeviceGrant(newDeviceGrant(app.id, 'denied'), T0)
    await h.store.claimDeviceGrant(denied?.id ?? -1, 'alice', at(1))
    await h.store.decideDeviceGrant(denied?.id ?? -1, 'alice', 'denied', at(1), at(1))
    t.same(await h.store.redeemDeviceGrant(denied?.id ?? -1, issueOf({ applicationId: app.id, token: 'd-a', refresh: 'd-r', now: at(2) })), { ok: false }, 'denied')
    const expired = await h.store.createDeviceGrant(newDeviceGrant(app.id, 'expired', at(5)), T0)
    await h.store.claimDeviceGrant(expired?.id ?? -1, 'alice', at(1))
    await h.store.decideDeviceGrant(expired?.id ?? -1, 'alice', 'authorized', at(1), at(1))
    t.same(await h.store.redeemDeviceGrant(expired?.id ?? -1, issueOf({ applicationId: app.id, token: 'e-a', refresh: 'e-r', now: at(5) })), { ok: false }, 'expired')
    t.equal(await count(h, 'SELECT count(*) AS n FROM oauth2_accesstoken'), 0, 'nothing issued')

    const grant = await h.store.createDeviceGrant(newDeviceGrant(app.id, 'approved'), T0)
    const id = grant?.id ?? -1
    await h.store.claimDeviceGrant(id, 'alice', at(1))
    await h.store.decideDeviceGrant(id, 'alice', 'authorized', at(1), at(1))
    const results = await Promise.all(Array.from({ length: 20 }, async (_, i) =>
      await (stores[i % 2] as Store).redeemDeviceGrant(id, issueOf({ applicationId: app.id, token: `dev-a${i}`, refresh: `dev-r${i}`, family: `dev-f${i}`, userId: 'alice', now: at(2) }))))
    t.equal(results.filter((r) => r.ok).length, 1, 'exactly one poll won')
    t.equal(await count(h, 'SELECT count(*) AS n FROM oauth2_accesstoken'), 1, 'one access token')
    t.equal(await count(h, 'SELECT count(*) AS n FROM oauth2_refreshtoken'), 1, 'one refresh token')
    t.match(await h.store.findDeviceGrantById(id), { consumedAt: at(2) })
  })

  t.test('deleteExpiredCimdApplications: stale document clients without live tokens, codes or device authorizations, in batches', async (t) => {
    const { store } = await open(t)
    const events: StoreInvalidation[] = []
    t.teardown(store.watchInvalidations((event) => { events.push(event) }))
    // PostgreSQL: its listener reports `all` once it is up; wait for that before counting.
    await eventually(() => store.invalidationsReliable())
    const cimd = async (name: string, expiresAt: Date): Promise<Application> =>
      await newApplication(store, { clientId: `https://${name}.example/client.json`, clientType: 'public', clientSecretHash: '', selfRegistered: true, cimdExpiresAt: expiresAt })
    const ordinary = await newApplication(store, { clientId: 'ordinary-app' })
    const fresh = await cimd('fresh', at(5000))
    const bare = await cimd('bare', at(100))
    const bare2 = await cimd('bare2', at(100))
    const withToken = await cimd('token', at(100))
    await store.issueTokens(issueOf({ applicationId: withToken.id, token: 'cimd-live', expiresAt: at(3600) }))
    const withRefresh = await cimd('refresh', at(100))
    await store.issueTokens(issueOf({ applicationId: withRefresh.id, token: 'cimd-old', refresh: 'cimd-r', expiresAt: at(200) }))
    const withCode = await cimd('code', at(100))
    await store.createGrant(newGrant(withCode.id, 'cimd-code', at(3600)), T0)
    const withDevice = await cimd('device', at(100))
    await store.createDeviceGrant(newDeviceGrant(withDevice.id, 'cimd-device', at(3600)), T0)
    const expiredOnly = await cimd('expired-only', at(100))
    await store.issueTokens(issueOf({ applicationId: expiredOnly.id, token: 'cimd-expired', expiresAt: at(200) }))
    await store.createGrant(newGrant(expiredOnly.id, 'cimd-old-code', at(200)), T0)

    t.equal(await store.deleteExpiredCimdApplications(at(50), 10), 0, 'nothing is stale before its expiry')
    events.length = 0
    t.equal(await store.deleteExpiredCimdApplications(at(1000), 2), 2, 'a batch deletes at most its size')
    t.equal(await store.deleteExpiredCimdApplications(at(1000), 2), 1, 'then the rest')
    t.equal(await store.deleteExpiredCimdApplications(at(1000), 2), 0)
    t.same(events.map((e) => e.kind === 'application' ? e.applicationId : -1).sort((x, y) => x - y), [bare.id, bare2.id, expiredOnly.id].sort((x, y) => x - y), 'each deletion reported as an application change')
    const left = (await store.listApplications()).map((a) => a.clientId).sort()
    t.same(left, [ordinary, fresh, withToken, withRefresh, withCode, withDevice].map((a) => a.clientId).sort(), 'clients with live tokens, codes or device authorizations stay')
    t.equal(await store.findAccessToken(tokenChecksum('cimd-expired')), null, 'the expired rows went with their client')
  })

  t.test('cleartokens deletes expired device grants', async (t) => {
    const { store, clock, clear } = await cleartokensFixture(t)
    const app = await newApplication(store, { clientId: 'tv-clear' })
    await store.createDeviceGrant(newDeviceGrant(app.id, 'old', at(100)), T0)
    await store.createDeviceGrant(newDeviceGrant(app.id, 'new', at(5000)), T0)
    clock.set(at(1000).toISOString())
    t.match((await clear()).counts, { deviceGrants: 1 })
    t.equal(await store.findDeviceGrant(tokenChecksum('old')), null)
    t.ok(await store.findDeviceGrant(tokenChecksum('new')))
  })

  t.test('useOnce: the first use of a key wins, a replay is refused until it expires, racing uses on two instances let one through', async (t) => {
    const h = await open(t)
    const stores = [h.store, await h.openAnother()] as const
    t.equal(await h.store.useOnce('dpop', 'jkt-1 jti-1', at(60), T0), true, 'first use')
    t.equal(await h.store.useOnce('dpop', 'jkt-1 jti-1', at(60), at(30)), false, 'replay while live')
    t.equal(await h.store.useOnce('client_assertion', 'jkt-1 jti-1', at(60), at(30)), true, 'kinds are separate namespaces')
    t.equal(await h.store.useOnce('dpop', 'jkt-1 jti-1', at(200), at(60)), true, 'expired at now: may be used again')
    t.equal(await h.store.useOnce('dpop', 'jkt-1 jti-1', at(200), at(100)), false, 'and is then live again')
    const long = 'x'.repeat(10_000)
    t.equal(await h.store.useOnce('request_object', long, at(60), T0), true, 'a long key is stored by checksum')
    t.equal(await h.store.useOnce('request_object', long, at(60), T0), false)
    const results = await Promise.all(Array.from({ length: 20 }, async (_, i) =>
      await (stores[i % 2] as Store).useOnce('dpop', 'raced', at(60), T0)))
    t.equal(results.filter((r) => r).length, 1, 'exactly one of 20 racing uses')
    t.equal(await count(h, 'SELECT count(*) AS n FROM oauth2_used_jti WHERE key_checksum = \'raced\''), 0, 'the key itself is not stored')
  })

  t.test('cleartokens deletes expired single-use records', async (t) => {
    const { h, store, clock, clear } = await cleartokensFixture(t)
    await store.useOnce('dpop', 'old', at(100), T0)
    await store.useOnce('dpop', 'new', at(5000), T0)
    clock.set(at(1000).toISOString())
    const { counts } = await clear() as { counts: { usedJtis: number } }
    t.ok(counts.usedJtis >= 1, 'the expired one is counted (the harness may share its database with earlier tests)')
    t.equal(await store.useOnce('dpop', 'new', at(6000), at(1000)), false, 'the live one is kept')
    t.equal(await store.useOnce('dpop', 'old', at(6000), at(1000)), true)
    t.equal(await count(h, 'SELECT count(*) AS n FROM oauth2_used_jti WHERE expires < $1', [h.time(at(1000))]), 0, 'no expired row is left')
  })

  t.test('sender-constraint and client-key fields round-trip on applications, codes and tokens', async (t) => {
    const h = await open(t)
    const plain = await newApplication(h.store, { clientId: 'keys-default' })
    t.match(plain, { jwks: '', jwksUri: '', tokenEndpointAuthSigningAlg: '', dpopBoundAccessTokens: false, requireSignedRequestObject: false, requestObjectSigningAlg: '' })
    const jwks = JSON.stringify({ keys: [{ kty: 'EC', crv: 'P-256', x: 'x', y: 'y' }] })
    const app = await newApplication(h.store, {
      clientId: 'keys', jwks, tokenEndpointAuthSigningAlg: 'ES256', dpopBoundAccessTokens: true, requireSignedRequestObject: true, requestObjectSigningAlg: 'PS256',
    })
    t.match(await h.store.findApplicationByClientId('keys'), { jwks, tokenEndpointAuthSigningAlg: 'ES256', dpopBoundAccessTokens: true, requireSignedRequestObject: true, requestObjectSigningAlg: 'PS256' })
    const updated = await h.store.updateApplication(app.id, { jwks: '', jwksUri: 'https://client.example/jwks', dpopBoundAccessTokens: false }, at(1))
    t.match(updated, { jwks: '', jwksUri: 'https://client.example/jwks', dpopBoundAccessTokens: false, requireSignedRequestObject: true })
    const grant = await h.store.createGrant({ ...newGrant(app.id, 'bound-code', at(60)), dpopJkt: 'thumb-1' }, T0)
    t.equal((await h.store.findGrant(grant.checksum))?.dpopJkt, 'thumb-1')
    t.equal((await h.store.createGrant(newGrant(app.id, 'unbound-code', at(60)), T0)).dpopJkt, '')
    const base = issueOf({ applicationId: app.id, token: 'bound-a', refresh: 'bound-r', now: T0 })
    const rows = await h.store.issueTokens({ ...base, accessToken: { ...base.accessToken, jkt: 'thumb-1' }, refreshToken: base.refreshToken === null ? null : { ...base.refreshToken, jkt: 'thumb-1' } })
    t.equal(rows.accessToken.jkt, 'thumb-1')
    t.equal(rows.refreshToken?.jkt, 'thumb-1')
    t.equal((await h.store.findAccessTokenForVerification(tokenChecksum('bound-a')))?.token.jkt, 'thumb-1')
    t.equal((await h.store.findRefreshToken(tokenChecksum('bound-r')))?.jkt, 'thumb-1')
    t.equal((await h.store.issueTokens(issueOf({ applicationId: app.id, token: 'bearer-a', now: T0 }))).accessToken.jkt, '', 'unbound by default')
  })

  t.test('userinfoSignedResponseAlg round-trips: plain JSON by default, set at creation, changed and cleared by updates', async (t) => {
    const h = await open(t)
    t.equal((await newApplication(h.store, { clientId: 'userinfo-default' })).userinfoSignedResponseAlg, '')
    const app = await newApplication(h.store, { clientId: 'userinfo-signed', userinfoSignedResponseAlg: 'ES256' })
    t.equal((await h.store.findApplicationByClientId('userinfo-signed'))?.userinfoSignedResponseAlg, 'ES256')
    t.equal((await h.store.updateApplication(app.id, { name: 'other field' }, at(1)))?.userinfoSignedResponseAlg, 'ES256', 'kept when not given')
    t.equal((await h.store.updateApplication(app.id, { userinfoSignedResponseAlg: 'EdDSA' }, at(2)))?.userinfoSignedResponseAlg, 'EdDSA')
    t.equal((await h.store.updateApplication(app.id, { userinfoSignedResponseAlg: '' }, at(3)))?.userinfoSignedResponseAlg, '')
  })

  /** A clock, a harness and DOT's cleartokens over its store. */
  async function cleartokensFixture (t: Test, settings: SettingsInput = {}): Promise<{ h: StoreHarness, store: Store, clock: FixedClock, clear: () => Promise<{ counts: unknown, batches: number }> }> {
    const h = await open(t)
    const clock = fixedClock(T0.toISOString())
    const server = createOAuthServer({ store: h.store, clock, settings, hasher: testHasher })
    return {
      h,
      store: h.store,
      clock,
      clear: async () => {
        let batches = 0
        const counts = await server.clearExpiredTokens({ onBatch: () => { batches++ } })
        return { counts, batches }
      },
    }
  }

  async function insertIdToken (h: StoreHarness, applicationId: number, jti: string, expiresAt: Date): Promise<number> {
    const [row] = await h.query('INSERT INTO oauth2_idtoken (jti, application_id, user_id, scope, expires, created, updated) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id',
      [jti, applicationId, 'u1', 'openid', h.time(expiresAt), h.time(T0), h.time(T0)])
    return Number(row?.id)
  }

  t.test('cleartokens deletes expired access tokens, codes and unreferenced ID tokens, in batches', async (t) => {
    const { h, store, clock, clear } = await cleartokensFixture(t, { clearExpiredTokensBatchSize: 2 })
    const app = await newApplication(store, { clientId: 'clear' })
    for (let i = 0; i < 5; i++) await store.issueTokens(issueOf({ applicationId: app.id, token: `expired-${i}`, expiresAt: at(100) }))
    await store.issueTokens(issueOf({ applicationId: app.id, token: 'live', expiresAt: at(10_000) }))
    await store.issueTokens(issueOf({ applicationId: app.id, token: 'boundary', expiresAt: at(1000) }))
    const expiredGrant = await store.createGrant(newGrant(app.id, 'old-code', at(60)), T0)
    const liveGrant = await store.createGrant(newGrant(app.id, 'new-code', at(5000)), T0)
    await store.redeemGrant(expiredGrant.id, issueOf({ applicationId: app.id, token: 'from-code', grantId: expiredGrant.id, expiresAt: at(10_000) }))
    const orphanId = await insertIdToken(h, app.id, 'jti-orphan', at(100))
    const referencedId = await insertIdToken(h, app.id, 'jti-referenced', at(100))
    const liveId = await insertIdToken(h, app.id, 'jti-live', at(10_000))
    await h.query('UPDATE oauth2_accesstoken SET id_token_id = $1 WHERE token_checksum = $2', [referencedId, tokenChecksum('live')])

    clock.set(at(1000).toISOString())
    const { counts, batches } = await clear()
    t.same(counts, { accessTokens: 5, refreshTokens: 0, grants: 1, idTokens: 1, deviceGrants: 0, usedJtis: 0, sessions: 0 })
    t.equal(batches, 2, 'five rows in batches of two: two pauses between three batches')
    for (let i = 0; i < 5; i++) t.equal(await store.findAccessToken(tokenChecksum(`expired-${i}`)), null)
    t.ok(await store.findAccessToken(tokenChecksum('live')))
    t.ok(await store.findAccessToken(tokenChecksum('boundary')), 'expires exactly now: not yet cleared (expires < now)')
    t.ok(await store.findAccessToken(tokenChecksum('from-code')), 'a code\'s live token survives the code')
    t.equal(await store.findGrant(expiredGrant.checksum), null)
    t.ok(await store.findGrant(liveGrant.checksum))
    const ids = (await h.query('SELECT id FROM oauth2_idtoken ORDER BY id')).map((r) => Number(r.id))
    t.same(ids, [referencedId, liveId], 'an expired ID token an access token still refers to is kept')
    t.notOk(ids.includes(orphanId))

    t.same((await clear()).counts, { accessTokens: 0, refreshTokens: 0, grants: 0, idTokens: 0, deviceGrants: 0, usedJtis: 0, sessions: 0 }, 'idempotent')
  })

  t.test('cleartokens with reuse protection keeps revoked refresh tokens until they idle-expire', async (t) => {
    const { store, clock, clear } = await cleartokensFixture(t, { refreshTokenExpireSeconds: 1000 })
    const app = await newApplication(store, { clientId: 'clear-reuse' })
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
    const { store, clock, clear } = await cleartokensFixture(t, { refreshTokenReuseProtection: false, refreshTokenGracePeriodSeconds: 100 })
    const app = await newApplication(store, { clientId: 'clear-grace' })
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
    const { store } = await open(t)
    const clock = fixedClock(T0.toISOString())
    // The plugin over this dialect's store (`database: undefined` overrides buildApp's SQLite file).
    const app = await buildApp(t, passwordGrantOptions({ clock, settings: { accessTokenExpireSeconds: 60 }, database: undefined, store }))
    const tokens = await passwordTokens(app)
    clock.advance(120)
    t.match(await app.oauth.clearExpiredTokens(), { accessTokens: 1, refreshTokens: 0 })
    const res = await postToken(app, { grant_type: 'refresh_token', refresh_token: tokens.refreshToken }, { authorization: basicAuth(tokens.clientId, tokens.clientSecret) })
    t.equal(res.statusCode, 200)
  })

  t.test('findAccessTokenForVerification returns the token joined with its application, in one lookup', async (t) => {
    const { store } = await open(t)
    const app = await newApplication(store, { clientId: 'joined', name: 'Joined' })
    const rows = await store.issueTokens(issueOf({ applicationId: app.id, token: 'joined-access', scope: 'read write' }))
    t.same(await store.findAccessTokenForVerification(tokenChecksum('joined-access')), { token: rows.accessToken, application: app })
    t.equal(await store.findAccessTokenForVerification(tokenChecksum('unknown')), null)
  })

  t.test('every removal of access tokens and every application change is reported before the method resolves (invalidation rule)', async (t) => {
    const { store } = await open(t)
    const events: StoreInvalidation[] = []
    t.teardown(store.watchInvalidations((event) => { events.push(event) }))
    // PostgreSQL: its listener reports `all` once it is up; wait for that before counting.
    await eventually(() => store.invalidationsReliable())
    /** What `action` reported, in order, the moment it resolved. */
    const during = async (action: () => Promise<unknown>): Promise<StoreInvalidation[]> => {
      events.length = 0
      await action()
      return [...events]
    }
    const removed = (...tokens: string[]): StoreInvalidation[] => tokens.length === 0 ? [] : [{ kind: 'tokens', checksums: tokens.map(tokenChecksum) }]
    const app = await newApplication(store, { clientId: 'inv' })
    const lone = await store.issueTokens(issueOf({ applicationId: app.id, token: 'lone' }))
    t.same(await during(async () => { await store.revokeAccessToken(lone.accessToken.id, at(1)) }), removed('lone'), 'revokeAccessToken, a lone token')

    const fam = await store.issueTokens(issueOf({ applicationId: app.id, token: 'fam-a', refresh: 'fam-r' }))
    t.same(await during(async () => { await store.revokeAccessToken(fam.accessToken.id, at(1)) }), removed('fam-a'), 'revokeAccessToken, a family')

    await store.issueTokens(issueOf({ applicationId: app.id, token: 'fam2-a', refresh: 'fam2-r', family: 'fam2' }))
    t.same(await during(async () => { await store.revokeTokenFamily('fam2', at(1)) }), removed('fam2-a'), 'revokeTokenFamily')

    const rot = await store.issueTokens(issueOf({ applicationId: app.id, token: 'rot-a1', refresh: 'rot-r1', family: 'rot' }))
    t.same(await during(async () => await store.rotateRefreshToken(rot.refreshToken?.id ?? 0, null, issueOf({ applicationId: app.id, token: 'rot-a2', refresh: 'rot-r2', family: 'rot', now: at(2) }))),
      removed('rot-a1'), 'rotateRefreshToken: the old access token')
    const rotated = await store.findRefreshToken(tokenChecksum('rot-r2'))
    t.same(await during(async () => await store.replaceAccessToken(rotated?.id ?? 0, issueOf({ applicationId: app.id, token: 'rot-a3', family: 'rot', now: at(3) }))),
      removed('rot-a2'), 'replaceAccessToken: the replaced access token')

    const grant = await store.createGrant(newGrant(app.id, 'inv-code'), T0)
    await store.redeemGrant(grant.id, issueOf({ applicationId: app.id, token: 'code-a', refresh: 'code-r', family: 'code-fam', grantId: grant.id }))
    t.same(await during(async () => { await store.revokeGrantTokens(grant.id, at(4)) }), removed('code-a'), 'revokeGrantTokens')

    t.same(await during(async () => await store.issueTokens(issueOf({ applicationId: app.id, token: 'quiet' }))), [], 'an issuance removes nothing')
    t.same(await during(async () => await store.findAccessTokenForVerification(tokenChecksum('quiet'))), [], 'nor does a lookup')

    t.same(await during(async () => await store.updateApplication(app.id, { name: 'Renamed' }, at(5))), [{ kind: 'application', applicationId: app.id }], 'updateApplication')
    t.same(await during(async () => await store.clearExpired({ now: at(6), revokedBefore: null, refreshCreatedBefore: null, batchSize: 10 })),
      [{ kind: 'expired', before: at(6) }], 'clearExpired')
    t.same(await during(async () => await store.deleteApplication(app.id)), [{ kind: 'application', applicationId: app.id }], 'deleteApplication (its tokens go by cascade)')
    t.ok(store.invalidationsReliable() || true, 'callable at any time')
  })

  t.test('another Store on the same database learns of this one\'s removals (cross-process invalidation)', async (t) => {
    const h = await open(t)
    const b = await h.openAnother()
    const events: StoreInvalidation[] = []
    t.teardown(b.watchInvalidations((event) => { events.push(event) }))
    // PostgreSQL: B listens once its LISTEN connection is up; SQLite: at once.
    await eventually(() => b.invalidationsReliable())
    t.ok(b.invalidationsReliable(), 'B can hear other instances')
    const app = await newApplication(h.store, { clientId: 'cross' })
    const rows = await h.store.issueTokens(issueOf({ applicationId: app.id, token: 'cross-a' }))
    b.invalidationsReliable()
    events.length = 0
    await h.store.revokeAccessToken(rows.accessToken.id, at(1))
    const heard = (): boolean => events.some((e) => e.kind === 'all' || (e.kind === 'tokens' && e.checksums.includes(tokenChecksum('cross-a'))))
    // SQLite hears at the next check (PRAGMA data_version); PostgreSQL when the NOTIFY arrives.
    await eventually(() => b.invalidationsReliable() && heard())
    t.ok(heard(), `B heard the revocation: ${JSON.stringify(events)}`)
  })

  // user sessions and back-channel logout (OpenID Connect Back-Channel Logout 1.0)

  let sids = 0
  const session = (key: string, userId = 'user-1', expiresAt = at(3600)): NewSession =>
    ({ sid: `sid-${key}-${userId}-${++sids}`, keyChecksum: tokenChecksum(key), userId, authTime: T0, expiresAt })

  t.test('touchSession starts a session or slides the same user\'s live one; another user or an expired one is refused', async (t) => {
    const h = await open(t)
    const app = await newApplication(h.store, { clientId: 'rp-a', authorizationGrantType: 'authorization-code' })
    const other = await newApplication(h.store, { clientId: 'rp-b', authorizationGrantType: 'authorization-code' })
    const first = await h.store.touchSession(session('host-1'), app.id, T0)
    t.match(first, { sid: /^sid-host-1-user-1-/, userId: 'user-1', expiresAt: at(3600), endedAt: null })
    const slid = await h.store.touchSession({ ...session('host-1', 'user-1', at(7200)), sid: 'ignored' }, other.id, at(10))
    t.equal(slid?.id, first?.id, 'the same row')
    t.equal(slid?.sid, first?.sid, 'its sid stays')
    t.same(slid?.expiresAt, at(7200), 'slid forward')
    t.equal(await count(h, 'SELECT count(*) AS n FROM oauth2_session_client WHERE session_id = $1', [first?.id]), 2, 'both applications recorded once each')
    await h.store.touchSession(session('host-1'), app.id, at(11))
    t.equal(await count(h, 'SELECT count(*) AS n FROM oauth2_session_client'), 2, 'no duplicate link')
    t.equal(await h.store.touchSession(session('host-1', 'user-2'), app.id, at(12)), null, 'another user under the same host session id')
    t.equal(await h.store.touchSession(session('host-1'), app.id, at(8000)), null, 'expired')
    t.equal(await count(h, 'SELECT count(*) AS n FROM oauth2_session WHERE session_key_checksum = $1', [tokenChecksum('host-1')]), 1)
    t.equal(await count(h, 'SELECT count(*) AS n FROM oauth2_session WHERE session_key_checksum = $1', ['host-1']), 0, 'the host session id is never stored in clear')
  })

  t.test('endSessions: once, queues one delivery per back-channel client, revokes the families without offline_access (and reports them)', async (t) => {
    const h = await open(t)
    const withUri = await newApplication(h.store, { clientId: 'rp-bcl', authorizationGrantType: 'authorization-code', backchannelLogoutUri: 'https://rp.example/bcl' })
    const without = await newApplication(h.store, { clientId: 'rp-plain', authorizationGrantType: 'authorization-code' })
    const s1 = await h.store.touchSession(session('host-e'), withUri.id, T0)
    await h.store.touchSession(session('host-e'), without.id, T0)
    const online = issueOf({ applicationId: withUri.id, token: 'on-a', refresh: 'on-r', userId: 'user-1', scope: 'openid' })
    const offline = issueOf({ applicationId: withUri.id, token: 'off-a', refresh: 'off-r', userId: 'user-1', scope: 'openid offline_access' })
    const attach = (i: TokenIssue): TokenIssue => ({ ...i, refreshToken: i.refreshToken === null ? null : { ...i.refreshToken, sessionId: s1?.id ?? null } })
    const onRows = await h.store.issueTokens(attach(online))
    await h.store.issueTokens(attach(offline))
    t.equal(onRows.refreshToken?.sessionId, s1?.id, 'the family carries its session')
    const heard: StoreInvalidation[] = []
    t.teardown(h.store.watchInvalidations((e) => { heard.push(e) }))
    const [ended, ...more] = await h.store.endSessions({ keyChecksum: tokenChecksum('host-e'), userId: 'user-1' }, at(5))
    t.equal(more.length, 0)
    t.match(ended, { session: { id: s1?.id, endedAt: at(5) }, deliveries: 1, revokedFamilies: 1 })
    t.equal(await h.store.findAccessToken(tokenChecksum('on-a')), null, 'the online family\'s access token is gone')
    t.ok(await h.store.findAccessToken(tokenChecksum('off-a')), 'offline_access is kept (§2.7)')
    t.ok(heard.some((e) => e.kind === 'all' || (e.kind === 'tokens' && e.checksums.includes(tokenChecksum('on-a')))), 'the revocation is reported')
    t.same(await h.store.endSessions({ id: s1?.id ?? 0 }, at(6)), [], 'ending twice ends nothing')
    t.equal(await count(h, 'SELECT count(*) AS n FROM oauth2_logout_delivery'), 1)
    t.equal(await count(h, 'SELECT count(*) AS n FROM oauth2_session WHERE session_key_checksum IS NOT NULL'), 0, 'the checksum is dropped at the end')
    const again = await h.store.touchSession(session('host-e'), withUri.id, at(7))
    t.not(again?.id, s1?.id, 'a new login under the same host session id is a new session')
  })

  t.test('endSessions lists the families it revoked when asked (ids and client id, never a checksum), one entry per family', async (t) => {
    const h = await open(t)
    const rp = await newApplication(h.store, { clientId: 'rp-list', authorizationGrantType: 'authorization-code' })
    const other = await newApplication(h.store, { clientId: 'rp-list-2', authorizationGrantType: 'authorization-code' })
    const s1 = await h.store.touchSession(session('host-l1'), rp.id, T0)
    await h.store.touchSession(session('host-l1'), other.id, T0)
    const s2 = await h.store.touchSession(session('host-l2'), rp.id, T0)
    const inSession = (sessionId: number | undefined, o: IssueOptions): TokenIssue => {
      const i = issueOf(o)
      return { ...i, refreshToken: i.refreshToken === null ? null : { ...i.refreshToken, sessionId: sessionId ?? null } }
    }
    // One family with two live refresh tokens (reported once, at the newest), one of another client,
    // one with offline_access (kept), one already revoked (not this end's doing).
    await h.store.issueTokens(inSession(s1?.id, { applicationId: rp.id, token: 'l-a1', refresh: 'l-r1', family: 'fam-l', userId: 'user-1', scope: 'openid' }))
    const newest = await h.store.issueTokens(inSession(s1?.id, { applicationId: rp.id, token: 'l-a2', refresh: 'l-r2', family: 'fam-l', userId: 'user-1', scope: 'openid' }))
    const theirs = await h.store.issueTokens(inSession(s1?.id, { applicationId: other.id, token: 'l-a3', refresh: 'l-r3', userId: 'user-1', scope: 'openid profile' }))
    await h.store.issueTokens(inSession(s1?.id, { applicationId: rp.id, token: 'l-a4', refresh: 'l-r4', userId: 'user-1', scope: 'openid offline_access' }))
    const gone = await h.store.issueTokens(inSession(s1?.id, { applicationId: rp.id, token: 'l-a5', refresh: 'l-r5', userId: 'user-1', scope: 'openid' }))
    await h.store.revokeTokenFamily(gone.refreshToken?.tokenFamily ?? '', at(1))
    await h.store.issueTokens(inSession(s2?.id, { applicationId: rp.id, token: 'l-a6', refresh: 'l-r6', userId: 'user-1', scope: 'openid' }))

    const [ended, ...more] = await h.store.endSessions({ id: s1?.id ?? 0 }, at(5), { listFamilies: true })
    t.equal(more.length, 0)
    t.equal(ended?.revokedFamilies, 2)
    const byRefreshId = (a: { refreshToken: { id: number } }, b: { refreshToken: { id: number } }): number => a.refreshToken.id - b.refreshToken.id
    t.same([...ended?.families ?? []].sort(byRefreshId), [
      { refreshToken: { id: newest.refreshToken?.id, applicationId: rp.id, userId: 'user-1', accessTokenId: newest.accessToken.id }, clientId: 'rp-list' },
      { refreshToken: { id: theirs.refreshToken?.id, applicationId: other.id, userId: 'user-1', accessTokenId: theirs.accessToken.id }, clientId: 'rp-list-2' },
    ], 'exactly these fields: ids and the client id, no token nor checksum')
    t.equal(await h.store.findAccessToken(tokenChecksum('l-a2')), null, 'the access tokens of a listed family went with it')
    t.equal(await h.store.findAccessToken(tokenChecksum('l-a3')), null)
    t.ok(await h.store.findRefreshToken(tokenChecksum('l-r4')).then((r) => r?.revokedAt === null), 'offline_access is kept and not listed')
    t.same((await h.store.findRefreshToken(tokenChecksum('l-r5')))?.revokedAt, at(1), 'the family revoked before keeps its own revocation')

    const [plain] = await h.store.endSessions({ id: s2?.id ?? 0 }, at(6))
    t.match(plain, { revokedFamilies: 1, families: [] }, 'not asked: counted, not listed')
    t.equal(await h.store.findAccessToken(tokenChecksum('l-a6')), null, 'and revoked all the same')
  })

  t.test('endSessions racing the revocation of its families on another instance: a family is listed only by the transaction that revoked it', async (t) => {
    const h = await open(t)
    const b = await h.openAnother()
    const rp = await newApplication(h.store, { clientId: 'rp-race-fam', authorizationGrantType: 'authorization-code' })
    const s = await h.store.touchSession(session('host-race-fam'), rp.id, T0)
    const families: string[] = []
    for (let i = 0; i < 32; i++) {
      const issue = issueOf({ applicationId: rp.id, token: `rf-a${i}`, refresh: `rf-r${i}`, userId: 'user-1', scope: 'openid' })
      const rows = await h.store.issueTokens({ ...issue, refreshToken: issue.refreshToken === null ? null : { ...issue.refreshToken, sessionId: s?.id ?? null } })
      families.push(rows.refreshToken?.tokenFamily ?? '')
    }
    // The end revokes the families in the order it reads them; the other instance revokes from
    // the last one back, one after another, so the two meet on some family mid-way (on
    // PostgreSQL: after the end read it as live, before it took the family's lock).
    const revokeFromTheEnd = async (): Promise<void> => { for (const family of [...families].reverse().slice(0, 24)) await b.revokeTokenFamily(family, at(7)) }
    const [ends] = await Promise.all([h.store.endSessions({ id: s?.id ?? 0 }, at(5), { listFamilies: true }), revokeFromTheEnd()])
    const [ended] = ends
    t.equal(ended?.families.length, ended?.revokedFamilies, 'the count and the list agree')
    for (const f of ended?.families ?? []) {
      t.same((await h.store.findRefreshTokenById(f.refreshToken.id))?.revokedAt, at(5), `family of refresh token ${f.refreshToken.id}: revoked by the end that listed it`)
    }
    const revokedAt = await Promise.all(families.map(async (_, i) => (await h.store.findRefreshToken(tokenChecksum(`rf-r${i}`)))?.revokedAt?.getTime()))
    t.equal(revokedAt.filter((time) => time === at(5).getTime()).length, ended?.revokedFamilies, 'every family the end revoked is listed, once')
    t.ok(revokedAt.every((time) => time === at(5).getTime() || time === at(7).getTime()), 'every family was revoked by one or the other')
  })

  t.test('endSessions: racing ends on two instances end a session once and queue its deliveries once', async (t) => {
    const h = await open(t)
    const b = await h.openAnother()
    const app = await newApplication(h.store, { clientId: 'rp-race', authorizationGrantType: 'authorization-code', backchannelLogoutUri: 'https://rp.example/bcl' })
    const s = await h.store.touchSession(session('host-race'), app.id, T0)
    const results = await Promise.all(Array.from({ length: 10 }, async (_, i) => await (i % 2 === 0 ? h.store : b).endSessions({ sid: s?.sid ?? '' }, at(1))))
    t.equal(results.flat().length, 1, 'one end')
    t.equal(await count(h, 'SELECT count(*) AS n FROM oauth2_logout_delivery'), 1, 'one delivery')
  })

  t.test('claimLogoutDeliveries: due rows only, each to one claimer; reschedule and delete', async (t) => {
    const h = await open(t)
    const b = await h.openAnother()
    const app = await newApplication(h.store, { clientId: 'rp-claim', authorizationGrantType: 'authorization-code', backchannelLogoutUri: 'https://rp.example/bcl' })
    for (let i = 0; i < 6; i++) {
      await h.store.touchSession(session(`host-c${i}`), app.id, T0)
      await h.store.endSessions({ keyChecksum: tokenChecksum(`host-c${i}`) }, at(1))
    }
    t.same(await h.store.claimLogoutDeliveries(T0, at(60), 10), [], 'nothing is due before it was queued')
    const claims = await Promise.all(Array.from({ length: 6 }, async (_, i) => await (i % 2 === 0 ? h.store : b).claimLogoutDeliveries(at(2), at(60), 2)))
    const ids = claims.flat().map((d) => d.id)
    t.equal(ids.length, 6, 'every due row claimed')
    t.equal(new Set(ids).size, 6, 'none twice')
    t.ok(claims.flat().every((d) => d.attempts === 1 && d.nextAttemptAt.getTime() === at(60).getTime()), 'leased and counted')
    t.same(await h.store.claimLogoutDeliveries(at(30), at(90), 10), [], 'leased rows are not due')
    const [first, second] = claims.flat()
    await h.store.rescheduleLogoutDelivery(first?.id ?? 0, at(40), 'status 503')
    await h.store.deleteLogoutDelivery(second?.id ?? 0)
    const retried = await h.store.claimLogoutDeliveries(at(45), at(100), 10)
    t.match(retried, [{ id: first?.id, attempts: 2, lastError: 'status 503', userId: 'user-1' }])
    t.equal(await count(h, 'SELECT count(*) AS n FROM oauth2_logout_delivery'), 5)
  })

  t.test('cleartokens ends expired sessions (queuing their logout tokens) and deletes ended ones', async (t) => {
    const { h, store, clock, clear } = await cleartokensFixture(t, { oidcSessionExpireSeconds: 60 })
    const app = await newApplication(store, { clientId: 'rp-exp', authorizationGrantType: 'authorization-code', backchannelLogoutUri: 'https://rp.example/bcl' })
    await store.touchSession(session('host-old', 'user-1', at(100)), app.id, T0)
    await store.touchSession(session('host-new', 'user-1', at(5000)), app.id, T0)
    clock.set(at(1000).toISOString())
    t.match((await clear()).counts, { sessions: 1 })
    t.equal(await count(h, 'SELECT count(*) AS n FROM oauth2_session'), 1, 'the live one stays')
    t.equal(await count(h, 'SELECT count(*) AS n FROM oauth2_logout_delivery'), 1, 'the expired one\'s RP is told')
    t.match((await clear()).counts, { sessions: 0 })
  })
}
