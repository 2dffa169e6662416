import { DEFAULT_DPOP_ALGORITHMS } from './dpop/proof.js'
import { ImproperlyConfiguredError } from './errors.js'
import type { ProtectedResourceSettings } from './resource/identifiers.js'
import type { TokenEndpointAuthMethod as ClientAuthMethod } from './store/types.js'
import { CONSTRAINTS, SETTING_RULES } from './settings-rules.js'
import { ASYMMETRIC_JWS_ALGORITHMS } from './tokens/jws-algorithms.js'

/**
 * Every setting of the toolkit, with DOT's defaults camelCased. Pass a partial object to the
 * plugin; `resolveSettings` fills in the rest, validates it and freezes it. There is no global
 * settings object: two apps in one process never share settings.
 */
export interface Settings {
  // ---- core --------------------------------------------------------------------------------
  /** Lifetime of authorization codes in seconds (DOT `AUTHORIZATION_CODE_EXPIRE_SECONDS`, 60; RFC 6749 §4.1.2 says at most 10 minutes). */
  readonly authorizationCodeExpireSeconds: number
  /** Enable the resource-owner password grant. Off by default: RFC 9700 §2.4 forbids it (DOT `COMPLIANT_BCP_RFC9700_PASSWORD_GRANT`, inverted). */
  readonly passwordGrantEnabled: boolean
  /**
   * Enable the implicit grant (`response_type=token`) and, with OpenID Connect, the hybrid types
   * that return an access token from the authorization endpoint (`code token`, `code id_token token`).
   * Off by default: RFC 9700 §2.1.2 (DOT `COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT`, inverted).
   */
  readonly implicitGrantEnabled: boolean
  /** Require PKCE for the authorization code grant (DOT `PKCE_REQUIRED`, true). */
  readonly pkceRequired: boolean
  /** Accept the `plain` PKCE method. Off by default: RFC 9700 §2.1.1 (DOT `COMPLIANT_BCP_RFC9700_PKCE_METHOD`, inverted). */
  readonly pkcePlainAllowed: boolean
  /** Redirect URI schemes applications may register (DOT `ALLOWED_REDIRECT_URI_SCHEMES`). */
  readonly allowedRedirectUriSchemes: readonly string[]
  /** `force` always shows the consent page; `auto` skips it when a valid token already covers the scopes (DOT `REQUEST_APPROVAL_PROMPT`). */
  readonly requestApprovalPrompt: 'force' | 'auto'
  /**
   * Require `redirect_uri` in every authorization request (pushed ones included), even from a
   * client that registered a single redirect URI, which RFC 6749 §3.1.2.3 lets it omit. Off by
   * default; FAPI 2.0 (§5.3.2.2) requires it in pushed authorization requests.
   */
  readonly redirectUriRequired: boolean
  /**
   * Serve OpenID Connect's hybrid response types to `openid-hybrid` applications (`code id_token`,
   * and with the implicit grant `code token`, `code id_token token`). On by default (DOT parity);
   * off, the authorization endpoint answers only `response_type=code` (and `token` with the
   * implicit grant), as FAPI 2.0 §5.3.2.2 requires.
   */
  readonly hybridFlowEnabled: boolean
  /** Accept `?access_token=` on protected resources. Off by default: RFC 6750 §2.3, RFC 9700 §4.3.2 (DOT `COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT`, inverted). */
  readonly allowQueryStringTokens: boolean

  // ---- tokens ------------------------------------------------------------------------------
  /** Lifetime of access tokens in seconds (DOT `ACCESS_TOKEN_EXPIRE_SECONDS`, 36000). */
  readonly accessTokenExpireSeconds: number
  /** Refresh tokens older than this many seconds are refused and cleared (with rotation each refresh starts a new one); `null` keeps them until revoked (DOT `REFRESH_TOKEN_EXPIRE_SECONDS`). */
  readonly refreshTokenExpireSeconds: number | null
  /** Issue a new refresh token on every refresh and revoke the old one (DOT `ROTATE_REFRESH_TOKEN`, true). */
  readonly rotateRefreshToken: boolean
  /** A superseded refresh token retried within this many seconds gets the same new pair back (DOT `REFRESH_TOKEN_GRACE_PERIOD_SECONDS`, 0). */
  readonly refreshTokenGracePeriodSeconds: number
  /** Replaying a rotated refresh token revokes its whole family (DOT `REFRESH_TOKEN_REUSE_PROTECTION`; on here, as RFC 9700 §4.14.2 recommends). */
  readonly refreshTokenReuseProtection: boolean
  /**
   * `opaque` (default): random 256-bit access tokens. `jwt`: RFC 9068 JWT access tokens
   * (`typ: at+jwt`, signed with the `oidc` option's key for `accessTokenSigningAlgorithm`) that resource servers can verify
   * offline from the JWKS; needs `issuer`, `accessTokenDefaultAudience` and a signing key.
   * Either way the database records each token by checksum (revocation, introspection).
   */
  readonly accessTokenFormat: 'opaque' | 'jwt'
  /**
   * The JWS algorithm of JWT access tokens (`accessTokenFormat` `jwt`): `RS256` (default),
   * `PS256`, `ES256` or `EdDSA`; the `oidc` option must hold an active key for it.
   */
  readonly accessTokenSigningAlgorithm: 'RS256' | 'PS256' | 'ES256' | 'EdDSA'
  /**
   * `aud` of JWT access tokens issued without an RFC 8707 `resource` (RFC 9068 §3: the default
   * resource indicator), e.g. `https://api.example.com`. Required when `accessTokenFormat` is `jwt`.
   */
  readonly accessTokenDefaultAudience: string | readonly string[] | null

