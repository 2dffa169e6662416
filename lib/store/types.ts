/**
 * The `Store` interface and what its methods exchange beyond the domain records. All grant and
 * endpoint logic goes through `Store`, so a dialect (SQLite, PostgreSQL) can be swapped without
 * touching that logic. The records themselves live in records.ts and are re-exported here, where
 * the rest of the code imports them from.
 */
import type {
  AccessTokenRecord, Application, ApplicationChanges, ApplicationGrantType, ClientRegistrationRecord, ClientType, DeviceGrantRecord, GrantRecord, IdTokenRecord,
  LogoutDeliveryRecord, NewAccessToken, NewApplication, NewClientRegistration, NewDeviceGrant, NewGrant, NewIdToken, NewPushedAuthorizationRequest,
  NewRefreshToken, NewSession, PushedAuthorizationRequestRecord, RefreshTokenRecord, SessionRecord,
} from './records.js'

export { APPLICATION_GRANT_TYPES } from './records.js'
export type {
  AccessTokenRecord, Application, ApplicationChanges, ApplicationGrantType, ClientRegistrationRecord, ClientType, DeviceGrantRecord, DeviceGrantStatus,
  GrantRecord, IdTokenRecord, LogoutDeliveryRecord, NewAccessToken, NewApplication, NewClientRegistration, NewDeviceGrant, NewGrant, NewIdToken,
  NewPushedAuthorizationRequest, NewRefreshToken, NewSession, PushedAuthorizationRequestRecord, RefreshTokenRecord, SessionRecord, SigningAlgorithm,
  TokenEndpointAuthMethod,
} from './records.js'

/**
 * What a single-use value is (`Store.useOnce`): the `jti` of an RFC 9449 DPoP proof, of an
 * RFC 7523 client assertion, or of an RFC 9101 request object. Each kind is its own namespace.
 */
export type SingleUseKind = 'dpop' | 'client_assertion' | 'request_object'

/** What `recordDevicePoll` saw: whether the device polled faster than its interval, and the interval now in force. */
export interface DevicePollResult {
  readonly tooFast: boolean
  readonly interval: number
}

/** The rows written by one token issuance. */
export interface IssuedTokenRows {
  readonly accessToken: AccessTokenRecord
  readonly refreshToken: RefreshTokenRecord | null
}

/** What a token issuance writes, atomically. */
export interface TokenIssue {
  readonly accessToken: NewAccessToken
  readonly refreshToken: NewRefreshToken | null
  /** An ID token issued with the access token: recorded in the same transaction and linked by `idTokenId`. */
  readonly idToken?: NewIdToken | null
  readonly now: Date
}

/** The outcome of a conditional issuance (rotation, code redemption). */
export type IssueResult =
  | { readonly ok: true, readonly rows: IssuedTokenRows }
  /** Someone else rotated or revoked it first: the caller treats this as a replay. */
  | { readonly ok: false }

/** What `clearExpired` removed. */
export interface ClearedCounts {
  accessTokens: number
  refreshTokens: number
  grants: number
  idTokens: number
  deviceGrants: number
  /** Expired single-use values (`useOnce`). */
  usedJtis: number
  /** Ended or expired user sessions (`oauth2_session`; their logout tokens, if any, are already queued). */
  sessions: number
}

/**
 * Which live sessions `Store.endSessions` ends: one by row id or `sid` (the administration
 * pages), the one under a host session id's checksum (for `userId` only, when given), all of a
 * user's, or up to `limit` of those expired at `expiredAt`.
 */
export type SessionSelector =
  | { readonly id: number }
  | { readonly sid: string }
  | { readonly keyChecksum: string, readonly userId?: string }
  | { readonly userId: string }
  | { readonly expiredAt: Date, readonly limit: number }

/**
 * The refresh token a family's revocation is reported at (a `tokenRevoked` event): its row id
 * and the facts the event carries, never the token or its checksum.
 */
export type RevokedRefreshToken = Pick<RefreshTokenRecord, 'id' | 'applicationId' | 'userId' | 'accessTokenId'>

