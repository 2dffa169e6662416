import { ImproperlyConfiguredError } from '../errors.js'

// Reading `DATABASE_URL`-style values needs no driver: the plugin and the CLI decide here which
// one to load, so that a SQLite user never loads (or installs) the PostgreSQL driver.

/** Whether `url` names a PostgreSQL database (`postgres://` or `postgresql://`). */
export function isPostgresUrl (url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url)
}

/** `url` without its password, for messages and logs. */
export function redactPostgresUrl (url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password !== '') parsed.password = '***'
    return parsed.toString()
  } catch {
    return 'postgres://(unparsable URL)'
  }
}

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
