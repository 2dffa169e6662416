import formbody from '@fastify/formbody'
import type { FastifyError, FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { ImproperlyConfiguredError, InvalidRequestError, OAuthError } from '../lib/errors.js'
import { errorToResponse } from '../lib/response.js'
import { sendOAuthResponse } from '../views/oauth-request.js'
import { TokenView } from '../views/token.js'

/** Options of the routes plugin (register it with a `prefix`, e.g. `/o`). */
export interface OAuthRoutesOptions {
  /** Largest accepted body on the token-side endpoints, bytes (default 64 KiB). */
  bodyLimit?: number
}

/** Serves `path` and `path/`: the trailing slash is optional. */
function bothSlashes (path: string): string[] {
  const bare = path.replace(/\/+$/, '')
  return [bare, `${bare}/`]
}

function methodNotAllowed (allow: string) {
  return async (_request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => sendOAuthResponse(reply.header('allow', allow),
    { ...errorToResponse(new InvalidRequestError({ description: `Method not allowed; use ${allow}.` })), status: 405 })
}

/**
 * The token-side error handler: OAuth errors keep their RFC shape; Fastify's client errors
 * (body parse failure, unsupported media type, body too large) become JSON `invalid_request`;
 * anything else is logged and answered with a generic `server_error`. Bad input never yields 500.
 */
function oauthErrorHandler (this: FastifyInstance, error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (error instanceof OAuthError) return sendOAuthResponse(reply, errorToResponse(error))
  const status = error.statusCode ?? 500
  if (status >= 400 && status < 500) {
    request.log.info({ code: error.code }, 'rejected malformed request')
    return sendOAuthResponse(reply, errorToResponse(new InvalidRequestError({ description: 'The request could not be parsed.' })))
  }
  request.log.error({ err: error }, 'unexpected error on an OAuth endpoint')
  return sendOAuthResponse(reply, errorToResponse(error))
}

const routes: FastifyPluginAsync<OAuthRoutesOptions> = async (app, options) => {
  if (!app.hasDecorator('oauth')) {
    throw new ImproperlyConfiguredError('OAT_ERR_PLUGIN_ORDER', 'fastify-oauth-toolkit: register the core plugin (fastifyOAuthToolkit) before oauthRoutes')
  }
  if (!app.hasContentTypeParser('application/x-www-form-urlencoded')) await app.register(formbody)
  app.setErrorHandler(oauthErrorHandler)
  const bodyLimit = options.bodyLimit ?? 64 * 1024

  const token = new TokenView()
  for (const url of bothSlashes('/token')) {
    app.post(url, { bodyLimit }, (request, reply) => token.post(request, reply))
    app.route({ method: ['GET', 'PUT', 'PATCH', 'DELETE'], url, handler: methodNotAllowed('POST') })
  }
}

/**
 * The authorization-server endpoints under the prefix it is registered with. Deliberately not
 * wrapped in fastify-plugin: its parser and error handler stay inside its own context.
 * @example
 * await app.register(oauthRoutes, { prefix: '/o' })
 */
export const oauthRoutes = routes
export default oauthRoutes
