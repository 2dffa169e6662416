import type { FastifyReply, FastifyRequest } from 'fastify'
import { ImproperlyConfiguredError } from '../lib/errors.js'
import type { AuthorizingUser } from '../lib/endpoints/authorize-request.js'
import type { ResourceOwner } from '../lib/resource/bearer.js'
import type { EndpointOptions, EndSessionsOptions, EndSessionsResult, OAuthServer } from '../lib/server.js'
import type { AuthenticatedClient } from '../lib/validator/client-auth.js'
import { authenticateClientLimited } from '../views/client-authentication.js'
import { clientFailureLimitsOf } from '../views/rate-limit.js'
import { createCsrfProtection, type CsrfProtection } from '../views/csrf.js'
import { createResourceGuard, type OAuthResourceGuard } from '../views/resource-guard.js'
import type { Templates } from '../views/templates/index.js'
import type { Languages } from '../lib/i18n/languages.js'
import type { ResolveLocale } from '../views/i18n.js'

/**
 * Loads the host application's user for `request.resourceOwner`. Resolving `null` (a deleted or
 * disabled user) refuses the token; a throw propagates to the app's error handler.
 */
export type LoadUser = (userId: string) => Promise<ResourceOwner | null>

/**
 * Tells the toolkit who is logged in on a browser request (the authorization and management
 * pages): the user's id, as tokens will carry it, or `null` for an anonymous visitor.
 */
export type ResolveUser = (request: FastifyRequest) => Promise<AuthorizingUser | null> | AuthorizingUser | null

/** Ends the host application's session (RP-Initiated Logout): the toolkit cannot, the host owns login. */
export type LogoutUser = (request: FastifyRequest, reply: FastifyReply) => Promise<void> | void

/** The Fastify-level options the toolkit is built with. */
export interface ToolkitOptions {
  readonly loadUser: LoadUser | null
  readonly resolveUser: ResolveUser | null
  readonly loginUrl: string
  readonly logoutUser?: LogoutUser | null
  readonly secret: Buffer
  readonly templates: Templates
  readonly languages: Languages
  readonly resolveLocale: ResolveLocale | null
}

/**
 * `app.oauth`: the authorization server plus the Fastify helpers built on it. Its
 * `authenticateClient` takes the Fastify request (the framework-free server's takes an `OAuthRequest`).
 *
 * The endpoint methods it shares with the framework-free server (`token`, `revoke`,
 * `introspect`, `pushAuthorizationRequest`, `deviceAuthorization`) take an `OAuthRequest`, which
 * carries no address: called from a route of the host's own they count no failed client
 * authentications. `oauthRoutes` serves them behind the token endpoint's failure limits; a host
 * that mounts one itself must put equivalent limits in front of it.
 */
