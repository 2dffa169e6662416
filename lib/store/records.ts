/**
 * The domain records of the store: applications, tokens, codes, device authorizations,
 * registrations and pushed requests as the grant and endpoint logic sees them, and the fields
 * needed to create each. Tokens appear here only as SHA-256 checksums; client secrets only as
 * hashes. Each dialect maps its rows to these (lib/store/shared/).
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

/**
 * ID token signing algorithm of an application (OIDC Registration `id_token_signed_response_alg`):
 * one of the server's key algorithms, `HS256` (the client secret), or `''` for the server's
 * default (RS256 when it has an RS256 key).
 */
export type SigningAlgorithm = '' | 'RS256' | 'PS256' | 'ES256' | 'EdDSA' | 'HS256'

/**
 * Client authentication methods (RFC 7591 §2 `token_endpoint_auth_method`): the secret ones of
 * RFC 6749 §2.3.1, `none` for public clients, and the JWT ones of RFC 7523 / OIDC Core §9.
 */
export type TokenEndpointAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'none' | 'private_key_jwt' | 'client_secret_jwt'

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
  /**
   * RFC 7591 `jwks`: the client's public keys, a JWK Set as JSON text (for `private_key_jwt`
   * client authentication and signed request objects); `''` when it has none.
   */
  readonly jwks: string
  /** RFC 7591 `jwks_uri`: an https URL where the client publishes its JWK Set; `''` when it has none. */
  readonly jwksUri: string
  /** RFC 7591 / OpenID Connect Registration `token_endpoint_auth_signing_alg`; `''` accepts any the server allows. */
  readonly tokenEndpointAuthSigningAlg: string
  /** RFC 9449 §5.2 `dpop_bound_access_tokens`: every token request must carry a DPoP proof. */
  readonly dpopBoundAccessTokens: boolean
  /** RFC 9101 §10.5 `require_signed_request_object`: authorization requests must come as signed request objects. */
  readonly requireSignedRequestObject: boolean
  /** OpenID Connect Registration `request_object_signing_alg`; `''` accepts any the server allows. */
  readonly requestObjectSigningAlg: string
  /**
   * OpenID Connect Registration `userinfo_signed_response_alg`: UserInfo answers this client with
   * a JWS (`application/jwt`, OIDC Core §5.3.2) signed by the server's active key of this
   * algorithm; `''` answers plain JSON.
   */
  readonly userinfoSignedResponseAlg: string
  /** OpenID Connect Back-Channel Logout 1.0 §2.2 `backchannel_logout_uri`: where logout tokens are POSTed; `''` when none. */
  readonly backchannelLogoutUri: string
  /** OpenID Connect Back-Channel Logout 1.0 §2.2 `backchannel_logout_session_required`: its logout tokens must carry `sid`. */
  readonly backchannelLogoutSessionRequired: boolean
  /**
   * A Client ID Metadata Document client (its `clientId` is the document's https URL): when the
   * cached document goes stale and is fetched again. `null` for every other application.
   */
  readonly cimdExpiresAt: Date | null
  readonly createdAt: Date
  readonly updatedAt: Date
}

/** The fields of `Application` every creation gives. */
type GivenAtCreation = 'clientId' | 'clientSecretHash' | 'clientType' | 'authorizationGrantType' | 'redirectUris' | 'postLogoutRedirectUris' |
  'allowedOrigins' | 'name' | 'userId' | 'skipAuthorization' | 'algorithm'

/** The fields of `Application` a creation may leave to their defaults. */
type DefaultedAtCreation = 'clientSecretSealed' | 'requirePushedAuthorizationRequests' | 'tokenEndpointAuthMethod' | 'allowedScopes' |
  'allowIntrospection' | 'selfRegistered' | 'jwks' | 'jwksUri' | 'tokenEndpointAuthSigningAlg' | 'dpopBoundAccessTokens' |
  'requireSignedRequestObject' | 'requestObjectSigningAlg' | 'userinfoSignedResponseAlg' | 'backchannelLogoutUri' |
  'backchannelLogoutSessionRequired' | 'cimdExpiresAt'

