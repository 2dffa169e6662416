import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'
import { LITTLE_ENDIAN } from './wal-index.js'

// WAL checkpoints off the event loop. SQLite checkpoints a WAL database from the
// connection whose commit pushed the WAL past `wal_autocheckpoint` pages (1,000 by default), inside
// that COMMIT: it copies the pages into the database file and, at `synchronous = NORMAL`, fsyncs
// the WAL and the file. That is nearly all waiting for fsync, and under token-issuance load it
// stalled the server's event loop again and again: every request in flight, verifications
// included, waited (figures in bench/README.md).
//
// Instead, once a store's own commits have filled half of that (checkpoints.ts; a store that hardly
// writes never gets here), the store turns its connection's automatic checkpoints off and a
// worker thread with its own connection checkpoints. The worker reads the WAL's last frame number
// from the WAL-index header (the `-shm` file, https://www.sqlite.org/walformat.html) every
// `intervalMs`, and once it reaches `pages`:
// - `PASSIVE`: copies what is committed, fsyncs, and takes no lock that writers wait for;
// - `RESTART` only when the WAL still holds `pages` frames after that (writers kept appending while
//   it ran): it holds the write lock while it copies that remainder, so that the WAL is fully
//   copied and the next writer starts it from its beginning: the file stays bounded. It waits for
//   no one (no busy timeout): with a writer or a reader in the way it does what PASSIVE does and
//   tries again at the next look. The store's writers wait for its lock asynchronously
//   (group-commit.ts), so the event loop does not.
// Durability is unchanged: the same checkpoints with the same fsyncs, on another thread.

/** What the worker is told. */
interface CheckpointerData {
  /** better-sqlite3's entry point, resolved here: the worker's `require` resolves from the working directory. */
  readonly driver: string
  readonly file: string
  readonly pages: number
  readonly intervalMs: number
  /** The WAL-index header's byte order is the host's. */
  readonly littleEndian: boolean
}

// CommonJS, evaluated in the worker: no TypeScript loader or module graph to start, only the driver.
const WORKER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads')
const { openSync, readSync } = require('node:fs')
const Database = require(workerData.driver)
const db = new Database(workerData.file, { fileMustExist: true })
// Never wait: RESTART would otherwise sleep in SQLite's busy handler (1, 2, 5, 10 ms and more)
// while readers finish, holding the write lock all along; it measured 160 ms of waiting writers
// beside 1,000 verifications a second. Without a busy handler it copies what it can and leaves.
db.pragma('busy_timeout = 0')
const shm = openSync(workerData.file + '-shm', 'r')
const header = Buffer.alloc(20)
function lastFrame () {
  // mxFrame: bytes 16-19 of the first copy of the header.
  return readSync(shm, header, 0, 20, 0) === 20 ? (workerData.littleEndian ? header.readUInt32LE(16) : header.readUInt32BE(16)) : 0
}
const timer = setInterval(() => {
  if (lastFrame() < workerData.pages) return
  db.pragma('wal_checkpoint(PASSIVE)')
  if (lastFrame() >= workerData.pages) db.pragma('wal_checkpoint(RESTART)')
  parentPort.postMessage('checkpointed')
}, workerData.intervalMs)
parentPort.on('message', () => { clearInterval(timer); db.close(); parentPort.close() })
`

/** A running background checkpointer. */
export interface Checkpointer {
  /** How many checkpoint rounds the worker has run (tests and diagnostics). */
  readonly rounds: () => number
  /** Stops the worker (its connection closes); resolves once it has exited. */
  close (): Promise<void>
}

/** When the checkpointer stops on its own (the worker failed): the store turns automatic checkpoints back on. */
export type CheckpointerStopped = (error: Error) => void

/** How the worker checkpoints. */
export interface CheckpointerOptions {
  /** WAL frames (pages) that start a checkpoint: SQLite's `wal_autocheckpoint` default, 1,000. */
  readonly pages?: number
  /** Milliseconds between two looks at the WAL's length (default 10). */
  readonly intervalMs?: number
}

/**
 * Starts the checkpointer of a WAL database file (see above). `onStopped` is called if the worker
 * fails (it cannot open the file, a checkpoint throws); it is not called after `close`.
 */
export function startCheckpointer (file: string, onStopped: CheckpointerStopped, options: CheckpointerOptions = {}): Checkpointer {
  const data: CheckpointerData = {
    driver: createRequire(import.meta.url).resolve('better-sqlite3'),
    file,
    pages: options.pages ?? 1000,
    intervalMs: options.intervalMs ?? 10,
    littleEndian: LITTLE_ENDIAN,
  }
  // No loader flags (the host may run under tsx): the source is plain CommonJS.
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: data, execArgv: [], resourceLimits: { maxYoungGenerationSizeMb: 1, maxOldGenerationSizeMb: 8, stackSizeMb: 1 } })
  // A checkpointer never keeps the process alive.
  worker.unref()
  let rounds = 0
  let closing = false
  let stopped = false
  const stop = (error: Error): void => {
    if (closing || stopped) return
    stopped = true
    onStopped(error)
  }
  worker.on('message', () => { rounds++ })
  const exited = new Promise<void>((resolve) => {
    worker.once('error', stop)
    worker.once('exit', (code) => {
      stop(new Error(`the SQLite checkpointer exited (code ${code})`))
      resolve()
    })
  })
  return {
    rounds: () => rounds,
    async close () {
      if (!closing) {
        closing = true
        // Waited for: the caller's process stays up until the worker has closed its connection.
        worker.ref()
        worker.postMessage('stop')
      }
      await exited
    },
  }
}
