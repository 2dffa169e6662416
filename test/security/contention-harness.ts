// G5 / STORE-2, SQLite contention. Shared by test/security/sqlite-contention.test.ts (until one
// cleartokens run has ended) and `npm run bench -- --contention` (bench/contention.ts, 60 s).
// Not a test file.
// Two server processes (bench/server.ts, the example app) write to one SQLite file while a
// cleartokens job runs again and again in a third process. Load: half the workers issue a
// client_credentials token and revoke it, the other half exchange a seeded code and then
// rotate its refresh token over and over; requests alternate between the two servers. Counted:
// every status, every 5xx, every body or job output mentioning SQLITE_BUSY / "database is
// locked", and the token endpoint's latencies.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CODE_VERIFIER, codeValue, createClientDatabases, REDIRECT_URI, seedAccessTokens, seedCodes } from '../../bench/seed.js'
import { createSqliteStore } from '../../entries/sqlite.js'
import { createOAuthServer } from '../../entries/core.js'
import { ROOT, startServer } from './kill-harness.js'
import { TS_LOADER_ARGS } from '../helpers/loader.js'

/** What a run saw. */
export interface ContentionReport {
  readonly seconds: number
  readonly requests: number
  readonly statuses: Record<string, number>
  readonly serverErrors: number
  /** Responses or cleartokens runs that mention SQLITE_BUSY or "database is locked". */
  readonly busy: number
  readonly clearRuns: number
  readonly clearFailures: number
  /** Token endpoint latency, ms. */
  readonly tokenP50: number
  readonly tokenP99: number
  readonly tokenMax: number
}

const BUSY = /SQLITE_BUSY|database is locked/i

function percentile (sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] ?? NaN
}

/**
 * Runs the load for `seconds` with `workers` concurrent request loops over `servers` server
 * processes (2), with the cleartokens loop in a process of its own, in this process
 * (`'in-process'`), or none (`false`, to tell the causes apart);
 * the load goes on past `seconds` until `minClearRuns` cleartokens runs have ended. The file
 * starts with `expiredTokens` (20,000) expired access tokens for cleartokens to delete.
 */
