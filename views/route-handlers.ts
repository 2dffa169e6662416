import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { InvalidRequestError, OAuthError } from '../lib/errors.js'
import { toErrorResponse } from '../lib/response.js'
import { sendHtml } from './html-response.js'
import { errorPageContext } from './i18n.js'
import { messagesOf } from './templates/layout.js'
import { sendOAuthResponse, toOAuthRequest } from './oauth-request.js'

// The handlers the routes plugin installs around the endpoint views: what a route answers to a
// method it does not serve, to a CORS preflight, and to an error (JSON on the token side, a page
// on the browser side). Bad input never yields 500.

/** A route handler of the endpoints. */
export type RouteHandler = (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply>

/** Answers a method an endpoint does not serve: 405 with `Allow`, in the endpoint's JSON error form. */
export function methodNotAllowed (allow: string): RouteHandler {
  return async (_request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => sendOAuthResponse(reply.header('allow', allow),
    { ...toErrorResponse(new InvalidRequestError({ description: `Method not allowed; use ${allow}.` })), status: 405 })
}

/** Answers CORS preflights of an endpoint serving `methods` (the logic is in lib/endpoints/cors.ts). */
export function preflight (methods: readonly string[]): RouteHandler {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> =>
    sendOAuthResponse(reply, await request.server.oauth.corsPreflight(toOAuthRequest(request), methods))
}

/**
 * The token-side error handler: OAuth errors keep their RFC shape; Fastify's client errors
 * (body parse failure, unsupported media type, body too large) become JSON `invalid_request`;
 * anything else is logged and answered with a generic `server_error`. Bad input never yields 500.
 */
export function oauthErrorHandler (this: FastifyInstance, error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (error instanceof OAuthError) return sendOAuthResponse(reply, toErrorResponse(error))
  const status = error.statusCode ?? 500
  if (status >= 400 && status < 500) {
    request.log.info({ code: error.code }, 'rejected malformed request')
    return sendOAuthResponse(reply, toErrorResponse(new InvalidRequestError({ description: 'The request could not be parsed.' })))
  }
  request.log.error({ err: error }, 'unexpected error on an OAuth endpoint')
  return sendOAuthResponse(reply, toErrorResponse(error))
}

/** Errors on HTML pages: a page, never JSON and never a stack; a 500 is logged. */
export function htmlErrorHandler (stylesheet: string): (this: FastifyInstance, error: FastifyError, request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply> {
  return async function (this: FastifyInstance, error: FastifyError, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const status = error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500 ? 400 : 500
    if (status === 500) request.log.error({ err: error }, 'unexpected error on an OAuth page')
    const context = await errorPageContext(request, reply, stylesheet)
    const page = reply.server.oauth.templates.error({
      status,
      error: status === 500 ? 'server_error' : 'invalid_request',
      description: messagesOf(context).text(status === 500 ? 'common.serverError' : 'common.unparsable'),
    }, context)
    return sendHtml(reply, status, page)
  }
}
