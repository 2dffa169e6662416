// INPUT-1…INPUT-6 / goal G2, quick mode: a seeded fuzzer sends ≥ 200 malformed requests to every
// endpoint. No 5xx, no unhandled rejection, token-side 4xx always registered JSON errors, no
// Location off the registered URIs. Replay a failure with OAT_FUZZ_SEED=<seed>; the full run
// (2,000 per endpoint) is `npm run bench -- --fuzz`.
import t from 'tap'
import { buildFuzzTarget, ENDPOINTS, runFuzz } from './fuzz-harness.js'

const seed = Number(process.env.OAT_FUZZ_SEED ?? Date.now() % 2 ** 31)
const runs = Number(process.env.OAT_FUZZ_RUNS ?? 200)

t.test(`INPUT-2 fuzz: ${runs} malformed requests per endpoint, seed ${seed}`, async (t) => {
  t.comment(`fuzz seed ${seed} (replay: OAT_FUZZ_SEED=${seed} npx tap test/security/fuzz.test.ts)`)
  const target = await buildFuzzTarget()
  t.teardown(target.close)
  const report = await runFuzz(target, { runs, seed })
  t.equal(report.requests, runs * ENDPOINTS.length, `every endpoint got ${runs} requests`)
  t.equal(report.unhandledRejections, 0, 'no unhandled rejection')
  t.equal(report.statuses['5xx'] ?? 0, 0, 'no 5xx')
  t.comment(JSON.stringify(report.statuses))
})
