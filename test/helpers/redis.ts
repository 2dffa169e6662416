// Redis for the tests that share rate-limit counters between instances. Without a reachable
// server the file is skipped with a one-line reason, unless OAT_REQUIRE_REDIS=1 (CI) makes that
// a failure. Each test gets its own key namespace, deleted in teardown.
import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import type { Test } from 'tap'
import { skipWithReason } from './skip.js'

/** The server the tests use (OAT_TEST_REDIS_URL overrides it). */
export const REDIS_URL = process.env.OAT_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'

/** A connected client and a fresh key namespace, or `null` when no server answers and `t` has been marked skipped. */
export async function redisForTest (t: Test): Promise<{ redis: Redis, nameSpace: string } | null> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, connectTimeout: 2000, maxRetriesPerRequest: 1, retryStrategy: () => null })
  redis.on('error', () => {})
  try {
    await redis.connect()
    await redis.ping()
  } catch (err) {
    redis.disconnect()
    const reason = `no Redis at ${REDIS_URL} (${(err as Error).message}); set OAT_TEST_REDIS_URL to run these tests`
    if (process.env.OAT_REQUIRE_REDIS === '1') throw new Error(`OAT_REQUIRE_REDIS=1 but ${reason}`)
    skipWithReason(t, reason)
    return null
  }
  const nameSpace = `oat-test-${randomBytes(6).toString('hex')}-`
  t.teardown(async () => {
    const keys = await redis.keys(`${nameSpace}*`)
    if (keys.length > 0) await redis.del(...keys)
    await redis.quit()
  })
  return { redis, nameSpace }
}
