import { EventEmitter } from 'node:events'
import { createApplication, deleteApplication, regenerateClientSecret, updateApplication, type ApplicationInput, type ApplicationUpdate, type CreatedApplication } from './applications.js'
import { systemClock, type Clock } from './clock.js'
import type { OidcContext, ServerContext, ToolkitEventMap, VerifyUserCredentials } from './context.js'
import { ImproperlyConfiguredError } from './errors.js'
import type { ClientChangeSource } from './event-types.js'
import { clearExpiredTokens, type ClearExpiredOptions } from './maintenance.js'
import { cryptoRandom, type Random } from './random.js'
import type { OAuthRequest } from './request.js'
import { authenticateBearer, authenticateBearerNow, verifyChecksum, type BearerResult, type BearerSource } from './resource/bearer.js'
import { VerificationCache } from './resource/verification-cache.js'
import { ClientCache } from './validator/client-cache.js'
import { JwksUriCache } from './validator/client-jwks.js'
import { createSafeFetch, type SafeFetchOptions } from './http/safe-fetch.js'
import { CimdResolver, clearExpiredCimdApplications, type ClearCimdOptions } from './registration/cimd.js'
import type { AuthorizingUser } from './endpoints/authorize-request.js'
import { createLogoutDelivery } from './logout-delivery.js'
import { endSessions, endUserSession, type EndSessionsOptions, type EndSessionsResult, type SessionTarget } from './sessions.js'
import { bindEndpoints, type EndpointOptions, type OAuthEndpoints } from './server-endpoints.js'
import { resolveSettings, type Settings, type SettingsInput } from './settings.js'
import type { ClearedCounts, Store } from './store/types.js'
import { createSecretSealer, type SealingKey, type SealingKeyInput } from './tokens/client-secret-seal.js'
import { createServerDpop } from './dpop/server.js'
import { tokenChecksum } from './tokens/checksum.js'
import { createScryptHasher, type SecretHasher } from './tokens/secret-hasher.js'
import { activeKeyFor } from './tokens/signing-keys.js'
import { authenticateClient, type AuthenticatedClient } from './validator/client-auth.js'

export type { AuthorizationRequestOptions, EndpointOptions, IntrospectOptions, OAuthEndpoints } from './server-endpoints.js'
export type { EndSessionsOptions, EndSessionsResult, SessionTarget } from './sessions.js'

/** Dependencies of `createOAuthServer`; only `store` is required. */
export interface OAuthServerOptions {
  store: Store
  settings?: SettingsInput
  clock?: Clock
  random?: Random
  hasher?: SecretHasher
  /** Checks credentials for the password grant (required when `passwordGrantEnabled`). */
  verifyUserCredentials?: VerifyUserCredentials
  /** OpenID Connect signing keys (see `loadSigningKeys`) and the UserInfo claims source. */
  oidc?: OidcContext
  /**
   * Key(s) that seal HS256 applications' client secrets (AES-256-GCM), so ID tokens can be
   * signed with them while the database keeps only hashes and ciphertext. Without it HS256 is
   * refused. 32 bytes (hex, base64url or a Uint8Array); a list rotates: the first seals, all open.
   */
  clientSecretSealingKey?: SealingKeyInput
  /**
   * The outbound HTTP client that fetches URLs clients register (`jwks_uri`, client ID metadata
   * documents): https only, public addresses only, no redirects, 64 KiB and 5 s by default (for
   * metadata documents, `cimdMaxDocumentSize` and `cimdFetchTimeoutSeconds` instead). `allowHttp` and
   * `allowPrivateAddresses` are for tests and local development; `ca` trusts a test server's certificate.
   */
  outboundHttp?: SafeFetchOptions
  /** Bearer tokens that may register clients when `dcrRegistrationPolicy` is `initial-access-token` (RFC 7591 §3); kept only as checksums. */
  initialAccessTokens?: readonly string[]
  /**
   * The key DPoP server nonces are MACed with (RFC 9449 §8, the `dpopNonceRequired` setting): 32
   * random bytes, the same on every instance so that each accepts the others' nonces. Without it
   * a key is derived from `clientSecretSealingKey`; with neither, `dpopNonceRequired` fails at startup.
   */
  dpopNonceKey?: SealingKey
}

