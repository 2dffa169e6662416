import { existsSync } from 'node:fs'
import { ImproperlyConfiguredError } from '../errors.js'
import { isPostgresUrl, redactPostgresUrl, sqlitePathFromUrl } from '../store/database-url.js'
import { loadPg, loadSqlite } from '../store/drivers.js'
import type { createPgPool } from '../store/pg/open.js'
import type { openSqlite, MigrationState } from '../store/sqlite/open.js'
import type { Store } from '../store/types.js'
import { CliError, CliUsageError } from './args.js'
import { PROGRAM } from './command.js'

// The CLI inspects the raw SQLite handle or PostgreSQL pool (migration bookkeeping) without
// importing a driver itself: only lib/store/ may (STYLE §1). The drivers load when a command
// opens a database of their kind, so `pg` is needed only for a postgres:// URL.
type RawDatabase = ReturnType<typeof openSqlite>
type PgPool = ReturnType<typeof createPgPool>

const RUN_MIGRATE = `run \`${PROGRAM} migrate\``

/** The database named by `--database`, else by `DATABASE_URL`; a usage error when neither is set. */
export function resolveDatabaseUrl (option: string | undefined, env: Readonly<Record<string, string | undefined>>, command: string): string {
  const url = option ?? env.DATABASE_URL
  if (url === undefined || url === '') {
    throw new CliUsageError(option === '' ? 'option \'--database\' must not be empty' : 'no database: pass --database <path|url> or set DATABASE_URL', command)
  }
  return url
}

/** The SQLite path of a (non-PostgreSQL) database URL. */
export function sqlitePathOf (url: string): string {
  const path = sqlitePathFromUrl(url)
  if (path === null || path === '') throw new CliError(`the database URL "${url}" names no SQLite path`)
  return path
}

type Sqlite = Awaited<ReturnType<typeof loadSqlite>>

/** Opens the SQLite file; a file that is not a database fails here, on the first pragma. */
function openDatabase (sqlite: Sqlite, path: string): RawDatabase {
  try {
    return sqlite.openSqlite(path)
  } catch (err) {
    if (err instanceof ImproperlyConfiguredError) throw err
    throw new CliError(`cannot read database "${path}": ${(err as Error).message}`)
  }
}

/** The store's migration state; an unreadable database is a CLI error, not a stack trace. */
function migrationState (sqlite: Sqlite, db: RawDatabase, path: string): MigrationState {
  try {
    return sqlite.migrationState(db)
  } catch (err) {
    throw new CliError(`cannot read database "${path}": ${(err as Error).message}`)
  }
}

type Pg = Awaited<ReturnType<typeof loadPg>>

/** A pool for one CLI command; the password never appears in messages. */
async function openPool (url: string): Promise<{ pg: Pg, pool: PgPool, name: string }> {
  const pg = await loadPg()
  return { pg, pool: pg.createPgPool(url, { max: 2, connectionTimeoutMillis: 10_000 }), name: redactPostgresUrl(url) }
}

/** The pool's migration state; an unreachable server or a failed query is a CLI error with the reason. */
async function pgState (pg: Pg, pool: PgPool, name: string): Promise<MigrationState> {
  try {
    return await pg.pgMigrationState(pool)
  } catch (err) {
    throw new CliError(`cannot read database "${name}": ${(err as Error).message}`)
  }
}

/**
 * Creates the SQLite file if needed, or uses the PostgreSQL database the URL names (which must
 * exist), and applies pending migrations; returns how many were applied. On PostgreSQL an
 * advisory lock makes concurrent runs (two instances deploying at once) safe.
 */
export async function migrateDatabase (url: string): Promise<{ path: string, applied: number }> {
  if (isPostgresUrl(url)) {
    const { pg, pool, name } = await openPool(url)
    try {
      const before = await pgState(pg, pool, name)
      try {
        await pg.migratePg(pool)
      } catch (err) {
        throw new CliError(`cannot migrate database "${name}": ${(err as Error).message}`)
      }
      return { path: name, applied: before.pending }
    } finally {
      await pool.end()
    }
  }
  const path = sqlitePathOf(url)
  const sqlite = await loadSqlite()
  const db = openDatabase(sqlite, path)
  try {
    const before = migrationState(sqlite, db, path)
    sqlite.migrateSqlite(db)
    return { path, applied: before.pending }
  } finally {
    db.close()
  }
}

/** An open store over a migrated database. */
export interface OpenedStore {
  readonly store: Store
  /** The SQLite path, or the PostgreSQL URL without its password, for messages. */
  readonly path: string
  close (): Promise<void>
}

/** Refuses a database `migrate` has not brought up to date, naming the remedy. */
function requireMigrated (state: MigrationState, name: string): void {
  if (!state.migrated) throw new CliError(`database "${name}" is not migrated; ${RUN_MIGRATE}`)
  if (state.pending > 0) throw new CliError(`database "${name}" has ${state.pending} pending migration(s); ${RUN_MIGRATE}`)
}

/** `openMigratedStore` on PostgreSQL: the store owns the pool, so closing it ends the pool. */
async function openMigratedPgStore (url: string): Promise<OpenedStore> {
  const { pg, pool, name } = await openPool(url)
  let store: Store
  try {
    requireMigrated(await pgState(pg, pool, name), name)
    store = await pg.createPgStore({ pool })
  } catch (err) {
    await pool.end()
    throw err
  }
  return {
    store,
    path: name,
    async close () {
      await store.close()
      await pool.end()
    },
  }
}

/**
 * Opens a database that `migrate` has brought up to date. A missing file, an unmigrated
 * database or pending migrations fail with a message telling the user to run `migrate`; the
 * CLI never migrates silently (DOT parity: `migrate` is a step of its own).
 */
export async function openMigratedStore (url: string): Promise<OpenedStore> {
  if (isPostgresUrl(url)) return await openMigratedPgStore(url)
  const path = sqlitePathOf(url)
  // better-sqlite3 would create a missing file; a typo in the path must not look like an empty database.
  if (path !== ':memory:' && !existsSync(path)) throw new CliError(`database "${path}" does not exist; ${RUN_MIGRATE} first`)
  const sqlite = await loadSqlite()
  const db = openDatabase(sqlite, path)
  let store: Store
  try {
    requireMigrated(migrationState(sqlite, db, path), path)
    store = sqlite.createSqliteStore({ database: db })
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
