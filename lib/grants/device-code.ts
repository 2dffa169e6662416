import type { ServerContext } from '../context.js'
import {
  AccessDeniedError, AuthorizationPendingError, ExpiredTokenError, InvalidGrantError, InvalidRequestError, SlowDownError,
} from '../errors.js'
import { param } from '../request.js'
import type { Application, DeviceGrantRecord } from '../store/types.js'
import { tokenChecksum } from '../tokens/checksum.js'
import { prepareIdToken } from '../tokens/id-token.js'
import { prepareIssue } from '../tokens/issue.js'
import { refreshTokenJkt } from '../dpop/server.js'
import { narrowResources, resourceList } from '../validator/resources.js'
import { scopeList } from '../validator/scopes.js'
import type { GrantRequestInfo, GrantResult, TokenGrant } from './types.js'

/** The wire `grant_type` of RFC 8628, which is also the application grant type (DOT). */
export const DEVICE_CODE_GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:device_code'

/** RFC 8628 §3.5: each `slow_down` adds 5 seconds to the interval, for this and later polls. */
const SLOW_DOWN_SECONDS = 5

/**
 * RFC 8628 §3.4–3.5: the device polls with its `device_code`. Pending polls answer
 * `authorization_pending`, or `slow_down` when faster than the interval (which DOT never sends);
 * a denial `access_denied`; an expired code `expired_token`. An approval yields one token set,
 * consumed atomically; any later poll gets `invalid_grant`, never a second token set.
 */
export const deviceCodeGrant: TokenGrant = {
  grantType: DEVICE_CODE_GRANT_TYPE,
  parameters: new Set(['grant_type', 'device_code']),
  applicationTypes: new Set([DEVICE_CODE_GRANT_TYPE]),
  // RFC 8628 §3.4: public clients poll with their client_id (DOT parity).
  confidentialOnly: false,
  enabled: (settings) => settings.deviceFlowEnabled,
  async handle (ctx, client, params, info) {
    const code = param(params, 'device_code')
    if (code === undefined) throw new InvalidRequestError({ description: 'Request is missing device_code parameter.' })
    const grant = await ctx.store.findDeviceGrant(tokenChecksum(code))
    // RFC 8628 §3.5 defers to RFC 6749 §5.2 here: invalid_grant (DOT answers a 404 `device_not_found`).
    if (grant === null) throw new InvalidGrantError({ detail: 'unknown device code' })
    // A device code is bound to the client it was issued to (as an authorization code is).
    if (grant.applicationId !== client.application.id) throw new InvalidGrantError({ detail: 'device code issued to another client' })
    if (grant.consumedAt !== null) throw new InvalidGrantError({ detail: 'device code already exchanged' })
    const now = ctx.clock.now()
    if (grant.expiresAt.getTime() <= now.getTime()) throw new ExpiredTokenError({ detail: 'device code expired' })
    if (grant.status === 'denied') throw new AccessDeniedError({ description: 'The user denied the authorization request.' })
    if (grant.status === 'authorized') return await redeem(ctx, client.application, grant, info)
    return await pending(ctx, grant, now)
  },
}

/** Still pending: `slow_down` (and a longer interval) when polled too fast, else `authorization_pending`. */
async function pending (ctx: ServerContext, grant: DeviceGrantRecord, now: Date): Promise<never> {
  const poll = await ctx.store.recordDevicePoll(grant.id, now, SLOW_DOWN_SECONDS)
  if (poll === null) throw new InvalidGrantError({ detail: 'device code deleted concurrently' })
  if (poll.tooFast) throw new SlowDownError({ detail: `polled faster than the interval; now ${poll.interval} s` })
  throw new AuthorizationPendingError()
}

/** Issues the tokens (and an ID token with `openid`) while consuming the approval, all or nothing. */
async function redeem (ctx: ServerContext, application: Application, grant: DeviceGrantRecord, info: GrantRequestInfo): Promise<GrantResult> {
  const userId = grant.userId
  if (userId === null) throw new InvalidGrantError({ detail: 'authorized device code without a user' })
  const scopes = scopeList(grant.scope)
  // RFC 8707 §2.2 (as for codes): the token may be bound to fewer resources than the grant, never others.
  const resources = narrowResources(ctx.settings, resourceList(grant.resource), info.resources ?? [])
  const { issue, tokens } = await prepareIssue(ctx, {
    application,
    userId,
    scopes,
    withRefreshToken: true,
    authTime: grant.authTime,
    resource: resources.join(' '),
    refreshResource: grant.resource,
    jkt: info.dpopJkt ?? '',
    refreshJkt: refreshTokenJkt(application, info.dpopJkt ?? ''),
  })
  const idToken = await prepareIdToken(ctx, { issuer: info.issuer, application, userId, scopes, nonce: '', authTime: grant.authTime, accessToken: tokens.accessToken })
  const result = await ctx.store.redeemDeviceGrant(grant.id, { ...issue, idToken: idToken?.record ?? null })
  // Another poll won the race (or the code expired meanwhile): one token set per approval.
  if (!result.ok) throw new InvalidGrantError({ detail: 'device code already exchanged' })
  return idToken === null ? { tokens, rows: result.rows } : { tokens, rows: result.rows, idToken: idToken.jwt }
}
