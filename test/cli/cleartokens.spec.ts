import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { clockAt, cli, migratedDatabase, remainingTokens, seedTokens, withStore } from './helpers.js'

const NOW = '2026-06-01T12:00:00.000Z'
const clock = clockAt(NOW)

const WARNING_REUSE_ON = 'fastify-oauth-toolkit cleartokens: warning: refreshTokenExpireSeconds is not set, so refresh tokens never expire and ' +
  'no refresh token is removed (revoked ones are kept for reuse detection until they expire). Set it in a --settings file to clear idle refresh tokens.\n'

/** A seeded database and, if given, a settings file next to it. */
async function setup (dir: string, settings?: Record<string, unknown>): Promise<{ path: string, args: string[] }> {
  const path = await migratedDatabase(dir)
  await seedTokens(path, new Date(NOW))
  const args = ['--database', path]
  if (settings !== undefined) {
    writeFileSync(join(dir, 'settings.json'), JSON.stringify(settings))
    args.push('--settings', join(dir, 'settings.json'))
  }
  return { path, args }
}

function summary (path: string, access: number, refresh: number, grants: number): string {
  return `Cleared expired tokens from ${path}:\n` +
    `  access tokens:        ${access}\n  refresh tokens:       ${refresh}\n  authorization codes:  ${grants}\n  ID tokens:            0\n  device codes:         0\n  single-use ids:       0\n  user sessions:        0\n`
}

t.test('with DOT defaults: expired access tokens and codes go, refresh tokens stay, and a warning on stderr', async (t) => {
  const { path, args } = await setup(t.testdir())
  t.same(await cli(['cleartokens', ...args], { clock }), { code: 0, stdout: summary(path, 2, 0, 1), stderr: WARNING_REUSE_ON })
  t.same(await remainingTokens(path), { access: ['a3'], refresh: ['r2', 'r3', 'r4'], grants: ['g2'] })
  t.same(await cli(['cleartokens', ...args], { clock }), { code: 0, stdout: summary(path, 0, 0, 0), stderr: WARNING_REUSE_ON }, 'a second run removes nothing')
})

t.test('refreshTokenExpireSeconds set: idle refresh tokens go too, without a warning', async (t) => {
  const { path, args } = await setup(t.testdir(), { refreshTokenExpireSeconds: 24 * 3600 })
  t.same(await cli(['cleartokens', ...args], { clock }), { code: 0, stdout: summary(path, 2, 1, 1), stderr: '' })
  // r4 was revoked two hours ago but is kept for reuse detection until it is a day old.
  t.same(await remainingTokens(path), { access: ['a3'], refresh: ['r3', 'r4'], grants: ['g2'] })
})

t.test('without reuse protection, revoked refresh tokens past the grace period go; the warning says so', async (t) => {
  const { path, args } = await setup(t.testdir(), { refreshTokenReuseProtection: false })
  t.same(await cli(['cleartokens', ...args], { clock }), {
    code: 0,
    stdout: summary(path, 2, 1, 1),
    stderr: 'fastify-oauth-toolkit cleartokens: warning: refreshTokenExpireSeconds is not set, so refresh tokens never expire and ' +
      'only refresh tokens revoked more than 0 s ago are removed. Set it in a --settings file to clear idle refresh tokens.\n',
  })
  t.same(await remainingTokens(path), { access: ['a3'], refresh: ['r2', 'r3'], grants: ['g2'] })
})

t.test('batches of clearExpiredTokensBatchSize remove everything expired', async (t) => {
  const { path, args } = await setup(t.testdir(), { clearExpiredTokensBatchSize: 1, refreshTokenExpireSeconds: 3600 })
  const r = await cli(['cleartokens', ...args], { clock })
  t.equal(r.stdout, summary(path, 2, 2, 1))
  t.same(await remainingTokens(path), { access: ['a3'], refresh: ['r3'], grants: ['g2'] })
})

t.test('--json prints the counts as one JSON object, the single-use ids the text lists included', async (t) => {
  const { path, args } = await setup(t.testdir(), { refreshTokenExpireSeconds: 24 * 3600 })
  // Anyone naming a public client can have the server record a DPoP proof's jti: a cron job
  // watching what cleartokens removes must see these rows go as well as the tokens.
  await withStore(path, async (store) => {
    const now = new Date(NOW)
    await store.useOnce('dpop', 'expired-proof', new Date(now.getTime() - 1000), new Date(now.getTime() - 60_000))
    await store.useOnce('dpop', 'live-proof', new Date(now.getTime() + 60_000), now)
  })
  t.same(await cli(['cleartokens', '--json', ...args], { clock }), {
    code: 0,
    stdout: '{"access_tokens":2,"refresh_tokens":1,"grants":1,"id_tokens":0,"device_grants":0,"used_jtis":1,"sessions":0}\n',
    stderr: '',
  })
})
