// REDIR-4 on upgrade: migration 0010 adds `self_registered` and marks the applications that
// already exist. A database at 0009 (the release before) is filled with a registered client, an
// owned one (management pages, or the CLI's --user: indistinguishable) and an operator's one,
// then migrated by the production code, in both dialects.
import { cpSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { drizzle as drizzleSqlite } from 'drizzle-orm/better-sqlite3'
import { migrate as migrateSqliteTo } from 'drizzle-orm/better-sqlite3/migrator'
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres'
import { migrate as migratePgTo } from 'drizzle-orm/node-postgres/migrator'
import t from 'tap'
import { createPgPool, migratePg, PG_MIGRATIONS_FOLDER } from '../../lib/store/pg/open.js'
import { createPgStore } from '../../lib/store/pg/store.js'
import { migrateSqlite, SQLITE_MIGRATIONS_FOLDER } from '../../lib/store/sqlite/open.js'
import { createSqliteStore } from '../../lib/store/sqlite/store.js'
import type { Store } from '../../lib/store/types.js'
import { postgresTestDatabase } from '../helpers/postgres.js'

/** A copy of `folder` whose journal stops at `lastTag`: the migrations an older release shipped. */
function migrationsUpTo (folder: string, lastTag: string, into: string): string {
  cpSync(folder, into, { recursive: true })
  const journalPath = join(into, 'meta', '_journal.json')
  const journal = JSON.parse(readFileSync(journalPath, 'utf8')) as { entries: Array<{ tag: string }> }
  const end = journal.entries.findIndex((e) => e.tag === lastTag)
  if (end < 0) throw new Error(`no migration ${lastTag}`)
  journal.entries = journal.entries.slice(0, end + 1)
  writeFileSync(journalPath, JSON.stringify(journal))
  return into
}

const BEFORE = '0009_introspection'
const NOW = 1_790_000_000_000

// Three applications as an older release stored them, and a registration record for the first.
const ROWS = [
  ['registered', null],
  ['from-pages', 'user-1'],
  ['operator', null],
] as const

/** What the upgraded store says about each application. */
async function flags (store: Store): Promise<Record<string, boolean>> {
  const result: Record<string, boolean> = {}
  for (const [clientId] of ROWS) result[clientId] = (await store.findApplicationByClientId(clientId))?.selfRegistered ?? false
  return result
}

const EXPECTED = { registered: true, 'from-pages': true, operator: false }

t.test('REDIR-4 SQLite: upgrading marks registered and owned applications self-registered, not the others', async (t) => {
  const dir = t.testdir()
  const file = join(dir, 'old.db')
  const db = new Database(file)
  migrateSqliteTo(drizzleSqlite(db), { migrationsFolder: migrationsUpTo(SQLITE_MIGRATIONS_FOLDER, BEFORE, join(dir, 'migrations')) })
  const columns = (db.prepare('PRAGMA table_info(oauth2_application)').all() as Array<{ name: string }>).map((c) => c.name)
  t.notOk(columns.includes('self_registered'), 'an older release\'s schema')
  const insert = db.prepare(`INSERT INTO oauth2_application (client_id, client_type, authorization_grant_type, redirect_uris, user_id, created, updated)
    VALUES (?, 'public', 'authorization-code', 'https://evil.example/cb', ?, ?, ?)`)
  for (const [clientId, userId] of ROWS) insert.run(clientId, userId, NOW, NOW)
  db.prepare(`INSERT INTO oauth2_client_registration (application_id, access_token_checksum, created, updated)
    SELECT id, 'c', ?, ? FROM oauth2_application WHERE client_id = 'registered'`).run(NOW, NOW)

  migrateSqlite(db)
  db.close()
  const store = createSqliteStore({ database: file })
  t.teardown(async () => { await store.close() })
  t.same(await flags(store), EXPECTED)
})

t.test('REDIR-4 PostgreSQL: upgrading marks registered and owned applications self-registered, not the others', async (t) => {
  const url = await postgresTestDatabase(t)
  if (url === null) return
  const pool = createPgPool(url, { max: 2 })
  t.teardown(async () => { await pool.end() })
  const client = await pool.connect()
  try {
    await migratePgTo(drizzlePg({ client }), { migrationsFolder: migrationsUpTo(PG_MIGRATIONS_FOLDER, BEFORE, join(t.testdir(), 'migrations')) })
  } finally {
    client.release()
  }
  const columns = (await pool.query('SELECT column_name FROM information_schema.columns WHERE table_name = \'oauth2_application\'')).rows.map((r: { column_name: string }) => r.column_name)
  t.notOk(columns.includes('self_registered'), 'an older release\'s schema')
  const when = new Date(NOW)
  for (const [clientId, userId] of ROWS) {
    await pool.query(`INSERT INTO oauth2_application (client_id, client_type, authorization_grant_type, redirect_uris, user_id, created, updated)
      VALUES ($1, 'public', 'authorization-code', 'https://evil.example/cb', $2, $3, $3)`, [clientId, userId, when])
  }
  await pool.query(`INSERT INTO oauth2_client_registration (application_id, access_token_checksum, created, updated)
    SELECT id, 'c', $1, $1 FROM oauth2_application WHERE client_id = 'registered'`, [when])

  await migratePg(pool)
  const store = await createPgStore({ connectionString: url, poolConfig: { max: 1 } })
  t.teardown(async () => { await store.close() })
  t.same(await flags(store), EXPECTED)
})
