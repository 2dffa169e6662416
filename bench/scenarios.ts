// The measurements of issue 7, one function each; run.ts orders them and prints the rows.
import type { SettingsInput } from '../index.js'
import { createSqliteStore } from '../entries/sqlite.js'
import { createOAuthServer } from '../entries/core.js'
import { runClearJob, type ServerChild } from './children.js'
import type { ClearReport } from './clear.js'
import { alternate, prime, runLoad, startLoad, type ArmSummary, type LoadOptions, type LoadResult, type Target } from './load.js'
import type { Row } from './report.js'
import { accessTokenValue, codeValue, CODE_VERIFIER, REDIRECT_URI, type BenchClients } from './seed.js'
import { BARE_HELLO_PATH, FORM_ECHO_PATH, TABLE_MMAP_SIZE } from './routes.js'
import { median, ratio, round } from './stats.js'

/** How big and how long, per mode. */
export interface Sizes {
  readonly rounds: number
  readonly roundSeconds: number
  /** Scenario 1's alternating rounds, shorter and more of them: its ratio is read on pairs of neighbouring rounds. */
  readonly pairedRounds: number
  readonly pairedRoundSeconds: number
  readonly warmupSeconds: number
  readonly connections: number
  readonly smallTokens: number
  readonly largeTokens: number
  readonly codes: number
  /** Verifications per in-process round (scenario 5). */
  readonly verifyBatch: number
  /** cleartokens settings for scenario 6 (`clearExpiredTokensBatchSize`, `…BatchInterval`); defaults otherwise. */
  readonly clearSettings: SettingsInput
}

/** Rows for the table, and everything measured for the JSON file. */
export interface ScenarioResult {
  readonly rows: Row[]
  readonly details: object
}

const FORM = 'application/x-www-form-urlencoded'

function pick (count: number): number {
  return Math.floor(Math.random() * count)
}

/** Sets `Authorization: Bearer` to a random token of a seeded set. */
function randomBearer (set: string, count: number): Target['vary'] {
  return (r) => { r.headers = { ...r.headers, authorization: `Bearer ${accessTokenValue(set, pick(count))}` } }
}

function latencyRows (section: string, arms: readonly ArmSummary[]): Row[] {
  return arms.flatMap((a) => [
    { section, metric: `${a.name}: p50 / p99`, value: a.p50, unit: `/ ${a.p99} ms` },
    ...(a.non2xx + a.errors > 0 ? [{ section, metric: `${a.name}: non-2xx + errors`, value: a.non2xx + a.errors, unit: '', target: '0', pass: false }] : []),
  ])
}

/**
 * Server CPU per request of a baseline and a subject, and their ratio: what the req/s ratio
 * would be if the server alone were CPU-bound. Shown beside req/s because it moves less when
 * other processes compete for the two cores.
 */
function cpuRows (section: string, base: ArmSummary, subject: ArmSummary, label: string): Row[] {
  return [
    { section, metric: `server CPU per request, ${label}`, value: base.cpuUs, unit: `/ ${subject.cpuUs} µs` },
    { section, metric: `CPU-time ratio ${label} (req/s estimate)`, value: ratio(base.cpuUs, subject.cpuUs), unit: '×' },
  ]
}

/**
 * 1. `GET /api/hello` with a valid token vs the same handler without the check, same process.
 * The target is read on the median of the per-round ratios: each round of A is divided by the
 * round of B run next to it, so that the machine's drift over the run (other tenants of a
 * shared host move throughput by ±30 % within seconds) falls on both sides of each ratio.
 */
