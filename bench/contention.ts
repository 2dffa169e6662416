// `npm run bench -- --contention [--quick] [--seconds N] [--workers N]`: goal G5 (STORE-2). For 60 s
// (10 with --quick), two server processes share one SQLite file under token + revoke and
// refresh-rotation load while cleartokens runs again and again in a third process
// (test/security/contention-harness.ts). Prints the SQLITE_BUSY count (target 0), the 5xx count
// (target 0) and the token endpoint's latencies (target p99 ≤ 250 ms).
import { parseArgs } from 'node:util'
import { runContention } from '../test/security/contention-harness.js'

// `--servers N` (2) and `--without-clear` vary the setup, to tell apart where the latency comes from.
const { values } = parseArgs({ options: { contention: { type: 'boolean', default: true }, quick: { type: 'boolean', default: false }, seconds: { type: 'string' }, workers: { type: 'string' }, servers: { type: 'string' }, 'without-clear': { type: 'boolean', default: false } } })
const seconds = values.seconds === undefined ? (values.quick === true ? 10 : 60) : Number(values.seconds)
const workers = values.workers === undefined ? 16 : Number(values.workers)
const servers = values.servers === undefined ? 2 : Number(values.servers)
const clear = values['without-clear'] !== true
process.stderr.write(`G5 contention: ${seconds} s, ${workers} workers over ${servers} server process(es), ${clear ? 'cleartokens looping' : 'no cleartokens'}\n`)
const r = await runContention({ seconds, workers, servers, clear })
const ms = (v: number): string => `${v.toFixed(1)} ms`
const pass = r.busy === 0 && r.serverErrors === 0 && r.clearFailures === 0 && r.tokenP99 <= 250
process.stdout.write(`G5 SQLite contention: ${r.seconds.toFixed(1)} s, ${r.requests} requests (${(r.requests / r.seconds).toFixed(0)}/s), statuses ${JSON.stringify(r.statuses)}\n` +
  `  SQLITE_BUSY seen: ${r.busy} (target 0); 5xx: ${r.serverErrors} (target 0); cleartokens runs: ${r.clearRuns}, failed: ${r.clearFailures}\n` +
  `  token endpoint latency: p50 ${ms(r.tokenP50)}, p99 ${ms(r.tokenP99)} (target ≤ 250 ms), max ${ms(r.tokenMax)}\n` +
  `  ${pass ? 'PASS' : 'FAIL'}\n`)
process.exitCode = pass ? 0 : 1
