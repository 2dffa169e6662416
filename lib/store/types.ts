/**
 * Domain records and the `Store` interface. All grant and endpoint logic goes through `Store`,
 * so a dialect (SQLite, PostgreSQL) can be swapped without touching that logic. Tokens appear
 * here only as SHA-256 checksums; client secrets only as hashes.
 */

/** `confidential` clients can keep a secret; `public` ones (SPAs, native apps) cannot. */
export type ClientType = 'confidential' | 'public'

/** The one grant type an application is registered for (DOT `Application.authorization_grant_type`). */
export type ApplicationGrantType =
  | 'authorization-code'
  | 'implicit'
  | 'password'
  | 'client-credentials'
  | 'openid-hybrid'
  | 'urn:ietf:params:oauth:grant-type:device_code'

/** Every application grant type, in DOT's order. */
export const APPLICATION_GRANT_TYPES: readonly ApplicationGrantType[] = Object.freeze([
  'authorization-code',
  'implicit',
  'password',
  'client-credentials',
  'openid-hybrid',
  'urn:ietf:params:oauth:grant-type:device_code',
])

/** ID token signing algorithm of an application; `''` means no OpenID Connect. */
export type SigningAlgorithm = '' | 'RS256' | 'HS256'

/** Client authentication methods (RFC 7591 §2 `token_endpoint_auth_method`). */
export type TokenEndpointAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'none'

/** A registered OAuth client (DOT `Application`). */
export interface Application {
  readonly id: number
  readonly clientId: string
  /** Hash of the client secret (`scheme$…`), or `''` for public clients. Never the secret itself. */
  readonly clientSecretHash: string
  readonly clientType: ClientType
  readonly authorizationGrantType: ApplicationGrantType
  /** Exact redirect URIs (DOT keeps them space-separated). */
  readonly redirectUris: readonly string[]
  readonly postLogoutRedirectUris: readonly string[]
  /** Origins allowed to call the token-side endpoints from a browser (CORS). */
  readonly allowedOrigins: readonly string[]
  readonly name: string
  /** The owner, a host-app user id, if any. */
  readonly userId: string | null
  readonly skipAuthorization: boolean
  readonly algorithm: SigningAlgorithm
  /**
   * HS256 applications only: the client secret sealed (AES-256-GCM) under the server's
   * `clientSecretSealingKey`, so ID tokens can be signed with it; `''` otherwise. Never the secret in clear.
   */
  readonly clientSecretSealed: string
  /** RFC 9126 §6: authorization requests must come through `par/` (a `request_uri`). */
  readonly requirePushedAuthorizationRequests: boolean
  /**
   * RFC 7591 `token_endpoint_auth_method` a registered client chose: client authentication must
   * use it. `''` (every application not created by dynamic registration) accepts any method.
   */
  readonly tokenEndpointAuthMethod: TokenEndpointAuthMethod | ''
  /** RFC 7591 `scope`: the only scopes the client may obtain; `null` when unrestricted. */
  readonly allowedScopes: readonly string[] | null
  /**
   * RFC 7662 §4: a resource server allowed to introspect every client's access tokens, and the
   * only kind of application that may obtain the `introspection` scope. Other clients learn
   * only about their own tokens. Set by administrators (CLI, host code), never by dynamic
   * registration or the self-service management pages.
   */
  readonly allowIntrospection: boolean
  /**
   * An end user, not the operator, created this client: RFC 7591 dynamic registration or the
   * self-service management pages. Its redirect URIs are only its registrant's word, so errors
   * found at the authorization endpoint before the user approved are shown on the error page,
   * never redirected (RFC 9700 §4.11.2), and the consent page names where the browser will go.
   * Set at creation; updates by the client or its owner never change it.
   */
  readonly selfRegistered: boolean
  readonly createdAt: Date
  readonly updatedAt: Date
}

/** Fields needed to create an application; the secret is already hashed. */
export interface NewApplication {
  readonly clientId: string
  readonly clientSecretHash: string
  readonly clientType: ClientType
  readonly authorizationGrantType: ApplicationGrantType
  readonly redirectUris: readonly string[]
  readonly postLogoutRedirectUris: readonly string[]
  readonly allowedOrigins: readonly string[]
  readonly name: string
  readonly userId: string | null
  readonly skipAuthorization: boolean
  readonly algorithm: SigningAlgorithm
  /** The sealed client secret of an HS256 application; `''` (the default) for none. */
  readonly clientSecretSealed?: string
  /** RFC 9126 §6 (default false). */
  readonly requirePushedAuthorizationRequests?: boolean
  /** RFC 7591 (default `''`, any method). */
  readonly tokenEndpointAuthMethod?: TokenEndpointAuthMethod | ''
  /** RFC 7591 `scope` (default `null`, unrestricted). */
  readonly allowedScopes?: readonly string[] | null
  /** RFC 7662 §4 introspection permission (default false). */
  readonly allowIntrospection?: boolean
  /** Created by an end user, redirect URIs unvetted (default false; `registerClient` always sets it). */
  readonly selfRegistered?: boolean
  readonly now: Date
}

