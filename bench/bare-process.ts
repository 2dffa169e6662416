// The comparisons against a bare Fastify process (bench/minimal-server.ts, compiled): the README's
// minimal app on SQLite or PostgreSQL, its same-process baselines, and a separate process that
// serves the same handler and a form echo with nothing else, all in the same run.
import type { ServerChild } from './children.js'
import { readRss, type Rss } from './children.js'
import { alternate, prime, runLoad, type ArmSummary, type LoadResult, type Target, type WarmUp } from './load.js'
import { BARE_HELLO_PATH, FORM_ECHO_PATH } from './paths.js'
import type { Row } from './report.js'
import type { ScenarioResult, Sizes } from './scenarios.js'
import { accessTokenValue, type BenchClients } from './seed.js'
import { median, ratio, round } from './stats.js'

const FORM = 'application/x-www-form-urlencoded'
const CLIENT_CREDENTIALS = 'grant_type=client_credentials&scope=read'

/** Sets `Authorization: Bearer` to a random token of the `main` set. */
export function mainBearer (count: number): Target['vary'] {
  return (r) => { r.headers = { ...r.headers, authorization: `Bearer ${accessTokenValue('main', Math.floor(Math.random() * count))}` } }
}

/**
 * The median over the rounds of `a`'s req/s divided by `b`'s in the same round (`alternate` runs
 * every arm once per round, next to each other): the host's drift falls on both sides of each ratio.
 */
export function pairedRatio (a: ArmSummary, b: ArmSummary): number {
  return round(median(a.rounds.map((r, i) => r.rps / (b.rounds[i]?.rps ?? NaN))), 3)
}

function armRows (section: string, arms: readonly ArmSummary[]): Row[] {
  return arms.flatMap((a) => [
    { section, metric: a.name, value: a.rps, unit: `req/s, ${a.cpuUs} µs CPU/req, p50 ${a.p50} / p99 ${a.p99} ms` },
    ...(a.non2xx + a.errors > 0 ? [{ section, metric: `${a.name}: non-2xx + errors`, value: a.non2xx + a.errors, unit: '', target: '0', pass: false }] : []),
  ])
}

/** The warm-up of fresh compiled servers: until steady, in runs of at least 0.5 s, for up to 15 warm-ups' worth. */
export function steadyWarmUp (sizes: Sizes): Exclude<WarmUp, number> {
  return { seconds: Math.max(0.5, sizes.warmupSeconds), maxSeconds: 15 * sizes.warmupSeconds }
}

function target (section: string, metric: string, value: number, min: number): Row {
  return { section, metric, value, unit: '×', target: `≥ ${min.toFixed(2)}`, pass: value >= min }
}

/**
 * The host's unprotected route and the protected route of the minimal app against the same
 * handler in the bare process, alternated round by round (paired rounds, as scenario 1), with
 * the same handler in a second bare process (`control`): an A/A comparison that shows how far two
 * identical processes read apart in this run.
 */
export async function benchRoutesAgainstBare (section: string, app: ServerChild, bare: ServerChild, control: ServerChild, sizes: Sizes): Promise<ScenarioResult> {
  const vary = mainBearer(sizes.smallTokens)
  const arms = await alternate([
    { name: 'bare process GET /api/hello', origin: bare.url, path: '/api/hello', vary, pid: bare.pid },
    { name: 'second bare process GET /api/hello (A/A control)', origin: control.url, path: '/api/hello', vary, pid: control.pid },
    { name: `unprotected GET ${BARE_HELLO_PATH}`, origin: app.url, path: BARE_HELLO_PATH, vary, pid: app.pid },
    { name: 'protected GET /api/hello (cache hit)', origin: app.url, path: '/api/hello', vary, pid: app.pid },
  ], sizes.pairedRounds, { connections: sizes.connections, duration: sizes.pairedRoundSeconds }, steadyWarmUp(sizes))
  const [bareArm, controlArm, unprotected, prot] = arms as [ArmSummary, ArmSummary, ArmSummary, ArmSummary]
  return {
    rows: [
      ...armRows(section, arms),
      { section, metric: 'A/A control: second bare process / bare process (paired)', value: pairedRatio(controlArm, bareArm), unit: `×, CPU-time ratio ${ratio(bareArm.cpuUs, controlArm.cpuUs)}` },
      target(section, 'unprotected / bare process (median of paired rounds)', pairedRatio(unprotected, bareArm), 0.97),
      target(section, 'protected / bare process (median of paired rounds)', pairedRatio(prot, bareArm), 0.90),
      { section, metric: 'protected / unprotected, same process (paired)', value: pairedRatio(prot, unprotected), unit: '×' },
      { section, metric: 'CPU-time ratio bare / unprotected, bare / protected', value: ratio(bareArm.cpuUs, unprotected.cpuUs), unit: `/ ${ratio(bareArm.cpuUs, prot.cpuUs)} ×` },
    ],
    details: { arms },
  }
}

/**
 * The protected route of a minimal app with the verification cache off (every request reads the
 * table) against the bare process, in rounds of their own: alternated with the other arms, the
 * database work of its rounds spilled into its neighbours'.
 */
