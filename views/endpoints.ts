import type { FastifyReply, FastifyRequest } from 'fastify'
import { issuerOf } from './issuer.js'
import { sendOAuthResponse, toOAuthRequest } from './oauth-request.js'

// Endpoint views hold no logic: convert, call the server (`app.oauth`), write. An OAuthError thrown by the
// core reaches the routes plugin's error handler, which answers in RFC 6749 §5.2 form.

/** `POST {prefix}/revoke-token/` (RFC 7009). */
export class RevokeTokenView {
  /** The routes prefix, for the issuer a client assertion's `aud` names. */
  readonly #prefix: string

  /** @param prefix the routes prefix, for the issuer (the `aud` of client assertions). */
  constructor (prefix = '') {
    this.#prefix = prefix
  }

  async post (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    return sendOAuthResponse(reply, await request.server.oauth.revoke(toOAuthRequest(request), { issuer: issuerOf(request, this.#prefix) }))
  }
}

/** `GET/POST {prefix}/introspect/` (RFC 7662). */
export class IntrospectTokenView {
  /** The routes prefix, for the issuer a client assertion's `aud` names. */
  readonly #prefix: string

  /** @param prefix the routes prefix, for the issuer (the `aud` of client assertions). */
  constructor (prefix = '') {
    this.#prefix = prefix
  }

  async get (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const { oauth } = request.server
    return sendOAuthResponse(reply, await oauth.introspect(toOAuthRequest(request), { usernameOf: oauth.usernameOf, issuer: issuerOf(request, this.#prefix) }))
  }

  async post (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    return await this.get(request, reply)
  }
}
