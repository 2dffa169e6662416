// WAL checkpoints off the event loop (lib/store/sqlite/checkpointer.ts, issue 7): a store whose
// commits fill half of `wal_autocheckpoint` starts a worker thread that checkpoints, and turns
// its connection's automatic checkpoints off; one that hardly writes, or is told not to, keeps
// SQLite's. Real files, real worker threads.
import { closeSync, openSync, readSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import t, { type Test } from 'tap'
import { startCheckpointer } from '../../lib/store/sqlite/checkpointer.js'
import { createSqliteStore } from '../../lib/store/sqlite/store.js'
import { LITTLE_ENDIAN } from '../../lib/store/sqlite/wal-index.js'
import type { Store } from '../../lib/store/types.js'
import { issueOf, newApplication } from './contract.js'
import { eventually } from '../helpers/wait.js'

/** The WAL's last frame and how far it has been copied into the file (WAL-index header and checkpoint info). */
function walProgress (file: string): { lastFrame: number, backfilled: number } {
  const fd = openSync(`${file}-shm`, 'r')
  try {
    const bytes = Buffer.alloc(100)
    readSync(fd, bytes, 0, 100, 0)
    const u32 = (offset: number): number => LITTLE_ENDIAN ? bytes.readUInt32LE(offset) : bytes.readUInt32BE(offset)
    return { lastFrame: u32(16), backfilled: u32(96) }
  } finally {
    closeSync(fd)
  }
}

/** A store on a connection the test holds, whose host set `wal_autocheckpoint` to `pages`. */
function storeWithAutocheckpoint (t: Test, pages: number, backgroundCheckpoint?: boolean): { store: Store, db: Database.Database, file: string } {
  const file = join(t.testdir(), 'oauth.db')
  const db = new Database(file)
  db.pragma('journal_mode = WAL')
  db.pragma(`wal_autocheckpoint = ${pages}`)
  const store = createSqliteStore({ database: db, migrate: true, ...(backgroundCheckpoint === undefined ? {} : { backgroundCheckpoint }) })
  t.teardown(async () => {
    await store.close()
    db.close()
  })
  return { store, db, file }
}

/** Issues tokens one transaction at a time until the WAL holds `frames` frames (or 2,000 tokens). */
async function writeUntil (store: Store, file: string, frames: number): Promise<number> {
  const app = await newApplication(store, { clientId: `writer-${Math.random()}` })
  let i = 0
  for (; i < 2000 && walProgress(file).lastFrame < frames; i++) await store.issueTokens(issueOf({ applicationId: app.id, token: `${app.id}-${i}` }))
  return i
}

const autocheckpoint = (db: Database.Database): number => Number(db.pragma('wal_autocheckpoint', { simple: true }))

t.test('a store whose commits fill half the WAL threshold hands checkpoints to a worker, which keeps the WAL short', async (t) => {
  const { store, db, file } = storeWithAutocheckpoint(t, 200)
  await writeUntil(store, file, 40)
  t.equal(autocheckpoint(db), 200, 'a few commits: SQLite\'s automatic checkpoints are kept')
  await writeUntil(store, file, 100)
  t.equal(autocheckpoint(db), 0, 'half the threshold: the connection\'s automatic checkpoints are off')
  await writeUntil(store, file, 210)
  // Nothing on the store's connection checkpoints now: only the worker can copy the WAL.
  t.ok(await eventually(() => { const p = walProgress(file); return p.backfilled > 0 && p.backfilled === p.lastFrame }), 'the worker copied the whole WAL into the file')
  const before = walProgress(file).lastFrame
  await writeUntil(store, file, 1)
  t.ok(walProgress(file).lastFrame < before, `the next commit restarted the WAL from its beginning (${walProgress(file).lastFrame} < ${before} frames)`)
  // Under a steady stream of commits it goes on: the WAL restarts again and again.
  const app = await newApplication(store, { clientId: 'stream' })
  let restarts = 0
  let previous = walProgress(file).lastFrame
  for (let i = 0; i < 3000 && restarts < 3; i++) {
    await store.issueTokens(issueOf({ applicationId: app.id, token: `stream-${i}` }))
    const now = walProgress(file).lastFrame
    if (now < previous) restarts++
    previous = now
    if (i % 50 === 0) await new Promise((resolve) => setTimeout(resolve, 5))
  }
  t.equal(restarts, 3, 'three more restarts within 3,000 commits')
})

t.test('backgroundCheckpoint: false keeps SQLite\'s automatic checkpoints', async (t) => {
  const { store, db, file } = storeWithAutocheckpoint(t, 200, false)
  await writeUntil(store, file, 150)
  t.equal(autocheckpoint(db), 200)
})

t.test('a connection whose host turned automatic checkpoints off is left to the host', async (t) => {
  const { store, db, file } = storeWithAutocheckpoint(t, 0)
  await writeUntil(store, file, 300)
  t.equal(autocheckpoint(db), 0)
  await new Promise((resolve) => setTimeout(resolve, 100))
  t.equal(walProgress(file).backfilled, 0, 'no worker checkpointed')
})

t.test('an in-memory database has no WAL and no worker', async (t) => {
  const store = createSqliteStore({ database: ':memory:', migrate: true })
  t.teardown(async () => { await store.close() })
  const app = await newApplication(store, { clientId: 'memory' })
  for (let i = 0; i < 200; i++) await store.issueTokens(issueOf({ applicationId: app.id, token: `m-${i}` }))
  t.pass('writes work without a checkpointer')
})

t.test('clearExpired with the worker running leaves automatic checkpoints off, and the worker checkpoints its batches', async (t) => {
  const { store, db, file } = storeWithAutocheckpoint(t, 200)
  await writeUntil(store, file, 300)
  t.equal(autocheckpoint(db), 0)
  const cleared = await store.clearExpired({ now: new Date(Date.now() + 86400_000 * 365), batchSize: 50, revokedBefore: null, refreshCreatedBefore: null })
  t.ok(cleared.accessTokens > 0)
  t.equal(autocheckpoint(db), 0, 'restored to off, not to 200')
  t.ok(await eventually(() => { const p = walProgress(file); return p.backfilled === p.lastFrame }), 'the worker copied the batches too')
})

t.test('the worker itself: reports a failure once, and nothing after close', async (t) => {
  const failures: Error[] = []
  const missing = startCheckpointer(join(t.testdir(), 'missing.db'), (error) => { failures.push(error) })
  t.ok(await eventually(() => failures.length > 0), 'a file it cannot open stops it')
  await missing.close()
  t.equal(failures.length, 1, 'reported once')

  const file = join(t.testdir(), 'ok.db')
  const db = new Database(file)
  t.teardown(() => { db.close() })
  db.pragma('journal_mode = WAL')
  db.exec('CREATE TABLE t (x)')
  const stops: Error[] = []
  const running = startCheckpointer(file, (error) => { stops.push(error) }, { pages: 2, intervalMs: 5 })
  for (let i = 0; i < 10; i++) db.exec('INSERT INTO t VALUES (randomblob(5000))')
  t.ok(await eventually(() => running.rounds() > 0), 'it checkpoints past its page count')
  await running.close()
  t.same(stops, [], 'closing is not a failure')
})
