import type { ServerContext } from '../context.js'
import { InvalidGrantError, InvalidRequestError } from '../errors.js'
import { param } from '../request.js'
import type { GrantRecord } from '../store/types.js'
import { tokenChecksum } from '../tokens/checksum.js'
import { prepareIdToken } from '../tokens/id-token.js'
import { prepareIssue } from '../tokens/issue.js'
import { refreshTokenJkt } from '../dpop/server.js'
import { isPkceValue, verifyCodeChallenge } from '../tokens/pkce.js'
import { redirectUriMatches } from '../validator/redirect-uri.js'
import { narrowResources, resourceList } from '../validator/resources.js'
import { liveSession } from '../sessions.js'
import { scopeList } from '../validator/scopes.js'
import type { AuthenticatedClient } from '../validator/client-auth.js'
import { notifyCodeTokensRevoked } from '../events.js'
import type { TokenGrant } from './types.js'

/**
 * RFC 6749 §4.1.3: exchanges an authorization code. The code is consumed atomically with the
 * issuance; a second use fails and revokes what the first one issued (§4.1.2).
 */
export const authorizationCodeGrant: TokenGrant = {
  grantType: 'authorization_code',
  parameters: new Set(['grant_type', 'code', 'redirect_uri', 'code_verifier']),
  applicationTypes: new Set(['authorization-code', 'openid-hybrid']),
  confidentialOnly: false,
  enabled: () => true,
  async handle (ctx, client, params, info) {
    const code = param(params, 'code')
    if (code === undefined) throw new InvalidRequestError({ description: 'Request is missing code parameter.' })
    const grant = await ctx.store.findGrant(tokenChecksum(code))
    if (grant === null) throw new InvalidGrantError({ detail: 'unknown authorization code' })
    // RFC 6749 §4.1.3: a code is bound to the client it was issued to.
    if (grant.applicationId !== client.application.id) throw new InvalidGrantError({ detail: 'code issued to another client' })
    if (grant.consumedAt !== null) return await refuseReplay(ctx, client, grant)
    if (grant.expiresAt.getTime() <= ctx.clock.now().getTime()) throw new InvalidGrantError({ detail: 'authorization code expired' })
    checkRedirectUri(grant, param(params, 'redirect_uri'), client.application.redirectUris)
    checkCodeVerifier(grant, param(params, 'code_verifier'))
    // RFC 9449 §10: a code issued for `dpop_jkt` is redeemed only with a proof of that key.
    const jkt = info.dpopJkt ?? ''
    if (grant.dpopJkt !== '' && grant.dpopJkt !== jkt) throw new InvalidGrantError({ detail: jkt === '' ? 'code bound to a DPoP key redeemed without a proof' : 'DPoP proof key differs from the code\'s dpop_jkt' })

    // The code was issued in a session that has ended since (the user logged out): it dies with it.
    const session = await liveSession(ctx, grant.sessionId)
    if (grant.sessionId !== null && session === null) throw new InvalidGrantError({ detail: 'the user session the code was issued in has ended' })
    const scopes = scopeList(grant.scope)
    // RFC 8707 §2.2: the token may be bound to fewer resources than the grant, never others.
    const resources = narrowResources(ctx.settings, resourceList(grant.resource), info.resources ?? [])
    const { issue, tokens } = await prepareIssue(ctx, {
      application: client.application,
      userId: grant.userId,
      scopes,
      withRefreshToken: true,
      grantId: grant.id,
      resource: resources.join(' '),
      refreshResource: grant.resource,
      authTime: grant.authTime,
      jkt,
      refreshJkt: refreshTokenJkt(client.application, jkt),
      sessionId: session?.id ?? null,
    })
    // OIDC Core §3.1.3.3: with `openid`, an ID token carrying the request's nonce and auth_time.
    const idToken = await prepareIdToken(ctx, {
      issuer: info.issuer,
      application: client.application,
      userId: grant.userId,
      scopes,
      nonce: grant.nonce,
      authTime: grant.authTime,
      accessToken: tokens.accessToken,
      sid: session?.sid ?? null,
    })
    const result = await ctx.store.redeemGrant(grant.id, { ...issue, idToken: idToken?.record ?? null })
    // Another exchange won the race (or the code expired meanwhile): a replay by definition.
    if (!result.ok) return await refuseReplay(ctx, client, grant)
    return idToken === null ? { tokens, rows: result.rows } : { tokens, rows: result.rows, idToken: idToken.jwt }
  },
}

/** RFC 6749 §4.1.2: deny the replay and SHOULD revoke the tokens issued from the code. */
async function refuseReplay (ctx: ServerContext, client: AuthenticatedClient, grant: GrantRecord): Promise<never> {
  await ctx.store.revokeGrantTokens(grant.id, ctx.clock.now())
  notifyCodeTokensRevoked(ctx, client.application, grant.id, grant.userId)
  throw new InvalidGrantError({ detail: 'authorization code replayed; its tokens were revoked' })
}

/**
 * RFC 6749 §4.1.3: `redirect_uri` is required and must be identical when the
 * authorization request named one; otherwise it may be omitted or name a registered URI.
 */
function checkRedirectUri (grant: GrantRecord, given: string | undefined, registered: readonly string[]): void {
  if (grant.redirectUri !== '') {
    if (given !== grant.redirectUri) throw new InvalidGrantError({ detail: 'redirect_uri differs from the authorization request' })
    return
  }
  if (given !== undefined && !registered.some((uri) => redirectUriMatches(uri, given))) {
    throw new InvalidGrantError({ detail: 'redirect_uri is not registered' })
  }
}

/** RFC 7636 §4.5–4.6 and RFC 9700 §4.8.2 (PKCE downgrade): the verifier must match, and only exist with a challenge. */
function checkCodeVerifier (grant: GrantRecord, verifier: string | undefined): void {
  if (grant.codeChallenge === '' || grant.codeChallengeMethod === '') {
    if (verifier !== undefined) throw new InvalidGrantError({ detail: 'code_verifier sent for a code issued without a challenge' })
    return
  }
  if (verifier === undefined) throw new InvalidRequestError({ description: 'Request is missing code_verifier parameter.' })
  if (!isPkceValue(verifier)) throw new InvalidRequestError({ description: 'The code_verifier parameter is malformed.' })
  if (!verifyCodeChallenge(verifier, grant.codeChallenge, grant.codeChallengeMethod)) {
    throw new InvalidGrantError({ detail: 'code_verifier does not match the challenge' })
  }
}