/** A refresh token family a session's end revoked, as its `tokenRevoked` event reports it. */
export interface RevokedFamily {
  /** The family's live refresh token that the revocation found (the newest, should several have been live). */
  readonly refreshToken: RevokedRefreshToken
  /** The client id of the family's application, read in the same transaction. */
  readonly clientId: string
}

/** Options of `Store.endSessions`. */
export interface EndSessionsStoreOptions {
  /**
   * List each refresh token family revoked in `EndedSession.families` (for one `tokenRevoked`
   * event each). Off by default: the families are then only counted, so a bulk end
   * (`cleartokens`, up to `clearExpiredTokensBatchSize` sessions) that nobody listens to holds no
   * row of them once each session is done.
   */
  readonly listFamilies?: boolean
}

/** A session `Store.endSessions` ended, and what ending it did. */
export interface EndedSession {
  readonly session: SessionRecord
  /** Logout tokens queued: one per client of the session that registered a back-channel logout URI. */
  readonly deliveries: number
  /**
   * Refresh token families of the session this end revoked (Back-Channel Logout 1.0 §2.7: those
   * without `offline_access`); one revoked meanwhile by another transaction is not counted.
   */
  readonly revokedFamilies: number
  /** Those families, one entry each, when `listFamilies` was asked for; otherwise empty. */
  readonly families: readonly RevokedFamily[]
}

/** One batch of `clearExpired`, as reported to `ClearExpiredRules.onBatchDone`. */
export interface ClearedBatch {
  /** Rows the batch deleted. */
  readonly rows: number
  /** How long the batch's transaction held the write lock, ms (select, delete and commit; SQLite's checkpoints after it excluded). */
  readonly lockMs: number
}

/** The cut-off times `clearExpired` works with, computed by the caller from the settings. */
export interface ClearExpiredRules {
  readonly now: Date
  /** Refresh tokens revoked before this are deleted (`null`: keep them for reuse detection until idle-expired). */
  readonly revokedBefore: Date | null
  /** Refresh tokens created before this are idle-expired (`null`: never). */
  readonly refreshCreatedBefore: Date | null
  readonly batchSize: number
  /** Awaited between batches (sleep and progress reporting). */
  readonly betweenBatches?: () => Promise<void>
  /** Called after every batch that deleted rows (the benchmark's lock-hold figures); optional for custom stores. */
  readonly onBatchDone?: (batch: ClearedBatch) => void
}

/** An access token with its application, as verification needs them (one joined lookup). */
export interface VerifiableAccessToken {
  readonly token: AccessTokenRecord
  /** `null` when the token has no application. */
  readonly application: Application | null
}

/**
 * What a store tells verification caches (see `Store.watchInvalidations`): cached verifications
 * of these tokens, of this application's tokens, of tokens expired before `before`, or all of
 * them, must not be served again.
 */
export type StoreInvalidation =
  | { readonly kind: 'tokens', readonly checksums: readonly string[] }
  | { readonly kind: 'application', readonly applicationId: number }
  | { readonly kind: 'expired', readonly before: Date }
  | { readonly kind: 'all' }

/** The most rows one page of an administration list returns (`PageQuery.limit` is clamped to it). */
export const MAX_PAGE_SIZE = 100

/**
 * Keyset pagination of the administration lists: newest first (descending id), so a page costs
 * an index range scan however deep it is, and rows inserted meanwhile never shift a page.
 */
export interface PageQuery {
  /** Only rows whose id is below this: the last id of the previous page. Absent: from the newest. */
  readonly before?: number
  /** Rows to return: 1 to {@link MAX_PAGE_SIZE} (clamped). */
  readonly limit: number
}

/** Filters of the token, code and device authorization lists; each is an exact match. */
export interface RecordPageQuery extends PageQuery {
  readonly applicationId?: number
  readonly userId?: string
}

/**
 * Where an application came from: created by an operator (CLI, host code), by a user on the
 * management pages, by dynamic client registration (RFC 7591, it has a registration row), or a
 * Client ID Metadata Document client (`cimdExpiresAt` set).
 */
