import type { FastifyPluginAsync } from 'fastify'
import { authorizationServerMetadata } from '../lib/endpoints/metadata.js'
import { ImproperlyConfiguredError } from '../lib/errors.js'
import { issuerOf } from '../views/issuer.js'

/** Options of the metadata plugin. */
export interface OAuthMetadataOptions {
  /** The prefix `oauthRoutes` was registered with (default `/o`). */
  routesPrefix?: string
}

const metadata: FastifyPluginAsync<OAuthMetadataOptions> = async (app, options) => {
  if (!app.hasDecorator('oauth')) {
    throw new ImproperlyConfiguredError('OAT_ERR_PLUGIN_ORDER', 'fastify-oauth-toolkit: register the core plugin (fastifyOAuthToolkit) before oauthMetadata')
  }
  const prefix = (options.routesPrefix ?? '/o').replace(/\/+$/, '')
  const configured = app.oauth.settings.issuer
  // RFC 8414 §3: the well-known segment goes between the host and the issuer's path.
  const issuerPath = configured === null ? prefix : new URL(configured).pathname.replace(/\/+$/, '')
  const urls = [...new Set(['/.well-known/oauth-authorization-server', `/.well-known/oauth-authorization-server${issuerPath}`])]
  for (const url of urls) {
    app.get(url, async (request, reply) => {
      const body = authorizationServerMetadata(request.server.oauth.settings, issuerOf(request, prefix))
      // Public, cacheable, readable by browser-based clients of any origin (DOT sends CORS *).
      return await reply.headers({ 'access-control-allow-origin': '*', 'cache-control': 'public, max-age=3600' }).send(body)
    })
  }
}

/**
 * RFC 8414 authorization server metadata at the origin root (outside the routes prefix).
 * @example
 * await app.register(oauthMetadata, { routesPrefix: '/o' })
 */
export const oauthMetadata = metadata
export default oauthMetadata
