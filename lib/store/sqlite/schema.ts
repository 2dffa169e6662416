import { sql } from 'drizzle-orm'
import { index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core'

// The SQLite schema, one table per concept. Times are epoch milliseconds, always passed in from
// the injected clock (never SQL defaults), because expiry logic compares them.

export const applications = sqliteTable('oauth2_application', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  clientId: text('client_id').notNull(),
  clientSecret: text('client_secret').notNull().default(''),
  clientType: text('client_type', { enum: ['confidential', 'public'] }).notNull(),
  authorizationGrantType: text('authorization_grant_type').notNull(),
  redirectUris: text('redirect_uris').notNull().default(''),
  postLogoutRedirectUris: text('post_logout_redirect_uris').notNull().default(''),
  allowedOrigins: text('allowed_origins').notNull().default(''),
  name: text('name').notNull().default(''),
  userId: text('user_id'),
  skipAuthorization: integer('skip_authorization', { mode: 'boolean' }).notNull().default(false),
  algorithm: text('algorithm').notNull().default(''),
  requirePushedAuthorizationRequests: integer('require_pushed_authorization_requests', { mode: 'boolean' }).notNull().default(false),
  /** RFC 7591 `token_endpoint_auth_method` of a registered client; '' (any method) for others. */
  tokenEndpointAuthMethod: text('token_endpoint_auth_method').notNull().default(''),
  /** RFC 7591 `scope` of a registered client (space-separated); NULL when unrestricted. */
  allowedScopes: text('allowed_scopes'),
  /** RFC 7662 §4: a resource server that may introspect every client's access tokens; set by administrators only. */
  allowIntrospection: integer('allow_introspection', { mode: 'boolean' }).notNull().default(false),
  /**
   * Created by an end user (dynamic registration, management pages), so its redirect URIs are
   * unvetted: authorization errors before approval are shown, never redirected.
   */
  selfRegistered: integer('self_registered', { mode: 'boolean' }).notNull().default(false),
  /** HS256 applications only: the client secret sealed with AES-256-GCM (lib/tokens/client-secret-seal.ts), never in clear. */
  clientSecretSealed: text('client_secret_sealed').notNull().default(''),
  /** RFC 7591 `jwks`: the client's public keys as a JWK Set (JSON text); '' when it has none. */
  jwks: text('jwks').notNull().default(''),
  /** RFC 7591 `jwks_uri`: where the client publishes its JWK Set; '' when it has none. */
  jwksUri: text('jwks_uri').notNull().default(''),
  /** RFC 7591 / OIDC Registration `token_endpoint_auth_signing_alg`; '' accepts the server's list. */
  tokenEndpointAuthSigningAlg: text('token_endpoint_auth_signing_alg').notNull().default(''),
  /** RFC 9449 §5.2 `dpop_bound_access_tokens`: every token request must carry a DPoP proof. */
  dpopBoundAccessTokens: integer('dpop_bound_access_tokens', { mode: 'boolean' }).notNull().default(false),
  /** RFC 9101 §10.5 `require_signed_request_object`. */
  requireSignedRequestObject: integer('require_signed_request_object', { mode: 'boolean' }).notNull().default(false),
  /** OIDC Registration `request_object_signing_alg`; '' accepts the server's list. */
  requestObjectSigningAlg: text('request_object_signing_alg').notNull().default(''),
  /** OIDC Registration `userinfo_signed_response_alg`: UserInfo answers as a JWS signed with this key algorithm; '' answers plain JSON. */
  userinfoSignedResponseAlg: text('userinfo_signed_response_alg').notNull().default(''),
  /** OIDC Back-Channel Logout 1.0 §2.2 `backchannel_logout_uri`: where logout tokens are POSTed; '' when none. */
  backchannelLogoutUri: text('backchannel_logout_uri').notNull().default(''),
  /** OIDC Back-Channel Logout 1.0 §2.2 `backchannel_logout_session_required`: logout tokens must carry `sid`. */
  backchannelLogoutSessionRequired: integer('backchannel_logout_session_required', { mode: 'boolean' }).notNull().default(false),
  /**
   * A Client ID Metadata Document client (its `client_id` is the document's https URL): when the
   * cached document goes stale and must be fetched again. NULL for every other application.
   */
  cimdExpiresAt: integer('cimd_expires_at', { mode: 'timestamp_ms' }),
  createdAt: integer('created', { mode: 'timestamp_ms' }).notNull(),
  updatedAt: integer('updated', { mode: 'timestamp_ms' }).notNull(),
}, (t) => [
  uniqueIndex('oauth2_application_client_id_uq').on(t.clientId),
  index('oauth2_application_user_idx').on(t.userId),
])