export async function runContention (options: { seconds: number, workers: number, servers?: number, clear?: boolean | 'in-process', minClearRuns?: number, expiredTokens?: number }): Promise<ContentionReport> {
  const dir = mkdtempSync(join(tmpdir(), 'oat-contention-'))
  const path = join(dir, 'contention.sqlite3')
  const servers: Array<Awaited<ReturnType<typeof startServer>>> = []
  try {
    const clients = await createClientDatabases([path])
    const refreshers = Math.ceil(options.workers / 2)
    await seedCodes(path, clients.webapp, refreshers)
    // Expired rows for cleartokens to delete while the load runs.
    seedAccessTokens(path, clients.service.id, [{ set: 'expired', count: options.expiredTokens ?? 20_000, expiresAt: new Date(Date.now() - 3600_000) }])
    servers.push(...await Promise.all(Array.from({ length: options.servers ?? 2 }, async () => await startServer(path))))
    const statuses: Record<string, number> = {}
    const tokenLatencies: number[] = []
    let requests = 0
    let serverErrors = 0
    let busy = 0
    const state = { running: true }
    const form = { 'content-type': 'application/x-www-form-urlencoded' }
    let turn = 0
    const send = async (path: string, authorization: string, body: Record<string, string>): Promise<{ status: number, json: Record<string, string> }> => {
      const server = servers[turn++ % servers.length]
      if (server === undefined) throw new Error('no server')
      const started = performance.now()
      const res = await fetch(`${server.url}${path}`, { method: 'POST', headers: { ...form, authorization }, body: new URLSearchParams(body).toString() })
      const text = await res.text()
      if (path === '/o/token/') tokenLatencies.push(performance.now() - started)
      requests++
      statuses[res.status] = (statuses[res.status] ?? 0) + 1
      if (res.status >= 500) serverErrors++
      if (BUSY.test(text)) busy++
      let json: Record<string, string> = {}
      try { json = JSON.parse(text) as Record<string, string> } catch {}
      return { status: res.status, json }
    }
    const issuer = async (): Promise<void> => {
      while (state.running) {
        const issued = await send('/o/token/', clients.service.basic, { grant_type: 'client_credentials' })
        const token = issued.json.access_token
        if (token !== undefined) await send('/o/revoke_token/', clients.service.basic, { token })
      }
    }
    const refresher = async (i: number): Promise<void> => {
      const first = await send('/o/token/', clients.webapp.basic, { grant_type: 'authorization_code', code: codeValue(i), redirect_uri: REDIRECT_URI, code_verifier: CODE_VERIFIER })
      let refreshToken = first.json.refresh_token
      while (state.running && refreshToken !== undefined) {
        refreshToken = (await send('/o/token/', clients.webapp.basic, { grant_type: 'refresh_token', refresh_token: refreshToken })).json.refresh_token
      }
      if (refreshToken === undefined) throw new Error('a refresh chain broke (see the statuses)')
    }
    let clearRuns = 0
    let clearFailures = 0
    const clearLoop = async (): Promise<void> => {
      if (options.clear === 'in-process') {
        // A connection of this process (the quick test: no process to start). Its batches block
        // this process's event loop, not the servers'; for SQLite it is one more writer either way.
        const store = createSqliteStore({ database: path })
        try {
          const server = createOAuthServer({ store })
          while (state.running || clearRuns === 0) {
            try {
              await server.clearExpiredTokens()
            } catch (err) {
              clearFailures++
              if (BUSY.test(String(err))) busy++
            }
            clearRuns++
            await new Promise((resolve) => setTimeout(resolve, 20))
          }
        } finally {
          await store.close()
        }
        return
      }
      while (state.running && options.clear !== false) {
        const child = spawn(process.execPath, [...TS_LOADER_ARGS, '--conditions=oauth-toolkit-source', 'bench/clear.ts', path, new Date().toISOString()], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
        let output = ''
        child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString() })
        child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString() })
        const [code] = await once(child, 'exit') as [number | null]
        clearRuns++
        if (code !== 0) clearFailures++
        if (BUSY.test(output)) busy++
      }
    }
    // Each server's first secret check per client is one scrypt run (seconds on a loaded machine)
    // that every request of the first burst waits for: done before the clock starts, so the
    // latencies are those of the contention, not of a cold start.
    for (const server of servers) {
      for (const basic of [clients.service.basic, clients.webapp.basic]) {
        await fetch(`${server.url}/o/token/`, { method: 'POST', headers: { ...form, authorization: basic }, body: 'grant_type=refresh_token&refresh_token=warm-up' }).then(async (res) => await res.text())
      }
    }
    const started = performance.now()
    const loops = [
      clearLoop(),
      ...Array.from({ length: refreshers }, async (_, i) => { await refresher(i) }),
      ...Array.from({ length: options.workers - refreshers }, issuer),
    ]
    await new Promise((resolve) => setTimeout(resolve, options.seconds * 1000))
    while (clearRuns < (options.minClearRuns ?? 0)) await new Promise((resolve) => setTimeout(resolve, 20))
    state.running = false
    await Promise.all(loops)
    const seconds = (performance.now() - started) / 1000
    const sorted = tokenLatencies.sort((a, b) => a - b)
    return {
      seconds,
      requests,
      statuses,
      serverErrors,
      busy,
      clearRuns,
      clearFailures,
      tokenP50: percentile(sorted, 0.5),
      tokenP99: percentile(sorted, 0.99),
      tokenMax: sorted.at(-1) ?? NaN,
    }
  } finally {
    for (const server of servers) {
      process.kill(server.pid, 'SIGTERM')
      await server.exited
    }
    rmSync(dir, { recursive: true, force: true })
  }
}
