import { randomBytes } from 'node:crypto'
import { DrizzleQueryError, inArray, sql, type SQL } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/node-postgres'
import type pg from 'pg'
import { ImproperlyConfiguredError } from '../../errors.js'
import { encodeInvalidation, guardUnknownMethods, InvalidationHub, INVALIDATION_CHANNEL } from '../invalidation.js'
import { clearExpired, type ClearedTable } from '../shared/decisions.js'
import type { ClearExpiredRules, Store, StoreInvalidation } from '../types.js'
import { PgInvalidationListener } from './listener.js'
import { createPgPool, migratePg, pgMigrationState, redactPostgresUrl, type PgDb } from './open.js'
import { createPgGroupCommit, type PgTx } from './group-commit.js'
import { pgQueries } from './queries.js'
import { pgRegistrationMethods } from './registration.js'
import * as schema from './schema.js'

/** Options of `createPgStore`. Give exactly one of `pool` or `connectionString`. */
export interface PgStoreOptions {
  /** A pool the caller owns: `close()` leaves it open. */
  pool?: pg.Pool
  /** A `postgres://` URL: the store creates its own pool and ends it on `close()`. */
  connectionString?: string
  /** Further `pg.Pool` settings (for example `max`) when the store creates the pool. */
  poolConfig?: Omit<pg.PoolConfig, 'connectionString'>
  /** Apply pending migrations first, under an advisory lock (default false; the CLI's `migrate` does it explicitly). */
  migrate?: boolean
}

/**
 * The store on PostgreSQL through node-postgres and drizzle, for several instances sharing one
 * database. Transactions run at READ COMMITTED: a conditional `UPDATE … WHERE consumed_at IS
 * NULL` (or `revoked IS NULL`) waits for a concurrent writer's row lock and then re-checks its
 * condition on the committed row, so exactly one of any number of racing exchanges or rotations
 * changes the row, and the returned row count decides. The writers of one refresh token family
 * (rotation, replacement, family revocation) also take a transaction-level advisory lock on the
 * family, so a revocation can never miss a successor that a concurrent rotation is inserting.
 * @example
 * const store = await createPgStore({ connectionString: process.env.DATABASE_URL, migrate: true })
 * await app.register(fastifyOAuthToolkit, { store })
 */
export async function createPgStore (options: PgStoreOptions): Promise<Store> {
  if ((options.pool === undefined) === (options.connectionString === undefined)) {
    throw new ImproperlyConfiguredError('OAT_ERR_DATABASE', 'fastify-oauth-toolkit: give exactly one of `pool` or `connectionString`')
  }
  if (options.pool !== undefined && options.poolConfig !== undefined) {
    throw new ImproperlyConfiguredError('OAT_ERR_DATABASE', 'fastify-oauth-toolkit: `poolConfig` applies to a pool the store creates; configure a given `pool` yourself')
  }
  const ownsPool = options.pool === undefined
  const pool = options.pool ?? createPgPool(options.connectionString ?? '', options.poolConfig)
  const where = options.connectionString === undefined ? 'PostgreSQL' : `PostgreSQL at ${redactPostgresUrl(options.connectionString)}`
  try {
    let pending: number
    try {
      if (options.migrate === true) await migratePg(pool)
      pending = (await pgMigrationState(pool)).pending
    } catch (err) {
      throw new ImproperlyConfiguredError('OAT_ERR_DATABASE', `fastify-oauth-toolkit: cannot prepare ${where}: ${(err as Error).message}`)
    }
    // Fail at startup with a remedy, not on the first request with "relation does not exist".
    if (pending > 0) {
      throw new ImproperlyConfiguredError('OAT_ERR_DATABASE', `fastify-oauth-toolkit: the database lacks ${pending} migration(s); run \`fastify-oauth-toolkit migrate\` or pass \`migrate: true\``)
    }
  } catch (err) {
    if (ownsPool) await pool.end()
    throw err
  }
  return withDriverErrors(pgStore(drizzle({ client: pool, schema }), pool, async () => { if (ownsPool) await pool.end() }))
}

/** Synchronous methods, passed through `withDriverErrors` as they are. */
const SYNC_METHODS: ReadonlySet<string> = new Set<keyof Store>(['watchInvalidations', 'invalidationsReliable'])

/**
 * drizzle wraps every driver error in a `DrizzleQueryError` whose message is the SQL and its
 * parameters (checksums, hashes). Callers and logs get the driver's own error instead, which
 * names the violated constraint and nothing else, as the SQLite store's errors do.
 */
