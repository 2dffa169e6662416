import type Database from 'better-sqlite3'
import type { StoreInvalidation } from '../types.js'

// The SQLite side of cross-process cache invalidation (issue 7): the one-row `oauth_cache_state`
// table of migration 0007 (schema.ts `cacheState`) and the triggers that keep it, whoever writes.

/** The triggers of migration 0007: without all of them the state row says nothing. */
const TRIGGERS = ['oauth_cache_accesstoken_delete', 'oauth_cache_accesstoken_update', 'oauth_cache_application_update', 'oauth_cache_application_delete']

/** The state row as one connection read it. */
export interface CacheState {
  readonly generation: number
  /** Epoch ms: the largest expiry bound of the clearExpired batches so far. */
  readonly clearedBefore: number
  /** How many clearExpired batches have deleted access tokens. */
  readonly clearBatches: number
  /** `PRAGMA schema_version`: a schema change (a trigger dropped, a column altered) reports `all`. */
  readonly schemaVersion: number
}

/** Reads and writes the state row on one connection. */
export interface CacheStateReader {
  /** The row now; `null` when it cannot vouch for the caches (no table, no row, a trigger missing). */
  read: () => CacheState | null
  /** Inside a clearExpired batch transaction, before its DELETE of access tokens expiring before `before` (epoch ms). */
  startClearing: (before: number) => void
  /** At the end of that transaction: announces the batch, and `before` as cleared. */
  endClearing: (before: number) => void
}

/** Prepares `sql`, or `null` when the database lacks the table (migration 0007 not applied). */
function prepareOrNull (raw: Database.Database, sql: string): Database.Statement | null {
  try {
    return raw.prepare(sql)
  } catch {
    return null
  }
}

/**
 * Prepared statements on the state row. Without the table or its triggers (dropped by hand:
 * the store does not open a database that lacks the migration) `read` answers `null` and the
 * writes do nothing: every other connection's commit then reports `all`, as before 0007.
 */
export function cacheStateReader (raw: Database.Database): CacheStateReader {
  const select = prepareOrNull(raw, 'SELECT s.generation AS generation, s.cleared_before AS clearedBefore, s.clear_batches AS clearBatches, v.schema_version AS schemaVersion FROM oauth_cache_state AS s, pragma_schema_version AS v WHERE s.id = 1')
  const start = prepareOrNull(raw, 'UPDATE oauth_cache_state SET clearing_before = ? WHERE id = 1')
  const end = prepareOrNull(raw, 'UPDATE oauth_cache_state SET clearing_before = 0, cleared_before = max(cleared_before, ?), clear_batches = clear_batches + 1 WHERE id = 1')
  const triggers = raw.prepare(`SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name IN (${TRIGGERS.map(() => '?').join(', ')})`).pluck()
  // The triggers are looked up again only when the schema changed.
  let checkedSchemaVersion = -1
  let triggersPresent = false
  return {
    read () {
      if (select === null) return null
      let row: CacheState | undefined
      try {
        row = select.get() as CacheState | undefined
      } catch {
        // The table was dropped since (the statement cannot be prepared again).
        return null
      }
      if (row === undefined) return null
      if (row.schemaVersion !== checkedSchemaVersion) {
        triggersPresent = triggers.get(...TRIGGERS) === TRIGGERS.length
        checkedSchemaVersion = row.schemaVersion
      }
      return triggersPresent ? row : null
    },
    startClearing (before) { start?.run(before) },
    endClearing (before) { end?.run(before) },
  }
}

/**
 * What another connection's commits changed for the verification caches, from the state row
 * before and after them (`null`: nothing they hold). A row that cannot vouch, a new generation
 * or a schema change: `all`; new clearExpired batches (which delete only tokens expired before
 * `cleared_before`, the largest bound so far): `expired` before it. Every batch is reported,
 * so an entry cached between two batches (by a process whose clock is behind the cleaner's)
 * is dropped too, as the row it was read from goes.
 */
export function stateChange (previous: CacheState | null, current: CacheState | null): StoreInvalidation | null {
  if (previous === null || current === null || current.generation !== previous.generation || current.schemaVersion !== previous.schemaVersion) return { kind: 'all' }
  if (current.clearBatches !== previous.clearBatches || current.clearedBefore !== previous.clearedBefore) return { kind: 'expired', before: new Date(current.clearedBefore) }
  return null
}
