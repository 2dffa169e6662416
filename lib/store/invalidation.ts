import type { InvalidationListener, Store, StoreInvalidation } from './types.js'

// Shared by the built-in stores: the listener list behind `Store.watchInvalidations`, the wire
// format of cross-process invalidations, and the safety net that makes store methods added
// later invalidate everything until they are listed here (the rule in the `Store` TSDoc).

/** Fans a store's invalidations out to its subscribers (verification caches). */
export class InvalidationHub {
  private readonly listeners = new Set<InvalidationListener>()

  subscribe (listener: InvalidationListener): () => void {
    this.listeners.add(listener)
    return () => { this.listeners.delete(listener) }
  }

  get size (): number {
    return this.listeners.size
  }

  emit (event: StoreInvalidation): void {
    for (const listener of this.listeners) listener(event)
  }

  /** Reports removed access tokens by checksum (nothing when none were removed). */
  tokens (checksums: readonly string[]): void {
    if (checksums.length > 0) this.emit({ kind: 'tokens', checksums })
  }
}

/**
 * Store methods that either never remove or change access tokens or applications, or report
 * precisely what they removed. Every other method of a built-in store (one added later by a
 * feature that forgot the rule) reports `all` after each call. Add a method here only when it
 * follows the rule in the `Store` TSDoc.
 */
export const KNOWN_STORE_METHODS: ReadonlySet<string> = new Set<keyof Store>([
  // read only
  'findApplicationByClientId', 'findApplicationById', 'listApplications', 'isOriginAllowed',
  'findAccessToken', 'findAccessTokenForVerification', 'findAccessTokenById', 'listAccessTokensForUser',
  'findRefreshToken', 'findIdTokenByJti', 'findGrant', 'watchInvalidations', 'invalidationsReliable', 'close',
  'findDeviceGrant', 'findDeviceGrantByUserCode', 'findDeviceGrantById', 'useOnce',
  'pageApplications', 'pageAccessTokens', 'pageRefreshTokens', 'pageGrants', 'pageDeviceGrants', 'pageIdTokens', 'pageSessions',
  'findRefreshTokenById', 'findGrantById',
  // device authorizations: their rows only, never an access token
  'createDeviceGrant', 'claimDeviceGrant', 'decideDeviceGrant', 'recordDevicePoll', 'denyDeviceGrant',
  // client registrations (a new application has no tokens) and pushed authorization requests
  'registerClient', 'findClientRegistration', 'createPushedAuthorizationRequest', 'findPushedAuthorizationRequest',
  'startPushedAuthorizationRequest', 'consumePushedAuthorizationRequest',
  // sessions and the logout outbox: their rows only, never an access token
  'touchSession', 'findSessionById', 'findSessionDetail', 'claimLogoutDeliveries', 'rescheduleLogoutDelivery', 'deleteLogoutDelivery',
  // insert only (a new token is not in any cache)
  'createApplication', 'issueTokens', 'createIdToken', 'createGrant', 'redeemGrant', 'redeemDeviceGrant',
  // report what they remove or change
  'updateApplication', 'deleteApplication', 'deleteExpiredCimdApplications', 'revokeAccessToken', 'revokeTokenFamily', 'rotateRefreshToken',
  'replaceAccessToken', 'revokeGrantTokens', 'revokeGrant', 'clearExpired', 'endSessions',
])

/**
 * Wraps every function of `store` whose name is not in `KNOWN_STORE_METHODS`: after it settles,
 * `invalidateAll` runs (it reports `all` locally and to the other processes). Known methods are
 * passed through untouched, so the hot path pays nothing.
 */
export function guardUnknownMethods<S extends Store> (store: S, invalidateAll: () => Promise<void>): S {
  const guarded: Record<string, unknown> = { ...(store as object) }
  for (const [name, value] of Object.entries(store)) {
    if (typeof value !== 'function' || KNOWN_STORE_METHODS.has(name)) continue
    const method = value as (...args: unknown[]) => unknown
    guarded[name] = async (...args: unknown[]) => {
      try {
        return await method(...args)
      } finally {
        await invalidateAll()
      }
    }
  }
  return guarded as S
}

/** The PostgreSQL channel of cross-process invalidations. */
export const INVALIDATION_CHANNEL = 'oat_invalidate'

/** A NOTIFY payload holds at most 8,000 bytes: 100 checksums (64 hex characters and a comma) stay well below. */
const CHECKSUMS_PER_PAYLOAD = 100

/**
 * Encodes an invalidation as NOTIFY payloads `<origin> <body>`, where `origin` names the sending
 * store (its own listener skips its echoes) and `body` is `t:<checksum>,<checksum>…`,
 * `a:<application id>`, `x:<epoch ms>` (expired before) or `*` (everything).
 */
export function encodeInvalidation (event: StoreInvalidation, origin: string): string[] {
  switch (event.kind) {
    case 'tokens': {
      const payloads: string[] = []
      for (let i = 0; i < event.checksums.length; i += CHECKSUMS_PER_PAYLOAD) {
        payloads.push(`${origin} t:${event.checksums.slice(i, i + CHECKSUMS_PER_PAYLOAD).join(',')}`)
      }
      return payloads
    }
    case 'application': return [`${origin} a:${event.applicationId}`]
    case 'expired': return [`${origin} x:${event.before.getTime()}`]
    case 'all': return [`${origin} *`]
  }
}

/** Decodes a NOTIFY payload; a body not recognised (another version, a manual `NOTIFY oat_invalidate`) means `all`. */
export function decodeInvalidation (payload: string | undefined): { readonly origin: string, readonly event: StoreInvalidation } {
  const space = payload?.indexOf(' ') ?? -1
  const origin = payload === undefined || space < 0 ? '' : payload.slice(0, space)
  const body = payload === undefined ? '' : payload.slice(space + 1)
  const rest = body.slice(2)
  if (body.startsWith('t:') && /^[0-9a-f]{64}(,[0-9a-f]{64})*$/.test(rest)) return { origin, event: { kind: 'tokens', checksums: rest.split(',') } }
  if (body.startsWith('a:') && /^[1-9][0-9]{0,15}$/.test(rest)) return { origin, event: { kind: 'application', applicationId: Number(rest) } }
  if (body.startsWith('x:') && /^[0-9]{1,16}$/.test(rest)) return { origin, event: { kind: 'expired', before: new Date(Number(rest)) } }
  return { origin, event: { kind: 'all' } }
}
