import { addSeconds } from './clock.js'
import type { ServerContext } from './context.js'
import { endExpiredSessions } from './sessions.js'
import type { ClearedBatch, ClearedCounts } from './store/types.js'

/** The least pause between two batches, ms. */
const MIN_PAUSE_MS = 3

/** Options of `clearExpiredTokens`. */
export interface ClearExpiredOptions {
  /** Called after each batch (the CLI prints progress). */
  onBatch?: () => void
  /** Called after every batch that deleted rows, with its row count and how long it held the write lock (the benchmark). */
  onBatchDone?: (batch: ClearedBatch) => void
}

/**
 * DOT's `cleartokens`, in batches of at most `clearExpiredTokensBatchSize` rows with
 * `clearExpiredTokensBatchInterval` seconds (at least 3 ms) between them. On SQLite a batch is
 * also sized to hold the write lock for about 20 ms (commit included), so neither another process's writes nor,
 * when run in the server, its event loop wait longer than that. It deletes: refresh tokens revoked
 * longer ago than the grace period (with reuse protection, they are kept until idle expiry so a
 * replay is still recognised as reuse, not as an unknown token); refresh tokens idle past `refreshTokenExpireSeconds`;
 * expired access tokens; expired ID tokens no access token refers to; expired codes; and user
 * sessions that ended, or expired (those are ended first, like a logout: logout tokens queued for
 * the servers' workers to deliver, refresh families without `offline_access` revoked, each a
 * `tokenRevoked` with reason `session-expired`).
 */
export async function clearExpiredTokens (ctx: ServerContext, options: ClearExpiredOptions = {}): Promise<ClearedCounts> {
  const s = ctx.settings
  const now = ctx.clock.now()
  const interval = s.clearExpiredTokensBatchInterval
  // Expired user sessions end as a logout does (their relying parties are told) before their rows go.
  await endExpiredSessions(ctx, now, s.clearExpiredTokensBatchSize)
  return await ctx.store.clearExpired({
    now,
    revokedBefore: s.refreshTokenReuseProtection ? null : addSeconds(now, -s.refreshTokenGracePeriodSeconds),
    refreshCreatedBefore: s.refreshTokenExpireSeconds === null ? null : addSeconds(now, -s.refreshTokenExpireSeconds),
    batchSize: s.clearExpiredTokensBatchSize,
    ...(options.onBatchDone === undefined ? {} : { onBatchDone: options.onBatchDone }),
    betweenBatches: async () => {
      options.onBatch?.()
      // Even without an interval, a short pause: other writers waiting for the lock (they retry
      // every 1–2 ms) get in between batches, and an in-process caller's requests get served.
      await new Promise((resolve) => setTimeout(resolve, Math.max(interval * 1000, MIN_PAUSE_MS)))
    },
  })
}
