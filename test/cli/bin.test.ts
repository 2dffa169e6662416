// End to end: the real executable, run from source in a child process, against SQLite files.
// Each spawn costs about a second, so the many argument cases live in the in-process tests.
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import type { OAuthRequest } from '../../lib/request.js'
import { createOAuthServer } from '../../lib/server.js'
import { appliedAll, bin, migratedDatabase, REPO_ROOT, remainingTokens, seedTokens, withStore } from './helpers.js'

/** A client-credentials token request, as the token view would build it. */
function tokenRequest (body: Record<string, string>, headers: Record<string, string> = {}): OAuthRequest {
  return { method: 'POST', headers, query: {}, body, duplicated: new Set(), unsupportedBody: false }
}

function basic (id: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`
}

/** Asks the token endpoint for a client-credentials token with the given credentials; resolves the status. */
async function tokenStatus (path: string, request: OAuthRequest): Promise<number> {
  return await withStore(path, async (store) => (await createOAuthServer({ store }).token(request)).status)
}

// The subtests are independent (each has its own files) and mostly wait for child processes:
// they run side by side, so that the file keeps well within tap's timeout on a loaded machine.
t.jobs = 4

t.test('--version and an unknown command, through the real process', async (t) => {
  const { version } = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }
  // Side by side: each spawn is a node start, slow on a loaded machine.
  const [printed, unknown] = await Promise.all([bin(['--version']), bin(['migrat'])])
  t.same(printed, { code: 0, stdout: `${version}\n`, stderr: '' })
  t.same(unknown, {
    code: 2,
    stdout: '',
    stderr: "fastify-oauth-toolkit: unknown command 'migrat'; commands: migrate, createapplication, cleartokens, clearcimdapplications, generatekey, check\nRun 'fastify-oauth-toolkit --help' for usage.\n",
  })
})

t.test('migrate, createapplication, a token with the printed secret, then cleartokens', async (t) => {
  const path = join(t.testdir(), 'oauth.db')

  // Idempotence and the tables created are checked in-process (database.spec.ts).
  t.same(await bin(['migrate', '--database', path]), { code: 0, stdout: appliedAll(path), stderr: '' })

  const created = await bin(['createapplication', 'confidential', 'client-credentials', '--name', 'CLI app', '--database', path])
  t.equal(created.code, 0, created.stderr)
  t.match(created.stdout, /^New application "CLI app" \(id 1\) created successfully\.$/m)
  t.match(created.stdout, 'it is shown only this once')
  const clientId = /^ {2}client_id: +(\S+)$/m.exec(created.stdout)?.[1] ?? ''
  const secret = /^ {2}client_secret: +(\S+)$/m.exec(created.stdout)?.[1] ?? ''
  t.equal(secret.length, 128)

  t.equal(await tokenStatus(path, tokenRequest({ grant_type: 'client_credentials' }, { authorization: basic(clientId, secret) })), 200, 'the printed secret works')
  t.equal(await tokenStatus(path, tokenRequest({ grant_type: 'client_credentials' }, { authorization: basic(clientId, `${secret}x`) })), 401)
  for (const file of [path, `${path}-wal`]) {
    if (existsSync(file)) t.notOk(readFileSync(file).includes(secret), `${file} does not hold the secret in clear`)
  }
  await withStore(path, async (store) => t.match((await store.findApplicationByClientId(clientId))?.clientSecretHash, /^scrypt\$/))

  await seedTokens(path, new Date())
  const cleared = await bin(['cleartokens', '--database', path])
  t.equal(cleared.code, 0)
  t.equal(cleared.stdout, `Cleared expired tokens from ${path}:\n` +
    '  access tokens:        2\n  refresh tokens:       0\n  authorization codes:  1\n  ID tokens:            0\n  device codes:         0\n  single-use ids:       0\n  user sessions:        0\n')
  t.match(cleared.stderr, /^fastify-oauth-toolkit cleartokens: warning: refreshTokenExpireSeconds is not set/)
  t.same(await remainingTokens(path), { access: ['a3'], refresh: ['r2', 'r3', 'r4'], grants: ['g2'] })
})

t.test('check gates a deploy: the default settings exit 1 with the issuer error, in the real process', async (t) => {
  const path = join(t.testdir(), 'oauth.db')
  t.equal((await bin(['migrate', '--database', path])).code, 0)
  const r = await bin(['check', '--json'], { DATABASE_URL: path })
  t.equal(r.code, 1, 'the exit status a deploy script sees')
  t.equal(r.stderr, '')
  t.same((JSON.parse(r.stdout) as { problems: Array<{ id: string }> }).problems.map((p) => p.id), ['oauth.E002', 'oauth.W007', 'oauth.W010'])
})

t.test('createapplication --json from DATABASE_URL honours --client-id and --client-secret', async (t) => {
  const path = await migratedDatabase(t.testdir(), 'env.db')
  const env = { DATABASE_URL: `sqlite:${path}` }
  const r = await bin(['createapplication', 'confidential', 'client-credentials', '--client-id', 'svc-reports', '--client-secret', 'reports-secret-123', '--json'], env)
  t.equal(r.code, 0, r.stderr)
  t.equal(r.stderr, '')
  t.match(JSON.parse(r.stdout), { id: 1, client_id: 'svc-reports', client_secret: 'reports-secret-123', client_type: 'confidential', authorization_grant_type: 'client-credentials' })
  t.equal(await tokenStatus(path, tokenRequest({ grant_type: 'client_credentials', client_id: 'svc-reports', client_secret: 'reports-secret-123' })), 200)
})

t.test('errors: a clear message on stderr, no stack trace, non-zero exit', async (t) => {
  const dir = t.testdir()
  const path = await migratedDatabase(dir)
  const missing = join(dir, 'typo.db')
  const [invalid, typo] = await Promise.all([
    bin(['createapplication', 'confidential', 'authorization-code', '--redirect-uris', 'javascript:alert(1)', '--database', path]),
    bin(['cleartokens', '--database', missing]),
  ])
  t.equal(invalid.code, 2)
  t.equal(invalid.stdout, '')
  t.match(invalid.stderr, /^fastify-oauth-toolkit createapplication: the application is invalid:\n {2}--redirect-uris: +javascript:alert\(1\) .+\n$/)
  t.same(typo, {
    code: 1,
    stdout: '',
    stderr: `fastify-oauth-toolkit cleartokens: database "${missing}" does not exist; run \`fastify-oauth-toolkit migrate\` first\n`,
  })
})
