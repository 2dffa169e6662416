import type Database from 'better-sqlite3'
import { settleJob, type GroupJob } from '../shared/group-job.js'

// Why: under token-issuance load most of a write is its commit (WAL frames, locks), and
// better-sqlite3 waits for a busy write lock on the event loop. Grouping the writes of one
// event-loop turn pays the commit once, and the wait for the lock is asynchronous.

/** A unit of work for {@link createGroupCommit}: synchronous statements on the connection; `removed` collects access-token checksums it deleted. */
export type TransactionWork<T> = (removed: string[]) => T

/** Runs work in an IMMEDIATE transaction, shared with the other work queued in the same event-loop turn. */
export type GroupCommit = <T>(work: TransactionWork<T>) => Promise<T>

/** Options of {@link createGroupCommit}. */
export interface GroupCommitOptions {
  /** Called with each job's `removed` once its outcome is known (committed, rolled back or failed), before it settles. */
  readonly onRemoved: (removed: readonly string[]) => void
  /** Most jobs per transaction (default 64): bounds how long one transaction holds the write lock. */
  readonly maxJobs?: number
  /**
   * Runs inside each transaction this group commit opens (not in a host's), after its jobs and
   * before `COMMIT`, still holding the write lock; the function it returns runs once that
   * `COMMIT` has returned (never after a rollback).
   */
  readonly beforeCommit?: () => (() => void)
}

interface Job extends GroupJob {
  readonly work: TransactionWork<unknown>
}

/** The shared transaction was lost (SQLite rolled it back after an error): nothing of the group was committed. */
class TransactionLost extends Error {
  constructor (override readonly cause: unknown) {
    super('the shared transaction was rolled back')
  }
}

const DEFAULT_MAX_JOBS = 64

/**
 * Group commit for a better-sqlite3 connection. Work queued during one event-loop turn (the
 * token requests whose handlers reached the store in the same I/O phase) runs in one
 * `BEGIN IMMEDIATE … COMMIT`, each job in its own `SAVEPOINT`: a job that throws is rolled
 * back to its savepoint and rejects alone, the others commit together. So every job is still
 * all-or-nothing, and none resolves before the `COMMIT` that makes it durable has returned; a
 * failed `COMMIT` (or an error after which SQLite rolled the whole transaction back) rejects
 * every job of the group, none of which was stored. The commit (the WAL frames of the shared
 * table and index pages, the locks) is paid once per group instead of once per job.
 *
 * Waiting for the write lock never blocks the event loop: `BEGIN IMMEDIATE` runs with no busy
 * timeout, and when another connection (cleartokens, a second process) holds the lock the
 * group is retried after an asynchronous pause of 1–2 ms, until the connection's own busy
 * timeout has passed (better-sqlite3's busy handler would sleep on the event loop instead).
 */
export function createGroupCommit (raw: Database.Database, options: GroupCommitOptions): GroupCommit {
  const maxJobs = options.maxJobs ?? DEFAULT_MAX_JOBS
  const busyTimeoutMs = Number(raw.pragma('busy_timeout', { simple: true }))
  const noBusyWait = raw.prepare('PRAGMA busy_timeout = 0')
  const restoreBusyWait = raw.prepare(`PRAGMA busy_timeout = ${busyTimeoutMs}`)
  const begin = raw.prepare('BEGIN IMMEDIATE')
  const commit = raw.prepare('COMMIT')
  const rollback = raw.prepare('ROLLBACK')
  const savepoint = raw.prepare('SAVEPOINT oat_job')
  const release = raw.prepare('RELEASE oat_job')
  const rollbackTo = raw.prepare('ROLLBACK TO oat_job')

  let queue: Job[] = []
  let scheduled = false

  /** Runs each job in a savepoint of the open transaction; throws `TransactionLost` when SQLite dropped the transaction. */
  function runJobs (jobs: readonly Job[]): void {
    for (const job of jobs) {
      savepoint.run()
      try {
        job.value = job.work(job.removed)
        release.run()
        job.state = 'done'
      } catch (err) {
        job.state = 'failed'
        job.error = err
        if (!raw.inTransaction) throw new TransactionLost(err)
        rollbackTo.run()
        release.run()
      }
    }
  }

  /**
   * One attempt: `true` when the transaction ran (committed or failed), `false` when the write
   * lock was busy. On a connection the host has already put in a transaction (an adopted
   * database, `BEGIN` … store calls … `COMMIT`), the jobs run in savepoints of the host's
   * transaction, as better-sqlite3's nested transactions do, and its `COMMIT` is the host's.
   */
  function attempt (jobs: readonly Job[], lastChance: boolean): boolean {
    const hostTransaction = raw.inTransaction
    if (!hostTransaction) {
      noBusyWait.run()
      try {
        begin.run()
      } catch (err) {
        if ((err as { code?: unknown }).code === 'SQLITE_BUSY' && !lastChance) return false
        throw err
      } finally {
        restoreBusyWait.run()
      }
    }
    let committed: (() => void) | undefined
    try {
      runJobs(jobs)
      if (!hostTransaction) {
        committed = options.beforeCommit?.()
        commit.run()
      }
    } catch (err) {
      if (!hostTransaction && raw.inTransaction) rollback.run()
      throw err instanceof TransactionLost ? err.cause : err
    }
    // Committed: a failure here is a bug of the caller's hook, not of the jobs (which stay resolved).
    if (committed !== undefined) {
      try {
        committed()
      } catch (err) {
        queueMicrotask(() => { throw err })
      }
    }
    return true
  }

  /** Settles every job of a group, after reporting its removals (a report that throws rejects that job alone). */
  function settle (jobs: readonly Job[], groupError: { error: unknown } | null): void {
    for (const job of jobs) {
      settleJob(job, groupError, options.onRemoved)
    }
  }

  async function flush (): Promise<void> {
    scheduled = false
    const jobs = queue.slice(0, maxJobs)
    queue = queue.slice(jobs.length)
    if (queue.length > 0) schedule()
    const deadline = Date.now() + busyTimeoutMs
    try {
      for (let tries = 0; !attempt(jobs, Date.now() >= deadline); tries++) {
        await new Promise((resolve) => setTimeout(resolve, Math.min(2, tries + 1)))
      }
    } catch (error) {
      settle(jobs, { error })
      return
    }
    settle(jobs, null)
  }

  function schedule (): void {
    if (scheduled) return
    scheduled = true
    // flush settles every job itself and never rejects; anything else would be a bug, so surface it.
    setImmediate(() => { flush().catch((err: unknown) => { queueMicrotask(() => { throw err }) }) })
  }

  return async <T>(work: TransactionWork<T>): Promise<T> => await new Promise<T>((resolve, reject) => {
    queue.push({ work, removed: [], resolve: resolve as (value: unknown) => void, reject, state: 'queued' })
    schedule()
  })
}
