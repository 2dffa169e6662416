// STORE-2 / goal G5, quick mode: two example-app server processes write to one SQLite file under
// token + revoke and refresh-rotation load while cleartokens deletes 3,000 expired tokens through a
// third connection (in the test's process, which starts faster than a third process); the load
// lasts at least 1 s and until one cleartokens run has ended. No client sees SQLITE_BUSY or a 5xx,
// and every refresh chain survives (the harness throws if one breaks). No timing is asserted:
// `npm run bench -- --contention` runs it for 60 s and prints the latencies.
import t from 'tap'
import { runContention } from './contention-harness.js'

t.test('STORE-2 two writer processes and cleartokens on one SQLite file: no SQLITE_BUSY, no 5xx (G5)', async (t) => {
  const r = await runContention({ seconds: 1, workers: 8, clear: 'in-process', minClearRuns: 1, expiredTokens: 3000 })
  t.comment(JSON.stringify({ ...r, seconds: Number(r.seconds.toFixed(1)) }))
  t.ok(r.clearRuns >= 1, 'cleartokens ran during the load')
  t.ok(r.requests >= 20, `${r.requests} requests`)
  t.equal(r.busy, 0, 'no SQLITE_BUSY / "database is locked" in any response or cleartokens output')
  t.equal(r.serverErrors, 0, 'no 5xx')
  t.equal(r.clearFailures, 0, 'every cleartokens run succeeded')
})
