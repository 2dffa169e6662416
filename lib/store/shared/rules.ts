import { createHash } from 'node:crypto'
import { and, eq, gt, inArray, isNotNull, isNull, lt, lte, ne, or, sql, type SQL, type SQLWrapper } from 'drizzle-orm'
import type { NewSession } from '../records.js'
import { MAX_PAGE_SIZE, type ApplicationPageQuery, type ApplicationSource, type RecordPageQuery, type SessionPageQuery, type SessionSelector, type SingleUseKind, type TokenIssue } from '../types.js'
import type { AnyTable, InsertRow, RowChanges, TableName } from './tables.js'

// The store's rules, written once for both dialects: which rows a conditional UPDATE may change
// and what it sets. Each is a `WHERE` over drizzle's columns, which serves a `sqliteTable` and a
// `pgTable` alike; the dialects only run them (`.run()` inside a synchronous SQLite transaction,
// `await` inside a PostgreSQL one) and let the changed-row count decide. Single-use artefacts
// are consumed this way: of any number of racing requests, exactly one changes the row (SQLite
// serializes writers; PostgreSQL at READ COMMITTED makes the others wait for its row lock and
// re-check the condition on the committed row, which then matches nothing).

/** A conditional UPDATE: the values it sets on the rows `where` matches. */
export interface ConditionalUpdate<K extends TableName> {
  readonly set: RowChanges<K>
  readonly where: SQL | undefined
}

/** The row whose primary key is `id`. */
export function byId (table: AnyTable<TableName>, id: number): SQL {
  return eq(table.id, id)
}

// applications

/** `listApplications`' filter: the applications owned by `userId`, by no one when `null`, all when absent. */
export function applicationFilter (applications: AnyTable<'applications'>, filter: { readonly userId?: string | null }): SQL | undefined {
  if (filter.userId === undefined) return undefined
  return filter.userId === null ? isNull(applications.userId) : eq(applications.userId, filter.userId)
}

/**
 * The stand-in of a lookup by client_id (the application with the lowest id), read when no
 * client_id matches so that an unknown client costs what a known one does (`matchingApplication`).
 */
export function standInApplication (applications: AnyTable<'applications'>): SQL {
  return eq(applications.id, sql`(SELECT min(${applications.id}) FROM ${applications})`)
}

/**
 * `deleteExpiredCimdApplications`' rows: applications a Client ID Metadata Document created
 * (`cimd_expires_at` set) whose document went stale before `now`, and that hold no live access
 * token, unrevoked refresh token, unexpired unconsumed authorization code or unexpired device
 * authorization. The conditions sit in the DELETE itself, so a token issued meanwhile saves its
 * application.
 */
export function expiredCimdApplication (t: {
  readonly applications: AnyTable<'applications'>
  readonly accessTokens: AnyTable<'accessTokens'>
  readonly refreshTokens: AnyTable<'refreshTokens'>
  readonly grants: AnyTable<'grants'>
  readonly deviceGrants: AnyTable<'deviceGrants'>
}, now: Date): SQL {
  const a = t.applications
  return and(
    isNotNull(a.cimdExpiresAt),
    lte(a.cimdExpiresAt, now),
    sql`NOT EXISTS (SELECT 1 FROM ${t.accessTokens} WHERE ${t.accessTokens.applicationId} = ${a.id} AND ${gt(t.accessTokens.expiresAt, now)})`,
    sql`NOT EXISTS (SELECT 1 FROM ${t.refreshTokens} WHERE ${t.refreshTokens.applicationId} = ${a.id} AND ${isNull(t.refreshTokens.revokedAt)})`,
    sql`NOT EXISTS (SELECT 1 FROM ${t.grants} WHERE ${t.grants.applicationId} = ${a.id} AND ${gt(t.grants.expiresAt, now)} AND ${isNull(t.grants.consumedAt)})`,
    sql`NOT EXISTS (SELECT 1 FROM ${t.deviceGrants} WHERE ${t.deviceGrants.applicationId} = ${a.id} AND ${gt(t.deviceGrants.expiresAt, now)})`
  ) as SQL
}

/** Whether `origin` can be an exact entry of an allowed-origins list at all: an entry never holds white space. */
export function mayBeListedOrigin (origin: string): boolean {
  return origin !== '' && !/\s/.test(origin)
}

// tokens

/**
 * Revoking a token family (a reuse replay, RFC 6749 §10.4, or RFC 7009 revocation): every live
 * refresh token of the family is revoked, the sealed successors of its rotations are dropped (a
 * deliberately revoked family never hands them out again, not even inside the grace period), and
 * its access tokens are deleted. Set-based, a constant number of statements however long the
 * family (DOT #1809).
 */