export type ApplicationSource = 'operator' | 'self-registered' | 'dynamic' | 'cimd'

/** The sources, in the order the administration pages offer them. */
export const APPLICATION_SOURCES: readonly ApplicationSource[] = Object.freeze(['operator', 'self-registered', 'dynamic', 'cimd'])

/** Filters of the administration list of applications; each given one narrows the list. */
export interface ApplicationPageQuery extends PageQuery {
  /** A case-insensitive (ASCII) substring of the name or the client id; `%` and `_` are plain characters. */
  readonly search?: string
  readonly clientType?: ClientType
  readonly grantType?: ApplicationGrantType
  /** The owner's user id, exactly. */
  readonly userId?: string
  readonly source?: ApplicationSource
}

/** Which sessions the administration list shows: `live` (not ended, expired or not), `ended`; absent: all. */
export type SessionState = 'live' | 'ended'

/** The states, in the order the administration pages offer them. */
export const SESSION_STATES: readonly SessionState[] = Object.freeze(['live', 'ended'])

/** Filters of the administration list of user sessions; each given one narrows the list. */
export interface SessionPageQuery extends PageQuery {
  /** The user's id, exactly. */
  readonly userId?: string
  readonly state?: SessionState
}

/** One row of the administration list of user sessions (never the host session id's checksum). */
export interface SessionListing {
  readonly session: SessionRecord
  /** Relying parties (applications) issued something in the session (`oauth2_session_client`). */
  readonly clients: number
}

/** A relying party of a session (`oauth2_session_client`), as the administration detail page shows it. */
export interface SessionClientListing {
  readonly application: Application
  /** When it was first issued something in the session. */
  readonly since: Date
}

/**
 * One session for the administration detail page: its relying parties (in the order they joined)
 * and the logout tokens still queued for it (after it ended, until each is delivered or given up on).
 * Never the host session id's checksum.
 */
export interface SessionDetail {
  readonly session: SessionRecord
  readonly clients: readonly SessionClientListing[]
  readonly deliveries: readonly LogoutDeliveryRecord[]
}

/** One row of the administration list of applications. */
export interface ApplicationListing {
  readonly application: Application
  readonly source: ApplicationSource
}

/** Receives a store's invalidations; called synchronously, it must not throw. */
export type InvalidationListener = (event: StoreInvalidation) => void

/**
 * Persistence for every OAuth artefact. Methods are named by intent; callers never see SQL.
 * Each method is atomic; methods that change several rows run in one transaction.
 *
 * **Invalidation rule** (the verification cache, `verificationCacheSize`, depends on it): every
 * method that deletes, revokes, rotates, replaces or changes access-token rows, directly, in
 * bulk or through a cascade, and every method that changes or deletes an application, reports
 * it to `watchInvalidations` listeners before its promise resolves (the checksums it removed, or
 * the application, or `all`), and, where several processes share the database, to the other
 * processes' stores as well: on PostgreSQL by `NOTIFY` inside the same transaction, so it is
 * delivered exactly when the change commits; on SQLite `PRAGMA data_version` shows another
 * connection's commit at the next `invalidationsReliable()` call that looks (see
 * `SqliteStoreOptions.crossProcessCheckMs`), and the state row and log
 * that triggers keep (migrations 0007 and 0008, whoever writes) tell which access tokens it
 * deleted or changed, and whether it changed an application. The built-in stores enforce
 * the rule for methods added later: a method not on their list of known methods reports `all`
 * (locally and to the other processes) after every call, so a new method is never unsafe, only
 * slower for the cache, until it is listed with its precise invalidation.
 */
