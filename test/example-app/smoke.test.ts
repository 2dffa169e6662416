// The README's quick start, run as written: `npm start` on a free port, then the curl steps
// (here with fetch) and the CLI commands, against the example app's own SQLite file.
import t from 'tap'
import { npmRun, startExampleApp } from './support.js'

interface TokenBody { access_token: string, refresh_token?: string, token_type: string, expires_in: number, scope: string }

t.test('the README quick start works against npm start', async (t) => {
  const { base, database, env } = await startExampleApp(t)

  // Part 2: a confidential client-credentials application from the CLI.
  const created = JSON.parse(await npmRun('cli', ['createapplication', 'confidential', 'client-credentials', '--name', 'Tutorial', '--database', database, '--json'], env)) as { client_id: string, client_secret: string }
  t.match(created, { client_id: /^\w{40}$/, client_secret: /^\w{128}$/ })

  t.equal((await fetch(`${base}/api/hello`)).status, 403, '/api/hello without a token is refused')

  const basic = Buffer.from(`${created.client_id}:${created.client_secret}`).toString('base64')
  const tokenRes = await fetch(`${base}/o/token/`, {
    method: 'POST',
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials',
  })
  t.equal(tokenRes.status, 200)
  t.equal(tokenRes.headers.get('cache-control'), 'no-store')
  const token = await tokenRes.json() as TokenBody
  t.match(token, { token_type: 'Bearer', expires_in: 36000, scope: 'read write' })

  const hello = await fetch(`${base}/api/hello`, { headers: { authorization: `Bearer ${token.access_token}` } })
  t.equal(hello.status, 200)
  t.equal(await hello.text(), 'Hello, OAuth2!')

  // Part 3: a user, a public password-grant application, and /api/me.
  t.match(await npmRun('example', ['createuser', 'alice', '--password', 'wonderland'], env), /created user "alice"/)
  const cli = JSON.parse(await npmRun('cli', ['createapplication', 'public', 'password', '--name', 'Tutorial CLI', '--database', database, '--json'], env)) as { client_id: string }
  const form = (params: Record<string, string>): RequestInit => ({
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(params).toString(),
  })
  const userToken = await (await fetch(`${base}/o/token/`, form({ grant_type: 'password', username: 'alice', password: 'wonderland', client_id: cli.client_id }))).json() as TokenBody
  t.type(userToken.refresh_token, 'string', 'the password grant issues a refresh token')

  const me = await fetch(`${base}/api/me`, { headers: { authorization: `Bearer ${userToken.access_token}` } })
  t.same(await me.json(), { username: 'alice', application: 'Tutorial CLI', scopes: ['read', 'write'] })

  const refreshed = await fetch(`${base}/o/token/`, form({ grant_type: 'refresh_token', refresh_token: userToken.refresh_token ?? '', client_id: cli.client_id }))
  t.equal(refreshed.status, 200, 'the refresh token works once')
  const replay = await fetch(`${base}/o/token/`, form({ grant_type: 'refresh_token', refresh_token: userToken.refresh_token ?? '', client_id: cli.client_id }))
  t.equal(replay.status, 400, 'and is refused after rotation')
  t.equal((await replay.json() as { error: string }).error, 'invalid_grant')

  t.match(await npmRun('cli', ['cleartokens', '--database', database], env), /./, 'cleartokens runs against the same file')
})
