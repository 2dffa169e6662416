import pg from 'pg'
import { decodeInvalidation, INVALIDATION_CHANNEL, type InvalidationHub } from '../invalidation.js'

/** `application_name` of the listening connection (it shows in `pg_stat_activity`). */
export const LISTENER_APPLICATION_NAME = 'oat-invalidation-listener'

const RETRY_MIN_MS = 50
const RETRY_MAX_MS = 2000

/**
 * The cross-process half of the invalidation rule on PostgreSQL: one dedicated connection
 * (outside the pool, with the pool's settings) `LISTEN`s on `oat_invalidate` and hands every
 * notification to the store's subscribers. The other stores `NOTIFY` inside their removing
 * transactions, so a notification arrives when, and only if, the removal commits.
 *
 * While the connection is not listening (starting, dropped by a restart or failover, or a
 * network fault) `listening` is false and caches do not serve; a drop reports `all` at once and
 * reconnects with backoff (50 ms doubling to 2 s), and a (re)connection reports `all` again
 * before serving resumes, since notifications sent meanwhile are lost.
 */
export class PgInvalidationListener {
  private client: pg.Client | null = null
  private state: 'idle' | 'connecting' | 'listening' | 'down' | 'closed' = 'idle'
  private timer: NodeJS.Timeout | null = null
  private failures = 0

  /** @param origin this store's name in payloads: its own notifications, already reported locally, are skipped. */
  constructor (private readonly pool: pg.Pool, private readonly hub: InvalidationHub, private readonly origin: string) {}

  /** True while notifications are being received. */
  get listening (): boolean {
    return this.state === 'listening'
  }

  /** Starts listening, unless already started or closed. */
  start (): void {
    if (this.state === 'idle') this.connect().catch(() => {})
  }

  /** Stops listening (a later `start()` starts again unless `final`): closes the connection and cancels a pending reconnection. */
  async stop (final = false): Promise<void> {
    if (this.state === 'closed') return
    this.state = final ? 'closed' : 'idle'
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
    const client = this.client
    this.client = null
    if (client !== null) await client.end().catch(() => {})
  }

  private async connect (): Promise<void> {
    this.state = 'connecting'
    this.timer = null
    const options = this.pool.options
    // The pool keeps `password` non-enumerable, so it is copied by name.
    const client = new pg.Client({ ...options, password: options.password, application_name: LISTENER_APPLICATION_NAME })
    this.client = client
    client.on('error', () => { this.drop(client) })
    client.on('end', () => { this.drop(client) })
    client.on('notification', (message) => {
      if (message.channel !== INVALIDATION_CHANNEL || this.client !== client) return
      const { origin, event } = decodeInvalidation(message.payload)
      if (origin !== this.origin) this.hub.emit(event)
    })
    try {
      await client.connect()
      await client.query(`LISTEN ${INVALIDATION_CHANNEL}`)
    } catch {
      this.drop(client)
      return
    }
    if (this.client !== client || this.state !== 'connecting') return
    this.failures = 0
    // What was removed before this point was never heard of: nothing cached may be served.
    this.hub.emit({ kind: 'all' })
    this.state = 'listening'
  }

  private drop (client: pg.Client): void {
    if (this.client !== client) return
    this.client = null
    client.end().catch(() => {})
    if (this.state === 'closed' || this.state === 'idle') return
    this.state = 'down'
    this.hub.emit({ kind: 'all' })
    const delay = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** this.failures++)
    this.timer = setTimeout(() => { if (this.state === 'down') this.connect().catch(() => {}) }, delay)
    this.timer.unref()
  }
}
