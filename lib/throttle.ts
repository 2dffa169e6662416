// Building blocks of the brute-force limits that do not depend on Fastify or on the counter store:
// how a client address is keyed, how long an account under attack waits, and the bounds that
// keep waiting requests from tying up a server.
import { isIPv6 } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'

/**
 * The part of a client address that failure counters are keyed by. IPv4 addresses (and
 * IPv4-mapped IPv6 ones) are kept whole. An IPv6 address is reduced to its /64 prefix: one
 * subscriber or LAN gets at least a /64 (RFC 6177 §2, RFC 7421), so per-address keys would let
 * one host rotate through 2^64 addresses, each with a fresh allowance.
 */
export function addressKey (ip: string): string {
  if (!isIPv6(ip)) return ip.toLowerCase()
  const groups = ipv6Groups(ip)
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    const [hi = 0, lo = 0] = groups.slice(6)
    return `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`
  }
  return `${groups.slice(0, 4).map((g) => g.toString(16)).join(':')}::/64`
}

/**
 * The form of a username that failure counters are keyed by: Unicode-compatibility normalised
 * (NFKC), case-folded and trimmed. A login check may well accept `Alice`, ` alice` or a full-width
 * `ａｌｉｃｅ` for `alice`; counting each spelling apart would give a guesser a fresh allowance per
 * spelling. Counting two real accounts that differ only so together costs nothing: every refusal
 * is still scoped to the failing address.
 */
export function accountKey (username: string): string {
  return username.normalize('NFKC').toLowerCase().trim()
}

/** The eight 16-bit groups of a valid IPv6 address (`::` expanded, a dotted IPv4 tail and a zone id handled). */
function ipv6Groups (ip: string): number[] {
  let text = ip.toLowerCase().split('%')[0] ?? ''
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text)
  if (dotted !== null) {
    const [a = 0, b = 0, c = 0, d = 0] = dotted.slice(1).map(Number)
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`
  }
  const [head = '', tail] = text.split('::')
  const part = (s: string | undefined): string[] => s === undefined || s === '' ? [] : s.split(':')
  const before = part(head)
  const after = part(tail)
  const fill = tail === undefined ? 0 : 8 - before.length - after.length
  return [...before, ...Array<string>(fill).fill('0'), ...after].map((g) => parseInt(g, 16))
}

/**
 * The longest progressive wait the settings accept, seconds: HTTP clients and proxies commonly
 * give up after 30 to 60 seconds, and a longer wait would turn a slowdown into failed requests.
 */
export const MAX_DELAY_SECONDS = 30

/** The first wait once an account reaches its threshold; it doubles with each further failure. */
const FIRST_DELAY_MS = 250

/**
 * How long to wait before checking a password for an account that has `failures` recent failures
 * across all addresses: nothing below `afterFailures`, then 250 ms doubling per further failure,
 * never more than `maxSeconds`. The wait comes before the check and is the same whatever the
 * password, so how long an answer took says nothing about whether the password was right.
 */
export function progressiveDelayMs (failures: number, afterFailures: number, maxSeconds: number): number {
  if (maxSeconds <= 0 || failures < afterFailures) return 0
  return Math.min(maxSeconds * 1000, FIRST_DELAY_MS * 2 ** Math.min(failures - afterFailures, 30))
}

/** Bounds of a `WaitingRoom`. */
export interface WaitingRoomLimits {
  /** Requests waiting at once for one key (one account). */
  readonly perKey: number
  /** Requests waiting at once in all. */
  readonly total: number
}

/**
 * Where requests for accounts under attack wait, without blocking the event loop, with a bound
 * per account and in all. The per-account bound is what makes a wait slow a distributed guesser
 * down: with at most `perKey` waiting and a wait of `d` seconds, one process checks at most
 * `perKey / d` passwords a second for that account on the waiting path, however many addresses
 * send them. The total bound caps the sockets and bodies an attacker can keep parked.
 */
export class WaitingRoom {
  readonly #limits: WaitingRoomLimits
  readonly #waiting = new Map<string, number>()
  #total = 0

  constructor (limits: WaitingRoomLimits) {
    this.#limits = limits
  }

  /** Waits `ms` for `key` and resolves `true`; resolves `false` at once when the room is full for it. */
  async wait (key: string, ms: number): Promise<boolean> {
    const here = this.#waiting.get(key) ?? 0
    if (here >= this.#limits.perKey || this.#total >= this.#limits.total) return false
    this.#waiting.set(key, here + 1)
    this.#total++
    try {
      await sleep(ms)
    } finally {
      this.#total--
      const left = (this.#waiting.get(key) ?? 1) - 1
      if (left === 0) this.#waiting.delete(key)
      else this.#waiting.set(key, left)
    }
    return true
  }
}

/**
 * Attempts in progress per key, in this process. A failure is counted only once its answer is
 * known, so attempts sent all at once would each see the count from before any of them: adding
 * the attempts still running closes that gap for password guesses.
 */
export class InFlight {
  readonly #counts = new Map<string, number>()

  /** Attempts running for `key`. */
  count (key: string): number {
    return this.#counts.get(key) ?? 0
  }

  /** Counts one attempt for each key; the function returned ends it (calling it again does nothing). */
  start (keys: readonly string[]): () => void {
    for (const key of keys) this.#counts.set(key, this.count(key) + 1)
    let done = false
    return () => {
      if (done) return
      done = true
      for (const key of keys) {
        const left = this.count(key) - 1
        if (left <= 0) this.#counts.delete(key)
        else this.#counts.set(key, left)
      }
    }
  }
}
