import type { Store, StoreInvalidation } from '../store/types.js'
import type { AccessTokenInfo } from './bearer.js'

interface Entry {
  readonly info: AccessTokenInfo
  /** Epoch ms: `min(token expiry, cached at + ttl)`. */
  readonly until: number
  readonly applicationId: number | null
}

/**
 * The bounded in-process cache of verified access tokens (issue 7), keyed by the token's
 * checksum, holding the verified token (application included) until the token expires or
 * `ttlSeconds` pass, whichever is first. A hit costs the checksum and a `Map` lookup, plus the
 * store's `invalidationsReliable()` check (SQLite, at most once per event-loop iteration and per
 * `crossProcessCheckMs`: the WAL-index header, `PRAGMA data_version` when it moved, and the
 * trigger-kept state row and log when another connection committed; PostgreSQL: none).
 *
 * Revocation stays immediate: the cache subscribes to the store's invalidations (see the rule on
 * `Store`), which every path that removes tokens or changes an application reports before it
 * resolves, and other processes' removals as soon as the store hears of them (SQLite: `tokens`
 * for the access tokens they deleted or changed, `all` when they changed an application,
 * `expired` when cleartokens deleted expired tokens, nothing when they only inserted). A lookup that was
 * in flight when an invalidation arrived is not cached (the `generation` check), so a result read
 * before a revocation committed is never stored after it. While the store cannot hear other
 * processes (PostgreSQL listener down) nothing is served from the cache.
 *
 * Full: the oldest entry goes (insertion order). Entries are frozen objects shared by requests.
 */
export class VerificationCache {
  private readonly entries = new Map<string, Entry>()
  private unsubscribe: (() => void) | null = null
  private closed = false
  /** Bumped by every invalidation; a lookup started in an older generation is not cached. */
  private generationCounter = 0

  /** Subscribes at the first verification (so a server that never verifies, such as the CLI's, opens no PostgreSQL listener). */
  constructor (private readonly store: Store, readonly maxEntries: number, readonly ttlSeconds: number) {}

  /** How many entries are held. */
  get size (): number {
    return this.entries.size
  }

  /** The current generation: take it before a store lookup, pass it to `set`. Subscribes on first use. */
  get generation (): number {
    if (this.unsubscribe === null && !this.closed) this.unsubscribe = this.store.watchInvalidations((event) => { this.invalidate(event) })
    return this.generationCounter
  }

  /** The cached verification of `checksum`, if it may be served at `now` (epoch ms). */
  get (checksum: string, now: number): AccessTokenInfo | null {
    const entry = this.entries.get(checksum)
    if (entry === undefined) return null
    if (now >= entry.until) {
      this.entries.delete(checksum)
      return null
    }
    // Other processes' invalidations are delivered here (SQLite); an entry they removed is gone.
    const generation = this.generationCounter
    if (!this.store.invalidationsReliable()) return null
    if (generation === this.generationCounter) return entry.info
    return this.entries.get(checksum)?.info ?? null
  }

  /** Caches a verification looked up in `generation`; ignored if an invalidation came since. */
  set (checksum: string, info: AccessTokenInfo, generation: number, now: number): void {
    if (generation !== this.generationCounter || this.unsubscribe === null) return
    const until = Math.min(info.expiresAt.getTime(), now + this.ttlSeconds * 1000)
    if (until <= now) return
    if (this.entries.size >= this.maxEntries && !this.entries.has(checksum)) {
      const oldest = this.entries.keys().next()
      if (oldest.done !== true) this.entries.delete(oldest.value)
    }
    this.entries.set(checksum, { info, until, applicationId: info.application?.id ?? null })
  }

  /** Applies one store invalidation. */
  invalidate (event: StoreInvalidation): void {
    this.generationCounter++
    switch (event.kind) {
      case 'tokens':
        for (const checksum of event.checksums) this.entries.delete(checksum)
        return
      case 'application':
        for (const [checksum, entry] of this.entries) if (entry.applicationId === event.applicationId) this.entries.delete(checksum)
        return
      case 'expired': {
        const before = event.before.getTime()
        for (const [checksum, entry] of this.entries) if (entry.info.expiresAt.getTime() <= before) this.entries.delete(checksum)
        return
      }
      case 'all':
        this.entries.clear()
    }
  }

  /** Stops following the store and drops every entry. */
  close (): void {
    this.closed = true
    this.unsubscribe?.()
    this.unsubscribe = null
    this.entries.clear()
    this.generationCounter++
  }
}