export const grants = sqliteTable('oauth2_grant', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  codeChecksum: text('code_checksum').notNull(),
  applicationId: integer('application_id').notNull().references(() => applications.id, { onDelete: 'cascade' }),
  userId: text('user_id').notNull(),
  expiresAt: integer('expires', { mode: 'timestamp_ms' }).notNull(),
  redirectUri: text('redirect_uri').notNull(),
  scope: text('scope').notNull().default(''),
  codeChallenge: text('code_challenge').notNull().default(''),
  codeChallengeMethod: text('code_challenge_method', { enum: ['', 'plain', 'S256'] }).notNull().default(''),
  nonce: text('nonce').notNull().default(''),
  claims: text('claims').notNull().default(''),
  resource: text('resource').notNull().default(''),
  /** RFC 9449 §10 `dpop_jkt`: the code may only be exchanged with a DPoP proof of this key; '' when unbound. */
  dpopJkt: text('dpop_jkt').notNull().default(''),
  /** The user's session at this server the code was issued in (back-channel logout); NULL when none was known. */
  sessionId: integer('session_id').references(() => sessions.id, { onDelete: 'set null' }),
  authTime: integer('auth_time', { mode: 'timestamp_ms' }).notNull(),
  consumedAt: integer('consumed_at', { mode: 'timestamp_ms' }),
  tokenFamily: text('token_family'),
  createdAt: integer('created', { mode: 'timestamp_ms' }).notNull(),
  updatedAt: integer('updated', { mode: 'timestamp_ms' }).notNull(),
}, (t) => [
  uniqueIndex('oauth2_grant_code_checksum_uq').on(t.codeChecksum),
  index('oauth2_grant_expires_idx').on(t.expiresAt),
  index('oauth2_grant_application_idx').on(t.applicationId),
  index('oauth2_grant_session_idx').on(t.sessionId).where(sql`${t.sessionId} IS NOT NULL`),
])

export const idTokens = sqliteTable('oauth2_idtoken', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  jti: text('jti').notNull(),
  applicationId: integer('application_id').references(() => applications.id, { onDelete: 'cascade' }),
  userId: text('user_id'),
  scope: text('scope').notNull().default(''),
  expiresAt: integer('expires', { mode: 'timestamp_ms' }).notNull(),
  createdAt: integer('created', { mode: 'timestamp_ms' }).notNull(),
  updatedAt: integer('updated', { mode: 'timestamp_ms' }).notNull(),
}, (t) => [
  uniqueIndex('oauth2_idtoken_jti_uq').on(t.jti),
  index('oauth2_idtoken_expires_idx').on(t.expiresAt),
])

export const accessTokens = sqliteTable('oauth2_accesstoken', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  tokenChecksum: text('token_checksum').notNull(),
  applicationId: integer('application_id').references(() => applications.id, { onDelete: 'cascade' }),
  userId: text('user_id'),
  scope: text('scope').notNull().default(''),
  expiresAt: integer('expires', { mode: 'timestamp_ms' }).notNull(),
  tokenFamily: text('token_family'),
  grantId: integer('grant_id').references(() => grants.id, { onDelete: 'set null' }),
  idTokenId: integer('id_token_id').references(() => idTokens.id, { onDelete: 'cascade' }),
  resource: text('resource').notNull().default(''),
  /** RFC 9449 §6: the JWK SHA-256 thumbprint (RFC 7638) the token is bound to (`cnf.jkt`); '' for a bearer token. */
  jkt: text('jkt').notNull().default(''),
  createdAt: integer('created', { mode: 'timestamp_ms' }).notNull(),
  updatedAt: integer('updated', { mode: 'timestamp_ms' }).notNull(),
}, (t) => [
  uniqueIndex('oauth2_accesstoken_checksum_uq').on(t.tokenChecksum),
  index('oauth2_accesstoken_expires_idx').on(t.expiresAt),
  // Partial: client-credentials tokens (no user, family or grant) skip these three (bench/README.md).
  index('oauth2_accesstoken_user_idx').on(t.userId).where(sql`${t.userId} IS NOT NULL`),
  index('oauth2_accesstoken_family_idx').on(t.tokenFamily).where(sql`${t.tokenFamily} IS NOT NULL`),
  index('oauth2_accesstoken_grant_idx').on(t.grantId).where(sql`${t.grantId} IS NOT NULL`),
  index('oauth2_accesstoken_application_idx').on(t.applicationId),
])

