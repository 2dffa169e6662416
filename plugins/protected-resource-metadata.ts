import type { FastifyPluginAsync } from 'fastify'
import { resourcesByMetadataPath } from '../lib/endpoints/resource-metadata.js'
import { ImproperlyConfiguredError } from '../lib/errors.js'
import { ProtectedResourceMetadataView } from '../views/metadata.js'
import { rejectUnknownOptions } from '../lib/option-keys.js'

/** Options of the protected resource metadata plugin. */
export interface ProtectedResourceMetadataOptions {
  /** The prefix `oauthRoutes` was registered with (default `/o`), for the default `authorization_servers`. */
  routesPrefix?: string
}

const plugin: FastifyPluginAsync<ProtectedResourceMetadataOptions> = async (app, options) => {
  rejectUnknownOptions('oauthProtectedResourceMetadata', options, ['routesPrefix'])
  if (!app.hasDecorator('oauth')) {
    throw new ImproperlyConfiguredError('OAT_ERR_PLUGIN_ORDER', 'fastify-oauth-toolkit: register the core plugin (fastifyOAuthToolkit) before oauthProtectedResourceMetadata')
  }
  const prefix = (options.routesPrefix ?? '/o').replace(/\/+$/, '')
  for (const [path, candidates] of resourcesByMetadataPath(app.oauth.settings)) {
    const view = new ProtectedResourceMetadataView(candidates, prefix)
    app.get(path, (request, reply) => view.get(request, reply))
  }
}

/**
 * RFC 9728 protected resource metadata: `/.well-known/oauth-protected-resource[/<path>]` for
 * every resource of the `protectedResources` setting (the path suffix is the identifier's path,
 * §3.1). Register it at the root of the app that serves the resources.
 * @example
 * await app.register(oauthProtectedResourceMetadata, { routesPrefix: '/o' })
 */
export const oauthProtectedResourceMetadata = plugin
export default oauthProtectedResourceMetadata
