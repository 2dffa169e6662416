import { accessSync, constants } from 'node:fs'
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import { lt } from 'drizzle-orm'
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3'
import { migrate } from 'drizzle-orm/better-sqlite3/migrator'
import { readMigrationFiles } from 'drizzle-orm/migrator'
import { ImproperlyConfiguredError } from '../../errors.js'
import type { SqliteDatabase } from '../connection.js'
import type { ExpiredProbe, ExpiredRowCounts } from '../inspection.js'
import * as schema from './schema.js'

/** The drizzle handle of a toolkit SQLite database. */
export type SqliteDb = BetterSQLite3Database<typeof schema>

/**
 * Runs `fn` in an IMMEDIATE transaction (shared with concurrent ones, all-or-nothing per call:
 * group-commit.ts); `removed` collects the checksums of the access tokens it deletes.
 */
export type SqliteTransaction = <T>(fn: (t: SqliteDb, removed: string[]) => T) => Promise<T>

/** Where the committed drizzle-kit migrations live (copied next to this module by the build). */
export const SQLITE_MIGRATIONS_FOLDER = fileURLToPath(new URL('./migrations', import.meta.url))

/** Connection tuning for `openSqlite`. */
export interface SqliteTuning {
  /**
   * Bytes of the file to memory-map (`PRAGMA mmap_size`; default: SQLite's, 0, none). Reads
   * then come from the map instead of a `pread` per page outside SQLite's page cache, which keeps
   * verification flat as the token table grows (bench/README.md). Trade-offs: mapped
   * file pages count in the process's RSS (shared and reclaimable by the OS), and an I/O error
   * on a mapped page raises SIGBUS (the process dies) instead of an `SQLITE_IOERR`. Set it at or
   * above the file's size; SQLite caps it at its compile-time maximum (2 GiB here).
   */
  readonly mmapSize?: number
}

/** Validates `SqliteTuning.mmapSize` (a non-negative integer number of bytes). */
export function checkMmapSize (mmapSize: unknown): void {
  if (mmapSize !== undefined && (typeof mmapSize !== 'number' || !Number.isSafeInteger(mmapSize) || mmapSize < 0)) {
    throw new ImproperlyConfiguredError('OAT_ERR_OPTIONS', 'fastify-oauth-toolkit: the SQLite mmapSize must be a non-negative integer (bytes)')
  }
}

/**
 * Opens (or adopts) a SQLite database: WAL mode, a busy timeout and foreign keys, so that the
 * server, `cleartokens` and a second process can share one file (lock contention waits instead of failing at once).
 * @param database a file path, `':memory:'`, or an open better-sqlite3 database.
 * @param tuning optional connection tuning (`mmapSize`).
 */
export function openSqlite (database: string | SqliteDatabase, tuning: SqliteTuning = {}): Database.Database {
  checkMmapSize(tuning.mmapSize)
  let db: Database.Database
  if (typeof database === 'string') {
    if (database.length === 0) throw new ImproperlyConfiguredError('OAT_ERR_DATABASE', 'fastify-oauth-toolkit: the SQLite path is empty')
    try {
      db = new Database(database)
    } catch (err) {
      throw sqliteOpenError(database, err)
    }
  } else {
    // A better-sqlite3 Database, declared by shape in the public types (connection.ts).
    db = database as Database.Database
  }
  try {
    // The first statements: a file that is not a database, or one this process may not write, fails here.
    if (db.name !== ':memory:' && db.name !== '') db.pragma('journal_mode = WAL')
    db.pragma('busy_timeout = 5000')
    // WAL + NORMAL survives process crashes (kill -9); only an OS crash can lose the last commits.
    db.pragma('synchronous = NORMAL')
    db.pragma('foreign_keys = ON')
    if (tuning.mmapSize !== undefined) db.pragma(`mmap_size = ${tuning.mmapSize}`)
  } catch (err) {
    if (typeof database === 'string') db.close()
    throw sqliteOpenError(db.name, err)
  }
  return db
}

/**
 * Fails when this process may not write the database file or its folder. SQLite opens such a
 * file read-only without a word, and the first token issued would fail; the store checks at
 * startup instead. `EROFS` is a read-only mount, `EACCES`/`EPERM` file permissions.
 */