  // ---- scopes ------------------------------------------------------------------------------
  /**
   * Every scope the server knows, name → human description shown on the consent page (DOT
   * `SCOPES`). Declaring `introspection` lets bearer tokens call the introspection endpoint; only
   * applications with `allowIntrospection` obtain it (other applications' defaults leave it out).
   */
  readonly scopes: Readonly<Record<string, string>>
  /** Scopes granted when a request names none; `__all__` means every scope (DOT `DEFAULT_SCOPES`). */
  readonly defaultScopes: readonly string[]
  /** Scope needed for safe methods on read/write protected resources (DOT `READ_SCOPE`). */
  readonly readScope: string
  /** Scope needed for unsafe methods on read/write protected resources (DOT `WRITE_SCOPE`). */
  readonly writeScope: string
  /** Put `required_scopes` in the body of an insufficient-scope 403 (DOT `ERROR_RESPONSE_WITH_SCOPES`). */
  readonly errorResponseWithScopes: boolean

  // ---- clients -----------------------------------------------------------------------------
  /** Length of generated client ids (DOT's generator: 40). */
  readonly clientIdGeneratorLength: number
  /** Length of generated client secrets (DOT `CLIENT_SECRET_GENERATOR_LENGTH`, 128). */
  readonly clientSecretGeneratorLength: number
  /**
   * The longest life, in seconds, of a client assertion (`private_key_jwt`, `client_secret_jwt`;
   * RFC 7523 §3): `exp` may lie at most this far ahead (and this far after `iat`). Each
   * assertion's `jti` is remembered until its `exp`, so a short life keeps replay protection
   * cheap. Default 300; at most 3600.
   */
  readonly clientAssertionMaxLifetimeSeconds: number
  /** Clock difference tolerated on a client assertion's `exp`, `nbf` and `iat`, seconds (default 10; at most 300). */
  readonly clientAssertionClockSkewSeconds: number
  /**
   * Also accept client assertions whose `aud` is the token endpoint URL, or lists the issuer
   * among other values, as RFC 7523 and OIDC Core §9 allowed. Off by default: the update to RFC
   * 7523 (draft-ietf-oauth-rfc7523bis) makes the issuer identifier the sole audience, because a
   * malicious authorization server could otherwise get a client to sign an assertion that
   * another server accepts. Turn it on only for clients that cannot yet send the issuer.
   */
  readonly clientAssertionLegacyAudience: boolean
  /**
   * JWS algorithms accepted on `private_key_jwt` assertions and signed request objects (asymmetric only: never `none` nor
   * HS*). Default RS256 to RS512, PS256 to PS512, ES256 to ES512 and EdDSA. An application's
   * `tokenEndpointAuthSigningAlg` narrows it to one. `client_secret_jwt` always takes HS256, HS384 or HS512.
   */
  readonly clientAssertionSigningAlgorithms: readonly string[]
  /**
   * The client authentication methods accepted wherever a client authenticates (token, PAR,
   * revocation, introspection, device authorization, client-protected views), registered
   * through dynamic registration and listed in the metadata (`token_endpoint_auth_methods_supported`):
   * any of `client_secret_basic`, `client_secret_post`, `client_secret_jwt`, `private_key_jwt`
   * and `none` (a public client naming itself). Leaving out `none` admits confidential clients
   * only. Default: all five.
   */
  readonly clientAuthMethods: readonly ClientAuthMethod[]
  /** How long a client's `jwks_uri` document is kept, seconds (default 300). An unknown `kid` refetches it sooner. */
  readonly jwksUriCacheSeconds: number
  /**
   * The least time between two fetches of one `jwks_uri` caused by an unknown `kid` (key
   * rotation), seconds (default 60): assertions naming keys that do not exist cannot make this
   * server fetch the document on every request.
   */
  readonly jwksUriRefetchSeconds: number

