import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'

/** The form field that carries the CSRF token. */
export const CSRF_FIELD = 'csrf_token'
const COOKIE = 'oat_csrf'

/**
 * CSRF protection for the toolkit's HTML forms (RFC 6749 §10.12), independent of the host
 * app's session machinery: a random, HttpOnly, SameSite=Lax browser cookie plus a form token that
 * is an HMAC of that cookie and of what the form is about (the user and the client). A token
 * from another browser, another user or another request fails.
 */
export interface CsrfProtection {
  /** The token for a form about `binding`; sets the browser cookie when missing. */
  issue (request: FastifyRequest, reply: FastifyReply, binding: string): string
  /** Whether `token` was issued to this browser for `binding` (constant-time). */
  verify (request: FastifyRequest, token: string | undefined, binding: string): boolean
}

/** Reads one cookie from the `Cookie` header (no cookie plugin needed). */
function readCookie (request: FastifyRequest, name: string): string | undefined {
  const header = request.headers.cookie
  if (header === undefined) return undefined
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim()
  }
  return undefined
}

/**
 * @param key the HMAC key (the plugin's `secret`; random per process when not configured).
 * @param path the cookie path (the routes prefix).
 */
export function createCsrfProtection (key: Buffer, path: string): CsrfProtection {
  const sign = (cookie: string, binding: string): Buffer =>
    createHmac('sha256', key).update(cookie).update('\0').update(binding).digest()

  return {
    issue (request, reply, binding) {
      let cookie = readCookie(request, COOKIE)
      if (cookie === undefined || !/^[A-Za-z0-9_-]{43}$/.test(cookie)) {
        cookie = randomBytes(32).toString('base64url')
        // Secure when the browser reaches this server over https: the request says so, or the
        // configured issuer does (a TLS-terminating proxy without Fastify's trustProxy makes every
        // request look like plain http, and the cookie would then travel in clear too).
        const secure = request.protocol === 'https' || request.server.oauth.settings.issuer?.startsWith('https:') === true ? '; Secure' : ''
        reply.header('set-cookie', `${COOKIE}=${cookie}; Path=${path}; HttpOnly; SameSite=Lax${secure}`)
      }
      return sign(cookie, binding).toString('base64url')
    },
    verify (request, token, binding) {
      const cookie = readCookie(request, COOKIE)
      if (cookie === undefined || token === undefined) return false
      const expected = sign(cookie, binding)
      const given = Buffer.from(token, 'base64url')
      return given.length === expected.length && timingSafeEqual(given, expected)
    },
  }
}
