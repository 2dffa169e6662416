import type { ServerContext } from '../context.js'
import type { SessionRecord, TokenIssue } from '../store/types.js'
import { prepareIdToken } from '../tokens/id-token.js'
import { issuedLifetime, prepareIssue } from '../tokens/issue.js'
import type { AuthorizationRequest, AuthorizingUser } from './authorize-request.js'
import { authorizationResponse, type AuthorizationResponse } from './authorize-response.js'
import { storeCode } from './authorize-code.js'
import { notifyTokenIssued } from '../events.js'

/**
 * OIDC Core §3.3.2.5: the hybrid flow's answer, in the fragment (or `form_post`): a code, plus an access token
 * (`token`, no refresh token) and/or an ID token (`id_token`, with `c_hash`, `at_hash` when an
 * access token comes along, and the required nonce). The code is exchanged as usual.
 * @returns the response to deliver to the client.
 */
export async function approveHybrid (ctx: ServerContext, request: AuthorizationRequest, user: AuthorizingUser, now: Date,
  session: SessionRecord | null): Promise<AuthorizationResponse> {
  const types = request.responseType.split(' ')
  const code = await storeCode(ctx, request, user, now, session?.id ?? null)
  const answer: Record<string, string | undefined> = { code }
  let issue: TokenIssue | null = null
  let accessToken: string | undefined
  if (types.includes('token')) {
    const prepared = await prepareIssue(ctx, { application: request.application, userId: user.id, scopes: request.scopes, withRefreshToken: false, resource: request.resources.join(' '), authTime: user.authTime ?? now })
    issue = prepared.issue
    accessToken = prepared.tokens.accessToken
  }
  const idToken = !types.includes('id_token')
    ? null
    : await prepareIdToken(ctx, {
      issuer: request.issuer ?? ctx.settings.issuer,
      application: request.application,
      userId: user.id,
      scopes: request.scopes,
      nonce: request.nonce,
      authTime: user.authTime ?? now,
      code,
      sid: session?.sid ?? null,
      ...(accessToken === undefined ? {} : { accessToken }),
    })
  if (issue !== null && accessToken !== undefined) {
    const rows = await ctx.store.issueTokens({ ...issue, idToken: idToken?.record ?? null })
    notifyTokenIssued(ctx, request.application, 'hybrid', rows, idToken !== null, request.responseType)
    answer.access_token = accessToken
    answer.token_type = 'Bearer'
    answer.expires_in = String(issuedLifetime(rows.accessToken))
    answer.scope = rows.accessToken.scope
  } else if (idToken !== null) {
    await ctx.store.createIdToken(idToken.record, now)
  }
  if (idToken !== null) answer.id_token = idToken.jwt
  return authorizationResponse(request.redirectUri, request.responseMode, { ...answer, state: request.state, iss: request.iss })
}
