import type { Application, ApplicationChanges, ApplicationGrantType, AccessTokenRecord, ClientRegistrationRecord, DeviceGrantRecord, GrantRecord, IdTokenRecord, NewApplication, NewDeviceGrant, PushedAuthorizationRequestRecord, RefreshTokenRecord, SigningAlgorithm, TokenEndpointAuthMethod } from '../types.js'
import type * as schema from './schema.js'

// Row → domain mapping. drizzle row types never leave lib/store/sqlite.

const AUTH_METHODS: readonly string[] = ['client_secret_basic', 'client_secret_post', 'none']

/** Space-separated list column → array (DOT stores URIs this way). */
export function splitList (value: string): string[] {
  return value.split(/\s+/).filter((s) => s.length > 0)
}

/** Array → space-separated list column. */
export function joinList (values: readonly string[]): string {
  return values.join(' ')
}

/**
 * The result of a lookup by client_id that returns the matching row or else a stand-in row (see
 * the stores' `applicationByClientId`): the stand-in is mapped too and dropped, so an unknown
 * client_id costs what a known one does (no timing side channel).
 */
export function matchingApplication (row: typeof schema.applications.$inferSelect | undefined, clientId: string): Application | null {
  if (row === undefined) return null
  const application = toApplication(row)
  return row.clientId === clientId ? application : null
}

export function toApplication (row: typeof schema.applications.$inferSelect): Application {
  return {
    id: row.id,
    clientId: row.clientId,
    clientSecretHash: row.clientSecret,
    clientType: row.clientType,
    authorizationGrantType: row.authorizationGrantType as ApplicationGrantType,
    redirectUris: splitList(row.redirectUris),
    postLogoutRedirectUris: splitList(row.postLogoutRedirectUris),
    allowedOrigins: splitList(row.allowedOrigins),
    name: row.name,
    userId: row.userId,
    skipAuthorization: row.skipAuthorization,
    algorithm: row.algorithm as SigningAlgorithm,
    clientSecretSealed: row.clientSecretSealed,
    requirePushedAuthorizationRequests: row.requirePushedAuthorizationRequests,
    tokenEndpointAuthMethod: AUTH_METHODS.includes(row.tokenEndpointAuthMethod) ? row.tokenEndpointAuthMethod as TokenEndpointAuthMethod : '',
    allowedScopes: row.allowedScopes === null ? null : splitList(row.allowedScopes),
    allowIntrospection: row.allowIntrospection,
    selfRegistered: row.selfRegistered,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  }
}

export function toAccessToken (row: typeof schema.accessTokens.$inferSelect): AccessTokenRecord {
  return {
    id: row.id,
    checksum: row.tokenChecksum,
    applicationId: row.applicationId,
    userId: row.userId,
    scope: row.scope,
    expiresAt: row.expiresAt,
    tokenFamily: row.tokenFamily,
    grantId: row.grantId,
    idTokenId: row.idTokenId,
    resource: row.resource,
    createdAt: row.createdAt,
  }
}

export function toRefreshToken (row: typeof schema.refreshTokens.$inferSelect): RefreshTokenRecord {
  return {
    id: row.id,
    checksum: row.tokenChecksum,
    applicationId: row.applicationId,
    userId: row.userId,
    scope: row.scope,
    accessTokenId: row.accessTokenId,
    tokenFamily: row.tokenFamily,
    resource: row.resource,
    revokedAt: row.revokedAt,
    successorSealed: row.successorSealed,
    authTime: row.authTime,
    createdAt: row.createdAt,
  }
}

export function toGrant (row: typeof schema.grants.$inferSelect): GrantRecord {
  return {
    id: row.id,
    checksum: row.codeChecksum,
    applicationId: row.applicationId,
    userId: row.userId,
    expiresAt: row.expiresAt,
    redirectUri: row.redirectUri,
    scope: row.scope,
    codeChallenge: row.codeChallenge,
    codeChallengeMethod: row.codeChallengeMethod,
    nonce: row.nonce,
    claims: row.claims,
    resource: row.resource,
    authTime: row.authTime,
    consumedAt: row.consumedAt,
    tokenFamily: row.tokenFamily,
    createdAt: row.createdAt,
  }
}

export function toIdToken (row: typeof schema.idTokens.$inferSelect): IdTokenRecord {
  return {
    id: row.id,
    jti: row.jti,
    // Nullable columns (DOT's schema); the store only ever writes both.
    applicationId: row.applicationId ?? 0,
    userId: row.userId ?? '',
    scope: row.scope,
    expiresAt: row.expiresAt,
    createdAt: row.createdAt,
  }
}

export function toDeviceGrant (row: typeof schema.deviceGrants.$inferSelect): DeviceGrantRecord {
  return {
    id: row.id,
    checksum: row.deviceCodeChecksum,
    userCodeChecksum: row.userCodeChecksum,
    applicationId: row.applicationId,
    userId: row.userId,
    scope: row.scope,
    resource: row.resource,
    status: row.status,
    expiresAt: row.expiresAt,
    interval: row.interval,
    lastPolledAt: row.lastPolledAt,
    authTime: row.authTime,
    consumedAt: row.consumedAt,
    createdAt: row.createdAt,
  }
}

