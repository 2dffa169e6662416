// What the two dialects' group commits (sqlite/group-commit.ts, pg/group-commit.ts) share: a
// queued piece of work and how it is settled once its group's transaction has ended.

/** One caller's work in a group commit, as both dialects track it. */
export interface GroupJob {
  /** Checksums of the access tokens the work removed, reported before the caller resolves. */
  readonly removed: string[]
  readonly resolve: (value: unknown) => void
  readonly reject: (error: unknown) => void
  state: 'queued' | 'done' | 'failed'
  value?: unknown
  error?: unknown
}

/**
 * Settles a job after its group's transaction ended (`groupError` when the group itself failed):
 * its removals are reported first, so a cache never serves a removed token after the caller has
 * been answered; a report that throws rejects this job alone.
 */
export function settleJob (job: GroupJob, groupError: { error: unknown } | null, onRemoved: (checksums: readonly string[]) => void): void {
  let reportError: { error: unknown } | null = null
  try {
    onRemoved(job.removed)
  } catch (error) {
    reportError = { error }
  }
  if (job.state === 'failed') job.reject(job.error)
  else if (groupError !== null) job.reject(groupError.error)
  else if (reportError !== null) job.reject(reportError.error)
  else job.resolve(job.value)
}