export async function benchMissAgainstBare (section: string, miss: ServerChild, bare: ServerChild, sizes: Sizes): Promise<ScenarioResult> {
  const vary = mainBearer(sizes.smallTokens)
  const arms = await alternate([
    { name: 'bare process GET /api/hello', origin: bare.url, path: '/api/hello', vary, pid: bare.pid },
    { name: 'protected GET /api/hello, cache off (miss)', origin: miss.url, path: '/api/hello', vary, pid: miss.pid },
  ], sizes.pairedRounds, { connections: sizes.connections, duration: sizes.pairedRoundSeconds }, steadyWarmUp(sizes))
  const [bareArm, missArm] = arms as [ArmSummary, ArmSummary]
  return {
    rows: [
      ...armRows(section, [missArm]),
      { section, metric: 'cache miss / bare process (paired)', value: pairedRatio(missArm, bareArm), unit: `×, CPU-time ratio ${ratio(bareArm.cpuUs, missArm.cpuUs)}` },
    ],
    details: { arms },
  }
}

/**
 * client_credentials (client_secret_basic) at the minimal app against the form echo of the same
 * process and of the bare process (same headers and body). `min`: the target on the bare echo.
 */
export async function benchIssuanceAgainstBare (section: string, app: ServerChild, bare: ServerChild, clients: BenchClients, sizes: Sizes, min: number | null): Promise<ScenarioResult> {
  const headers = { 'content-type': FORM, authorization: clients.service.basic }
  const post = { method: 'POST' as const, headers, body: CLIENT_CREDENTIALS }
  const arms = await alternate([
    { name: `bare process form echo POST ${FORM_ECHO_PATH}`, origin: bare.url, path: FORM_ECHO_PATH, ...post, pid: bare.pid },
    { name: `same-process form echo POST ${FORM_ECHO_PATH}`, origin: app.url, path: FORM_ECHO_PATH, ...post, pid: app.pid },
    { name: 'client_credentials POST /o/token/', origin: app.url, path: '/o/token/', ...post, pid: app.pid },
  ], sizes.rounds, { connections: sizes.connections, duration: sizes.roundSeconds }, steadyWarmUp(sizes))
  const [bareEcho, echo, token] = arms as [ArmSummary, ArmSummary, ArmSummary]
  const vsBare = pairedRatio(token, bareEcho)
  return {
    rows: [
      ...armRows(section, arms),
      min === null
        ? { section, metric: 'token / bare-process form echo (paired)', value: vsBare, unit: '×' }
        : target(section, 'token / bare-process form echo (paired)', vsBare, min),
      { section, metric: 'token / same-process form echo (paired)', value: pairedRatio(token, echo), unit: '×' },
      { section, metric: 'CPU-time ratio bare echo / token', value: ratio(bareEcho.cpuUs, token.cpuUs), unit: '×' },
    ],
    details: { arms },
  }
}

/** What a server is loaded with for its peak RSS: verification and issuance at once. */
export interface RssLoad {
  readonly server: ServerChild
  readonly verify: Target
  readonly issue: Target
}

/** Peak and idle RSS of a fresh server after `seconds` of verification and issuance at once (half the connections each). */
export async function peakRssUnderLoad (load: RssLoad, sizes: Sizes, seconds: number): Promise<{ idle: Rss, peak: Rss, verify: LoadResult, issue: LoadResult }> {
  const idle = readRss(load.server.pid)
  await prime(load.issue)
  const half = { connections: Math.max(1, sizes.connections / 2), duration: seconds }
  const [verify, issue] = await Promise.all([runLoad(load.verify, half), runLoad(load.issue, half)])
  return { idle, peak: readRss(load.server.pid), verify, issue }
}

/** The verification and issuance load of a minimal app (`/api/hello`, `/o/token/`), or of the bare process (`/api/hello`, the echo). */
export function rssLoad (server: ServerChild, clients: BenchClients, sizes: Sizes, bare: boolean): RssLoad {
  const headers = { 'content-type': FORM, authorization: clients.service.basic }
  return {
    server,
    verify: { name: `${server.name} GET /api/hello`, origin: server.url, path: '/api/hello', vary: mainBearer(sizes.smallTokens), pid: server.pid },
    issue: { name: `${server.name} POST ${bare ? FORM_ECHO_PATH : '/o/token/'}`, origin: server.url, path: bare ? FORM_ECHO_PATH : '/o/token/', method: 'POST', headers, body: CLIENT_CREDENTIALS, pid: server.pid },
  }
}

/** Rows of a peak-RSS comparison: the toolkit server against the bare process under the same load for as long. */
export function rssRows (section: string, label: string, app: { idle: Rss, peak: Rss, verify: LoadResult, issue: LoadResult }, bare: { idle: Rss, peak: Rss, verify: LoadResult, issue: LoadResult }): Row[] {
  const peakRatio = ratio(app.peak.peakMiB, bare.peak.peakMiB)
  return [
    { section, metric: `peak RSS, minimal app on ${label} / bare process`, value: round(app.peak.peakMiB, 1), unit: `/ ${round(bare.peak.peakMiB, 1)} MiB` },
    { section, metric: `… ratio (${label})`, value: peakRatio, unit: '×', target: '≤ 1.50', pass: peakRatio <= 1.5 },
    { section, metric: `… idle before the load (${label})`, value: round(app.idle.rssMiB, 1), unit: `/ ${round(bare.idle.rssMiB, 1)} MiB` },
    { section, metric: `… served meanwhile (${label}): verifications / tokens`, value: app.verify.rps, unit: `/ ${app.issue.rps} per s` },
    { section, metric: '… the bare process served: hello / form echo', value: bare.verify.rps, unit: `/ ${bare.issue.rps} per s` },
    ...(app.verify.non2xx + app.issue.non2xx + app.verify.errors + app.issue.errors > 0
      ? [{ section, metric: `… non-2xx + errors (${label})`, value: app.verify.non2xx + app.issue.non2xx + app.verify.errors + app.issue.errors, unit: '', target: '0', pass: false }]
      : []),
  ]
}
