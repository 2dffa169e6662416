import { setMaxListeners } from 'node:events'
import { addSeconds } from './clock.js'
import type { ServerContext } from './context.js'
import { SafeFetchError, type SafeFetch } from './http/safe-fetch.js'
import { notify } from './notify.js'
import type { LogoutDeliveryRecord } from './store/types.js'
import { signLogoutToken } from './tokens/logout-token.js'

// OpenID Connect Back-Channel Logout 1.0 §2.5: the OP POSTs a logout token to each relying party
// of an ended session. Deliveries wait in an outbox table (`oauth2_logout_delivery`), written in
// the transaction that ends the session, so none is lost to a crash; any instance on the database
// works through it. A pass claims the due rows with one conditional UPDATE that moves their next
// attempt past the time an attempt can take (so no other instance takes them meanwhile, and a
// crashed instance's rows come due again), then POSTs each through the SSRF-safe client.

/** Rows one claim takes; a pass claims again while claims come back full. */
const CLAIM_BATCH = 50
/** The longest wait between two attempts of one delivery. */
const MAX_RETRY_SECONDS = 3600

/** The outbox worker of one server. */
export interface LogoutDelivery {
  /** Starts looking for due deliveries every `backchannelLogoutPollSeconds` (timers unref'd); idempotent. */
  start (): void
  /** Whether `start` was called and `stop` not yet: only then does a logout trigger passes in this process. */
  readonly running: boolean
  /** Runs one pass now (claims and attempts what is due); resolves when it ends. Nothing when not running. */
  runOnce (): Promise<void>
  /** Runs one pass and waits at most `seconds` until no pass is in flight in this process (passes the timer starts meanwhile included); they go on in the background after that. */
  flush (seconds: number): Promise<void>
  /** Stops the timer, interrupts attempts in flight (their rows come due again at once) and waits for the passes to end. */
  stop (): Promise<void>
}

/** Why a failed attempt failed, for the event and `last_error`: never the token, nothing secret. */
function describeFailure (err: unknown): { readonly error: string, readonly status?: number } {
  if (err instanceof SafeFetchError) return err.status === undefined ? { error: `${err.reason}: ${err.message}` } : { error: `${err.reason}: ${err.message}`, status: err.status }
  return { error: err instanceof Error ? err.message : 'unknown error' }
}

/** The worker for `ctx`, POSTing through `fetch` (the server's SSRF-safe client). */
export function createLogoutDelivery (ctx: ServerContext, fetch: SafeFetch, requestTimeoutMs: number): LogoutDelivery {
  const { settings, store, clock } = ctx
  let running = false
  let timer: NodeJS.Timeout | null = null
  let abort = new AbortController()
  const passes = new Set<Promise<void>>()
  // Claimed rows stay leased for longer than an attempt can take (the request time limit, and
  // signing), so a slow attempt is never taken by another instance while it runs.
  const leaseSeconds = Math.max(60, Math.ceil(requestTimeoutMs / 1000) * 2)

  const reportError = (err: unknown): void => {
    try {
      if (ctx.events.listenerCount('error') > 0) ctx.events.emit('error', err)
    } catch {
      // nowhere left to report to
    }
  }

  function retryDelaySeconds (attempts: number): number {
    return Math.min(MAX_RETRY_SECONDS, settings.backchannelLogoutRetrySeconds * 2 ** Math.max(0, attempts - 1))
  }

  async function attempt (row: LogoutDeliveryRecord, signal: AbortSignal): Promise<void> {
    const application = await store.findApplicationById(row.applicationId)
    const base = { applicationId: row.applicationId, clientId: application?.clientId ?? '', sid: row.sid, attempt: row.attempts }
    try {
      if (application === null || application.backchannelLogoutUri === '') throw new Error('the application no longer has a back-channel logout URI')
      const issuer = settings.issuer
      if (issuer === null) throw new Error('the issuer setting is unset: logout tokens need a fixed `iss`')
      const token = await signLogoutToken(ctx, { issuer, application, userId: row.userId, sid: row.sid })
      // §2.5: application/x-www-form-urlencoded, `logout_token`; §2.8: 200 (or 204) is success.
      const res = await fetch(application.backchannelLogoutUri, {
        method: 'POST', body: new URLSearchParams({ logout_token: token }).toString(), okStatuses: [200, 204], accept: '*/*', signal,
      })
      await store.deleteLogoutDelivery(row.id)
      notify(ctx, 'backchannelLogout', { ...base, at: clock.now(), outcome: 'delivered', status: res.status })
    } catch (err) {
      if (signal.aborted) {
        // Shutting down: not the relying party's failure; due again at once for any instance.
        await store.rescheduleLogoutDelivery(row.id, clock.now(), 'interrupted by shutdown')
        return
      }
      const failure = describeFailure(err)
      const now = clock.now()
      if (row.attempts >= settings.backchannelLogoutMaxAttempts || application === null || application.backchannelLogoutUri === '') {
        await store.deleteLogoutDelivery(row.id)
        notify(ctx, 'backchannelLogout', { ...base, at: now, outcome: 'failed', ...failure })
      } else {
        await store.rescheduleLogoutDelivery(row.id, addSeconds(now, retryDelaySeconds(row.attempts)), failure.error.slice(0, 500))
        notify(ctx, 'backchannelLogout', { ...base, at: now, outcome: 'retrying', ...failure })
      }
    }
  }

  async function pass (): Promise<void> {
    const signal = abort.signal
    for (;;) {
      const now = clock.now()
      const claimed = await store.claimLogoutDeliveries(now, addSeconds(now, leaseSeconds), CLAIM_BATCH)
      await Promise.all(claimed.map(async (row) => { await attempt(row, signal).catch(reportError) }))
      if (claimed.length < CLAIM_BATCH || !running) return
    }
  }

  function runOnce (): Promise<void> {
    if (!running) return Promise.resolve()
    const p = pass().catch(reportError).finally(() => { passes.delete(p) })
    passes.add(p)
    return p
  }

  function schedule (): void {
    if (!running) return
    timer = setTimeout(() => {
      timer = null
      runOnce().finally(schedule).catch(reportError)
    }, settings.backchannelLogoutPollSeconds * 1000)
    timer.unref()
  }

  return {
    get running () { return running },
    start () {
      if (running) return
      running = true
      abort = new AbortController()
      // Every attempt in flight listens to it (one per relying party being told).
      setMaxListeners(0, abort.signal)
      runOnce().catch(reportError)
      schedule()
    },
    runOnce,
    async flush (seconds) {
      runOnce().catch(reportError)
      if (seconds <= 0) return
      // Every pass in flight, not only the one just started, and those that start while it waits:
      // the timer's pass may claim this logout's rows before the pass just started does (on
      // PostgreSQL two claims race on two connections), and the logout is told once their
      // attempts end (or the time is up). Another instance's worker may claim them too; then this
      // logout does not wait for it.
      let wait: NodeJS.Timeout | undefined
      const deadline = new Promise<'time'>((resolve) => { wait = setTimeout(() => { resolve('time') }, seconds * 1000); wait.unref() })
      while (passes.size > 0) {
        if (await Promise.race([Promise.allSettled([...passes]), deadline]) === 'time') break
      }
      clearTimeout(wait)
    },
    async stop () {
      running = false
      if (timer !== null) clearTimeout(timer)
      timer = null
      abort.abort()
      await Promise.allSettled([...passes])
    },
  }
}