  // ---- maintenance -------------------------------------------------------------------------
  /** Rows deleted per statement by `cleartokens` (DOT `CLEAR_EXPIRED_TOKENS_BATCH_SIZE`). */
  readonly clearExpiredTokensBatchSize: number
  /** Pause between `cleartokens` batches, in seconds (DOT `CLEAR_EXPIRED_TOKENS_BATCH_INTERVAL`). */
  readonly clearExpiredTokensBatchInterval: number

  // ---- server metadata ---------------------------------------------------------------------
  /**
   * The authorization server's issuer identifier (RFC 8414 §2): an https URL without query or
   * fragment (http only for loopback hosts), e.g. `https://auth.example.com/o`. `null` derives
   * it per request from the request's origin and the routes prefix (DOT's behaviour without
   * `OIDC_ISS_ENDPOINT`); set it behind proxies and whenever clients pin the issuer.
   */
  readonly issuer: string | null
  /** Add `iss` to authorization responses (RFC 9207), and say so in the metadata. Off by default (DOT parity); the RFC 9700 preset turns it on. */
  readonly authorizationResponseIss: boolean

  // ---- dynamic client registration and PAR ------------------------------------------------
  /** Serve RFC 7591/7592 dynamic client registration at `{prefix}/register/` (DOT `DCR_ENABLED`, false). */
  readonly dcrEnabled: boolean
  /**
   * Who may register (DOT `DCR_REGISTRATION_PERMISSION_CLASSES`): `user`, a user logged in
   * through `resolveUser` (DOT's default); `initial-access-token`, a bearer token from the
   * plugin's `initialAccessTokens` option (RFC 7591 §3); `open`, anyone (what MCP clients expect).
   */
  readonly dcrRegistrationPolicy: 'user' | 'initial-access-token' | 'open'
  /** Issue a new registration access token on every RFC 7592 update (DOT `DCR_ROTATE_REGISTRATION_TOKEN_ON_UPDATE`, true). */
  readonly dcrRotateRegistrationTokenOnUpdate: boolean
  /**
   * Registration requests (`POST register/`) per IP address within `rateLimitWindowSeconds`,
   * whatever their outcome; past it 429. Each registration writes rows, and under the `open`
   * policy anyone may send them. Default 20; `null` turns the limit off.
   */
  readonly dcrRegistrationRateLimit: number | null
  /** Serve RFC 9126 pushed authorization requests at `{prefix}/par/` (DOT `PAR_ENABLED`, true). */
  readonly parEnabled: boolean

  // ---- client ID metadata documents (draft-ietf-oauth-client-id-metadata-document) ---------
  /**
   * Accept an https URL as `client_id` and fetch the client's metadata from it (DOT
   * `CIMD_ENABLED`, false). The document is fetched through the SSRF-safe outbound client, held
   * to the rules below, and kept as a public (or `private_key_jwt`) application whose redirect
   * URIs are unvetted. Off, a URL `client_id` is an unknown client. See docs/cimd.md.
   */
  readonly cimdEnabled: boolean
  /**
   * Hosts whose documents are fetched (DOT `CIMD_ALLOWED_HOSTS`); empty (the default) allows
   * every host not blocked. `example.com` matches that host only; `.example.com` matches it and
   * every subdomain. Compared with the URL's lower-case host name, without the port.
   */
  readonly cimdAllowedHosts: readonly string[]
  /** Hosts whose documents are never fetched, in the form of `cimdAllowedHosts`; checked first. Default empty. */
  readonly cimdBlockedHosts: readonly string[]
  /** Time allowed for one document fetch, DNS to last byte, seconds (DOT `CIMD_FETCH_TIMEOUT_SECONDS`, 5). */
  readonly cimdFetchTimeoutSeconds: number
  /** Largest document accepted, bytes (DOT `CIMD_MAX_DOCUMENT_SIZE`, 16384). */
  readonly cimdMaxDocumentSize: number
  /**
   * Least time a fetched document is used before it is fetched again, seconds (DOT
   * `CIMD_METADATA_MIN_AGE_SECONDS`, 300): the floor under the document's `Cache-Control: max-age`,
   * and what a document without one gets.
   */
  readonly cimdMetadataMinAgeSeconds: number
  /** Longest time a fetched document is used, whatever its `max-age` says, seconds (DOT `CIMD_METADATA_MAX_AGE_SECONDS`, 86400). */
  readonly cimdMetadataMaxAgeSeconds: number
  /**
   * After a failed fetch, how long requests naming that URL are refused without fetching it
   * again, seconds (DOT `CIMD_FAILURE_BACKOFF_SECONDS`, 60): a dead or hostile URL costs one
   * outbound request per period, however many requests name it.
   */
  readonly cimdFailureBackoffSeconds: number
  /**
   * Most document fetches in flight at once in this process (DOT `CIMD_MAX_CONCURRENT_FETCHES`,
   * 10). A request that would start one more is refused (`invalid_client`), not queued.
   */
  readonly cimdMaxConcurrentFetches: number
  /** Lifetime of a `request_uri`, seconds, until the authorization endpoint first uses it (DOT `PAR_REQUEST_URI_LIFETIME_SECONDS`, 60). */
  readonly parRequestUriLifetimeSeconds: number
  /** Refuse authorization requests that did not come through `par/` (DOT `REQUIRE_PUSHED_AUTHORIZATION_REQUESTS`, false). */
  readonly requirePushedAuthorizationRequests: boolean

