import type { EventEmitter } from 'node:events'
import type { Clock } from './clock.js'
import type { DpopVerifier } from './dpop/proof.js'
import type { CimdResolver } from './registration/cimd.js'
import type {
  AuthorizationApprovedEvent,
  AuthorizationDeniedEvent,
  ClientAuthenticationFailedEvent,
  ClientDeletedEvent,
  ClientRegisteredEvent,
  ClientUpdatedEvent,
  RateLimitTriggeredEvent,
  RefreshTokenReuseDetectedEvent,
  TokenIssuedEvent,
  TokenRefreshedEvent,
  TokenRevokedEvent,
} from './event-types.js'
import type { VerificationCache } from './resource/verification-cache.js'
import type { ClientCache } from './validator/client-cache.js'
import type { JwksUriCache } from './validator/client-jwks.js'
import type { LogoutDelivery } from './logout-delivery.js'
import type { Random } from './random.js'
import type { Settings } from './settings.js'
import type { AccessTokenRecord, Application, RefreshTokenRecord, Store } from './store/types.js'
import type { SecretSealer } from './tokens/client-secret-seal.js'
import type { SecretHasher } from './tokens/secret-hasher.js'
import type { SigningKeys } from './tokens/signing-keys.js'

/** Checks a username and password for the password grant; resolves the user's id, or null. */
export type VerifyUserCredentials = (username: string, password: string) => Promise<string | null>

/**
 * The host's user claims for the UserInfo endpoint (DOT `get_userinfo_claims`): any of the
 * OIDC Core §5.1 standard claims, plus custom ones. The toolkit keeps only the standard claims
 * the token's scopes allow (§5.4) and passes custom claims through; `sub` is always the user id.
 * Resolving `null` (the user is gone) refuses the token.
 */
export type GetUserClaims = (userId: string, scopes: readonly string[]) => Promise<Record<string, unknown> | null> | Record<string, unknown> | null

/** What `GetIdTokenClaims` is told about the ID token being issued, besides the user and scopes. */
export interface IdTokenClaimsContext {
  /** The client the ID token is for (its `aud`). */
  readonly clientId: string
}

/**
 * The host's extra claims for ID tokens (DOT `get_additional_claims`): roles, tenant, any of the
 * OIDC Core §5.1 standard claims. Treated as `GetUserClaims`' are: standard claims only with the
 * scope that releases them (§5.4), custom claims as given. The protocol claims
 * (`RESERVED_ID_TOKEN_CLAIMS`: `iss`, `sub`, `aud`, `exp`, `iat`, `nonce`, `at_hash`, `c_hash`,
 * `auth_time`, `acr`, `amr`, `azp`, `sid`, `jti`, `cnf`, …) are the server's: one returned here
 * is dropped. `null` or `undefined` adds nothing. Called for every ID token, refreshes included.
 */
export type GetIdTokenClaims = (userId: string, scopes: readonly string[], context: IdTokenClaimsContext) =>
Promise<Record<string, unknown> | null | undefined> | Record<string, unknown> | null | undefined

/** OpenID Connect: the loaded signing keys and the host's claims sources. */
export interface OidcContext {
  readonly keys: SigningKeys
  readonly getUserClaims: GetUserClaims | null
  /** Extra ID-token claims; absent or `null`: ID tokens carry the protocol claims only. */
  readonly getIdTokenClaims?: GetIdTokenClaims | null
}

/**
 * Payload of the `appAuthorized` event (DOT's `app_authorized` signal). It carries the stored
 * rows, checksums included: log `tokenIssued` instead, which holds ids and facts only.
 */
export interface AppAuthorizedEvent {
  /** The application the token was issued to. */
  readonly application: Application
  /** The access token row (its checksum, never the token). */
  readonly accessToken: AccessTokenRecord
  readonly refreshToken: RefreshTokenRecord | null
  /** The wire grant type that issued it. */
  readonly grantType: string
}

/**
 * Why a user's session at this server ended: RP-Initiated Logout, the host's own logout through
 * `app.oauth.endSession`, a staff member on the administration pages, or expiry.
 */
export type LogoutReason = 'rp-initiated' | 'host' | 'staff' | 'expired'

/** Payload of the `logout` event: a user's session ended. Ids only, never the host's session id. */
export interface LogoutEvent {
  readonly at: Date
  readonly userId: string
  /** The session's public id (`sid` of ID and logout tokens); `null` when no session was tracked. */
  readonly sid: string | null
  readonly reason: LogoutReason
  /** How many relying parties a back-channel logout token was queued for. */
  readonly backchannelClients: number
}

/** Payload of the `backchannelLogout` event: one delivery attempt of a logout token (OIDC Back-Channel Logout 1.0 §2.5). */
export interface BackchannelLogoutEvent {
  readonly at: Date
  readonly applicationId: number
  readonly clientId: string
  readonly sid: string
  /** 1 for the first attempt. */
  readonly attempt: number
  /** `retrying`: this attempt failed and another is scheduled; `failed`: the attempts ran out. */
  readonly outcome: 'delivered' | 'retrying' | 'failed'
  /** The relying party's HTTP status, when it answered. */
  readonly status?: number
  /** Why the attempt failed (no secret, no token). */
  readonly error?: string
}

