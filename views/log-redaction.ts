import type { FastifyRequest } from 'fastify'
import { redactUrl } from '../lib/redact.js'

/** The request fields the toolkit's serializer logs: Fastify's default set, with the URL redacted. */
export interface RedactedRequestLog {
  [key: string]: unknown
  method: string
  url: string
  host?: string
  remoteAddress?: string
  remotePort?: number
}

/**
 * Pino serializers that keep credentials out of request logs: Fastify's default `req`
 * fields, no headers (so no `Authorization` or cookies), and the URL with the values of
 * sensitive query parameters (`access_token`, `code`, `token`, `client_secret`, …) redacted.
 * The toolkit's routes use them whatever the host's logger says; a host passes them to its
 * own logger so its other routes (and 404s) are covered too.
 * @example
 * const app = Fastify({ logger: { serializers: oauthLogSerializers } })
 */
export const oauthLogSerializers = Object.freeze({
  req (request: FastifyRequest): RedactedRequestLog {
    return {
      method: request.method,
      url: redactUrl(request.url ?? ''),
      host: request.host,
      remoteAddress: request.ip,
      remotePort: request.socket?.remotePort,
    }
  },
})