  // ---- request objects (RFC 9101) ----------------------------------------------------------
  /**
   * Every client's authorization requests must come as signed request objects (`request` at the
   * authorization endpoint or at `par/`), as a client's `requireSignedRequestObject` asks for it
   * alone (RFC 9101 §10.5 `require_signed_request_object`; discovery says so). Default false.
   */
  readonly requireSignedRequestObject: boolean
  /**
   * The longest life of a request object, seconds: `exp` is required and may lie at most this
   * far ahead (and this far after `iat`); its `jti` is remembered that long. Default 300; at most
   * 3600 (FAPI 2.0 allows 60 minutes). Clock skew is `clientAssertionClockSkewSeconds`'.
   */
  readonly requestObjectMaxLifetimeSeconds: number
  /**
   * Accept unsigned request objects (`alg: none`, RFC 9101 §10.2: they prove nothing about
   * their sender). Default false: refused with `invalid_request_object`. Never for a client
   * that requires signed objects or registered another `requestObjectSigningAlg`.
   */
  readonly allowUnsignedRequestObjects: boolean

  // ---- resource server ---------------------------------------------------------------------
  /** Answer failed bearer checks with RFC 6750 challenges (401/403 + `WWW-Authenticate`) instead of DOT's bare 403. */
  readonly bearerChallenge: boolean
  /** `realm` of RFC 6750 challenges. */
  readonly realm: string
  /**
   * Verified access tokens kept in memory, keyed by checksum, so a protected request costs no
   * database query; `0` turns the cache off. Revocation stays immediate, in this
   * process and across processes on one database (docs/deployment.md, "Verification cache").
   */
  readonly verificationCacheSize: number
  /** Longest time, in seconds, a verification is served from the cache (also bounded by the token's expiry), and a client authentication from `clientCacheSize`'s. */
  readonly verificationCacheSeconds: number
  /**
   * How many successful client authentications are kept in process (default 1,000), so that a
   * client presenting the same id and secret again skips the store's lookup and the secret check
   * at the token, introspection, revocation, device and PAR endpoints; `0` turns the cache off.
   * A changed or deleted application is never served again: in this process at once, from other
   * processes as the verification cache learns of their changes (docs/deployment.md, "The
   * client cache").
   */
  readonly clientCacheSize: number
  /**
   * The protected resources this application declares (RFC 9728, RFC 8707): each gets a metadata
   * document from `oauthProtectedResourceMetadata` and is an allowed `resource` indicator. Empty by default.
   */
  readonly protectedResources: readonly ProtectedResourceSettings[]
  /**
   * Which RFC 8707 `resource` indicators clients may ask for: `declared` (default) only the
   * `protectedResources`, so tokens can only be bound to audiences this server knows; `any`
   * every absolute URI without a fragment (for resource servers the server does not list).
   */
  readonly resourceIndicatorPolicy: 'declared' | 'any'
  /**
   * Routes that declare a resource also accept tokens issued without any `resource` (unbound
   * tokens). Off by default: the MCP authorization spec and RFC 8707 want tokens issued for them.
   */
  readonly acceptTokensWithoutResource: boolean

  // ---- DPoP (RFC 9449) ----------------------------------------------------------------------
  /**
   * Accept DPoP proofs: at the token endpoint (every grant), tokens bound to the proof's key
   * (`token_type: DPoP`), and `DPoP` tokens with proofs at protected resources and UserInfo.
   * Off by default; needs `issuer`, whose origin is the server's URL that proofs' `htu` must name
   * (never the `Host` header, which the client writes).
   */
  readonly dpopEnabled: boolean
  /** Algorithms DPoP proofs may be signed with (discovery's `dpop_signing_alg_values_supported`); asymmetric only. */
  readonly dpopSigningAlgValues: readonly string[]
  /** How far, in seconds, a DPoP proof's `iat` may be from the server's clock, either way (RFC 9449 §11.1; default 60). */
  readonly dpopProofMaxAgeSeconds: number
  /**
   * Require a server nonce in every DPoP proof (RFC 9449 §8, §9: `use_dpop_nonce`, `DPoP-Nonce`).
   * Nonces are stateless (a MAC of the time under the plugin's `dpopNonceKey` option), so every
   * instance sharing the key accepts them. Off by default.
   */
  readonly dpopNonceRequired: boolean
  /**
   * Issue and accept DPoP-bound access tokens only: every token request must carry a proof (as
   * for clients registered with `dpopBoundAccessTokens`), and protected resources and UserInfo
   * refuse access tokens of this server that are not bound (issued before it was set). Needs
   * `dpopEnabled`. Off by default.
   */
  readonly dpopRequired: boolean

