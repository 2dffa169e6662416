import { StoreCache } from '../store/store-cache.js'
import type { StoreInvalidation } from '../store/types.js'
import type { AccessTokenInfo } from './bearer.js'

/**
 * The bounded in-process cache of verified access tokens, keyed by the token's
 * checksum, holding the verified token (application included) until the token expires or
 * `ttlSeconds` pass, whichever is first. A hit costs the checksum and a `Map` lookup, plus the
 * store's `invalidationsReliable()` check (SQLite, at most once per event-loop iteration and per
 * `crossProcessCheckMs`: the WAL-index header, `PRAGMA data_version` when it moved, and the
 * trigger-kept state row and log when another connection committed; PostgreSQL: none).
 *
 * Revocation stays immediate (`StoreCache`): other processes' removals arrive as `tokens` for the
 * access tokens they deleted or changed, `all` when they changed an application, `expired` when
 * cleartokens deleted expired tokens, and nothing when they only inserted. Use `set` with the
 * token's expiry as the entry's end.
 */
export class VerificationCache extends StoreCache<AccessTokenInfo> {
  protected drop (event: Exclude<StoreInvalidation, { kind: 'all' }>): void {
    switch (event.kind) {
      case 'tokens':
        for (const checksum of event.checksums) this.entries.delete(checksum)
        return
      case 'application':
        this.dropWhere((info) => info.application?.id === event.applicationId)
        return
      case 'expired': {
        const before = event.before.getTime()
        this.dropWhere((info) => info.expiresAt.getTime() <= before)
      }
    }
  }
}
