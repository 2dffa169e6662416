import fastifyRateLimit, { type RateLimitOptions } from '@fastify/rate-limit'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { OAuthError } from '../lib/errors.js'
import { flattenParams } from '../lib/request.js'
import { toErrorResponse } from '../lib/response.js'
import { accountKey, addressKey, InFlight, MAX_DELAY_SECONDS, progressiveDelayMs, WaitingRoom } from '../lib/throttle.js'
import { parseBasicAuth } from '../lib/validator/client-auth.js'
import { claimedClientId } from '../lib/validator/client-assertion.js'
import type { RateLimitKind } from '../lib/event-types.js'
import { emitEvent, listening } from '../lib/events.js'
import { logSafe } from '../lib/redact.js'
import { sendOAuthResponse } from './oauth-request.js'

// Brute-force limits on top of @fastify/rate-limit's stores, so a host that registered the plugin
// with a shared store (Redis) gets counters shared by every instance. Failures are counted, not
// requests: a backend may ask for thousands of tokens, but only failed authentications reveal
// guessing. The checks run in preHandler, before the endpoint computes any secret hash, so a
// refused request costs no KDF work.
//
// A limit must not become a lockout weapon (RFC 6819 §4.4.3.6, OWASP "account lockout"): client
// ids appear in every authorization URL and usernames are easy to learn, so a counter that refused
// everyone once a client or account had failed too often would let anyone lock a backend or a user
// out. Refusals are therefore keyed on what the failing source controls: (client, address),
// (account, address) and the address. What counts per account across addresses only slows the
// attempts down (a bounded wait before the password check), so the right password from an address
// that has not failed always gets through. Client secrets get no per-client counter at all:
// generated ones carry hundreds of bits, far beyond any online guessing.

type Limiter = (request: FastifyRequest, options?: { increment?: boolean }) => Promise<{ isAllowed: boolean, remaining?: number, ttlInSeconds?: number, isExceeded?: boolean }>

/** Longest identifier kept in a limiter key: bounds memory whatever an attacker sends. */
const MAX_KEY_PART = 200

/**
 * Password checks waiting at once for one account, and in all, in one process. One account's
 * bound is what turns the wait into a cap on distributed guessing (two checks per wait, per
 * process); two lets a person who submitted the form twice wait alongside an attacker. The total
 * bounds the requests an attacker can keep parked (each holds a socket and a small body).
 */
const WAITING_ROOM = { perKey: 2, total: 1000 } as const

/** The answer when a limit is reached: RFC 6749 §5.2-shaped JSON, 429, `Retry-After` (RFC 6585 §4). */
export class TooManyRequestsError extends OAuthError {
  constructor (retryAfterSeconds: number) {
    super('temporarily_unavailable', 429, {
      description: 'Too many attempts; retry later.',
      detail: 'rate limit reached',
      headers: { 'retry-after': String(Math.max(1, retryAfterSeconds)) },
    })
  }
}

/**
 * The answer when the counters' store (Redis, say) cannot be reached: 503 with `Retry-After`,
 * in the endpoint's JSON. The limits fail closed, since letting guesses through unlimited while
 * the store is down is what an attacker who can disturb it would want; the outage is logged.
 */
export class CountersUnavailableError extends OAuthError {
  constructor () {
    super('temporarily_unavailable', 503, {
      description: 'The server cannot check its request limits right now; retry later.',
      detail: 'rate-limit store unavailable',
      headers: { 'retry-after': '5' },
    })
  }
}

/** A refusal: which limit, and the `Retry-After` seconds. */
interface Refusal {
  readonly limit: RateLimitKind
  readonly seconds: number
}

/** The servers already warned about an untrusted proxy: once each is enough. */
const warnedOfProxy = new WeakSet<object>()

/**
 * Behind a TLS-terminating proxy that Fastify does not trust (no `trustProxy`), every client has
 * the proxy's address, so a per-address limit reached by one guesser refuses everyone behind it.
 * Fastify cannot tell a proxy's X-Forwarded-For from a client's forged one, so the first refusal
 * of a request carrying the header says so once, in the log, as a possibility.
 */
