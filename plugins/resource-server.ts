import type { FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import { systemClock, type Clock } from '../lib/clock.js'
import { createDpopVerifier, DEFAULT_DPOP_ALGORITHMS, DPOP_SUPPORTED_ALGORITHMS } from '../lib/dpop/proof.js'
import type { Store } from '../lib/store/types.js'
import { decodeSealingKey, type SealingKey } from '../lib/tokens/client-secret-seal.js'
import { ImproperlyConfiguredError } from '../lib/errors.js'
import { createIntrospectionVerifier, type IntrospectionOptions } from '../lib/resource/introspection.js'
import { combineVerifiers, createJwtVerifier, type JwtVerificationOptions } from '../lib/resource/jwt-verifier.js'
import { authenticateWith, type RemoteVerificationProblem, type ResourceDpop, type TokenVerifier } from '../lib/resource/verifier.js'
import { resolveSettings, type SettingsInput } from '../lib/settings.js'
import './augment.js'
import { rejectUnknownOptions, type OptionNames } from '../lib/option-keys.js'
import { createResourceGuard, type ResourceLoadUser } from '../views/resource-guard.js'

/** The settings that mean something on a resource server (same names, defaults and checks as the core plugin's). */
export type ResourceServerSettings = Pick<SettingsInput, 'scopes' | 'readScope' | 'writeScope' | 'bearerChallenge' | 'realm' | 'errorResponseWithScopes' | 'allowQueryStringTokens' | 'protectedResources' | 'acceptTokensWithoutResource'>

/** DPoP (RFC 9449) at a standalone resource server: `DPoP` tokens with proofs are accepted. */
export interface ResourceServerDpopOptions {
  /**
   * This resource server's public origin, e.g. `https://api.example.com` (scheme, host and port):
   * with each request's path, the URL its proofs' `htu` must name. Configured, never read from the
   * `Host` header, which the client writes.
   */
  readonly origin: string
  /**
   * Where proofs' `jti` are recorded, so that a proof replayed to any instance is refused: the
   * toolkit's store (`openStore`, `fastify-oauth-toolkit/pg`) on a database every instance shares.
   */
  readonly store: Pick<Store, 'useOnce'>
  /** Accepted proof algorithms (default ES256, ES384, ES512, PS256, RS256, EdDSA); asymmetric only. */
  readonly algorithms?: readonly string[]
  /** How far a proof's `iat` may be from this server's clock, seconds (default 60, at most 600). */
  readonly proofMaxAgeSeconds?: number
  /** Require server nonces (RFC 9449 §9), MACed with this key: 32 random bytes, the same on every instance. */
  readonly nonceKey?: SealingKey
  /**
   * Accept DPoP-bound access tokens only (default false): an unbound token is refused whatever
   * its scheme, as the authorization server's `dpopRequired` does (FAPI 2.0 §5.3.3: resource
   * servers accept sender-constrained tokens only).
   */
  readonly required?: boolean
}

/** Options of `resourceServer`. Give `introspection`, `jwt`, or both. */
export interface ResourceServerOptions {
  /** Verify tokens by asking the authorization server (RFC 7662), with caching. */
  introspection?: IntrospectionOptions
  /** Verify RFC 9068 JWT access tokens offline from the authorization server's JWKS. */
  jwt?: JwtVerificationOptions
  /** Scopes the views may require, `readScope`/`writeScope`, and how failures are answered. */
  settings?: ResourceServerSettings
  /**
   * Resolves `request.resourceOwner` from the token's user id (`sub`, unless it is the client
   * itself) and the verified token (its `claims` hold e.g. the introspected `username`).
   * Resolving `null` refuses the token. Without it `request.resourceOwner` stays `null`.
   */
  loadUser?: ResourceLoadUser
  /**
   * When the authorization server (or its JWKS) is slow, down or answers garbage: `unavailable`
   * (default) answers 503 + `Retry-After`, so clients retry instead of discarding a good token;
   * `deny` answers as for an invalid token (DOT's behaviour). Both fail closed.
   */
  onUnavailable?: 'unavailable' | 'deny'
  /** Accept DPoP-bound tokens with the `DPoP` scheme and a proof (RFC 9449 §7). Without it, only bearer tokens pass; bound ones are refused. */
  dpop?: ResourceServerDpopOptions
  /** Injected time source (tests). */
  clock?: Clock
}

/** Checks the `dpop` option at registration and builds its verifier. */
function resourceDpop (options: ResourceServerDpopOptions, clock: Clock): ResourceDpop {
  if (options === null || typeof options !== 'object') optionError('dpop must be { origin, store }')
  rejectUnknownOptions('resourceServer dpop', options, ['origin', 'store', 'algorithms', 'proofMaxAgeSeconds', 'nonceKey', 'required'])
  let origin: URL | null = null
  try {
    origin = typeof options.origin === 'string' ? new URL(options.origin) : null
  } catch {}
  const loopback = origin !== null && ['127.0.0.1', '[::1]', 'localhost'].includes(origin.hostname)
  if (origin === null || origin.origin !== options.origin.replace(/\/$/, '') || !(origin.protocol === 'https:' || (origin.protocol === 'http:' && loopback))) {
    optionError('dpop.origin must be this server\'s public origin, e.g. https://api.example.com (https; http only for loopback; no path)')
  }
  if (options.store === null || typeof options.store !== 'object' || typeof options.store.useOnce !== 'function') optionError('dpop.store must be the toolkit\'s store (it records proofs\' jti: a store every instance shares)')
  const algorithms = options.algorithms ?? DEFAULT_DPOP_ALGORITHMS
  if (!Array.isArray(algorithms) || algorithms.length === 0 || !algorithms.every((a) => DPOP_SUPPORTED_ALGORITHMS.includes(a))) {
    optionError(`dpop.algorithms must be a non-empty list of ${DPOP_SUPPORTED_ALGORITHMS.join(', ')}`)
  }
  const maxAge = options.proofMaxAgeSeconds ?? 60
  if (typeof maxAge !== 'number' || !Number.isSafeInteger(maxAge) || maxAge <= 0 || maxAge > 600) optionError('dpop.proofMaxAgeSeconds must be an integer from 1 to 600')
  if (options.required !== undefined && typeof options.required !== 'boolean') optionError('dpop.required must be true or false')
  const store = options.store
  return {
    origin: origin.origin,
    required: options.required === true,
    verifier: createDpopVerifier({
      algorithms,
      maxAgeSeconds: maxAge,
      nonceKey: options.nonceKey === undefined ? null : decodeSealingKey(options.nonceKey, 'resourceServer dpop.nonceKey'),
      clock,
      useOnce: async (key, expiresAt) => await store.useOnce('dpop', key, expiresAt, clock.now()),
    }),
  }
}

function optionError (message: string): never {
  throw new ImproperlyConfiguredError('OAT_ERR_OPTIONS', `fastify-oauth-toolkit: resourceServer: ${message}`)
}

const OPTION_NAMES: OptionNames<ResourceServerOptions> = { introspection: true, jwt: true, settings: true, loadUser: true, onUnavailable: true, dpop: true, clock: true }

const plugin: FastifyPluginAsync<ResourceServerOptions> = async (app, options) => {
  rejectUnknownOptions('resourceServer', options, Object.keys(OPTION_NAMES))
  if (app.hasDecorator('oauthResource')) optionError('this app already protects resources (the core plugin or resourceServer is registered)')
  if (options.introspection === undefined && options.jwt === undefined) optionError('give `introspection`, `jwt`, or both')
  if (options.loadUser !== undefined && typeof options.loadUser !== 'function') optionError('`loadUser` must be a function')
  const onUnavailable = options.onUnavailable ?? 'unavailable'
  if (onUnavailable !== 'unavailable' && onUnavailable !== 'deny') optionError('`onUnavailable` must be "unavailable" or "deny"')
  if (options.jwt?.checkRevocation === true && options.introspection === undefined) optionError('jwt.checkRevocation needs the `introspection` option')
  const settings = resolveSettings(options.settings ?? {})
  // Only what went wrong is logged: never the token, the credentials or the response body.
  const report = (problem: RemoteVerificationProblem): void => { app.log.warn({ oauthResourceServer: problem }, 'remote token verification failed') }
  const deps = { report, ...(options.clock === undefined ? {} : { clock: options.clock }) }
  const introspection = options.introspection === undefined ? null : createIntrospectionVerifier(options.introspection, deps)
  const jwt = options.jwt === undefined ? null : createJwtVerifier(options.jwt, deps)
  const verifier: TokenVerifier = combineVerifiers(jwt, introspection, options.jwt?.checkRevocation === true)
  const dpop = options.dpop === undefined ? null : resourceDpop(options.dpop, options.clock ?? systemClock)

  // The same guard as the core plugin's, over the remote check; a verification that could not be
  // completed is answered as `onUnavailable` says (views/resource-guard.ts).
  const guard = createResourceGuard({
    settings,
    authenticateBearer: async (source, required = [], resource = null) => await authenticateWith(settings, verifier, source, required, resource, dpop),
    dpopAlgorithms: dpop === null ? null : dpop.verifier.algorithms,
  }, { loadUser: options.loadUser ?? null, onUnavailable })
  app.decorate('oauthResource', guard)
  for (const name of ['accessToken', 'resourceOwner', 'oauthClient'] as const) {
    if (!app.hasRequestDecorator(name)) app.decorateRequest(name, null)
  }
}

/**
 * A standalone resource server: protects this app's routes (`ProtectedResourceView` and its
 * scoped/read-write variants, `app.oauthResource.protect()`) with tokens issued by a remote
 * authorization server, verified by introspection (RFC 7662) or offline as JWTs (RFC 9068).
 * Needs no database and no core plugin.
 * @example
 * await app.register(resourceServer, {
 *   introspection: { url: 'https://auth.example.com/o/introspect/', credentials: { clientId, clientSecret } },
 * })
 * app.get('/api/hello', { onRequest: app.oauthResource.protect({ scopes: ['read'] }) }, async () => 'hi')
 */
export const resourceServer = fp(plugin, { name: 'fastify-oauth-toolkit-resource-server', fastify: '5.x' })
export default resourceServer
