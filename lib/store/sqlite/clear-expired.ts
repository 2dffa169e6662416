import { inArray, type SQL } from 'drizzle-orm'
import type { InvalidationHub } from '../invalidation.js'
import { clearExpired, type ClearedTable } from '../shared/decisions.js'
import type { ClearedCounts, ClearExpiredRules } from '../types.js'
import type { CacheStateReader } from './cache-state.js'
import type { Checkpoints } from './checkpoints.js'
import type { SqliteTransaction } from './open.js'
import * as schema from './schema.js'

// Why: one SQLite writer holds the write lock (and, in process, the event loop) for as long as
// its transaction runs, and clearExpired deletes up to millions of rows while the server keeps
// verifying and issuing on the same file: they go in batches sized to a lock time. What goes, and
// in which order, is shared/decisions.ts's `clearExpired`.

/** Rows in the first batch, and the time one batch aims to hold the write lock (select, delete and commit). */
const FIRST_BATCH = 500
const BATCH_TARGET_MS = 20

/** What `sqliteClearExpired` works with: the store's transactions, state row, checkpoint policy and invalidations. */
export interface ClearExpiredDeps {
  readonly tx: SqliteTransaction
  readonly state: CacheStateReader
  readonly checkpoints: Checkpoints
  readonly hub: InvalidationHub
}

/** The SQLite store's `clearExpired`. */
export function sqliteClearExpired ({ tx, state, checkpoints, hub }: ClearExpiredDeps): (rules: ClearExpiredRules) => Promise<ClearedCounts> {
  /**
   * Deletes the rows matching `where`, in transactions that each hold the write lock for about
   * `BATCH_TARGET_MS`, commit included: the batch size adapts to the measured time per row, up to
   * `rules.batchSize` (bench/README.md, scenario 6); verification may wait 50 ms at most, and a
   * loaded machine stretches a batch. `expiredBefore` (access tokens, whose `where` selects only
   * rows expiring before it): each batch tells other connections so through the state row,
   * instead of making them drop their caches.
   */
  async function deleteInBatches (table: typeof schema[ClearedTable], where: SQL | undefined, rules: ClearExpiredRules, expiredBefore?: Date): Promise<number> {
    let total = 0
    let size = Math.min(rules.batchSize, FIRST_BATCH)
    for (;;) {
      let started = 0
      const deleted = await tx((t) => {
        started = performance.now()
        const ids = t.select({ id: table.id }).from(table).where(where).limit(size).all().map((r) => r.id)
        if (ids.length === 0) return { found: 0, changes: 0 }
        // Expired access tokens: the triggers let them go unreported; `clear_batches` and `cleared_before` report them.
        if (expiredBefore !== undefined) state.startClearing(expiredBefore.getTime())
        const changes = t.delete(table).where(inArray(table.id, ids)).run().changes
        if (expiredBefore !== undefined) state.endClearing(expiredBefore.getTime())
        return { found: ids.length, changes }
      })
      const ms = performance.now() - started
      total += deleted.changes
      if (deleted.changes > 0) {
        rules.onBatchDone?.({ rows: deleted.changes, lockMs: ms })
        checkpoints.batchDone(ms)
      }
      if (deleted.found < size) return total
      // Towards the target duration, at most doubling or halving per batch, within [50, batchSize].
      const ideal = Math.round(size * BATCH_TARGET_MS / Math.max(ms, 0.1))
      size = Math.min(rules.batchSize, Math.max(Math.min(50, rules.batchSize), Math.ceil(size / 2), Math.min(ideal, size * 2)))
      if (rules.betweenBatches !== undefined) await rules.betweenBatches()
    }
  }

  return async (rules) => await checkpoints.whileClearing(async () => await clearExpired(schema, rules, {
    deleteInBatches: async (table, where, expiredBefore) => await deleteInBatches(schema[table], where, rules, expiredBefore),
    tokensExpired: async (before) => { hub.emit({ kind: 'expired', before }) },
  }))
}
