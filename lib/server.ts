import { EventEmitter } from 'node:events'
import { createApplication, type ApplicationInput, type CreatedApplication } from './applications.js'
import { systemClock, type Clock } from './clock.js'
import type { OidcContext, ServerContext, ToolkitEventMap, VerifyUserCredentials } from './context.js'
import { tokenEndpoint } from './endpoints/token.js'
import { ImproperlyConfiguredError, OAuthError } from './errors.js'
import { clearExpiredTokens, type ClearExpiredOptions } from './maintenance.js'
import { cryptoRandom, type Random } from './random.js'
import type { OAuthRequest } from './request.js'
import { authenticateBearer, authenticateBearerNow, verifyChecksum, type BearerResult, type BearerSource } from './resource/bearer.js'
import { VerificationCache } from './resource/verification-cache.js'
import { ClientCache } from './validator/client-cache.js'
import { errorToResponse, type OAuthResponse } from './response.js'
import { resolveSettings, type Settings, type SettingsInput } from './settings.js'
import type { ClearedCounts, Store } from './store/types.js'
import { createSecretSealer, type SealingKeyInput } from './tokens/client-secret-seal.js'
import { tokenChecksum } from './tokens/checksum.js'
import { createScryptHasher, type SecretHasher } from './tokens/secret-hasher.js'
import { authenticateClient, type AuthenticatedClient } from './validator/client-auth.js'

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
  /** Bearer tokens that may register clients when `dcrRegistrationPolicy` is `initial-access-token` (RFC 7591 §3); kept only as checksums. */
  initialAccessTokens?: readonly string[]
}

/** Per-request facts an endpoint cannot know by itself. */
export interface EndpointOptions {
  /** This server's issuer identifier for the request (the `issuer` setting, else derived by the view). */
  issuer?: string
}

/** The framework-agnostic authorization server: endpoints, verification and administration. */
export interface OAuthServer {
  readonly settings: Settings
  readonly store: Store
  readonly clock: Clock
  /** `appAuthorized` fires after every token the token endpoint issues (DOT's `app_authorized`). */
  readonly events: EventEmitter<ToolkitEventMap>
  /** The token endpoint; OAuth errors become RFC 6749 §5.2 responses, anything else is rethrown. */
  token (req: OAuthRequest, options?: EndpointOptions): Promise<OAuthResponse>
  /** Verifies a bearer token, its audience (the route's declared RFC 8707 resource, or none) and the scopes it must hold. */
  authenticateBearer (source: BearerSource, requiredScopes?: readonly string[], resource?: string | null): Promise<BearerResult>
  /**
   * `authenticateBearer`, answering synchronously when it needs no I/O (a refused presentation,
   * or a token in the verification cache, checked for audience and scopes) and with a promise
   * when the store must be asked. The protected-route hooks use it so that a cache hit costs no
   * promise; the token is parsed and hashed once either way.
   */
  authenticateBearerNow (source: BearerSource, requiredScopes?: readonly string[], resource?: string | null): BearerResult | Promise<BearerResult>
  /** Authenticates a client by its credentials (Basic or body). */
  authenticateClient (req: OAuthRequest): Promise<AuthenticatedClient>
  /** Validates and registers an application; the clear secret is returned this once. */
  createApplication (input: ApplicationInput): Promise<CreatedApplication>
  /** DOT's `cleartokens`. */
  clearExpiredTokens (options?: ClearExpiredOptions): Promise<ClearedCounts>
  /** Internal context, for the toolkit's own views and plugins. */
  readonly context: ServerContext
  /** Detaches the server from its store (the verification cache stops listening); the store itself stays open. */
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
  }
  return {
    settings,
    store: ctx.store,
    clock: ctx.clock,
    events: ctx.events,
    context: ctx,
    async token (req, opts = {}) {
      try {
        return await tokenEndpoint(ctx, req, opts.issuer ?? settings.issuer)
      } catch (err) {
        // Anything else is a bug: let the caller log it and answer a generic server_error.
        if (err instanceof OAuthError) return errorToResponse(err)
        throw err
      }
    },
    authenticateBearer: (source, requiredScopes = [], resource = null) => authenticateBearer(ctx, source, requiredScopes, resource),
    authenticateBearerNow (source, requiredScopes = [], resource = null) {
      const now = authenticateBearerNow(ctx, source, requiredScopes, resource)
      return typeof now === 'string' ? verifyChecksum(ctx, now, requiredScopes, resource) : now
    },
    authenticateClient: (req) => authenticateClient(ctx, req, req.body ?? {}),
    createApplication: (input) => createApplication(ctx, input),
    clearExpiredTokens: (opts) => clearExpiredTokens(ctx, opts),
    close: () => {
      ctx.verificationCache?.close()
      ctx.clientCache?.close()
    },
  }
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
