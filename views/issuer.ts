import type { FastifyRequest } from 'fastify'

/**
 * This server's issuer identifier (RFC 8414 §2) for a request: the `issuer` setting, else the
 * request's origin plus the routes prefix (behind a proxy, give Fastify `trustProxy`).
 */
export function issuerOf (request: FastifyRequest, routesPrefix: string): string {
  return request.server.oauth.settings.issuer ?? `${request.protocol}://${request.host}${routesPrefix}`
}
