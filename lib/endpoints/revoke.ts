import type { ServerContext } from '../context.js'
import { InvalidRequestError } from '../errors.js'
import { param, type OAuthRequest, type Params } from '../request.js'
import { NO_STORE_HEADERS, type OAuthResponse } from '../response.js'
import { tokenChecksum } from '../tokens/checksum.js'
import { authenticateClient, type AuthenticatedClient } from '../validator/client-auth.js'
import { notifyAccessTokenRevoked, notifyRefreshFamilyRevoked } from '../events.js'
import { corsHeaders, withCors } from './cors.js'
import { requireFormBody } from './form.js'

/**
 * `POST {prefix}/revoke-token/` (RFC 7009). The client authenticates as at the token endpoint
 * and may revoke only its own tokens; unknown tokens (and other clients' tokens) still get 200,
 * so the answer reveals nothing (§2.2), and so does an unknown `token_type_hint`. Revoking either token of a pair revokes both (§2.1).
 * @param issuer this server's issuer identifier (the `aud` of a client assertion).
 */
export async function revocationEndpoint (ctx: ServerContext, req: OAuthRequest, issuer: string | null = ctx.settings.issuer): Promise<OAuthResponse> {
  const params = requireFormBody(req)
  rejectDuplicateParams(req)
  const client = await authenticateClient(ctx, req, params, issuer, 'revocation')
  return await withCors(corsHeaders(req, client.application), () => revokeOwnToken(ctx, client, params))
}

/** RFC 6749 §3.2 applied to RFC 7009: the parameters this endpoint reads appear once. */
function rejectDuplicateParams (req: OAuthRequest): void {
  const repeated = ['token', 'token_type_hint', 'client_id', 'client_secret'].filter((name) => req.duplicated.has(name))
  if (repeated.length > 0) throw new InvalidRequestError({ description: `Parameter repeated: ${repeated.join(', ')}.` })
}

async function revokeOwnToken (ctx: ServerContext, client: AuthenticatedClient, params: Params): Promise<OAuthResponse> {
  const token = param(params, 'token')
  if (token === undefined) throw new InvalidRequestError({ description: 'Request is missing token parameter.' })
  // RFC 7009 §2.2: "An invalid token type hint value is ignored by the authorization server and
  // does not influence the revocation response" (as oauthlib does). Both types this server issues
  // can be revoked, so `unsupported_token_type` (§2.2.1) never applies.
  const hint = param(params, 'token_type_hint')

  const checksum = tokenChecksum(token)
  const now = ctx.clock.now()
  // §2.1: the hint only orders the search; an unmatched hint extends it to the other type.
  const lookups = hint === 'refresh_token' ? [findRefresh, findAccess] : [findAccess, findRefresh]
  for (const lookup of lookups) {
    const found = await lookup(ctx, checksum)
    if (found === null) continue
    // §2.1: only the client the token was issued to may revoke it; anyone else gets the same 200.
    if (found.applicationId === client.application.id) {
      await found.revoke(now)
      found.notify(client.application.clientId)
    }
    break
  }
  return { status: 200, headers: { ...NO_STORE_HEADERS }, body: null }
}

interface FoundToken {
  applicationId: number | null
  revoke (now: Date): Promise<void>
  /** `tokenRevoked` (reason `revocation-endpoint`), once revoked. */
  notify (clientId: string): void
}

async function findAccess (ctx: ServerContext, checksum: string): Promise<FoundToken | null> {
  const record = await ctx.store.findAccessToken(checksum)
  return record === null
    ? null
    : {
        applicationId: record.applicationId,
        revoke: (now) => ctx.store.revokeAccessToken(record.id, now),
        notify: (clientId) => { notifyAccessTokenRevoked(ctx, 'revocation-endpoint', record, clientId) },
      }
}

async function findRefresh (ctx: ServerContext, checksum: string): Promise<FoundToken | null> {
  const record = await ctx.store.findRefreshToken(checksum)
  return record === null
    ? null
    : {
        applicationId: record.applicationId,
        revoke: (now) => ctx.store.revokeTokenFamily(record.tokenFamily, now),
        notify: (clientId) => { notifyRefreshFamilyRevoked(ctx, 'revocation-endpoint', record, clientId) },
      }
}
