import { existsSync } from 'node:fs'
import { ImproperlyConfiguredError } from '../errors.js'
import { openStore, sqlitePathFromUrl } from '../store/open.js'
import { migrateSqlite, migrationState as readMigrationState, openSqlite, type MigrationState } from '../store/sqlite/open.js'
import type { Store } from '../store/types.js'
import { CliError, CliUsageError } from './args.js'
import { PROGRAM } from './command.js'

// The CLI inspects the raw SQLite handle (migration bookkeeping) without importing
// better-sqlite3 itself: only lib/store/ may (STYLE §1).
type RawDatabase = ReturnType<typeof openSqlite>

const RUN_MIGRATE = `run \`${PROGRAM} migrate\``

/** The database named by `--database`, else by `DATABASE_URL`; a usage error when neither is set. */
export function resolveDatabaseUrl (option: string | undefined, env: Readonly<Record<string, string | undefined>>, command: string): string {
  const url = option ?? env.DATABASE_URL
  if (url === undefined || url === '') {
    throw new CliUsageError(option === '' ? 'option \'--database\' must not be empty' : 'no database: pass --database <path|url> or set DATABASE_URL', command)
  }
  return url
}

/** The SQLite path of a database URL; PostgreSQL is refused with a clear message. */
export function sqlitePathOf (url: string): string {
  const path = sqlitePathFromUrl(url)
  if (path === null) throw new CliError('PostgreSQL URLs are not supported yet; use a SQLite path (a file path, sqlite:<path> or file:<path>)')
  if (path === '') throw new CliError(`the database URL "${url}" names no SQLite path`)
  return path
}

/** Opens the SQLite file; a file that is not a database fails here, on the first pragma. */
function openDatabase (path: string): RawDatabase {
  try {
    return openSqlite(path)
  } catch (err) {
    if (err instanceof ImproperlyConfiguredError) throw err
    throw new CliError(`cannot read database "${path}": ${(err as Error).message}`)
  }
}

/** The store's migration state; an unreadable database is a CLI error, not a stack trace. */
function migrationState (db: RawDatabase, path: string): MigrationState {
  try {
    return readMigrationState(db)
  } catch (err) {
    throw new CliError(`cannot read database "${path}": ${(err as Error).message}`)
  }
}

/** Creates the database file if needed and applies pending migrations; returns how many were applied. */
export function migrateDatabase (url: string): { path: string, applied: number } {
  const path = sqlitePathOf(url)
  const db = openDatabase(path)
  try {
    const before = migrationState(db, path)
    migrateSqlite(db)
    return { path, applied: before.pending }
  } finally {
    db.close()
  }
}

/** An open store over a migrated database. */
export interface OpenedStore {
  readonly store: Store
  readonly path: string
  close (): Promise<void>
}

/**
 * Opens a database that `migrate` has brought up to date. A missing file, an unmigrated
 * database or pending migrations fail with a message telling the user to run `migrate`; the
 * CLI never migrates silently (DOT parity: `migrate` is a step of its own).
 */
export function openMigratedStore (url: string): OpenedStore {
  const path = sqlitePathOf(url)
  // better-sqlite3 would create a missing file; a typo in the path must not look like an empty database.
  if (path !== ':memory:' && !existsSync(path)) throw new CliError(`database "${path}" does not exist; ${RUN_MIGRATE} first`)
  const db = openDatabase(path)
  let store: Store
  try {
    const state = migrationState(db, path)
    if (!state.migrated) throw new CliError(`database "${path}" is not migrated; ${RUN_MIGRATE}`)
    if (state.pending > 0) throw new CliError(`database "${path}" has ${state.pending} pending migration(s); ${RUN_MIGRATE}`)
    store = openStore(db)
  } catch (err) {
    db.close()
    throw err
  }
  return {
    store,
    path,
    async close () {
      await store.close()
      db.close()
    },
  }
}
