import type { ServerContext } from '../context.js'
import type { OAuthResponse } from '../response.js'

/** How long clients may cache the key set, seconds (DOT `OIDC_JWKS_MAX_AGE_SECONDS`). Keep retired keys published longer, so tokens they signed still verify after a rotation. */
export const JWKS_MAX_AGE_SECONDS = 3600

/**
 * `GET {prefix}/.well-known/jwks.json`: the active and inactive public keys (RFC 7517 §5),
 * public members only, cacheable, readable from any origin (DOT parity).
 */
export function jwksEndpoint (ctx: ServerContext): OAuthResponse {
  return {
    status: 200,
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'cache-control': `public, max-age=${JWKS_MAX_AGE_SECONDS}`,
      'access-control-allow-origin': '*',
    },
    body: { keys: ctx.oidc?.keys.publicKeys ?? [] },
  }
}
