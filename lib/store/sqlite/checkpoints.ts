import type Database from 'better-sqlite3'
import { startCheckpointer, type Checkpointer } from './checkpointer.js'
import type { WalIndexWatcher } from './wal-index.js'

// Why: SQLite checkpoints a WAL file inside the commit that fills it, fsyncs included, which
// stalls the event loop. This decides when one store's connection checkpoints, and when a worker
// thread (checkpointer.ts) does instead.

/** `clearExpired` checkpoints the WAL after this much batch time (the automatic checkpoints are off meanwhile). */
const CHECKPOINT_EVERY_MS = 100

/** The checkpoint policy of one store's connection. */
export interface Checkpoints {
  /** After each of the store's commits until the worker starts: one `pread` of the WAL-index header. */
  afterCommit: () => void
  /**
   * Runs a `clearExpired` with SQLite's automatic checkpoints off, so that none lands in the
   * commit of a batch (where it lengthened the batch many times over): the cleaner checkpoints
   * between batches instead (`batchDone`), which also keeps the WAL short enough that another
   * connection's commit does not run a large checkpoint meanwhile, and the setting is restored at
   * the end. (With the worker they are off already, and it checkpoints while the batches run.)
   */
  whileClearing: <T>(fn: () => Promise<T>) => Promise<T>
  /**
   * After a clearExpired batch that deleted rows and held the write lock `lockMs`: outside the
   * lock, every ~100 ms of deleting (a few batches; one per batch cost an fsync each and halved
   * the rate), so the WAL stays a few MB.
   */
  batchDone: (lockMs: number) => void
  /** Stops the worker, if it runs. */
  close: () => Promise<void>
}

/**
 * The policy for connection `raw` on `mainFile` (`PRAGMA database_list`'s path), whose WAL index
 * `walIndex` watches (`null`: not a WAL file, nothing to start). SQLite's automatic checkpoints
 * run in the commit that fills the WAL to `wal_autocheckpoint` pages, until this store's own
 * commits have filled half of that: a store that writes so much gets a worker thread (~8 MB)
 * that checkpoints instead, with this connection's automatic ones off; one that hardly writes (a
 * resource server) never starts it. Never when not `background` (`backgroundCheckpoint: false`),
 * nor when the host turned automatic checkpoints off on a connection it gave; automatic ones
 * again if the worker fails (after a running clearExpired, which turns them off meanwhile and
 * checkpoints between its batches).
 */
export function manageCheckpoints (raw: Database.Database, mainFile: string, walIndex: WalIndexWatcher | null, background: boolean): Checkpoints {
  const automaticPages = Number(raw.pragma('wal_autocheckpoint', { simple: true }))
  let checkpointer: Checkpointer | null = null
  let mayStartCheckpointer = background && walIndex !== null && automaticPages > 0
  let clearing = 0
  let pagesBeforeClearing = 0
  let lockMsSinceCheckpoint = 0
  const walCheckpoint = raw.prepare('PRAGMA wal_checkpoint(PASSIVE)')

  /**
   * Copies the WAL into the file as far as readers allow; never waits for a lock, never blocks
   * readers or writers. Nothing to do while the worker runs: it checkpoints meanwhile.
   */
  function checkpoint (): void {
    lockMsSinceCheckpoint = 0
    if (checkpointer === null && raw.open && !raw.inTransaction) walCheckpoint.run()
  }

  return {
    afterCommit () {
      if (!mayStartCheckpointer || walIndex === null || walIndex.lastFrame() < automaticPages / 2) return
      mayStartCheckpointer = false
      raw.pragma('wal_autocheckpoint = 0')
      checkpointer = startCheckpointer(mainFile, () => {
        checkpointer = null
        if (raw.open && clearing === 0) raw.pragma(`wal_autocheckpoint = ${automaticPages}`)
      }, { pages: automaticPages })
    },

    async whileClearing (fn) {
      // Overlapping runs on one connection: the first saves the setting (the host's, which it may
      // have changed since) and turns them off, the last restores it; off while the worker runs.
      if (clearing++ === 0) {
        pagesBeforeClearing = checkpointer === null ? Number(raw.pragma('wal_autocheckpoint', { simple: true })) : automaticPages
        raw.pragma('wal_autocheckpoint = 0')
      }
      try {
        return await fn()
      } finally {
        if (--clearing === 0 && raw.open) {
          raw.pragma(`wal_autocheckpoint = ${checkpointer === null ? pagesBeforeClearing : 0}`)
          checkpoint()
        }
      }
    },

    batchDone (lockMs) {
      lockMsSinceCheckpoint += lockMs
      if (lockMsSinceCheckpoint >= CHECKPOINT_EVERY_MS) checkpoint()
    },

    async close () {
      await checkpointer?.close()
    },
  }
}