/**
 * Fields needed to create an application; the secret is already hashed. The optional ones
 * default to: no sealed secret (`clientSecretSealed` `''`), no RFC 9126 §6 requirement, any
 * client authentication method (`tokenEndpointAuthMethod` `''`), unrestricted scopes
 * (`allowedScopes` `null`), no RFC 7662 §4 introspection permission, not self-registered
 * (`registerClient` always sets it), no client keys (`jwks`, `jwksUri` `''`), no DPoP or signed
 * request object requirement, any algorithm the server allows (`''`), and plain JSON UserInfo
 * responses (`userinfoSignedResponseAlg` `''`).
 */
export interface NewApplication extends Pick<Application, GivenAtCreation>, Partial<Pick<Application, DefaultedAtCreation>> {
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
  /**
   * RFC 9449 §6: the JWK SHA-256 thumbprint (RFC 7638) of the DPoP key the token is bound to
   * (`cnf.jkt`): it is only accepted with a proof of that key. `''` for a bearer token.
   */
  readonly jkt: string
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
  /** RFC 9449 §5: a public client's refresh token is bound to its DPoP key (this thumbprint); `''` when unbound. */
  readonly jkt: string
  /** The user's session at this server the family was issued in (back-channel logout); `null` when none was known. */
  readonly sessionId: number | null
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
  /** RFC 9449 §10 `dpop_jkt`: the code may only be exchanged with a DPoP proof of this key; `''` when unbound. */
  readonly dpopJkt: string
  /** The user's session at this server the code was issued in (back-channel logout); `null` when none was known. */
  readonly sessionId: number | null
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

/** An ID token to record (the JWT itself is never stored): an `IdTokenRecord` before it has an id or a creation time. */
export type NewIdToken = Omit<IdTokenRecord, 'id' | 'createdAt'>

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

/** An access token to insert: an `AccessTokenRecord` before it has an id, an ID token or a creation time. */
export type NewAccessToken = Omit<AccessTokenRecord, 'id' | 'idTokenId' | 'createdAt' | 'jkt'> & {
  /** RFC 9449: the DPoP key thumbprint to bind the token to; absent or `''` for a bearer token. */
  readonly jkt?: string
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
  /** RFC 9449 §5: the DPoP key thumbprint a public client's refresh must prove; absent or `''` when unbound. */
  readonly jkt?: string
  /** The session the family was issued in (carried across rotations); `null` or absent when none. */
  readonly sessionId?: number | null
}

/** An authorization code to insert: a `GrantRecord` before it has an id, a consumption or a creation time. */
export type NewGrant = Omit<GrantRecord, 'id' | 'consumedAt' | 'tokenFamily' | 'createdAt' | 'dpopJkt' | 'sessionId'> & {
  /** RFC 9449 §10 `dpop_jkt` from the authorization request; absent or `''` when unbound. */
  readonly dpopJkt?: string
  /** The user's session at this server; `null` or absent when none was known. */
  readonly sessionId?: number | null
}

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
 * A user's login session at this server (OpenID Connect Back-Channel Logout 1.0): what the host
 * reported through `resolveUser`'s `sessionId`, known to relying parties by `sid`. The host's
 * session id itself is never stored, only its SHA-256 checksum, and only while the session lasts.
 */
export interface SessionRecord {
  readonly id: number
  /** The public session id carried by ID tokens and logout tokens. */
  readonly sid: string
  readonly userId: string
  /** When the session was first seen (the user's authentication time as the host reported it). */
  readonly authTime: Date
  /** Slides forward with each authorization in the session (`oidcSessionExpireSeconds`). */
  readonly expiresAt: Date
  /** When it ended (logout, a staff member, expiry); `null` while it lasts. */
  readonly endedAt: Date | null
  readonly createdAt: Date
  readonly updatedAt: Date
}

/** A session to start, or to slide when it already exists (`Store.touchSession`). */
export interface NewSession {
  /** Drawn for a new session; ignored when the session exists. */
  readonly sid: string
  /** SHA-256 checksum of the host's session id. */
  readonly keyChecksum: string
  readonly userId: string
  readonly authTime: Date
  readonly expiresAt: Date
}

/** A logout token still to deliver (OpenID Connect Back-Channel Logout 1.0 §2.5), as the outbox holds it. */
export interface LogoutDeliveryRecord {
  readonly id: number
  readonly applicationId: number
  /** The logout token's `sub`. */
  readonly userId: string
  /** The ended session's `sid`. */
  readonly sid: string
  /** Attempts started so far (a claim counts one). */
  readonly attempts: number
  readonly nextAttemptAt: Date
  /** Why the previous attempt failed (`''` before any). */
  readonly lastError: string
  readonly createdAt: Date
}
