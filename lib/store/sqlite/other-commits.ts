import type Database from 'better-sqlite3'
import type { InvalidationHub } from '../invalidation.js'
import { cacheStateReader, stateChange, type CacheState, type CacheStateReader } from './cache-state.js'
import type { WalIndexWatcher } from './wal-index.js'

// Why: the verification caches must hear what other connections to the file (a second process,
// cleartokens, a host's own SQL) removed, and SQLite has no NOTIFY. This looks for their commits,
// cheaply enough to run before cache hits.

/** What one store hears of other connections' commits. */
export interface OtherCommits {
  /** The state row and log writes of a clearExpired batch. */
  readonly state: CacheStateReader
  /**
   * Looks for other connections' commits if a look is due, reporting what they changed to the
   * hub (`Store.invalidationsReliable`, on an open connection).
   */
  look: () => void
  /**
   * In each of the store's own transactions, before COMMIT (the write lock held): the returned
   * function runs once the COMMIT has returned.
   */
  beforeCommit: () => () => void
}

/**
 * Follows other connections' commits on `raw` for the caches subscribed to `hub`. Another
 * connection's commit shows as a new `PRAGMA data_version`; then the state row and log of
 * migrations 0007 and 0008 (cache-state.ts), which triggers keep whoever writes, tell what it
 * changed: the log entries since our last read (access tokens deleted or changed) report
 * `tokens` with their checksums, a new generation (an application changed) or entries pruned
 * before we read them `all`, new clearExpired batches (which delete only tokens expired before
 * `cleared_before`) `expired`, and nothing else (tokens issued, grants or refresh tokens changed)
 * keeps the caches. A look costs at least a system call, the largest part of a cache hit, so it
 * runs at most once per event-loop iteration and once per `checkEveryMs`
 * (`SqliteStoreOptions.crossProcessCheckMs`; with 0, every request read from a socket after
 * another connection's commit comes in a later iteration and sees the commit; bench/README.md).
 * The pragma is skipped while the WAL-index header `walIndex` shows no commit (wal-index.ts), and
 * the state row is read only when the pragma changed, and in our own transactions.
 */
export function watchOtherCommits (raw: Database.Database, hub: InvalidationHub, walIndex: WalIndexWatcher | null, checkEveryMs: number): OtherCommits {
  const dataVersion = raw.prepare('PRAGMA data_version').pluck()
  const state = cacheStateReader(raw)
  let lastDataVersion = dataVersion.get()
  let lastState = state.read(null)

  // A look stays good for the rest of its event-loop iteration (under load one iteration reads
  // many requests) and, with a period, for that long after it (performance.now(), monotonic).
  let lookGoodUntil = -Infinity
  let lookedThisIteration = false
  const nextIteration = (): void => { lookedThisIteration = false }
  /** Whether it is time for another look, and if so starts the period the look will cover. */
  function lookDue (): boolean {
    if (lookedThisIteration) return false
    if (checkEveryMs > 0) {
      const now = performance.now()
      if (now < lookGoodUntil) return false
      lookGoodUntil = now + checkEveryMs
    }
    lookedThisIteration = true
    setImmediate(nextIteration)
    return true
  }

  /** Reports what other connections changed, from the state row and log entries read now (`all` when they cannot tell). */
  function otherConnectionsCommitted (current: CacheState | null): void {
    const previous = lastState
    lastState = current
    for (const event of stateChange(previous, current)) hub.emit(event)
  }

  /** The state row and the log entries after our last position, read now. */
  const readSinceLast = (): CacheState | null => state.read(lastState?.logSeq ?? null)

  return {
    state,

    look () {
      if (!lookDue()) return
      if (walIndex !== null && !walIndex.changed()) return
      const version = dataVersion.get()
      if (version !== lastDataVersion) {
        lastDataVersion = version
        otherConnectionsCommitted(readSinceLast())
      }
    },

    /**
     * Our own changes move the state row and the log too, and are already reported precisely, so
     * when no other connection committed since we last looked (data_version) we adopt the row and
     * the log position as they are after them; otherwise we report what changed since our last
     * position, which then includes ours (evicting our own removals twice, harmless). Then the
     * log is pruned if it grew long (after the read: our position is never behind our own pruning).
     */
    beforeCommit () {
      const version = dataVersion.get()
      const onlyOurs = version === lastDataVersion
      const current = onlyOurs ? state.read(null) : readSinceLast()
      state.prune(current)
      return () => {
        if (onlyOurs) lastState = current
        else otherConnectionsCommitted(current)
        lastDataVersion = version
      }
    },
  }
}
