import type { PgDb } from './open.js'
import { settleJob, type GroupJob } from '../shared/group-job.js'

// Why: under token-issuance load most of an issuance on PostgreSQL is its commit: a WAL flush
// (fsync) and the round trips of BEGIN and COMMIT, paid once per token. Issuances that arrive
// while a commit is in flight are queued and written together in the next transaction, so the
// flush is paid once per group, and no token is answered before the COMMIT that made it durable
// has returned. The SQLite store does the same (lib/store/sqlite/group-commit.ts).

/** A drizzle transaction (or savepoint) on one pooled connection. */
export type PgTx = Parameters<Parameters<PgDb['transaction']>[0]>[0]

/** A unit of work for {@link createPgGroupCommit}: statements in `t`; `removed` collects access-token checksums it deleted. */
export type PgWork<T> = (t: PgTx, removed: string[]) => Promise<T>

/**
 * Writes of one kind that a group can perform together, with fewer statements than one by one
 * (a multi-row INSERT per table). `many` is all-or-nothing; when it throws, the group rolls it
 * back and writes each item with `one` in a savepoint of its own, so one bad item fails alone.
 */
export interface PgBulkWrite<I, R> {
  /** Writes every item; returns their results in the items' order. */
  readonly many: (t: PgTx, items: readonly I[]) => Promise<R[]>
  /** Writes one item. */
  readonly one: (t: PgTx, item: I) => Promise<R>
  /**
   * Writes every item atomically outside any transaction of the group (one statement in
   * autocommit, or a transaction of its own), when a group holds nothing else: the group then
   * costs one round trip instead of BEGIN, SAVEPOINT, RELEASE and COMMIT around it.
   */
  readonly alone?: (db: PgDb, items: readonly I[]) => Promise<R[]>
}

/** Runs work in a transaction shared with the other work queued meanwhile; settles after its COMMIT. */
export interface PgGroupCommit {
  /** Runs `work` in a savepoint of the next group's transaction (in the transaction itself when it is alone): its error rolls back its own statements only. */
  run: <T>(work: PgWork<T>) => Promise<T>
  /** Writes `item` with the other items of `kind` queued for the same group (see {@link PgBulkWrite}). */
  write: <I, R>(kind: PgBulkWrite<I, R>, item: I) => Promise<R>
  /** Resolves once every queued and running group has settled. */
  drain: () => Promise<void>
}

/** Options of {@link createPgGroupCommit}. */
export interface PgGroupCommitOptions {
  /** Runs in each group's transaction before COMMIT, with the checksums its successful jobs removed (for NOTIFY). */
  readonly beforeCommit: (t: PgTx, removed: readonly string[]) => Promise<void>
  /** Called with each job's `removed` once its outcome is known (committed, rolled back or failed), before it settles. */
  readonly onRemoved: (removed: readonly string[]) => void
  /**
   * Most jobs per transaction (default 48). Bounds how long a group holds its row locks, and
   * keeps its subtransactions (one per savepoint that writes) under PostgreSQL's per-backend
   * cache of 64, past which every other session's snapshots would consult pg_subtrans.
   */
  readonly maxJobs?: number
  /** Most group transactions in flight at once (default 2): one runs its statements while another waits for its flush. */
  readonly maxInFlight?: number
}

interface Job extends GroupJob {
  readonly work: PgWork<unknown> | null
  readonly bulk: { readonly kind: PgBulkWrite<unknown, unknown>, readonly item: unknown } | null
  /** A deadlock victim is run once more, alone. */
  retried: boolean
}

const DEFAULT_MAX_JOBS = 48
const DEFAULT_MAX_IN_FLIGHT = 2

/** runGroup settles every job itself and never rejects; anything else would be a bug, so surface it. */
function surface (err: unknown): void {
  queueMicrotask(() => { throw err })
}

/** SQLSTATE of `deadlock_detected`: PostgreSQL aborted this statement to break a lock cycle. */
const DEADLOCK_DETECTED = '40P01'

/** The SQLSTATE of a driver error, drizzle's wrapping (`cause`) looked through. */
function sqlState (err: unknown): unknown {
  const e = err as { code?: unknown, cause?: { code?: unknown } } | null
  return e?.code ?? e?.cause?.code
}

/**
 * Group commit on a node-postgres pool. Work queued while the pool's group transactions are busy
 * (or during one event-loop turn) runs in one `BEGIN … COMMIT`, each job in its own `SAVEPOINT`:
 * a job that throws (a constraint violation, a lost conditional update) is rolled back to its
 * savepoint and rejects alone, the others commit together. Every job stays all-or-nothing, and
 * none resolves before the COMMIT that makes it durable has returned; a failed COMMIT rejects
 * every job of its group, none of which was stored.
 *
 * Single-use steps keep their semantics: a conditional `UPDATE … WHERE consumed_at IS NULL` in a
 * group takes the same row lock as alone, held until the group commits, and a racing update on
 * another connection waits for it and re-checks. A group holds several jobs' locks, so two groups
 * of two instances can wait for each other; PostgreSQL then aborts one statement (a deadlock), its
 * job is rolled back to its savepoint and run again alone once its group has committed.
 */