  // ---- brute force and rate limits ----------------------------------------------------------
  /**
   * Failures tolerated from one client address for one client or one account within
   * `rateLimitWindowSeconds`: failed client authentications per (`client_id`, address) and failed
   * password-grant logins per (username, address). Past it that pair gets 429 on the token,
   * revocation, introspection, PAR and device-authorization endpoints, before any secret is hashed, the right secret
   * included (RFC 6749 §4.3.2, §2.3.1). Only the source that failed is refused: the same client
   * or account from another address is not (RFC 6819 §4.4.3.6, lockout as denial of service).
   * Twice it is the number of failures of one username, from all addresses together, after which
   * its logins wait (`rateLimitAccountDelaySeconds`): past what one address may fail on its own. Default 10; `null` turns every failure
   * limit off (this one, `rateLimitIpFailures` and the wait).
   */
  readonly rateLimitFailures: number | null
  /**
   * Failures tolerated from one client address (an IPv6 address counts by its /64) within the
   * window, whatever client or username they were for; past it the address gets 429. It stops
   * one machine spraying guesses over many usernames or client ids. Default 100: an office or
   * campus behind one NAT address shares it, and its people's typing mistakes (say 200 people
   * logging in around 9:00 with one in ten mistyping) stay well below it. `null`: no per-address limit.
   */
  readonly rateLimitIpFailures: number | null
  /**
   * The longest wait, seconds, before a password-grant login is checked for a username that failed
   * 2 × `rateLimitFailures` times within the window from all addresses together. The wait starts at
   * a quarter second and doubles with each further failure; it comes before the check and does
   * not depend on the password, and it never refuses an address that has not failed for that
   * username, so the right password from such an address still succeeds. Per process, at most two logins of one username wait at once
   * (that bound is what slows a guesser spread over many addresses) and 1000 in all. Default 5;
   * 0 turns the wait off; at most 30 (clients and proxies time out beyond).
   */
  readonly rateLimitAccountDelaySeconds: number
  /** The window of `rateLimitFailures`, `rateLimitIpFailures` and `rateLimitRequests`, seconds (default 900, 15 minutes). */
  readonly rateLimitWindowSeconds: number
  /**
   * Requests per IP address and per (`client_id`, IP address) to the token, revocation,
   * introspection, PAR and device-authorization endpoints within the window, failed or not (never per client alone, which
   * anyone who knows the client id could use up). `null` (default): no cap, because one backend
   * may legitimately ask for thousands of tokens and only failures reveal guessing.
   */
  readonly rateLimitRequests: number | null

  // ---- device flow -------------------------------------------------------------------------
  /** Serve the device authorization grant (RFC 8628): `device-authorization/`, the `device/` pages and the `device_code` grant. Off by default, like DOT (which needs `OAUTH_DEVICE_VERIFICATION_URI`). */
  readonly deviceFlowEnabled: boolean
  /** Minimum polling interval of the device flow, seconds (DOT `DEVICE_FLOW_INTERVAL`). */
  readonly deviceFlowInterval: number
  /** Lifetime of device and user codes, seconds (oauthlib's `expires_in`, 1800). */
  readonly deviceCodeExpireSeconds: number
  /** Characters in a user code (8 to 20, from a 20-letter alphabet without look-alikes; RFC 8628 §6.1). */
  readonly deviceUserCodeLength: number
  /** `verification_uri` sent to devices (DOT `OAUTH_DEVICE_VERIFICATION_URI`); `null` derives `{issuer}/device/`. */
  readonly deviceVerificationUri: string | null

