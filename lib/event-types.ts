// Payloads of the audit and metrics events (`ToolkitEventMap` in context.ts). Every payload holds
// ids and facts only: never a token, code, secret, password, assertion or any checksum of one
// (a checksum of a bearer token finds its row, so it is as good as the token to a database
// reader). Values a request supplied (a `client_id` as given) pass through `logSafe` first.
// Listeners run synchronously inside the request; a listener that throws or rejects is reported
// on `error` and never fails the request (lib/events.ts).

import type { ApplicationGrantType, ClientType, TokenEndpointAuthMethod } from './store/types.js'

/**
 * How the token was obtained: the token endpoint's wire `grant_type` (`authorization_code`,
 * `client_credentials`, `password`, `refresh_token`, `urn:ietf:params:oauth:grant-type:device_code`),
 * or, for tokens the authorization endpoint returned in the redirect, `implicit` (RFC 6749 §4.2,
 * `response_type=token`) and `hybrid` (OIDC Core §3.3, `code token`, `code id_token token`).
 */
export type IssuedGrantType = string

/** Payload of `tokenIssued`: an access token (and maybe a refresh token) was issued. */
export interface TokenIssuedEvent {
  readonly at: Date
  readonly grantType: IssuedGrantType
  /** The authorization request's `response_type`, for tokens the authorization endpoint issued; absent otherwise. */
  readonly responseType?: string
  readonly applicationId: number
  readonly clientId: string
  /** The resource owner; `null` for `client_credentials`. */
  readonly userId: string | null
  /** The access token's row id (never the token, never its checksum). */
  readonly accessTokenId: number
  /** The refresh token's row id; `null` when none was issued (or, without rotation, the one kept). */
  readonly refreshTokenId: number | null
  readonly scopes: readonly string[]
  /** RFC 8707 resources the access token is bound to; empty when unrestricted. */
  readonly resources: readonly string[]
  /** RFC 9449: the access token is bound to a DPoP key (usable only with a proof of it). */
  readonly dpopBound: boolean
  /** An OpenID Connect ID token came with it. */
  readonly idToken: boolean
  readonly expiresAt: Date
}

/** Payload of `tokenRefreshed`: the refresh grant replaced a token pair (fired after its `tokenIssued`). */
export interface TokenRefreshedEvent {
  readonly at: Date
  readonly applicationId: number
  readonly clientId: string
  readonly userId: string | null
  /** The refresh token presented. */
  readonly previousRefreshTokenId: number
  /** The access token it had been issued with; `null` when that one was already gone (revoked or cleared). */
  readonly previousAccessTokenId: number | null
  readonly accessTokenId: number
  /** The refresh token to use from now on: a new one with rotation, else the one presented. */
  readonly refreshTokenId: number | null
  /** `rotateRefreshToken`: the presented refresh token was revoked and replaced. */
  readonly rotated: boolean
  readonly scopes: readonly string[]
  readonly dpopBound: boolean
}

/**
 * Why tokens were revoked:
 * - `revocation-endpoint`: the client revoked it (RFC 7009);
 * - `refresh-token-reuse`: a rotated or revoked refresh token came back, so its family went (RFC 9700 §4.14.2);
 * - `code-replay`: an authorization code was used twice, so what it issued went (RFC 6749 §4.1.2);
 * - `logout`: the user logged out: RP-Initiated Logout revoking their browser-flow tokens (DOT's
 *   `do_logout`), or the end of their session at this server by RP-Initiated Logout or the host's
 *   own logout revoking its refresh token families (Back-Channel Logout 1.0 §2.7);
 * - `user`: the user revoked the authorization on the authorized-tokens page;
 * - `staff`: a staff member revoked tokens, or ended the session they were issued in;
 * - `session-expired`: the session the family was issued in expired and was ended (`cleartokens`,
 *   or the user's next authorization under the same host session id).
 */
export type TokenRevocationReason = 'revocation-endpoint' | 'refresh-token-reuse' | 'code-replay' | 'logout' | 'user' | 'staff' | 'session-expired'

/** Payload of `tokenRevoked`: one revocation, of a token and (see `family`) the tokens of its authorization. */
export interface TokenRevokedEvent {
  readonly at: Date
  readonly reason: TokenRevocationReason
  /** What the revocation started from. */
  readonly tokenType: 'access_token' | 'refresh_token' | 'authorization_code'
  readonly applicationId: number | null
  readonly clientId: string | null
  readonly userId: string | null
  readonly accessTokenId: number | null
  readonly refreshTokenId: number | null
  /** The authorization code's row id, for `code-replay`. */
  readonly grantId: number | null
  /** Every token of the same authorization (the refresh token family) was revoked with it (RFC 7009 §2.1). */
  readonly family: boolean
}

/** Payload of `refreshTokenReuseDetected`: a refresh token that was rotated or revoked was presented again. */
export interface RefreshTokenReuseDetectedEvent {
  readonly at: Date
  readonly applicationId: number
  readonly clientId: string
  readonly userId: string | null
  /** The refresh token presented again. */
  readonly refreshTokenId: number
  /** `refreshTokenReuseProtection`: its whole family was revoked (a `tokenRevoked` with reason `refresh-token-reuse` follows). */
  readonly familyRevoked: boolean
}

/**
 * How an authorization was decided:
 * - `consent`: the user chose on the consent page;
 * - `skip-authorization`: the application is trusted (`skipAuthorization`), no page was shown;
 * - `previous-consent`: `approval_prompt=auto` and a valid token of this user already covers the request;
 * - `device`: the user chose on the device flow's confirmation page (RFC 8628 §3.3).
 */
