import type {
  ApplicationChanges, NewAccessToken, NewApplication, NewClientRegistration, NewDeviceGrant, NewGrant, NewIdToken, NewPushedAuthorizationRequest,
  NewRefreshToken,
} from '../records.js'
import { joinList } from './mappers.js'
import type { InsertRow, RowChanges } from './tables.js'

// Domain record → column values, for both dialects (tables.ts). Times come from the caller
// (the injected clock), never from SQL defaults: expiry logic compares them.

/** The insert values of a new application. */
export function newApplicationToRow (app: NewApplication): InsertRow<'applications'> {
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
    jwks: app.jwks ?? '',
    jwksUri: app.jwksUri ?? '',
    tokenEndpointAuthSigningAlg: app.tokenEndpointAuthSigningAlg ?? '',
    dpopBoundAccessTokens: app.dpopBoundAccessTokens ?? false,
    requireSignedRequestObject: app.requireSignedRequestObject ?? false,
    requestObjectSigningAlg: app.requestObjectSigningAlg ?? '',
    userinfoSignedResponseAlg: app.userinfoSignedResponseAlg ?? '',
    backchannelLogoutUri: app.backchannelLogoutUri ?? '',
    backchannelLogoutSessionRequired: app.backchannelLogoutSessionRequired ?? false,
    cimdExpiresAt: app.cimdExpiresAt ?? null,
    createdAt: app.now,
    updatedAt: app.now,
  }
}

/** The insert values of a dynamically registered client: self-registered, whatever `app` says. */
export function registeredApplicationToRow (app: NewApplication): InsertRow<'applications'> {
  return { ...newApplicationToRow(app), selfRegistered: true }
}

/** The column values of an application update: only the given fields, plus `updated`. */
export function applicationChangesToRow (changes: ApplicationChanges, now: Date): RowChanges<'applications'> {
  const set: RowChanges<'applications'> = { updatedAt: now }
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
  if (changes.jwks !== undefined) set.jwks = changes.jwks
  if (changes.jwksUri !== undefined) set.jwksUri = changes.jwksUri
  if (changes.tokenEndpointAuthSigningAlg !== undefined) set.tokenEndpointAuthSigningAlg = changes.tokenEndpointAuthSigningAlg
  if (changes.dpopBoundAccessTokens !== undefined) set.dpopBoundAccessTokens = changes.dpopBoundAccessTokens
  if (changes.requireSignedRequestObject !== undefined) set.requireSignedRequestObject = changes.requireSignedRequestObject
  if (changes.requestObjectSigningAlg !== undefined) set.requestObjectSigningAlg = changes.requestObjectSigningAlg
  if (changes.userinfoSignedResponseAlg !== undefined) set.userinfoSignedResponseAlg = changes.userinfoSignedResponseAlg
  if (changes.backchannelLogoutUri !== undefined) set.backchannelLogoutUri = changes.backchannelLogoutUri
  if (changes.backchannelLogoutSessionRequired !== undefined) set.backchannelLogoutSessionRequired = changes.backchannelLogoutSessionRequired
  if (changes.cimdExpiresAt !== undefined) set.cimdExpiresAt = changes.cimdExpiresAt
  return set
}

/**
 * The column values of an RFC 7592 update: as an application update, except that a registered
 * client stays self-registered (a client cannot vouch for its own redirect URIs).
 */
export function registrationChangesToRow (changes: ApplicationChanges, now: Date): RowChanges<'applications'> {
  const set = applicationChangesToRow(changes, now)
  delete set.selfRegistered
  return set
}

/** The insert values of a registration, recorded with its application. */
export function newClientRegistrationToRow (applicationId: number, registration: NewClientRegistration, now: Date): InsertRow<'clientRegistrations'> {
  return { applicationId, ...clientRegistrationChanges(registration, now), createdAt: now }
}

