// `npm run bench -- --flood [--quick] [--seconds N] [--connections N]`: goal G9 (BRUTE-1). The
// example app in a server process (default settings in 15 min: 10 failures per (client_id or
// account, IP), 100 per IP). An attacker process (bench/flood-attacker.ts) floods the token endpoint at full
// speed over `--connections` connections (16) with wrong client secrets for a known client,
// unknown client ids and wrong passwords for one account, each kind from its own loopback
// address, while a legitimate client (client_credentials, 8 connections from 127.0.0.1) is
// measured. Prints:
// - failures answered before the first 429, per kind (target ≤ 10 for a client or an account
//   from one IP, ≤ 100 for ever-new client ids from one IP);
// - the server's CPU time per throttled request, flood alone, after the flood warmed it up
//   (target < 2 ms: no hash), next to a legitimate token request's;
// - the legitimate client's token throughput before, during (`--seconds`, 60; 10 with --quick)
//   and after the flood (target during ≥ 50 % of the mean of before and after, 0 errors);
// - 1,000,000 draws of the token generator: bits per token (≥ 256) and collisions (0).
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { createSqliteStore } from '../entries/sqlite.js'
import { createOAuthServer } from '../entries/core.js'
import { cryptoRandom } from '../lib/random.js'
import { cpuMillis, startServer } from './children.js'
import { attack, type Attack, type FloodCounts } from './flood-attacker.js'
import { createClientDatabases } from './seed.js'

const { values } = parseArgs({
  options: {
    flood: { type: 'boolean', default: true },
    quick: { type: 'boolean', default: false },
    seconds: { type: 'string' },
    connections: { type: 'string' },
  },
})
const quick = values.quick === true
const seconds = values.seconds === undefined ? (quick ? 10 : 60) : Number(values.seconds)
const connections = values.connections === undefined ? 16 : Number(values.connections)
const baselineSeconds = quick ? 3 : 10
const cpuSeconds = quick ? 3 : 5
const LEGIT_CONNECTIONS = 8
const DRAWS = 1_000_000
const log = (message: string): void => { process.stderr.write(`${message}\n`) }
const loadBefore = loadavg()[0] ?? 0

// Entropy first, in this process, before any server runs.
log(`entropy: ${DRAWS.toLocaleString('en-US')} draws of the token generator`)
const seen = new Set<string>()
let minBits = Infinity
for (let i = 0; i < DRAWS; i++) {
  const token = cryptoRandom.token()
  seen.add(token)
  minBits = Math.min(minBits, Buffer.from(token, 'base64url').length * 8)
}
const collisions = DRAWS - seen.size
seen.clear()

