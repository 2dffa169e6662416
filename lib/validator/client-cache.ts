import { createHmac, randomBytes } from 'node:crypto'
import { StoreCache } from '../store/store-cache.js'
import type { Application, StoreInvalidation } from '../store/types.js'

/**
 * The bounded in-process cache of successful client authentications (the
 * `clientCacheSize` setting). The token, introspection, revocation, device and PAR endpoints
 * authenticate the client on every request; a client that presents the same `client_id` and
 * secret as in an earlier success gets its application from here, without the store's lookup
 * or the secret check. Every other presentation (a new client, a wrong secret, an unknown
 * `client_id`) misses alike and takes the full path, so the cache tells nothing about which
 * client ids exist, by timing or otherwise; only successes are stored, so failures cannot fill it.
 *
 * Keys are HMAC-SHA-256(per-process random key, client_id, secret): no secret is kept, and the
 * keys are useless outside the process. An application changed or deleted is never served again
 * (`StoreCache`): in this process at once, from other processes as the verification cache learns
 * of it (PostgreSQL: `NOTIFY`; SQLite: the state row the triggers of migration 0007 keep, within
 * `crossProcessCheckMs`). Token invalidations leave it alone.
 */
export class ClientCache extends StoreCache<Application> {
  private readonly hmacKey = randomBytes(32)

  /** The entry key of a presentation: the same for the same `clientId` and `secret`, in this process only. */
  keyOf (clientId: string, secret: string): string {
    // The lengths make the pair unambiguous whatever characters either holds.
    return createHmac('sha256', this.hmacKey).update(`${clientId.length}:${clientId}${secret.length}:${secret}`).digest('base64')
  }

  protected drop (event: Exclude<StoreInvalidation, { kind: 'all' }>): void {
    if (event.kind === 'application') this.dropWhere((application) => application.id === event.applicationId)
  }
}

/** Freezes an application and its lists: a cached one is shared by every request. */
export function freezeApplication (app: Application): Application {
  Object.freeze(app.redirectUris)
  Object.freeze(app.postLogoutRedirectUris)
  Object.freeze(app.allowedOrigins)
  if (app.allowedScopes !== null) Object.freeze(app.allowedScopes)
  return Object.freeze(app)
}