/** The column values of a new device authorization. */
export function newDeviceGrantToRow (grant: NewDeviceGrant, now: Date): typeof schema.deviceGrants.$inferInsert {
  return {
    deviceCodeChecksum: grant.checksum,
    userCodeChecksum: grant.userCodeChecksum,
    applicationId: grant.applicationId,
    scope: grant.scope,
    resource: grant.resource,
    expiresAt: grant.expiresAt,
    interval: grant.interval,
    createdAt: now,
    updatedAt: now,
  }
}

/** The column values of an application update: only the given fields, plus `updated`. */
export function applicationChangesToRow (changes: ApplicationChanges, now: Date): Partial<typeof schema.applications.$inferInsert> {
  const set: Partial<typeof schema.applications.$inferInsert> = { updatedAt: now }
  if (changes.clientSecretHash !== undefined) set.clientSecret = changes.clientSecretHash
  if (changes.clientType !== undefined) set.clientType = changes.clientType
  if (changes.authorizationGrantType !== undefined) set.authorizationGrantType = changes.authorizationGrantType
  if (changes.redirectUris !== undefined) set.redirectUris = joinList(changes.redirectUris)
  if (changes.postLogoutRedirectUris !== undefined) set.postLogoutRedirectUris = joinList(changes.postLogoutRedirectUris)
  if (changes.allowedOrigins !== undefined) set.allowedOrigins = joinList(changes.allowedOrigins)
  if (changes.name !== undefined) set.name = changes.name
  if (changes.userId !== undefined) set.userId = changes.userId
  if (changes.skipAuthorization !== undefined) set.skipAuthorization = changes.skipAuthorization
  if (changes.algorithm !== undefined) set.algorithm = changes.algorithm
  if (changes.clientSecretSealed !== undefined) set.clientSecretSealed = changes.clientSecretSealed
  if (changes.requirePushedAuthorizationRequests !== undefined) set.requirePushedAuthorizationRequests = changes.requirePushedAuthorizationRequests
  if (changes.tokenEndpointAuthMethod !== undefined) set.tokenEndpointAuthMethod = changes.tokenEndpointAuthMethod
  if (changes.allowedScopes !== undefined) set.allowedScopes = changes.allowedScopes === null ? null : joinList(changes.allowedScopes)
  if (changes.allowIntrospection !== undefined) set.allowIntrospection = changes.allowIntrospection
  if (changes.selfRegistered !== undefined) set.selfRegistered = changes.selfRegistered
  return set
}

/**
 * The column values of an RFC 7592 update: as an application update, except that a registered
 * client stays self-registered (a client cannot vouch for its own redirect URIs).
 */
export function registrationChangesToRow (changes: ApplicationChanges, now: Date): Partial<typeof schema.applications.$inferInsert> {
  const set = applicationChangesToRow(changes, now)
  delete set.selfRegistered
  return set
}

/** The insert values of a dynamically registered client: self-registered, whatever `app` says. */
export function registeredApplicationToRow (app: NewApplication): typeof schema.applications.$inferInsert {
  return { ...newApplicationToRow(app), selfRegistered: true }
}

/** The insert values of a new application. */
export function newApplicationToRow (app: NewApplication): typeof schema.applications.$inferInsert {
  return {
    clientId: app.clientId,
    clientSecret: app.clientSecretHash,
    clientType: app.clientType,
    authorizationGrantType: app.authorizationGrantType,
    redirectUris: joinList(app.redirectUris),
    postLogoutRedirectUris: joinList(app.postLogoutRedirectUris),
    allowedOrigins: joinList(app.allowedOrigins),
    name: app.name,
    userId: app.userId,
    skipAuthorization: app.skipAuthorization,
    algorithm: app.algorithm,
    requirePushedAuthorizationRequests: app.requirePushedAuthorizationRequests ?? false,
    tokenEndpointAuthMethod: app.tokenEndpointAuthMethod ?? '',
    allowedScopes: app.allowedScopes === undefined || app.allowedScopes === null ? null : joinList(app.allowedScopes),
    allowIntrospection: app.allowIntrospection ?? false,
    selfRegistered: app.selfRegistered ?? false,
    clientSecretSealed: app.clientSecretSealed ?? '',
    createdAt: app.now,
    updatedAt: app.now,
  }
}

/** A JSON object column → object; anything else (a hand-edited row) reads as empty. */
function jsonObject (text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text)
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? value as Record<string, unknown> : {}
  } catch {
    return {}
  }
}

export function toClientRegistration (row: typeof schema.clientRegistrations.$inferSelect): ClientRegistrationRecord {
  return {
    id: row.id,
    applicationId: row.applicationId,
    accessTokenChecksum: row.accessTokenChecksum,
    metadata: jsonObject(row.metadata),
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  }
}

export function toPushedAuthorizationRequest (row: typeof schema.pushedAuthorizationRequests.$inferSelect): PushedAuthorizationRequestRecord {
  const parameters: Record<string, string> = Object.create(null) as Record<string, string>
  for (const [name, value] of Object.entries(jsonObject(row.parameters))) if (typeof value === 'string') parameters[name] = value
  return {
    id: row.id,
    checksum: row.requestChecksum,
    applicationId: row.applicationId,
    parameters,
    expiresAt: row.expiresAt,
    startedAt: row.startedAt,
    consumedAt: row.consumedAt,
    createdAt: row.createdAt,
  }
}
