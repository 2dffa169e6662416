// The example app's start-up mistakes are one line on stderr and exit status 1, never a stack
// trace: the program `npm start` runs, started with a mistake in its environment, once for each
// way server.ts explains one (example-app/startup.ts): a checked variable (StartupError), a port
// in use, a file that is not a database, an unreachable PostgreSQL, a DATABASE_URL the toolkit
// refuses. The other variables' mistakes take the first way, thrown by the same check before
// anything is opened, so they are checked in this process (each real start costs a node process
// and the toolkit's import).
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, readdirSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import t from 'tap'
import { environment, StartupError } from '../../example-app/environment.js'
import { freePort, ROOT, scriptArgs } from './support.js'

/** Starts the example app with `env` in `cwd`; resolves when it exits (or is stopped after 60 s: it did not fail). */
async function start (env: NodeJS.ProcessEnv, cwd = ROOT): Promise<{ code: number | null, stderr: string }> {
  const child = spawn(process.execPath, scriptArgs('start').map((arg) => arg.endsWith('.ts') ? join(ROOT, arg) : arg), {
    cwd,
    env: { ...process.env, NODE_ENV: 'test', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  const timer = setTimeout(() => { child.kill('SIGKILL') }, 60_000)
  const [code] = await once(child, 'close') as [number | null]
  clearTimeout(timer)
  return { code, stderr }
}

t.test('each start-up mistake is one line naming it, and exit status 1', async (t) => {
  const dir = t.testdir()
  const notADatabase = join(dir, 'notes.txt')
  writeFileSync(notADatabase, 'Shopping list: milk, eggs, bread. '.repeat(30))
  const busy = createServer().listen(0, '127.0.0.1')
  await once(busy, 'listening')
  t.teardown(() => { busy.close() })
  const busyPort = (busy.address() as { port: number }).port
  const port = String(await freePort())
  const database = join(dir, 'fine.db')

  const cases: Array<[string, NodeJS.ProcessEnv, RegExp]> = [
    ['port in use', { PORT: String(busyPort), DATABASE_URL: database }, new RegExp(`^example-app: port ${busyPort} on 127\\.0\\.0\\.1 is in use`)],
    ['a bad PORT', { PORT: 'eighty', DATABASE_URL: database }, /^example-app: PORT must be a port number from 0 to 65535; got "eighty"/],
    ['a file that is not a database', { PORT: port, DATABASE_URL: notADatabase }, /^example-app: .*notes\.txt.*not a (SQLite )?database/],
    ['an unreachable PostgreSQL', { PORT: port, DATABASE_URL: 'postgres://oat:secret-password@127.0.0.1:1/nowhere' }, /^example-app: cannot use PostgreSQL at postgres:\/\/oat:\*\*\*@127\.0\.0\.1:1\/nowhere: .*ECONNREFUSED/],
    ['a misspelt scheme', { PORT: port, DATABASE_URL: 'postgress://localhost/oauth' }, /^example-app: unknown database URL scheme "postgress:"; use postgres:\/\/ or postgresql:\/\//],
  ]
  const results = await Promise.all(cases.map(async ([, env]) => await start(env, dir)))
  cases.forEach(([what, , message], i) => {
    const { code, stderr } = results[i] ?? { code: null, stderr: '' }
    t.equal(code, 1, `${what}: exit status 1`)
    const lines = stderr.split('\n').filter((line) => line.trim() !== '')
    t.equal(lines.length, 1, `${what}: one line (${JSON.stringify(stderr.slice(0, 300))})`)
    t.match(lines[0] ?? '', message, what)
    t.notMatch(stderr, /\n\s+at /, `${what}: no stack trace`)
    t.notMatch(stderr, /secret-password/, `${what}: no password in the message`)
  })
  t.notOk(readdirSync(dir).some((name) => name.startsWith('postgress')), 'no SQLite file named after the misspelt URL')
  t.notOk(existsSync(join(dir, 'postgress:')), 'nor a folder')
})

t.test('the other variables\' mistakes are thrown as the bad PORT is: a StartupError whose message is the one line', async (t) => {
  const cases: Array<[string, NodeJS.ProcessEnv, RegExp]> = [
    ['a PORT out of range', { PORT: '70000' }, /^example-app: PORT must be a port number/],
    ['a bad CIMD_ENABLED', { CIMD_ENABLED: 'yes' }, /^example-app: CIMD_ENABLED must be 1 \(on\) or 0 \(off\); got "yes"/],
    ['a short SESSION_SECRET', { SESSION_SECRET: 'short' }, /^example-app: SESSION_SECRET must be at least 32 characters; got 5/],
    ['another host without ISSUER', { HOST: '0.0.0.0' }, /^example-app: HOST=0\.0\.0\.0 is not a loopback address: set ISSUER/],
    ['TRUST_PROXY=true', { TRUST_PROXY: 'true' }, /^example-app: TRUST_PROXY must list the proxies' addresses or CIDR ranges \(or loopback, linklocal, uniquelocal\); got "true"/],
    ['a TRUST_PROXY host name', { TRUST_PROXY: '10.0.0.1, proxy.internal' }, /^example-app: TRUST_PROXY must list .*; got "proxy\.internal"/],
    ['a TRUST_PROXY prefix too long', { TRUST_PROXY: '10.0.0.0/33' }, /^example-app: TRUST_PROXY must list .*; got "10\.0\.0\.0\/33"/],
  ]
  for (const [what, env, message] of cases) {
    let thrown: unknown = null
    try {
      environment({ PORT: '8000', ...env })
    } catch (err) {
      thrown = err
    }
    // server.ts writes `example-app: <message>` and exits with status 1 for every StartupError.
    t.ok(thrown instanceof StartupError, `${what}: a StartupError, so exit status 1 (as for a bad PORT)`)
    const line = `example-app: ${(thrown as Error | null)?.message ?? ''}\n`
    const lines = line.split('\n').filter((l) => l.trim() !== '')
    t.equal(lines.length, 1, `${what}: one line (${JSON.stringify(line.slice(0, 300))})`)
    t.match(lines[0] ?? '', message, what)
    t.notMatch(line, /\n\s+at /, `${what}: no stack trace`)
    t.notMatch(line, /secret-password/, `${what}: no password in the message`)
  }
})

t.test('TRUST_PROXY lists addresses, CIDR ranges and proxy-addr\'s range names, space- or comma-separated', async (t) => {
  t.same(environment({ TRUST_PROXY: '10.0.0.1, 2001:db8::/32 loopback' }).trustProxy, ['10.0.0.1', '2001:db8::/32', 'loopback'])
  t.equal(environment({}).trustProxy, undefined, 'unset: no proxy is trusted')
  t.equal(environment({ TRUST_PROXY: ' ' }).trustProxy, undefined)
})
