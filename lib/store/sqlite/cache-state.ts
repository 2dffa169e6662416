import type Database from 'better-sqlite3'
import type { StoreInvalidation } from '../types.js'

// Why: another connection's commit tells only that something changed (`PRAGMA data_version`);
// what it removed, for the verification caches, is recorded in the database itself by triggers,
// whoever writes: the one-row `oauth_cache_state` table of migration 0007 and the
// `oauth_cache_log` of migration 0008 (schema.ts `cacheState`, `cacheLog`). This reads and writes them.

/**
 * The triggers of migrations 0007 and 0008: without all of them the state row and the log say
 * nothing. (0008 replaced 0007's two access-token triggers by the `oauth_cache_log_…` ones.)
 */
const TRIGGERS = ['oauth_cache_log_accesstoken_delete', 'oauth_cache_log_accesstoken_update', 'oauth_cache_log_delete', 'oauth_cache_application_update', 'oauth_cache_application_delete']

/**
 * The log entries a store keeps: its own write transactions delete the oldest beyond this
 * (`CacheStateReader.prune`), in steps of `PRUNE_SLACK` or more. A connection that falls further
 * behind (one that does not check for ~`LOG_KEPT` revocations) drops its whole cache once.
 */
export const LOG_KEPT = 10_000
export const PRUNE_SLACK = 1_000

/** The state row (and the log since a position) as one connection read it, in one snapshot. */
export interface CacheState {
  readonly generation: number
  /** Epoch ms: the largest expiry bound of the clearExpired batches so far. */
  readonly clearedBefore: number
  /** How many clearExpired batches have deleted access tokens. */
  readonly clearBatches: number
  /** `PRAGMA schema_version`: a schema change (a trigger dropped, a column altered) reports `all`. */
  readonly schemaVersion: number
  /** The largest log `seq` ever deleted: entries up to it may be gone. */
  readonly logPrunedThrough: number
  /** The log position read up to: every entry ever appended has a `seq` at most this. */
  readonly logSeq: number
  /** The checksums of the entries after the position asked for, up to `logSeq` (empty when none was asked). */
  readonly logged: readonly string[]
}

/** Reads and writes the state row and the log on one connection. */
export interface CacheStateReader {
  /**
   * The row now, and the log entries after position `after` (none when `null`), from one
   * snapshot; `null` when they cannot vouch for the caches (no table, no row, a trigger missing).
   */
  read: (after: number | null) => CacheState | null
  /** Inside a clearExpired batch transaction, before its DELETE of access tokens expiring before `before` (epoch ms). */
  startClearing: (before: number) => void
  /** At the end of that transaction: announces the batch, and `before` as cleared. */
  endClearing: (before: number) => void
  /**
   * Inside one of the store's write transactions, with `current` as read in it: deletes the
   * oldest log entries when more than `LOG_KEPT + PRUNE_SLACK` accumulated (the log's trigger
   * raises `log_pruned_through`). Never throws (a failure leaves the log longer).
   */
  prune: (current: CacheState | null) => void
}

/** Prepares `sql`, or `null` when the database lacks the table (migration 0007 or 0008 not applied). */
function prepareOrNull (raw: Database.Database, sql: string): Database.Statement | null {
  try {
    return raw.prepare(sql)
  } catch {
    return null
  }
}

type StateRow = Omit<CacheState, 'logged'>

/**
 * Prepared statements on the state row and the log. Without the tables or their triggers
 * (dropped by hand: the store does not open a database that lacks the migrations) `read`
 * answers `null` and the writes do nothing: every other connection's commit then reports `all`,
 * as before 0007.
 */