function warnIfUntrustedProxy (request: FastifyRequest): void {
  if (request.headers['x-forwarded-for'] === undefined || request.ips !== undefined || warnedOfProxy.has(request.server)) return
  warnedOfProxy.add(request.server)
  request.log.warn({ ip: request.ip }, 'fastify-oauth-toolkit: a rate limit refused an address whose request carried X-Forwarded-For, which Fastify does not trust (no trustProxy option). ' +
    'If a proxy in front of this app sets that header, every client behind it shares the proxy\'s address and is refused with the guesser: set Fastify\'s trustProxy to the proxy\'s address (docs/deployment.md).')
}

/**
 * `rateLimitTriggered` for a refused request: the limit, the route's pattern, the address
 * (`request.ip`, as the request log has it) and the client id claimed, made log-safe. Never the
 * account name a limit counts, nor anything from a credential.
 */
export function notifyRateLimited (request: FastifyRequest, limit: RateLimitKind, retryAfterSeconds: number, clientId: string | undefined): void {
  warnIfUntrustedProxy(request)
  // `loginRateLimit` may guard a login route of an instance the toolkit is not registered on.
  if (!request.server.hasDecorator('oauth')) return
  const { oauth } = request.server
  if (!listening(oauth.events, 'rateLimitTriggered')) return
  emitEvent(oauth.events, 'rateLimitTriggered', {
    at: oauth.clock.now(),
    limit,
    route: request.routeOptions.url ?? '',
    retryAfterSeconds,
    ip: request.ip,
    clientId: clientId === undefined ? null : logSafe(clientId),
  })
}

/** Runs a limit check; a failing store becomes the 503 answer instead of an unhandled error (a 500). */
async function checkingLimits (request: FastifyRequest, reply: FastifyReply, check: () => Promise<FastifyReply | undefined>): Promise<FastifyReply | undefined> {
  try {
    return await check()
  } catch (err) {
    request.log.error({ err }, 'rate-limit store unavailable')
    return sendOAuthResponse(reply, toErrorResponse(new CountersUnavailableError()))
  }
}

/** Hooks the routes plugin puts on the token, revocation and introspection routes. */
export interface EndpointRateLimitHooks {
  preHandler: (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | undefined>
  onSend: (request: FastifyRequest, reply: FastifyReply, payload: unknown) => Promise<unknown>
}

/** Registers @fastify/rate-limit (`global: false`) unless the host or another part already did. */
export async function ensureRateLimitPlugin (app: FastifyInstance): Promise<void> {
  if (!app.hasDecorator('rateLimit')) await app.register(fastifyRateLimit, { global: false })
}

function bodyParam (params: Readonly<Record<string, string>>, name: string): string | undefined {
  const value = params[name]
  return value === undefined || value === '' ? undefined : value.slice(0, MAX_KEY_PART)
}

function optionalAccountKey (username: string | undefined): string | undefined {
  if (username === undefined) return undefined
  const key = accountKey(username)
  return key === '' ? undefined : key
}

/** Who a request claims to be, read without any hashing: what the limiters are keyed by. */
interface Claims {
  /** The client's address as counters key it (an IPv6 address by its /64). */
  readonly address: string
  /** The client id of the Basic header, of `client_id`, or the `sub` a client assertion claims (unverified). */
  readonly clientId: string | undefined
  /** The `username` of a password grant, or of a login form, as `accountKey` spells it. */
  readonly account: string | undefined
}

function basicClientId (header: string | undefined): string | undefined {
  try {
    return parseBasicAuth(header)?.clientId.slice(0, MAX_KEY_PART)
  } catch {
    // A garbled header fails authentication later; it still counts against the address.
    return undefined
  }
}

/** A failure counter in @fastify/rate-limit's store: what it holds, and adding one. */
interface Counter {
  /** Failures in the current window, and the seconds until it ends. */
  read: (request: FastifyRequest) => Promise<{ used: number, ttlSeconds: number }>
  add: (request: FastifyRequest) => Promise<void>
}

/** No failure counter reaches this: counters used only for their value (the wait) are created with it. */
const UNBOUNDED = 2 ** 31

/**
 * Keys each failure counter keeps in memory (@fastify/rate-limit's in-process store is an LRU of
 * 5,000 by default). A counter pushed out starts again from zero, and anyone can push counters
 * out by failing under new keys (a new client id per request): the per-address limit bounds the
 * new keys an address makes per window, so emptying a counter this way takes as many addresses as
 * this bound divided by that limit. At about 400 bytes a key, a full counter holds some 20 MB.
 * A shared store (Redis) keeps every key until its window ends.
 */
const FAILURE_COUNTER_KEYS = 50_000

function counter (app: FastifyInstance, max: number, windowSeconds: number, key: (request: FastifyRequest) => string): Counter {
  const options: RateLimitOptions = { max, timeWindow: windowSeconds * 1000, keyGenerator: key, cache: FAILURE_COUNTER_KEYS }
  const limiter = app.createRateLimit(options) as Limiter
  return {
    async read (request) {
      const state = await limiter(request, { increment: false })
      return { used: max - (state.remaining ?? max), ttlSeconds: Math.max(1, state.ttlInSeconds ?? 1) }
    },
    async add (request) {
      await limiter(request)
    },
  }
}

/** Sizes of one set of failure limits. */
interface FailureLimitsConfig {
  /** Key prefix: the token-side endpoints and each login form count apart. */
  readonly prefix: string
  /** Failures per (client or account, address) before that pair is refused. */
  readonly perSource: number
  /** Failures per address, whoever they were for, before the address is refused; `null`: none. */
  readonly perAddress: number | null
  /** The longest wait before checking a password for an account failing from many addresses; 0: none. */
  readonly maxDelaySeconds: number
  readonly windowSeconds: number
  /** Who the request claims to be. */
  readonly claims: (request: FastifyRequest) => Claims
}

/** What failed, for `FailureLimits.record`. */
interface Failure {
  readonly client: boolean
  readonly account: boolean
}

/**
 * Failure limits for one kind of endpoint. Refusals: per (client, address), per (account, address)
 * and per address. Per account across addresses: only the progressive wait, in the waiting room.
 */
class FailureLimits {
  readonly #config: FailureLimitsConfig
  readonly #address: Counter | null
  readonly #clientPair: Counter
  readonly #accountPair: Counter
  readonly #account: Counter
  readonly #inFlight = new InFlight()
  readonly #room = new WaitingRoom(WAITING_ROOM)