export function familyRevocation (refreshTokens: AnyTable<'refreshTokens'>, accessTokens: AnyTable<'accessTokens'>, family: string, now: Date): {
  readonly revoke: ConditionalUpdate<'refreshTokens'>
  readonly unseal: ConditionalUpdate<'refreshTokens'>
  readonly accessTokens: SQL
} {
  return {
    revoke: { set: { revokedAt: now, updatedAt: now }, where: and(eq(refreshTokens.tokenFamily, family), isNull(refreshTokens.revokedAt)) },
    unseal: { set: { successorSealed: null }, where: and(eq(refreshTokens.tokenFamily, family), isNotNull(refreshTokens.successorSealed)) },
    accessTokens: eq(accessTokens.tokenFamily, family),
  }
}

/** Refresh token `id`, if still live (neither rotated nor revoked). */
export function liveRefreshToken (refreshTokens: AnyTable<'refreshTokens'>, id: number): SQL | undefined {
  return and(eq(refreshTokens.id, id), isNull(refreshTokens.revokedAt))
}

/**
 * Rotation (RFC 6749 §6, RFC 9700 §4.14.2): refresh token `id` is revoked only while it is
 * live, and keeps the successor pair sealed under itself for the grace period.
 */
export function refreshTokenRotation (refreshTokens: AnyTable<'refreshTokens'>, id: number, successorSealed: string | null, now: Date): ConditionalUpdate<'refreshTokens'> {
  return { set: { revokedAt: now, successorSealed, updatedAt: now }, where: liveRefreshToken(refreshTokens, id) }
}

/** Binds refresh token `id` to the access token that replaced its previous one. */
export function refreshTokenRebinding (refreshTokens: AnyTable<'refreshTokens'>, id: number, accessTokenId: number, now: Date): ConditionalUpdate<'refreshTokens'> {
  return { set: { accessTokenId, updatedAt: now }, where: eq(refreshTokens.id, id) }
}

// authorization codes

/**
 * RFC 6749 §4.1.2: a code is consumed once, and only while unexpired at `issue.now`. It records
 * the token family the exchange creates, so that a replay can revoke it.
 */
export function grantRedemption (grants: AnyTable<'grants'>, grantId: number, issue: TokenIssue): ConditionalUpdate<'grants'> {
  const family = issue.refreshToken?.tokenFamily ?? issue.accessToken.tokenFamily
  return {
    set: { consumedAt: issue.now, tokenFamily: family, updatedAt: issue.now },
    where: and(eq(grants.id, grantId), isNull(grants.consumedAt), gt(grants.expiresAt, issue.now)),
  }
}

// device authorizations (RFC 8628)

/** The first user to enter the user code claims a pending, unexpired authorization; only they may decide (DOT 3.4.1). */
export function deviceGrantClaim (deviceGrants: AnyTable<'deviceGrants'>, id: number, userId: string, now: Date): ConditionalUpdate<'deviceGrants'> {
  return {
    set: { userId, updatedAt: now },
    where: and(eq(deviceGrants.id, id), eq(deviceGrants.status, 'authorization-pending'), gt(deviceGrants.expiresAt, now),
      or(isNull(deviceGrants.userId), eq(deviceGrants.userId, userId))),
  }
}

/** The claiming user's decision, only while pending and unexpired. */
export function deviceGrantDecision (deviceGrants: AnyTable<'deviceGrants'>, id: number, userId: string, decision: 'authorized' | 'denied',
  authTime: Date, now: Date): ConditionalUpdate<'deviceGrants'> {
  return {
    set: { status: decision, authTime, updatedAt: now },
    where: and(eq(deviceGrants.id, id), eq(deviceGrants.userId, userId), eq(deviceGrants.status, 'authorization-pending'), gt(deviceGrants.expiresAt, now)),
  }
}

/** RFC 8628 §3.5 with RFC 6749 §4.1.2's spirit: one token set per approval, while unexpired. */
export function deviceGrantRedemption (deviceGrants: AnyTable<'deviceGrants'>, id: number, now: Date): ConditionalUpdate<'deviceGrants'> {
  return {
    set: { consumedAt: now, updatedAt: now },
    where: and(eq(deviceGrants.id, id), eq(deviceGrants.status, 'authorized'), isNull(deviceGrants.consumedAt), gt(deviceGrants.expiresAt, now)),
  }
}

// dynamic client registration (RFC 7592)

