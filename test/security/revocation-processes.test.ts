// G6 / STORE-3 across operating-system processes on one SQLite file: server B is the example
// app in a child process (bench/server.ts, as kill.test.ts starts it) with its verification
// cache on (the default); A is the toolkit in this test's process on the same file. B verifies a
// token (and caches it), A revokes it, and a request to B started after A's 200 is refused:
// SQLite tells B's process that another process committed (the stores read the WAL index and
// `PRAGMA data_version`), so no cache TTL is waited for.
// - By default B looks at most once per 5 ms: a request sent 10 ms after the 200 is refused
//   (twice the period: a timer can fire up to a millisecond early).
// - With `sqlite: { crossProcessCheckMs: 0 }` B looks at every event-loop iteration: the very next
//   request is refused.
// If a refusal did not come at once, B is polled every 5 ms and the delay is held to the target's
// bound (≤ 1 s, the documented bound for multi-process SQLite). OAT_PROCESS_TRIALS enlarges it.
import t, { type Test } from 'tap'
import { DEFAULT_CROSS_PROCESS_CHECK_MS } from '../../entries/sqlite.js'
import { basicAuth, buildApp, createApplication, databasePath, FORM, form, postToken, type TokenBody } from '../helpers/index.js'
import { startServer } from './kill-harness.js'

const TRIALS = Number(process.env.OAT_PROCESS_TRIALS ?? 20)
const BOUND_MS = 1000

/** Runs the trials against a B started with `checkMs`, sending each first request to B `waitMs` after A's 200. */
async function revocationTrials (t: Test, checkMs: number | undefined, waitMs: number): Promise<void> {
  const a = await buildApp(t)
  const { application, clientSecret } = await createApplication(a)
  const auth = { authorization: basicAuth(application.clientId, clientSecret ?? '') }
  const b = await startServer(databasePath(t), checkMs === undefined ? {} : { sqlite: { crossProcessCheckMs: checkMs } })
  t.teardown(async () => {
    process.kill(b.pid, 'SIGTERM')
    await b.exited
  })
  const hello = async (token: string): Promise<number> => (await fetch(`${b.url}/api/hello`, { headers: { authorization: `Bearer ${token}` } })).status

  const late: number[] = []
  const delays: number[] = []
  for (let trial = 0; trial < TRIALS; trial++) {
    const token = (await postToken(a, { grant_type: 'client_credentials' }, auth)).json<TokenBody>().access_token
    if (await hello(token) !== 200 || await hello(token) !== 200) t.fail('B accepts the fresh token (and caches it)')
    const revoked = await a.inject({ method: 'POST', url: '/o/revoke-token/', headers: { ...FORM, ...auth }, payload: form({ token }) })
    if (revoked.statusCode !== 200) t.fail(`A revokes: ${revoked.statusCode}`)
    const revokedAt = performance.now()
    if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs))
    if (await hello(token) === 200) {
      late.push(trial)
      let delay = NaN
      while (performance.now() - revokedAt < 2 * BOUND_MS) {
        if (await hello(token) !== 200) { delay = performance.now() - revokedAt; break }
        await new Promise((resolve) => setTimeout(resolve, 5))
      }
      delays.push(delay)
    }
  }
  t.same(late, [], `0 of ${TRIALS} requests to B started ${waitMs === 0 ? 'right' : `${waitMs} ms`} after A's revoke answered were accepted`)
  t.notOk(delays.some((d) => Number.isNaN(d) || d > BOUND_MS), `every late refusal within ${BOUND_MS} ms (${JSON.stringify(delays.map(Math.round))})`)
}

t.test(`G6 STORE-3 by default: a token revoked by this process is refused by a request to a server in another process on the same SQLite file sent ${2 * DEFAULT_CROSS_PROCESS_CHECK_MS} ms later (${TRIALS} trials)`, async (t) => {
  await revocationTrials(t, undefined, 2 * DEFAULT_CROSS_PROCESS_CHECK_MS)
})

t.test(`G6 STORE-3 sqlite.crossProcessCheckMs 0: a token revoked by this process is refused by the next request to a server in another process (${TRIALS} trials)`, async (t) => {
  await revocationTrials(t, 0, 0)
})