export interface Store {
  // applications
  createApplication (app: NewApplication): Promise<Application>
  findApplicationByClientId (clientId: string): Promise<Application | null>
  findApplicationById (id: number): Promise<Application | null>
  listApplications (filter?: { userId?: string | null }): Promise<Application[]>
  updateApplication (id: number, changes: ApplicationChanges, now: Date): Promise<Application | null>
  /** Deletes the application and every token, code and ID token issued to it. */
  deleteApplication (id: number): Promise<boolean>
  /**
   * Deletes at most `limit` applications that Client ID Metadata Documents created whose
   * `cimdExpiresAt` is not after `now` and that hold no live access token, unrevoked refresh
   * token, live authorization code or live device authorization (their expired rows go with them).
   * Returns how many were deleted; reports each as an `application` invalidation.
   */
  deleteExpiredCimdApplications (now: Date, limit: number): Promise<number>
  /** True when some application lists `origin` exactly among its allowed origins (CORS preflights). */
  isOriginAllowed (origin: string): Promise<boolean>

  // access tokens
  findAccessToken (checksum: string): Promise<AccessTokenRecord | null>
  /** The token by checksum joined with its application, in one query (the verification hot path). */
  findAccessTokenForVerification (checksum: string): Promise<VerifiableAccessToken | null>
  findAccessTokenById (id: number): Promise<AccessTokenRecord | null>
  listAccessTokensForUser (userId: string): Promise<AccessTokenRecord[]>
  /**
   * Revokes an access token and, when it came with a refresh token, its whole token family
   * (RFC 7009 §2.1: revoking one revokes the tokens of the same authorization).
   */
  revokeAccessToken (id: number, now: Date): Promise<void>

  // refresh tokens
  findRefreshToken (checksum: string): Promise<RefreshTokenRecord | null>
  /** Revokes every refresh token of a family and deletes their access tokens, in a constant number of statements. */
  revokeTokenFamily (family: string, now: Date): Promise<void>

  // issuance
  /** Inserts an access token and, if given, its refresh token, atomically. */
  issueTokens (issue: TokenIssue): Promise<IssuedTokenRows>
  /**
   * Atomically: marks refresh token `id` revoked only if it is still live, stores the sealed
   * successor, deletes its old access token, and inserts the new pair. `{ ok: false }` when
   * the token was no longer live (a concurrent refresh or a replay won).
   */
  rotateRefreshToken (id: number, successorSealed: string | null, issue: TokenIssue): Promise<IssueResult>
  /** Without rotation: replaces the access token bound to refresh token `id`, keeping the refresh token. */
  replaceAccessToken (refreshTokenId: number, issue: TokenIssue): Promise<IssueResult>

  // ID tokens
  /** Records an ID token issued on its own (no access token to link it to). */
  createIdToken (idToken: NewIdToken, now: Date): Promise<IdTokenRecord>
  findIdTokenByJti (jti: string): Promise<IdTokenRecord | null>

  // authorization codes
  createGrant (grant: NewGrant, now: Date): Promise<GrantRecord>
  findGrant (checksum: string): Promise<GrantRecord | null>
  /**
   * Atomically marks the code consumed (only if it is unconsumed and unexpired at `issue.now`)
   * and inserts the tokens, in one transaction. `{ ok: false }` when another exchange won or
   * the code expired: the caller treats that as a replay (RFC 6749 §4.1.2).
   */
  redeemGrant (grantId: number, issue: TokenIssue): Promise<IssueResult>
  /** Revokes every token issued from an authorization code (code replay, RFC 6749 §4.1.2). */
  revokeGrantTokens (grantId: number, now: Date): Promise<void>