export function cacheStateReader (raw: Database.Database): CacheStateReader {
  // `logSeq`: every seq appended is either still in the log (≤ its max) or was deleted (≤ log_pruned_through).
  const select = prepareOrNull(raw, `SELECT s.generation AS generation, s.cleared_before AS clearedBefore, s.clear_batches AS clearBatches,
    v.schema_version AS schemaVersion, s.log_pruned_through AS logPrunedThrough,
    max(s.log_pruned_through, coalesce((SELECT max(seq) FROM oauth_cache_log), 0)) AS logSeq
    FROM oauth_cache_state AS s, pragma_schema_version AS v WHERE s.id = 1`)
  const since = prepareOrNull(raw, 'SELECT token_checksum FROM oauth_cache_log WHERE seq > ? ORDER BY seq')?.pluck() ?? null
  const start = prepareOrNull(raw, 'UPDATE oauth_cache_state SET clearing_before = ? WHERE id = 1')
  const end = prepareOrNull(raw, 'UPDATE oauth_cache_state SET clearing_before = 0, cleared_before = max(cleared_before, ?), clear_batches = clear_batches + 1 WHERE id = 1')
  const pruneThrough = prepareOrNull(raw, 'DELETE FROM oauth_cache_log WHERE seq <= ?')
  const triggers = raw.prepare(`SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name IN (${TRIGGERS.map(() => '?').join(', ')})`).pluck()
  // The triggers are looked up again only when the schema changed.
  let checkedSchemaVersion = -1
  let triggersPresent = false

  function readInSnapshot (after: number | null): CacheState | null {
    if (select === null || since === null) return null
    const row = select.get() as StateRow | undefined
    if (row === undefined) return null
    if (row.schemaVersion !== checkedSchemaVersion) {
      triggersPresent = triggers.get(...TRIGGERS) === TRIGGERS.length
      checkedSchemaVersion = row.schemaVersion
    }
    if (!triggersPresent) return null
    // Entries before log_pruned_through may be gone: `stateChange` reports `all` then, no need to read them.
    const logged = after === null || row.logSeq <= after || after < row.logPrunedThrough ? [] : since.all(after) as string[]
    return { ...row, logged }
  }
  // Outside a transaction each statement reads its own snapshot: a prune committed between the
  // row and the log would hide entries the row does not account for. One read transaction.
  const readTransaction = raw.transaction(readInSnapshot)

  return {
    read (after) {
      try {
        return raw.inTransaction ? readInSnapshot(after) : readTransaction(after)
      } catch {
        // A table was dropped since (the statement cannot be prepared again).
        return null
      }
    },
    startClearing (before) { start?.run(before) },
    endClearing (before) { end?.run(before) },
    prune (current) {
      if (current === null || pruneThrough === null || current.logSeq - current.logPrunedThrough <= LOG_KEPT + PRUNE_SLACK) return
      try {
        pruneThrough.run(current.logSeq - LOG_KEPT)
      } catch {}
    },
  }
}

/**
 * What another connection's commits changed for the verification caches, from the state row
 * before and after them (`previous`: as last read; `current`: read now with the log entries
 * after `previous.logSeq`). A row that cannot vouch, a new generation (an application changed)
 * or a schema change: `all`; entries missed (pruned before they were read, or a log reset): `all`;
 * log entries: `tokens` with their checksums; new clearExpired batches (which delete only tokens
 * expired before `cleared_before`, the largest bound so far): `expired` before it. Every batch
 * is reported, so an entry cached between two batches (by a process whose clock is behind the
 * cleaner's) is dropped too, as the row it was read from goes.
 */
export function stateChange (previous: CacheState | null, current: CacheState | null): StoreInvalidation[] {
  if (previous === null || current === null || current.generation !== previous.generation || current.schemaVersion !== previous.schemaVersion ||
    previous.logSeq < current.logPrunedThrough || current.logSeq < previous.logSeq) return [{ kind: 'all' }]
  const events: StoreInvalidation[] = []
  if (current.logged.length > 0) events.push({ kind: 'tokens', checksums: [...new Set(current.logged)] })
  if (current.clearBatches !== previous.clearBatches || current.clearedBefore !== previous.clearedBefore) events.push({ kind: 'expired', before: new Date(current.clearedBefore) })
  return events
}