const dir = mkdtempSync(join(tmpdir(), 'oat-flood-'))
const path = join(dir, 'flood.sqlite3')
const clients = await createClientDatabases([path])
const store = createSqliteStore({ database: path })
const passwordClient = await createOAuthServer({ store }).createApplication({ clientId: 'flood-password', clientType: 'confidential', authorizationGrantType: 'password' })
await store.close()
const basic = (id: string, secret: string): string => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`
/** Failures each attack may see before its first 429: the (client or account, IP) limit, or the per-IP one. */
const allowed: Record<string, number> = { 'wrong client secret': 10, 'unknown client_id': 100, 'wrong password': 10 }
const attacks: Attack[] = [
  { name: 'wrong client secret', localAddress: '127.0.0.2', authorization: basic(clients.cold.clientId, 'wrong-secret'), body: 'grant_type=client_credentials&n={n}' },
  { name: 'unknown client_id', localAddress: '127.0.0.3', authorization: '', body: 'grant_type=client_credentials&client_id=flood-unknown-{n}&client_secret=x' },
  { name: 'wrong password', localAddress: '127.0.0.4', authorization: basic(passwordClient.application.clientId, passwordClient.clientSecret ?? ''), body: 'grant_type=password&username=alice&password=wrong-{n}' },
]

const server = await startServer('flood', ['app', path])
/** The attacker process for `secs` seconds; resolves its counts. */
async function attacker (secs: number): Promise<FloodCounts> {
  const script = fileURLToPath(new URL('./flood-attacker.ts', import.meta.url))
  const child = spawn(process.execPath, [...process.execArgv, script, server.url, String(secs), String(connections), JSON.stringify(attacks)], { stdio: ['ignore', 'pipe', 'inherit'] })
  const [line] = await once(createInterface({ input: child.stdout }), 'line') as [string]
  await once(child, 'exit')
  return JSON.parse(line) as FloodCounts
}

/** The legitimate client: `LEGIT_CONNECTIONS` loops of client_credentials requests for `secs` seconds. */
async function legit (secs: number): Promise<{ ok: number, errors: number, rps: number }> {
  let ok = 0
  let errors = 0
  const started = performance.now()
  const end = started + secs * 1000
  await Promise.all(Array.from({ length: LEGIT_CONNECTIONS }, async () => {
    while (performance.now() < end) {
      try {
        const res = await fetch(`${server.url}/o/token/`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: clients.service.basic }, body: 'grant_type=client_credentials' })
        await res.arrayBuffer()
        if (res.status === 200) ok++
        else errors++
      } catch {
        errors++
      }
    }
  }))
  return { ok, errors, rps: ok / ((performance.now() - started) / 1000) }
}

try {
  log('warm-up (the legitimate client\'s first secret check)')
  await legit(1)
  log('locking: each attack until its first 429')
  const beforeLimit: Record<string, number> = {}
  for (const a of attacks) {
    let failures = 0
    for (let status = 0; status !== 429 && failures < 200;) {
      status = await attack(server.url, a)
      if (status !== 429) failures++
    }
    beforeLimit[a.name] = failures
  }
  log(`baseline: the legitimate client alone, ${baselineSeconds} s`)
  const legitCpuStart = cpuMillis(server.pid)
  const before = await legit(baselineSeconds)
  const cpuPerTokenMs = (cpuMillis(server.pid) - legitCpuStart) / before.ok
  log(`flood: ${seconds} s at full speed over ${connections} connections, the legitimate client measured`)
  const [during, flooded] = await Promise.all([legit(seconds), attacker(seconds)])
  // After the flood, so the throttled path is warm (JIT) when its cost is measured.
  log(`CPU: the flood alone, ${cpuSeconds} s`)
  const cpuStart = cpuMillis(server.pid)
  const alone = await attacker(cpuSeconds)
  const cpuPerThrottledMs = (cpuMillis(server.pid) - cpuStart) / alone.requests
  log(`after: the legitimate client alone, ${baselineSeconds} s`)
  const after = await legit(baselineSeconds)

  const baseline = (before.rps + after.rps) / 2
  const share = during.rps / baseline
  const limitsHeld = Object.entries(beforeLimit).every(([name, failures]) => failures <= (allowed[name] ?? 10))
  const pass = limitsHeld && cpuPerThrottledMs < 2 && share >= 0.5 && during.errors === 0 && collisions === 0 && minBits >= 256
  const rps = (r: { rps: number }): string => `${r.rps.toFixed(0)}/s`
  process.stdout.write(`\nG9 brute force and entropy, ${new Date().toISOString()}, ${cpus().length} cores, load average ${loadBefore.toFixed(2)} → ${(loadavg()[0] ?? 0).toFixed(2)}\n` +
    `  failures before the first 429: ${JSON.stringify(beforeLimit)} (target ${JSON.stringify(allowed)})\n` +
    `  throttled request, flood alone: ${(cpuPerThrottledMs * 1000).toFixed(0)} µs of server CPU (target < 2 ms), ${alone.requests} requests ${JSON.stringify(alone.statuses)} in ${cpuSeconds} s; a legitimate token request: ${(cpuPerTokenMs * 1000).toFixed(0)} µs\n` +
    `  flood during the measurement: ${flooded.requests} requests (${(flooded.requests / seconds).toFixed(0)}/s) ${JSON.stringify(flooded.statuses)}, ${flooded.errors} connection errors\n` +
    `  legitimate client_credentials: before ${rps(before)}, during ${rps(during)}, after ${rps(after)}; during / mean(before, after) = ${share.toFixed(3)} (target ≥ 0.5), errors during ${during.errors} (target 0)\n` +
    `  token generator: ${DRAWS.toLocaleString('en-US')} draws, ${collisions} collisions (target 0), ${minBits} bits each (target ≥ 256)\n` +
    `  ${pass ? 'PASS' : 'FAIL'}\n`)
  process.exitCode = pass ? 0 : 1
} finally {
  await server.stop()
  rmSync(dir, { recursive: true, force: true })
}
