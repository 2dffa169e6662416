import { addSeconds } from '../clock.js'
import type { ServerContext } from '../context.js'
import { tokenChecksum } from '../tokens/checksum.js'
import type { AuthorizationRequest, AuthorizingUser } from './authorize-request.js'

// The authorization code both the code flow (authorize.ts) and the hybrid flow
// (authorize-hybrid.ts) hand out: one module below both, so neither imports the other.

/** Draws an authorization code and stores it, bound to everything §4.1.3 and OIDC check later. */
export async function storeCode (ctx: ServerContext, request: AuthorizationRequest, user: AuthorizingUser, now: Date, sessionId: number | null): Promise<string> {
  const code = ctx.random.token(32)
  await ctx.store.createGrant({
    checksum: tokenChecksum(code),
    applicationId: request.application.id,
    userId: user.id,
    expiresAt: addSeconds(now, ctx.settings.authorizationCodeExpireSeconds),
    redirectUri: request.requestedRedirectUri,
    scope: request.scopes.join(' '),
    codeChallenge: request.codeChallenge,
    codeChallengeMethod: request.codeChallengeMethod,
    nonce: request.nonce,
    claims: '',
    resource: request.resources.join(' '),
    authTime: user.authTime ?? now,
    dpopJkt: request.dpopJkt ?? '',
    sessionId,
  }, now)
  return code
}
