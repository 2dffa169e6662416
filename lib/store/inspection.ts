import { existsSync } from 'node:fs'
import type { DatabaseOption, PgPool } from './connection.js'
import { isPostgresUrl, redactPostgresUrl, sqlitePathFromUrl } from './database-url.js'
import { loadPg, loadSqlite } from './drivers.js'

// What the deployment checks (lib/check/) learn from a database without changing it: the
// migration state by the migrators' own bookkeeping, and whether expired rows pile up. It never
// migrates and never creates a SQLite file.

/** Rows found expired before the probe's cut-off, each counted up to the probe's `limit`. */
export interface ExpiredRowCounts {
  readonly accessTokens: number
  readonly grants: number
  readonly deviceGrants: number
}

/** What `inspectDatabase` looks for: rows expired before `before`, counted up to `limit` per table (a bounded read). */
export interface ExpiredProbe {
  readonly before: Date
  readonly limit: number
}

/** What a database says about itself. */
export type DatabaseInspection =
  | { readonly kind: 'missing', readonly name: string }
  | { readonly kind: 'unreadable', readonly name: string, readonly reason: string }
  | {
    readonly kind: 'read'
    /** The SQLite path or the PostgreSQL URL without its password, for messages. */
    readonly name: string
    readonly dialect: 'sqlite' | 'postgres'
    /** drizzle's bookkeeping table exists. */
    readonly migrated: boolean
    /** Shipped migrations the database lacks. */
    readonly pending: number
    /** `null` when the database is not up to date (its tables are not this version's). */
    readonly expired: ExpiredRowCounts | null
  }

type Sqlite = Awaited<ReturnType<typeof loadSqlite>>
type Pg = Awaited<ReturnType<typeof loadPg>>
type RawSqlite = ReturnType<Sqlite['openSqlite']>
type Pool = ReturnType<Pg['createPgPool']>

function reasonOf (err: unknown): string {
  const message = err instanceof Error ? err.message : String(err)
  return message.replace(/^fastify-oauth-toolkit: /, '')
}

function isPool (database: DatabaseOption): database is PgPool {
  return typeof database === 'object' && typeof (database as Partial<PgPool>).connect === 'function' && typeof (database as Partial<PgPool>).totalCount === 'number'
}

/**
 * Reads the migration state of `database` (as the plugin's `database` option names it) and,
 * when it is up to date, counts the rows `probe` asks about. A given connection or pool is left
 * open; one opened here is closed.
 */
export async function inspectDatabase (database: DatabaseOption, probe: ExpiredProbe): Promise<DatabaseInspection> {
  if (typeof database === 'string' && isPostgresUrl(database)) {
    const name = redactPostgresUrl(database)
    let pg: Pg
    try {
      pg = await loadPg()
    } catch (err) {
      return { kind: 'unreadable', name, reason: reasonOf(err) }
    }
    const pool = pg.createPgPool(database, { max: 1, connectionTimeoutMillis: 10_000 })
    try {
      return await readPg(pg, pool, name, probe)
    } finally {
      await pool.end()
    }
  }
  // The shapes were told apart just now; the drivers' own types are what their modules take.
  if (isPool(database)) return await readPg(await loadPg(), database as unknown as Pool, 'PostgreSQL', probe)
  const sqlite = await loadSqlite()
  if (typeof database !== 'string') return readSqlite(sqlite, database as unknown as RawSqlite, database.name, probe)
  let path: string
  try {
    path = sqlitePathFromUrl(database) ?? ''
  } catch (err) {
    return { kind: 'unreadable', name: database, reason: reasonOf(err) }
  }
  if (path === '') return { kind: 'unreadable', name: database, reason: 'the URL names no SQLite path' }
  // better-sqlite3 would create a missing file: a mistyped path must not look like an empty database.
  if (path !== ':memory:' && !existsSync(path)) return { kind: 'missing', name: path }
  let db: RawSqlite
  try {
    db = sqlite.openSqlite(path)
  } catch (err) {
    return { kind: 'unreadable', name: path, reason: reasonOf(err) }
  }
  try {
    return readSqlite(sqlite, db, path, probe)
  } finally {
    db.close()
  }
}

function readSqlite (sqlite: Sqlite, db: RawSqlite, name: string, probe: ExpiredProbe): DatabaseInspection {
  try {
    const state = sqlite.migrationState(db)
    const current = state.migrated && state.pending === 0
    return { kind: 'read', name, dialect: 'sqlite', ...state, expired: current ? sqlite.sqliteExpiredRows(db, probe) : null }
  } catch (err) {
    return { kind: 'unreadable', name, reason: reasonOf(err) }
  }
}

async function readPg (pg: Pg, pool: Pool, name: string, probe: ExpiredProbe): Promise<DatabaseInspection> {
  try {
    const state = await pg.pgMigrationState(pool)
    const current = state.migrated && state.pending === 0
    return { kind: 'read', name, dialect: 'postgres', ...state, expired: current ? await pg.pgExpiredRows(pool, probe) : null }
  } catch (err) {
    return { kind: 'unreadable', name, reason: reasonOf(err) }
  }
}
