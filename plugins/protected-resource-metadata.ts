import type { FastifyPluginAsync } from 'fastify'
import { protectedResourceMetadata, resourcesByMetadataPath, selectResource } from '../lib/endpoints/resource-metadata.js'
import { ImproperlyConfiguredError } from '../lib/errors.js'
import { issuerOf, setMetadataCaching } from '../views/issuer.js'
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
    app.get(path, async (request, reply) => {
      const declared = selectResource(candidates, typeof request.host === 'string' ? request.host : '')
      // Not found on this Host, found on another: no cache may answer other hosts with this 404.
      if (declared === null) return await reply.code(404).headers({ vary: 'Host', 'cache-control': 'no-store' }).send({ error: 'not_found' })
      const body = protectedResourceMetadata(request.server.oauth.settings, declared, issuerOf(request, prefix))
      // Readable by browser-based clients of any origin (DOT sends CORS *). The document is
      // chosen by Host when several resources share this path, and names the request's issuer
      // when none is configured: caches are told so.
      setMetadataCaching(request, reply, candidates.length > 1 ? ['Host'] : [])
      return await reply.header('access-control-allow-origin', '*').send(body)
    })
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
