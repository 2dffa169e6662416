import type { Store, StoreInvalidation } from './types.js'

interface Entry<V> {
  readonly value: V
  /** Epoch ms after which the entry is not served. */
  readonly until: number
}

/**
 * A bounded in-process cache of values read from a store, kept true by the store's
 * invalidations (see the rule on `Store`): every path that removes tokens or changes an
 * application reports it before it resolves, and other processes' changes as soon as the store
 * hears of them. Each subclass says which entries an invalidation removes (`drop`).
 *
 * - A hit costs a `Map` lookup plus the store's `invalidationsReliable()` check (SQLite, at most
 *   once per event-loop iteration and per `crossProcessCheckMs`; PostgreSQL: none), which
 *   delivers other processes' pending invalidations before the entry is served.
 * - A lookup that was in flight when an invalidation arrived is not cached (the `generation`
 *   check), so a value read before a change committed is never stored after it.
 * - While the store cannot hear other processes (PostgreSQL listener down) nothing is served.
 * - Every entry lives `ttlSeconds` at most (or less, when `set` is given an earlier end).
 * - Full: the oldest entry goes (insertion order). Values are shared by requests: store frozen ones.
 */
export abstract class StoreCache<V> {
  protected readonly entries = new Map<string, Entry<V>>()
  private unsubscribe: (() => void) | null = null
  private closed = false
  /** Bumped by every invalidation; a lookup started in an older generation is not cached. */
  private generationCounter = 0

  /** Subscribes at first use (so a server that never uses the cache, such as the CLI's, opens no PostgreSQL listener). */
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

  /** The cached value of `key`, if it may be served at `now` (epoch ms). */
  get (key: string, now: number): V | null {
    const entry = this.entries.get(key)
    if (entry === undefined) return null
    if (now >= entry.until) {
      this.entries.delete(key)
      return null
    }
    // Other processes' invalidations are delivered here (SQLite); an entry they removed is gone.
    const generation = this.generationCounter
    if (!this.store.invalidationsReliable()) return null
    if (generation === this.generationCounter) return entry.value
    return this.entries.get(key)?.value ?? null
  }

  /**
   * Caches a value looked up in `generation`, until `now + ttlSeconds` or `endsAt` (epoch ms)
   * when earlier; ignored if an invalidation came since.
   */
  set (key: string, value: V, generation: number, now: number, endsAt = Infinity): void {
    if (generation !== this.generationCounter || this.unsubscribe === null) return
    const until = Math.min(endsAt, now + this.ttlSeconds * 1000)
    if (until <= now) return
    if (this.entries.size >= this.maxEntries && !this.entries.has(key)) {
      const oldest = this.entries.keys().next()
      if (oldest.done !== true) this.entries.delete(oldest.value)
    }
    this.entries.set(key, { value, until })
  }

  /** Applies one store invalidation. */
  invalidate (event: StoreInvalidation): void {
    this.generationCounter++
    if (event.kind === 'all') this.entries.clear()
    else this.drop(event)
  }

  /** Removes the entries an invalidation (other than `all`) makes untrue. */
  protected abstract drop (event: Exclude<StoreInvalidation, { kind: 'all' }>): void

  /** Removes every entry whose value matches. */
  protected dropWhere (matches: (value: V) => boolean): void {
    for (const [key, entry] of this.entries) if (matches(entry.value)) this.entries.delete(key)
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
