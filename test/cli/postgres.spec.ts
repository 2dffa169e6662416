// The CLI on PostgreSQL: migrate, createapplication and cleartokens with a postgres:// URL, on a
// database created for this file (skipped without a server unless OAT_REQUIRE_POSTGRES=1).
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import pg from 'pg'
import t, { type Test } from 'tap'
import { checkDeployment } from '../../lib/check/deployment.js'
import { postgresTestDatabase } from '../helpers/postgres.js'
import { appliedAll, bin, clockAt, cli, expiredCodes, remainingTokens, seedTokens, withStore } from './helpers.js'

const NOW = '2026-06-01T12:00:00.000Z'

const url = await postgresTestDatabase(t)
if (url !== null) {
  const shown = url.replace(/\/$/, '')

  t.test('createapplication refuses the database until migrate has run', async (t) => {
    t.same(await cli(['createapplication', 'confidential', 'client-credentials', '--database', url]), {
      code: 1,
      stdout: '',
      stderr: `fastify-oauth-toolkit createapplication: database "${shown}" is not migrated; run \`fastify-oauth-toolkit migrate\`\n`,
    })
  })

  /** What `check --json` reports on this database with careful settings: [id, message] pairs and the exit code. */
  const check = async (t: Test): Promise<{ code: number, problems: Array<[string, string]> }> => {
    const settingsFile = join(t.testdir(), 'settings.json')
    writeFileSync(settingsFile, JSON.stringify({ issuer: 'https://auth.example.com/o', refreshTokenExpireSeconds: 86400, authorizationResponseIss: true }))
    const r = await cli(['check', '--json', '--database', url, '--settings', settingsFile], { clock: clockAt(NOW) })
    return { code: r.code, problems: (JSON.parse(r.stdout) as { problems: Array<{ id: string, message: string }> }).problems.map((p) => [p.id, p.message]) }
  }

  t.test('check: a database never migrated is oauth.E003', async (t) => {
    t.same(await check(t), { code: 1, problems: [['oauth.E003', `The database "${shown}" has none of the toolkit's tables (it was never migrated).`]] })
  })

  t.test('migrate applies the migrations once, through DATABASE_URL, in the real executable', async (t) => {
    t.same(await bin(['migrate'], { DATABASE_URL: url }), { code: 0, stdout: appliedAll(shown), stderr: '' })
    t.same(await cli(['migrate', '--database', url]), { code: 0, stdout: `No migrations to apply: ${shown} is up to date.\n`, stderr: '' })
  })

  t.test('createapplication writes to PostgreSQL and prints the secret once', async (t) => {
    const r = await cli(['createapplication', 'confidential', 'client-credentials', '--name', 'On PG', '--json', '--database', url])
    t.equal(r.code, 0, r.stderr)
    const created = JSON.parse(r.stdout) as { client_id: string, client_secret: string, name: string }
    t.equal(created.name, 'On PG')
    const stored = await withStore(url, async (store) => await store.findApplicationByClientId(created.client_id))
    t.equal(stored?.name, 'On PG')
    t.notMatch(stored?.clientSecretHash ?? '', created.client_secret, 'only the hash is stored')
  })

  t.test('cleartokens applies DOT\'s rules on PostgreSQL', async (t) => {
    await seedTokens(url, new Date(NOW))
    const r = await cli(['cleartokens', '--json', '--database', url], { clock: clockAt(NOW) })
    t.equal(r.code, 0, r.stderr)
    t.same(JSON.parse(r.stdout), { access_tokens: 2, refresh_tokens: 0, grants: 1, id_tokens: 0, device_grants: 0, used_jtis: 0, sessions: 0 })
    t.same(await remainingTokens(url), { access: ['a3'], refresh: ['r2', 'r3', 'r4'], grants: ['g2'] })
  })
}

if (url !== null) {
  const shown = url.replace(/\/$/, '')

  t.test('check on PostgreSQL: a pending migration is oauth.E003, by drizzle\'s own bookkeeping', async (t) => {
    const pool = new pg.Pool({ connectionString: url, max: 1 })
    t.teardown(async () => { await pool.end() })
    const clean = { settings: { issuer: 'https://auth.example.com/o', refreshTokenExpireSeconds: 86400, authorizationResponseIss: true }, secret: 'a'.repeat(32), clock: clockAt(NOW) }
    t.same(await checkDeployment({ ...clean, database: pool }), { problems: [], silenced: [], errors: 0, warnings: 0 }, 'up to date, through a given pool')
    const removed = await pool.query('DELETE FROM drizzle.__drizzle_migrations WHERE id = (SELECT max(id) FROM drizzle.__drizzle_migrations) RETURNING hash, created_at')
    const result = await checkDeployment({ ...clean, database: url })
    t.same(result.problems.map((p) => [p.id, p.level, p.message]), [['oauth.E003', 'error', `The database "${shown}" lacks 1 migration(s) of this version; the server refuses to start on it.`]])
    const row = removed.rows[0] as { hash: string, created_at: string }
    await pool.query('INSERT INTO drizzle.__drizzle_migrations (hash, created_at) VALUES ($1, $2)', [row.hash, row.created_at])
    t.same((await checkDeployment({ ...clean, database: pool })).problems, [], 'cleared once the migration is recorded again')
  })

  t.test('check on PostgreSQL: 100 rows expired for over a day are oauth.W013, until cleartokens runs', async (t) => {
    await withStore(url, async (store) => { await expiredCodes(store, NOW, 100, 25, 'stale') })
    const settingsFile = join(t.testdir(), 'settings.json')
    writeFileSync(settingsFile, JSON.stringify({ issuer: 'https://auth.example.com/o', refreshTokenExpireSeconds: 86400, authorizationResponseIss: true }))
    const args = ['check', '--json', '--database', url, '--settings', settingsFile]
    const before = await cli(args, { clock: clockAt(NOW) })
    t.equal(before.code, 0, 'a warning does not fail the check')
    t.same((JSON.parse(before.stdout) as { problems: Array<{ id: string }> }).problems.map((p) => p.id), ['oauth.W013'])
    t.equal((await cli([...args, '--fail-level', 'warning'], { clock: clockAt(NOW) })).code, 1)
    t.equal((await cli(['cleartokens', '--database', url], { clock: clockAt(NOW) })).code, 0)
    t.same(await cli(args, { clock: clockAt(NOW) }), { code: 0, stdout: '{"problems":[],"silenced":[],"errors":0,"warnings":0}\n', stderr: '' })
  })
}
