import { fileURLToPath } from 'node:url'
import { lt } from 'drizzle-orm'
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres'
import { migrate } from 'drizzle-orm/node-postgres/migrator'
import { readMigrationFiles } from 'drizzle-orm/migrator'
import pg from 'pg'
import { ImproperlyConfiguredError } from '../../errors.js'
import { isPostgresUrl } from '../database-url.js'
import type { ExpiredProbe, ExpiredRowCounts } from '../inspection.js'
import type { MigrationState } from '../sqlite/open.js'
import * as schema from './schema.js'

/** The drizzle handle of a toolkit PostgreSQL database, over the store's pool (`$client`, for the statements drizzle does not build: bulk-insert.ts). */
export type PgDb = NodePgDatabase<typeof schema> & { $client: pg.Pool }

/** Where the committed drizzle-kit migrations live (copied next to this module by the build). */
export const PG_MIGRATIONS_FOLDER = fileURLToPath(new URL('./migrations', import.meta.url))

/** drizzle's bookkeeping table, in its own schema (the defaults of its PostgreSQL migrator). */
const MIGRATIONS_SCHEMA = 'drizzle'
const MIGRATIONS_TABLE = '__drizzle_migrations'

/**
 * The session-level advisory lock `migratePg` holds, so that instances starting at once apply
 * the migrations one after the other instead of racing on `CREATE TABLE`: an arbitrary, fixed
 * 64-bit key ("oatmigr" in ASCII, 0x6f61746d696772), written in decimal for SQL.
 */
const MIGRATION_LOCK_KEY = '31350875094607730'

// Driver-free, in database-url.ts (the plugin and the CLI read URLs before loading `pg`).
export { isPostgresUrl, redactPostgresUrl } from '../database-url.js'

/** A pool on `connectionString`; idle-connection errors are absorbed, not fatal. */
export function createPgPool (connectionString: string, config: Omit<pg.PoolConfig, 'connectionString'> = {}): pg.Pool {
  if (!isPostgresUrl(connectionString)) {
    throw new ImproperlyConfiguredError('OAT_ERR_DATABASE', 'fastify-oauth-toolkit: a PostgreSQL connection string starts with postgres:// or postgresql://')
  }
  const pool = new pg.Pool({ ...config, connectionString })
  // An idle client that loses its server (a restart, a failover) makes the pool emit 'error';
  // without a listener that would crash the process. The pool drops that client and the next
  // query connects afresh, so there is nothing more to do here.
  pool.on('error', () => {})
  return pool
}

/**
 * Applies every pending migration (idempotent). Holds a PostgreSQL advisory lock on one
 * connection meanwhile, so two instances deploying at once cannot both apply the same migration:
 * the second waits, then finds nothing left to do.
 */
export async function migratePg (pool: pg.Pool): Promise<void> {
  const client = await pool.connect()
  try {
    await client.query(`SELECT pg_advisory_lock(${MIGRATION_LOCK_KEY})`)
    try {
      // drizzle over this one client, so its transaction runs where the lock is held.
      await migrate(drizzle({ client }), { migrationsFolder: PG_MIGRATIONS_FOLDER })
    } finally {
      await client.query(`SELECT pg_advisory_unlock(${MIGRATION_LOCK_KEY})`)
    }
  } finally {
    client.release()
  }
}

/** Reads the migration state as drizzle's migrator decides it: shipped migrations newer than the last applied one are pending. */
export async function pgMigrationState (pool: pg.Pool): Promise<MigrationState> {
  const shipped = readMigrationFiles({ migrationsFolder: PG_MIGRATIONS_FOLDER })
  const table = await pool.query<{ present: boolean }>('SELECT to_regclass($1) IS NOT NULL AS present', [`"${MIGRATIONS_SCHEMA}"."${MIGRATIONS_TABLE}"`])
  if (table.rows[0]?.present !== true) return { migrated: false, pending: shipped.length }
  const row = await pool.query<{ last: string | null }>(`SELECT max(created_at)::text AS last FROM "${MIGRATIONS_SCHEMA}"."${MIGRATIONS_TABLE}"`)
  const raw = row.rows[0]?.last ?? null
  const last = raw === null ? -Infinity : Number(raw)
  return { migrated: true, pending: shipped.filter((m) => m.folderMillis > last).length }
}

/** Rows that expired before `probe.before`, up to `probe.limit` per table (the deployment checks; `cleartokens` deletes them). */
export async function pgExpiredRows (pool: pg.Pool, probe: ExpiredProbe): Promise<ExpiredRowCounts> {
  const d = drizzle({ client: pool, schema })
  const { accessTokens, grants, deviceGrants } = schema
  const [a, g, dg] = await Promise.all([
    d.select({ id: accessTokens.id }).from(accessTokens).where(lt(accessTokens.expiresAt, probe.before)).limit(probe.limit),
    d.select({ id: grants.id }).from(grants).where(lt(grants.expiresAt, probe.before)).limit(probe.limit),
    d.select({ id: deviceGrants.id }).from(deviceGrants).where(lt(deviceGrants.expiresAt, probe.before)).limit(probe.limit),
  ])
  return { accessTokens: a.length, grants: g.length, deviceGrants: dg.length }
}
