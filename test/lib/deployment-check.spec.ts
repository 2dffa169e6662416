// checkDeployment, the host code's deployment checks: each check triggers on the setting, key,
// option or database state it names and clears without it, on real SQLite files (PostgreSQL:
// test/cli/postgres.spec.ts).
import { generateKeyPairSync } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import t from 'tap'
import { checkDeployment, type DeploymentCheckOptions } from '../../lib/check/deployment.js'
import { FAPI2_SETTINGS, type SettingsInput } from '../../lib/settings.js'
import { clockAt, expiredCodes, migratedDatabase, withStore } from '../cli/helpers.js'

const NOW = '2026-06-01T12:00:00.000Z'

/** Settings a careful deployment uses: no problem among them. */
const CLEAN: SettingsInput = { issuer: 'https://auth.example.com/o', refreshTokenExpireSeconds: 86400, authorizationResponseIss: true }
const SECRET = 'a'.repeat(40)

function rsaPem (bits: number): string {
  return generateKeyPairSync('rsa', { modulusLength: bits }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
}

/** The ids found (reported and silenced) with `options` over the clean ones. */
async function ids (options: DeploymentCheckOptions): Promise<string[]> {
  const result = await checkDeployment({ secret: SECRET, clock: clockAt(NOW), ...options, settings: { ...CLEAN, ...options.settings } })
  return result.problems.map((p) => p.id)
}

t.test('the default settings: an unset issuer is an error, with RFC 9700 and lifetime warnings', async (t) => {
  const result = await checkDeployment()
  t.same(result.problems.map((p) => [p.id, p.level]), [
    ['oauth.E002', 'error'], ['oauth.W007', 'warning'], ['oauth.W010', 'warning'], ['oauth.W014', 'warning'],
  ])
  t.same([result.errors, result.warnings, result.silenced], [1, 3, []])
  t.same(result.problems[0], {
    id: 'oauth.E002',
    level: 'error',
    message: 'The issuer setting is unset, so the issuer (discovery, ID token `iss`, device verification_uri) is taken from each request\'s Host header: anyone can change it, and instances behind a load balancer may disagree.',
    hint: 'Set the issuer setting to the public https URL of the routes, e.g. "https://auth.example.com/o" (RFC 8414 §2).',
  })
})

t.test('a careful configuration on a migrated database has no problem', async (t) => {
  const database = await migratedDatabase(t.testdir())
  t.same(await checkDeployment({ settings: CLEAN, secret: SECRET, database, trustProxy: '10.0.0.1' }), { problems: [], silenced: [], errors: 0, warnings: 0 })
})

t.test('each setting check triggers on its setting alone and clears with the careful value', async (t) => {
  const cases: Array<[SettingsInput, string[]]> = [
    [{ issuer: null }, ['oauth.E002']],
    [{ issuer: 'http://127.0.0.1:8000/o' }, ['oauth.W001']],
    [{ issuer: 'http://localhost/o' }, ['oauth.W001']],
    [{ passwordGrantEnabled: true }, ['oauth.W002']],
    [{ implicitGrantEnabled: true }, ['oauth.W003']],
    [{ pkcePlainAllowed: true }, ['oauth.W004']],
    [{ pkceRequired: false }, ['oauth.W005']],
    [{ allowQueryStringTokens: true }, ['oauth.W006']],
    [{ refreshTokenExpireSeconds: null }, ['oauth.W007']],
    [{ rotateRefreshToken: false }, ['oauth.W008']],
    [{ refreshTokenReuseProtection: false }, ['oauth.W008']],
    [{ refreshTokenExpireSeconds: 3600 }, ['oauth.W009']],
    [{ authorizationResponseIss: false }, ['oauth.W010']],
    [{ allowUnsignedRequestObjects: true }, ['oauth.W016']],
    [{ dcrEnabled: true, dcrRegistrationPolicy: 'open' }, ['oauth.W011']],
    [{ dcrEnabled: true, dcrRegistrationPolicy: 'open', dcrRegistrationRateLimit: null }, ['oauth.E007']],
    [{ dcrEnabled: true, dcrRegistrationPolicy: 'initial-access-token', dcrRegistrationRateLimit: null }, ['oauth.W012']],
    [{ dcrEnabled: true, dcrRegistrationPolicy: 'initial-access-token' }, []],
    [{ dcrEnabled: false, dcrRegistrationPolicy: 'open', dcrRegistrationRateLimit: null }, []],
    [{ rateLimitFailures: null }, ['oauth.W012']],
    [{ rateLimitIpFailures: null }, ['oauth.W012']],
    [{ accessTokenExpireSeconds: 0 }, ['oauth.E001']],
    [{ oidcEnabled: true, scopes: { openid: 'Sign in' }, defaultScopes: [] }, ['oauth.E005']],
  ]
  for (const [settings, expected] of cases) t.same(await ids({ settings }), expected, JSON.stringify(settings))
})

t.test('the messages name the values that make the problem', async (t) => {
  const result = await checkDeployment({ settings: { ...CLEAN, refreshTokenExpireSeconds: 3600, rateLimitFailures: null, accessTokenExpireSeconds: 7200 }, secret: SECRET })
  t.same(result.problems.map((p) => p.message), [
    'Refresh tokens die before the access tokens they renew: refreshTokenExpireSeconds (3600) is shorter than accessTokenExpireSeconds (7200).',
    'Rate limits are off: rateLimitFailures (failed client and password logins per source), so online guessing goes unchecked.',
  ])
  const invalid = await checkDeployment({ settings: { issuer: 'https://a.example/o?x=1' }, secret: SECRET })
  t.same(invalid.problems.map((p) => [p.id, p.message]), [['oauth.E001', 'Invalid settings: issuer must not have a query or fragment.']],
    'an invalid setting is reported, not thrown, and the other setting checks do not run on it')
})

t.test('the OpenID Connect signing key: loaded as the plugin loads it', async (t) => {
  const oidcOn: SettingsInput = { oidcEnabled: true, scopes: { openid: 'Sign in', read: 'Read' }, defaultScopes: ['read'] }
  t.same(await ids({ settings: oidcOn }), ['oauth.E005'], 'no key')
  t.same(await ids({ settings: oidcOn, oidc: { privateKey: rsaPem(2048) } }), [], 'a 2048-bit RSA key')
  const small = await checkDeployment({ settings: { ...CLEAN, ...oidcOn }, secret: SECRET, oidc: { privateKey: rsaPem(1024) } })
  t.same(small.problems.map((p) => [p.id, p.message]), [['oauth.E006', 'The OpenID Connect signing key is unusable: privateKey is a 1024-bit RSA key, but RS256 needs at least 2048 bits.']])
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
  t.same(await ids({ settings: oidcOn, oidc: { privateKey: rsaPem(2048), inactiveKeys: [ec] } }), [], 'a retired ES256 (P-256) key')
  const ed = generateKeyPairSync('ed448').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
  t.same(await ids({ settings: oidcOn, oidc: { privateKey: rsaPem(2048), inactiveKeys: [ed] } }), ['oauth.E006'], 'a retired key of no supported kind (Ed448)')
  t.same(await ids({ settings: oidcOn, oidc: { privateKey: 'not a key' } }), ['oauth.E006'])
  t.same(await ids({ oidc: { privateKey: 'not a key' } }), ['oauth.E006'], 'a key given with OIDC off is checked too: the plugin loads it')
})

t.test('the host options: the CSRF secret and trustProxy', async (t) => {
  t.same((await checkDeployment({ settings: CLEAN })).problems.map((p) => p.id), ['oauth.W014'], 'no secret')
  t.same(await ids({ trustProxy: true }), ['oauth.W015'])
  for (const trustProxy of [false, 1, '10.0.0.1', ['10.0.0.1', '10.0.0.2']]) t.same(await ids({ trustProxy }), [], String(trustProxy))
  const forwarded = await checkDeployment({ settings: { issuer: null }, secret: SECRET, trustProxy: 1 })
  t.match(forwarded.problems[0]?.message, /taken from each request's Host and X-Forwarded-Host\/-Proto headers/, 'behind a trusted proxy the forwarded host decides the issuer')
})

t.test('silencing: the silencedChecks setting and the silence option', async (t) => {
  const result = await checkDeployment({ settings: { silencedChecks: ['oauth.E002'] }, silence: ['oauth.W014'] })
  t.same(result.problems.map((p) => p.id), ['oauth.W007', 'oauth.W010'])
  t.same(result.silenced.map((p) => p.id), ['oauth.E002', 'oauth.W014'])
  t.same([result.errors, result.warnings], [0, 2], 'a silenced error no longer counts')
  await t.rejects(checkDeployment({ sercet: SECRET } as never), { code: 'OAT_ERR_OPTIONS', message: /checkDeployment has no option "sercet" \(did you mean "secret"\?\)/ },
    'a misspelt option would skip its check in silence')
  await t.rejects(checkDeployment({ silence: ['oauth.W999'] }), { code: 'OAT_ERR_OPTIONS', message: /"oauth.W999" is not a deployment check id/ })
  t.same((await checkDeployment({ settings: { silencedChecks: ['oauth.E02'] }, secret: SECRET })).problems.map((p) => [p.id, p.message]),
    [['oauth.E001', 'Invalid settings: silencedChecks: "oauth.E02" is not a deployment check id (e.g. "oauth.W007").']],
    'a typo in the setting is an invalid setting, not a silenced nothing')
})

t.test('the database: missing, never migrated, unreadable, pending migrations, then up to date', async (t) => {
  const dir = t.testdir()
  const dbIds = async (database: string): Promise<Array<[string, string]>> =>
    (await checkDeployment({ settings: CLEAN, secret: SECRET, database })).problems.map((p) => [p.id, p.message])
  const missing = join(dir, 'missing.db')
  t.same(await dbIds(missing), [['oauth.E003', `The database "${missing}" does not exist.`]])
  t.same(await dbIds('postgress://db/oauth'), [['oauth.E004', 'Cannot read the database "postgress://db/oauth": unknown database URL scheme "postgress:"; use postgres:// or postgresql:// for PostgreSQL, and sqlite:, file: or a plain path for SQLite (write ./postgress:… for a file whose name has a colon)']],
    'a mistyped scheme is no SQLite file')
  t.same(await dbIds('sqlite:'), [['oauth.E004', 'Cannot read the database "sqlite:": the URL names no SQLite path']])
  const empty = join(dir, 'empty.db')
  new Database(empty).close()
  t.same(await dbIds(empty), [['oauth.E003', `The database "${empty}" has none of the toolkit's tables (it was never migrated).`]])
  const garbage = join(dir, 'garbage.db')
  writeFileSync(garbage, 'this is not a database, but long enough to look like one to a careless reader'.repeat(20))
  t.same(await dbIds(garbage), [['oauth.E004', `Cannot read the database "${garbage}": cannot open SQLite database "${garbage}": the file is not a SQLite database`]])
  const path = await migratedDatabase(dir, 'current.db')
  t.same(await dbIds(path), [], 'up to date')
  const raw = new Database(path)
  raw.prepare('DELETE FROM __drizzle_migrations WHERE created_at = (SELECT max(created_at) FROM __drizzle_migrations)').run()
  raw.close()
  t.same(await dbIds(path), [['oauth.E003', `The database "${path}" lacks 1 migration(s) of this version; the server refuses to start on it.`]])
  t.same((await checkDeployment({ settings: CLEAN, secret: SECRET, database: path, migrate: true })).problems, [], 'the plugin\'s migrate: true applies it at start')
  t.same((await checkDeployment({ settings: CLEAN, secret: SECRET, database: missing, migrate: true })).problems, [], 'and creates a missing SQLite file')
  t.same((await checkDeployment({ settings: CLEAN, secret: SECRET, database: garbage, migrate: true })).problems.map((p) => p.id), ['oauth.E004'], 'but cannot read garbage')
  t.same(await dbIds(`sqlite:${path}`), [['oauth.E003', `The database "${path}" lacks 1 migration(s) of this version; the server refuses to start on it.`]], 'a sqlite: URL')
  const open = new Database(path)
  t.same((await checkDeployment({ settings: CLEAN, secret: SECRET, database: open })).problems.map((p) => p.id), ['oauth.E003'], 'an open better-sqlite3 database')
  t.ok(open.open, 'a given connection is left open')
  open.close()
})

t.test('an unreachable PostgreSQL server is oauth.E004, and its password is never shown', async (t) => {
  const result = await checkDeployment({ settings: CLEAN, secret: SECRET, database: 'postgres://oauth:s3cret-pw@127.0.0.1:1/oauth' })
  t.same(result.problems.map((p) => p.id), ['oauth.E004'])
  t.match(result.problems[0]?.message, /^Cannot read the database "postgres:\/\/oauth:\*\*\*@127\.0\.0\.1:1\/oauth": /)
  t.notMatch(JSON.stringify(result), 's3cret-pw')
})

t.test('expired rows that cleartokens would have removed: 100 older than a day make a warning', async (t) => {
  const path = await migratedDatabase(t.testdir())
  const check = async (): Promise<string[]> => (await checkDeployment({ settings: CLEAN, secret: SECRET, database: path, clock: clockAt(NOW) })).problems.map((p) => p.id)
  await withStore(path, async (store) => { await expiredCodes(store, NOW, 99, 25, 'old') })
  await withStore(path, async (store) => { await expiredCodes(store, NOW, 50, 23, 'recent') })
  t.same(await check(), [], '99 stale rows, and 50 expired less than a day ago, are tolerated')
  await withStore(path, async (store) => { await expiredCodes(store, NOW, 1, 30, 'one-more') })
  const result = await checkDeployment({ settings: CLEAN, secret: SECRET, database: path, clock: clockAt(NOW) })
  t.same(result.problems.map((p) => [p.id, p.level, p.message]), [['oauth.W013', 'warning',
    'Expired tokens are not being cleared: at least 100 rows expired more than 24 hours ago (access tokens: 0, authorization codes: 100, device codes: 0; counted up to 100 per table). ' +
    'The database keeps no record of cleartokens runs, so this counts what a regular run would have removed.']])
  await withStore(path, async (store) => {
    await store.clearExpired({ now: new Date(NOW), revokedBefore: null, refreshCreatedBefore: null, batchSize: 1000 })
  })
  t.same(await check(), [], 'cleartokens clears it')
})

t.test('FAPI 2.0: the preset raises no refresh-token warning; rotation under it is reported as the exception', async (t) => {
  const fapi = { ...FAPI2_SETTINGS, refreshTokenExpireSeconds: 86400 }
  t.same(await ids({ settings: fapi }), [], 'no rotation is the profile\'s rule, not a W008')
  t.same(await ids({ settings: { ...fapi, rotateRefreshToken: true, refreshTokenGracePeriodSeconds: 30 } }), ['oauth.W017'])
  t.same(await ids({ settings: { rotateRefreshToken: false } }), ['oauth.W008'], 'outside the profile, no rotation is still W008')
})
