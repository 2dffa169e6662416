// `fastify-oauth-toolkit/sqlite`: the embedded SQLite store, for a host that builds the store
// itself (one better-sqlite3 connection for its own tables and the toolkit's, or tuning beyond
// the plugin's `sqlite` option). The plugin's `database: './oauth.sqlite3'` needs none of this module.
import type { SqliteDatabase } from '../lib/store/connection.js'
import { migrateSqlite as migrate } from '../lib/store/sqlite/open.js'

export { createSqliteStore, DEFAULT_CROSS_PROCESS_CHECK_MS, type SqliteStoreOptions } from '../lib/store/sqlite/store.js'
export type { SqliteOptions } from '../lib/store/open.js'
export type { SqliteDatabase } from '../lib/store/connection.js'

/**
 * Applies every pending migration to the toolkit's tables in an open better-sqlite3 database
 * (idempotent). The CLI's `migrate` does the same.
 * @example
 * migrateSqlite(new Database('oauth.sqlite3'))
 */
export function migrateSqlite (db: SqliteDatabase): void {
  // Declared by shape for the public types (lib/store/connection.ts); a real Database at run time.
  migrate(db as Parameters<typeof migrate>[0])
}
