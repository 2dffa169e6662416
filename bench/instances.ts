// Two instances of the minimal app on one PostgreSQL database (how multi-instance deployments
// run): the same load on one instance, then split over two, round by round.
import type { ServerChild } from './children.js'
import { prime, runLoad, warmUntilSteady, type LoadResult, type Target } from './load.js'
import type { Row } from './report.js'
import type { ScenarioResult, Sizes } from './scenarios.js'
import type { BenchClients } from './seed.js'
import { mainBearer, steadyWarmUp } from './bare-process.js'
import { median, ratio, round } from './stats.js'

/** One round of one arrangement: the loads run at once, their 2xx per second summed. */
interface SplitRound {
  readonly rps: number
  readonly non2xx: number
  readonly results: readonly LoadResult[]
}

async function runSplit (targets: readonly Target[], connections: number, seconds: number): Promise<SplitRound> {
  const each = Math.max(1, Math.floor(connections / targets.length))
  const results = await Promise.all(targets.map(async (t) => await runLoad(t, { connections: each, duration: seconds })))
  return { rps: results.reduce((n, r) => n + r.rps, 0), non2xx: results.reduce((n, r) => n + r.non2xx + r.errors, 0), results }
}

/**
 * One instance against two, alternating (one two, two one, …), for a request made by `target`
 * at an instance: the total of 2xx per second over the same number of connections.
 */
async function oneVersusTwo (target: (server: ServerChild) => Target, a: ServerChild, b: ServerChild, sizes: Sizes): Promise<{ one: SplitRound[], two: SplitRound[] }> {
  for (const s of [a, b]) await prime(target(s))
  const one: SplitRound[] = []
  const two: SplitRound[] = []
  const warm = steadyWarmUp(sizes)
  for (const s of [a, b]) await warmUntilSteady(target(s), { connections: sizes.connections }, warm.seconds, warm.maxSeconds)
  for (let r = 0; r < sizes.rounds; r++) {
    const runOne = async (): Promise<void> => { one.push(await runSplit([target(a)], sizes.connections, sizes.roundSeconds)) }
    const runTwo = async (): Promise<void> => { two.push(await runSplit([target(a), target(b)], sizes.connections, sizes.roundSeconds)) }
    if (r % 2 === 0) { await runOne(); await runTwo() } else { await runTwo(); await runOne() }
  }
  return { one, two }
}

/**
 * client_credentials issuance and protected-route verification with one instance and with two on
 * the same database, over the same connections in all. On two shared cores the instances compete
 * with each other and the load generator for CPU, so this shows what a second instance changes
 * where the database, not the CPU, bounds the work (the commits of issuance).
 */
export async function benchTwoInstances (section: string, a: ServerChild, b: ServerChild, clients: BenchClients, sizes: Sizes): Promise<ScenarioResult> {
  const headers = { 'content-type': 'application/x-www-form-urlencoded', authorization: clients.service.basic }
  const issue = (s: ServerChild): Target => ({ name: `client_credentials at ${s.name}`, origin: s.url, path: '/o/token/', method: 'POST', headers, body: 'grant_type=client_credentials&scope=read', pid: s.pid })
  const verify = (s: ServerChild): Target => ({ name: `GET /api/hello at ${s.name}`, origin: s.url, path: '/api/hello', vary: mainBearer(sizes.smallTokens), pid: s.pid })
  const issuance = await oneVersusTwo(issue, a, b, sizes)
  const verification = await oneVersusTwo(verify, a, b, sizes)
  const rows: Row[] = []
  for (const [what, measure, runs] of [['issuance', 'client_credentials tokens/s', issuance], ['verification', 'protected GET /api/hello req/s', verification]] as const) {
    const one = median(runs.one.map((r) => r.rps))
    const two = median(runs.two.map((r) => r.rps))
    const failures = [...runs.one, ...runs.two].reduce((n, r) => n + r.non2xx, 0)
    rows.push(
      { section, metric: `${measure}: one instance / two instances`, value: one, unit: `/ ${two}` },
      { section, metric: `… ${what}, two / one (median of paired rounds)`, value: round(median(runs.two.map((r, i) => r.rps / (runs.one[i]?.rps ?? NaN))), 3), unit: '×' },
      { section, metric: `… ${what}, two / one (ratio of the medians)`, value: ratio(two, one), unit: '×' },
      ...(failures > 0 ? [{ section, metric: `${measure}: non-2xx + errors`, value: failures, unit: '', target: '0', pass: false }] : [])
    )
  }
  return { rows, details: { issuance, verification } }
}