export function checkWritable (path: string): void {
  if (path === '' || path === ':memory:' || path.startsWith('file:')) return
  for (const [target, what] of [[path, 'the file'], [dirname(path), 'its folder']] as const) {
    try {
      accessSync(target, constants.W_OK)
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code === 'ENOENT') continue
      const reason = code === 'EROFS' ? `read-only: ${what} is on a read-only file system` : code === 'EACCES' || code === 'EPERM' ? `permission denied: this process may not write ${what}` : (err as Error).message
      throw new ImproperlyConfiguredError('OAT_ERR_DATABASE', `fastify-oauth-toolkit: cannot use SQLite database "${path}": ${reason} (SQLite writes both the file and its folder, for the WAL)`)
    }
  }
}

/**
 * What went wrong opening or first writing a SQLite database, in the words a user acts on:
 * the file is not a database, it or its folder may not be written (permissions, a read-only
 * mount), or the folder does not exist. Other errors keep SQLite's own message.
 */
export function sqliteOpenError (path: string, err: unknown): ImproperlyConfiguredError {
  const { code, message } = err as { code?: unknown, message?: unknown }
  const text = typeof message === 'string' ? message : String(err)
  let reason: string
  if (code === 'SQLITE_NOTADB') reason = 'the file is not a SQLite database'
  else if (typeof code === 'string' && code.startsWith('SQLITE_READONLY')) reason = 'read-only: this process may not write the file or its folder (permissions, or a read-only file system); SQLite needs to write both (WAL mode)'
  else if (code === 'SQLITE_PERM' || code === 'SQLITE_AUTH') reason = `permission denied (${text})`
  else if (/directory does not exist/i.test(text)) reason = 'its folder does not exist'
  else if (code === 'SQLITE_CANTOPEN') reason = 'cannot open the file: permission denied, a folder in its place, or a folder that may not be written'
  else reason = text
  return new ImproperlyConfiguredError('OAT_ERR_DATABASE', `fastify-oauth-toolkit: cannot open SQLite database "${path}": ${reason}`)
}

/** Applies every pending migration (idempotent). */
export function migrateSqlite (db: Database.Database): void {
  migrate(drizzle(db), { migrationsFolder: SQLITE_MIGRATIONS_FOLDER })
}

/** drizzle's bookkeeping table (its migrator's default name, which `migrateSqlite` uses). */
const MIGRATIONS_TABLE = '__drizzle_migrations'

/** Whether a database was ever migrated, and how many shipped migrations it lacks. */
export interface MigrationState {
  /** drizzle's bookkeeping table exists (the database was migrated at least once). */
  readonly migrated: boolean
  readonly pending: number
}

/** Reads the migration state as drizzle's migrator decides it: shipped migrations newer than the last applied one are pending. */
export function migrationState (db: Database.Database): MigrationState {
  const shipped = readMigrationFiles({ migrationsFolder: SQLITE_MIGRATIONS_FOLDER })
  const table = db.prepare('SELECT 1 FROM sqlite_master WHERE type = \'table\' AND name = ?').get(MIGRATIONS_TABLE)
  if (table === undefined) return { migrated: false, pending: shipped.length }
  const row = db.prepare(`SELECT max(created_at) AS last FROM "${MIGRATIONS_TABLE}"`).get() as { last: number | string | null }
  const last = row.last === null ? -Infinity : Number(row.last)
  return { migrated: true, pending: shipped.filter((m) => m.folderMillis > last).length }
}

/** How many shipped migrations `db` lacks (all of them on an empty database). */
export function pendingMigrations (db: Database.Database): number {
  return migrationState(db).pending
}

/** Rows that expired before `probe.before`, up to `probe.limit` per table (the deployment checks; `cleartokens` deletes them). */
export function sqliteExpiredRows (db: Database.Database, probe: ExpiredProbe): ExpiredRowCounts {
  const d = drizzle(db, { schema })
  const { accessTokens, grants, deviceGrants } = schema
  return {
    accessTokens: d.select({ id: accessTokens.id }).from(accessTokens).where(lt(accessTokens.expiresAt, probe.before)).limit(probe.limit).all().length,
    grants: d.select({ id: grants.id }).from(grants).where(lt(grants.expiresAt, probe.before)).limit(probe.limit).all().length,
    deviceGrants: d.select({ id: deviceGrants.id }).from(deviceGrants).where(lt(deviceGrants.expiresAt, probe.before)).limit(probe.limit).all().length,
  }
}
