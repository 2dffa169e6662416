import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Registrant } from '../lib/endpoints/register.js'
import { AccessDeniedError, InvalidRequestError } from '../lib/errors.js'
import { registrationRateLimit } from './rate-limit.js'
import { issuerOf } from './issuer.js'
import { sendOAuthResponse } from './oauth-request.js'
import { methodNotAllowed } from './route-handlers.js'

/**
 * RFC 7591 bodies are JSON. Requiring the JSON media type also keeps the `user` policy safe from
 * cross-site requests: a browser cannot send `application/json` cross-origin without a CORS
 * preflight, and this endpoint answers none.
 */
function requireJson (request: FastifyRequest): void {
  const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase()
  if (type !== 'application/json') throw new InvalidRequestError({ description: 'The request body must be application/json.' })
}

function clientIdOf (request: FastifyRequest): string {
  return (request.params as { client_id?: string }).client_id ?? ''
}

/**
 * `POST {prefix}/register/` and `GET/PUT/DELETE {prefix}/register/:client_id/` (DOT's
 * `DynamicClientRegistrationView` and `…ManagementView`). Who may register follows
 * `dcrRegistrationPolicy`; the logic is in lib/endpoints/register.ts, behind `app.oauth`.
 */
export class DynamicClientRegistrationView {
  readonly #prefix: string

  /** @param prefix the routes prefix, for `registration_client_uri`. */
  constructor (prefix = '') {
    this.#prefix = prefix
  }

  async post (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    requireJson(request)
    const { oauth } = request.server
    const registrant = await this.#registrant(request)
    return sendOAuthResponse(reply, await oauth.registerClient(request.body, registrant, { issuer: issuerOf(request, this.#prefix) }))
  }

  async get (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const { oauth } = request.server
    return sendOAuthResponse(reply, await oauth.readClientRegistration(clientIdOf(request), request.headers.authorization, { issuer: issuerOf(request, this.#prefix) }))
  }

  async put (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    requireJson(request)
    const { oauth } = request.server
    return sendOAuthResponse(reply, await oauth.updateClientRegistration(clientIdOf(request), request.headers.authorization,
      request.body, { issuer: issuerOf(request, this.#prefix) }))
  }

  async delete (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const { oauth } = request.server
    return sendOAuthResponse(reply, await oauth.deleteClientRegistration(clientIdOf(request), request.headers.authorization))
  }

  async #registrant (request: FastifyRequest): Promise<Registrant> {
    const { oauth } = request.server
    switch (oauth.settings.dcrRegistrationPolicy) {
      case 'open': return { userId: null }
      case 'initial-access-token':
        oauth.checkInitialAccessToken(request.headers.authorization)
        return { userId: null }
      case 'user': {
        const user = await oauth.resolveUser(request)
        if (user === null) throw new AccessDeniedError({ description: 'Log in to register a client.' })
        // The application belongs to this user: it appears on their management pages.
        return { userId: user.id }
      }
    }
  }
}

/**
 * CORS for browser-based clients (the MCP Inspector registers from a web page): any origin, no
 * credentials. Only when registering needs no session; under the `user` policy a cross-origin
 * registration is exactly what must not happen, so no CORS at all.
 */
function corsAllowed (request: FastifyRequest): boolean {
  return request.server.oauth.settings.dcrRegistrationPolicy !== 'user'
}

async function registrationPreflight (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  if (!corsAllowed(request)) return await reply.code(204).send()
  return await reply.code(204).headers({
    'access-control-allow-origin': '*',
    'access-control-allow-methods': 'GET, POST, PUT, DELETE',
    'access-control-allow-headers': 'authorization, content-type',
    'access-control-max-age': '600',
  }).send()
}

/** Mounts the registration routes in their own context of the routes plugin (only when `dcrEnabled`). */
export function registerDynamicClientRegistration (app: FastifyInstance, bodyLimit: number): void {
  const view = new DynamicClientRegistrationView(app.prefix)
  // Registered, not awaited, as Fastify plugins register theirs; it loads with the routes plugin.
  app.register(async function dynamicClientRegistration (scoped) {
    const limit = await registrationRateLimit(scoped)
    const postOptions = limit === null ? { bodyLimit } : { bodyLimit, preHandler: limit }
    scoped.addHook('onSend', async (request, reply, payload) => {
      if (corsAllowed(request)) reply.header('access-control-allow-origin', '*')
      return payload
    })
    for (const url of ['/register', '/register/']) {
      scoped.post(url, postOptions, (request, reply) => view.post(request, reply))
      scoped.options(url, registrationPreflight)
      scoped.route({ method: ['GET', 'PUT', 'PATCH', 'DELETE'], url, handler: methodNotAllowed('POST') })
    }
    for (const url of ['/register/:client_id', '/register/:client_id/']) {
      scoped.get(url, (request, reply) => view.get(request, reply))
      scoped.put(url, { bodyLimit }, (request, reply) => view.put(request, reply))
      scoped.delete(url, (request, reply) => view.delete(request, reply))
      scoped.options(url, registrationPreflight)
      scoped.route({ method: ['POST', 'PATCH'], url, handler: methodNotAllowed('GET, PUT, DELETE') })
    }
  })
}
