// PostgreSQL for the tests that need it: a uniquely named database per test file, created through
// the maintenance database and dropped in teardown. Without a reachable server the file is
// skipped with a one-line reason, unless OAT_REQUIRE_POSTGRES=1 (CI) makes that a failure.
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import type { Test } from 'tap'
import { skipWithReason } from './skip.js'
import { redactPostgresUrl } from '../../lib/store/pg/open.js'

/** The maintenance database the tests connect to first (OAT_TEST_POSTGRES_URL overrides it). */
export const MAINTENANCE_URL = process.env.OAT_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'

/** Runs `statement` on the maintenance database. */
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

/** `MAINTENANCE_URL` with another database name. */
export function databaseUrl (name: string): string {
  const url = new URL(MAINTENANCE_URL)
  url.pathname = `/${name}`
  return url.toString()
}

/** A fresh, empty database's name (`oat_test_<random>`), dropped when `t` ends. */
export async function createTestDatabase (t: Test): Promise<string> {
  const name = `oat_test_${randomBytes(6).toString('hex')}`
  await admin(`CREATE DATABASE "${name}"`)
  // FORCE ends connections a test left open (a pool not yet ended), so the drop never hangs.
  t.teardown(async () => { await admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`) })
  return name
}

/**
 * The URL of a fresh database for this test file, or `null` when no PostgreSQL server answers
 * (a skipped test says why; the caller leaves its PostgreSQL tests out). With OAT_REQUIRE_POSTGRES=1 an unreachable server
 * throws instead, so CI cannot pass by skipping.
 */
export async function postgresTestDatabase (t: Test): Promise<string | null> {
  try {
    await admin('SELECT 1')
  } catch (err) {
    const reason = `no PostgreSQL at ${redactPostgresUrl(MAINTENANCE_URL)} (${(err as Error).message}); set OAT_TEST_POSTGRES_URL to run these tests`
    if (process.env.OAT_REQUIRE_POSTGRES === '1') throw new Error(`OAT_REQUIRE_POSTGRES=1 but ${reason}`)
    skipWithReason(t, reason)
    return null
  }
  return databaseUrl(await createTestDatabase(t))
}

/**
 * The dialects a test runs on, each with a maker of a fresh database for one test: `sqlite`
 * (`null`: the test's own SQLite file, as `buildApp` makes it) and, when a server answers,
 * `postgresql` (a new database's URL, as `fromUrl` wraps it).
 */
export async function testDialects<D> (t: Test, fromUrl: (url: string) => D): Promise<Array<[string, (t: Test) => Promise<D | null>]>> {
  const list: Array<[string, (t: Test) => Promise<D | null>]> = [['sqlite', async () => null]]
  if (await postgresTestDatabase(t) !== null) {
    list.push(['postgresql', async (t) => {
      const url = await postgresTestDatabase(t)
      if (url === null) throw new Error('PostgreSQL went away')
      return fromUrl(url)
    }])
  }
  return list
}
