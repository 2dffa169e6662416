// `fastify-oauth-toolkit check` in process: exit codes (a deploy gate), the text and JSON output,
// silencing, the signing key file and usage mistakes. The checks themselves:
// test/lib/deployment-check.spec.ts; the child process: bin.test.ts; PostgreSQL: postgres.spec.ts.
import { generateKeyPairSync } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { cli, migratedDatabase } from './helpers.js'

const CLEAN = { issuer: 'https://auth.example.com/o', refreshTokenExpireSeconds: 86400, authorizationResponseIss: true }

/** A migrated database and a settings file holding `settings`, in a fresh directory of `t`. */
async function setUp (t: Test, settings: unknown): Promise<{ database: string, settingsFile: string, dir: string }> {
  const dir = t.testdir()
  const database = await migratedDatabase(dir)
  const settingsFile = join(dir, 'settings.json')
  writeFileSync(settingsFile, JSON.stringify(settings))
  return { database, settingsFile, dir }
}

t.test('the default settings fail the check: exit 1, the issuer error and the warnings, in Django\'s layout', async (t) => {
  const { database } = await setUp(t, {})
  t.same(await cli(['check', '--database', database]), {
    code: 1,
    stderr: '',
    stdout: [
      'System check identified some issues:',
      '',
      'ERRORS:',
      'oauth.E002: The issuer setting is unset, so the issuer (discovery, ID token `iss`, device verification_uri) is taken from each request\'s Host header: anyone can change it, and instances behind a load balancer may disagree.',
      '\tHINT: Set the issuer setting to the public https URL of the routes, e.g. "https://auth.example.com/o" (RFC 8414 §2).',
      '',
      'WARNINGS:',
      'oauth.W007: Refresh tokens never expire (refreshTokenExpireSeconds is not set): a stolen one works until revoked, and cleartokens never removes them.',
      '\tHINT: Set refreshTokenExpireSeconds (e.g. 2592000, 30 days idle) so that idle refresh tokens die and cleartokens removes them.',
      'oauth.W010: RFC 9700 §4.4: authorization responses carry no RFC 9207 `iss` (authorizationResponseIss is false), so clients of several servers cannot detect mix-up.',
      '\tHINT: Set authorizationResponseIss to true (RFC9700_SETTINGS does).',
      '',
      'System check identified 3 issues (0 silenced).',
      '',
    ].join('\n'),
  })
})

t.test('a careful configuration passes: exit 0', async (t) => {
  const { database, settingsFile } = await setUp(t, CLEAN)
  t.same(await cli(['check', '--database', database, '--settings', settingsFile]), { code: 0, stdout: 'System check identified no issues (0 silenced).\n', stderr: '' })
})

t.test('warnings alone exit 0; --fail-level warning makes them fail', async (t) => {
  const { database, settingsFile } = await setUp(t, { ...CLEAN, passwordGrantEnabled: true })
  const args = ['check', '--database', database, '--settings', settingsFile]
  const plain = await cli(args)
  t.equal(plain.code, 0)
  t.match(plain.stdout, /^System check identified some issues:\n\nWARNINGS:\noauth\.W002: RFC 9700 §2\.4: /)
  t.match(plain.stdout, /System check identified 1 issue \(0 silenced\)\.\n$/)
  t.equal((await cli([...args, '--fail-level', 'warning'])).code, 1)
  t.equal((await cli([...args, '--fail-level', 'error'])).code, 0)
  t.equal((await cli([...args, '--fail-level', 'warning', '--silence', 'oauth.W002'])).code, 0, 'a silenced warning does not fail')
})

t.test('--json: one object with the problems, the silenced ones and the counts', async (t) => {
  const { database, settingsFile } = await setUp(t, { ...CLEAN, issuer: null, silencedChecks: ['oauth.W010'], authorizationResponseIss: false })
  const r = await cli(['check', '--json', '--database', database, '--settings', settingsFile, '--silence', 'oauth.W007, oauth.W003'])
  t.equal(r.code, 1)
  t.equal(r.stderr, '')
  t.same(JSON.parse(r.stdout), {
    problems: [{
      id: 'oauth.E002',
      level: 'error',
      message: 'The issuer setting is unset, so the issuer (discovery, ID token `iss`, device verification_uri) is taken from each request\'s Host header: anyone can change it, and instances behind a load balancer may disagree.',
      hint: 'Set the issuer setting to the public https URL of the routes, e.g. "https://auth.example.com/o" (RFC 8414 §2).',
    }],
    silenced: [{
      id: 'oauth.W010',
      level: 'warning',
      message: 'RFC 9700 §4.4: authorization responses carry no RFC 9207 `iss` (authorizationResponseIss is false), so clients of several servers cannot detect mix-up.',
      hint: 'Set authorizationResponseIss to true (RFC9700_SETTINGS does).',
    }],
    errors: 1,
    warnings: 0,
  })
  t.match(r.stdout, /^\{.*\}\n$/, 'one line')
})

