import type { EventEmitter } from 'node:events'
import type { Clock } from './clock.js'
import type { DpopVerifier } from './dpop/proof.js'
import type { VerificationCache } from './resource/verification-cache.js'
import type { ClientCache } from './validator/client-cache.js'
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

/** OpenID Connect: the loaded signing keys and the host's claims source. */
export interface OidcContext {
  readonly keys: SigningKeys
  readonly getUserClaims: GetUserClaims | null
}

/** Payload of the `appAuthorized` event (DOT's `app_authorized` signal). */
export interface AppAuthorizedEvent {
  /** The application the token was issued to. */
  readonly application: Application
  /** The access token row (its checksum, never the token). */
  readonly accessToken: AccessTokenRecord
  readonly refreshToken: RefreshTokenRecord | null
  /** The wire grant type that issued it. */
  readonly grantType: string
}

/** The events the toolkit emits. */
export interface ToolkitEventMap {
  /** Fired after every token issued by the token endpoint. */
  appAuthorized: [AppAuthorizedEvent]
  /**
   * An `appAuthorized` listener threw or rejected. The token was issued all the same; the
   * plugin logs these. With no `error` listener they are dropped (never re-thrown).
   */
  error: [unknown]
}

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
  /** Verified access tokens (the `verificationCacheSize` setting); absent or `null`: every verification asks the store. */
  readonly verificationCache?: VerificationCache | null
  /** Successful client authentications (the `clientCacheSize` setting); absent or `null`: every authentication asks the store. */
  readonly clientCache?: ClientCache | null
  /** SHA-256 checksums of the initial access tokens that may register clients (RFC 7591 §3); empty when none. */
  readonly initialAccessTokenChecksums?: readonly string[]
  /** RFC 9449 proof checking when `dpopEnabled`; absent or `null` otherwise (`DPoP` headers are then ignored at the token endpoint). */
  readonly dpop?: DpopVerifier | null
}
