import type { ServerContext } from '../context.js'
import { checkClientPolicy } from '../registration/cimd.js'
import type { Application, DeviceGrantRecord } from '../store/types.js'
import { resourceList } from '../validator/resources.js'
import { scopeList } from '../validator/scopes.js'
import type { AuthorizingUser } from './authorize-request.js'
import { normalizeUserCode, userCodeChecksum } from './device-user-code.js'
import { listening, notifyAuthorizationApproved, notifyAuthorizationDenied } from '../events.js'

/** A device authorization waiting for its user's decision, with the application asking. */
export interface PendingDeviceAuthorization {
  readonly grant: DeviceGrantRecord
  readonly application: Application
  readonly scopes: readonly string[]
  /** RFC 8707 resources the access would be for (empty: not restricted). */
  readonly resources: readonly string[]
}

/**
 * The user entered a user code (RFC 8628 §3.3): binds the pending, unexpired authorization to
 * them, unless someone else claimed it first (so no one else can decide it, DOT 3.4.1 #1819). `null` for a wrong,
 * expired, decided or foreign code; the page says the same thing for each.
 */
export async function claimUserCode (ctx: ServerContext, input: string, userId: string): Promise<DeviceGrantRecord | null> {
  const normalized = normalizeUserCode(input, ctx.settings.deviceUserCodeLength)
  if (normalized === null) return null
  const grant = await ctx.store.findDeviceGrantByUserCode(userCodeChecksum(normalized))
  if (grant === null) return null
  return await ctx.store.claimDeviceGrant(grant.id, userId, ctx.clock.now())
}

/** The authorization `id` if it waits for `userId`'s decision; `null` for anyone else, or once decided or expired. */
export async function pendingDeviceAuthorization (ctx: ServerContext, id: number, userId: string): Promise<PendingDeviceAuthorization | null> {
  if (!Number.isSafeInteger(id) || id <= 0) return null
  const grant = await ctx.store.findDeviceGrantById(id)
  if (grant === null || grant.userId !== userId || grant.status !== 'authorization-pending') return null
  if (grant.expiresAt.getTime() <= ctx.clock.now().getTime()) return null
  const stored = await ctx.store.findApplicationById(grant.applicationId)
  // The user is about to decide for this client: a metadata document client is refused while
  // cimdEnabled is off (its polls would be), and its stale document is fetched again so that the
  // page shows what its publisher says now (and nothing when the document is gone).
  const application = stored === null ? null : (await checkClientPolicy(ctx, stored)).application
  return application === null ? null : { grant, application, scopes: scopeList(grant.scope), resources: resourceList(grant.resource) }
}

/** Records the claiming user's approval or denial; false when it was not theirs to decide (any more). */
export async function decideDeviceAuthorization (ctx: ServerContext, id: number, user: AuthorizingUser, approve: boolean): Promise<boolean> {
  if (!Number.isSafeInteger(id) || id <= 0) return false
  const now = ctx.clock.now()
  const decided = await ctx.store.decideDeviceGrant(id, user.id, approve ? 'authorized' : 'denied', user.authTime ?? now, now)
  if (decided && listening(ctx.events, approve ? 'authorizationApproved' : 'authorizationDenied')) await notifyDecision(ctx, id, user.id, approve)
  return decided
}

/** `authorizationApproved` or `authorizationDenied` (via `device`), read back from the decided authorization. */
async function notifyDecision (ctx: ServerContext, id: number, userId: string, approve: boolean): Promise<void> {
  const grant = await ctx.store.findDeviceGrantById(id)
  const application = grant === null ? null : await ctx.store.findApplicationById(grant.applicationId)
  if (grant === null || application === null) return
  const decided = { application, scopes: scopeList(grant.scope), resources: resourceList(grant.resource), deviceGrantId: grant.id }
  if (approve) notifyAuthorizationApproved(ctx, decided, userId, 'device')
  else notifyAuthorizationDenied(ctx, decided, userId, 'device')
}
