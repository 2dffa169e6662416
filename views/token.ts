import type { FastifyReply, FastifyRequest } from 'fastify'
import { sendOAuthResponse, toOAuthRequest } from './oauth-request.js'

/** `POST {prefix}/token/`: converts, calls the core token endpoint, writes. No logic here. */
export class TokenView {
  async post (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const response = await request.server.oauth.token(toOAuthRequest(request))
    return sendOAuthResponse(reply, response)
  }
}
