import type { FastifyReply, FastifyRequest } from 'fastify'
import { userInfoPreflight } from '../lib/endpoints/userinfo.js'
import { issuerOf, setMetadataCaching } from './issuer.js'
import { sendOAuthResponse, toOAuthRequest } from './oauth-request.js'

// The OpenID Connect views, named as in DOT. They hold no logic: convert, call the server (`app.oauth`), write.

/** `GET {issuer}/.well-known/openid-configuration` (OpenID Connect Discovery 1.0 §4). */
export class ConnectDiscoveryInfoView {
  readonly #prefix: string

  /** @param prefix the routes prefix, from which the issuer is derived when the `issuer` setting is unset. */
  constructor (prefix: string) {
    this.#prefix = prefix
  }

  async get (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const { oauth } = request.server
    const body = oauth.openIdProviderMetadata(issuerOf(request, this.#prefix))
    // Readable by browser-based relying parties of any origin (DOT sends CORS *); cacheable by
    // anyone only when the issuer is configured rather than read from the request.
    setMetadataCaching(request, reply)
    return await reply.header('access-control-allow-origin', '*').send(body)
  }
}

/** `GET {prefix}/.well-known/jwks.json` (DOT's `JwksInfoView`). */
export class JwksInfoView {
  async get (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    return sendOAuthResponse(reply, request.server.oauth.jwks())
  }
}

/** `GET/POST {prefix}/userinfo/` (DOT's `UserInfoView`), with its CORS preflight. */
export class UserInfoView {
  readonly #prefix: string

  /** @param prefix the routes prefix, from which the issuer of signed responses is derived when the `issuer` setting is unset. */
  constructor (prefix = '') {
    this.#prefix = prefix
  }

  async get (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    return sendOAuthResponse(reply, await request.server.oauth.userInfo(toOAuthRequest(request), { issuer: issuerOf(request, this.#prefix) }))
  }

  async post (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    return await this.get(request, reply)
  }

  async options (_request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    return sendOAuthResponse(reply, userInfoPreflight())
  }
}