  constructor (app: FastifyInstance, config: FailureLimitsConfig) {
    this.#config = config
    const { prefix, perSource, perAddress, windowSeconds, claims } = config
    // The address goes first and `|` never occurs in one, so no client id or username can make
    // two different pairs share a key.
    this.#address = perAddress === null ? null : counter(app, perAddress, windowSeconds, (r) => `${prefix}:ip:${claims(r).address}`)
    this.#clientPair = counter(app, perSource, windowSeconds, (r) => `${prefix}:client-ip:${claims(r).address}|${claims(r).clientId ?? ''}`)
    this.#accountPair = counter(app, perSource, windowSeconds, (r) => `${prefix}:account-ip:${claims(r).address}|${claims(r).account ?? ''}`)
    this.#account = counter(app, UNBOUNDED, windowSeconds, (r) => `${prefix}:account:${claims(r).account ?? ''}`)
  }

  /**
   * Decides whether a request goes on: resolves the refusal (the limit and its `Retry-After`
   * seconds), or `null` once the request may be checked (after any wait). A password attempt
   * that goes on is counted as running until its reply closes.
   */
  async admit (request: FastifyRequest, reply: FastifyReply): Promise<Refusal | null> {
    const { address, account } = this.#config.claims(request)
    const addressKey = `ip|${address}`
    const pairKey = `pair|${address}|${account ?? ''}`
    // Password attempts still running count as failures until they end; client secrets do not,
    // because one backend may legitimately run many token requests at once.
    const running = (key: string): number => account === undefined ? 0 : this.#inFlight.count(key)
    const refused = await this.admitSource(request, running(addressKey))
    if (refused !== null || account === undefined) return refused
    const pair = await this.#accountPair.read(request)
    if (pair.used + running(pairKey) >= this.#config.perSource) return { limit: 'failures-per-account-address', seconds: pair.ttlSeconds }
    const clean = pair.used === 0 && running(pairKey) === 0
    const end = this.#inFlight.start([addressKey, pairKey])
    reply.raw.once('close', end)
    // The wait starts past what two addresses may fail on their own, so that one address reaching
    // its limit (which refuses only that address) does not slow the account for anyone else.
    const ms = this.#config.maxDelaySeconds === 0
      ? 0
      : progressiveDelayMs((await this.#account.read(request)).used, 2 * this.#config.perSource, this.#config.maxDelaySeconds)
    if (ms === 0 || await this.#room.wait(account, ms)) return null
    // The room is full for this account. An address with no failure for it goes on without the
    // wait: it is never refused, and it can send only one such attempt at a time. One that has
    // failed for this account is refused until the room has space again.
    if (clean) return null
    end()
    return { limit: 'account-waiting-room', seconds: Math.ceil(ms / 1000) }
  }

  /**
   * The refusals that need no account: per address (with `running` password attempts counted as
   * failures) and per (client, address). Uses nothing of the reply.
   */
  async admitSource (request: FastifyRequest, running = 0): Promise<Refusal | null> {
    const { clientId } = this.#config.claims(request)
    if (this.#address !== null) {
      const state = await this.#address.read(request)
      if (state.used + running >= (this.#config.perAddress ?? 0)) return { limit: 'failures-per-address', seconds: state.ttlSeconds }
    }
    if (clientId !== undefined) {
      const state = await this.#clientPair.read(request)
      if (state.used >= this.#config.perSource) return { limit: 'failures-per-client-address', seconds: state.ttlSeconds }
    }
    return null
  }

  /** Counts a failure against the address and against what failed. */
  async record (request: FastifyRequest, failure: Failure): Promise<void> {
    const { clientId, account } = this.#config.claims(request)
    await this.#address?.add(request)
    if (failure.client && clientId !== undefined) await this.#clientPair.add(request)
    if (failure.account && account !== undefined) {
      await this.#accountPair.add(request)
      await this.#account.add(request)
    }
  }
}

/** Each request's claims, read once: the hooks and the limiters' key functions ask several times. */
const claimsByRequest = new WeakMap<FastifyRequest, Claims>()

function endpointClaims (request: FastifyRequest): Claims {
  let found = claimsByRequest.get(request)
  if (found === undefined) {
    const params = flattenParams(request.body).params
    found = {
      address: addressKey(request.ip),
      clientId: basicClientId(request.headers.authorization) ?? bodyParam(params, 'client_id') ?? claimedClientId(params.client_assertion)?.slice(0, MAX_KEY_PART),
      account: bodyParam(params, 'grant_type') === 'password' ? optionalAccountKey(bodyParam(params, 'username')) : undefined,
    }
    claimsByRequest.set(request, found)
  }
  return found
}

/**
 * The failure limits of each toolkit's client-authenticating routes (the token-side endpoints,
 * `ClientProtectedResourceView`, `app.oauth.authenticateClient`), keyed by `app.oauth`: built once,
 * so that with the in-memory store they are one set of counters, as they are in a shared store.
 * A WeakMap on the toolkit object, so two apps in one process never share counters.
 */
const tokenSideLimits = new WeakMap<object, { readonly failures: FailureLimits, readonly client: ClientFailureLimits }>()

/**
 * The shared token-side limits of `app`'s toolkit, built on the first call (at registration,
 * in `app`'s context, whose @fastify/rate-limit store they count in); `null` when `rateLimitFailures` is off.
 */
async function sharedLimits (app: FastifyInstance): Promise<{ readonly failures: FailureLimits, readonly client: ClientFailureLimits } | null> {
  const { rateLimitFailures, rateLimitIpFailures, rateLimitAccountDelaySeconds, rateLimitWindowSeconds } = app.oauth.settings
  if (rateLimitFailures === null) return null
  const built = tokenSideLimits.get(app.oauth)
  if (built !== undefined) return built
  await ensureRateLimitPlugin(app)
  const failures = new FailureLimits(app, {
    prefix: 'oat:fail',
    perSource: rateLimitFailures,
    perAddress: rateLimitIpFailures,
    maxDelaySeconds: rateLimitAccountDelaySeconds,
    windowSeconds: rateLimitWindowSeconds,
    claims: endpointClaims,
  })
  const limits = { failures, client: clientLimits(failures) }
  tokenSideLimits.set(app.oauth, limits)
  return limits
}

/**
 * Builds the failure and request limits of the token-side endpoints from the settings
 * (`rateLimitFailures`, `rateLimitIpFailures`, `rateLimitAccountDelaySeconds`,
 * `rateLimitRequests`, `rateLimitWindowSeconds`); `null` when failures and requests are both off.
 */
export async function endpointRateLimits (app: FastifyInstance): Promise<EndpointRateLimitHooks | null> {
  const { rateLimitFailures, rateLimitRequests, rateLimitWindowSeconds } = app.oauth.settings
  if (rateLimitFailures === null && rateLimitRequests === null) return null
  await ensureRateLimitPlugin(app)
  const failures = (await sharedLimits(app))?.failures ?? null
  // The request cap is keyed the same way: per address and per (client, address), never per
  // client alone, which anyone knowing the client id could use up.
  const requests = rateLimitRequests === null
    ? null
    : [
        (r: FastifyRequest) => `oat:req:ip:${endpointClaims(r).address}`,
        (r: FastifyRequest) => `oat:req:client-ip:${endpointClaims(r).address}|${endpointClaims(r).clientId ?? ''}`,
      ].map((keyGenerator) => app.createRateLimit({ max: rateLimitRequests, timeWindow: rateLimitWindowSeconds * 1000, keyGenerator }) as Limiter)

  return {
    async preHandler (request, reply) {
      return await checkingLimits(request, reply, async () => {
        let refusal = failures === null ? null : await failures.admit(request, reply)
        if (refusal === null && requests !== null) {
          const counted = endpointClaims(request).clientId === undefined ? requests.slice(0, 1) : requests
          for (const [index, limiter] of counted.entries()) {
            const state = await limiter(request)
            if (state.isExceeded === true && refusal === null) {
              refusal = { limit: index === 0 ? 'requests-per-address' : 'requests-per-client-address', seconds: state.ttlInSeconds ?? 1 }
            }
          }
        }
        if (refusal === null) return undefined
        request.log.info({ ip: request.ip }, 'oauth endpoint rate limit reached')
        notifyRateLimited(request, refusal.limit, Math.max(1, refusal.seconds), endpointClaims(request).clientId)
        return sendOAuthResponse(reply, toErrorResponse(new TooManyRequestsError(refusal.seconds)))
      })
    },
    // The token endpoint answers OAuth errors itself (no throw), so failures are read off the
    // answer: 401 is always invalid_client here; a password-grant invalid_grant is a wrong login.
    async onSend (request, reply, payload) {
      if (failures === null) return payload
      const client = reply.statusCode === 401
      const account = reply.statusCode === 400 && endpointClaims(request).account !== undefined &&
        typeof payload === 'string' && payload.includes('"error":"invalid_grant"')
      try {
        if (client || account) await failures.record(request, { client, account })
      } catch (err) {
        // The answer is already decided; a failure that could not be counted is logged, not turned into a 500.
        request.log.error({ err }, 'rate-limit store unavailable: a failure was not counted')
      }
      return payload
    },
  }
}

/** The failure limits of the token-side endpoints, for a route that authenticates clients outside them. */
export interface ClientFailureLimits {
  /**
   * The refusal for a request from an address that failed too often (for this client, or in all):
   * a 429 `temporarily_unavailable` error, or 503 when the counters cannot be read; `null` when
   * the client may be authenticated. Computes no hash.
   */
  admit (request: FastifyRequest): Promise<OAuthError | null>
  /** Counts a failed client authentication of this request. */
  record (request: FastifyRequest): Promise<void>
}

/** The client-only face of the shared limits: refusals per address and per (client, address), never per account. */
function clientLimits (failures: FailureLimits): ClientFailureLimits {
  return {
    async admit (request) {
      let refusal: Refusal | null
      try {
        refusal = await failures.admitSource(request)
      } catch (err) {
        request.log.error({ err }, 'rate-limit store unavailable')
        return new CountersUnavailableError()
      }
      if (refusal === null) return null
      request.log.info({ ip: request.ip }, 'client authentication rate limit reached')
      notifyRateLimited(request, refusal.limit, Math.max(1, refusal.seconds), endpointClaims(request).clientId)
      return new TooManyRequestsError(refusal.seconds)
    },
    async record (request) {
      try {
        await failures.record(request, { client: true, account: false })
      } catch (err) {
        request.log.error({ err }, 'rate-limit store unavailable: a failure was not counted')
      }
    },
  }
}

/**
 * Makes sure the shared client failure limits exist before the first request, for
 * `app.oauth.authenticateClient` on a host's own routes (the core plugin calls it). The routes
 * plugin, when registered, builds them first in its context, so that @fastify/rate-limit
 * registered by the host before it (on Redis, say) holds them, as before; otherwise they are built
 * when the app is ready: in the host's @fastify/rate-limit if its root context has one by then,
 * else in one registered now in a child context, for them only (the host's routes are untouched).
 */
export async function prepareClientFailureLimits (app: FastifyInstance): Promise<void> {
  if (app.oauth.settings.rateLimitFailures === null) return
  let fallback: FastifyInstance | null = null
  await app.register(async (scope) => {
    await ensureRateLimitPlugin(scope)
    fallback = scope
  })
  app.addHook('onReady', async () => {
    if (tokenSideLimits.has(app.oauth)) return
    const scope = app.hasDecorator('createRateLimit') ? app : fallback
    if (scope !== null) await sharedLimits(scope)
  })
}

/**
 * The shared client failure limits of a toolkit (`app.oauth`), for use while serving a
 * request; `null` when `rateLimitFailures` is off. Throws when they were never built, so that a
 * toolkit put together without the core plugin fails closed instead of checking secrets unlimited.
 */
export function clientFailureLimitsOf (toolkit: { readonly settings: { readonly rateLimitFailures: number | null } }): ClientFailureLimits | null {
  if (toolkit.settings.rateLimitFailures === null) return null
  const built = tokenSideLimits.get(toolkit)
  if (built === undefined) throw new Error('fastify-oauth-toolkit: the client failure limits were not prepared (register fastifyOAuthToolkit)')
  return built.client
}

/**
 * The per-address limit on `POST register/` (`dcrRegistrationRateLimit` per `rateLimitWindowSeconds`):
 * every request counts, since each registration writes rows; past it, 429 JSON before the body
 * is looked at. `null` when the setting is off.
 */
export async function registrationRateLimit (app: FastifyInstance): Promise<EndpointRateLimitHooks['preHandler'] | null> {
  const { dcrRegistrationRateLimit, rateLimitWindowSeconds } = app.oauth.settings
  if (dcrRegistrationRateLimit === null) return null
  await ensureRateLimitPlugin(app)
  const limiter = app.createRateLimit({ max: dcrRegistrationRateLimit, timeWindow: rateLimitWindowSeconds * 1000, keyGenerator: (r) => `oat:register:ip:${addressKey(r.ip)}` }) as Limiter
  return async (request, reply) => await checkingLimits(request, reply, async () => {
    const state = await limiter(request)
    if (state.isExceeded !== true) return undefined
    request.log.info({ ip: request.ip }, 'client registration rate limit reached')
    notifyRateLimited(request, 'registrations-per-address', Math.max(1, state.ttlInSeconds ?? 1), undefined)
    return sendOAuthResponse(reply, toErrorResponse(new TooManyRequestsError(state.ttlInSeconds ?? 1)))
  })
}

/** Options of `loginRateLimit`. */
export interface LoginRateLimitOptions {
  /**
   * Failed logins per (account, client address) within the window before that address is refused
   * for that account (default 10). Twice it is the number of failures of one account, from all
   * addresses together, after which its logins start to wait (see `maxDelaySeconds`).
   */
  maxFailures?: number
  /**
   * Failed logins per client address, whatever the account, before the address is refused
   * (default 100; `null`: no such limit). Sized so that one office or campus behind a NAT
   * does not reach it with the typing mistakes of its people, while one machine trying a
   * password against many usernames (password spraying) is stopped.
   */
  maxFailuresPerIp?: number | null
  /**
   * The longest wait, seconds, before the password of an account that failed 2 × `maxFailures`
   * times from all addresses together is checked (default 5; 0: no wait). The wait starts at a
   * quarter second and doubles with each failure. It slows a guesser spread over many addresses
   * and never refuses: the right password from an address that has not failed still logs in.
   */
  maxDelaySeconds?: number
  /** The window, seconds (default 900). */
  windowSeconds?: number
  /** The form field holding the account name (default `username`). */
  usernameField?: string
  /**
   * Answers a refused login; the default sends 429 with `Retry-After` and a short text. A
   * host usually renders its login form with a message instead (keep the 429 status).
   */
  onLimited?: (request: FastifyRequest, reply: FastifyReply, retryAfterSeconds: number) => FastifyReply | Promise<FastifyReply>
}

/** What `loginRateLimit` gives the host's login route. */
export interface LoginRateLimit {
  /**
   * Put it on the login POST (after CSRF): answers 429 to an address that failed too often (for
   * this account, or in all) before any password hash, and makes logins of an account that is
   * failing from many addresses wait.
   */
  preHandler: (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | undefined>
  /** Call when a login failed (unknown account or wrong password), before answering. */
  recordFailure: (request: FastifyRequest) => Promise<void>
}

/**
 * Brute-force protection for the host's own login form, on @fastify/rate-limit (registered with
 * `global: false` unless present, so a host that registered it on Redis shares the counters
 * between instances). Refusals are per (account, address) and per address, so failures sent from
 * one place never lock the account for everyone else; per account across addresses, logins only
 * wait. A refused address is refused the right password too, so the refusal is no oracle. Call it
 * while registering routes, on the instance that owns the login route.
 * @example
 * const limit = await loginRateLimit(app)
 * app.post('/accounts/login/', { preHandler: [app.csrfProtection, limit.preHandler] }, async (request, reply) => {
 *   const userId = await users.verify(username, password)
 *   if (userId === null) { await limit.recordFailure(request); return reply.code(401).send(form) }
 * })
 */
export async function loginRateLimit (app: FastifyInstance, options: LoginRateLimitOptions = {}): Promise<LoginRateLimit> {
  const maxFailures = options.maxFailures ?? 10
  const perAddress = options.maxFailuresPerIp === undefined ? 100 : options.maxFailuresPerIp
  const maxDelaySeconds = options.maxDelaySeconds ?? 5
  const windowSeconds = options.windowSeconds ?? 900
  const field = options.usernameField ?? 'username'
  if (!Number.isSafeInteger(maxFailures) || maxFailures <= 0) throw new TypeError('loginRateLimit: maxFailures must be a positive integer')
  if (perAddress !== null && (!Number.isSafeInteger(perAddress) || perAddress <= 0)) throw new TypeError('loginRateLimit: maxFailuresPerIp must be a positive integer or null')
  if (typeof maxDelaySeconds !== 'number' || !Number.isFinite(maxDelaySeconds) || maxDelaySeconds < 0 || maxDelaySeconds > MAX_DELAY_SECONDS) {
    throw new TypeError(`loginRateLimit: maxDelaySeconds must be between 0 and ${MAX_DELAY_SECONDS}`)
  }
  if (!Number.isSafeInteger(windowSeconds) || windowSeconds <= 0) throw new TypeError('loginRateLimit: windowSeconds must be a positive integer')
  await ensureRateLimitPlugin(app)
  const claimsOf = new WeakMap<FastifyRequest, Claims>()
  const claims = (request: FastifyRequest): Claims => {
    let found = claimsOf.get(request)
    if (found === undefined) {
      found = { address: addressKey(request.ip), clientId: undefined, account: optionalAccountKey(bodyParam(flattenParams(request.body).params, field)) }
      claimsOf.set(request, found)
    }
    return found
  }
  const limits = new FailureLimits(app, { prefix: 'oat:login', perSource: maxFailures, perAddress, maxDelaySeconds, windowSeconds, claims })
  const onLimited = options.onLimited ?? ((_request, reply, wait) =>
    reply.code(429).header('retry-after', String(wait)).type('text/plain; charset=utf-8').send('Too many failed logins; retry later.'))
  return {
    async preHandler (request, reply) {
      const refusal = await limits.admit(request, reply)
      if (refusal === null) return undefined
      request.log.info({ ip: request.ip }, 'login rate limit reached')
      notifyRateLimited(request, refusal.limit, Math.max(1, refusal.seconds), undefined)
      return await onLimited(request, reply, Math.max(1, refusal.seconds))
    },
    async recordFailure (request) {
      await limits.record(request, { client: false, account: true })
    },
  }
}
