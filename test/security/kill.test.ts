// STORE-1 / goal G4, kill -9 under load, quick mode: one server process on a SQLite file,
// 16 concurrent client_credentials loops, SIGKILL after 1.5 s. Afterwards the file passes
// PRAGMA integrity_check and the invariants, and every token acknowledged with a 200 verifies.
// `npm run bench -- --crash` repeats it 200 times (bench/crash.ts).
import { join } from 'node:path'
import t from 'tap'
import { killUnderLoad, prepareKillDatabase } from './kill-harness.js'

t.test('STORE-1 kill -9 under token load: integrity_check ok, no acknowledged token lost (G4)', async (t) => {
  const path = join(t.testdir(), 'kill.db')
  const clients = await prepareKillDatabase(path)
  const report = await killUnderLoad(path, clients, { concurrency: 16, killAfterMs: 1500 })
  t.comment(JSON.stringify(report))
  t.ok(report.acknowledged >= 10, `${report.acknowledged} tokens acknowledged before the kill`)
  t.equal(report.serverErrors, 0, 'no 5xx before the kill')
  t.equal(report.integrity, 'ok', 'PRAGMA integrity_check')
  t.same(report.violations, [], 'every invariant holds')
  t.equal(report.lost, 0, 'every acknowledged token verifies after the crash')
})