export async function benchProtectedRoute (main: ServerChild, sizes: Sizes): Promise<ScenarioResult> {
  const vary = randomBearer('main', sizes.smallTokens)
  const [prot, bare] = await alternate([
    { name: 'protected GET /api/hello', origin: main.url, path: '/api/hello', vary, pid: main.pid },
    { name: `unprotected GET ${BARE_HELLO_PATH}`, origin: main.url, path: BARE_HELLO_PATH, vary, pid: main.pid },
  ], sizes.pairedRounds, { connections: sizes.connections, duration: sizes.pairedRoundSeconds }, sizes.warmupSeconds) as [ArmSummary, ArmSummary]
  const section = '1. protected route'
  const pairedRatios = prot.rounds.map((r, i) => r.rps / bare.rounds[i]!.rps)
  const rpsRatio = round(median(pairedRatios), 3)
  const p99Ratio = ratio(prot.p99, bare.p99)
  return {
    rows: [
      { section, metric: `${bare.name}`, value: bare.rps, unit: 'req/s' },
      { section, metric: `${prot.name}`, value: prot.rps, unit: 'req/s' },
      { section, metric: 'ratio protected / unprotected (median of paired rounds)', value: rpsRatio, unit: '×', target: '≥ 0.90', pass: rpsRatio >= 0.9 },
      { section, metric: 'ratio of the medians above', value: ratio(prot.rps, bare.rps), unit: '×' },
      ...latencyRows(section, [bare, prot]),
      { section, metric: 'p99 ratio protected / unprotected', value: p99Ratio, unit: '×', target: '≤ 1.5', pass: p99Ratio <= 1.5 },
      ...cpuRows(section, bare, prot, 'unprotected / protected'),
    ],
    details: { protected: prot, unprotected: bare, pairedRatios: pairedRatios.map((r) => round(r, 3)) },
  }
}

/** 2 and 4. client_credentials (client_secret_basic) and introspection vs a bare form echo. */
export async function benchTokenEndpoint (main: ServerChild, clients: BenchClients, sizes: Sizes, options: LoadOptions): Promise<ScenarioResult> {
  const headers = { 'content-type': FORM, authorization: clients.service.basic }
  const body = 'grant_type=client_credentials&scope=read'
  const [echo, token, introspect] = await alternate([
    { name: `form echo POST ${FORM_ECHO_PATH}`, origin: main.url, path: FORM_ECHO_PATH, method: 'POST', headers, body, pid: main.pid },
    { name: 'client_credentials POST /o/token/', origin: main.url, path: '/o/token/', method: 'POST', headers, body, pid: main.pid },
    {
      name: 'introspection POST /o/introspect/',
      origin: main.url,
      path: '/o/introspect/',
      method: 'POST',
      headers,
      pid: main.pid,
      vary: (r) => { r.body = `token=${accessTokenValue('main', pick(sizes.smallTokens))}&token_type_hint=access_token` },
    },
  ], sizes.rounds, options, sizes.warmupSeconds) as [ArmSummary, ArmSummary, ArmSummary]
  const issue = ratio(token.rps, echo.rps)
  return {
    rows: [
      { section: '2. token issuance', metric: echo.name, value: echo.rps, unit: 'req/s' },
      { section: '2. token issuance', metric: token.name, value: token.rps, unit: 'req/s' },
      { section: '2. token issuance', metric: 'ratio token / form echo', value: issue, unit: '×', target: '≥ 0.25', pass: issue >= 0.25 },
      ...latencyRows('2. token issuance', [echo, token]),
      ...cpuRows('2. token issuance', echo, token, 'echo / token'),
      { section: '4. introspection', metric: introspect.name, value: introspect.rps, unit: 'req/s' },
      { section: '4. introspection', metric: 'ratio introspection / form echo', value: ratio(introspect.rps, echo.rps), unit: '×' },
      ...latencyRows('4. introspection', [introspect]),
      ...cpuRows('4. introspection', echo, introspect, 'echo / introspection'),
    ],
    details: { echo, token, introspect },
  }
}