export const refreshTokens = sqliteTable('oauth2_refreshtoken', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  tokenChecksum: text('token_checksum').notNull(),
  applicationId: integer('application_id').notNull().references(() => applications.id, { onDelete: 'cascade' }),
  userId: text('user_id'),
  scope: text('scope').notNull().default(''),
  accessTokenId: integer('access_token_id').references(() => accessTokens.id, { onDelete: 'set null' }),
  tokenFamily: text('token_family').notNull(),
  resource: text('resource').notNull().default(''),
  /** RFC 9449 §5: the thumbprint of the key a public client's refresh must prove; '' when unbound. */
  jkt: text('jkt').notNull().default(''),
  /** The session this family was issued in (carried across rotations); NULL when none. Back-Channel Logout §2.7 revokes non-offline families with it. */
  sessionId: integer('session_id').references(() => sessions.id, { onDelete: 'set null' }),
  revokedAt: integer('revoked', { mode: 'timestamp_ms' }),
  successorSealed: text('successor_sealed'),
  /** When the user authenticated for the authorization this family descends from (OIDC `auth_time` on refresh). */
  authTime: integer('auth_time', { mode: 'timestamp_ms' }),
  createdAt: integer('created', { mode: 'timestamp_ms' }).notNull(),
  updatedAt: integer('updated', { mode: 'timestamp_ms' }).notNull(),
}, (t) => [
  uniqueIndex('oauth2_refreshtoken_checksum_uq').on(t.tokenChecksum),
  index('oauth2_refreshtoken_session_idx').on(t.sessionId).where(sql`${t.sessionId} IS NOT NULL`),
  uniqueIndex('oauth2_refreshtoken_access_token_uq').on(t.accessTokenId).where(sql`${t.accessTokenId} IS NOT NULL`),
  index('oauth2_refreshtoken_family_idx').on(t.tokenFamily),
  index('oauth2_refreshtoken_revoked_idx').on(t.revokedAt),
  index('oauth2_refreshtoken_created_idx').on(t.createdAt),
  index('oauth2_refreshtoken_application_idx').on(t.applicationId),
])

export const deviceGrants = sqliteTable('oauth2_devicegrant', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  // RFC 8628: both codes are known only by their SHA-256 checksums.
  deviceCodeChecksum: text('device_code_checksum').notNull(),
  userCodeChecksum: text('user_code_checksum').notNull(),
  applicationId: integer('application_id').notNull().references(() => applications.id, { onDelete: 'cascade' }),
  // Set when a logged-in user enters the user code: only that user may decide (DOT 3.4.1 #1819).
  userId: text('user_id'),
  scope: text('scope').notNull().default(''),
  // RFC 8707 resource indicators asked for at device authorization; '' when unrestricted.
  resource: text('resource').notNull().default(''),
  status: text('status', { enum: ['authorization-pending', 'authorized', 'denied'] }).notNull().default('authorization-pending'),
  expiresAt: integer('expires', { mode: 'timestamp_ms' }).notNull(),
  // Seconds; grows by 5 with every slow_down (RFC 8628 §3.5).
  interval: integer('interval').notNull(),
  lastPolledAt: integer('last_polled', { mode: 'timestamp_ms' }),
  authTime: integer('auth_time', { mode: 'timestamp_ms' }),
  consumedAt: integer('consumed_at', { mode: 'timestamp_ms' }),
  createdAt: integer('created', { mode: 'timestamp_ms' }).notNull(),
  updatedAt: integer('updated', { mode: 'timestamp_ms' }).notNull(),
}, (t) => [
  uniqueIndex('oauth2_devicegrant_device_code_uq').on(t.deviceCodeChecksum),
  uniqueIndex('oauth2_devicegrant_user_code_uq').on(t.userCodeChecksum),
  index('oauth2_devicegrant_expires_idx').on(t.expiresAt),
  index('oauth2_devicegrant_application_idx').on(t.applicationId),
])

