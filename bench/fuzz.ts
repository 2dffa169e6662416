// `npm run bench -- --fuzz [--quick] [--seed N]`: the security fuzzer of goal G2 (INPUT-1…6),
// full mode: 2,000 malformed requests per endpoint (200 with --quick), seed printed for replay
// (`OAT_FUZZ_SEED=<seed> OAT_FUZZ_RUNS=2000 npx tap test/security/fuzz.test.ts` replays in tap).
// The generator and the rules live in test/security/fuzz-harness.ts, shared with npm test.
import { parseArgs } from 'node:util'
import { buildFuzzTarget, ENDPOINTS, runFuzz } from '../test/security/fuzz-harness.js'

const { values } = parseArgs({
  options: {
    fuzz: { type: 'boolean', default: true },
    quick: { type: 'boolean', default: false },
    seed: { type: 'string' },
  },
})
const runs = values.quick === true ? 200 : 2000
const seed = values.seed === undefined ? Date.now() % 2 ** 31 : Number(values.seed)
process.stderr.write(`fuzz: ${runs} requests × ${ENDPOINTS.length} endpoints, seed ${seed}\n`)
const target = await buildFuzzTarget()
const rssBefore = process.memoryUsage().rss
const started = performance.now()
try {
  const report = await runFuzz(target, { runs, seed })
  const seconds = (performance.now() - started) / 1000
  const rssGrowthMiB = (process.memoryUsage().rss - rssBefore) / 2 ** 20
  process.stdout.write(`\nG2 fuzz (${values.quick === true ? 'quick' : 'full'}), seed ${seed}\n` +
    `requests        ${report.requests} in ${seconds.toFixed(1)} s\n` +
    `statuses        ${JSON.stringify(report.statuses)}\n` +
    `5xx             ${report.statuses['5xx'] ?? 0} (target 0)\n` +
    `unhandled       ${report.unhandledRejections} (target 0)\n` +
    `RSS growth      ${rssGrowthMiB.toFixed(1)} MiB (target ≤ 32)\n`)
  if ((report.statuses['5xx'] ?? 0) > 0 || report.unhandledRejections > 0) process.exitCode = 1
} catch (err) {
  process.stdout.write(`\nG2 fuzz FAILED, seed ${seed}:\n${err instanceof Error ? err.message : String(err)}\n`)
  process.exitCode = 1
} finally {
  await target.close()
}