  // ---- OpenID Connect ----------------------------------------------------------------------
  /** OpenID Connect switch (DOT `OIDC_ENABLED`). */
  readonly oidcEnabled: boolean
  /**
   * The JWS algorithm of ID tokens for applications that name none (`algorithm` empty): `RS256`,
   * `PS256`, `ES256` or `EdDSA`, with an active key for it in the `oidc` option. `null` (default):
   * the server's default key's (RS256 when there is an RS256 key).
   */
  readonly idTokenSigningAlgorithm: 'RS256' | 'PS256' | 'ES256' | 'EdDSA' | null
  /** Lifetime of ID tokens in seconds (DOT `ID_TOKEN_EXPIRE_SECONDS`). */
  readonly idTokenExpireSeconds: number
  /** Serve RP-Initiated Logout at `{prefix}/logout/` (DOT `OIDC_RP_INITIATED_LOGOUT_ENABLED`, false); needs the plugin's `logoutUser`. */
  readonly oidcRpInitiatedLogoutEnabled: boolean
  /** Always ask the user to confirm a logout (DOT `OIDC_RP_INITIATED_LOGOUT_ALWAYS_PROMPT`, true). */
  readonly oidcRpInitiatedLogoutAlwaysPrompt: boolean
  /** Accept an expired (but genuine) `id_token_hint` (DOT `OIDC_RP_INITIATED_LOGOUT_ACCEPT_EXPIRED_TOKENS`, true). */
  readonly oidcRpInitiatedLogoutAcceptExpiredTokens: boolean
  /** Revoke the user's browser-flow tokens on logout (DOT `OIDC_RP_INITIATED_LOGOUT_DELETE_TOKENS`, true). */
  readonly oidcRpInitiatedLogoutDeleteTokens: boolean
  /**
   * How long a tracked user session (`resolveUser`'s `sessionId`, the `sid` of ID tokens) lasts
   * after the last authorization in it, in seconds (default 14 days). An expired session is ended
   * by `cleartokens` like a logout: its relying parties get logout tokens. Set it to at least the
   * host's own session lifetime.
   */
  readonly oidcSessionExpireSeconds: number
  /**
   * OpenID Connect Back-Channel Logout: how long a logout waits, at most, for the first delivery
   * attempts of its logout tokens before it answers (seconds, default 2; `0` does not wait).
   * Undelivered tokens are retried in the background either way; a slow relying party never
   * holds a logout longer.
   */
  readonly backchannelLogoutWaitSeconds: number
  /** Delivery attempts of one logout token before it is given up (default 6; the `backchannelLogout` event says `failed`). */
  readonly backchannelLogoutMaxAttempts: number
  /** Seconds before the first retry of a failed logout-token delivery; each further retry waits twice as long, at most an hour (default 30). */
  readonly backchannelLogoutRetrySeconds: number
  /** How often each instance looks for logout tokens due for delivery, in seconds (default 10). */
  readonly backchannelLogoutPollSeconds: number

  // ---- deployment checks -------------------------------------------------------------------
  /**
   * Ids of deployment checks not to report, e.g. `['oauth.W007']` (Django's
   * `SILENCED_SYSTEM_CHECKS`): `fastify-oauth-toolkit check` and `checkDeployment` list them as
   * silenced instead. Unknown ids are refused, so a typo silences nothing in secret. Empty by default.
   */
  readonly silencedChecks: readonly string[]

  // ---- security profiles -------------------------------------------------------------------
  /**
   * A security profile the settings are held to at registration. `'fapi2'` (set by
   * `FAPI2_SETTINGS`): any setting the FAPI 2.0 Security Profile forbids fails `register`,
   * naming the setting and the clause, so a later override cannot quietly leave the profile.
   * To deviate on purpose, set it back to `null` (default: no profile).
   */
  readonly securityProfile: 'fapi2' | null
}

