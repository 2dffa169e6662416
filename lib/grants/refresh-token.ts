import { addSeconds } from '../clock.js'
import type { ServerContext } from '../context.js'
import { InvalidGrantError, InvalidRequestError, InvalidScopeError } from '../errors.js'
import { param } from '../request.js'
import type { RefreshTokenRecord } from '../store/types.js'
import { tokenChecksum } from '../tokens/checksum.js'
import { prepareIdToken } from '../tokens/id-token.js'
import { prepareIssue, type TokenPair } from '../tokens/issue.js'
import { refreshTokenJkt } from '../dpop/server.js'
import { refreshTokenExpiresAt } from '../tokens/refresh-expiry.js'
import { openSuccessor, sealSuccessor } from '../tokens/seal.js'
import { narrowResources, resourceList } from '../validator/resources.js'
import { liveSession } from '../sessions.js'
import { checkAllowedScopes, hasScopes, parseScopeParam, scopeList } from '../validator/scopes.js'
import type { AuthenticatedClient } from '../validator/client-auth.js'
import { notifyRefreshFamilyRevoked, notifyRefreshTokenReuse } from '../events.js'
import type { GrantResult, TokenGrant } from './types.js'

/**
 * RFC 6749 §6 with RFC 9700 §4.14.2: rotation, reuse detection (a replayed rotated token
 * revokes its family), the DOT grace period, scope narrowing only, and idle expiry checked
 * when the token is presented (not only by `cleartokens`).
 */
export const refreshTokenGrant: TokenGrant = {
  grantType: 'refresh_token',
  parameters: new Set(['grant_type', 'refresh_token', 'scope']),
  applicationTypes: new Set(['authorization-code', 'password', 'client-credentials', 'openid-hybrid', 'urn:ietf:params:oauth:grant-type:device_code']),
  confidentialOnly: false,
  enabled: () => true,
  async handle (ctx, client, params, info) {
    const presented = param(params, 'refresh_token')
    if (presented === undefined) throw new InvalidRequestError({ description: 'Request is missing refresh_token parameter.' })
    const record = await ctx.store.findRefreshToken(tokenChecksum(presented))
    // RFC 6749 §6: the token must have been issued to this client; another client's attempt leaves it valid for its owner.
    if (record === null || record.applicationId !== client.application.id) {
      throw new InvalidGrantError({ detail: record === null ? 'unknown refresh token' : 'refresh token of another client' })
    }
    // RFC 9449 §5: a bound refresh token is used only with a proof of its key. Checked before the
    // replay rules, so a stolen bound token, useless without the key, cannot revoke its family either.
    const jkt = info.dpopJkt ?? ''
    if (record.jkt !== '' && record.jkt !== jkt) throw new InvalidGrantError({ detail: jkt === '' ? 'DPoP-bound refresh token presented without a proof' : 'DPoP proof key differs from the refresh token\'s' })
    if (record.revokedAt !== null) return await replayOrGrace(ctx, client, presented, record)
    if (isExpired(ctx, record)) throw new InvalidGrantError({ detail: 'refresh token idle-expired' })
    const granted = scopeList(record.scope)
    const requested = parseScopeParam(param(params, 'scope')) ?? granted
    if (!hasScopes(granted, requested)) throw new InvalidScopeError({ detail: 'refresh asked for scopes beyond the original grant' })
    // A registered client's scope may have been narrowed (RFC 7592 update) since the grant.
    checkAllowedScopes(requested, client.application)
    // RFC 8707 §2.2: narrowing only; the refresh token keeps the grant's resources.
    const resources = narrowResources(ctx.settings, resourceList(record.resource), info.resources ?? [])

    const rotate = ctx.settings.rotateRefreshToken
    const { issue, tokens } = await prepareIssue(ctx, {
      application: client.application,
      userId: record.userId,
      scopes: requested,
      refreshScopes: granted,
      withRefreshToken: rotate,
      tokenFamily: record.tokenFamily,
      resource: resources.join(' '),
      refreshResource: record.resource,
      authTime: record.authTime,
      jkt,
      refreshJkt: refreshTokenJkt(client.application, jkt),
      // The family stays in its session across rotations (Back-Channel Logout §2.7).
      sessionId: record.sessionId,
    })
    // OIDC Core §12.2: a new ID token on refresh, without nonce, whose auth_time is that of the
    // original authentication (kept with the refresh token family, so it outlives the code).
    const idToken = record.userId === null
      ? null
      : await prepareIdToken(ctx, {
        issuer: info.issuer,
        application: client.application,
        userId: record.userId,
        scopes: requested,
        nonce: '',
        authTime: record.authTime,
        accessToken: tokens.accessToken,
        // The session's `sid` while it lasts; an `offline_access` family outlives it, and then has none.
        sid: (await liveSession(ctx, record.sessionId))?.sid ?? null,
      })
    const withIdToken = { ...issue, idToken: idToken?.record ?? null }
    const extra = idToken === null ? {} : { idToken: idToken.jwt }
    if (!rotate) {
      const result = await ctx.store.replaceAccessToken(record.id, withIdToken)
      if (!result.ok) throw new InvalidGrantError({ detail: 'refresh token revoked concurrently' })
      return { tokens: { accessToken: tokens.accessToken, refreshToken: presented }, rows: result.rows, refreshed: record, ...extra }
    }
    const sealed = ctx.settings.refreshTokenGracePeriodSeconds > 0 ? sealSuccessor(presented, tokens) : null
    const result = await ctx.store.rotateRefreshToken(record.id, sealed, withIdToken)
    if (result.ok) return { tokens, rows: result.rows, refreshed: record, ...extra }
    // Another request rotated it first: this one is a replay or a grace-period retry.
    const latest = await ctx.store.findRefreshToken(record.checksum)
    if (latest === null) throw new InvalidGrantError({ detail: 'refresh token deleted concurrently' })
    return await replayOrGrace(ctx, client, presented, latest)
  },
}