/**
 * `updateClientRegistration`'s condition: the application's registration still holds the
 * registration access token the update presented. The token is a rotating credential, like a
 * refresh token: of concurrent updates presenting one token, exactly one replaces it.
 */
export function registrationHolding (registrations: AnyTable<'clientRegistrations'>, applicationId: number, accessTokenChecksum: string): SQL | undefined {
  return and(eq(registrations.applicationId, applicationId), eq(registrations.accessTokenChecksum, accessTokenChecksum))
}

// pushed authorization requests (RFC 9126)

/** Those expired and never used: nothing can redeem them any more, so a new push deletes them (not cleartokens). */
export function expiredPushedRequests (requests: AnyTable<'pushedAuthorizationRequests'>, now: Date): SQL {
  return lt(requests.expiresAt, now)
}

/** First use by the authorization endpoint, with the new expiry: only once, unconsumed and unexpired. */
export function pushedRequestStart (requests: AnyTable<'pushedAuthorizationRequests'>, id: number, now: Date, expiresAt: Date): ConditionalUpdate<'pushedAuthorizationRequests'> {
  return {
    set: { startedAt: now, expiresAt },
    where: and(eq(requests.id, id), isNull(requests.startedAt), isNull(requests.consumedAt), gt(requests.expiresAt, now)),
  }
}

/** The user's decision uses it up: single use, while unexpired. */
export function pushedRequestConsumption (requests: AnyTable<'pushedAuthorizationRequests'>, id: number, now: Date): ConditionalUpdate<'pushedAuthorizationRequests'> {
  return { set: { consumedAt: now }, where: and(eq(requests.id, id), isNull(requests.consumedAt), gt(requests.expiresAt, now)) }
}

// single-use values

/**
 * `useOnce` as one `INSERT … ON CONFLICT DO UPDATE … WHERE`: the row is new (first use), or it
 * is there but expired at `now` and is taken over; either way one row changes. A live row
 * changes nothing: a replay. The unique index on (kind, checksum) makes racing uses of one key
 * serialize, whichever instance they come from; exactly one of them changes a row. The conflict
 * target is that index's columns (kind, key_checksum), named by each dialect with its own table.
 */
export function singleUse (usedJtis: AnyTable<'usedJtis'>, kind: SingleUseKind, key: string, expiresAt: Date, now: Date): {
  readonly row: InsertRow<'usedJtis'>
  readonly set: RowChanges<'usedJtis'>
  readonly setWhere: SQL
} {
  const keyChecksum = createHash('sha256').update(key).digest('hex')
  return {
    row: { kind, keyChecksum, expiresAt },
    set: { expiresAt },
    setWhere: lte(usedJtis.expiresAt, now),
  }
}

// administration lists (the staff pages)

/** A page's row count: 1 to `MAX_PAGE_SIZE`, whatever the caller asked (a bad value gets the smallest page). */
export function pageLimit (limit: number): number {
  return Number.isSafeInteger(limit) ? Math.min(Math.max(limit, 1), MAX_PAGE_SIZE) : 1
}

/** The keyset condition: ids below `before`, when given. */
function beforeId (id: AnyTable<TableName>['id'], before: number | undefined): SQL | undefined {
  return before === undefined ? undefined : lt(id, before)
}

/** A token, code or device authorization page: below the cursor, of the application and the user given. */
export function recordPageFilter (table: AnyTable<'accessTokens' | 'refreshTokens' | 'grants' | 'deviceGrants' | 'idTokens'>, query: RecordPageQuery): SQL | undefined {
  return and(
    beforeId(table.id, query.before),
    query.applicationId === undefined ? undefined : eq(table.applicationId, query.applicationId),
    query.userId === undefined ? undefined : eq(table.userId, query.userId)
  )
}

/**
 * A session page: below the cursor, of the user given, in the state given. `live` is "not ended"
 * (what `endSessions` can still end), whether or not it has expired: an expired session stays
 * live until `cleartokens` or a staff member ends it and its relying parties are told.
 */
export function sessionPageFilter (sessions: AnyTable<'sessions'>, query: SessionPageQuery): SQL | undefined {
  const state = query.state === undefined ? undefined : query.state === 'live' ? isNull(sessions.endedAt) : isNotNull(sessions.endedAt)
  return and(
    beforeId(sessions.id, query.before),
    query.userId === undefined ? undefined : eq(sessions.userId, query.userId),
    state
  )
}

/** The relying-party links of the sessions of one page (counted per session with one grouped query). */
export function sessionClientsOfPage (sessionClients: AnyTable<'sessionClients'>, sessionIds: readonly number[]): SQL {
  return inArray(sessionClients.sessionId, [...sessionIds])
}