/** DOT's defaults, with the RFC 9700 choices noted on each key. */
export const DEFAULT_SETTINGS: Settings = deepFreeze({
  authorizationCodeExpireSeconds: 60,
  passwordGrantEnabled: false,
  implicitGrantEnabled: false,
  pkceRequired: true,
  pkcePlainAllowed: false,
  allowedRedirectUriSchemes: ['http', 'https'],
  requestApprovalPrompt: 'force',
  redirectUriRequired: false,
  hybridFlowEnabled: true,
  allowQueryStringTokens: false,
  accessTokenExpireSeconds: 36000,
  refreshTokenExpireSeconds: null,
  rotateRefreshToken: true,
  refreshTokenGracePeriodSeconds: 0,
  refreshTokenReuseProtection: true,
  accessTokenFormat: 'opaque',
  accessTokenSigningAlgorithm: 'RS256',
  accessTokenDefaultAudience: null,
  scopes: { read: 'Reading scope', write: 'Writing scope' },
  defaultScopes: ['__all__'],
  readScope: 'read',
  writeScope: 'write',
  errorResponseWithScopes: false,
  clientIdGeneratorLength: 40,
  clientSecretGeneratorLength: 128,
  clientAssertionMaxLifetimeSeconds: 300,
  clientAssertionClockSkewSeconds: 10,
  clientAssertionLegacyAudience: false,
  clientAssertionSigningAlgorithms: [...ASYMMETRIC_JWS_ALGORITHMS],
  clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'client_secret_jwt', 'private_key_jwt', 'none'],
  jwksUriCacheSeconds: 300,
  jwksUriRefetchSeconds: 60,
  clearExpiredTokensBatchSize: 10000,
  clearExpiredTokensBatchInterval: 0,
  issuer: null,
  authorizationResponseIss: false,
  dcrEnabled: false,
  dcrRegistrationPolicy: 'user',
  dcrRotateRegistrationTokenOnUpdate: true,
  dcrRegistrationRateLimit: 20,
  parEnabled: true,
  cimdEnabled: false,
  cimdAllowedHosts: [],
  cimdBlockedHosts: [],
  cimdFetchTimeoutSeconds: 5,
  cimdMaxDocumentSize: 16384,
  cimdMetadataMinAgeSeconds: 300,
  cimdMetadataMaxAgeSeconds: 86400,
  cimdFailureBackoffSeconds: 60,
  cimdMaxConcurrentFetches: 10,
  parRequestUriLifetimeSeconds: 60,
  requirePushedAuthorizationRequests: false,
  requireSignedRequestObject: false,
  requestObjectMaxLifetimeSeconds: 300,
  allowUnsignedRequestObjects: false,
  bearerChallenge: false,
  realm: 'api',
  rateLimitFailures: 10,
  rateLimitIpFailures: 100,
  rateLimitAccountDelaySeconds: 5,
  rateLimitWindowSeconds: 900,
  rateLimitRequests: null,
  verificationCacheSize: 10000,
  verificationCacheSeconds: 60,
  clientCacheSize: 1000,
  protectedResources: [],
  resourceIndicatorPolicy: 'declared',
  acceptTokensWithoutResource: false,
  dpopEnabled: false,
  dpopSigningAlgValues: DEFAULT_DPOP_ALGORITHMS,
  dpopProofMaxAgeSeconds: 60,
  dpopNonceRequired: false,
  dpopRequired: false,
  deviceFlowEnabled: false,
  deviceFlowInterval: 5,
  deviceCodeExpireSeconds: 1800,
  deviceUserCodeLength: 8,
  deviceVerificationUri: null,
  oidcEnabled: false,
  idTokenSigningAlgorithm: null,
  idTokenExpireSeconds: 36000,
  oidcRpInitiatedLogoutEnabled: false,
  oidcRpInitiatedLogoutAlwaysPrompt: true,
  oidcRpInitiatedLogoutAcceptExpiredTokens: true,
  oidcRpInitiatedLogoutDeleteTokens: true,
  oidcSessionExpireSeconds: 1_209_600,
  backchannelLogoutWaitSeconds: 2,
  backchannelLogoutMaxAttempts: 6,
  backchannelLogoutRetrySeconds: 30,
  backchannelLogoutPollSeconds: 10,
  silencedChecks: [],
  securityProfile: null,
})

/**
 * RFC 9700 (OAuth 2.0 Security Best Current Practice) in one line:
 * `settings: { ...RFC9700_SETTINGS, scopes: … }`. No implicit or password grant, PKCE with
 * S256 only, no query-string tokens, refresh token reuse detection, `iss` in responses.
 */
export const RFC9700_SETTINGS: Readonly<Partial<Settings>> = Object.freeze({
  implicitGrantEnabled: false,
  passwordGrantEnabled: false,
  pkceRequired: true,
  pkcePlainAllowed: false,
  allowQueryStringTokens: false,
  rotateRefreshToken: true,
  refreshTokenReuseProtection: true,
  authorizationResponseIss: true,
})

/**
 * The FAPI 2.0 Security Profile (final, OpenID Foundation) for this authorization server in one
 * line: `settings: { ...FAPI2_SETTINGS, issuer: 'https://auth.example.com/o', scopes: … }`.
 * Pushed authorization requests only, PKCE with S256, `redirect_uri` required, `iss` in
 * responses, `response_type=code` only; confidential clients authenticating with
 * `private_key_jwt`; DPoP-bound access tokens only; codes living 60 s; no refresh token
 * rotation; PS256, ES256 and EdDSA only. `securityProfile: 'fapi2'` makes registration refuse
 * any later override the profile forbids. Needs `issuer` and, with OpenID Connect or JWT access
 * tokens, a PS256 signing key (or set ES256 / EdDSA). docs/fapi2.md maps each clause to its setting.
 */