/**
 * Where a server keeps its context. A symbol, so it is on no public type, and `{ ...server }`
 * (the Fastify toolkit built on it) still carries it.
 */
const CONTEXT: unique symbol = Symbol('fastify-oauth-toolkit.serverContext')

/**
 * The framework-agnostic authorization server: every endpoint the toolkit serves, bearer and
 * client verification, and administration. Views and plugins call it; none reaches inside.
 */
export interface OAuthServer extends OAuthEndpoints {
  readonly settings: Settings
  readonly store: Store
  readonly clock: Clock
  /**
   * The toolkit's events (docs/events.md): `tokenIssued`, `tokenRevoked`, `clientAuthenticationFailed`,
   * … for audit logs and metrics, and `appAuthorized` (DOT's `app_authorized`). A listener that
   * throws or rejects never fails the request; it is reported on `error`.
   */
  readonly events: EventEmitter<ToolkitEventMap>
  /** Verifies a bearer token, its audience (the route's declared RFC 8707 resource, or none) and the scopes it must hold. */
  authenticateBearer (source: BearerSource, requiredScopes?: readonly string[], resource?: string | null): Promise<BearerResult>
  /**
   * `authenticateBearer`, answering synchronously when it needs no I/O (a refused presentation,
   * or a token in the verification cache, checked for audience and scopes) and with a promise
   * when the store must be asked. The protected-route hooks use it so that a cache hit costs no
   * promise; the token is parsed and hashed once either way.
   */
  authenticateBearerNow (source: BearerSource, requiredScopes?: readonly string[], resource?: string | null): BearerResult | Promise<BearerResult>
  /**
   * Authenticates a client by its credentials (Basic, body, or a JWT client assertion, whose
   * `aud` must be `options.issuer`, else the `issuer` setting). This framework-free check counts
   * no failures: it has no address to key them by. Over HTTP, use the plugin's
   * `app.oauth.authenticateClient(request)`, which applies the token endpoint's failure limits,
   * or put equivalent limits in front of it.
   */
  authenticateClient (req: OAuthRequest, options?: EndpointOptions): Promise<AuthenticatedClient>
  /**
   * Validates and registers an application; the clear secret is returned this once.
   * @param options `source` (default `api`): who asked, for `clientRegistered`.
   */
  createApplication (input: ApplicationInput, options?: { readonly source?: ClientChangeSource }): Promise<CreatedApplication>
  /**
   * Validates and applies changes to application `id` (see `ApplicationUpdate`); a new secret,
   * when one was made, is returned in clear this once. `null` when the application is gone.
   * @param options `selfService`: an end user edits their own application (the management pages);
   * `source` (default `api`): who asked, for `clientUpdated`.
   */
  updateApplication (id: number, input: ApplicationUpdate, options?: { readonly selfService?: boolean, readonly source?: ClientChangeSource }): Promise<CreatedApplication | null>
  /** Replaces a confidential application's secret, returned in clear this once; `null` for a public or missing one. */
  regenerateClientSecret (id: number, options?: { readonly source?: ClientChangeSource }): Promise<CreatedApplication | null>
  /**
   * Deletes application `id` and every token, code and registration of it (`clientDeleted`);
   * false when it was already gone.
   * @param options `source` (default `api`): who asked.
   */
  deleteApplication (id: number, options?: { readonly source?: ClientChangeSource }): Promise<boolean>
  /** DOT's `cleartokens`; it also ends the user sessions that expired (`oidcSessionExpireSeconds`), telling their relying parties. */
  clearExpiredTokens (options?: ClearExpiredOptions): Promise<ClearedCounts>
  /**
   * DOT's `clearcimdapplications`: deletes the applications Client ID Metadata Documents created
   * whose document is stale and that hold no live token, code or device authorization; resolves
   * to how many. A client that comes back is fetched anew.
   */
  clearExpiredCimdApplications (options?: ClearCimdOptions): Promise<number>
  /**
   * Ends user sessions at this server (OpenID Connect Back-Channel Logout 1.0): by the host's own
   * session id, all of a user's, or one by row id or `sid` (the administration pages, with
   * `{ reason: 'staff' }`). Each live session is ended once (a second call ends nothing); each of
   * its relying parties with a back-channel logout URI gets a logout token; its refresh token
   * families without `offline_access` are revoked, each a `tokenRevoked` event; `logout` is emitted. Waits for the first
   * delivery attempts at most `backchannelLogoutWaitSeconds`, never for a slow relying party.
   * @example
   * await server.endSessions({ sid }, { reason: 'staff' })
   */
  endSessions (target: SessionTarget, options?: EndSessionsOptions): Promise<EndSessionsResult>
  /**
   * Ends the session `user` is in (by its `sessionId`; see `endSessions`). `logout` is emitted
   * even when the host reports no session id or none was tracked (`sid: null`).
   */
  endUserSession (user: AuthorizingUser, options?: EndSessionsOptions): Promise<EndSessionsResult>
  /**
   * Starts this instance's back-channel logout worker (the outbox of logout tokens, shared by every
   * instance on the database), polling every `backchannelLogoutPollSeconds` on unref'd timers. The
   * plugin starts it when the app is ready if `oidcEnabled`; idempotent.
   */
  startLogoutDelivery (): void
  /** Stops the worker: attempts in flight are interrupted (their tokens come due again at once) and awaited. */
  stopLogoutDelivery (): Promise<void>
  /** Detaches the server from its store (the verification cache stops listening, the logout worker's timer stops); the store itself stays open. */
  close (): void
}

