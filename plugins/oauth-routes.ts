import formbody from '@fastify/formbody'
import type { FastifyPluginAsync } from 'fastify'
import { ImproperlyConfiguredError } from '../lib/errors.js'
import { AuthorizationView } from '../views/authorize.js'
import { DeviceAuthorizationView, registerDevicePages, type DeviceRateLimitOptions } from '../views/device.js'
import { registerAdminPages } from '../views/admin.js'
import { registerManagementPages } from '../views/management.js'
import { IntrospectTokenView, RevokeTokenView } from '../views/endpoints.js'
import { ConnectDiscoveryInfoView, JwksInfoView, UserInfoView } from '../views/oidc.js'
import { RPInitiatedLogoutView } from '../views/logout.js'
import { STYLESHEET } from '../views/templates/stylesheet.js'
import { TokenView } from '../views/token.js'
import { rejectUnknownOptions, type OptionNames } from '../lib/option-keys.js'
import { endpointRateLimits } from '../views/rate-limit.js'
import { oauthLogSerializers } from '../views/log-redaction.js'
import { PushedAuthorizationRequestView } from '../views/par.js'
import { registerDynamicClientRegistration } from '../views/register.js'
import { htmlErrorHandler, methodNotAllowed, oauthErrorHandler, preflight } from '../views/route-handlers.js'
import { registerLanguageNegotiation } from '../views/i18n.js'

/** Options of the routes plugin (register it with a `prefix`, e.g. `/o`). */
export interface OAuthRoutesOptions {
  /** Largest accepted body on the token-side endpoints, bytes (default 64 KiB). */
  bodyLimit?: number
  /**
   * Mount DOT's management pages: `applications/` (list, register, detail, update, delete) and
   * `authorized-tokens/` (list, revoke). Off by default (DOT mounts them in DEBUG); they need
   * the core plugin's `resolveUser`.
   */
  managementPages?: boolean
  /**
   * Mount the staff administration pages under `admin/` (what Django's admin gives DOT
   * operators): applications, access and refresh tokens, authorization codes, device
   * authorizations, ID tokens. Off by default; only users whose `resolveUser` result has
   * `isStaff: true` may use them (docs/admin.md).
   */
  adminPages?: boolean
  /**
   * Limits on user code entry at `device/` (RFC 8628 §5.1), with the `deviceFlowEnabled` setting:
   * per logged-in user (default 5) and per IP (default 20) in a window (default 10 minutes).
   */
  deviceRateLimit?: DeviceRateLimitOptions
}

/** Serves `path` and `path/`: the trailing slash is optional. */
function bothSlashes (path: string): string[] {
  const bare = path.replace(/\/+$/, '')
  return [bare, `${bare}/`]
}

const OPTION_NAMES: OptionNames<OAuthRoutesOptions> = { bodyLimit: true, managementPages: true, adminPages: true, deviceRateLimit: true }