export interface OAuthToolkit extends Omit<OAuthServer, 'authenticateClient'>, OAuthResourceGuard {
  /**
   * Authenticates the client whose credentials a host route received (Basic, `client_id` +
   * `client_secret` in a form body, or a JWT client assertion, whose `aud` must be
   * `options.issuer`, else the `issuer` setting), under the token endpoint's failure limits and
   * counters (`rateLimitFailures` per client and address, `rateLimitIpFailures` per address). An
   * address over a limit is refused before any secret is hashed, the right secret included: the
   * promise rejects with an `OAuthError` `temporarily_unavailable`, status 429 with a
   * `Retry-After` header (503 when the counters' store cannot be reached). A failed
   * authentication rejects with `invalid_client` (401) and is counted. Answer these yourself
   * from `status`, `headers`, `error` and `description`, in RFC 6749's shape; the error's message
   * is its public description (Fastify's default error handler sends that), and the real reason
   * is its `detail`, for logs only.
   * @example
   * app.post('/api/clients/me', async (request, reply) => {
   *   try {
   *     const { application } = await app.oauth.authenticateClient(request)
   *     return { clientId: application.clientId }
   *   } catch (err) {
   *     if (!(err instanceof OAuthError)) throw err
   *     return reply.code(err.status).headers(err.headers).send({ error: err.error, error_description: err.description })
   *   }
   * })
   */
  authenticateClient (request: FastifyRequest, options?: EndpointOptions): Promise<AuthenticatedClient>
  /** The logged-in user of a browser request (through the `resolveUser` option), or `null`. */
  resolveUser (request: FastifyRequest): Promise<AuthorizingUser | null>
  /** Where anonymous users are sent to log in (`?next=` is appended). */
  readonly loginUrl: string
  /** Ends the host's session for RP-Initiated Logout (the `logoutUser` option), or `null`. */
  readonly logoutUser: LogoutUser | null
  /** The HTML templates in use (the built-in ones, or the host's replacements). */
  readonly templates: Templates
  /** The pages' languages (the `i18n` option): offered tags, default first, and their messages. */
  readonly languages: Languages
  /** The host's choice of a page's language (the `i18n.resolveLocale` option), or `null`. */
  readonly resolveLocale: ResolveLocale | null
  /** CSRF protection for the toolkit's forms, with its cookie scoped to `path`. */
  createCsrf (path: string): CsrfProtection
  /** The user name of a user id for introspection responses (through `loadUser`). */
  usernameOf (userId: string): Promise<string | undefined>
  /**
   * The host's own logout: ends the toolkit's session for the request's logged-in user (by the
   * `sessionId` `resolveUser` reports), so relying parties with a back-channel logout URI are
   * told (OpenID Connect Back-Channel Logout 1.0) and the session's refresh tokens without
   * `offline_access` are revoked. Call it before destroying the host's session (`resolveUser` must
   * still see it). Waits at most `backchannelLogoutWaitSeconds`; nothing to end is no error.
   * @example
   * app.post('/accounts/logout/', async (request, reply) => {
   *   await app.oauth.endSession(request)
   *   await request.session.destroy()
   *   return reply.redirect('/')
   * })
   */
  endSession (request: FastifyRequest, options?: EndSessionsOptions): Promise<EndSessionsResult>
}

/** Extends the server with Fastify's request-level helpers. */
export function createToolkit (server: OAuthServer, options: ToolkitOptions): OAuthToolkit {
  const { loadUser } = options
  // A one-argument LoadUser ignores the token it is also given.
  const guard = createResourceGuard({
    settings: server.settings,
    authenticateBearer: server.authenticateBearer,
    authenticateBearerNow: server.authenticateBearerNow,
    dpopAlgorithms: server.settings.dpopEnabled ? server.settings.dpopSigningAlgValues : null,
  }, { loadUser })

  async function resolveUser (request: FastifyRequest): Promise<AuthorizingUser | null> {
    if (options.resolveUser === null) {
      throw new ImproperlyConfiguredError('OAT_ERR_OPTIONS', 'fastify-oauth-toolkit: the authorization pages need a resolveUser(request) option')
    }
    const user = await options.resolveUser(request)
    return user === null || user === undefined ? null : { ...user, id: String(user.id) }
  }

  async function usernameOf (userId: string): Promise<string | undefined> {
    if (loadUser === null) return undefined
    const owner: unknown = await loadUser(userId)
    const username = typeof owner === 'object' && owner !== null ? (owner as { username?: unknown }).username : undefined
    return typeof username === 'string' ? username : undefined
  }

  async function endSession (request: FastifyRequest, opts: EndSessionsOptions = {}): Promise<EndSessionsResult> {
    const user = await resolveUser(request)
    if (user === null) return { sids: [], backchannelClients: 0, revokedFamilies: 0 }
    return await server.endUserSession(user, opts)
  }

  const toolkit: OAuthToolkit = {
    ...server,
    ...guard,
    // The limits are looked up on each call: the core plugin builds them once the toolkit exists.
    authenticateClient: async (request, opts = {}) =>
      await authenticateClientLimited(request, clientFailureLimitsOf(toolkit), async (req) => await server.authenticateClient(req, opts)),
    resolveUser,
    usernameOf,
    endSession,
    loginUrl: options.loginUrl,
    logoutUser: options.logoutUser ?? null,
    templates: options.templates,
    languages: options.languages,
    resolveLocale: options.resolveLocale,
    createCsrf: (path) => createCsrfProtection(options.secret, path),
  }
  return toolkit
}