/** `value` as a LIKE pattern matching it anywhere, its `%`, `_` and `\` taken literally (with `ESCAPE '\'`). */
function containsPattern (value: string): string {
  return `%${value.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`
}

/**
 * The application page's filters. `registrationId` is the joined registration row's id (null when
 * none): a dynamically registered client has one. A CIMD client is `cimd` whatever else it is.
 * Both dialects read `lower(x) LIKE ? ESCAPE '\'` alike; the search term is a bound parameter.
 */
export function applicationPageFilter (applications: AnyTable<'applications'>, registrationId: AnyTable<'clientRegistrations'>['id'],
  query: ApplicationPageQuery): SQL | undefined {
  const search = query.search === undefined || query.search === ''
    ? undefined
    : or(
      sql`lower(${applications.name}) LIKE ${containsPattern(query.search)} ESCAPE '\\'`,
      sql`lower(${applications.clientId}) LIKE ${containsPattern(query.search)} ESCAPE '\\'`
    )
  const notCimd = isNull(applications.cimdExpiresAt)
  const source: Record<ApplicationSource, SQL | undefined> = {
    operator: and(eq(applications.selfRegistered, false), notCimd, isNull(registrationId)),
    'self-registered': and(eq(applications.selfRegistered, true), notCimd, isNull(registrationId)),
    dynamic: and(isNotNull(registrationId), notCimd),
    cimd: isNotNull(applications.cimdExpiresAt),
  }
  return and(
    beforeId(applications.id, query.before),
    search,
    query.clientType === undefined ? undefined : eq(applications.clientType, query.clientType),
    query.grantType === undefined ? undefined : eq(applications.authorizationGrantType, query.grantType),
    query.userId === undefined ? undefined : eq(applications.userId, query.userId),
    query.source === undefined ? undefined : source[query.source]
  )
}

/** Where a listed application came from (see `applicationPageFilter`, which selects by the same rule). */
export function applicationSource (app: { readonly selfRegistered: boolean, readonly cimdExpiresAt: Date | null }, registrationId: number | null): ApplicationSource {
  if (app.cimdExpiresAt !== null) return 'cimd'
  if (registrationId !== null) return 'dynamic'
  return app.selfRegistered ? 'self-registered' : 'operator'
}

/** A staff revocation of code `id`: consumed now unless it already was, so no exchange can follow. */
export function grantRevocation (grants: AnyTable<'grants'>, id: number, now: Date): ConditionalUpdate<'grants'> {
  return { set: { consumedAt: now, updatedAt: now }, where: and(eq(grants.id, id), isNull(grants.consumedAt)) }
}

/** A staff denial of device authorization `id`: only before the device exchanged it, and once. */
export function deviceGrantDenial (deviceGrants: AnyTable<'deviceGrants'>, id: number, now: Date): ConditionalUpdate<'deviceGrants'> {
  return {
    set: { status: 'denied', updatedAt: now },
    where: and(eq(deviceGrants.id, id), isNull(deviceGrants.consumedAt), ne(deviceGrants.status, 'denied')),
  }
}

// user sessions and back-channel logout (OpenID Connect Back-Channel Logout 1.0)

/**
 * `touchSession` as one `INSERT … ON CONFLICT DO UPDATE … WHERE` on the partial unique index of
 * live host-session checksums: a new session row, or the live one slid forward, only while it
 * is the same user's and unexpired. Another user's (the host reused its session id after a
 * logout it did not tell us of) or an expired one changes nothing: the caller ends it first.
 */
export function sessionTouch (sessions: AnyTable<'sessions'>, session: NewSession, now: Date): {
  readonly row: InsertRow<'sessions'>
  readonly set: RowChanges<'sessions'>
  readonly targetWhere: SQL
  readonly setWhere: SQL | undefined
} {
  return {
    row: {
      sid: session.sid,
      sessionKeyChecksum: session.keyChecksum,
      userId: session.userId,
      authTime: session.authTime,
      expiresAt: session.expiresAt,
      createdAt: now,
      updatedAt: now,
    },
    set: { expiresAt: session.expiresAt, updatedAt: now },
    targetWhere: isNotNull(sessions.sessionKeyChecksum),
    setWhere: and(eq(sessions.userId, session.userId), gt(sessions.expiresAt, now), isNull(sessions.endedAt)),
  }
}