function withDriverErrors (store: Store): Store {
  const wrapped: Record<string, unknown> = {}
  for (const [name, method] of Object.entries(store) as Array<[string, (...args: unknown[]) => Promise<unknown>]>) {
    if (SYNC_METHODS.has(name)) {
      wrapped[name] = method
      continue
    }
    wrapped[name] = async (...args: unknown[]) => {
      try {
        return await method(...args)
      } catch (err) {
        throw err instanceof DrizzleQueryError && err.cause instanceof Error ? err.cause : err
      }
    }
  }
  return wrapped as unknown as Store
}

function pgStore (db: PgDb, pool: pg.Pool, endPool: () => Promise<void>): Store {
  let closed = false

  // Verification caches (Store TSDoc, invalidation rule): removals are reported to this
  // process's subscribers after the commit, and to every other process by NOTIFY inside the
  // removing transaction; the listener (started by the first subscriber) hears the others'.
  const hub = new InvalidationHub()
  const origin = randomBytes(6).toString('base64url')
  const listener = new PgInvalidationListener(pool, hub, origin)

  /** NOTIFY, delivered to the other processes' listeners when `t` commits. */
  async function notify (t: PgTx | PgDb, event: StoreInvalidation): Promise<void> {
    for (const payload of encodeInvalidation(event, origin)) await t.execute(sql`SELECT pg_notify(${INVALIDATION_CHANNEL}, ${payload})`)
  }

  /** A transaction whose removed access tokens (pushed to `removed`) are notified inside it and reported locally after it. */
  async function removingTx<T> (fn: (t: PgTx, removed: string[]) => Promise<T>): Promise<T> {
    const removed: string[] = []
    try {
      return await db.transaction(async (t) => {
        const result = await fn(t, removed)
        if (removed.length > 0) await notify(t, { kind: 'tokens', checksums: removed })
        return result
      })
    } finally {
      hub.tokens(removed)
    }
  }

  /** `clearExpired`'s deletions of one table, in batches of `rules.batchSize`, each its own statement. */
  async function deleteInBatches (table: typeof schema[ClearedTable], where: SQL | undefined, rules: ClearExpiredRules): Promise<number> {
    let total = 0
    for (;;) {
      // SKIP LOCKED: two `cleartokens` runs take disjoint batches, and a row a request is
      // writing right now waits for the next run instead of stalling this one.
      const batch = db.select({ id: table.id }).from(table).where(where).limit(rules.batchSize).for('update', { skipLocked: true })
      const started = performance.now()
      const deleted = (await db.delete(table).where(inArray(table.id, batch))).rowCount ?? 0
      if (deleted > 0) rules.onBatchDone?.({ rows: deleted, lockMs: performance.now() - started })
      total += deleted
      if (deleted < rules.batchSize) return total
      if (rules.betweenBatches !== undefined) await rules.betweenBatches()
    }
  }

  // Issuances go through group commit (group-commit.ts): those queued while earlier groups are
  // committing share one transaction, each in its own savepoint, and settle after its COMMIT.
  // The access tokens a group removes (rotations, replacements) are notified inside it and
  // reported locally once its outcome is known (even on rollback: an eviction is never wrong).
  const group = createPgGroupCommit(db, {
    beforeCommit: async (t, removed) => { if (removed.length > 0) await notify(t, { kind: 'tokens', checksums: [...removed] }) },
    onRemoved: (removed) => { hub.tokens(removed) },
  })

  const store: Store = {
    ...pgQueries({ db, hub, removingTx, group, notify }),
    ...pgRegistrationMethods(db),

    async clearExpired (rules) {
      return await clearExpired(schema, rules, {
        deleteInBatches: async (table, where) => await deleteInBatches(schema[table], where, rules),
        tokensExpired: async (before) => {
          const expired: StoreInvalidation = { kind: 'expired', before }
          hub.emit(expired)
          await notify(db, expired)
        },
      })
    },

    async close (): Promise<void> {
      if (closed) return
      closed = true
      await group.drain()
      await listener.stop(true)
      await endPool()
    },

    watchInvalidations (subscriber) {
      const unsubscribe = hub.subscribe(subscriber)
      if (!closed) listener.start()
      return () => {
        unsubscribe()
        // The last cache gone (a given store outlives the apps using it): stop listening.
        if (hub.size === 0) listener.stop().catch(() => {})
      }
    },

    invalidationsReliable: () => listener.listening,
  }
  return guardUnknownMethods(store, async () => {
    hub.emit({ kind: 'all' })
    await notify(db, { kind: 'all' })
  })
}
