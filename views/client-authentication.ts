import type { FastifyRequest } from 'fastify'
import { OAuthError } from '../lib/errors.js'
import type { OAuthRequest } from '../lib/request.js'
import type { AuthenticatedClient } from '../lib/validator/client-auth.js'
import { toOAuthRequest } from './oauth-request.js'
import type { ClientFailureLimits } from './rate-limit.js'

/** A Fastify request, told from a hand-built `OAuthRequest` (which has no address to count failures by). */
function isFastifyRequest (value: unknown): value is FastifyRequest {
  return typeof value === 'object' && value !== null && 'raw' in value && 'ip' in value && typeof (value as { ip: unknown }).ip === 'string'
}

/**
 * `app.oauth.authenticateClient`: checks the client credentials of a host's own route under the
 * token endpoint's failure limits (BRUTE-1). An address that failed too often, for this client or
 * in all, is refused before any secret is hashed, the right secret included, so the route is no
 * cheaper oracle than the token endpoint; a failed authentication (`invalid_client`) is counted
 * against the same counters. Keyed per (client, address) and per address only, so guessing from
 * one address never locks the client out for its other addresses (RFC 6819 §4.4.3.6).
 */
export async function authenticateClientLimited (request: FastifyRequest, limits: ClientFailureLimits | null,
  authenticate: (req: OAuthRequest) => Promise<AuthenticatedClient>): Promise<AuthenticatedClient> {
  // The limits are keyed by the caller's address, which only the Fastify request has. A
  // hand-built OAuthRequest (the signature before the limits existed) would go unlimited: refuse it.
  if (!isFastifyRequest(request)) {
    throw new TypeError('fastify-oauth-toolkit: app.oauth.authenticateClient(request) takes the Fastify request, whose address keys the failure limits')
  }
  const refused = await limits?.admit(request) ?? null
  if (refused !== null) throw refused
  try {
    return await authenticate(toOAuthRequest(request))
  } catch (err) {
    // What the token endpoint counts: a failed client authentication (its 401 invalid_client).
    if (err instanceof OAuthError && err.error === 'invalid_client') await limits?.record(request)
    throw err
  }
}