export const FAPI2_SETTINGS: Readonly<Partial<Settings>> = deepFreeze<Partial<Settings>>({
  securityProfile: 'fapi2',
  // §5.3.2.1 item 2: the password grant is refused.
  passwordGrantEnabled: false,
  // §5.3.2.2 item 1: `response_type=code` only, so no implicit and no hybrid response types.
  implicitGrantEnabled: false,
  hybridFlowEnabled: false,
  // §5.3.2.2 items 2, 3 and 4: client-authenticated pushed authorization requests, and nothing else.
  parEnabled: true,
  requirePushedAuthorizationRequests: true,
  // §5.3.2.2 item 5: PKCE with S256.
  pkceRequired: true,
  pkcePlainAllowed: false,
  // §5.3.2.2 item 6: redirect_uri in every pushed request.
  redirectUriRequired: true,
  // §5.3.2.2 item 7 (RFC 9207).
  authorizationResponseIss: true,
  // §5.3.2.1 items 3 and 6: confidential clients only, authenticated with private_key_jwt
  // (mTLS client authentication, the other method allowed, is not implemented here).
  clientAuthMethods: ['private_key_jwt'],
  // §5.3.2.1 item 8 and §5.3.3.1 item 5: the issuer identifier as the assertion's audience.
  clientAssertionLegacyAudience: false,
  // §5.3.2.1 items 4, 5 and 13: DPoP-bound access tokens only (mTLS binding is not implemented).
  dpopEnabled: true,
  dpopRequired: true,
  // §5.3.2.1 item 12: codes live at most 60 seconds.
  authorizationCodeExpireSeconds: 60,
  // §5.3.2.1 item 10 and its Note 2: no refresh token rotation (and so no reuse detection,
  // which needs it); the sender-constrained confidential client gains nothing from it.
  rotateRefreshToken: false,
  refreshTokenReuseProtection: false,
  // §5.4.1 item 1: PS256, ES256 or EdDSA (Ed25519) for every JWT the server signs or checks;
  // its Note admits a registered fully-specified Ed25519 algorithm, which DPoP proofs may name.
  clientAssertionSigningAlgorithms: ['PS256', 'ES256', 'EdDSA'],
  dpopSigningAlgValues: ['PS256', 'ES256', 'EdDSA', 'Ed25519'],
  accessTokenSigningAlgorithm: 'PS256',
  idTokenSigningAlgorithm: 'PS256',
  // §5.3.2.1 item 14: accept `iat`/`nbf` up to 10 s ahead, and never beyond 60 s.
  clientAssertionClockSkewSeconds: 10,
  dpopProofMaxAgeSeconds: 60,
  // §5.3.4 item 2: never access tokens in the query.
  allowQueryStringTokens: false,
})

/** What callers pass: any subset of the settings. */
export type SettingsInput = Partial<Settings>

/**
 * Merges `input` over the defaults, validates it (each setting by its rule in `SETTING_RULES`,
 * then the rules between settings) and returns a deeply frozen object; a bad or unknown setting
 * throws `ImproperlyConfiguredError` (`OAT_ERR_SETTINGS`) naming it.
 * @example
 * const settings = resolveSettings({ ...RFC9700_SETTINGS, accessTokenExpireSeconds: 3600 })
 */
export function resolveSettings (input: unknown = {}): Settings {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    fail('settings must be an object')
  }
  const given = input as Record<string, unknown>
  for (const key of Object.keys(given)) {
    if (!Object.hasOwn(SETTING_RULES, key)) fail(`unknown setting "${key}"`)
  }
  // Reuse protection follows rotation unless set explicitly: without rotation there is no reuse to detect.
  const defaults = given.rotateRefreshToken === false && !('refreshTokenReuseProtection' in given)
    ? { ...DEFAULT_SETTINGS, refreshTokenReuseProtection: false }
    : DEFAULT_SETTINGS
  const merged: Record<string, unknown> = { ...defaults, ...given }
  for (const [key, rule] of Object.entries(SETTING_RULES)) {
    const problem = rule.check(merged[key], key)
    if (problem !== null) fail(problem)
  }
  const s = merged as unknown as Settings
  for (const constraint of CONSTRAINTS) {
    const problem = constraint(s)
    if (problem !== null) fail(problem)
  }
  return deepFreeze({
    ...s,
    scopes: { ...s.scopes },
    accessTokenDefaultAudience: Array.isArray(s.accessTokenDefaultAudience) ? [...s.accessTokenDefaultAudience] : s.accessTokenDefaultAudience,
    defaultScopes: [...s.defaultScopes],
    allowedRedirectUriSchemes: [...s.allowedRedirectUriSchemes],
    dpopSigningAlgValues: [...s.dpopSigningAlgValues],
    clientAuthMethods: [...s.clientAuthMethods],
    clientAssertionSigningAlgorithms: [...s.clientAssertionSigningAlgorithms],
    silencedChecks: [...s.silencedChecks],
    protectedResources: s.protectedResources.map(copyResource),
  })
}

/** The scopes a request gets when it names none: `defaultScopes` with `__all__` expanded. */
export function defaultScopesOf (settings: Settings): string[] {
  return settings.defaultScopes.includes('__all__') ? Object.keys(settings.scopes) : [...settings.defaultScopes]
}

function copyResource (r: ProtectedResourceSettings): ProtectedResourceSettings {
  return {
    ...r,
    ...(r.scopesSupported === undefined ? {} : { scopesSupported: [...r.scopesSupported] }),
    ...(r.authorizationServers === undefined ? {} : { authorizationServers: [...r.authorizationServers] }),
    ...(r.bearerMethodsSupported === undefined ? {} : { bearerMethodsSupported: [...r.bearerMethodsSupported] }),
  }
}

function fail (message: string): never {
  throw new ImproperlyConfiguredError('OAT_ERR_SETTINGS', `fastify-oauth-toolkit: invalid settings: ${message}`)
}

function deepFreeze<T> (value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner)
    Object.freeze(value)
  }
  return value
}
