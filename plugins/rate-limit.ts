import fastifyRateLimit from '@fastify/rate-limit'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { OAuthError } from '../lib/errors.js'
import { flattenParams } from '../lib/request.js'
import { errorToResponse } from '../lib/response.js'
import { parseBasicAuth } from '../lib/validator/client-auth.js'
import { sendOAuthResponse } from '../views/oauth-request.js'

// Brute-force limits (BRUTE-1, INTRO-1, goal G9) on top of @fastify/rate-limit's stores, so a
// host that registered the plugin with a shared store (Redis) gets limits shared by every
// instance. Failures are counted, not requests: a backend may ask for thousands of tokens, but
// only failed authentications reveal guessing. The check runs in preHandler, before the
// endpoint computes any secret hash, so a throttled request costs no KDF work.

type Limiter = (request: FastifyRequest, options?: { increment?: boolean }) => Promise<{ isAllowed: boolean, remaining?: number, ttlInSeconds?: number, isExceeded?: boolean }>

/** Longest identifier kept in a limiter key: bounds memory whatever an attacker sends. */
const MAX_KEY_PART = 200

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

/** Who a request claims to be, read without any hashing: what the limiters are keyed by. */
interface Claims {
  /** The client id of the Basic header or of `client_id`. */
  readonly clientId: string | undefined
  /** The `username` of a password grant. */
  readonly account: string | undefined
}

/** Each request's claims, read once: the hooks and the limiters' key functions ask several times. */
const claimsByRequest = new WeakMap<FastifyRequest, Claims>()

function claims (request: FastifyRequest): Claims {
  let found = claimsByRequest.get(request)
  if (found === undefined) {
    const params = flattenParams(request.body).params
    found = {
      clientId: basicClientId(request.headers.authorization) ?? bodyParam(params, 'client_id'),
      account: bodyParam(params, 'grant_type') === 'password' ? bodyParam(params, 'username') : undefined,
    }
    claimsByRequest.set(request, found)
  }
  return found
}

function basicClientId (header: string | undefined): string | undefined {
  try {
    return parseBasicAuth(header)?.clientId.slice(0, MAX_KEY_PART)
  } catch {
    // A garbled header fails authentication later; it still counts against the IP.
    return undefined
  }
}

/** Looks at every limiter without counting; the first one exhausted decides. */
async function exhausted (request: FastifyRequest, limiters: readonly Limiter[]): Promise<number | null> {
  for (const limiter of limiters) {
    const state = await limiter(request, { increment: false })
    if (!state.isAllowed && state.remaining === 0) return state.ttlInSeconds ?? 1
  }
  return null
}

/**
 * Builds the failure and request limits of the token-side endpoints from the settings
 * (`rateLimitFailures`, `rateLimitRequests`, `rateLimitWindowSeconds`); `null` when both are off.
 */
export async function endpointRateLimits (app: FastifyInstance): Promise<EndpointRateLimitHooks | null> {
  const { rateLimitFailures, rateLimitRequests, rateLimitWindowSeconds } = app.oauth.settings
  if (rateLimitFailures === null && rateLimitRequests === null) return null
  await ensureRateLimitPlugin(app)
  const timeWindow = rateLimitWindowSeconds * 1000
  const make = (max: number, key: (request: FastifyRequest) => string): Limiter =>
    app.createRateLimit({ max, timeWindow, keyGenerator: key }) as Limiter
  const failures = rateLimitFailures === null
    ? null
    : {
        ip: make(rateLimitFailures, (r) => `oat:fail:ip:${r.ip}`),
        client: make(rateLimitFailures, (r) => `oat:fail:client:${claims(r).clientId ?? ''}`),
        account: make(rateLimitFailures, (r) => `oat:fail:account:${claims(r).account ?? ''}`),
      }
  const requests = rateLimitRequests === null
    ? null
    : {
        ip: make(rateLimitRequests, (r) => `oat:req:ip:${r.ip}`),
        client: make(rateLimitRequests, (r) => `oat:req:client:${claims(r).clientId ?? ''}`),
      }

  return {
    async preHandler (request, reply) {
      const peek: Limiter[] = []
      if (failures !== null) {
        peek.push(failures.ip)
        if (claims(request).clientId !== undefined) peek.push(failures.client)
        if (claims(request).account !== undefined) peek.push(failures.account)
      }
      let wait = await exhausted(request, peek)
      if (wait === null && requests !== null) {
        const counted = [requests.ip, ...(claims(request).clientId === undefined ? [] : [requests.client])]
        for (const limiter of counted) {
          const state = await limiter(request)
          if (state.isExceeded === true && wait === null) wait = state.ttlInSeconds ?? 1
        }
      }
      if (wait === null) return undefined
      request.log.info({ ip: request.ip }, 'oauth endpoint rate limit reached')
      return sendOAuthResponse(reply, errorToResponse(new TooManyRequestsError(wait)))
    },
    // The token endpoint answers OAuth errors itself (no throw), so failures are read off the
    // answer: 401 is always invalid_client here; a password-grant invalid_grant is a wrong login.
    async onSend (request, reply, payload) {
      if (failures === null) return payload
      const clientFailed = reply.statusCode === 401
      const accountFailed = reply.statusCode === 400 && claims(request).account !== undefined &&
        typeof payload === 'string' && payload.includes('"error":"invalid_grant"')
      if (!clientFailed && !accountFailed) return payload
      await failures.ip(request)
      if (clientFailed && claims(request).clientId !== undefined) await failures.client(request)
      if (accountFailed) await failures.account(request)
      return payload
    },
  }
}

