import type { FastifyReply, FastifyRequest } from 'fastify'
import { issuerOf } from './issuer.js'
import { sendOAuthResponse, toOAuthRequest } from './oauth-request.js'

/** `POST {prefix}/token/`: converts, calls the core token endpoint, writes. No logic here. */
export class TokenView {
  /** The routes prefix, for the issuer of ID tokens (`iss`). */
  readonly #prefix: string

  /** @param prefix the routes prefix, for the issuer (`iss` of ID tokens). */
  constructor (prefix = '') {
    this.#prefix = prefix
  }

  async post (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const response = await request.server.oauth.token(toOAuthRequest(request), { issuer: issuerOf(request, this.#prefix) })
    return sendOAuthResponse(reply, response)
  }
}
