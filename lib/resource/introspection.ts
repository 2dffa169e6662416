import { systemClock, type Clock } from '../clock.js'
import { confirmationJkt } from '../dpop/resource.js'
import { ImproperlyConfiguredError } from '../errors.js'
import { tokenChecksum } from '../tokens/checksum.js'
import { scopeList } from '../validator/scopes.js'
import type { AccessTokenInfo, BearerResult } from './bearer.js'
import { createRemoteCache, type CacheLoad } from './remote-cache.js'
import { invalidToken, unavailableError, userIdOf, type ReportProblem, type TokenVerifier } from './verifier.js'

/**
 * How a standalone resource server asks the authorization server about tokens (RFC 7662),
 * after DOT's `RESOURCE_SERVER_INTROSPECTION_*` settings. Give `credentials` or `token`. On this
 * toolkit's authorization server the client behind either must be a resource server
 * (`allowIntrospection`, the CLI's `--allow-introspection`): any other client is told
 * `{"active": false}` about every token but its own (RFC 7662 §4).
 */
export interface IntrospectionOptions {
  /** The introspection endpoint, e.g. `https://auth.example.com/o/introspect/` (DOT `RESOURCE_SERVER_INTROSPECTION_URL`). https, or http on a loopback host unless `allowHttp`. */
  readonly url: string
  /** A confidential client's id and secret, sent as `client_secret_basic` (DOT `RESOURCE_SERVER_INTROSPECTION_CREDENTIALS`); the client needs `allowIntrospection`. */
  readonly credentials?: { readonly clientId: string, readonly clientSecret: string }
  /** A bearer token holding the `introspection` scope (DOT `RESOURCE_SERVER_AUTH_TOKEN`), which only a client with `allowIntrospection` obtains. */
  readonly token?: string
  /** Give up on the authorization server after this many seconds (DOT `RESOURCE_SERVER_INTROSPECTION_TIMEOUT_SECONDS`, 5). */
  readonly timeoutSeconds?: number
  /**
   * Reuse an active answer for at most this many seconds, and never past the token's `exp`
   * (DOT `RESOURCE_SERVER_TOKEN_CACHING_SECONDS`). Default 60, not DOT's 36000: this is how long
   * a revoked token keeps working here. `0` asks every time.
   */
  readonly cacheSeconds?: number
  /** Reuse an inactive answer for this many seconds (default 2, at most 5): a token just issued is not refused for long. */
  readonly negativeCacheSeconds?: number
  /** Most answers kept; the oldest go first (default 10000). */
  readonly maxCacheEntries?: number
  /** Allow a plain-http URL on a non-loopback host (a private network). Off: the credentials would travel in clear. */
  readonly allowHttp?: boolean
}

/** Dependencies injected into the verifier. */
export interface RemoteVerifierDeps {
  readonly clock?: Clock
  readonly report?: ReportProblem
}

/** The longest an inactive answer may be reused (the issue: "never longer than a few seconds"). */
export const MAX_NEGATIVE_CACHE_SECONDS = 5
/** Introspection answers larger than this are garbage. */
const MAX_RESPONSE_BYTES = 64 * 1024

function optionError (message: string): never {
  throw new ImproperlyConfiguredError('OAT_ERR_OPTIONS', `fastify-oauth-toolkit: resourceServer: introspection: ${message}`)
}

function nonNegative (value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) optionError(`${name} must be a non-negative number`)
  return value
}

/** https, or http on loopback; never credentials in the URL (they would be logged). */
function checkUrl (raw: unknown, allowHttp: boolean, name: string): URL {
  let url: URL
  try {
    url = new URL(String(raw))
  } catch {
    optionError(`${name} must be an absolute URL`)
  }
  if (url.username !== '' || url.password !== '') optionError(`${name} must not carry credentials; use \`credentials\``)
  const loopback = ['127.0.0.1', '[::1]', 'localhost'].includes(url.hostname)
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && (loopback || allowHttp))) {
    optionError(`${name} must use https (http only for loopback hosts, or with allowHttp)`)
  }
  return url
}

/** RFC 6749 §2.3.1: id and secret are form-encoded before Basic encoding. */
function basicAuthorization (clientId: string, clientSecret: string): string {
  const enc = (s: string): string => encodeURIComponent(s).replace(/%20/g, '+')
  return `Basic ${Buffer.from(`${enc(clientId)}:${enc(clientSecret)}`).toString('base64')}`
}