t.test('settings the plugin would refuse are reported as oauth.E001, not as a crash', async (t) => {
  const { database, settingsFile } = await setUp(t, { ...CLEAN, accessTokenExpireSeconds: -1 })
  const r = await cli(['check', '--json', '--database', database, '--settings', settingsFile])
  t.equal(r.code, 1)
  t.same(JSON.parse(r.stdout).problems.map((p: { id: string }) => p.id), ['oauth.E001'])
})

t.test('a settings file that is not an object is oauth.E001 too, and a file that is not JSON a CLI error', async (t) => {
  for (const content of [null, [], 'issuer', 42]) {
    const { database, settingsFile } = await setUp(t, content)
    const r = await cli(['check', '--json', '--database', database, '--settings', settingsFile])
    t.equal(r.code, 1, JSON.stringify(content))
    t.same(JSON.parse(r.stdout).problems.map((p: { id: string, message: string }) => [p.id, p.message]), [['oauth.E001', 'Invalid settings: settings must be an object.']])
  }
  const { database, dir } = await setUp(t, {})
  const broken = join(dir, 'broken.json')
  writeFileSync(broken, '{"issuer": ')
  const r = await cli(['check', '--database', database, '--settings', broken])
  t.equal(r.code, 1)
  t.equal(r.stdout, '')
  t.match(r.stderr, /^fastify-oauth-toolkit check: settings file ".*broken\.json" is not valid JSON: /)
})

t.test('--oidc-key: the check loads the server\'s signing key', async (t) => {
  const oidc = { ...CLEAN, oidcEnabled: true, scopes: { openid: 'Sign in', read: 'Read' }, defaultScopes: ['read'] }
  const { database, settingsFile, dir } = await setUp(t, oidc)
  const args = ['check', '--json', '--database', database, '--settings', settingsFile]
  const without = await cli(args)
  t.equal(without.code, 1)
  t.same(JSON.parse(without.stdout).problems.map((p: { id: string, message: string }) => [p.id, p.message]), [['oauth.E005',
    'OpenID Connect is on (oidcEnabled) but no signing key was given to the check (--oidc-key <file>), so it cannot tell whether the server has a usable one.']])
  const keyFile = join(dir, 'key.pem')
  writeFileSync(keyFile, generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }))
  t.same(await cli([...args, '--oidc-key', keyFile]), { code: 0, stdout: '{"problems":[],"silenced":[],"errors":0,"warnings":0}\n', stderr: '' })
  const jwkFile = join(dir, 'key.json')
  writeFileSync(jwkFile, JSON.stringify(generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ format: 'jwk' })))
  const small = await cli([...args, '--oidc-key', jwkFile])
  t.equal(small.code, 1)
  t.same(JSON.parse(small.stdout).problems.map((p: { id: string }) => p.id), ['oauth.E006'], 'a JWK file, too small')
  const missing = join(dir, 'nope.pem')
  const r = await cli([...args, '--oidc-key', missing])
  t.equal(r.code, 1)
  t.match(r.stderr, new RegExp(`^fastify-oauth-toolkit check: cannot read key file "${missing.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}": ENOENT`))
  t.equal(r.stdout, '')
})

t.test('database problems gate the deploy too: a missing database is oauth.E003, not a CLI failure', async (t) => {
  const dir = t.testdir()
  const settingsFile = join(dir, 'settings.json')
  writeFileSync(settingsFile, JSON.stringify(CLEAN))
  const missing = join(dir, 'typo.db')
  const r = await cli(['check', '--json', '--database', missing, '--settings', settingsFile])
  t.equal(r.code, 1)
  t.same(JSON.parse(r.stdout).problems.map((p: { id: string, message: string }) => [p.id, p.message]), [['oauth.E003', `The database "${missing}" does not exist.`]])
})

t.test('usage mistakes exit 2 and say why', async (t) => {
  const { database } = await setUp(t, {})
  const usage = (message: string): { code: number, stdout: string, stderr: string } =>
    ({ code: 2, stdout: '', stderr: `fastify-oauth-toolkit check: ${message}\nRun 'fastify-oauth-toolkit check --help' for usage.\n` })
  t.same(await cli(['check', '--database', database, '--fail-level', 'info']), usage('option \'--fail-level\' must be error or warning; got \'info\''))
  t.same(await cli(['check', '--database', database, '--silence', 'oauth.W002,W007']), usage('\'W007\' is not a check id (e.g. oauth.W007; see --help)'))
  t.same(await cli(['check']), usage('no database: pass --database <path|url> or set DATABASE_URL'))
  const help = await cli(['check', '--help'])
  t.equal(help.code, 0)
  t.match(help.stdout, /^Usage: fastify-oauth-toolkit check \[options\]\n/)
  t.match(help.stdout, /--fail-level <error\|warning>/)
  t.match((await cli(['--help'])).stdout, /\n {2}check {18}Check settings and database before a deploy/)
})

t.test('DATABASE_URL names the database, as for the other commands', async (t) => {
  const { database, settingsFile } = await setUp(t, CLEAN)
  t.equal((await cli(['check', '--settings', settingsFile], { env: { DATABASE_URL: database } })).code, 0)
})
