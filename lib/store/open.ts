import type Database from 'better-sqlite3'
import type pg from 'pg'
import { ImproperlyConfiguredError } from '../errors.js'
import { isPostgresUrl } from './pg/open.js'
import { createPgStore } from './pg/store.js'
import { createSqliteStore } from './sqlite/store.js'
import type { Store } from './types.js'

/** What `openStore` (and the plugin's `database` option) accepts. */
export type DatabaseOption = string | Database.Database | pg.Pool

/**
 * Turns a `DATABASE_URL`-style value into a SQLite path: `sqlite:path`, `sqlite://path`,
 * `file:path` or a plain path; `null` for PostgreSQL URLs. Any other scheme (`postgress://`,
 * `mysql://`) is a mistake, not a file name: it throws `ImproperlyConfiguredError` naming the
 * schemes understood, instead of creating a SQLite file called `postgress:/…`.
 */
export function sqlitePathFromUrl (url: string): string | null {
  if (isPostgresUrl(url)) return null
  const m = /^(?:sqlite|file):(?:\/\/)?(.*)$/i.exec(url)
  if (m !== null) return m[1] ?? ''
  // A URL scheme is two or more characters before a colon (RFC 3986 §3.1); one letter is a
  // Windows drive (`C:\data\oauth.db`), and `:memory:` is SQLite's in-memory database.
  const scheme = /^([a-z][a-z0-9+.-]+):/i.exec(url)?.[1]
  if (scheme !== undefined && url !== ':memory:') {
    throw new ImproperlyConfiguredError('OAT_ERR_DATABASE',
      `fastify-oauth-toolkit: unknown database URL scheme "${scheme}:"; use postgres:// or postgresql:// for PostgreSQL, and sqlite:, file: or a plain path for SQLite (write ./${scheme}:… for a file whose name has a colon)`)
  }
  return url
}

/** What a `DATABASE_URL`-style value names: a PostgreSQL URL, or a SQLite file path. */
export type ParsedDatabaseUrl = { readonly kind: 'postgres', readonly url: string } | { readonly kind: 'sqlite', readonly path: string }

/**
 * Reads a `DATABASE_URL`-style value the way the plugin and the CLI do, for a host that keeps
 * its own tables in the same database: `postgres://`/`postgresql://` URLs are PostgreSQL;
 * `sqlite:`, `file:`, a plain path and `':memory:'` are SQLite. Throws
 * `ImproperlyConfiguredError` for an empty value or any other scheme (`postgress://`, `mysql://`).
 * @example
 * const db = parseDatabaseUrl(process.env.DATABASE_URL ?? 'oauth.sqlite3')
 * const pool = db.kind === 'postgres' ? new pg.Pool({ connectionString: db.url }) : null
 */
export function parseDatabaseUrl (url: string): ParsedDatabaseUrl {
  const path = sqlitePathFromUrl(url)
  if (path === null) return { kind: 'postgres', url }
  if (path === '') throw new ImproperlyConfiguredError('OAT_ERR_DATABASE', `fastify-oauth-toolkit: the database URL "${url}" names no SQLite path`)
  return { kind: 'sqlite', path }
}

/** A node-postgres pool, told apart from a better-sqlite3 database by shape (no `instanceof`: the app may hold another copy of `pg`). */
function isPgPool (database: Database.Database | pg.Pool): database is pg.Pool {
  const candidate = database as Partial<Record<'connect' | 'query' | 'totalCount', unknown>>
  return typeof candidate.connect === 'function' && typeof candidate.query === 'function' && typeof candidate.totalCount === 'number'
}

/**
 * Opens the store a database option names: a `postgres://` URL or a `pg.Pool` gives the
 * PostgreSQL store; a path, a `sqlite:`/`file:` URL or a better-sqlite3 database the SQLite one.
 * A store opened from a URL or path closes its connections on `close()`; a given pool or
 * database stays open for its owner. `sqliteMmapSize`, `sqliteCrossProcessCheckMs` and
 * `sqliteBackgroundCheckpoint` apply to SQLite only (see `SqliteStoreOptions.mmapSize`,
 * `.crossProcessCheckMs` and `.backgroundCheckpoint`).
 */
export async function openStore (database: DatabaseOption, options: { migrate?: boolean, sqliteMmapSize?: number, sqliteCrossProcessCheckMs?: number, sqliteBackgroundCheckpoint?: boolean } = {}): Promise<Store> {
  const migrate = options.migrate === true
  // SQLite only: PostgreSQL has nothing to map, and hears other instances through LISTEN.
  const tuning = {
    ...(options.sqliteMmapSize === undefined ? {} : { mmapSize: options.sqliteMmapSize }),
    ...(options.sqliteCrossProcessCheckMs === undefined ? {} : { crossProcessCheckMs: options.sqliteCrossProcessCheckMs }),
    ...(options.sqliteBackgroundCheckpoint === undefined ? {} : { backgroundCheckpoint: options.sqliteBackgroundCheckpoint }),
  }
  if (typeof database === 'string') {
    if (isPostgresUrl(database)) return await createPgStore({ connectionString: database, migrate })
    return createSqliteStore({ database: sqlitePathFromUrl(database) ?? '', migrate, ...tuning })
  }
  if (isPgPool(database)) return await createPgStore({ pool: database, migrate })
  if (typeof (database as Partial<Database.Database>).pragma !== 'function') {
    throw new ImproperlyConfiguredError('OAT_ERR_DATABASE', 'fastify-oauth-toolkit: `database` must be a path or URL, a better-sqlite3 Database, or a pg.Pool')
  }
  return createSqliteStore({ database, migrate, ...tuning })
}