/**
 * The per-IP limit on `POST register/` (`dcrRegistrationRateLimit` per `rateLimitWindowSeconds`):
 * every request counts, since each registration writes rows; past it, 429 JSON before the body
 * is looked at. `null` when the setting is off.
 */
export async function registrationRateLimit (app: FastifyInstance): Promise<EndpointRateLimitHooks['preHandler'] | null> {
  const { dcrRegistrationRateLimit, rateLimitWindowSeconds } = app.oauth.settings
  if (dcrRegistrationRateLimit === null) return null
  await ensureRateLimitPlugin(app)
  const limiter = app.createRateLimit({ max: dcrRegistrationRateLimit, timeWindow: rateLimitWindowSeconds * 1000, keyGenerator: (r) => `oat:register:ip:${r.ip}` }) as Limiter
  return async (request, reply) => {
    const state = await limiter(request)
    if (state.isExceeded !== true) return undefined
    request.log.info({ ip: request.ip }, 'client registration rate limit reached')
    return sendOAuthResponse(reply, errorToResponse(new TooManyRequestsError(state.ttlInSeconds ?? 1)))
  }
}

/** Options of `loginRateLimit`. */
export interface LoginRateLimitOptions {
  /** Failed logins tolerated per account and per IP address within the window (default 10). */
  maxFailures?: number
  /** The window, seconds (default 900). */
  windowSeconds?: number
  /** The form field holding the account name (default `username`). */
  usernameField?: string
  /**
   * Answers a throttled login; the default sends 429 with `Retry-After` and a short text. A
   * host usually renders its login form with a message instead (keep the 429 status).
   */
  onLimited?: (request: FastifyRequest, reply: FastifyReply, retryAfterSeconds: number) => FastifyReply | Promise<FastifyReply>
}

/** What `loginRateLimit` gives the host's login route. */
export interface LoginRateLimit {
  /** Put it on the login POST (after CSRF): answers 429 while the account or the IP is locked, before any password hash. */
  preHandler: (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | undefined>
  /** Call when a login failed (unknown account or wrong password): counts against the account and the IP. */
  recordFailure: (request: FastifyRequest) => Promise<void>
}

/**
 * Brute-force protection for the host's own login form (BRUTE-1, UI-2): per account and per IP
 * failure counts on @fastify/rate-limit (registered with `global: false` unless present). The
 * right password is refused too while locked, so the lock is no oracle. Call it while
 * registering routes, on the instance that owns the login route.
 * @example
 * const limit = await loginRateLimit(app)
 * app.post('/accounts/login/', { preHandler: [app.csrfProtection, limit.preHandler] }, async (request, reply) => {
 *   const userId = await users.verify(username, password)
 *   if (userId === null) { await limit.recordFailure(request); return reply.code(401).send(form) }
 * })
 */
export async function loginRateLimit (app: FastifyInstance, options: LoginRateLimitOptions = {}): Promise<LoginRateLimit> {
  const maxFailures = options.maxFailures ?? 10
  const windowSeconds = options.windowSeconds ?? 900
  const field = options.usernameField ?? 'username'
  if (!Number.isSafeInteger(maxFailures) || maxFailures <= 0) throw new TypeError('loginRateLimit: maxFailures must be a positive integer')
  if (!Number.isSafeInteger(windowSeconds) || windowSeconds <= 0) throw new TypeError('loginRateLimit: windowSeconds must be a positive integer')
  await ensureRateLimitPlugin(app)
  const timeWindow = windowSeconds * 1000
  const account = (r: FastifyRequest): string | undefined => bodyParam(flattenParams(r.body).params, field)
  const byIp = app.createRateLimit({ max: maxFailures, timeWindow, keyGenerator: (r) => `oat:login:ip:${r.ip}` }) as Limiter
  const byAccount = app.createRateLimit({ max: maxFailures, timeWindow, keyGenerator: (r) => `oat:login:account:${account(r) ?? ''}` }) as Limiter
  const onLimited = options.onLimited ?? ((_request, reply, wait) =>
    reply.code(429).header('retry-after', String(wait)).type('text/plain; charset=utf-8').send('Too many failed logins; retry later.'))
  return {
    async preHandler (request, reply) {
      const wait = await exhausted(request, account(request) === undefined ? [byIp] : [byIp, byAccount])
      if (wait === null) return undefined
      request.log.info({ ip: request.ip }, 'login rate limit reached')
      return await onLimited(request, reply, Math.max(1, wait))
    },
    async recordFailure (request) {
      await byIp(request)
      if (account(request) !== undefined) await byAccount(request)
    },
  }
}