/** `refreshTokenExpireSeconds` is enforced when the token is presented, not only by `cleartokens`. */
function isExpired (ctx: ServerContext, record: RefreshTokenRecord): boolean {
  const expiresAt = refreshTokenExpiresAt(ctx.settings, record)
  return expiresAt !== null && ctx.clock.now() >= expiresAt
}

/** A presented refresh token that is already revoked: a grace-period retry, or a replay. */
async function replayOrGrace (ctx: ServerContext, client: AuthenticatedClient, presented: string, record: RefreshTokenRecord): Promise<GrantResult> {
  const grace = await graceRetry(ctx, presented, record)
  if (grace !== null) return grace
  const protect = ctx.settings.refreshTokenReuseProtection
  if (protect) {
    // RFC 9700 §4.14.2: a rotated token came back, so one of its holders is an attacker.
    await ctx.store.revokeTokenFamily(record.tokenFamily, ctx.clock.now())
  }
  notifyRefreshTokenReuse(ctx, client.application, record, protect)
  if (protect) notifyRefreshFamilyRevoked(ctx, 'refresh-token-reuse', record, client.application.clientId)
  throw new InvalidGrantError({ detail: 'revoked or rotated refresh token presented' })
}

/**
 * DOT's grace period: only the token *immediately* superseded, only inside the window, and
 * only while its successor is still live, gets the same pair back; anything else is a replay.
 */
async function graceRetry (ctx: ServerContext, presented: string, record: RefreshTokenRecord): Promise<GrantResult | null> {
  const window = ctx.settings.refreshTokenGracePeriodSeconds
  if (window <= 0 || record.successorSealed === null || record.revokedAt === null) return null
  // An expired token is never honoured, even inside the window.
  if (isExpired(ctx, record)) return null
  if (ctx.clock.now() > addSeconds(record.revokedAt, window)) return null
  const pair: TokenPair | null = openSuccessor(presented, record.successorSealed)
  if (pair === null || pair.refreshToken === null) return null
  const successor = await ctx.store.findRefreshToken(tokenChecksum(pair.refreshToken))
  if (successor === null || successor.revokedAt !== null || successor.accessTokenId === null) return null
  const accessToken = await ctx.store.findAccessTokenById(successor.accessTokenId)
  if (accessToken === null || accessToken.checksum !== tokenChecksum(pair.accessToken)) return null
  return { tokens: pair, rows: { accessToken, refreshToken: successor }, reissued: true }
}
