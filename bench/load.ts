// One autocannon run against one target, and alternating A/B rounds over several targets.
import autocannon from 'autocannon'
import { cpuMillis } from './children.js'
import { median, percentile, round } from './stats.js'

/** What a run sends. `vary`, when given, rewrites each request (a fresh token, a fresh code). */
export interface Target {
  readonly name: string
  /** Base URL of the server, e.g. `http://127.0.0.1:1234`. */
  readonly origin: string
  readonly path: string
  readonly method?: 'GET' | 'POST'
  readonly headers?: Record<string, string>
  readonly body?: string
  readonly vary?: (request: { headers?: Record<string, string | string[] | undefined>, body?: string | Buffer }) => void
  /** Sees every response body (autocannon then keeps bodies, so only where needed). */
  readonly onResponse?: (status: number, body: string) => void
  /** The server's process id, to measure the CPU time it spends per request. */
  readonly pid?: number
}

/** How long and how hard. Give `duration` (seconds) or `amount` (requests). */
export interface LoadOptions {
  readonly connections: number
  readonly duration?: number
  readonly amount?: number
  /** Requests per second over all connections (a fixed-rate run), instead of as fast as possible. */
  readonly overallRate?: number
  /** Seconds before a request counts as timed out (autocannon's default is 10). */
  readonly timeoutSeconds?: number
}

/** The outcome of one run. Latencies are ms, from our own samples (autocannon's histogram is integer ms). */
export interface LoadResult {
  readonly name: string
  /** 2xx responses per second. */
  readonly rps: number
  readonly ok: number
  readonly non2xx: number
  readonly errors: number
  readonly seconds: number
  readonly p50: number
  readonly p99: number
  readonly max: number
  /**
   * Server CPU time (user + system, all threads) per response, µs. Less sensitive than req/s to
   * other processes competing for the cores, at the 10 ms resolution of the kernel's counters.
   */
  readonly cpuUs: number
}

/** A running load, to stop early (the cleartokens benchmark stops it when the job ends). */
export interface RunningLoad {
  readonly done: Promise<LoadResult>
  stop (): void
}

/** Starts one autocannon run; `done` resolves with 2xx throughput and latency percentiles. */
export function startLoad (target: Target, options: LoadOptions): RunningLoad {
  const latencies: number[] = []
  const vary = target.vary
  const cpuBefore = target.pid === undefined ? NaN : cpuMillis(target.pid)
  const instance = autocannon({
    url: target.origin + target.path,
    method: target.method ?? 'GET',
    headers: target.headers ?? {},
    body: target.body,
    connections: options.connections,
    pipelining: 1,
    // autocannon stops only at a sample tick; 100 ms ticks keep short rounds short.
    sampleInt: 100,
    ...(options.amount === undefined ? { duration: options.duration ?? 1 } : { amount: options.amount }),
    ...(options.overallRate === undefined ? {} : { overallRate: options.overallRate }),
    ...(options.timeoutSeconds === undefined ? {} : { timeout: options.timeoutSeconds }),
    // Every target goes through setupRequest, so the load generator does the same work in A and B.
    requests: [{
      setupRequest: (request) => {
        vary?.(request)
        return request
      },
      ...(target.onResponse === undefined ? {} : { onResponse: target.onResponse }),
    }],
  }, () => {})
  instance.on('response', (_client, status, _bytes, responseTime) => {
    if (status >= 200 && status < 300) latencies.push(responseTime)
  })
  const done = new Promise<LoadResult>((resolve) => {
    instance.on('done', (result) => {
      const sorted = Float64Array.from(latencies).sort()
      const ok = result['2xx']
      const cpu = target.pid === undefined ? NaN : cpuMillis(target.pid) - cpuBefore
      resolve({
        name: target.name,
        rps: round(ok / result.duration, 0),
        ok,
        non2xx: result.non2xx,
        errors: result.errors + result.timeouts,
        seconds: result.duration,
        p50: round(percentile(sorted, 50), 3),
        p99: round(percentile(sorted, 99), 3),
        max: round(sorted.length === 0 ? NaN : sorted[sorted.length - 1]!, 3),
        cpuUs: round(cpu * 1000 / (ok + result.non2xx), 1),
      })
    })
  })
  return { done, stop: () => { instance.stop() } }
}

/** Runs one load to completion. */
export async function runLoad (target: Target, options: LoadOptions): Promise<LoadResult> {
  return await startLoad(target, options).done
}

/** Medians over the rounds of one target, with every round kept for the JSON report. */
export interface ArmSummary {
  readonly name: string
  readonly rps: number
  readonly p50: number
  readonly p99: number
  readonly cpuUs: number
  readonly non2xx: number
  readonly errors: number
  readonly rounds: readonly LoadResult[]
}

/**
 * Sends a few requests one at a time: the first request of a client fills the verified-secret
 * cache, and a first burst of concurrent ones would each run scrypt (measured separately).
 */
export async function prime (target: Target): Promise<void> {
  await runLoad(target, { connections: 1, amount: 5 })
}

/**
 * Loads `target` in runs of `seconds`, at least three, until its server's CPU time per request
 * (req/s without a `pid`) moves by less than `tolerance` from one run to the next, for at most
 * `maxSeconds`; returns the seconds spent. A fresh process runs its hot paths unoptimized until
 * V8 has compiled them, which on loaded cores (the compiler thread shares them) takes many
 * seconds: a fixed warm-up left the first rounds of a new server several times slower than the
 * later ones.
 */
export async function warmUntilSteady (target: Target, options: LoadOptions, seconds: number, maxSeconds: number, tolerance = 0.1): Promise<number> {
  let previous = NaN
  let spent = 0
  for (let runs = 1; spent < maxSeconds; runs++) {
    const run = await runLoad(target, { ...options, duration: seconds })
    spent += seconds
    const measure = target.pid === undefined ? run.rps : run.cpuUs
    if (runs >= 3 && Math.abs(measure - previous) <= tolerance * previous) break
    previous = measure
  }
  return spent
}

/** How `alternate` warms each target up: a fixed run, or until steady (`warmUntilSteady`) for fresh processes. */
export type WarmUp = number | { readonly seconds: number, readonly maxSeconds: number }

/**
 * Alternates the targets round by round (A B C, A B C, …; the order flips every other round so
 * no target always runs right after another), after priming and a warm-up run of each.
 */
export async function alternate (targets: readonly Target[], rounds: number, options: LoadOptions, warmup: WarmUp): Promise<ArmSummary[]> {
  for (const t of targets) await prime(t)
  for (const t of targets) {
    if (typeof warmup === 'number') await runLoad(t, { ...options, duration: warmup })
    else await warmUntilSteady(t, options, warmup.seconds, warmup.maxSeconds)
  }
  const results = targets.map(() => [] as LoadResult[])
  for (let r = 0; r < rounds; r++) {
    const order = targets.map((_, i) => i)
    if (r % 2 === 1) order.reverse()
    for (const i of order) results[i]!.push(await runLoad(targets[i]!, options))
  }
  return targets.map((t, i) => {
    const rs = results[i]!
    return {
      name: t.name,
      rps: median(rs.map((x) => x.rps)),
      p50: round(median(rs.map((x) => x.p50)), 3),
      p99: round(median(rs.map((x) => x.p99)), 3),
      cpuUs: round(median(rs.map((x) => x.cpuUs)), 1),
      non2xx: rs.reduce((n, x) => n + x.non2xx, 0),
      errors: rs.reduce((n, x) => n + x.errors, 0),
      rounds: rs,
    }
  })
}
