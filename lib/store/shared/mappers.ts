import type {
  LogoutDeliveryRecord, SessionRecord,
  AccessTokenRecord, Application, ApplicationGrantType, ClientRegistrationRecord, DeviceGrantRecord, GrantRecord, IdTokenRecord,
  PushedAuthorizationRequestRecord, RefreshTokenRecord, SigningAlgorithm, TokenEndpointAuthMethod,
} from '../records.js'
import type { VerifiableAccessToken } from '../types.js'
import type { Row } from './tables.js'

// Row → domain record, for both dialects (tables.ts). drizzle row types never leave lib/store/.

const AUTH_METHODS: readonly string[] = ['client_secret_basic', 'client_secret_post', 'none', 'private_key_jwt', 'client_secret_jwt']

/** `map(row)`, or `null` when the lookup found no row. */
export function mapOrNull<R, T> (row: R | undefined, map: (row: R) => T): T | null {
  return row === undefined ? null : map(row)
}

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
 * `standInApplication`): the stand-in is mapped too and dropped, so an unknown client_id costs
 * what a known one does (no timing side channel).
 */
export function matchingApplication (row: Row<'applications'> | undefined, clientId: string): Application | null {
  if (row === undefined) return null
  const application = toApplication(row)
  return row.clientId === clientId ? application : null
}

export function toApplication (row: Row<'applications'>): Application {
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
    jwks: row.jwks,
    jwksUri: row.jwksUri,
    tokenEndpointAuthSigningAlg: row.tokenEndpointAuthSigningAlg,
    dpopBoundAccessTokens: row.dpopBoundAccessTokens,
    requireSignedRequestObject: row.requireSignedRequestObject,
    requestObjectSigningAlg: row.requestObjectSigningAlg,
    userinfoSignedResponseAlg: row.userinfoSignedResponseAlg,
    backchannelLogoutUri: row.backchannelLogoutUri,
    backchannelLogoutSessionRequired: row.backchannelLogoutSessionRequired,
    cimdExpiresAt: row.cimdExpiresAt,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  }
}

export function toAccessToken (row: Row<'accessTokens'>): AccessTokenRecord {
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
    jkt: row.jkt,
    createdAt: row.createdAt,
  }
}

/** The verification lookup's joined row: the token and its application (`null` when it has none). */
export function toVerifiable (row: { token: Row<'accessTokens'>, application: Row<'applications'> | null }): VerifiableAccessToken {
  return { token: toAccessToken(row.token), application: row.application === null ? null : toApplication(row.application) }
}

export function toRefreshToken (row: Row<'refreshTokens'>): RefreshTokenRecord {
  return {
    id: row.id,
    checksum: row.tokenChecksum,
    tokenFamily: row.tokenFamily,
    accessTokenId: row.accessTokenId,
    applicationId: row.applicationId,
    userId: row.userId,
    scope: row.scope,
    resource: row.resource,
    revokedAt: row.revokedAt,
    successorSealed: row.successorSealed,
    authTime: row.authTime,
    jkt: row.jkt,
    sessionId: row.sessionId,
    createdAt: row.createdAt,
  }
}

export function toGrant (row: Row<'grants'>): GrantRecord {
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
    dpopJkt: row.dpopJkt,
    sessionId: row.sessionId,
    consumedAt: row.consumedAt,
    tokenFamily: row.tokenFamily,
    createdAt: row.createdAt,
  }
}

export function toIdToken (row: Row<'idTokens'>): IdTokenRecord {
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

export function toDeviceGrant (row: Row<'deviceGrants'>): DeviceGrantRecord {
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

/** A JSON object column → object; anything else (a hand-edited row) reads as empty. */
function jsonObject (text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text)
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? value as Record<string, unknown> : {}
  } catch {
    return {}
  }
}

export function toClientRegistration (row: Row<'clientRegistrations'>): ClientRegistrationRecord {
  return {
    id: row.id,
    applicationId: row.applicationId,
    accessTokenChecksum: row.accessTokenChecksum,
    metadata: jsonObject(row.metadata),
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  }
}

export function toPushedAuthorizationRequest (row: Row<'pushedAuthorizationRequests'>): PushedAuthorizationRequestRecord {
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

export function toSession (row: Row<'sessions'>): SessionRecord {
  return {
    id: row.id,
    sid: row.sid,
    userId: row.userId,
    authTime: row.authTime,
    expiresAt: row.expiresAt,
    endedAt: row.endedAt,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  }
}

export function toLogoutDelivery (row: Row<'logoutDeliveries'>): LogoutDeliveryRecord {
  return {
    id: row.id,
    applicationId: row.applicationId,
    userId: row.userId,
    sid: row.sid,
    attempts: row.attempts,
    nextAttemptAt: row.nextAttemptAt,
    lastError: row.lastError,
    createdAt: row.createdAt,
  }
}
