import type { FastifyReply, FastifyRequest } from 'fastify'

/**
 * This server's issuer identifier (RFC 8414 §2) for a request: the `issuer` setting, else the
 * request's origin plus the routes prefix (behind a proxy, give Fastify `trustProxy`).
 */
export function issuerOf (request: FastifyRequest, routesPrefix: string): string {
  return request.server.oauth.settings.issuer ?? `${request.protocol}://${request.host}${routesPrefix}`
}

/**
 * The request headers a derived issuer is read from: `Host`, and the forwarded host and scheme
 * that Fastify's `trustProxy` lets replace it. Listing the last two when no proxy is trusted
 * only costs a cache some hits.
 */
const ISSUER_SOURCES = ['Host', 'X-Forwarded-Host', 'X-Forwarded-Proto']

/**
 * Cache headers of a metadata document (RFC 8414, OpenID Connect Discovery, RFC 9728) whose body
 * names the issuer. With the `issuer` setting the document is the same for every request and
 * any cache may keep it for an hour. Without it the issuer follows the request's `Host`, so one
 * request with a forged `Host` could plant another server's endpoints in a shared cache for
 * every client (OpenID Connect Discovery §4.3 makes the issuer a value clients must be able to
 * trust): the document then says which headers it depends on and is not stored at all.
 * @param alsoVaries further request headers the body depends on, whatever the issuer setting.
 */
export function setMetadataCaching (request: FastifyRequest, reply: FastifyReply, alsoVaries: readonly string[] = []): void {
  const derived = request.server.oauth.settings.issuer === null
  const varies = [...alsoVaries, ...(derived ? ISSUER_SOURCES : [])]
  if (varies.length > 0) {
    const current = reply.getHeader('vary')
    const existing = typeof current === 'string' ? current.split(',').map((v) => v.trim()).filter((v) => v !== '') : []
    const seen = new Set(existing.map((v) => v.toLowerCase()))
    for (const name of varies) {
      if (seen.has(name.toLowerCase())) continue
      seen.add(name.toLowerCase())
      existing.push(name)
    }
    reply.header('vary', existing.join(', '))
  }
  reply.header('cache-control', derived ? 'no-store' : 'public, max-age=3600')
}