/** RFC 7591/7592: what a dynamically registered client sent, and its registration access token. */
export const clientRegistrations = sqliteTable('oauth2_client_registration', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  applicationId: integer('application_id').notNull().references(() => applications.id, { onDelete: 'cascade' }),
  accessTokenChecksum: text('access_token_checksum').notNull(),
  metadata: text('metadata').notNull().default('{}'),
  createdAt: integer('created', { mode: 'timestamp_ms' }).notNull(),
  updatedAt: integer('updated', { mode: 'timestamp_ms' }).notNull(),
}, (t) => [
  uniqueIndex('oauth2_client_registration_application_uq').on(t.applicationId),
])

/** RFC 9126 pushed authorization requests, known by the checksum of their `request_uri`. */
export const pushedAuthorizationRequests = sqliteTable('oauth2_pushed_authorization_request', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  requestChecksum: text('request_checksum').notNull(),
  applicationId: integer('application_id').notNull().references(() => applications.id, { onDelete: 'cascade' }),
  parameters: text('parameters').notNull(),
  expiresAt: integer('expires', { mode: 'timestamp_ms' }).notNull(),
  startedAt: integer('started_at', { mode: 'timestamp_ms' }),
  consumedAt: integer('consumed_at', { mode: 'timestamp_ms' }),
  createdAt: integer('created', { mode: 'timestamp_ms' }).notNull(),
}, (t) => [
  uniqueIndex('oauth2_par_request_checksum_uq').on(t.requestChecksum),
  index('oauth2_par_expires_idx').on(t.expiresAt),
  index('oauth2_par_application_idx').on(t.applicationId),
])

/**
 * Values that may be used once (`jti` of DPoP proofs, client assertions and request objects),
 * known by the SHA-256 checksum of their kind-scoped key: a unique index makes a replay fail
 * atomically, across every instance on the database. Rows go once expired (`clearExpired`).
 */
export const usedJtis = sqliteTable('oauth2_used_jti', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  kind: text('kind').notNull(),
  keyChecksum: text('key_checksum').notNull(),
  expiresAt: integer('expires', { mode: 'timestamp_ms' }).notNull(),
}, (t) => [
  uniqueIndex('oauth2_used_jti_key_uq').on(t.kind, t.keyChecksum),
  index('oauth2_used_jti_expires_idx').on(t.expiresAt),
])

/**
 * A user's login session at this server, as the host reports it (`resolveUser`'s `sessionId`),
 * known to relying parties by `sid` (OIDC Back-Channel Logout 1.0 §2.4, Front-Channel's `sid`).
 * The host's own session id is a bearer secret, so only its SHA-256 checksum is kept (high-entropy, like a token). `expires`
 * moves forward with each authorization; an ended or expired session is cleared by
 * `clearExpired`.
 */
export const sessions = sqliteTable('oauth2_session', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  /** The public session id put in ID tokens and logout tokens (random, URL-safe). */
  sid: text('sid').notNull(),
  /** Checksum of the host's session id; NULL once the session ended (a new login gets a new row). */
  sessionKeyChecksum: text('session_key_checksum'),
  userId: text('user_id').notNull(),
  authTime: integer('auth_time', { mode: 'timestamp_ms' }).notNull(),
  expiresAt: integer('expires', { mode: 'timestamp_ms' }).notNull(),
  endedAt: integer('ended', { mode: 'timestamp_ms' }),
  createdAt: integer('created', { mode: 'timestamp_ms' }).notNull(),
  updatedAt: integer('updated', { mode: 'timestamp_ms' }).notNull(),
}, (t) => [
  uniqueIndex('oauth2_session_sid_uq').on(t.sid),
  uniqueIndex('oauth2_session_key_uq').on(t.sessionKeyChecksum).where(sql`${t.sessionKeyChecksum} IS NOT NULL`),
  index('oauth2_session_user_idx').on(t.userId),
  index('oauth2_session_expires_idx').on(t.expiresAt),
])

