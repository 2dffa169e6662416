import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { openSqlite } from '../../lib/store/sqlite/open.js'
import { appliedAll, cli, migratedDatabase, SHIPPED_MIGRATIONS, withStore } from './helpers.js'

/** How many migrations the SQLite journal ships. */

t.test('migrate creates the file and the tables, then has nothing to do', async (t) => {
  const path = join(t.testdir(), 'new.db')
  t.same(await cli(['migrate', '--database', path]), { code: 0, stdout: appliedAll(path), stderr: '' })
  t.ok(existsSync(path))
  const db = openSqlite(path)
  const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'oauth2_%' ORDER BY name").all() as Array<{ name: string }>).map((r) => r.name)
  db.close()
  t.same(tables, ['oauth2_accesstoken', 'oauth2_application', 'oauth2_client_registration', 'oauth2_devicegrant', 'oauth2_grant', 'oauth2_idtoken', 'oauth2_logout_delivery', 'oauth2_pushed_authorization_request', 'oauth2_refreshtoken', 'oauth2_session', 'oauth2_session_client', 'oauth2_used_jti'])
  t.same(await cli(['migrate', '--database', path]), { code: 0, stdout: `No migrations to apply: ${path} is up to date.\n`, stderr: '' })
})

t.test('DATABASE_URL names the database when --database is absent', async (t) => {
  const path = join(t.testdir(), 'env.db')
  const r = await cli(['migrate'], { env: { DATABASE_URL: `sqlite://${path}` } })
  t.equal(r.code, 0)
  t.ok(existsSync(path))
})

t.test('--database wins over DATABASE_URL', async (t) => {
  const dir = t.testdir()
  const r = await cli(['migrate', '--database', `file:${join(dir, 'option.db')}`], { env: { DATABASE_URL: join(dir, 'env.db') } })
  t.equal(r.code, 0)
  t.ok(existsSync(join(dir, 'option.db')))
  t.notOk(existsSync(join(dir, 'env.db')))
})

t.test('an unreachable PostgreSQL server is reported with the reason and without the password, exit 1', async (t) => {
  for (const command of ['migrate', 'cleartokens']) {
    t.same(await cli([command], { env: { DATABASE_URL: 'postgres://oat:s3cret@127.0.0.1:1/db' } }), {
      code: 1,
      stdout: '',
      stderr: `fastify-oauth-toolkit ${command}: cannot read database "postgres://oat:***@127.0.0.1:1/db": connect ECONNREFUSED 127.0.0.1:1\n`,
    })
  }
})

t.test('migrate into a directory that does not exist fails with the reason, exit 1', async (t) => {
  const path = join(t.testdir(), 'missing', 'x.db')
  const r = await cli(['migrate', '--database', path])
  t.equal(r.code, 1)
  t.equal(r.stdout, '')
  t.match(r.stderr, new RegExp(`^fastify-oauth-toolkit migrate: cannot open SQLite database "${path}": .+\\n$`))
})

t.test('other commands refuse a database file that does not exist, and do not create it', async (t) => {
  const path = join(t.testdir(), 'typo.db')
  for (const argv of [['cleartokens'], ['createapplication', 'confidential', 'client-credentials']]) {
    t.same(await cli([...argv, '--database', path]), {
      code: 1,
      stdout: '',
      stderr: `fastify-oauth-toolkit ${argv[0]}: database "${path}" does not exist; run \`fastify-oauth-toolkit migrate\` first\n`,
    })
  }
  t.notOk(existsSync(path))
})

t.test('other commands refuse an unmigrated database instead of migrating it', async (t) => {
  const path = join(t.testdir(), 'empty.db')
  openSqlite(path).close()
  t.same(await cli(['createapplication', 'confidential', 'client-credentials', '--database', path]), {
    code: 1,
    stdout: '',
    stderr: `fastify-oauth-toolkit createapplication: database "${path}" is not migrated; run \`fastify-oauth-toolkit migrate\`\n`,
  })
  const db = openSqlite(path)
  t.same(db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get(), { n: 0 }, 'still empty')
  db.close()
})

t.test('other commands refuse a database with pending migrations; migrate applies them', async (t) => {
  const path = await migratedDatabase(t.testdir())
  const db = openSqlite(path)
  // As if the database had been migrated by an older version of the toolkit.
  db.prepare('UPDATE "__drizzle_migrations" SET created_at = 0').run()
  db.prepare('DROP TABLE oauth2_idtoken').run()
  db.close()
  t.same(await cli(['cleartokens', '--database', path]), {
    code: 1,
    stdout: '',
    stderr: `fastify-oauth-toolkit cleartokens: database "${path}" has ${SHIPPED_MIGRATIONS} pending migration(s); run \`fastify-oauth-toolkit migrate\`\n`,
  })
})

t.test('a file that is not a database is reported, not thrown', async (t) => {
  const path = join(t.testdir(), 'notes.txt')
  writeFileSync(path, 'these are not the tables you are looking for\n'.repeat(100))
  const r = await cli(['cleartokens', '--database', path])
  t.equal(r.code, 1)
  t.match(r.stderr, new RegExp(`^fastify-oauth-toolkit cleartokens: cannot open SQLite database "${path}": the file is not a SQLite database\\n$`))
})

t.test('settings file problems are runtime errors with the reason, exit 1', async (t) => {
  const dir = t.testdir()
  const path = await migratedDatabase(dir)
  writeFileSync(join(dir, 'broken.json'), '{ "refreshTokenExpireSeconds": ')
  writeFileSync(join(dir, 'unknown.json'), '{ "refreshTokenExpireSecs": 60 }')
  writeFileSync(join(dir, 'invalid.json'), '{ "clearExpiredTokensBatchSize": 0 }')
  const cases: Array<[string, RegExp]> = [
    ['absent.json', /^fastify-oauth-toolkit cleartokens: cannot read settings file ".*absent\.json": ENOENT.*\n$/],
    ['broken.json', /^fastify-oauth-toolkit cleartokens: settings file ".*broken\.json" is not valid JSON: .+\n$/],
    ['unknown.json', /^fastify-oauth-toolkit cleartokens: invalid settings: unknown setting "refreshTokenExpireSecs"\n$/],
    ['invalid.json', /^fastify-oauth-toolkit cleartokens: invalid settings: clearExpiredTokensBatchSize must be a positive integer; got 0 \(a number\)\n$/],
  ]
  for (const [file, stderr] of cases) {
    const r = await cli(['cleartokens', '--database', path, '--settings', join(dir, file)])
    t.equal(r.code, 1, file)
    t.equal(r.stdout, '', file)
    t.match(r.stderr, stderr, file)
  }
  t.equal(await withStore(path, async (store) => (await store.listApplications()).length), 0)
})
