import type { FastifyPluginAsync } from 'fastify'
import { ImproperlyConfiguredError } from '../lib/errors.js'
import { AuthorizationServerMetadataView } from '../views/metadata.js'
import { ConnectDiscoveryInfoView } from '../views/oidc.js'
import { rejectUnknownOptions } from '../lib/option-keys.js'

/** Options of the metadata plugin. */
export interface OAuthMetadataOptions {
  /** The prefix `oauthRoutes` was registered with (default `/o`). */
  routesPrefix?: string
}

const metadata: FastifyPluginAsync<OAuthMetadataOptions> = async (app, options) => {
  rejectUnknownOptions('oauthMetadata', options, ['routesPrefix'])
  if (!app.hasDecorator('oauth')) {
    throw new ImproperlyConfiguredError('OAT_ERR_PLUGIN_ORDER', 'fastify-oauth-toolkit: register the core plugin (fastifyOAuthToolkit) before oauthMetadata')
  }
  const prefix = (options.routesPrefix ?? '/o').replace(/\/+$/, '')
  const configured = app.oauth.settings.issuer
  // RFC 8414 §3: the well-known segment goes between the host and the issuer's path.
  const issuerPath = configured === null ? prefix : new URL(configured).pathname.replace(/\/+$/, '')
  const urls = [...new Set(['/.well-known/oauth-authorization-server', `/.well-known/oauth-authorization-server${issuerPath}`])]
  const view = new AuthorizationServerMetadataView(prefix)
  for (const url of urls) app.get(url, (request, reply) => view.get(request, reply))
  // OpenID Connect Discovery §4: `{issuer}/.well-known/openid-configuration`. When the issuer's
  // path is the routes prefix, `oauthRoutes` serves that URL (DOT's place); otherwise it goes here.
  if (app.oauth.settings.oidcEnabled && issuerPath !== prefix) {
    const discovery = new ConnectDiscoveryInfoView(prefix)
    app.get(`${issuerPath}/.well-known/openid-configuration`, (request, reply) => discovery.get(request, reply))
  }
}

/**
 * RFC 8414 authorization server metadata at the origin root (outside the routes prefix), and
 * OpenID Connect discovery at `{issuer}/.well-known/openid-configuration` when the issuer's
 * path is not the routes prefix (under the prefix, `oauthRoutes` serves it).
 * @example
 * await app.register(oauthMetadata, { routesPrefix: '/o' })
 */
export const oauthMetadata = metadata
export default oauthMetadata