/** 3. Authorization-code exchanges (PKCE, seeded codes), then rotating the refresh tokens they returned. */
export async function benchFlows (main: ServerChild, clients: BenchClients, sizes: Sizes, section = '3. code flow'): Promise<ScenarioResult> {
  const headers = { 'content-type': FORM, authorization: clients.webapp.basic }
  const refreshTokens: string[] = []
  let nextCode = 0
  // Each connection builds one request ahead, so stop a connection's worth short of the codes.
  const exchanges = Math.max(1, sizes.codes - 2 * sizes.connections)
  const exchangeTarget: Target = {
    name: 'authorization_code exchange',
    origin: main.url,
    path: '/o/token/',
    method: 'POST',
    headers,
    pid: main.pid,
    vary: (r) => {
      r.body = `grant_type=authorization_code&code=${codeValue(nextCode++)}&redirect_uri=${encodeURIComponent(REDIRECT_URI)}&code_verifier=${CODE_VERIFIER}`
    },
    onResponse: (status, body) => {
      if (status === 200) refreshTokens.push((JSON.parse(body) as { refresh_token: string }).refresh_token)
    },
  }
  await prime(exchangeTarget)
  const exchange = await runLoad(exchangeTarget, { connections: sizes.connections, amount: exchanges })
  let nextRefresh = 0
  const refresh = await runLoad({
    name: 'refresh_token rotation',
    origin: main.url,
    path: '/o/token/',
    method: 'POST',
    headers,
    pid: main.pid,
    vary: (r) => { r.body = `grant_type=refresh_token&refresh_token=${encodeURIComponent(refreshTokens[nextRefresh++ % refreshTokens.length] ?? '')}` },
  }, { connections: sizes.connections, amount: Math.max(1, refreshTokens.length - 2 * sizes.connections) })
  const rows = (r: LoadResult, what: string): Row[] => [
    { section, metric: `${what}/s (${r.name})`, value: r.rps, unit: 'req/s' },
    { section, metric: `${what}: p50 / p99`, value: r.p50, unit: `/ ${r.p99} ms` },
    { section, metric: `${what}: server CPU per request`, value: r.cpuUs, unit: 'µs' },
    ...(r.non2xx + r.errors > 0 ? [{ section, metric: `${what}: non-2xx + errors`, value: r.non2xx + r.errors, unit: '', target: '0', pass: false }] : []),
  ]
  return { rows: [...rows(exchange, 'exchanges'), ...rows(refresh, 'refreshes')], details: { exchange, refresh } }
}

/**
 * 2b. The first burst of concurrent token requests from a client the process has not seen yet:
 * every request that misses the verified-secret cache runs the KDF. Runs last on its server
 * (with a long timeout, so all the work is done when it returns) because it loads the cores.
 */
export async function benchFirstBurst (main: ServerChild, clients: BenchClients, sizes: Sizes): Promise<ScenarioResult> {
  const burst = await runLoad({
    name: `first burst of ${sizes.connections} client_credentials requests`,
    origin: main.url,
    path: '/o/token/',
    method: 'POST',
    headers: { 'content-type': FORM, authorization: clients.cold.basic },
    body: 'grant_type=client_credentials&scope=read',
    pid: main.pid,
  }, { connections: sizes.connections, amount: sizes.connections, timeoutSeconds: 300 })
  const section = '2. token issuance'
  return {
    rows: [
      { section, metric: `${burst.name} from a new client: slowest`, value: burst.max, unit: 'ms' },
      { section, metric: 'first burst: server CPU in all', value: Math.round(burst.cpuUs * sizes.connections / 1000), unit: 'ms' },
    ],
    details: { burst },
  }
}

/** How many tokens of a table the "active set" measure of scenario 5 verifies (spread over the whole table). */
const ACTIVE_TOKENS = 1_000

/**
 * Median microseconds per in-process `authenticateBearer` over alternating batches at two table
 * sizes (file memory-mapped). `choose(count)` picks the index of the token to verify in a table
 * of `count` seeded tokens. `cache`: with the verification cache as configured by default (the
 * first round, a warm-up, fills it), else without it (what the store's lookup costs).
 */
async function inProcessVerification (databases: { small: string, large: string }, sizes: Sizes, choose: (count: number) => number, cache: boolean): Promise<{ small: number, large: number }> {
  const settings = cache ? {} : { verificationCacheSize: 0 }
  // A cache hit costs ~1/10 of a lookup: ten times the calls per batch keep the batches as long.
  const batch = cache ? sizes.verifyBatch * 10 : sizes.verifyBatch
  const open = (path: string): ReturnType<typeof createOAuthServer> => createOAuthServer({ store: createSqliteStore({ database: path, mmapSize: TABLE_MMAP_SIZE }), settings })
  const servers = { small: open(databases.small), large: open(databases.large) }
  const counts = { small: sizes.smallTokens, large: sizes.largeTokens }
  const samples = { small: [] as number[], large: [] as number[] }
  try {
    for (let r = 0; r < sizes.rounds + 1; r++) {
      for (const which of r % 2 === 0 ? ['small', 'large'] as const : ['large', 'small'] as const) {
        const started = performance.now()
        for (let i = 0; i < batch; i++) {
          const result = await servers[which].authenticateBearer({ authorization: `Bearer ${accessTokenValue(which, choose(counts[which]))}`, queryToken: undefined })
          if (!result.ok) throw new Error(`seeded ${which} token did not verify`)
        }
        // The first round warms up.
        if (r > 0) samples[which].push((performance.now() - started) * 1000 / batch)
      }
    }
  } finally {
    await servers.small.store.close()
    await servers.large.store.close()
  }
  return { small: round(median(samples.small), 2), large: round(median(samples.large), 2) }
}

