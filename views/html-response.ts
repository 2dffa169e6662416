import type { FastifyReply } from 'fastify'
import type { SafeHtml } from '../lib/html.js'

/**
 * Headers of every HTML page the toolkit serves: no framing (clickjacking), no referrer leaking
 * codes, nothing loaded from another origin, never cached.
 */
export const HTML_SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-type': 'text/html; charset=utf-8',
  'x-frame-options': 'DENY',
  'content-security-policy': "default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'",
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
})

/** Sends a page with the security headers. */
export function sendHtml (reply: FastifyReply, status: number, page: SafeHtml | string): FastifyReply {
  return reply.code(status).headers(HTML_SECURITY_HEADERS).send(String(page))
}
