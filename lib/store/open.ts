import type pg from 'pg'
import { ImproperlyConfiguredError } from '../errors.js'
import type { DatabaseOption, PgPool, SqliteDatabase } from './connection.js'
import { isPostgresUrl, sqlitePathFromUrl } from './database-url.js'
import { loadPg } from './drivers.js'
import { createSqliteStore, type SqliteStoreOptions } from './sqlite/store.js'
import type { Store } from './types.js'

/**
 * SQLite connection tuning, the plugin's `sqlite` option: memory-mapped reads, how long one look
 * at other processes' commits stands, and WAL checkpoints off the event loop (see
 * `SqliteStoreOptions` and docs/deployment.md). PostgreSQL ignores it.
 */
export type SqliteOptions = Pick<SqliteStoreOptions, 'mmapSize' | 'crossProcessCheckMs' | 'backgroundCheckpoint'>

/** Options of `openStore`. */
export interface OpenStoreOptions {
  /** Apply pending migrations first (default false). */
  readonly migrate?: boolean
  /** SQLite tuning; ignored for PostgreSQL, which has nothing to map and hears other instances through `LISTEN`. */
  readonly sqlite?: SqliteOptions
}

/** A node-postgres pool, told apart from a better-sqlite3 database by shape (no `instanceof`: the app may hold another copy of `pg`). */
function isPgPool (database: SqliteDatabase | PgPool): database is PgPool {
  const candidate = database as Partial<Record<'connect' | 'query' | 'totalCount', unknown>>
  return typeof candidate.connect === 'function' && typeof candidate.query === 'function' && typeof candidate.totalCount === 'number'
}

/**
 * Opens the store a database option names: a `postgres://` URL or a `pg.Pool` gives the
 * PostgreSQL store (which needs the `pg` package, loaded only then); a path, a `sqlite:`/`file:`
 * URL or a better-sqlite3 database the SQLite one. SQLite, the zero-set-up default, loads with
 * the toolkit: loaded here instead, its modules would lengthen the plugin's registration, which
 * Fastify times (10 s by default), on every start. A store opened from a URL or path closes its
 * connections on `close()`; a given pool or database stays open for its owner.
 * @example
 * const store = await openStore(process.env.DATABASE_URL ?? 'oauth.sqlite3', { migrate: true })
 */
export async function openStore (database: DatabaseOption, options: OpenStoreOptions = {}): Promise<Store> {
  const migrate = options.migrate === true
  const tuning = options.sqlite ?? {}
  if (typeof database === 'string') {
    if (isPostgresUrl(database)) return await (await loadPg()).createPgStore({ connectionString: database, migrate })
    const path = sqlitePathFromUrl(database) ?? ''
    return createSqliteStore({ ...tuning, database: path, migrate })
  }
  // The shapes were checked just now; the drivers' own types are what the stores take.
  if (isPgPool(database)) return await (await loadPg()).createPgStore({ pool: database as unknown as pg.Pool, migrate })
  if (typeof (database as { pragma?: unknown }).pragma !== 'function') {
    throw new ImproperlyConfiguredError('OAT_ERR_DATABASE', 'fastify-oauth-toolkit: `database` must be a path or URL, a better-sqlite3 Database, or a pg.Pool')
  }
  return createSqliteStore({ ...tuning, database, migrate })
}