/**
 * Picks among `ACTIVE_TOKENS` tokens spread evenly over a table (the same set every call): the
 * tokens clients are using, in a table that also holds every other token issued and not yet
 * cleared. Their rows and index entries lie all over the file, as a live table's do.
 */
function activeToken (count: number): number {
  const active = Math.min(count, ACTIVE_TOKENS)
  return Math.floor(pick(active) * count / active)
}

/** 5. Verification cost with a small vs a large token table: in-process, then over HTTP. */
export async function benchTableSize (servers: { small: ServerChild, large: ServerChild }, databases: { small: string, large: string },
  sizes: Sizes, options: LoadOptions): Promise<ScenarioResult> {
  // The target is read on the default configuration: a set of active tokens among the table's
  // others (how a live server's traffic looks), the verification cache on. Then what a cache miss
  // costs, the store's lookup: the same active set, and every token of the table equally likely
  // (the worst case, no locality at all). No B-tree lookup is flat from 1k to 1M rows (index and
  // table depth, CPU-cache misses; bench/README.md), which is what the cache is for.
  const cached = await inProcessVerification(databases, sizes, activeToken, true)
  const active = await inProcessVerification(databases, sizes, activeToken, false)
  const micro = await inProcessVerification(databases, sizes, pick, false)
  const n = (count: number): string => count >= 1_000_000 ? `${count / 1_000_000}M` : `${count / 1000}k`
  const [small, large] = await alternate([
    { name: `GET /api/hello, ${n(sizes.smallTokens)} tokens`, origin: servers.small.url, path: '/api/hello', vary: randomBearer('small', sizes.smallTokens), pid: servers.small.pid },
    { name: `GET /api/hello, ${n(sizes.largeTokens)} tokens`, origin: servers.large.url, path: '/api/hello', vary: randomBearer('large', sizes.largeTokens), pid: servers.large.pid },
  ], sizes.rounds, options, sizes.warmupSeconds) as [ArmSummary, ArmSummary]
  const section = '5. table size'
  const cachedRatio = ratio(cached.large, cached.small)
  const activeRatio = ratio(active.large, active.small)
  const microRatio = ratio(micro.large, micro.small)
  const httpRatio = ratio(large.rps, small.rps)
  const active1k = `${ACTIVE_TOKENS.toLocaleString('en-US')} active tokens`
  return {
    rows: [
      { section, metric: `in-process verification, default settings, ${active1k}, ${n(sizes.smallTokens)} tokens`, value: cached.small, unit: 'µs' },
      { section, metric: `in-process verification, default settings, ${active1k}, ${n(sizes.largeTokens)} tokens`, value: cached.large, unit: 'µs' },
      { section, metric: 'ratio large / small (time)', value: cachedRatio, unit: '×', target: '0.90–1.10', pass: Math.abs(cachedRatio - 1) <= 0.1 },
      { section, metric: `cache off (the store's lookup), ${active1k}, ${n(sizes.smallTokens)} / ${n(sizes.largeTokens)} tokens`, value: active.small, unit: `/ ${active.large} µs` },
      { section, metric: '… ratio large / small (time)', value: activeRatio, unit: '×' },
      { section, metric: `cache off, every token equally likely, ${n(sizes.smallTokens)} / ${n(sizes.largeTokens)} tokens`, value: micro.small, unit: `/ ${micro.large} µs` },
      { section, metric: '… ratio large / small (time)', value: microRatio, unit: '×' },
      { section, metric: small.name + ', cache off', value: small.rps, unit: 'req/s' },
      { section, metric: large.name + ', cache off', value: large.rps, unit: 'req/s' },
      { section, metric: 'ratio large / small (req/s)', value: httpRatio, unit: '×' },
      ...latencyRows(section, [small, large]),
      ...cpuRows(section, small, large, 'small / large'),
    ],
    details: { defaultSettingsMicroseconds: cached, cacheOffActiveMicroseconds: active, cacheOffUniformMicroseconds: micro, small, large },
  }
}

