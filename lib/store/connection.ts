// What the toolkit accepts as an open database connection, declared by shape. The public types
// name these instead of better-sqlite3's and node-postgres's own, so that a consumer's type check
// needs neither @types/better-sqlite3 nor @types/pg (nor the drivers), and a SQLite-only project
// installs no PostgreSQL driver at all. A real `Database` and `pg.Pool` fit them as they are.

/** An open better-sqlite3 `Database` (the parts the toolkit's types name). */
export interface SqliteDatabase {
  /** The file path, `':memory:'` or `''` (a temporary database). */
  readonly name: string
  readonly open: boolean
  pragma (source: string, options?: { simple?: boolean }): unknown
  prepare (source: string): unknown
  exec (source: string): unknown
  close (): unknown
}

/** A node-postgres `pg.Pool` (the parts the toolkit's types name). */
export interface PgPool {
  readonly totalCount: number
  connect (): Promise<unknown>
  query (text: string, values?: unknown[]): Promise<unknown>
  end (): Promise<void>
}

/**
 * What the plugin's `database` option (and `openStore`) accepts: a SQLite path, `':memory:'`, a
 * `sqlite:`/`file:` URL or an open better-sqlite3 database; or PostgreSQL, as a `postgres://` URL
 * or a `pg.Pool` (PostgreSQL needs the `pg` package installed).
 */
export type DatabaseOption = string | SqliteDatabase | PgPool
