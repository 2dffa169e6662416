// The README's quick start, run as written: `npm start` on a free port, then the curl steps
// (here with fetch) and the CLI commands, against the example app's own SQLite file.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createServer } from 'node:net'
import { join } from 'node:path'
import t from 'tap'

const ROOT = join(import.meta.dirname, '..', '..')

async function freePort (): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1')
  await once(server, 'listening')
  const address = server.address()
  server.close()
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}

/** Runs `npm run -s <script> -- <args>` and returns its stdout; fails the test on a non-zero exit. */
function npmRun (script: string, args: string[], env: NodeJS.ProcessEnv): string {
  const result = spawnSync('npm', ['run', '-s', script, '--', ...args], { cwd: ROOT, env, encoding: 'utf8' })
  if (result.status !== 0) throw new Error(`npm run ${script} ${args.join(' ')} failed: ${result.stderr}`)
  return result.stdout
}

/** Starts `npm start` and resolves once the server listens. */
async function startServer (env: NodeJS.ProcessEnv): Promise<ChildProcess> {
  const child = spawn('npm', ['start'], { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 60_000)
    const onData = (chunk: Buffer): void => {
      output += chunk.toString()
      if (output.includes('Server listening at')) { clearTimeout(timer); resolve() }
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`server exited with ${code}:\n${output}`)) })
  })
  return child
}

interface TokenBody { access_token: string, refresh_token?: string, token_type: string, expires_in: number, scope: string }

t.test('the README quick start works against npm start', async (t) => {
  const port = await freePort()
  const database = join(t.testdir(), 'db.sqlite3')
  const env = { ...process.env, PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: database }
  const server = await startServer(env)
  t.teardown(() => { if (server.pid !== undefined && server.exitCode === null) process.kill(-server.pid, 'SIGTERM') })
  const base = `http://127.0.0.1:${port}`

  // Part 2: a confidential client-credentials application from the CLI.
  const created = JSON.parse(npmRun('cli', ['createapplication', 'confidential', 'client-credentials', '--name', 'Tutorial', '--database', database, '--json'], env)) as { client_id: string, client_secret: string }
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
  t.match(npmRun('example', ['createuser', 'alice', '--password', 'wonderland'], env), /created user "alice"/)
  const cli = JSON.parse(npmRun('cli', ['createapplication', 'public', 'password', '--name', 'Tutorial CLI', '--database', database, '--json'], env)) as { client_id: string }
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

  t.match(npmRun('cli', ['cleartokens', '--database', database], env), /./, 'cleartokens runs against the same file')
})
