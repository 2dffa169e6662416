// The PostgreSQL fixture of the benchmark: a database of its own on the local server, created
// through the maintenance database, migrated and seeded by the library (clients, codes) and in
// bulk (access tokens), and dropped at the end of the run.
import { hash, randomBytes } from 'node:crypto'
import pg from 'pg'
import { createPgStore } from '../entries/pg.js'
import { tokenChecksum } from '../lib/tokens/checksum.js'
import { accessTokenValue, createCodes, registerClients, type BenchClients, type TokenSet } from './seed.js'

/** The maintenance database (OAT_BENCH_POSTGRES_URL, else the tests' OAT_TEST_POSTGRES_URL, else local trust auth). */
export const MAINTENANCE_URL = process.env.OAT_BENCH_POSTGRES_URL ?? process.env.OAT_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'

/** A seeded database of its own. */
export interface PgFixture {
  /** `postgres://…/oat_bench_<random>`. */
  readonly url: string
  readonly clients: BenchClients
  /** Drops the database (ending any connection left open). */
  drop (): Promise<void>
}

async function admin (statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: MAINTENANCE_URL, connectionTimeoutMillis: 3000 })
  client.on('error', () => {})
  await client.connect()
  try {
    await client.query(statement)
  } finally {
    await client.end()
  }
}

/** `null` when the server answers, else why not (the PostgreSQL scenarios are then left out). */
export async function postgresUnavailable (): Promise<string | null> {
  try {
    await admin('SELECT 1')
    return null
  } catch (err) {
    return `no PostgreSQL at ${new URL(MAINTENANCE_URL).host} (${(err as Error).message}); set OAT_BENCH_POSTGRES_URL`
  }
}

/**
 * Creates, migrates and seeds a database: the bench's clients, `codes` authorization codes and
 * the access-token `sets`. Seeding commits without waiting for the WAL flush
 * (`synchronous_commit = off` on the seeding connections only): fixture preparation, which the
 * servers measured later do not share.
 */
export async function createPgFixture (sets: readonly TokenSet[], codes: number): Promise<PgFixture> {
  const name = `oat_bench_${randomBytes(6).toString('hex')}`
  await admin(`CREATE DATABASE "${name}"`)
  const url = new URL(MAINTENANCE_URL)
  url.pathname = `/${name}`
  const drop = async (): Promise<void> => { await admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`) }
  const pool = new pg.Pool({ connectionString: url.toString(), max: 2, options: '-c synchronous_commit=off' })
  pool.on('error', () => {})
  try {
    const store = await createPgStore({ pool, migrate: true })
    const clients = await registerClients(store)
    await createCodes(store, clients.webapp, codes)
    await store.close()
    // node:crypto's one-shot hash, checked against the toolkit's checksum as in seed.ts.
    const checksum = (token: string): string => hash('sha256', token, 'hex')
    if (checksum('x') !== tokenChecksum('x')) throw new Error('the bench checksum no longer matches lib/tokens/checksum.ts')
    for (const s of sets) {
      const sums = Array.from({ length: s.count }, (_, i) => checksum(accessTokenValue(s.set, i)))
      await pool.query(`INSERT INTO oauth2_accesstoken (token_checksum, application_id, user_id, scope, expires, token_family, grant_id, id_token_id, resource, created, updated)
        SELECT sum, $2, NULL, 'read write', $3, NULL, NULL, NULL, '', now(), now() FROM unnest($1::text[]) AS sum`, [sums, clients.service.id, s.expiresAt])
    }
    await pool.query('VACUUM ANALYZE')
    return { url: url.toString(), clients, drop }
  } catch (err) {
    await pool.end()
    await drop()
    throw err
  } finally {
    if (!pool.ended) await pool.end()
  }
}