/** Builds an authorization server from injected dependencies; validates settings first. */
export function createOAuthServer (options: OAuthServerOptions): OAuthServer {
  const settings = resolveSettings(options.settings ?? {})
  checkInitialAccessTokens(settings, options.initialAccessTokens)
  if (settings.passwordGrantEnabled && options.verifyUserCredentials === undefined) {
    throw new ImproperlyConfiguredError('OAT_ERR_OPTIONS', 'fastify-oauth-toolkit: passwordGrantEnabled needs a verifyUserCredentials(username, password) option')
  }
  if (settings.accessTokenFormat === 'jwt' && options.oidc === undefined) {
    throw new ImproperlyConfiguredError('OAT_ERR_OPTIONS', 'fastify-oauth-toolkit: accessTokenFormat "jwt" needs a signing key: `oidc: { privateKey }` (an RSA key; `fastify-oauth-toolkit generatekey` makes one)')
  }
  if (settings.accessTokenFormat === 'jwt' && options.oidc !== undefined && activeKeyFor(options.oidc.keys, settings.accessTokenSigningAlgorithm) === undefined) {
    const alg = settings.accessTokenSigningAlgorithm
    throw new ImproperlyConfiguredError('OAT_ERR_OPTIONS', `fastify-oauth-toolkit: accessTokenSigningAlgorithm is ${alg}, but the oidc option has no active ${alg} key (\`oidc.signingKeys: [{ alg: '${alg}', privateKey }]\`)`)
  }
  const idAlg = settings.idTokenSigningAlgorithm
  if (settings.oidcEnabled && idAlg !== null && options.oidc !== undefined && activeKeyFor(options.oidc.keys, idAlg) === undefined) {
    throw new ImproperlyConfiguredError('OAT_ERR_OPTIONS', `fastify-oauth-toolkit: idTokenSigningAlgorithm is ${idAlg}, but the oidc option has no active ${idAlg} key (\`oidc.signingKeys: [{ alg: '${idAlg}', privateKey }]\`)`)
  }
  const ctx: ServerContext = {
    settings,
    store: options.store,
    clock: options.clock ?? systemClock,
    random: options.random ?? cryptoRandom,
    hasher: options.hasher ?? createScryptHasher(),
    events: new EventEmitter<ToolkitEventMap>(),
    verifyUserCredentials: options.verifyUserCredentials ?? null,
    oidc: options.oidc ?? null,
    secretSealer: options.clientSecretSealingKey === undefined ? null : createSecretSealer(options.clientSecretSealingKey),
    verificationCache: settings.verificationCacheSize > 0
      ? new VerificationCache(options.store, settings.verificationCacheSize, settings.verificationCacheSeconds)
      : null,
    clientCache: settings.clientCacheSize > 0
      ? new ClientCache(options.store, settings.clientCacheSize, settings.verificationCacheSeconds)
      : null,
    initialAccessTokenChecksums: (options.initialAccessTokens ?? []).map(tokenChecksum),
    jwksUriCache: new JwksUriCache(createSafeFetch(options.outboundHttp), settings.jwksUriCacheSeconds, settings.jwksUriRefetchSeconds),
    // The document limits are the CIMD settings'; the policy (http, private addresses, trusted CAs) is the outbound client's.
    cimd: settings.cimdEnabled
      ? new CimdResolver(createSafeFetch({ ...options.outboundHttp, maxBytes: settings.cimdMaxDocumentSize, timeoutMs: settings.cimdFetchTimeoutSeconds * 1000 }))
      : null,
    dpop: createServerDpop(settings, options.store, options.clock ?? systemClock, options.dpopNonceKey, options.clientSecretSealingKey),
  }
  // The worker signs with and reports through the context it belongs to, so it joins it afterwards.
  const logoutDelivery = createLogoutDelivery(ctx, createSafeFetch(options.outboundHttp), options.outboundHttp?.timeoutMs ?? 5000)
  Object.assign(ctx, { logoutDelivery })
  const server: OAuthServer & { readonly [CONTEXT]: ServerContext } = {
    [CONTEXT]: ctx,
    settings,
    store: ctx.store,
    clock: ctx.clock,
    events: ctx.events,
    ...bindEndpoints(ctx),
    authenticateBearer: (source, requiredScopes = [], resource = null) => authenticateBearer(ctx, source, requiredScopes, resource),
    authenticateBearerNow (source, requiredScopes = [], resource = null) {
      const now = authenticateBearerNow(ctx, source, requiredScopes, resource)
      return typeof now === 'string' ? verifyChecksum(ctx, now, requiredScopes, resource) : now
    },
    authenticateClient: (req, opts = {}) => authenticateClient(ctx, req, req.body ?? {}, opts.issuer ?? settings.issuer, 'authenticate-client'),
    createApplication: (input, opts = {}) => createApplication(ctx, input, opts.source),
    updateApplication: (id, input, opts) => updateApplication(ctx, id, input, opts),
    regenerateClientSecret: (id, opts = {}) => regenerateClientSecret(ctx, id, opts.source),
    deleteApplication: (id, opts = {}) => deleteApplication(ctx, id, opts.source),
    clearExpiredTokens: (opts) => clearExpiredTokens(ctx, opts),
    clearExpiredCimdApplications: (opts) => clearExpiredCimdApplications(ctx, opts),
    endSessions: async (target, opts) => await endSessions(ctx, target, opts),
    endUserSession: async (user, opts) => await endUserSession(ctx, user, opts),
    startLogoutDelivery: () => { logoutDelivery.start() },
    stopLogoutDelivery: async () => { await logoutDelivery.stop() },
    close: () => {
      ctx.verificationCache?.close()
      ctx.clientCache?.close()
      logoutDelivery.stop().catch(() => {})
    },
  }
  return server
}

