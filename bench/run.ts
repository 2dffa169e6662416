// `npm run bench [-- --quick] [-- --sqlite | --bare | --postgres]`: the performance suite. See
// bench/README.md. (`-- --fuzz`, `-- --timing`, `-- --crash`, `-- --contention`: bench/fuzz.ts,
// timing.ts, crash.ts, contention.ts)
import { mkdtempSync, rmSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import type { SettingsInput } from '../index.js'
import { resolveSettings } from '../entries/core.js'
import { readRss, startCompiledServer, startServer, type ServerChild } from './children.js'
import { alternate, type ArmSummary, type LoadOptions } from './load.js'
import { renderTable, writeResults, type Row } from './report.js'
import { createPgFixture, postgresUnavailable, type PgFixture } from './postgres.js'
import { accessTokenValue, createClientDatabases, seedAccessTokens, seedCodes, type BenchClients } from './seed.js'
import { PROFILE_DESCRIPTIONS, PROFILE_SCENARIOS, profileScenario, type ProfileScenario } from './profile-run.js'
import { TABLE_MMAP_SIZE } from './routes.js'
import { benchCleartokens, benchFirstBurst, benchFlows, benchProtectedRoute, benchTableSize, benchTokenEndpoint, type Sizes } from './scenarios.js'
import { round } from './stats.js'
import { runBareSuite } from './suite-bare.js'

// `--fuzz` / `--timing`: the security fuzzer (G2, bench/fuzz.ts) or the timing test (G10, bench/timing.ts) instead.
// `--crash` / `--contention`: kill -9 under load (G4, bench/crash.ts), SQLite contention (G5, bench/contention.ts).
// `--flood`: brute-force flood and token entropy (G9, bench/flood.ts).
// `--dpop`: a DPoP-protected route's check beside the bearer one (bench/dpop.ts).
const other = ['--fuzz', '--timing', '--crash', '--contention', '--flood', '--dpop'].find((flag) => process.argv.includes(flag))
if (other !== undefined) {
  await import(`./${other.slice(2)}.js`)
  process.exit()
}

// `--profile` takes an optional scenario (`hello`, scenario 1's load, the default; `token`, scenario 2's).
const argv = process.argv.slice(2)
const profileAt = argv.indexOf('--profile')
if (profileAt >= 0 && !(PROFILE_SCENARIOS as readonly string[]).includes(argv[profileAt + 1] ?? '')) {
  if (argv[profileAt + 1] !== undefined && !argv[profileAt + 1]!.startsWith('--')) {
    throw new Error(`--profile takes one of ${PROFILE_SCENARIOS.join(', ')}; got ${argv[profileAt + 1]}`)
  }
  argv.splice(profileAt + 1, 0, 'hello')
}
const { values } = parseArgs({
  args: argv,
  options: {
    quick: { type: 'boolean', default: false },
    // Also profile a fresh server under a scenario's load (--cpu-prof) and print its hottest functions.
    profile: { type: 'string' },
    // Keep the fixture databases (their folder is printed).
    keep: { type: 'boolean', default: false },
    // cleartokens settings for scenario 6 (defaults: 10000 rows, no pause).
    'batch-size': { type: 'string' },
    'batch-interval': { type: 'string' },
    // Subsets (default: all three): scenarios 1-7 (the example app on SQLite), section 8 (the
    // minimal app on SQLite against a bare Fastify process), section 9 (PostgreSQL).
    sqlite: { type: 'boolean', default: false },
    bare: { type: 'boolean', default: false },
    postgres: { type: 'boolean', default: false },
  },
})
const quick = values.quick === true
const chosen = values.sqlite === true || values.bare === true || values.postgres === true
const groups = { sqlite: !chosen || values.sqlite === true, bare: !chosen || values.bare === true, postgres: !chosen || values.postgres === true }
if (values.profile !== undefined && !groups.sqlite) throw new Error('--profile profiles the example app of scenarios 1-7; add --sqlite')
const clearSettings: SettingsInput = {
  ...(values['batch-size'] === undefined ? {} : { clearExpiredTokensBatchSize: Number(values['batch-size']) }),
  ...(values['batch-interval'] === undefined ? {} : { clearExpiredTokensBatchInterval: Number(values['batch-interval']) }),
}
resolveSettings(clearSettings) // fails now, not in the middle of the run, on a bad value

const sizes: Sizes = {
  clearSettings,
  ...(quick
    ? { rounds: 5, roundSeconds: 0.25, pairedRounds: 8, pairedRoundSeconds: 0.25, warmupSeconds: 0.3, connections: 32, smallTokens: 1_000, largeTokens: 100_000, codes: 800, verifyBatch: 3_000 }
    : { rounds: 5, roundSeconds: 2, pairedRounds: 20, pairedRoundSeconds: 0.5, warmupSeconds: 1, connections: 32, smallTokens: 1_000, largeTokens: 1_000_000, codes: 6_000, verifyBatch: 10_000 }),
}
/** Seconds of verification and issuance each fresh server of sections 8 and 9 gets for its peak RSS. */
const rssSeconds = quick ? 2 : 10

const startedAt = new Date()
const clock = performance.now()
const elapsed = (): number => round((performance.now() - clock) / 1000, 1)
const log = (message: string): void => { process.stderr.write(`[${elapsed().toFixed(1).padStart(5)} s] ${message}\n`) }
const load = loadavg()[0] ?? 0
if (load > cpus().length * 0.5) log(`warning: load average ${load.toFixed(2)} on ${cpus().length} cores before the run; figures will be noisy`)

// Scenario 5 compares what verification costs the store at two table sizes, so its servers run
// without the verification cache (with it, a hit never reaches the table at all), and with the
// file memory-mapped (TABLE_MMAP_SIZE).
const NO_CACHE = JSON.stringify({ verificationCacheSize: 0 })
const MAPPED = JSON.stringify({ sqlite: { mmapSize: TABLE_MMAP_SIZE } })
const dir = mkdtempSync(join(tmpdir(), 'oat-bench-'))
const db = { main: join(dir, 'main.sqlite3'), small: join(dir, 'small.sqlite3'), large: join(dir, 'large.sqlite3'), minimal: join(dir, 'minimal.sqlite3') }
// Every server started, so that `finally` stops them even when a step in between throws.
const launched: Array<Promise<ServerChild>> = []
const launch = (name: string, args: readonly string[]): Promise<ServerChild> => {
  const started = startServer(name, args)
  launched.push(started)
  return started
}
const launchCompiled = (name: string, script: string, args: readonly string[]): Promise<ServerChild> => {
  const started = startCompiledServer(name, script, args)
  launched.push(started)
  return started
}
let postgres: PgFixture | null = null
try {
  log(`fixtures in ${dir}`)
  const rows: Row[] = []
  const details: Record<string, unknown> = {}
  const clients = await createClientDatabases(groups.sqlite ? [db.main, db.minimal, db.small, db.large] : [db.minimal])
  const inTenHours = new Date(Date.now() + 10 * 3600_000)
  seedAccessTokens(db.minimal, clients.service.id, [{ set: 'main', count: sizes.smallTokens, expiresAt: inTenHours }])
  if (groups.postgres) {
    const unavailable = await postgresUnavailable()
    if (unavailable !== null) {
      log(`PostgreSQL scenarios left out: ${unavailable}`)
    } else {
      postgres = await createPgFixture([{ set: 'main', count: sizes.smallTokens, expiresAt: inTenHours }], sizes.codes)
      log(`PostgreSQL fixture ${new URL(postgres.url).pathname.slice(1)}: ${sizes.smallTokens.toLocaleString('en-US')} tokens, ${sizes.codes.toLocaleString('en-US')} codes`)
    }
  }
  if (groups.sqlite) await runSqliteScenarios(clients, rows, details)
  if (groups.bare || postgres !== null) {
    const suite = await runBareSuite({
      sizes,
      sqlite: groups.bare ? { database: db.minimal, clients } : null,
      postgres,
      rssSeconds,
      launch: launchCompiled,
      log,
    })
    rows.push(...suite.rows)
    Object.assign(details, suite.details)
  }
  rows.sort((a, b) => a.section.localeCompare(b.section)) // stable: keeps each section's order
  const subset = chosen ? ` (${Object.entries(groups).filter(([, on]) => on).map(([name]) => name).join(', ')})` : ''
  process.stdout.write(`\nfastify-oauth-toolkit benchmark (${quick ? 'quick' : 'full'}${subset}), ${startedAt.toISOString()}\n` +
    `${cpus().length} cores, Node ${process.version}, load average ${load.toFixed(2)} → ${(loadavg()[0] ?? 0).toFixed(2)}; medians of ${sizes.rounds} alternating rounds of ${sizes.roundSeconds} s (scenario 1 and routes of 8, 9a: ${sizes.pairedRounds} of ${sizes.pairedRoundSeconds} s), ${sizes.connections} connections\n\n` +
    renderTable(rows) + '\n')
  const path = writeResults({
    startedAt: startedAt.toISOString(),
    mode: quick ? 'quick' : 'full',
    groups,
    seconds: elapsed(),
    machine: { cores: cpus().length, cpu: cpus()[0]?.model, node: process.version, loadAverageBefore: load, loadAverageAfter: loadavg()[0] },
    sizes,
    rows,
    details,
  }, startedAt)
  const profile = details.profile as Awaited<ReturnType<typeof profileScenario>> | null | undefined
  if (profile !== null && profile !== undefined) {
    process.stdout.write(`\nhottest functions of the server under ${PROFILE_DESCRIPTIONS[profile.scenario]} (self time; ${profile.file}):\n` +
      profile.top.map((f) => `${f.percent.toFixed(1).padStart(5)}%  ${f.name}  ${f.location}`).join('\n') + '\n')
  }
  process.stdout.write(`\n${rows.filter((r) => r.pass === false).length} target(s) missed; results in ${path} (${elapsed()} s)\n`)
} finally {
  const started = await Promise.allSettled(launched)
  await Promise.all(started.map(async (s) => { if (s.status === 'fulfilled') await s.value.stop() }))
  if (values.keep !== true) {
    rmSync(dir, { recursive: true, force: true })
    await postgres?.drop()
  } else if (postgres !== null) {
    log(`kept the PostgreSQL database ${postgres.url}`)
  }
}

/** Scenarios 1-7: the example app on SQLite (fixtures in `db.main`, `db.small`, `db.large`). */
async function runSqliteScenarios (clients: BenchClients, rows: Row[], details: Record<string, unknown>): Promise<void> {
  const inTenHours = new Date(Date.now() + 10 * 3600_000)
  const inThirtyDays = new Date(Date.now() + 30 * 86400_000)
  seedAccessTokens(db.main, clients.service.id, [{ set: 'main', count: sizes.smallTokens, expiresAt: inTenHours }])
  await seedCodes(db.main, clients.webapp, sizes.codes)
  // These two start while the other databases are seeded.
  const startingMain = launch('main', ['app', db.main])
  const startingBare = launch('bare', ['bare'])
  seedAccessTokens(db.small, clients.service.id, [{ set: 'small', count: sizes.smallTokens, expiresAt: inTenHours }])
  // The large table: the tokens the verification benchmark samples, plus long-lived ones that
  // stay valid while cleartokens (run with the clock a day ahead) deletes the others.
  const seedSeconds = seedAccessTokens(db.large, clients.service.id, [
    { set: 'large', count: sizes.largeTokens, expiresAt: inTenHours },
    { set: 'keep', count: 1_000, expiresAt: inThirtyDays },
  ])
  log(`seeded ${sizes.largeTokens.toLocaleString('en-US')} tokens in ${seedSeconds.toFixed(1)} s; starting servers`)

  const [main, bare, small, large] = await Promise.all([startingMain, startingBare, launch('small', ['app', db.small, NO_CACHE, MAPPED]), launch('large', ['app', db.large, NO_CACHE, MAPPED])])
  const idle = { main: readRss(main.pid), bare: readRss(bare.pid) }
  const options: LoadOptions = { connections: sizes.connections, duration: sizes.roundSeconds }
  log('1. protected route vs the same handler unprotected')
  const protectedRoute = await benchProtectedRoute(main, sizes)

  log('7. peak RSS: the bare Fastify server under the same load')
  const mainRss = readRss(main.pid)
  // As long as the toolkit server was loaded in scenario 1 (its two arms' warm-ups and rounds):
  // a process's peak RSS grows with the time it spends under load, not only with what it holds.
  const [bareArm] = await alternate([{
    name: 'bare Fastify server process GET /api/hello',
    pid: bare.pid,
    origin: bare.url,
    path: '/api/hello',
    vary: (r) => { r.headers = { ...r.headers, authorization: `Bearer ${accessTokenValue('main', Math.floor(Math.random() * sizes.smallTokens))}` } },
  }], 2 * sizes.pairedRounds, { connections: sizes.connections, duration: sizes.pairedRoundSeconds }, 2 * sizes.warmupSeconds) as [ArmSummary]
  const bareRss = readRss(bare.pid)

  log('2, 4. token endpoint and introspection vs a form echo')
  const tokenEndpoint = await benchTokenEndpoint(main, clients, sizes, options)
  log('3. code exchange and refresh rotation')
  const flows = await benchFlows(main, clients, sizes)
  log('2b. first burst from a new client')
  const burst = await benchFirstBurst(main, clients, sizes)
  log(`5. verification with ${sizes.smallTokens.toLocaleString('en-US')} vs ${sizes.largeTokens.toLocaleString('en-US')} tokens`)
  const tableSize = await benchTableSize({ small, large }, db, sizes, options)
  log(`6. cleartokens on ${sizes.largeTokens.toLocaleString('en-US')} expired tokens, under verification load`)
  const clear = await benchCleartokens(large, db.large, clients, sizes)

  const profile = values.profile === undefined ? null : await profileScenario(values.profile as ProfileScenario, db.main, sizes, clients, startedAt)

  const rssRatio = round(mainRss.peakMiB / bareRss.peakMiB, 3)
  rows.push(
    ...protectedRoute.rows,
    // Not alternated with the rounds above: a reference for what the example app's own hooks cost.
    { section: '1. protected route', metric: `${bareArm.name} (after the rounds)`, value: bareArm.rps, unit: `req/s, ${bareArm.cpuUs} µs CPU/req` },
    ...tokenEndpoint.rows,
    ...burst.rows,
    ...flows.rows,
    ...tableSize.rows,
    { section: '5. table size', metric: `seeding ${sizes.largeTokens.toLocaleString('en-US')} tokens`, value: round(seedSeconds, 2), unit: 's' },
    ...clear.rows,
    { section: '7. memory', metric: 'peak RSS, toolkit server (load 1)', value: round(mainRss.peakMiB, 1), unit: 'MiB' },
    { section: '7. memory', metric: 'peak RSS, bare Fastify server (same load)', value: round(bareRss.peakMiB, 1), unit: 'MiB' },
    { section: '7. memory', metric: 'ratio toolkit / bare', value: rssRatio, unit: '×', target: '≤ 1.25', pass: rssRatio <= 1.25 },
    { section: '7. memory', metric: 'idle RSS before load, toolkit / bare', value: round(idle.main.rssMiB, 1), unit: `/ ${idle.bare.rssMiB.toFixed(1)} MiB` }
  )
  Object.assign(details, {
    protectedRoute: protectedRoute.details,
    memory: { idle, main: mainRss, bare: bareRss, bareArm },
    tokenEndpoint: tokenEndpoint.details,
    firstBurst: burst.details,
    flows: flows.details,
    tableSize: { seedSeconds, ...tableSize.details },
    cleartokens: clear.details,
    profile,
  })
  // The example app's servers are done: sections 8 and 9 run with the cores to themselves.
  await Promise.all([main, bare, small, large].map(async (s) => { await s.stop() }))
}