/** Validates the options once, at registration, and returns the `Authorization` header value. */
function callerAuthorization (options: IntrospectionOptions): string {
  const { credentials, token } = options
  if ((credentials === undefined) === (token === undefined)) optionError('give exactly one of `credentials` ({ clientId, clientSecret }) or `token`')
  if (token !== undefined) {
    if (typeof token !== 'string' || !/^[A-Za-z0-9\-._~+/]+=*$/.test(token)) optionError('`token` must be a bearer token')
    return `Bearer ${token}`
  }
  if (credentials === null || typeof credentials !== 'object' || typeof credentials.clientId !== 'string' || credentials.clientId === '' ||
    typeof credentials.clientSecret !== 'string' || credentials.clientSecret === '') {
    optionError('`credentials` must be { clientId, clientSecret } (non-empty strings)')
  }
  return basicAuthorization(credentials.clientId, credentials.clientSecret)
}

/**
 * A `TokenVerifier` that asks a remote authorization server (RFC 7662) and caches the answers:
 * active ones until `min(exp, now + cacheSeconds)`, inactive ones for `negativeCacheSeconds`,
 * failures never. A slow, unreachable or garbled server fails closed with a 503-class error.
 */
export function createIntrospectionVerifier (options: IntrospectionOptions, deps: RemoteVerifierDeps = {}): TokenVerifier {
  if (options === null || typeof options !== 'object') optionError('give { url, credentials | token }')
  const url = checkUrl(options.url, options.allowHttp === true, 'url')
  const authorization = callerAuthorization(options)
  const timeoutMs = nonNegative(options.timeoutSeconds, 5, 'timeoutSeconds') * 1000
  if (timeoutMs <= 0) optionError('timeoutSeconds must be positive')
  const cacheMs = nonNegative(options.cacheSeconds, 60, 'cacheSeconds') * 1000
  const negativeMs = nonNegative(options.negativeCacheSeconds, 2, 'negativeCacheSeconds') * 1000
  if (negativeMs > MAX_NEGATIVE_CACHE_SECONDS * 1000) optionError(`negativeCacheSeconds must be at most ${MAX_NEGATIVE_CACHE_SECONDS}`)
  const maxEntries = options.maxCacheEntries ?? 10000
  if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) optionError('maxCacheEntries must be a positive integer')
  const clock = deps.clock ?? systemClock
  const report = deps.report ?? (() => {})
  const cache = createRemoteCache<Outcome>(maxEntries)

  async function ask (token: string): Promise<CacheLoad<Outcome>> {
    const outcome = await introspect(url, authorization, token, timeoutMs, clock, cacheMs)
    const now = clock.now().getTime()
    if (outcome.kind === 'unavailable') {
      report({ source: 'introspection', reason: outcome.detail })
      return { value: outcome, untilMs: 0 }
    }
    if (outcome.kind === 'inactive') return { value: outcome, untilMs: now + negativeMs }
    return { value: outcome, untilMs: Math.min(outcome.info.expiresAt.getTime(), now + cacheMs) }
  }

  return {
    async verify (token: string): Promise<BearerResult> {
      const outcome = await cache.get(tokenChecksum(token), clock.now().getTime(), async () => await ask(token))
      if (outcome.kind === 'unavailable') return { ok: false, error: unavailableError(outcome.detail) }
      if (outcome.kind === 'inactive') return invalidToken(outcome.detail)
      // A cached answer never outlives the token: refused from `exp` on.
      if (outcome.info.claims?.exp !== undefined && clock.now() >= outcome.info.expiresAt) return invalidToken('expired access token (cached introspection)', 'The access token has expired.')
      return { ok: true, token: outcome.info }
    },
  }
}

