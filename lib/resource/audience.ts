import { InvalidTokenError, type OAuthError } from '../errors.js'
import type { Settings } from '../settings.js'
import type { AccessTokenInfo } from './bearer.js'
import { sameResource } from './identifiers.js'

/**
 * RFC 8707 §2 and the MCP authorization spec: a resource server accepts only tokens issued for
 * it. On a route that declares `resource`, the token must be bound to it (an unbound token only
 * with `acceptTokensWithoutResource`); on a route that declares none, a token bound to
 * resources is someone else's and is refused. `null` when the token may be used here.
 */
export function checkAudience (settings: Settings, token: AccessTokenInfo, resource: string | null): OAuthError | null {
  if (token.resource.length === 0) {
    if (resource === null || settings.acceptTokensWithoutResource) return null
    return wrongAudience('token bound to no resource on a route that declares one')
  }
  if (resource !== null && token.resource.some((r) => sameResource(r, resource))) return null
  return wrongAudience(resource === null ? 'resource-bound token on a route that declares no resource' : 'token bound to other resources')
}

function wrongAudience (detail: string): OAuthError {
  return new InvalidTokenError({ description: 'The access token is not valid for this resource.', detail })
}
