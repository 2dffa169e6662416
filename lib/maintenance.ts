import { addSeconds } from './clock.js'
import type { ServerContext } from './context.js'
import type { ClearedCounts } from './store/types.js'

/** Options of `clearExpiredTokens`. */
export interface ClearExpiredOptions {
  /** Called after each batch (the CLI prints progress). */
  onBatch?: () => void
}

/**
 * DOT's `cleartokens`, in batches of `clearExpiredTokensBatchSize` with
 * `clearExpiredTokensBatchInterval` seconds between them. It deletes: refresh tokens revoked
 * longer ago than the grace period (with reuse protection, they are kept until idle expiry so a
 * replay is still recognised, STORE-4); refresh tokens idle past `refreshTokenExpireSeconds`;
 * expired access tokens; expired ID tokens no access token refers to; expired codes.
 */
export async function clearExpiredTokens (ctx: ServerContext, options: ClearExpiredOptions = {}): Promise<ClearedCounts> {
  const s = ctx.settings
  const now = ctx.clock.now()
  const interval = s.clearExpiredTokensBatchInterval
  return await ctx.store.clearExpired({
    now,
    revokedBefore: s.refreshTokenReuseProtection ? null : addSeconds(now, -s.refreshTokenGracePeriodSeconds),
    refreshCreatedBefore: s.refreshTokenExpireSeconds === null ? null : addSeconds(now, -s.refreshTokenExpireSeconds),
    batchSize: s.clearExpiredTokensBatchSize,
    betweenBatches: async () => {
      options.onBatch?.()
      if (interval > 0) await new Promise((resolve) => setTimeout(resolve, interval * 1000))
    },
  })
}
