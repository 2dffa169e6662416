import type { FastifyReply, FastifyRequest } from 'fastify'
import { protectedResourceMetadata, selectResource } from '../lib/endpoints/resource-metadata.js'
import type { ProtectedResourceSettings } from '../lib/resource/identifiers.js'
import { issuerOf, setMetadataCaching } from './issuer.js'

// The metadata documents served at the origin root, outside the routes prefix. Views hold no
// logic: the documents are built in lib/endpoints (metadata.ts, resource-metadata.ts).

/** `GET /.well-known/oauth-authorization-server[{issuer path}]` (RFC 8414 §3). */
export class AuthorizationServerMetadataView {
  readonly #prefix: string

  /** @param prefix the routes prefix, from which the issuer is derived when the `issuer` setting is unset. */
  constructor (prefix: string) {
    this.#prefix = prefix
  }

  async get (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const body = request.server.oauth.authorizationServerMetadata(issuerOf(request, this.#prefix))
    // Readable by browser-based clients of any origin (DOT sends CORS *); cacheable by anyone
    // only when the issuer is configured rather than read from the request.
    setMetadataCaching(request, reply)
    return await reply.header('access-control-allow-origin', '*').send(body)
  }
}

/** `GET /.well-known/oauth-protected-resource[/<path>]` (RFC 9728 §3) for the resources declared at one path. */
export class ProtectedResourceMetadataView {
  readonly #candidates: readonly ProtectedResourceSettings[]
  readonly #prefix: string

  /**
   * @param candidates the declared resources whose document this path serves (several: chosen by `Host`).
   * @param prefix the routes prefix, for the default `authorization_servers`.
   */
  constructor (candidates: readonly ProtectedResourceSettings[], prefix: string) {
    this.#candidates = candidates
    this.#prefix = prefix
  }

  async get (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const declared = selectResource(this.#candidates, typeof request.host === 'string' ? request.host : '')
    // Not found on this Host, found on another: no cache may answer other hosts with this 404.
    if (declared === null) return await reply.code(404).headers({ vary: 'Host', 'cache-control': 'no-store' }).send({ error: 'not_found' })
    const body = protectedResourceMetadata(request.server.oauth.settings, declared, issuerOf(request, this.#prefix))
    // Readable by browser-based clients of any origin (DOT sends CORS *). The document is
    // chosen by Host when several resources share this path, and names the request's issuer
    // when none is configured: caches are told so.
    setMetadataCaching(request, reply, this.#candidates.length > 1 ? ['Host'] : [])
    return await reply.header('access-control-allow-origin', '*').send(body)
  }
}