/**
 * The context a server was built with, for the toolkit's own tests and tools: it is not part of
 * the public API, which is `OAuthServer`'s methods.
 */
export function serverContext (server: Omit<OAuthServer, 'authenticateClient'>): ServerContext {
  const ctx = (server as Partial<Record<typeof CONTEXT, ServerContext>>)[CONTEXT]
  if (ctx === undefined) throw new TypeError('fastify-oauth-toolkit: not a server made by createOAuthServer')
  return ctx
}

/** The `initial-access-token` registration policy needs tokens, each long enough to be a secret (RFC 7591 §3). */
function checkInitialAccessTokens (settings: Settings, tokens: readonly string[] | undefined): void {
  if (tokens !== undefined && (!Array.isArray(tokens) || tokens.some((token) => typeof token !== 'string' || token.length < 32))) {
    throw new ImproperlyConfiguredError('OAT_ERR_OPTIONS', 'fastify-oauth-toolkit: initialAccessTokens must be strings of at least 32 characters')
  }
  if (settings.dcrEnabled && settings.dcrRegistrationPolicy === 'initial-access-token' && (tokens === undefined || tokens.length === 0)) {
    throw new ImproperlyConfiguredError('OAT_ERR_OPTIONS', 'fastify-oauth-toolkit: dcrRegistrationPolicy "initial-access-token" needs an initialAccessTokens option')
  }
}
