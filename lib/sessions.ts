import { addSeconds } from './clock.js'
import type { LogoutReason, ServerContext } from './context.js'
import type { AuthorizingUser } from './endpoints/authorize-request.js'
import type { TokenRevocationReason } from './event-types.js'
import { listening, notifyRefreshFamilyRevoked } from './events.js'
import { notify } from './notify.js'
import type { Application, EndedSession, EndSessionsStoreOptions, SessionRecord, SessionSelector } from './store/types.js'
import { tokenChecksum } from './tokens/checksum.js'

// The user's sessions at this server, as relying parties know them (`sid`, OpenID Connect
// Front-/Back-Channel Logout), and their end. The host owns login: it reports its own session
// id through `resolveUser` (`AuthorizingUser.sessionId`), and the toolkit keeps one row per host
// session, found again by the SHA-256 checksum of that id (host session ids are high-entropy
// bearer secrets, like tokens, so a plain hash is as good as a keyed one and the id itself is
// never stored or logged). Ending a session, whichever way, queues a logout token for each
// relying party that was issued something in it, revokes the session's refresh token families
// that lack `offline_access` (Back-Channel Logout 1.0 §2.7), and emits one `tokenRevoked` per
// family revoked, then `logout`.

/** Which sessions to end (`OAuthServer.endSessions`). */
export type SessionTarget =
  /** The session under the host's own session id (for that user only, when `userId` is given). */
  | { readonly hostSessionId: string, readonly userId?: string }
  /** Every live session of the user. */
  | { readonly userId: string }
  /** One session by its row id (the administration pages). */
  | { readonly id: number }
  /** One session by its public `sid`, as ID tokens carry it. */
  | { readonly sid: string }

/** Options of `endSessions`. */
export interface EndSessionsOptions {
  /** What the `logout` event says (default `'host'`; the administration pages pass `'staff'`). */
  readonly reason?: LogoutReason
  /**
   * Wait for the first delivery attempts of the logout tokens, at most
   * `backchannelLogoutWaitSeconds` (default true). The tokens are delivered (and retried) either way.
   */
  readonly wait?: boolean
}

/** What ending sessions did. */
export interface EndSessionsResult {
  /** The `sid` of each session ended now (empty when none was live: ending twice does nothing twice). */
  readonly sids: readonly string[]
  /** Logout tokens queued, one per relying party of a session with a back-channel logout URI. */
  readonly backchannelClients: number
  /** Refresh token families revoked (§2.7: those without `offline_access`), each also a `tokenRevoked` event. */
  readonly revokedFamilies: number
}

/** The form in which a host session id is stored and looked up: its SHA-256 checksum. */
export function hostSessionChecksum (hostSessionId: string): string {
  return tokenChecksum(hostSessionId)
}

/** The selector of a target. */
function selectorOf (target: SessionTarget): SessionSelector {
  if ('hostSessionId' in target) {
    return target.userId === undefined ? { keyChecksum: hostSessionChecksum(target.hostSessionId) } : { keyChecksum: hostSessionChecksum(target.hostSessionId), userId: target.userId }
  }
  if ('id' in target) return { id: target.id }
  if ('sid' in target) return { sid: target.sid }
  return { userId: target.userId }
}

/**
 * The `tokenRevoked` reason of a family revoked because its session ended: a logout, by the RP or
 * the host, is `logout` (as RP-Initiated Logout's own token revocation); a staff end is `staff`
 * (as the staff pages' other revocations); expiry is neither, so it has a reason of its own.
 */
const FAMILY_REVOCATION_REASONS: Readonly<Record<LogoutReason, TokenRevocationReason>> = Object.freeze({
  'rp-initiated': 'logout',
  host: 'logout',
  staff: 'staff',
  expired: 'session-expired',
})

/** The store's options for an end: the revoked families are listed only when someone will hear of them. */
function storeOptions (ctx: ServerContext): EndSessionsStoreOptions {
  return { listFamilies: listening(ctx.events, 'tokenRevoked') }
}

/**
 * Emits, for each ended session, `tokenRevoked` for each refresh token family its end revoked
 * (as the revocation endpoint reports a refresh token's: once per family, its access tokens
 * included), then `logout`; and sets their deliveries going (this process, if its worker runs).
 */
function announce (ctx: ServerContext, ended: readonly EndedSession[], reasonOf: (e: EndedSession) => LogoutReason, now: Date): EndSessionsResult {
  let backchannelClients = 0
  let revokedFamilies = 0
  for (const e of ended) {
    backchannelClients += e.deliveries
    revokedFamilies += e.revokedFamilies
    const reason = reasonOf(e)
    for (const f of e.families) notifyRefreshFamilyRevoked(ctx, FAMILY_REVOCATION_REASONS[reason], f.refreshToken, f.clientId)
    notify(ctx, 'logout', { at: now, userId: e.session.userId, sid: e.session.sid, reason, backchannelClients: e.deliveries })
  }
  return { sids: ended.map((e) => e.session.sid), backchannelClients, revokedFamilies }
}

