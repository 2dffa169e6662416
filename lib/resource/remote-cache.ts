/**
 * A bounded cache of remote verification outcomes, keyed by token checksum, with per-entry
 * expiry and single-flight loading: concurrent requests with the same new token share one
 * call to the authorization server. Entries are evicted oldest-first when full.
 */
export interface RemoteCache<V> {
  /** The cached value for `key`, or the one being loaded, else loads it with `load`. */
  get (key: string, nowMs: number, load: () => Promise<CacheLoad<V>>): Promise<V>
  /** Number of live entries (tests, metrics). */
  readonly size: number
}

/** What a loader returns: the value and until when (epoch ms) it may be reused; `0` caches nothing. */
export interface CacheLoad<V> {
  readonly value: V
  readonly untilMs: number
}

/** A new cache holding at most `maxEntries` values. */
export function createRemoteCache<V> (maxEntries: number): RemoteCache<V> {
  const entries = new Map<string, { value: V, untilMs: number }>()
  const loading = new Map<string, Promise<V>>()

  function store (key: string, load: CacheLoad<V>, nowMs: number): void {
    if (load.untilMs <= nowMs) return
    entries.delete(key)
    while (entries.size >= maxEntries) {
      const oldest = entries.keys().next()
      if (oldest.done === true) break
      entries.delete(oldest.value)
    }
    entries.set(key, { value: load.value, untilMs: load.untilMs })
  }

  return {
    get size () { return entries.size },
    async get (key, nowMs, load) {
      const hit = entries.get(key)
      if (hit !== undefined) {
        if (nowMs < hit.untilMs) return hit.value
        entries.delete(key)
      }
      const pending = loading.get(key)
      if (pending !== undefined) return await pending
      const promise = load().then((result) => {
        store(key, result, nowMs)
        return result.value
      }).finally(() => loading.delete(key))
      loading.set(key, promise)
      return await promise
    },
  }
}