  // device authorizations (RFC 8628)
  /** Inserts a device authorization; `null` when its user code checksum is already taken (draw another). */
  createDeviceGrant (grant: NewDeviceGrant, now: Date): Promise<DeviceGrantRecord | null>
  findDeviceGrant (checksum: string): Promise<DeviceGrantRecord | null>
  findDeviceGrantByUserCode (userCodeChecksum: string): Promise<DeviceGrantRecord | null>
  findDeviceGrantById (id: number): Promise<DeviceGrantRecord | null>
  /**
   * Binds a pending, unexpired device authorization to `userId`, only if no one else claimed it
   * first (one conditional UPDATE). The claimed record, or `null`.
   */
  claimDeviceGrant (id: number, userId: string, now: Date): Promise<DeviceGrantRecord | null>
  /** The claiming user's decision, only while pending and unexpired; false when nothing changed. */
  decideDeviceGrant (id: number, userId: string, decision: 'authorized' | 'denied', authTime: Date, now: Date): Promise<boolean>
  /**
   * Records a poll atomically: `tooFast` when the previous poll was less than the interval ago,
   * in which case the interval grows by `slowDownSeconds` (RFC 8628 §3.5). `null` when the row is gone.
   */
  recordDevicePoll (id: number, now: Date, slowDownSeconds: number): Promise<DevicePollResult | null>
  /**
   * Atomically consumes an authorized, unconsumed, unexpired device authorization and inserts the
   * tokens. `{ ok: false }` when another poll won or it is no longer redeemable.
   */
  redeemDeviceGrant (id: number, issue: TokenIssue): Promise<IssueResult>

  // dynamic client registration (RFC 7591/7592)
  /** Inserts the application and its registration in one transaction; the application is `selfRegistered`, whatever `app` says. */
  registerClient (app: NewApplication, registration: NewClientRegistration): Promise<{ application: Application, registration: ClientRegistrationRecord }>
  findClientRegistration (applicationId: number): Promise<ClientRegistrationRecord | null>
  /**
   * Applies application changes (except `selfRegistered`: the client stays self-registered) and
   * replaces the registration's token checksum and metadata in one transaction, only while the
   * stored token checksum is still `presentedChecksum` (the token the update was authenticated
   * with): of concurrent updates presenting one token, exactly one is applied, so a rotated token
   * is dead for requests already in flight too. `null` when gone or no longer that token (nothing changed).
   */
  updateClientRegistration (applicationId: number, changes: ApplicationChanges, registration: NewClientRegistration, now: Date, presentedChecksum: string): Promise<Application | null>

  // pushed authorization requests (RFC 9126)
  /** Inserts a pushed request (and deletes those expired and never started before `now`). */
  createPushedAuthorizationRequest (request: NewPushedAuthorizationRequest, now: Date): Promise<PushedAuthorizationRequestRecord>
  findPushedAuthorizationRequest (checksum: string): Promise<PushedAuthorizationRequestRecord | null>
  /** Marks first use and sets the new expiry, only if unstarted, unconsumed and unexpired at `now`; true when this call did it. */
  startPushedAuthorizationRequest (id: number, now: Date, expiresAt: Date): Promise<boolean>
  /** Consumes it, only if unconsumed and unexpired at `now`; true when this call consumed it. */
  consumePushedAuthorizationRequest (id: number, now: Date): Promise<boolean>

  // single-use values (DPoP proofs, client assertions, request objects)
  /**
   * Records `key` as used for `kind` until `expiresAt`: `true` the first time, `false` when it was
   * already used and has not expired at `now` (a replay). Atomic across every process and
   * instance on the database (a unique index decides). The caller makes `key` unique within its
   * kind (for example the issuer or key thumbprint and the `jti`); the store keeps only its
   * SHA-256 checksum, so a key of any length costs the same. Rows expire with `clearExpired`.
   */
  useOnce (kind: SingleUseKind, key: string, expiresAt: Date, now: Date): Promise<boolean>

  // administration (the staff pages): keyset pages, newest first, filters as parameters
  /** A page of applications matching every filter given, with where each came from. */
  pageApplications (query: ApplicationPageQuery): Promise<ApplicationListing[]>
  pageAccessTokens (query: RecordPageQuery): Promise<AccessTokenRecord[]>
  /** Every refresh token row, rotated and revoked ones included (`revokedAt` tells). */
  pageRefreshTokens (query: RecordPageQuery): Promise<RefreshTokenRecord[]>
  pageGrants (query: RecordPageQuery): Promise<GrantRecord[]>
  pageDeviceGrants (query: RecordPageQuery): Promise<DeviceGrantRecord[]>
  pageIdTokens (query: RecordPageQuery): Promise<IdTokenRecord[]>
  /** A page of user sessions with how many relying parties each has (one grouped count per page). */
  pageSessions (query: SessionPageQuery): Promise<SessionListing[]>
  findRefreshTokenById (id: number): Promise<RefreshTokenRecord | null>
  findGrantById (id: number): Promise<GrantRecord | null>
  /**
   * Revokes an authorization code: marks it consumed if it was not (a later exchange fails, and is
   * treated as a replay) and revokes every token issued from it, in one transaction. False when
   * there is no such code.
   */
  revokeGrant (id: number, now: Date): Promise<boolean>
  /**
   * Denies a device authorization that has not been exchanged for tokens yet (pending or
   * approved): the device's next poll gets `access_denied`. False when nothing changed.
   */
  denyDeviceGrant (id: number, now: Date): Promise<boolean>