/** Lets the deliveries just queued go: waits at most `backchannelLogoutWaitSeconds` when asked to. */
async function deliver (ctx: ServerContext, result: EndSessionsResult, wait: boolean): Promise<void> {
  const worker = ctx.logoutDelivery
  if (result.backchannelClients === 0 || worker == null || !worker.running) return
  await worker.flush(wait ? ctx.settings.backchannelLogoutWaitSeconds : 0)
}

/** Ends the live sessions `target` names (see the module comment). */
export async function endSessions (ctx: ServerContext, target: SessionTarget, options: EndSessionsOptions = {}): Promise<EndSessionsResult> {
  const now = ctx.clock.now()
  const ended = await ctx.store.endSessions(selectorOf(target), now, storeOptions(ctx))
  const result = announce(ctx, ended, () => options.reason ?? 'host', now)
  await deliver(ctx, result, options.wait !== false)
  return result
}

/**
 * Ends the session `user` is in (its `sessionId`): RP-Initiated Logout and the host's logout.
 * `logout` is emitted even when no session was tracked (`sid: null`): the user logged out all the same.
 */
export async function endUserSession (ctx: ServerContext, user: AuthorizingUser, options: EndSessionsOptions = {}): Promise<EndSessionsResult> {
  const reason = options.reason ?? 'host'
  const result = user.sessionId === undefined || user.sessionId === ''
    ? { sids: [], backchannelClients: 0, revokedFamilies: 0 }
    : await endSessions(ctx, { hostSessionId: user.sessionId, userId: user.id }, options)
  if (result.sids.length === 0) notify(ctx, 'logout', { at: ctx.clock.now(), userId: user.id, sid: null, reason, backchannelClients: 0 })
  return result
}

/**
 * The session an authorization for `application` happens in, started or slid forward, with the
 * application recorded as one of its relying parties; `null` when none is tracked (OpenID
 * Connect off, no `openid` scope, or the host reports no session id). A live session under the
 * same host session id that belongs to another user (the host reused the id without telling us
 * of a logout) or has expired is ended first, its relying parties told.
 */
export async function trackSession (ctx: ServerContext, user: AuthorizingUser, application: Application, scopes: readonly string[], now: Date): Promise<SessionRecord | null> {
  if (!ctx.settings.oidcEnabled || !scopes.includes('openid') || user.sessionId === undefined || user.sessionId === '') return null
  const keyChecksum = hostSessionChecksum(user.sessionId)
  const expiresAt = addSeconds(now, ctx.settings.oidcSessionExpireSeconds)
  for (let tries = 0; tries < 3; tries++) {
    const session = await ctx.store.touchSession({ sid: ctx.random.token(24), keyChecksum, userId: user.id, authTime: user.authTime ?? now, expiresAt }, application.id, now)
    if (session !== null) return session
    const ended = await ctx.store.endSessions({ keyChecksum }, now, storeOptions(ctx))
    const result = announce(ctx, ended, (e) => e.session.userId === user.id ? 'expired' : 'host', now)
    // The user is authorizing: their page does not wait for another session's relying parties.
    await deliver(ctx, result, false)
  }
  // Three ends and three conflicts in a row: another request keeps re-creating the session.
  throw new Error('fastify-oauth-toolkit: could not start the user session (concurrent changes under one host session id)')
}

/**
 * `cleartokens`: ends the sessions that expired (`oidcSessionExpireSeconds` after their last
 * authorization) like a logout (reason `expired`), in batches; returns how many. The deliveries
 * are left to the servers' workers.
 */
export async function endExpiredSessions (ctx: ServerContext, now: Date, batchSize: number): Promise<number> {
  let total = 0
  for (;;) {
    // One batch's families at most are held, and none when nobody listens to `tokenRevoked`.
    const ended = await ctx.store.endSessions({ expiredAt: now, limit: batchSize }, now, storeOptions(ctx))
    const result = announce(ctx, ended, () => 'expired', now)
    await deliver(ctx, result, false)
    total += ended.length
    if (ended.length < batchSize) return total
  }
}

/** The session a code or refresh token family was issued in, while it lasts (for `sid`); `null` when none, ended or gone. */
export async function liveSession (ctx: ServerContext, sessionId: number | null): Promise<SessionRecord | null> {
  if (sessionId === null) return null
  const session = await ctx.store.findSessionById(sessionId)
  return session === null || session.endedAt !== null ? null : session
}