/**
 * 6. cleartokens in its own process on the large table, with the clock a day ahead (the same
 * DELETEs as on genuinely expired rows), while the server keeps verifying long-lived tokens at a
 * fixed rate and issues a few tokens: how long it takes, its longest batch, and the latency
 * meanwhile. WAL readers never wait for the cleaner, but a token issuance waits for its write
 * lock, and better-sqlite3's busy handler sleeps on the event loop while it does.
 */
export async function benchCleartokens (large: ServerChild, database: string, clients: BenchClients, sizes: Sizes): Promise<ScenarioResult> {
  const verify: Target = { name: 'GET /api/hello', origin: large.url, path: '/api/hello', vary: randomBearer('keep', 1_000) }
  const issue: Target = {
    name: 'client_credentials POST /o/token/',
    origin: large.url,
    path: '/o/token/',
    method: 'POST',
    headers: { 'content-type': FORM, authorization: clients.service.basic },
    body: 'grant_type=client_credentials&scope=read',
  }
  await prime(issue)
  const verifyRate: LoadOptions = { connections: 8, overallRate: 1000 }
  const issueRate: LoadOptions = { connections: 2, overallRate: 20 }
  const seconds = Math.max(0.5, sizes.roundSeconds)
  const [before, issueBefore] = await Promise.all([runLoad(verify, { ...verifyRate, duration: seconds }), runLoad(issue, { ...issueRate, duration: seconds })])
  const loads = [startLoad(verify, { ...verifyRate, duration: 600 }), startLoad(issue, { ...issueRate, duration: 600 })]
  let job: ClearReport
  try {
    job = await runClearJob<ClearReport>([database, new Date(Date.now() + 86400_000).toISOString(), JSON.stringify(sizes.clearSettings)])
  } finally {
    for (const l of loads) l.stop()
  }
  const [during, issueDuring] = await Promise.all(loads.map(async (l) => await l.done)) as [LoadResult, LoadResult]
  const section = '6. cleartokens'
  const limit = round(10 * job.accessTokens / 1_000_000, 2)
  const failures = during.non2xx + during.errors + issueDuring.non2xx + issueDuring.errors
  return {
    rows: [
      { section, metric: `cleartokens, ${job.accessTokens.toLocaleString('en-US')} expired access tokens`, value: round(job.seconds, 2), unit: 's', target: `< ${limit} (10 s per 1M)`, pass: job.seconds < limit },
      { section, metric: 'rows deleted per second', value: Math.round(job.accessTokens / job.seconds), unit: 'rows/s' },
      {
        section,
        metric: `batches of ≤ ${job.batchSize.toLocaleString('en-US')} rows${job.batchInterval > 0 ? `, ${job.batchInterval} s apart` : ''}: median`,
        value: round(job.medianBatchMs, 1),
        unit: `ms (${job.batches} batches)`,
      },
      { section, metric: 'longest batch', value: round(job.maxBatchMs, 1), unit: 'ms', target: '≤ 50', pass: job.maxBatchMs <= 50 },
      { section, metric: 'verification at 1k req/s, before: p99 / max', value: before.p99, unit: `/ ${before.max} ms` },
      { section, metric: 'verification at 1k req/s, during: p99 / max', value: during.p99, unit: `/ ${during.max} ms` },
      { section, metric: 'issuance at 20 req/s, before / during: max', value: issueBefore.max, unit: `/ ${issueDuring.max} ms` },
      { section, metric: 'verification max latency during cleartokens', value: during.max, unit: 'ms', target: '≤ 50', pass: during.max <= 50 },
      ...(failures > 0 ? [{ section, metric: 'non-2xx + errors during', value: failures, unit: '', target: '0', pass: false }] : []),
    ],
    details: { job, before, during, issueBefore, issueDuring },
  }
}
