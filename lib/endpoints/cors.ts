import type { ServerContext } from '../context.js'
import { OAuthError } from '../errors.js'
import type { OAuthRequest } from '../request.js'
import { toErrorResponse, type OAuthResponse } from '../response.js'
import type { Application } from '../store/types.js'

/** Request headers a browser may send to the token-side endpoints (RFC 6749 §2.3.1 Basic, form bodies, RFC 9449 proofs). */
const ALLOWED_REQUEST_HEADERS = 'Authorization, Content-Type, DPoP'

/** How long a browser may cache a successful preflight, seconds (Chromium caps it at 7200). */
const PREFLIGHT_MAX_AGE_SECONDS = 3600

/** An `Origin` value longer than this is not looked up: no registrable origin is that long. */
const MAX_ORIGIN_LENGTH = 2000

/**
 * CORS headers of an actual (non-preflight) request to the token, revocation or introspection
 * endpoint. DOT 2.4 parity (oauthlib `is_origin_allowed`): the `Origin` is echoed only when
 * it is, character for character, one of the authenticated client's `allowedOrigins`; no
 * credentials header, so cookies never ride along. Anything else gets no CORS headers,
 * and the browser withholds the response from the page.
 */
export function corsHeaders (req: OAuthRequest, application: Application | null): Record<string, string> {
  const origin = req.headers.origin
  if (origin === undefined || application === null || !application.allowedOrigins.includes(origin)) return {}
  // RFC 9449 §8: a browser client must read the next nonce.
  return { 'access-control-allow-origin': origin, 'access-control-expose-headers': 'DPoP-Nonce', vary: 'Origin' }
}

/** `response` with `headers` added. */
export function withHeaders (response: OAuthResponse, headers: Readonly<Record<string, string>>): OAuthResponse {
  return Object.keys(headers).length === 0 ? response : { ...response, headers: { ...response.headers, ...headers } }
}

/**
 * Runs the part of an endpoint that follows client authentication and adds `cors` to its
 * answer, errors included: once the client is known, a page on its own origin may read an
 * `invalid_grant` as well as a token (a refreshing SPA must tell "log in again" from a network
 * failure). Errors before authentication never carry CORS headers.
 */
export async function withCors (cors: Readonly<Record<string, string>>, run: () => Promise<OAuthResponse>): Promise<OAuthResponse> {
  try {
    return withHeaders(await run(), cors)
  } catch (err) {
    if (err instanceof OAuthError && Object.keys(cors).length > 0) return withHeaders(toErrorResponse(err), cors)
    throw err
  }
}

/**
 * Answers a CORS preflight (`OPTIONS`) for an endpoint serving `methods`. A preflight carries
 * no credentials, so the client is unknown: the origin is accepted when any application lists
 * it. That reveals no more than the actual response would, which is still echoed per client.
 *
 * Either way the answer is 204 with `Allow`, as Django answers an `OPTIONS` on DOT's views
 * (200 + `Allow`); an origin nobody registered just gets no `Access-Control-*` headers, which
 * makes the browser fail the preflight. A 403 would tell the browser nothing more, and would
 * break plain (non-CORS) `OPTIONS` callers.
 */
export async function corsPreflight (ctx: ServerContext, req: OAuthRequest, methods: readonly string[]): Promise<OAuthResponse> {
  const headers: Record<string, string> = { allow: [...methods, 'OPTIONS'].join(', '), vary: 'Origin' }
  const origin = req.headers.origin
  if (origin !== undefined && origin.length <= MAX_ORIGIN_LENGTH && await ctx.store.isOriginAllowed(origin)) {
    headers['access-control-allow-origin'] = origin
    headers['access-control-allow-methods'] = methods.join(', ')
    headers['access-control-allow-headers'] = ALLOWED_REQUEST_HEADERS
    headers['access-control-max-age'] = String(PREFLIGHT_MAX_AGE_SECONDS)
  }
  return { status: 204, headers, body: null }
}
