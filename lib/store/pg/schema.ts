import { sql } from 'drizzle-orm'
import { bigint, boolean, index, integer, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core'

// The PostgreSQL schema: the same tables, columns, indexes and cascades as the SQLite one
// (lib/store/sqlite/schema.ts), so the mappers and the contract tests are the same.
//
// Times are `timestamptz(3)`: millisecond precision, so a JS `Date` round-trips exactly, and
// readable in psql. They are always passed in from the injected clock, never SQL defaults,
// because expiry logic compares them. Ids are `bigint` identities (a busy server issues more
// than 2^31 access tokens over its life) read as JS numbers, exact up to 2^53.

/** A timestamptz column holding a JS `Date` at millisecond precision. */
const time = (name: string) => timestamp(name, { withTimezone: true, precision: 3, mode: 'date' })
/** A bigint id or foreign key, read as a JS number. */
const id = (name: string) => bigint(name, { mode: 'number' })

export const applications = pgTable('oauth2_application', {
  id: id('id').primaryKey().generatedAlwaysAsIdentity(),
  clientId: text('client_id').notNull(),
  clientSecret: text('client_secret').notNull().default(''),
  clientType: text('client_type', { enum: ['confidential', 'public'] }).notNull(),
  authorizationGrantType: text('authorization_grant_type').notNull(),
  redirectUris: text('redirect_uris').notNull().default(''),
  postLogoutRedirectUris: text('post_logout_redirect_uris').notNull().default(''),
  allowedOrigins: text('allowed_origins').notNull().default(''),
  name: text('name').notNull().default(''),
  userId: text('user_id'),
  skipAuthorization: boolean('skip_authorization').notNull().default(false),
  algorithm: text('algorithm').notNull().default(''),
  requirePushedAuthorizationRequests: boolean('require_pushed_authorization_requests').notNull().default(false),
  /** RFC 7591 `token_endpoint_auth_method` of a registered client; '' (any method) for others. */
  tokenEndpointAuthMethod: text('token_endpoint_auth_method').notNull().default(''),
  /** RFC 7591 `scope` of a registered client (space-separated); NULL when unrestricted. */
  allowedScopes: text('allowed_scopes'),
  /** RFC 7662 §4: a resource server that may introspect every client's access tokens; set by administrators only. */
  allowIntrospection: boolean('allow_introspection').notNull().default(false),
  /**
   * Created by an end user (dynamic registration, management pages), so its redirect URIs are
   * unvetted: authorization errors before approval are shown, never redirected.
   */
  selfRegistered: boolean('self_registered').notNull().default(false),
  /** HS256 applications only: the client secret sealed with AES-256-GCM (lib/tokens/client-secret-seal.ts), never in clear. */
  clientSecretSealed: text('client_secret_sealed').notNull().default(''),
  /** RFC 7591 `jwks`: the client's public keys as a JWK Set (JSON text); '' when it has none. */
  jwks: text('jwks').notNull().default(''),
  /** RFC 7591 `jwks_uri`: where the client publishes its JWK Set; '' when it has none. */
  jwksUri: text('jwks_uri').notNull().default(''),
  /** RFC 7591 / OIDC Registration `token_endpoint_auth_signing_alg`; '' accepts the server's list. */
  tokenEndpointAuthSigningAlg: text('token_endpoint_auth_signing_alg').notNull().default(''),
  /** RFC 9449 §5.2 `dpop_bound_access_tokens`: every token request must carry a DPoP proof. */
  dpopBoundAccessTokens: boolean('dpop_bound_access_tokens').notNull().default(false),
  /** RFC 9101 §10.5 `require_signed_request_object`. */
  requireSignedRequestObject: boolean('require_signed_request_object').notNull().default(false),
  /** OIDC Registration `request_object_signing_alg`; '' accepts the server's list. */
  requestObjectSigningAlg: text('request_object_signing_alg').notNull().default(''),
  /** OIDC Registration `userinfo_signed_response_alg`: UserInfo answers as a JWS signed with this key algorithm; '' answers plain JSON. */
  userinfoSignedResponseAlg: text('userinfo_signed_response_alg').notNull().default(''),
  createdAt: time('created').notNull(),
  updatedAt: time('updated').notNull(),
}, (t) => [
  uniqueIndex('oauth2_application_client_id_uq').on(t.clientId),
  index('oauth2_application_user_idx').on(t.userId),
])

export const grants = pgTable('oauth2_grant', {
  id: id('id').primaryKey().generatedAlwaysAsIdentity(),
  codeChecksum: text('code_checksum').notNull(),
  applicationId: id('application_id').notNull().references(() => applications.id, { onDelete: 'cascade' }),
  userId: text('user_id').notNull(),
  expiresAt: time('expires').notNull(),
  redirectUri: text('redirect_uri').notNull(),
  scope: text('scope').notNull().default(''),
  codeChallenge: text('code_challenge').notNull().default(''),
  codeChallengeMethod: text('code_challenge_method', { enum: ['', 'plain', 'S256'] }).notNull().default(''),
  nonce: text('nonce').notNull().default(''),
  claims: text('claims').notNull().default(''),
  resource: text('resource').notNull().default(''),
  /** RFC 9449 §10 `dpop_jkt`: the code may only be exchanged with a DPoP proof of this key; '' when unbound. */
  dpopJkt: text('dpop_jkt').notNull().default(''),
  authTime: time('auth_time').notNull(),
  consumedAt: time('consumed_at'),
  tokenFamily: text('token_family'),
  createdAt: time('created').notNull(),
  updatedAt: time('updated').notNull(),
}, (t) => [
  uniqueIndex('oauth2_grant_code_checksum_uq').on(t.codeChecksum),
  index('oauth2_grant_expires_idx').on(t.expiresAt),
  index('oauth2_grant_application_idx').on(t.applicationId),
])

export const idTokens = pgTable('oauth2_idtoken', {
  id: id('id').primaryKey().generatedAlwaysAsIdentity(),
  jti: text('jti').notNull(),
  applicationId: id('application_id').references(() => applications.id, { onDelete: 'cascade' }),
  userId: text('user_id'),
  scope: text('scope').notNull().default(''),
  expiresAt: time('expires').notNull(),
  createdAt: time('created').notNull(),
  updatedAt: time('updated').notNull(),
}, (t) => [
  uniqueIndex('oauth2_idtoken_jti_uq').on(t.jti),
  index('oauth2_idtoken_expires_idx').on(t.expiresAt),
  // PostgreSQL does not index foreign keys by itself; without this, deleting an application
  // scans the table for the cascade (SQLite gets by without: it is one process's file).
  index('oauth2_idtoken_application_idx').on(t.applicationId),
])

export const accessTokens = pgTable('oauth2_accesstoken', {
  id: id('id').primaryKey().generatedAlwaysAsIdentity(),
  tokenChecksum: text('token_checksum').notNull(),
  applicationId: id('application_id').references(() => applications.id, { onDelete: 'cascade' }),
  userId: text('user_id'),
  scope: text('scope').notNull().default(''),
  expiresAt: time('expires').notNull(),
  tokenFamily: text('token_family'),
  grantId: id('grant_id').references(() => grants.id, { onDelete: 'set null' }),
  idTokenId: id('id_token_id').references(() => idTokens.id, { onDelete: 'cascade' }),
  resource: text('resource').notNull().default(''),
  /** RFC 9449 §6: the JWK SHA-256 thumbprint (RFC 7638) the token is bound to (`cnf.jkt`); '' for a bearer token. */
  jkt: text('jkt').notNull().default(''),
  createdAt: time('created').notNull(),
  updatedAt: time('updated').notNull(),
}, (t) => [
  uniqueIndex('oauth2_accesstoken_checksum_uq').on(t.tokenChecksum),
  index('oauth2_accesstoken_expires_idx').on(t.expiresAt),
  // Partial: client-credentials tokens (no user, family or grant) skip these three (bench/README.md).
  index('oauth2_accesstoken_user_idx').on(t.userId).where(sql`${t.userId} IS NOT NULL`),
  index('oauth2_accesstoken_family_idx').on(t.tokenFamily).where(sql`${t.tokenFamily} IS NOT NULL`),
  index('oauth2_accesstoken_grant_idx').on(t.grantId).where(sql`${t.grantId} IS NOT NULL`),
  index('oauth2_accesstoken_application_idx').on(t.applicationId),
  // For the ID-token cascade and cleartokens' "no access token refers to it" test (see above).
  index('oauth2_accesstoken_id_token_idx').on(t.idTokenId),
])

export const refreshTokens = pgTable('oauth2_refreshtoken', {
  id: id('id').primaryKey().generatedAlwaysAsIdentity(),
  tokenChecksum: text('token_checksum').notNull(),
  applicationId: id('application_id').notNull().references(() => applications.id, { onDelete: 'cascade' }),
  userId: text('user_id'),
  scope: text('scope').notNull().default(''),
  accessTokenId: id('access_token_id').references(() => accessTokens.id, { onDelete: 'set null' }),
  tokenFamily: text('token_family').notNull(),
  resource: text('resource').notNull().default(''),
  /** RFC 9449 §5: the thumbprint of the key a public client's refresh must prove; '' when unbound. */
  jkt: text('jkt').notNull().default(''),
  revokedAt: time('revoked'),
  successorSealed: text('successor_sealed'),
  /** When the user authenticated for the authorization this family descends from (OIDC `auth_time` on refresh). */
  authTime: time('auth_time'),
  createdAt: time('created').notNull(),
  updatedAt: time('updated').notNull(),
}, (t) => [
  uniqueIndex('oauth2_refreshtoken_checksum_uq').on(t.tokenChecksum),
  uniqueIndex('oauth2_refreshtoken_access_token_uq').on(t.accessTokenId).where(sql`${t.accessTokenId} IS NOT NULL`),
  index('oauth2_refreshtoken_family_idx').on(t.tokenFamily),
  index('oauth2_refreshtoken_revoked_idx').on(t.revokedAt),
  index('oauth2_refreshtoken_created_idx').on(t.createdAt),
  index('oauth2_refreshtoken_application_idx').on(t.applicationId),
])

export const deviceGrants = pgTable('oauth2_devicegrant', {
  id: id('id').primaryKey().generatedAlwaysAsIdentity(),
  deviceCodeChecksum: text('device_code_checksum').notNull(),
  userCodeChecksum: text('user_code_checksum').notNull(),
  applicationId: id('application_id').notNull().references(() => applications.id, { onDelete: 'cascade' }),
  userId: text('user_id'),
  scope: text('scope').notNull().default(''),
  resource: text('resource').notNull().default(''),
  status: text('status', { enum: ['authorization-pending', 'authorized', 'denied'] }).notNull().default('authorization-pending'),
  expiresAt: time('expires').notNull(),
  interval: integer('interval').notNull(),
  lastPolledAt: time('last_polled'),
  authTime: time('auth_time'),
  consumedAt: time('consumed_at'),
  createdAt: time('created').notNull(),
  updatedAt: time('updated').notNull(),
}, (t) => [
  uniqueIndex('oauth2_devicegrant_device_code_uq').on(t.deviceCodeChecksum),
  uniqueIndex('oauth2_devicegrant_user_code_uq').on(t.userCodeChecksum),
  index('oauth2_devicegrant_expires_idx').on(t.expiresAt),
  index('oauth2_devicegrant_application_idx').on(t.applicationId),
])

/** RFC 7591/7592: what a dynamically registered client sent, and its registration access token. */
export const clientRegistrations = pgTable('oauth2_client_registration', {
  id: id('id').primaryKey().generatedAlwaysAsIdentity(),
  applicationId: id('application_id').notNull().references(() => applications.id, { onDelete: 'cascade' }),
  accessTokenChecksum: text('access_token_checksum').notNull(),
  metadata: text('metadata').notNull().default('{}'),
  createdAt: time('created').notNull(),
  updatedAt: time('updated').notNull(),
}, (t) => [
  uniqueIndex('oauth2_client_registration_application_uq').on(t.applicationId),
])

/** RFC 9126 pushed authorization requests, known by the checksum of their `request_uri`. */
export const pushedAuthorizationRequests = pgTable('oauth2_pushed_authorization_request', {
  id: id('id').primaryKey().generatedAlwaysAsIdentity(),
  requestChecksum: text('request_checksum').notNull(),
  applicationId: id('application_id').notNull().references(() => applications.id, { onDelete: 'cascade' }),
  parameters: text('parameters').notNull(),
  expiresAt: time('expires').notNull(),
  startedAt: time('started_at'),
  consumedAt: time('consumed_at'),
  createdAt: time('created').notNull(),
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
export const usedJtis = pgTable('oauth2_used_jti', {
  id: id('id').primaryKey().generatedAlwaysAsIdentity(),
  kind: text('kind').notNull(),
  keyChecksum: text('key_checksum').notNull(),
  expiresAt: time('expires').notNull(),
}, (t) => [
  uniqueIndex('oauth2_used_jti_key_uq').on(t.kind, t.keyChecksum),
  index('oauth2_used_jti_expires_idx').on(t.expiresAt),
])
