import type { ServerContext } from '../context.js'
import { AccessDeniedError } from '../errors.js'
import { sameResource } from '../resource/identifiers.js'
import { issuedLifetime, prepareIssue } from '../tokens/issue.js'
import { resourceList } from '../validator/resources.js'
import { hasScopes, scopeList } from '../validator/scopes.js'
import { trackSession } from '../sessions.js'
import { storeCode } from './authorize-code.js'
import { approveHybrid } from './authorize-hybrid.js'
import type { AuthorizationRequest, AuthorizingUser } from './authorize-request.js'
import { authorizationResponse, errorResponse, type AuthorizationResponse } from './authorize-response.js'
import type { AuthorizationVia } from '../event-types.js'
import { notifyAuthorizationApproved, notifyAuthorizationDenied, notifyTokenIssued } from '../events.js'

// The user's decision on a validated authorization request (authorize-request.ts): skip
// consent, approve (a code, or tokens in the fragment) or deny.

/**
 * Whether the consent page may be skipped, and why: the application is trusted
 * (`skip_authorization`), or `approval_prompt=auto` and a confidential client already holds a
 * valid token of this user covering the scopes. `null`: ask. Public clients are always asked
 * again (RFC 8252 §8.6: anyone can claim a public client's id).
 */
export async function canSkipConsent (ctx: ServerContext, request: AuthorizationRequest, userId: string): Promise<'skip-authorization' | 'previous-consent' | null> {
  if (request.application.skipAuthorization) return 'skip-authorization'
  if (request.approvalPrompt !== 'auto' || request.application.clientType !== 'confidential') return null
  const now = ctx.clock.now().getTime()
  const tokens = await ctx.store.listAccessTokensForUser(userId)
  const covered = tokens.some((token) => token.applicationId === request.application.id &&
    token.expiresAt.getTime() > now && hasScopes(scopeList(token.scope), request.scopes) && coversResources(resourceList(token.resource), request.resources))
  return covered ? 'previous-consent' : null
}

/** RFC 8707: an earlier consent counts only for the same audiences (an unbound token covers any). */
function coversResources (held: readonly string[], requested: readonly string[]): boolean {
  if (held.length === 0) return true
  return requested.length > 0 && requested.every((r) => held.some((h) => sameResource(h, r)))
}

/**
 * The user approved: a code bound to client, redirect URI, PKCE challenge, scopes, nonce and
 * user (RFC 6749 §4.1.2), or for the implicit grant an access token (§4.2.2), in the request's
 * response mode. `via` says how (`authorizationApproved`): the consent page, or a skipped one.
 * @returns the response to deliver to the client.
 */
export async function approveAuthorization (ctx: ServerContext, request: AuthorizationRequest, user: AuthorizingUser,
  via: AuthorizationVia = 'consent'): Promise<AuthorizationResponse> {
  const response = await issueAuthorization(ctx, request, user)
  notifyAuthorizationApproved(ctx, request, user.id, via)
  return response
}

async function issueAuthorization (ctx: ServerContext, request: AuthorizationRequest, user: AuthorizingUser): Promise<AuthorizationResponse> {
  const now = ctx.clock.now()
  // The user's session at this server, which this client now takes part in (Back-Channel Logout).
  const session = await trackSession(ctx, user, request.application, request.scopes, now)
  if (request.responseType !== 'code' && request.responseType !== 'token') return await approveHybrid(ctx, request, user, now, session)
  if (request.responseType === 'token') {
    const { issue, tokens } = await prepareIssue(ctx, { application: request.application, userId: user.id, scopes: request.scopes, withRefreshToken: false, resource: request.resources.join(' '), authTime: user.authTime ?? now })
    const rows = await ctx.store.issueTokens(issue)
    notifyTokenIssued(ctx, request.application, 'implicit', rows, false, request.responseType)
    return authorizationResponse(request.redirectUri, request.responseMode, {
      access_token: tokens.accessToken,
      token_type: 'Bearer',
      expires_in: String(issuedLifetime(rows.accessToken)),
      scope: rows.accessToken.scope,
      state: request.state,
      iss: request.iss,
    })
  }
  const code = await storeCode(ctx, request, user, now, session?.id ?? null)
  return authorizationResponse(request.redirectUri, request.responseMode, { code, state: request.state, iss: request.iss })
}

/**
 * The user denied: `access_denied` to the client (RFC 6749 §4.1.2.1). Sent to self-registered
 * clients too: the logged-in user chose this on the consent page, which names the application
 * and, for those clients, where the browser goes next, so no one is sent off-site without
 * having seen and acted on that (RFC 9700 §4.11.2: the server may inform the user and rely on
 * their decision). The client also learns it was refused instead of waiting for an answer.
 * @param userId who refused (`authorizationDenied`); `null` when the caller does not say.
 */
export function denyAuthorization (ctx: ServerContext, request: AuthorizationRequest, userId: string | null): AuthorizationResponse {
  const error = new AccessDeniedError({ description: 'The resource owner denied the request.' })
  notifyAuthorizationDenied(ctx, request, userId, 'consent')
  return errorResponse(request.redirectUri, request.responseMode, error, request.state, request.iss)
}
