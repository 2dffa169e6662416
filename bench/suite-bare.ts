// Sections 8 and 9 of `npm run bench`: the README's minimal app, compiled and run with plain
// `node`, against a bare Fastify process serving the same handler (section 8 on SQLite), and the
// PostgreSQL scenarios (section 9), each against its same-process baselines and the bare process.
import type { ServerChild } from './children.js'
import { benchIssuanceAgainstBare, benchMissAgainstBare, benchRoutesAgainstBare, peakRssUnderLoad, rssLoad, rssRows } from './bare-process.js'
import { buildMinimalServer } from './build.js'
import { benchTwoInstances } from './instances.js'
import type { PgFixture } from './postgres.js'
import type { Row } from './report.js'
import { benchFlows, type Sizes } from './scenarios.js'
import type { BenchClients } from './seed.js'
import { ratio } from './stats.js'

/** The PostgreSQL token-issuance target: tokens per second against the bare process's form echo. */
export const PG_ISSUANCE_TARGET = 0.15

/** What sections 8 and 9 run on. */
export interface BareSuiteOptions {
  readonly sizes: Sizes
  /** Section 8: a SQLite fixture of its own (the bench's clients, the `main` token set); `null` leaves it out. */
  readonly sqlite: { readonly database: string, readonly clients: BenchClients } | null
  /** Section 9: a seeded PostgreSQL database (bench/postgres.ts); `null` leaves it out. */
  readonly postgres: PgFixture | null
  /** How long each fresh server is loaded for its peak RSS. */
  readonly rssSeconds: number
  /** Starts a compiled server (and registers it for cleanup). */
  readonly launch: (name: string, script: string, args: readonly string[]) => Promise<ServerChild>
  readonly log: (message: string) => void
}

const SQLITE = '8. bare process (SQLite)'
const PG_ROUTES = '9a. PostgreSQL protected route'
const PG_ISSUANCE = '9b. PostgreSQL token issuance'
const PG_FLOWS = '9c. PostgreSQL code flow'
const PG_INSTANCES = '9d. PostgreSQL two instances'
const PG_RSS = '9e. PostgreSQL peak RSS'

/** Runs sections 8 and 9 as the options select; rows for the table and details for the JSON file. */
export async function runBareSuite (options: BareSuiteOptions): Promise<{ rows: Row[], details: Record<string, unknown> }> {
  const { sizes, sqlite, postgres, launch, log } = options
  log('8/9. compiling the package for the bare-process comparison')
  const script = buildMinimalServer()
  const rows: Row[] = []
  const details: Record<string, unknown> = {}
  const [bare, control] = await Promise.all([launch('bare process', script, ['bare']), launch('second bare process', script, ['bare'])])

  if (sqlite !== null) {
    log('8. minimal app on SQLite vs the bare process: routes, then issuance')
    const app = await launch('minimal app (SQLite)', script, ['minimal', sqlite.database])
    const routes = await benchRoutesAgainstBare(SQLITE, app, bare, control, sizes)
    const issuance = await benchIssuanceAgainstBare(SQLITE, app, bare, sqlite.clients, sizes, null)
    await app.stop()
    rows.push(...routes.rows, ...issuance.rows)
    details.sqlite = { routes: routes.details, issuance: issuance.details }
  }

  if (postgres !== null) {
    log('9a. minimal app on PostgreSQL: protected route, cache hit and miss, vs the bare process')
    const [hit, miss] = await Promise.all([
      launch('minimal app (PostgreSQL)', script, ['minimal', postgres.url]),
      launch('minimal app (PostgreSQL, cache off)', script, ['minimal', postgres.url, JSON.stringify({ verificationCacheSize: 0 })]),
    ])
    const routes = await benchRoutesAgainstBare(PG_ROUTES, hit, bare, control, sizes)
    const cacheMiss = await benchMissAgainstBare(PG_ROUTES, miss, bare, sizes)
    await miss.stop()
    log('9b. client_credentials on PostgreSQL vs the form echoes')
    const issuance = await benchIssuanceAgainstBare(PG_ISSUANCE, hit, bare, postgres.clients, sizes, PG_ISSUANCE_TARGET)
    log('9c. code exchange and refresh rotation on PostgreSQL')
    const flows = await benchFlows(hit, postgres.clients, sizes, PG_FLOWS)
    // Against the same-process form echo's median of 9b (not alternated with these runs).
    const echo = (issuance.details as { arms: Array<{ rps: number }> }).arms[1]?.rps ?? NaN
    const exchange = flows.details as { exchange: { rps: number }, refresh: { rps: number } }
    rows.push(...routes.rows, ...cacheMiss.rows, ...issuance.rows, ...flows.rows,
      { section: PG_FLOWS, metric: 'exchanges / same-process form echo of 9b', value: ratio(exchange.exchange.rps, echo), unit: '×' },
      { section: PG_FLOWS, metric: 'refreshes / same-process form echo of 9b', value: ratio(exchange.refresh.rps, echo), unit: '×' })
    log('9d. two instances on one PostgreSQL database')
    const second = await launch('second instance (PostgreSQL)', script, ['minimal', postgres.url])
    const instances = await benchTwoInstances(PG_INSTANCES, hit, second, postgres.clients, sizes)
    await Promise.all([hit.stop(), second.stop()])
    rows.push(...instances.rows)
    details.postgres = { routes: routes.details, cacheMiss: cacheMiss.details, issuance: issuance.details, flows: flows.details, instances: instances.details }
  }
  await Promise.all([bare.stop(), control.stop()])

  // Peak RSS grows with a process's time under load, so each fresh server gets the same load for
  // as long, one after the other: verification and issuance at once (the bare process: the same
  // handler and the form echo).
  log(`8/9. peak RSS: fresh servers, ${options.rssSeconds} s of verification and issuance each`)
  const clients = sqlite?.clients ?? postgres?.clients
  if (clients === undefined) return { rows, details }
  const freshBare = await launch('bare process (fresh)', script, ['bare'])
  const bareRss = await peakRssUnderLoad(rssLoad(freshBare, clients, sizes, true), sizes, options.rssSeconds)
  await freshBare.stop()
  const memory: Record<string, unknown> = { bare: bareRss }
  for (const [label, section, database, owners] of [
    ['SQLite', SQLITE, sqlite?.database, sqlite?.clients],
    ['PostgreSQL', PG_RSS, postgres?.url, postgres?.clients],
  ] as const) {
    if (database === undefined || owners === undefined) continue
    const server = await launch(`minimal app (${label}, fresh)`, script, ['minimal', database])
    const measured = await peakRssUnderLoad(rssLoad(server, owners, sizes, false), sizes, options.rssSeconds)
    await server.stop()
    rows.push(...rssRows(section, label, measured, bareRss))
    memory[label] = measured
  }
  details.bareProcessMemory = memory
  return { rows, details }
}
