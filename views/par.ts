import type { FastifyReply, FastifyRequest } from 'fastify'
import { issuerOf } from './issuer.js'
import { sendOAuthResponse, toOAuthRequest } from './oauth-request.js'

/** `POST {prefix}/par/` (RFC 9126; DOT's `PushedAuthorizationRequestView`): converts, calls the core, writes. */
export class PushedAuthorizationRequestView {
  readonly #prefix: string

  /** @param prefix the routes prefix, for the issuer (RFC 9207 `iss`). */
  constructor (prefix = '') {
    this.#prefix = prefix
  }

  async post (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const response = await request.server.oauth.pushAuthorizationRequest(toOAuthRequest(request), { issuer: issuerOf(request, this.#prefix) })
    return sendOAuthResponse(reply, response)
  }
}