/** The column values that replace a registration's token checksum and metadata (RFC 7592 update). */
export function clientRegistrationChanges (registration: NewClientRegistration, now: Date): Required<Pick<InsertRow<'clientRegistrations'>, 'accessTokenChecksum' | 'metadata' | 'updatedAt'>> {
  return {
    accessTokenChecksum: registration.accessTokenChecksum,
    metadata: JSON.stringify(registration.metadata),
    updatedAt: now,
  }
}

/** The insert values of a pushed authorization request. */
export function newPushedAuthorizationRequestToRow (request: NewPushedAuthorizationRequest, now: Date): InsertRow<'pushedAuthorizationRequests'> {
  return {
    requestChecksum: request.checksum,
    applicationId: request.applicationId,
    parameters: JSON.stringify(request.parameters),
    expiresAt: request.expiresAt,
    createdAt: now,
  }
}

/** The insert values of an authorization code. */
export function newGrantToRow (grant: NewGrant, now: Date): InsertRow<'grants'> {
  return {
    codeChecksum: grant.checksum,
    applicationId: grant.applicationId,
    userId: grant.userId,
    expiresAt: grant.expiresAt,
    redirectUri: grant.redirectUri,
    scope: grant.scope,
    codeChallenge: grant.codeChallenge,
    codeChallengeMethod: grant.codeChallengeMethod,
    nonce: grant.nonce,
    claims: grant.claims,
    resource: grant.resource,
    authTime: grant.authTime,
    dpopJkt: grant.dpopJkt ?? '',
    sessionId: grant.sessionId ?? null,
    createdAt: now,
    updatedAt: now,
  }
}

/** The insert values of a device authorization. */
export function newDeviceGrantToRow (grant: NewDeviceGrant, now: Date): InsertRow<'deviceGrants'> {
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

/** The insert values of an ID token (the JWT itself is never stored). */
export function newIdTokenToRow (idToken: NewIdToken, now: Date): InsertRow<'idTokens'> {
  return {
    jti: idToken.jti,
    applicationId: idToken.applicationId,
    userId: idToken.userId,
    scope: idToken.scope,
    expiresAt: idToken.expiresAt,
    createdAt: now,
    updatedAt: now,
  }
}

/** The columns an access token insert leaves to the database: the id. */
export const ACCESS_TOKEN_UNSET = ['id'] as const

/**
 * Every other column of an access token insert. All present, so that the SQLite store can pass
 * this object to its prepared INSERT as the values of placeholders named after the columns.
 */
export type AccessTokenValues = Required<Omit<InsertRow<'accessTokens'>, typeof ACCESS_TOKEN_UNSET[number]>>

/** The insert values of an issued access token. */
export function newAccessTokenToRow (at: NewAccessToken, idTokenId: number | null, now: Date): AccessTokenValues {
  return {
    tokenChecksum: at.checksum,
    applicationId: at.applicationId,
    userId: at.userId,
    scope: at.scope,
    expiresAt: at.expiresAt,
    tokenFamily: at.tokenFamily,
    grantId: at.grantId,
    idTokenId,
    resource: at.resource,
    jkt: at.jkt ?? '',
    createdAt: now,
    updatedAt: now,
  }
}

/** The columns a refresh token insert leaves to the database: the id, and the rotation state (a new token is live). */
export const REFRESH_TOKEN_UNSET = ['id', 'revokedAt', 'successorSealed'] as const

/** Every other column of a refresh token insert, all present (see `AccessTokenValues`). */
export type RefreshTokenValues = Required<Omit<InsertRow<'refreshTokens'>, typeof REFRESH_TOKEN_UNSET[number]>>

/** The insert values of an issued refresh token, bound to the access token issued with it. */
export function newRefreshTokenToRow (rt: NewRefreshToken, accessTokenId: number, now: Date): RefreshTokenValues {
  return {
    tokenChecksum: rt.checksum,
    applicationId: rt.applicationId,
    userId: rt.userId,
    scope: rt.scope,
    accessTokenId,
    tokenFamily: rt.tokenFamily,
    resource: rt.resource,
    authTime: rt.authTime ?? null,
    jkt: rt.jkt ?? '',
    sessionId: rt.sessionId ?? null,
    createdAt: now,
    updatedAt: now,
  }
}
