import type Database from 'better-sqlite3'
import { drizzle } from 'drizzle-orm/better-sqlite3'
import { ImproperlyConfiguredError } from '../../errors.js'
import type { SqliteDatabase } from '../connection.js'
import { guardUnknownMethods, InvalidationHub } from '../invalidation.js'
import type { Store } from '../types.js'
import { manageCheckpoints } from './checkpoints.js'
import { sqliteClearExpired } from './clear-expired.js'
import { createGroupCommit } from './group-commit.js'
import { checkWritable, migrateSqlite, openSqlite, pendingMigrations, sqliteOpenError, type SqliteTransaction } from './open.js'
import { watchOtherCommits } from './other-commits.js'
import { sqliteQueries } from './queries.js'
import { sqliteRegistrationMethods } from './registration.js'
import * as schema from './schema.js'
import { watchWalIndex } from './wal-index.js'

/** Options of `createSqliteStore`. */
export interface SqliteStoreOptions {
  /** A file path, `':memory:'`, or an open better-sqlite3 database. */
  database: string | SqliteDatabase
  /** Apply pending migrations first (default false; the CLI's `migrate` does it explicitly). */
  migrate?: boolean
  /**
   * Bytes of the file to memory-map (`PRAGMA mmap_size`; default none). Keeps verification
   * flat on large token tables; see `SqliteTuning.mmapSize` for the trade-offs (RSS, SIGBUS on I/O errors).
   */
  mmapSize?: number
  /**
   * Milliseconds for which one look for other connections' commits (other processes, the CLI,
   * host SQL) stays good while verifications are served from the cache (default
   * {@link DEFAULT_CROSS_PROCESS_CHECK_MS}). A look costs a system call (a `pread` of the WAL-index
   * header), the largest part of a cache hit: it runs before the
   * first hit of an event-loop iteration once the period has passed, so another process's
   * revocation is refused from that long after its commit. `0` looks at every iteration: the
   * next request read after the commit sees it, at one system call per iteration (under load an
   * iteration reads many requests). Revocations through this store are seen at once either way.
   */
  crossProcessCheckMs?: number
  /**
   * Checkpoint the WAL from a worker thread with its own connection (default `true`;
   * checkpointer.ts), started once this store's commits have filled half of `wal_autocheckpoint`
   * (a file database in WAL mode only). SQLite otherwise checkpoints inside the commit that
   * pushed the WAL past 1,000 pages, fsyncs included, which stalls the event loop (mostly an
   * fsync, again and again under token-issuance load; bench/README.md). `false`
   * keeps SQLite's automatic checkpoints on this connection; so does a worker that fails.
   */
  backgroundCheckpoint?: boolean
}

/**
 * The default `crossProcessCheckMs`: another process's revocation reaches this one's cache within
 * 5 ms (SECURITY.md's revocation-visibility target allows 1 s across processes on one SQLite file), at most 200 system calls a second.
 */
export const DEFAULT_CROSS_PROCESS_CHECK_MS = 5

/**
 * The embedded default store: SQLite through better-sqlite3 and drizzle. Transactions are
 * synchronous (better-sqlite3 does not await async callbacks) and begin IMMEDIATE, so a lock
 * upgrade never bypasses the busy handler. Single-use artefacts are consumed with one
 * conditional UPDATE whose changed-row count decides. This module wires the queries
 * (queries.ts, registration.ts) to the machinery that lets several connections share the file:
 * group commit, other connections' commits, checkpoints.
 */
export function createSqliteStore (options: SqliteStoreOptions): Store {
  const checkMs = options.crossProcessCheckMs
  if (checkMs !== undefined && !(Number.isFinite(checkMs) && checkMs >= 0)) {
    throw new ImproperlyConfiguredError('OAT_ERR_OPTIONS', `fastify-oauth-toolkit: crossProcessCheckMs must be a non-negative number of milliseconds; got ${String(checkMs)}`)
  }
  const ownsConnection = typeof options.database === 'string'
  const raw = openMigrated(options, ownsConnection)
  const db = drizzle(raw, { schema })

  // Verification caches (the `Store` TSDoc's invalidation rule): this store's removals are
  // reported by the methods, other connections' commits by `otherCommits` (other-commits.ts),
  // which reads the WAL-index header first (wal-index.ts).
  const hub = new InvalidationHub()
  const mainFile = (raw.pragma('database_list') as Array<{ name: string, file: string }>).find((d) => d.name === 'main')?.file ?? ''
  const walIndex = watchWalIndex(mainFile, String(raw.pragma('journal_mode', { simple: true })))
  const otherCommits = watchOtherCommits(raw, hub, walIndex, checkMs ?? DEFAULT_CROSS_PROCESS_CHECK_MS)
  const checkpoints = manageCheckpoints(raw, mainFile, walIndex, options.backgroundCheckpoint !== false)

  // Writes go through group commit (group-commit.ts): the transactions requested during one
  // event-loop turn share one BEGIN IMMEDIATE … COMMIT, each in its own savepoint, and waiting
  // for the write lock is asynchronous. The access tokens a transaction removes are reported
  // once its outcome is known (even on rollback: an eviction is never wrong), before it resolves.
  const group = createGroupCommit(raw, {
    onRemoved: (removed) => { hub.tokens(removed) },
    beforeCommit: () => {
      const committed = otherCommits.beforeCommit()
      return () => {
        committed()
        checkpoints.afterCommit()
      }
    },
  })
  const tx: SqliteTransaction = async (fn) => await group((removed) => fn(db, removed))

  const store: Store = {
    ...sqliteQueries(db, tx, hub),
    ...sqliteRegistrationMethods(db, tx),

    clearExpired: sqliteClearExpired({ tx, state: otherCommits.state, checkpoints, hub }),

    async close (): Promise<void> {
      await checkpoints.close()
      walIndex?.close()
      if (ownsConnection && raw.open) raw.close()
    },

    watchInvalidations: (listener) => hub.subscribe(listener),

    invalidationsReliable (): boolean {
      if (!raw.open) return false
      otherCommits.look()
      return true
    },
  }
  return guardUnknownMethods(store, async () => { hub.emit({ kind: 'all' }) })
}

/** Opens the database, migrates it if asked, and fails at startup with a remedy when it lacks migrations. */
function openMigrated (options: SqliteStoreOptions, ownsConnection: boolean): Database.Database {
  const raw = openSqlite(options.database, options.mmapSize === undefined ? {} : { mmapSize: options.mmapSize })
  try {
    if (ownsConnection) checkWritable(raw.name)
    if (options.migrate === true) {
      try {
        migrateSqlite(raw)
      } catch (err) {
        // A read-only file or folder opens, then fails at the first write: the migration.
        const code = (err as { code?: unknown }).code
        throw typeof code === 'string' && code.startsWith('SQLITE_') ? sqliteOpenError(raw.name, err) : err
      }
    }
    const pending = pendingMigrations(raw)
    // Fail at startup with a remedy, not on the first request with "no such table".
    if (pending > 0) {
      throw new ImproperlyConfiguredError('OAT_ERR_DATABASE', `fastify-oauth-toolkit: the database lacks ${pending} migration(s); run \`fastify-oauth-toolkit migrate\` or pass \`migrate: true\``)
    }
  } catch (err) {
    if (ownsConnection) raw.close()
    throw err
  }
  return raw
}
