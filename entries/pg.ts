// `fastify-oauth-toolkit/pg`: the PostgreSQL store, for a host that builds the store itself
// (to share a pool, or to migrate at a moment of its choosing). Importing it loads `pg`, an
// optional peer dependency of the toolkit: install it (and @types/pg for TypeScript). The
// plugin's `database: 'postgres://…'` needs none of this module.
import type pg from 'pg'
import { migratePg as migrate } from '../lib/store/pg/open.js'

export { createPgStore, type PgStoreOptions } from '../lib/store/pg/store.js'

/**
 * Applies every pending migration to the toolkit's tables (idempotent), under an advisory lock
 * so that instances deploying at once cannot apply one twice. The CLI's `migrate` does the same.
 * @example
 * await migratePg(pool)
 */
export async function migratePg (pool: pg.Pool): Promise<void> {
  await migrate(pool)
}
