import type Database from 'better-sqlite3'
import { ImproperlyConfiguredError } from '../errors.js'
import { createSqliteStore } from './sqlite/store.js'
import type { Store } from './types.js'

/**
 * Turns a `DATABASE_URL`-style value into a SQLite path: `sqlite:path`, `sqlite://path`,
 * `file:path` or a plain path; `null` for URLs of other databases.
 */
export function sqlitePathFromUrl (url: string): string | null {
  if (/^postgres(ql)?:\/\//i.test(url)) return null
  const m = /^(?:sqlite|file):(?:\/\/)?(.*)$/i.exec(url)
  return m === null ? url : (m[1] ?? '')
}

/** Opens the store a database option or URL names. */
export function openStore (database: string | Database.Database, options: { migrate?: boolean } = {}): Store {
  if (typeof database !== 'string') return createSqliteStore({ database, migrate: options.migrate })
  const path = sqlitePathFromUrl(database)
  if (path === null) {
    throw new ImproperlyConfiguredError('OAT_ERR_DATABASE', 'fastify-oauth-toolkit: PostgreSQL URLs are not supported yet; use a SQLite path')
  }
  return createSqliteStore({ database: path, migrate: options.migrate })
}
