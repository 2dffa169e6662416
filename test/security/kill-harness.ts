// G4 / STORE-1, kill -9 under load. Shared by test/security/kill.test.ts (one kill, about 2 s of
// load) and `npm run bench -- --crash` (bench/crash.ts, 200 kills). Not a test file.
// One server child process (bench/server.ts, the example app) on a SQLite file takes
// concurrent client_credentials requests; every token answered with a 200 is recorded; the
// process is SIGKILLed a set time after its first acknowledged token. Then, from this process
// (a fresh connection, so SQLite recovers the WAL): PRAGMA integrity_check, the store's
// invariants, and every acknowledged token verified through the production bearer check.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import Database from 'better-sqlite3'
import { createOAuthServer } from '../../entries/core.js'
import { createSqliteStore } from '../../lib/store/sqlite/store.js'
import { createClientDatabases, type BenchClients } from '../../bench/seed.js'
import type { ServerTuning } from '../../bench/routes.js'
import { TS_LOADER_ARGS } from '../helpers/loader.js'

/** What one kill left behind. */
export interface KillReport {
  /** Tokens answered with a 200 before the kill. */
  readonly acknowledged: number
  /** Acknowledged tokens the restarted store does not accept. */
  readonly lost: number
  readonly integrity: string
  /** Invariant queries that found rows (each names the broken rule). */
  readonly violations: string[]
  /** Requests that failed because of the kill (connection reset), not counted as acknowledged. */
  readonly cut: number
  /** Responses ≥ 500 before the kill. */
  readonly serverErrors: number
}

export const ROOT = join(import.meta.dirname, '..', '..')

/** Starts bench/server.ts (the example app) on `path` with the test loader, as the CLI tests run the CLI, with the plugin's SQLite `tuning`; resolves once it listens. */
export async function startServer (path: string, tuning: ServerTuning = {}): Promise<{ pid: number, url: string, exited: Promise<unknown> }> {
  const args = [...TS_LOADER_ARGS, '--conditions=oauth-toolkit-source', 'bench/server.ts', 'app', path, '{}', JSON.stringify(tuning)]
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] })
  const exited = once(child, 'exit')
  const line = await Promise.race([
    once(createInterface({ input: child.stdout }), 'line') as Promise<[string]>,
    exited.then(([code]) => { throw new Error(`the server exited with ${String(code)} before it listened`) }),
  ])
  const { port } = JSON.parse(line[0]) as { port: number }
  if (child.pid === undefined) throw new Error('no pid')
  return { pid: child.pid, url: `http://127.0.0.1:${port}`, exited }
}

/** Migrates `path` and registers the bench clients (the client_credentials one is used). */
export async function prepareKillDatabase (path: string): Promise<BenchClients> {
  return await createClientDatabases([path])
}

const INVARIANTS: Record<string, string> = {
  'two live refresh tokens in one family': 'SELECT count(*) AS n FROM (SELECT token_family FROM oauth2_refreshtoken WHERE revoked IS NULL GROUP BY token_family HAVING count(*) > 1)',
  'a live refresh token without its access token': 'SELECT count(*) AS n FROM oauth2_refreshtoken WHERE revoked IS NULL AND access_token_id IS NULL',
  'a duplicated token checksum': 'SELECT count(*) AS n FROM (SELECT token_checksum FROM oauth2_accesstoken GROUP BY token_checksum HAVING count(*) > 1)',
}

/**
 * One round: starts the server on `path`, sends `concurrency` parallel request loops, kills the
 * server with SIGKILL after `killAfterMs`, and checks the file.
 */
export async function killUnderLoad (path: string, clients: BenchClients, options: { concurrency: number, killAfterMs: number }): Promise<KillReport> {
  const server = await startServer(path)
  const acknowledged: string[] = []
  let cut = 0
  let serverErrors = 0
  const state = { killed: false }
  const body = 'grant_type=client_credentials'
  const headers = { 'content-type': 'application/x-www-form-urlencoded', authorization: clients.service.basic }
  const loop = async (): Promise<void> => {
    while (!state.killed) {
      try {
        const res = await fetch(`${server.url}/o/token/`, { method: 'POST', headers, body })
        const text = await res.text()
        if (res.status === 200) acknowledged.push((JSON.parse(text) as { access_token: string }).access_token)
        else if (res.status >= 500) serverErrors++
      } catch {
        cut++
      }
    }
  }
  // The clock starts at the first acknowledged token: the client's first secret check (one
  // scrypt run, seconds on a loaded machine) writes nothing, so a kill before it tests nothing.
  for (let attempt = 0; attempt < 50 && acknowledged.length === 0; attempt++) {
    const res = await fetch(`${server.url}/o/token/`, { method: 'POST', headers, body })
    const text = await res.text()
    if (res.status === 200) acknowledged.push((JSON.parse(text) as { access_token: string }).access_token)
  }
  const loops = Array.from({ length: options.concurrency }, loop)
  await new Promise((resolve) => setTimeout(resolve, options.killAfterMs))
  process.kill(server.pid, 'SIGKILL')
  state.killed = true
  await Promise.all(loops)
  await server.exited

  const db = new Database(path)
  let integrity: string
  const violations: string[] = []
  try {
    integrity = String(db.pragma('integrity_check', { simple: true }))
    for (const [rule, sql] of Object.entries(INVARIANTS)) {
      if ((db.prepare(sql).get() as { n: number }).n > 0) violations.push(rule)
    }
    if ((db.pragma('foreign_key_check') as unknown[]).length > 0) violations.push('a broken foreign key')
  } finally {
    db.close()
  }
  const store = createSqliteStore({ database: path })
  let lost = 0
  try {
    const oauth = createOAuthServer({ store })
    for (const token of acknowledged) {
      const result = await oauth.authenticateBearer({ authorization: `Bearer ${token}`, queryToken: undefined })
      if (!result.ok) lost++
    }
  } finally {
    await store.close()
  }
  return { acknowledged: acknowledged.length, lost, integrity, violations, cut, serverErrors }
}
