// The CLI on PostgreSQL: migrate, createapplication and cleartokens with a postgres:// URL, on a
// database created for this file (skipped without a server unless OAT_REQUIRE_POSTGRES=1).
import t from 'tap'
import { postgresTestDatabase } from '../helpers/postgres.js'
import { appliedAll, bin, clockAt, cli, remainingTokens, seedTokens, withStore } from './helpers.js'

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
    t.same(JSON.parse(r.stdout), { access_tokens: 2, refresh_tokens: 0, grants: 1, id_tokens: 0, device_grants: 0 })
    t.same(await remainingTokens(url), { access: ['a3'], refresh: ['r2', 'r3', 'r4'], grants: ['g2'] })
  })
}
