// The benchmark's cleartokens job, in its own process as cron would run it:
// `clear.ts <database> <now ISO> [settings JSON]` runs DOT's cleartokens with the clock set to
// `now`, so tokens seeded as valid for the verification benchmark count as expired. Prints one
// JSON line.
import type { SettingsInput } from '../index.js'
import { createSqliteStore } from '../entries/sqlite.js'
import { createOAuthServer } from '../entries/core.js'
import { median } from './stats.js'

/** What the job reports. */
export interface ClearReport {
  readonly seconds: number
  readonly accessTokens: number
  readonly batches: number
  readonly batchSize: number
  /** Seconds of pause between batches. */
  readonly batchInterval: number
  /** The longest batch (select + delete transaction, commit included), ms: what an in-process caller's event loop would be blocked for. */
  readonly maxBatchMs: number
  readonly medianBatchMs: number
}

const [database, nowIso, settingsJson] = process.argv.slice(2)
if (database === undefined || nowIso === undefined) throw new Error('usage: clear.ts <database> <now ISO> [settings JSON]')
const now = new Date(nowIso)
const store = createSqliteStore({ database })
const settings = JSON.parse(settingsJson ?? '{}') as SettingsInput
const server = createOAuthServer({ store, settings, clock: { now: () => now } })
// Each batch's lock hold as the store measures it (select, delete and commit; the WAL
// checkpoints the cleaner runs between batches hold no lock and are not in it).
const durations: number[] = []
const started = performance.now()
const counts = await server.clearExpiredTokens({ onBatchDone: (batch) => { durations.push(batch.lockMs) } })
const report: ClearReport = {
  seconds: (performance.now() - started) / 1000,
  accessTokens: counts.accessTokens,
  batches: durations.length,
  batchSize: server.settings.clearExpiredTokensBatchSize,
  batchInterval: server.settings.clearExpiredTokensBatchInterval,
  maxBatchMs: durations.length === 0 ? 0 : Math.max(...durations),
  medianBatchMs: durations.length === 0 ? 0 : median(durations),
}
await store.close()
process.stdout.write(JSON.stringify(report) + '\n')
