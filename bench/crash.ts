// `npm run bench -- --crash [--quick] [--kills N]`: goal G4's kill -9 figure. N rounds (200; 20
// with --quick) on one SQLite file: start the example app, load it with concurrent
// client_credentials requests, SIGKILL it after a random 0.3–1.5 s, then check PRAGMA
// integrity_check, the invariants and every acknowledged token (test/security/kill-harness.ts,
// shared with npm test's one-kill version).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { killUnderLoad, prepareKillDatabase } from '../test/security/kill-harness.js'

const { values } = parseArgs({ options: { crash: { type: 'boolean', default: true }, quick: { type: 'boolean', default: false }, kills: { type: 'string' } } })
const kills = values.kills === undefined ? (values.quick === true ? 20 : 200) : Number(values.kills)
const dir = mkdtempSync(join(tmpdir(), 'oat-crash-'))
const path = join(dir, 'crash.sqlite3')
let acknowledged = 0
let lost = 0
let failures = 0
let empty = 0
const started = performance.now()
try {
  const clients = await prepareKillDatabase(path)
  for (let i = 1; i <= kills; i++) {
    const report = await killUnderLoad(path, clients, { concurrency: 16, killAfterMs: 300 + Math.floor(Math.random() * 1200) })
    acknowledged += report.acknowledged
    lost += report.lost
    if (report.acknowledged <= 1) empty++ // only the warm-up token: the kill hit before the load did
    const bad = report.integrity !== 'ok' || report.violations.length > 0 || report.lost > 0 || report.serverErrors > 0
    if (bad) failures++
    if (bad) process.stderr.write(`kill ${i}/${kills}: ${JSON.stringify(report)}\n`)
    if (i % 10 === 0) process.stderr.write(`after ${i}/${kills} kills (${((performance.now() - started) / 1000).toFixed(0)} s): ${acknowledged} acknowledged, ${lost} lost, ${failures} with a violation, ${empty} killed before the load acknowledged anything\n`)
  }
} finally {
  rmSync(dir, { recursive: true, force: true })
}
process.stdout.write(`G4 kill -9: ${kills} kills in ${((performance.now() - started) / 1000).toFixed(1)} s, ${acknowledged} acknowledged tokens, ${lost} lost, ${failures} round(s) with a violation (target 0); ${empty} round(s) killed before the load acknowledged anything\n`)
process.exitCode = failures === 0 ? 0 : 1