/** One RFC 7662 §2.1 request; every way it can go wrong is an `unavailable` outcome, never a throw. */
async function introspect (url: URL, authorization: string, token: string, timeoutMs: number, clock: Clock, cacheMs: number): Promise<Outcome> {
  let response: Response
  let text: string | null
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { authorization, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
      // A redirect would carry the token (and maybe the credentials) elsewhere.
      redirect: 'error',
      signal: AbortSignal.timeout(timeoutMs),
    })
    text = await readCapped(response, MAX_RESPONSE_BYTES)
  } catch (err) {
    const name = err instanceof Error ? err.name : 'error'
    const code = err instanceof Error && err.cause instanceof Error ? ` (${(err.cause as NodeJS.ErrnoException).code ?? err.cause.name})` : ''
    return { kind: 'unavailable', detail: name === 'TimeoutError' || name === 'AbortError' ? `introspection timed out after ${timeoutMs} ms` : `introspection request failed: ${name}${code}` }
  }
  if (response.status !== 200) return { kind: 'unavailable', detail: `introspection answered HTTP ${response.status}` }
  if (text === null) return { kind: 'unavailable', detail: 'introspection response too large' }
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    return { kind: 'unavailable', detail: 'introspection response is not JSON' }
  }
  const now = clock.now()
  return parseIntrospection(body, now, new Date(now.getTime() + cacheMs))
}

async function readCapped (response: Response, limit: number): Promise<string | null> {
  const declared = Number(response.headers.get('content-length') ?? Number.NaN)
  if (declared > limit) {
    await response.body?.cancel()
    return null
  }
  if (response.body === null) return ''
  const chunks: Uint8Array[] = []
  let total = 0
  for await (const chunk of response.body) {
    total += chunk.byteLength
    if (total > limit) return null
    chunks.push(chunk)
  }
  return Buffer.concat(chunks).toString('utf8')
}

const isString = (v: unknown): v is string => typeof v === 'string'
const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v)

/** The result of one introspection call. */
export type Outcome = { readonly kind: 'active', readonly info: AccessTokenInfo } | { readonly kind: 'inactive', readonly detail: string } | { readonly kind: 'unavailable', readonly detail: string }

/**
 * RFC 7662 §2.2, strictly: a malformed answer is the server's fault (unavailable), a well-formed
 * inactive or unusable one the token's (invalid). A refresh token is not an access token (no token-type confusion).
 */
export function parseIntrospection (body: unknown, now: Date, noExpiry: Date): Outcome {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return { kind: 'unavailable', detail: 'introspection response is not a JSON object' }
  const b = body as Record<string, unknown>
  if (typeof b.active !== 'boolean') return { kind: 'unavailable', detail: 'introspection response has no boolean "active"' }
  if (!b.active) return { kind: 'inactive', detail: 'introspection: inactive token' }
  const aud = b.aud
  const audOk = aud === undefined || isString(aud) || (Array.isArray(aud) && aud.every(isString))
  if ((b.scope !== undefined && !isString(b.scope)) || (b.client_id !== undefined && !isString(b.client_id)) ||
    (b.sub !== undefined && !isString(b.sub)) || (b.token_type !== undefined && !isString(b.token_type)) ||
    (b.exp !== undefined && !isTime(b.exp)) || (b.nbf !== undefined && !isTime(b.nbf)) || !audOk) {
    // DOT 3.4.0: a malformed `aud` (or any member) fails closed.
    return { kind: 'unavailable', detail: 'introspection response has malformed members' }
  }
  if (isString(b.token_type) && !['bearer', 'dpop', 'access_token'].includes(b.token_type.toLowerCase())) {
    return { kind: 'inactive', detail: `introspection: a ${b.token_type} is not an access token` }
  }
  const nowMs = now.getTime()
  if (isTime(b.exp) && b.exp * 1000 <= nowMs) return { kind: 'inactive', detail: 'introspection: expired token' }
  if (isTime(b.nbf) && b.nbf * 1000 > nowMs) return { kind: 'inactive', detail: 'introspection: token not yet valid' }
  const clientId = isString(b.client_id) ? b.client_id : undefined
  const jkt = confirmationJkt(b)
  if (jkt === null) return { kind: 'inactive', detail: 'introspection: a cnf this resource server cannot check' }
  return {
    kind: 'active',
    info: {
      id: null,
      scopes: scopeList(isString(b.scope) ? b.scope : ''),
      // Without `exp` (RFC 7662 makes it optional) the answer is trusted only as long as it is cached (DOT parity).
      expiresAt: isTime(b.exp) ? new Date(b.exp * 1000) : noExpiry,
      userId: userIdOf(isString(b.sub) ? b.sub : undefined, clientId),
      application: null,
      resource: aud === undefined ? [] : isString(aud) ? [aud] : [...(aud as string[])],
      verifiedBy: 'introspection',
      clientId: clientId ?? null,
      claims: Object.freeze({ ...b }),
      jkt,
    },
  }
}
