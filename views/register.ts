import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import {
  checkInitialAccessToken,
  deleteRegistrationEndpoint,
  readRegistrationEndpoint,
  registerClientEndpoint,
  updateRegistrationEndpoint,
  type Registrant,
} from '../lib/endpoints/register.js'
import { AccessDeniedError, InvalidRequestError } from '../lib/errors.js'
import { issuerOf } from './issuer.js'
import { sendOAuthResponse } from './oauth-request.js'

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
 * `dcrRegistrationPolicy`; the logic is in lib/endpoints/register.ts.
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
    return sendOAuthResponse(reply, await registerClientEndpoint(oauth.context, request.body, registrant, issuerOf(request, this.#prefix)))
  }

  async get (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const { oauth } = request.server
    return sendOAuthResponse(reply, await readRegistrationEndpoint(oauth.context, clientIdOf(request), request.headers.authorization, issuerOf(request, this.#prefix)))
  }

  async put (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    requireJson(request)
    const { oauth } = request.server
    return sendOAuthResponse(reply, await updateRegistrationEndpoint(oauth.context, clientIdOf(request), request.headers.authorization,
      request.body, issuerOf(request, this.#prefix)))
  }

  async delete (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const { oauth } = request.server
    return sendOAuthResponse(reply, await deleteRegistrationEndpoint(oauth.context, clientIdOf(request), request.headers.authorization))
  }

  async #registrant (request: FastifyRequest): Promise<Registrant> {
    const { oauth } = request.server
    switch (oauth.settings.dcrRegistrationPolicy) {
      case 'open': return { userId: null }
      case 'initial-access-token':
        checkInitialAccessToken(oauth.context, request.headers.authorization)
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

/** Mounts the registration routes on the routes plugin's context (only when `dcrEnabled`). */
export function registerDynamicClientRegistration (app: FastifyInstance, bodyLimit: number,
  methodNotAllowed: (allow: string) => (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply>): void {
  const view = new DynamicClientRegistrationView(app.prefix)
  for (const url of ['/register', '/register/']) {
    app.post(url, { bodyLimit }, (request, reply) => view.post(request, reply))
    app.route({ method: ['GET', 'PUT', 'PATCH', 'DELETE'], url, handler: methodNotAllowed('POST') })
  }
  for (const url of ['/register/:client_id', '/register/:client_id/']) {
    app.get(url, (request, reply) => view.get(request, reply))
    app.put(url, { bodyLimit }, (request, reply) => view.put(request, reply))
    app.delete(url, (request, reply) => view.delete(request, reply))
    app.route({ method: ['POST', 'PATCH'], url, handler: methodNotAllowed('GET, PUT, DELETE') })
  }
}