  // user sessions and back-channel logout (OpenID Connect Back-Channel Logout 1.0)
  /**
   * Starts the session under `session.keyChecksum`, or slides the live one there
   * (`expiresAt`) when it belongs to the same user and has not expired, and records that
   * application `applicationId` was issued something in it; one transaction. `null` (nothing
   * written) when the live session under that checksum belongs to another user or has expired:
   * the caller ends it (`endSessions`) and tries again.
   */
  touchSession (session: NewSession, applicationId: number, now: Date): Promise<SessionRecord | null>
  findSessionById (id: number): Promise<SessionRecord | null>
  /**
   * Session `id` with its relying parties and its queued logout deliveries (`null` when there is no
   * such row): three indexed reads, the deliveries found through their applications' index.
   */
  findSessionDetail (id: number): Promise<SessionDetail | null>
  /**
   * Ends the live sessions `selector` picks, atomically and once: each is marked ended (only if
   * it was not: ending twice does nothing the second time) and its host-session checksum
   * dropped; one logout delivery is queued (due at `now`) per application of the session with a
   * back-channel logout URI; and the session's live refresh token families whose scope lacks
   * `offline_access` are revoked with their access tokens (reported as the invalidation rule says).
   * What was revoked is reported from the statements that revoked it, in the same transaction,
   * so a family revoked concurrently by someone else (the revocation endpoint) is not reported twice.
   */
  endSessions (selector: SessionSelector, now: Date, options?: EndSessionsStoreOptions): Promise<EndedSession[]>
  /**
   * Claims up to `limit` logout deliveries due at `now` for one attempt: each one's
   * `next_attempt` moves to `leaseUntil` and `attempts` grows by one, in one conditional UPDATE,
   * so of several instances claiming at once each row goes to exactly one. The claimed rows, as updated.
   */
  claimLogoutDeliveries (now: Date, leaseUntil: Date, limit: number): Promise<LogoutDeliveryRecord[]>
  /** After a failed attempt: the next one is due at `nextAttemptAt`; `lastError` says why (no secret). */
  rescheduleLogoutDelivery (id: number, nextAttemptAt: Date, lastError: string): Promise<void>
  /** Delivered, or given up on: the row goes. */
  deleteLogoutDelivery (id: number): Promise<void>

  // maintenance
  /** Deletes expired rows; reports `{ kind: 'expired', before: rules.now }` (see the invalidation rule). */
  clearExpired (rules: ClearExpiredRules): Promise<ClearedCounts>
  close (): Promise<void>

  // verification caches
  /**
   * Subscribes to this store's invalidations (see the rule above): this process's removals,
   * synchronously before the removing method resolves, and other processes' as soon as the store
   * learns of them. Returns the unsubscribe function. Synchronous.
   */
  watchInvalidations (listener: InvalidationListener): () => void
  /**
   * Called by a cache before it serves a cached verification. Delivers other processes' pending
   * invalidations first (SQLite, at most once per event-loop iteration and per
   * `crossProcessCheckMs`, 5 ms by default: the WAL-index header, `PRAGMA data_version` when it
   * moved, the state row and log when that moved), and returns `false` while the store
   * cannot learn of them (PostgreSQL: the `LISTEN` connection is down or not yet listening):
   * the cache must then not serve. Synchronous and cheap.
   */
  invalidationsReliable (): boolean
}