/** The relying parties that were issued codes or tokens in a session: who gets a logout token when it ends. */
export const sessionClients = sqliteTable('oauth2_session_client', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  sessionId: integer('session_id').notNull().references(() => sessions.id, { onDelete: 'cascade' }),
  applicationId: integer('application_id').notNull().references(() => applications.id, { onDelete: 'cascade' }),
  createdAt: integer('created', { mode: 'timestamp_ms' }).notNull(),
}, (t) => [
  uniqueIndex('oauth2_session_client_uq').on(t.sessionId, t.applicationId),
  index('oauth2_session_client_application_idx').on(t.applicationId),
])

/**
 * Logout tokens still to deliver (OIDC Back-Channel Logout 1.0 §2.5), an outbox any instance may
 * work through: a row is written when the session ends, claimed by moving `next_attempt`
 * forward, and deleted once the relying party answered 200 or the attempts ran out. The token
 * itself is signed at each attempt (fresh `iat` and `jti`), so no signed token is stored.
 */
export const logoutDeliveries = sqliteTable('oauth2_logout_delivery', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  applicationId: integer('application_id').notNull().references(() => applications.id, { onDelete: 'cascade' }),
  /** The logout token's `sub` source: the user id as ID tokens carry it. */
  userId: text('user_id').notNull(),
  /** The ended session's `sid`, kept here because the session row may be cleared first. */
  sid: text('sid').notNull(),
  attempts: integer('attempts').notNull().default(0),
  nextAttemptAt: integer('next_attempt', { mode: 'timestamp_ms' }).notNull(),
  lastError: text('last_error').notNull().default(''),
  createdAt: integer('created', { mode: 'timestamp_ms' }).notNull(),
}, (t) => [
  index('oauth2_logout_delivery_next_idx').on(t.nextAttemptAt),
  index('oauth2_logout_delivery_application_idx').on(t.applicationId),
])

/**
 * One row (`id` 1): what other connections need to keep their verification caches.
 * Triggers (migration 0007) add 1 to `generation` on every UPDATE or DELETE of an application.
 * Access tokens go to `oauth_cache_log` (migration 0008): an UPDATE of a verified column, or a
 * DELETE, except the DELETE of one that expired before `clearing_before`, which `clearExpired`
 * sets inside its own batch transactions (0 otherwise). Each such batch ends by raising
 * `cleared_before` to its expiry bound and counting itself in `clear_batches`. Inserts change
 * nothing: a cache holds no negative results. SQLite only (PostgreSQL has NOTIFY).
 */
export const cacheState = sqliteTable('oauth_cache_state', {
  id: integer('id').primaryKey(),
  generation: integer('generation').notNull().default(0),
  /** Epoch ms; non-zero only inside a `clearExpired` batch transaction. */
  clearingBefore: integer('clearing_before').notNull().default(0),
  /** Epoch ms: the largest expiry bound of the `clearExpired` batches so far (0: none yet). */
  clearedBefore: integer('cleared_before').notNull().default(0),
  /** How many `clearExpired` batches that deleted access tokens have committed. */
  clearBatches: integer('clear_batches').notNull().default(0),
  /**
   * The largest `seq` ever deleted from `oauth_cache_log` (migration 0008; a trigger keeps it,
   * whoever deletes): a connection whose last read position is below it may have missed entries.
   */
  logPrunedThrough: integer('log_pruned_through').notNull().default(0),
})

/**
 * Which access tokens were deleted or changed (migration 0008), for other connections'
 * verification caches: triggers append the checksum of every access token deleted (except by
 * `clearExpired`, see `cacheState`) or changed in a verified column, whoever writes. `seq` never
 * repeats (AUTOINCREMENT); the stores delete the oldest entries beyond a few thousand. SQLite only.
 */
export const cacheLog = sqliteTable('oauth_cache_log', {
  seq: integer('seq').primaryKey({ autoIncrement: true }),
  tokenChecksum: text('token_checksum').notNull(),
})