/** The live sessions a selector picks (before `limit`, which the dialect applies). */
export function sessionSelection (sessions: AnyTable<'sessions'>, selector: SessionSelector): SQL | undefined {
  const live = isNull(sessions.endedAt)
  if ('id' in selector) return and(live, eq(sessions.id, selector.id))
  if ('sid' in selector) return and(live, eq(sessions.sid, selector.sid))
  if ('keyChecksum' in selector) {
    return and(live, eq(sessions.sessionKeyChecksum, selector.keyChecksum), selector.userId === undefined ? undefined : eq(sessions.userId, selector.userId))
  }
  if ('expiredAt' in selector) return and(live, lte(sessions.expiresAt, selector.expiredAt))
  return and(live, eq(sessions.userId, selector.userId))
}

/** How many sessions a selector may end in one call: `limit` for expiry, else all it matches. */
export function sessionSelectionLimit (selector: SessionSelector): number | undefined {
  return 'expiredAt' in selector ? Math.max(1, Math.floor(selector.limit)) : undefined
}

/**
 * Ending: only sessions still live among `ids` (so of two racing ends exactly one changes the
 * row), marked ended, and the host-session checksum dropped: the host's id no longer leads here,
 * and a new login under the same id starts a new row.
 */
export function sessionEnding (sessions: AnyTable<'sessions'>, ids: readonly number[], now: Date): ConditionalUpdate<'sessions'> {
  return { set: { endedAt: now, sessionKeyChecksum: null, updatedAt: now }, where: and(inArray(sessions.id, [...ids]), isNull(sessions.endedAt)) }
}

/** The applications of session `sessionId` that registered a back-channel logout URI: who gets a logout token. */
export function backchannelClientsOf (sessionClients: AnyTable<'sessionClients'>, applications: AnyTable<'applications'>, sessionId: number): SQL | undefined {
  return and(eq(sessionClients.sessionId, sessionId), eq(sessionClients.applicationId, applications.id), ne(applications.backchannelLogoutUri, ''))
}

/** The live refresh tokens issued in session `sessionId` (their families are candidates for §2.7 revocation). */
export function liveSessionRefreshTokens (refreshTokens: AnyTable<'refreshTokens'>, sessionId: number): SQL | undefined {
  return and(eq(refreshTokens.sessionId, sessionId), isNull(refreshTokens.revokedAt))
}

/**
 * Back-Channel Logout 1.0 §2.7: refresh tokens issued without `offline_access` end with the
 * session; with it, the RP asked for access beyond the user's presence and keeps it.
 */
export function endsWithSession (scope: string): boolean {
  return !scope.split(' ').includes('offline_access')
}

/** The outbox rows queued for the clients of an ended session, due at once. */
export function logoutDeliveryRows (applicationIds: readonly number[], session: { readonly userId: string, readonly sid: string }, now: Date): Array<InsertRow<'logoutDeliveries'>> {
  return applicationIds.map((applicationId) => ({ applicationId, userId: session.userId, sid: session.sid, attempts: 0, nextAttemptAt: now, lastError: '', createdAt: now }))
}

/**
 * The outbox rows of the session `sid` whose relying parties are `applicationIds`: the outbox has
 * no index on `sid`, so the application id (indexed) narrows the rows first.
 */
export function logoutDeliveriesOfSession (deliveries: AnyTable<'logoutDeliveries'>, applicationIds: readonly number[], sid: string): SQL | undefined {
  return and(inArray(deliveries.applicationId, [...applicationIds]), eq(deliveries.sid, sid))
}

/** Deliveries due at `now` (the claim re-checks this on each row it updates). */
export function dueLogoutDeliveries (deliveries: AnyTable<'logoutDeliveries'>, now: Date): SQL {
  return lte(deliveries.nextAttemptAt, now)
}

/**
 * A claim: the row's next attempt moves to `leaseUntil` (so no other instance takes it while
 * this one tries, nor after this one crashed, before then) only while it is still due, and the
 * attempt is counted. Two instances claiming the same row: one changes it, the other's re-checked
 * condition no longer matches (SQLite serializes writers; PostgreSQL re-checks at READ COMMITTED).
 */
export function logoutDeliveryClaim (deliveries: AnyTable<'logoutDeliveries'>, ids: readonly number[] | SQLWrapper, now: Date, leaseUntil: Date): {
  readonly set: { readonly nextAttemptAt: Date, readonly attempts: SQL }
  readonly where: SQL | undefined
} {
  return {
    set: { nextAttemptAt: leaseUntil, attempts: sql`${deliveries.attempts} + 1` },
    where: and(Array.isArray(ids) ? inArray(deliveries.id, [...ids as readonly number[]]) : inArray(deliveries.id, ids as SQLWrapper), lte(deliveries.nextAttemptAt, now)),
  }
}