export type AuthorizationVia = 'consent' | 'skip-authorization' | 'previous-consent' | 'device'

/** Payload of `authorizationApproved`. */
export interface AuthorizationApprovedEvent {
  readonly at: Date
  readonly applicationId: number
  readonly clientId: string
  readonly userId: string
  readonly scopes: readonly string[]
  readonly resources: readonly string[]
  readonly via: AuthorizationVia
  /** The request's `response_type`; absent for the device flow. */
  readonly responseType?: string
  /** The device authorization's row id, for the device flow. */
  readonly deviceGrantId?: number
}

/** Payload of `authorizationDenied`: the user refused. */
export interface AuthorizationDeniedEvent {
  readonly at: Date
  readonly applicationId: number
  readonly clientId: string
  /** The user who refused; `null` when a host's own adapter denied without naming one. */
  readonly userId: string | null
  readonly scopes: readonly string[]
  readonly via: 'consent' | 'device'
  readonly deviceGrantId?: number
}

/**
 * The endpoint that authenticated the client: the token, revocation, introspection, pushed
 * authorization request and device authorization endpoints, or `authenticate-client` for
 * `app.oauth.authenticateClient` (`ClientProtectedResourceView`, host code).
 */
export type ClientAuthEndpoint = 'token' | 'revocation' | 'introspection' | 'par' | 'device-authorization' | 'authenticate-client'

/** Payload of `clientAuthenticationFailed`: a 401 `invalid_client`. */
export interface ClientAuthenticationFailedEvent {
  readonly at: Date
  readonly endpoint: ClientAuthEndpoint
  /**
   * The method tried: `client_secret_basic`, `client_secret_post`, `none` (a `client_id` alone),
   * `client_assertion` (an RFC 7523 JWT: `private_key_jwt` or `client_secret_jwt`, not told apart
   * before it verifies), or `null` when no credentials were presented.
   */
  readonly method: TokenEndpointAuthMethod | 'client_assertion' | null
  /** The client id as presented (unverified), through `logSafe`; `null` when none could be read. */
  readonly clientId: string | null
  /** The application that id names, when one exists. */
  readonly applicationId: number | null
  /** Why (the error's `detail`, through `logSafe`): `unknown client_id`, `client secret mismatch`, … */
  readonly reason: string
}

/**
 * A limit of views/rate-limit.ts and the device pages:
 * - `failures-per-address`: failed authentications from one address (`rateLimitIpFailures`, `maxFailuresPerIp`);
 * - `failures-per-client-address`: failed client authentications for one client from one address (`rateLimitFailures`);
 * - `failures-per-account-address`: failed password checks for one account from one address;
 * - `account-waiting-room`: too many password checks already wait for one account;
 * - `requests-per-address`, `requests-per-client-address`: the request cap (`rateLimitRequests`);
 * - `registrations-per-address`: dynamic registration (`dcrRegistrationRateLimit`);
 * - `device-entries-per-address`, `device-entries-per-user`: user codes entered on the device page.
 */
export type RateLimitKind = 'failures-per-address' | 'failures-per-client-address' | 'failures-per-account-address' | 'account-waiting-room' |
  'requests-per-address' | 'requests-per-client-address' | 'registrations-per-address' | 'device-entries-per-address' | 'device-entries-per-user'

/**
 * Payload of `rateLimitTriggered`: a request was refused (429) by a limit. The account name a
 * limit counts (a username) is personal data and never part of it; the address is (see `ip`).
 */
export interface RateLimitTriggeredEvent {
  readonly at: Date
  readonly limit: RateLimitKind
  /** The route's path pattern (`/o/token/`, the host's login route, …), never the raw URL. */
  readonly route: string
  readonly retryAfterSeconds: number
  /**
   * The client's address as Fastify resolved it (`request.ip`, which the request log holds too).
   * Personal data under the GDPR: a listener that exports metrics must not use it as a label.
   */
  readonly ip: string
  /** The client id the request claimed (unverified), through `logSafe`; `null` when none. */
  readonly clientId: string | null
}

/**
 * Where a client registration, change or deletion came from: RFC 7591/7592 dynamic registration,
 * the management pages, the `createapplication` command, or host code (`app.oauth.createApplication`, …).
 */
export type ClientChangeSource = 'dynamic-registration' | 'management' | 'cli' | 'api'

/** Payload of `clientRegistered`. */
export interface ClientRegisteredEvent {
  readonly at: Date
  readonly source: ClientChangeSource
  readonly applicationId: number
  readonly clientId: string
  readonly clientType: ClientType
  readonly authorizationGrantType: ApplicationGrantType
  /** The registered RFC 7591 method; `''` when any method of its type will do. */
  readonly tokenEndpointAuthMethod: TokenEndpointAuthMethod | ''
  /** The owning user, if any. */
  readonly userId: string | null
  /** An end user, not the operator, vouches for its redirect URIs (RFC 9700 §4.11.2). */
  readonly selfRegistered: boolean
}

/** Payload of `clientUpdated`. */
export interface ClientUpdatedEvent {
  readonly at: Date
  readonly source: ClientChangeSource
  readonly applicationId: number
  readonly clientId: string
  /** A new client secret was made (regeneration, or a client that became confidential or HS256). */
  readonly secretChanged: boolean
}

/** Payload of `clientDeleted`: the application went, and every token, code and registration of it. */
export interface ClientDeletedEvent {
  readonly at: Date
  readonly source: ClientChangeSource
  readonly applicationId: number
  readonly clientId: string
}