export function createPgGroupCommit (db: PgDb, options: PgGroupCommitOptions): PgGroupCommit {
  const maxJobs = options.maxJobs ?? DEFAULT_MAX_JOBS
  const maxInFlight = options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT
  let queue: Job[] = []
  let inFlight = 0
  let scheduled = false
  let idle: Array<() => void> = []

  /** Runs `fn` in a savepoint of `t`, recording the job's outcome; a rolled-back job leaves the transaction usable. */
  async function inSavepoint (t: PgTx, job: Job, fn: (sp: PgTx) => Promise<unknown>): Promise<void> {
    try {
      job.value = await t.transaction(fn)
      job.state = 'done'
    } catch (err) {
      job.state = 'failed'
      job.error = err
    }
  }

  /** The bulk writes of one kind: together in one savepoint, else one by one. */
  async function runBulk (t: PgTx, kind: PgBulkWrite<unknown, unknown>, jobs: readonly Job[]): Promise<void> {
    if (jobs.length > 1) {
      try {
        const values = await t.transaction(async (sp) => await kind.many(sp, jobs.map((j) => j.bulk?.item)))
        jobs.forEach((job, i) => { job.value = values[i]; job.state = 'done' })
        return
      } catch {
        // One item (at least) cannot be written: each alone, so that it fails by itself.
      }
    }
    for (const job of jobs) await inSavepoint(t, job, async (sp) => await kind.one(sp, job.bulk?.item))
  }

  async function runJobs (t: PgTx, jobs: readonly Job[]): Promise<void> {
    const kinds = new Map<PgBulkWrite<unknown, unknown>, Job[]>()
    for (const job of jobs) {
      if (job.bulk === null) continue
      const same = kinds.get(job.bulk.kind)
      if (same === undefined) kinds.set(job.bulk.kind, [job])
      else same.push(job)
    }
    for (const [kind, same] of kinds) await runBulk(t, kind, same)
    for (const job of jobs) {
      const work = job.work
      if (work !== null) await inSavepoint(t, job, async (sp) => await work(sp, job.removed))
    }
    const removed = jobs.filter((j) => j.state === 'done').flatMap((j) => j.removed)
    await options.beforeCommit(t, removed)
  }

  /** Settles every job of a group, after reporting its removals; deadlock victims go back to the queue, to run alone. */
  function settle (jobs: readonly Job[], groupError: { error: unknown } | null): void {
    for (const job of jobs) {
      if (groupError === null && job.state === 'failed' && !job.retried && sqlState(job.error) === DEADLOCK_DETECTED) {
        job.retried = true
        job.state = 'queued'
        job.removed.length = 0
        runGroup([job]).catch(surface)
        continue
      }
      settleJob(job, groupError, options.onRemoved)
    }
  }

  /** A group of bulk writes of one kind only, written by the kind's `alone`: whether that succeeded. */
  async function runAlone (jobs: readonly Job[]): Promise<boolean> {
    const kind = jobs[0]?.bulk?.kind
    if (kind?.alone === undefined || !jobs.every((j) => j.bulk?.kind === kind)) return false
    try {
      const values = await kind.alone(db, jobs.map((j) => j.bulk?.item))
      jobs.forEach((job, i) => { job.value = values[i]; job.state = 'done' })
      return true
    } catch {
      // Nothing was written: the transaction below finds out which item fails, and writes the others.
      return false
    }
  }

  /**
   * A group of one job's work: run in the group's transaction itself, without a savepoint, since
   * rolling the transaction back is rolling the job back. Saves the SAVEPOINT and RELEASE round
   * trips, which are most of a lone code exchange's or rotation's statements when the server is
   * not busy enough to group them. The job's own failure settles it alone (a deadlock victim is
   * run again, as from a savepoint); a failed COMMIT rejects it as a group failure.
   */
  async function runOnly (job: Job, work: PgWork<unknown>): Promise<void> {
    try {
      await db.transaction(async (t) => {
        try {
          job.value = await work(t, job.removed)
        } catch (err) {
          job.state = 'failed'
          job.error = err
          throw err
        }
        job.state = 'done'
        await options.beforeCommit(t, job.removed)
      })
    } catch (err) {
      if (job.state !== 'failed') throw err
    }
  }

  async function runGroup (jobs: readonly Job[]): Promise<void> {
    inFlight++
    try {
      const [only] = jobs
      if (jobs.length === 1 && only !== undefined && only.work !== null) await runOnly(only, only.work)
      else if (!await runAlone(jobs)) await db.transaction(async (t) => { await runJobs(t, jobs) })
      settle(jobs, null)
    } catch (error) {
      settle(jobs, { error })
    } finally {
      inFlight--
      if (queue.length > 0) flush()
      else if (inFlight === 0) {
        const waiting = idle
        idle = []
        for (const resolve of waiting) resolve()
      }
    }
  }

  /** Starts groups while a slot is free: the jobs queued so far, at most `maxJobs` each. */
  function flush (): void {
    scheduled = false
    while (queue.length > 0 && inFlight < maxInFlight) {
      const jobs = queue.slice(0, maxJobs)
      queue = queue.slice(jobs.length)
      runGroup(jobs).catch(surface)
    }
  }

  function enqueue (work: Job['work'], bulk: Job['bulk']): Promise<unknown> {
    return new Promise((resolve, reject) => {
      queue.push({ work, bulk, removed: [], resolve, reject, retried: false, state: 'queued' })
      // The work of one event-loop turn (requests read in the same I/O phase) starts together;
      // later work waits for a free slot, gathering what arrives meanwhile.
      if (!scheduled && inFlight < maxInFlight) {
        scheduled = true
        setImmediate(flush)
      }
    })
  }

  return {
    run: async <T>(work: PgWork<T>): Promise<T> => await (enqueue(work as PgWork<unknown>, null) as Promise<T>),
    write: async <I, R>(kind: PgBulkWrite<I, R>, item: I): Promise<R> =>
      await (enqueue(null, { kind: kind as PgBulkWrite<unknown, unknown>, item }) as Promise<R>),
    drain: async (): Promise<void> => {
      if (queue.length === 0 && inFlight === 0) return
      await new Promise<void>((resolve) => { idle.push(resolve) })
    },
  }
}
