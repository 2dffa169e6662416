import type { FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import type { Clock } from '../lib/clock.js'
import { ImproperlyConfiguredError } from '../lib/errors.js'
import { createIntrospectionVerifier, type IntrospectionOptions } from '../lib/resource/introspection.js'
import { combineVerifiers, createJwtVerifier, type JwtVerificationOptions } from '../lib/resource/jwt-verifier.js'
import { authenticateWith, type RemoteVerificationProblem, type TokenVerifier } from '../lib/resource/verifier.js'
import { resolveSettings, type SettingsInput } from '../lib/settings.js'
import './augment.js'
import { rejectUnknownOptions, type OptionNames } from '../lib/option-keys.js'
import { createResourceGuard, type ResourceLoadUser } from '../views/resource-guard.js'

/** The settings that mean something on a resource server (same names, defaults and checks as the core plugin's). */
export type ResourceServerSettings = Pick<SettingsInput, 'scopes' | 'readScope' | 'writeScope' | 'bearerChallenge' | 'realm' | 'errorResponseWithScopes' | 'allowQueryStringTokens' | 'protectedResources' | 'acceptTokensWithoutResource'>

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
  /** Injected time source (tests). */
  clock?: Clock
}

function optionError (message: string): never {
  throw new ImproperlyConfiguredError('OAT_ERR_OPTIONS', `fastify-oauth-toolkit: resourceServer: ${message}`)
}

const OPTION_NAMES: OptionNames<ResourceServerOptions> = { introspection: true, jwt: true, settings: true, loadUser: true, onUnavailable: true, clock: true }

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

  // The same guard as the core plugin's, over the remote check; a verification that could not be
  // completed is answered as `onUnavailable` says (views/resource-guard.ts).
  const guard = createResourceGuard({
    settings,
    authenticateBearer: async (source, required = [], resource = null) => await authenticateWith(settings, verifier, source, required, resource),
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