/**
 * Fields of an application that can change after creation. `selfRegistered` is among them for
 * the operator (host code that vetted a client's redirect URIs); the toolkit's own update paths
 * (management edit, RFC 7592) never pass it.
 */
export type ApplicationChanges = Partial<Omit<NewApplication, 'now' | 'clientId'>>

/** An access token as stored: the token itself is known only by its checksum. */
export interface AccessTokenRecord {
  readonly id: number
  readonly checksum: string
  readonly applicationId: number | null
  readonly userId: string | null
  /** Space-separated granted scopes. */
  readonly scope: string
  readonly expiresAt: Date
  /** The refresh token family this token belongs to, if it came with a refresh token. */
  readonly tokenFamily: string | null
  /** The authorization code it was exchanged for, if any (to revoke on code replay). */
  readonly grantId: number | null
  readonly idTokenId: number | null
  /** RFC 8707 resource indicators, space-separated; `''` when unrestricted. */
  readonly resource: string
  readonly createdAt: Date
}

/** A refresh token as stored. */
export interface RefreshTokenRecord {
  readonly id: number
  readonly checksum: string
  readonly applicationId: number
  readonly userId: string | null
  /** The scope originally granted; a refresh may narrow what it asks for, never widen this. */
  readonly scope: string
  /** The access token issued with it; `null` once that token was revoked or cleared. */
  readonly accessTokenId: number | null
  /** All refresh tokens descended from one authorization share a family (reuse detection). */
  readonly tokenFamily: string
  readonly resource: string
  readonly revokedAt: Date | null
  /** When set, this token was rotated at `revokedAt`, and the successor pair is sealed under the old token (grace period). */
  readonly successorSealed: string | null
  /** When the user authenticated for the authorization the family descends from; `null` when unknown (OIDC `auth_time`). */
  readonly authTime: Date | null
  readonly createdAt: Date
}

/** An authorization code (DOT `Grant`). */
export interface GrantRecord {
  readonly id: number
  readonly checksum: string
  readonly applicationId: number
  readonly userId: string
  readonly expiresAt: Date
  readonly redirectUri: string
  readonly scope: string
  readonly codeChallenge: string
  readonly codeChallengeMethod: '' | 'plain' | 'S256'
  readonly nonce: string
  readonly claims: string
  readonly resource: string
  readonly authTime: Date
  readonly consumedAt: Date | null
  /** The token family created by the first exchange (so a replay can revoke it). */
  readonly tokenFamily: string | null
  readonly createdAt: Date
}

/** An ID token issued (DOT `IDToken`), keyed by `jti`. */
export interface IdTokenRecord {
  readonly id: number
  readonly jti: string
  readonly applicationId: number
  readonly userId: string
  readonly scope: string
  readonly expiresAt: Date
  readonly createdAt: Date
}

/** An ID token to record (the JWT itself is never stored). */
export interface NewIdToken {
  readonly jti: string
  readonly applicationId: number
  readonly userId: string
  readonly scope: string
  readonly expiresAt: Date
}

/** Where a device authorization stands (DOT `DeviceGrant.status`; expiry is a time, not a status). */
export type DeviceGrantStatus = 'authorization-pending' | 'authorized' | 'denied'

/** A device authorization (RFC 8628, DOT `DeviceGrant`). Both codes are known only by checksum. */
export interface DeviceGrantRecord {
  readonly id: number
  /** SHA-256 checksum of the `device_code`. */
  readonly checksum: string
  /** SHA-256 checksum of the normalised user code (upper case, no separators). */
  readonly userCodeChecksum: string
  readonly applicationId: number
  /** The user who entered the user code; only they may approve or deny. */
  readonly userId: string | null
  readonly scope: string
  /** RFC 8707 resource indicators asked for at device authorization, space-separated; `''` when unrestricted. */
  readonly resource: string
  readonly status: DeviceGrantStatus
  readonly expiresAt: Date
  /** Minimum seconds between polls; grows by 5 with each `slow_down` (RFC 8628 §3.5). */
  readonly interval: number
  readonly lastPolledAt: Date | null
  /** When the approving user last authenticated (`auth_time` of ID tokens). */
  readonly authTime: Date | null
  /** When the device exchanged it for tokens (single use). */
  readonly consumedAt: Date | null
  readonly createdAt: Date
}