const routes: FastifyPluginAsync<OAuthRoutesOptions> = async (app, options) => {
  rejectUnknownOptions('oauthRoutes', options, Object.keys(OPTION_NAMES))
  if (!app.hasDecorator('oauth')) {
    throw new ImproperlyConfiguredError('OAT_ERR_PLUGIN_ORDER', 'fastify-oauth-toolkit: register the core plugin (fastifyOAuthToolkit) before oauthRoutes')
  }
  // No credential reaches the log: every route of this context logs its URL redacted and no headers, whatever the host's logger does.
  app.addHook('onRoute', (route) => { route.logSerializers = { ...route.logSerializers, ...oauthLogSerializers } })
  if (!app.hasContentTypeParser('application/x-www-form-urlencoded')) await app.register(formbody)
  app.setErrorHandler(oauthErrorHandler)
  const bodyLimit = options.bodyLimit ?? 64 * 1024
  // Brute-force limits on failures and requests, checked before any secret is hashed (views/rate-limit.ts).
  const limits = await endpointRateLimits(app)
  const limited = limits === null ? { bodyLimit } : { bodyLimit, preHandler: limits.preHandler, onSend: limits.onSend }

  const token = new TokenView(app.prefix)
  for (const url of bothSlashes('/token')) {
    app.post(url, limited, (request, reply) => token.post(request, reply))
    app.options(url, preflight(['POST']))
    app.route({ method: ['GET', 'PUT', 'PATCH', 'DELETE'], url, handler: methodNotAllowed('POST') })
  }

  // RFC 8628 §3.1: only with the device flow on, so it is 404 otherwise (like OIDC's routes).
  if (app.oauth.settings.deviceFlowEnabled) {
    const device = new DeviceAuthorizationView(app.prefix)
    for (const url of bothSlashes('/device-authorization')) {
      // Confidential clients authenticate here as at the token endpoint (RFC 8628 §3.1), so their
      // failures count against the same limits: otherwise this route would be a secret-guessing
      // oracle (and a source of unbounded hashing work) beside the limited token endpoint.
      app.post(url, limited, (request, reply) => device.post(request, reply))
      // Found by the fuzzer: without it OPTIONS fell to Fastify's default 404/415 body instead of JSON.
      app.options(url, preflight(['POST']))
      app.route({ method: ['GET', 'PUT', 'PATCH', 'DELETE'], url, handler: methodNotAllowed('POST') })
    }
  }

  // RFC 7009; DOT spells it revoke_token/, and both spellings work.
  const revoke = new RevokeTokenView(app.prefix)
  for (const url of [...bothSlashes('/revoke-token'), ...bothSlashes('/revoke_token')]) {
    app.post(url, limited, (request, reply) => revoke.post(request, reply))
    app.options(url, preflight(['POST']))
    app.route({ method: ['GET', 'PUT', 'PATCH', 'DELETE'], url, handler: methodNotAllowed('POST') })
  }

  const introspect = new IntrospectTokenView(app.prefix)
  for (const url of bothSlashes('/introspect')) {
    app.get(url, limited, (request, reply) => introspect.get(request, reply))
    app.post(url, limited, (request, reply) => introspect.post(request, reply))
    app.options(url, preflight(['GET', 'POST']))
    app.route({ method: ['PUT', 'PATCH', 'DELETE'], url, handler: methodNotAllowed('GET, POST') })
  }

  // RFC 7591/7592 (DOT's dcr_urlpatterns): only when enabled, so 404 otherwise.
  if (app.oauth.settings.dcrEnabled) registerDynamicClientRegistration(app, bodyLimit)
  // RFC 9126 pushed authorization requests (DOT's `par/`).
  if (app.oauth.settings.parEnabled) {
    const par = new PushedAuthorizationRequestView(app.prefix)
    for (const url of bothSlashes('/par')) {
      app.post(url, limited, (request, reply) => par.post(request, reply))
      // Found by the fuzzer, as for device-authorization/: without it OPTIONS fell to Fastify's default body.
      app.options(url, preflight(['POST']))
      app.route({ method: ['GET', 'PUT', 'PATCH', 'DELETE'], url, handler: methodNotAllowed('POST') })
    }
  }

  // OpenID Connect (DOT's oidc_urlpatterns): only when enabled, so they are 404 otherwise (DOT parity).
  // The JWKS also serves resource servers that verify JWT access tokens offline (RFC 9068).
  if (app.oauth.settings.oidcEnabled || app.oauth.settings.accessTokenFormat === 'jwt') {
    const jwks = new JwksInfoView()
    app.get('/.well-known/jwks.json', (request, reply) => jwks.get(request, reply))
  }
  if (app.oauth.settings.oidcEnabled) {
    const discovery = new ConnectDiscoveryInfoView(app.prefix)
    for (const url of bothSlashes('/.well-known/openid-configuration')) app.get(url, (request, reply) => discovery.get(request, reply))
    const userinfo = new UserInfoView(app.prefix)
    for (const url of bothSlashes('/userinfo')) {
      app.get(url, (request, reply) => userinfo.get(request, reply))
      app.post(url, { bodyLimit }, (request, reply) => userinfo.post(request, reply))
      app.options(url, (request, reply) => userinfo.options(request, reply))
      app.route({ method: ['PUT', 'PATCH', 'DELETE'], url, handler: methodNotAllowed('GET, POST') })
    }
  }

  const stylesheet = `${app.prefix}/static/oauth.css`
  app.get('/static/oauth.css', async (_request, reply) =>
    reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=3600').send(STYLESHEET))

  // The browser-facing pages answer errors with HTML, in their own context.
  await app.register(async function authorizationPages (pages) {
    // Each page is in the language the host or the browser's Accept-Language chooses (views/i18n.ts).
    await registerLanguageNegotiation(pages)
    pages.setErrorHandler(htmlErrorHandler(stylesheet))
    const csrf = app.oauth.createCsrf(app.prefix === '' ? '/' : app.prefix)
    const authorize = new AuthorizationView(csrf, stylesheet, app.prefix)
    for (const url of bothSlashes('/authorize')) {
      pages.get(url, (request, reply) => authorize.get(request, reply))
      pages.post(url, { bodyLimit }, (request, reply) => authorize.post(request, reply))
    }
    if (app.oauth.settings.oidcEnabled && app.oauth.settings.oidcRpInitiatedLogoutEnabled) {
      const logout = new RPInitiatedLogoutView(csrf, stylesheet, app.prefix)
      for (const url of bothSlashes('/logout')) {
        pages.get(url, (request, reply) => logout.get(request, reply))
        pages.post(url, { bodyLimit }, (request, reply) => logout.post(request, reply))
      }
    }
    if (options.managementPages === true) registerManagementPages(pages, { csrf, page: { stylesheet }, prefix: app.prefix })
    if (options.adminPages === true) await registerAdminPages(pages, { csrf, page: { stylesheet }, prefix: app.prefix })
    if (app.oauth.settings.deviceFlowEnabled) {
      await registerDevicePages(pages, { csrf, page: { stylesheet }, prefix: app.prefix, bodyLimit, ...(options.deviceRateLimit === undefined ? {} : { rateLimit: options.deviceRateLimit }) })
    }
  })
}

/**
 * The authorization-server endpoints under the prefix it is registered with. Deliberately not
 * wrapped in fastify-plugin: its parser and error handler stay inside its own context.
 * @example
 * await app.register(oauthRoutes, { prefix: '/o' })
 */
export const oauthRoutes = routes
export default oauthRoutes