/** What a staff action touched on the administration pages. */
export type StaffTargetKind = 'application' | 'accessToken' | 'refreshToken' | 'grant' | 'deviceGrant' | 'session'

/** Payload of the `staffAction` event: a change a staff member made on the administration pages. */
export interface StaffActionEvent {
  readonly at: Date
  /** The staff member's user id. */
  readonly staffUserId: string
  /** What was done, as `<kind>.<verb>`, for example `application.update`, `refreshToken.revoke`, `session.end`. */
  readonly action: string
  readonly target: { readonly kind: StaffTargetKind, readonly ids: readonly number[] }
}

/** The events the toolkit emits. */
export interface ToolkitEventMap {
  /** Fired after every token issued by the token endpoint (DOT parity; the payload holds the stored rows). */
  appAuthorized: [AppAuthorizedEvent]
  /** A user's session at this server ended. */
  logout: [LogoutEvent]
  /** A back-channel logout token was delivered, will be retried, or could not be delivered. */
  backchannelLogout: [BackchannelLogoutEvent]
  /** A staff member changed something on the administration pages. */
  staffAction: [StaffActionEvent]
  /**
   * An access token was issued: every grant of the token endpoint (device flow included), and
   * tokens the authorization endpoint returned (implicit, hybrid). A grace-period retry of a
   * refresh, which hands back the pair already issued, issues nothing and fires nothing.
   */
  tokenIssued: [TokenIssuedEvent]
  /** The refresh grant replaced a token pair; fires after that request's `tokenIssued`. */
  tokenRefreshed: [TokenRefreshedEvent]
  /** Tokens were revoked, with the reason: revocation endpoint, refresh-token reuse, code replay, logout, the user. */
  tokenRevoked: [TokenRevokedEvent]
  /** A rotated or revoked refresh token was presented again (RFC 9700 §4.14.2). */
  refreshTokenReuseDetected: [RefreshTokenReuseDetectedEvent]
  /** A user approved an authorization request (consent page, skipped consent, device flow). */
  authorizationApproved: [AuthorizationApprovedEvent]
  /** A user denied an authorization request (consent page, device flow). */
  authorizationDenied: [AuthorizationDeniedEvent]
  /** A client failed to authenticate (401 `invalid_client`) at an endpoint that authenticates clients. */
  clientAuthenticationFailed: [ClientAuthenticationFailedEvent]
  /** A rate limit refused a request (429). */
  rateLimitTriggered: [RateLimitTriggeredEvent]
  /** An application (client) was created: dynamic registration, management pages, CLI, host code. */
  clientRegistered: [ClientRegisteredEvent]
  /** An application's settings or secret changed. */
  clientUpdated: [ClientUpdatedEvent]
  /** An application was deleted, with everything issued to it. */
  clientDeleted: [ClientDeletedEvent]
  /**
   * A listener of one of the events above threw or rejected; the second argument names the
   * event. The request went on all the same; the plugin logs these. With no `error` listener
   * they are dropped (never re-thrown).
   */
  error: [error: unknown, event?: ToolkitEventName]
}

/** The events a listener may subscribe to for audit and metrics (every one but `error`). */
export type ToolkitEventName = Exclude<keyof ToolkitEventMap, 'error'>

/** Everything the core needs, injected once and passed down; there is no global state. */
export interface ServerContext {
  readonly settings: Settings
  readonly store: Store
  readonly clock: Clock
  readonly random: Random
  readonly hasher: SecretHasher
  readonly events: EventEmitter<ToolkitEventMap>
  readonly verifyUserCredentials: VerifyUserCredentials | null
  /** OpenID Connect keys and claims; `null` when the server has no signing key. */
  readonly oidc: OidcContext | null
  /** Seals the client secrets of HS256 applications; absent or `null` without a `clientSecretSealingKey` (then HS256 is refused). */
  readonly secretSealer?: SecretSealer | null
  /** Clients' `jwks_uri` documents, fetched through the SSRF-safe client; absent or `null`: `private_key_jwt` clients need `jwks`. */
  readonly jwksUriCache?: JwksUriCache | null
  /** Verified access tokens (the `verificationCacheSize` setting); absent or `null`: every verification asks the store. */
  readonly verificationCache?: VerificationCache | null
  /** Successful client authentications (the `clientCacheSize` setting); absent or `null`: every authentication asks the store. */
  readonly clientCache?: ClientCache | null
  /** SHA-256 checksums of the initial access tokens that may register clients (RFC 7591 §3); empty when none. */
  readonly initialAccessTokenChecksums?: readonly string[]
  /** Client ID Metadata Documents when `cimdEnabled`; absent or `null` otherwise (a URL `client_id` is then an unknown client). */
  readonly cimd?: CimdResolver | null
  /** RFC 9449 proof checking when `dpopEnabled`; absent or `null` otherwise (`DPoP` headers are then ignored at the token endpoint). */
  readonly dpop?: DpopVerifier | null
  /** The back-channel logout outbox worker; absent or `null`: logout tokens wait for another instance's worker. */
  readonly logoutDelivery?: LogoutDelivery | null
}