/** A device authorization to insert. */
export interface NewDeviceGrant {
  readonly checksum: string
  readonly userCodeChecksum: string
  readonly applicationId: number
  readonly scope: string
  /** RFC 8707 resource indicators, space-separated; `''` when unrestricted. */
  readonly resource: string
  readonly expiresAt: Date
  readonly interval: number
}

/** What `recordDevicePoll` saw: whether the device polled faster than its interval, and the interval now in force. */
export interface DevicePollResult {
  readonly tooFast: boolean
  readonly interval: number
}

/** An access token to insert. */
export interface NewAccessToken {
  readonly checksum: string
  readonly applicationId: number | null
  readonly userId: string | null
  readonly scope: string
  readonly expiresAt: Date
  readonly tokenFamily: string | null
  readonly grantId: number | null
  readonly resource: string
}

/** A refresh token to insert (bound to the access token inserted with it). */
export interface NewRefreshToken {
  readonly checksum: string
  readonly applicationId: number
  readonly userId: string | null
  readonly scope: string
  readonly tokenFamily: string
  readonly resource: string
  /** When the user authenticated (carried across rotations for the ID token's `auth_time`); `null` or absent when unknown. */
  readonly authTime?: Date | null
}

/** An authorization code to insert. */
export interface NewGrant {
  readonly checksum: string
  readonly applicationId: number
  readonly userId: string
  readonly expiresAt: Date
  readonly redirectUri: string
  readonly scope: string
  readonly codeChallenge: string
  readonly codeChallengeMethod: '' | 'plain' | 'S256'
  readonly nonce: string
  readonly claims: string
  readonly resource: string
  readonly authTime: Date
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

/** Receives a store's invalidations; called synchronously, it must not throw. */
export type InvalidationListener = (event: StoreInvalidation) => void

/** RFC 7591/7592: the registration of a dynamically registered client. */
export interface ClientRegistrationRecord {
  readonly id: number
  readonly applicationId: number
  /** SHA-256 checksum of the registration access token (the token itself is never stored). */
  readonly accessTokenChecksum: string
  /** The client metadata the application's own columns do not hold, as a JSON object. */
  readonly metadata: Readonly<Record<string, unknown>>
  readonly createdAt: Date
  readonly updatedAt: Date
}

/** A registration to record with its application. */
export interface NewClientRegistration {
  readonly accessTokenChecksum: string
  readonly metadata: Readonly<Record<string, unknown>>
}

/** RFC 9126: a pushed authorization request, known by the checksum of its `request_uri`. */
export interface PushedAuthorizationRequestRecord {
  readonly id: number
  readonly checksum: string
  readonly applicationId: number
  /** The authorization request's parameters, as pushed. */
  readonly parameters: Readonly<Record<string, string>>
  readonly expiresAt: Date
  /** When the authorization endpoint first used it (the user's trip may take longer than `expires_in`). */
  readonly startedAt: Date | null
  /** When the user's decision used it up; it is single-use. */
  readonly consumedAt: Date | null
  readonly createdAt: Date
}

/** A pushed authorization request to insert. */
export interface NewPushedAuthorizationRequest {
  readonly checksum: string
  readonly applicationId: number
  readonly parameters: Readonly<Record<string, string>>
  readonly expiresAt: Date
}

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
   * replaces the registration's token checksum and metadata in one transaction; `null` when gone.
   */
  updateClientRegistration (applicationId: number, changes: ApplicationChanges, registration: NewClientRegistration, now: Date): Promise<Application | null>

  // pushed authorization requests (RFC 9126)
  /** Inserts a pushed request (and deletes those expired and never started before `now`). */
  createPushedAuthorizationRequest (request: NewPushedAuthorizationRequest, now: Date): Promise<PushedAuthorizationRequestRecord>
  findPushedAuthorizationRequest (checksum: string): Promise<PushedAuthorizationRequestRecord | null>
  /** Marks first use and sets the new expiry, only if unstarted, unconsumed and unexpired at `now`; true when this call did it. */
  startPushedAuthorizationRequest (id: number, now: Date, expiresAt: Date): Promise<boolean>
  /** Consumes it, only if unconsumed and unexpired at `now`; true when this call consumed it. */
  consumePushedAuthorizationRequest (id: number, now: Date): Promise<boolean>

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
