import { addSeconds } from '../clock.js'
import type { ServerContext } from '../context.js'
import { InvalidRequestError, type OAuthError, RequestUriNotSupportedError } from '../errors.js'
import { param, type Params } from '../request.js'
import type { Application } from '../store/types.js'
import { tokenChecksum } from '../tokens/checksum.js'

// A pushed authorization request (RFC 9126) as the authorization endpoint meets it: resolved
// from its `request_uri`, then used up by the user's decision. The `par/` endpoint that stores
// it is par.ts, which validates through authorize-request.ts; this module sits below both.

/** RFC 9126 §2.2: the URN prefix of every `request_uri` this server issues. */
export const REQUEST_URI_PREFIX = 'urn:ietf:params:oauth:request_uri:'

/**
 * What follows the prefix in the `request_uri` of a request object verified at the authorization
 * endpoint and kept as an internal pushed request (see `storePushedRequest`). The checksum covers
 * it, so a `request_uri` from `par/` cannot be passed off as one of these, nor the reverse;
 * a drawn token (base64url) never holds the dot.
 */
const REQUEST_OBJECT_MARK = 'jar.'

/**
 * How long the user's trip through login and consent may take once the authorization endpoint
 * has first used a `request_uri` (the `expires_in` of §2.2 limits when that first use may
 * happen). The same ceiling RFC 6749 §4.1.2 puts on codes.
 */
export const PUSHED_REQUEST_WINDOW_SECONDS = 600

/** A `request_uri` resolved at the authorization endpoint: the pushed parameters and the record to consume. */
export interface PushedExpansion {
  readonly id: number
  readonly params: Params
  /** The pushed RFC 8707 `resource` values (the parameter may repeat). */
  readonly resources: readonly string[]
  /** What the consent form carries instead of the parameters: the reference itself. */
  readonly carried: Readonly<Record<string, string>>
  /**
   * The record holds a request object the authorization endpoint verified (a front-channel
   * `request`), not a request the client pushed: it does not satisfy an RFC 9126 §6 requirement.
   */
  readonly fromRequestObject: boolean
}

/**
 * Stores an authorization request's parameters (already validated) under the checksum of a fresh
 * `request_uri`, for `parRequestUriLifetimeSeconds`. `fromRequestObject`: a request object
 * verified at the authorization endpoint, continued through its `request_uri` so that the
 * object (and its `jti`) is used once, however many times the login round trip comes back.
 * @returns the `request_uri` and its lifetime in seconds.
 */
export async function storePushedRequest (ctx: ServerContext, application: Application, parameters: Readonly<Record<string, string>>,
  fromRequestObject = false): Promise<{ readonly requestUri: string, readonly expiresIn: number }> {
  const token = `${fromRequestObject ? REQUEST_OBJECT_MARK : ''}${ctx.random.token(32)}`
  const now = ctx.clock.now()
  const lifetime = ctx.settings.parRequestUriLifetimeSeconds
  await ctx.store.createPushedAuthorizationRequest({
    checksum: tokenChecksum(token),
    applicationId: application.id,
    parameters,
    expiresAt: addSeconds(now, lifetime),
  }, now)
  return { requestUri: `${REQUEST_URI_PREFIX}${token}`, expiresIn: lifetime }
}

/**
 * RFC 9126 §4: replaces the front-channel parameters by the pushed ones. The `request_uri` must
 * be this server's, unexpired, unconsumed and bound to the requesting `client_id`. Its first use
 * starts the user's trip (`PUSHED_REQUEST_WINDOW_SECONDS`); the decision consumes it. Any other
 * `request_uri` (one pointing at a request object elsewhere, OIDC Core §6.2) is not supported.
 * @returns the expansion, or the error (shown to the user, never redirected).
 */
export async function expandPushedRequest (ctx: ServerContext, application: Application, query: Params,
  duplicated: ReadonlySet<string>): Promise<PushedExpansion | OAuthError> {
  if (duplicated.has('request_uri')) return new InvalidRequestError({ description: 'Parameter repeated: request_uri.' })
  const requestUri = param(query, 'request_uri') ?? ''
  if (!requestUri.startsWith(REQUEST_URI_PREFIX)) return new RequestUriNotSupportedError()
  // A verified request object continues as one of these whether or not `par/` is served.
  const fromRequestObject = requestUri.startsWith(REQUEST_OBJECT_MARK, REQUEST_URI_PREFIX.length)
  if (!ctx.settings.parEnabled && !fromRequestObject) return new RequestUriNotSupportedError()
  const unusable = (): OAuthError => new InvalidRequestError({ description: 'The request_uri is invalid, expired, used or was issued to another client.' })
  const record = await ctx.store.findPushedAuthorizationRequest(tokenChecksum(requestUri.slice(REQUEST_URI_PREFIX.length)))
  const now = ctx.clock.now()
  if (record === null || record.applicationId !== application.id || record.consumedAt !== null || record.expiresAt.getTime() <= now.getTime()) {
    return unusable()
  }
  if (record.startedAt === null && !await ctx.store.startPushedAuthorizationRequest(record.id, now, addSeconds(now, PUSHED_REQUEST_WINDOW_SECONDS))) {
    // Another request started it meanwhile (a double click, a browser opening the page twice):
    // that is the reload §7.3 allows, so it goes on as one that came a moment later would.
    // Consumed or expired in the meantime, it is refused.
    const started = await ctx.store.findPushedAuthorizationRequest(record.checksum)
    if (started === null || started.startedAt === null || started.consumedAt !== null || started.expiresAt.getTime() <= now.getTime()) return unusable()
  }
  const params: Record<string, string> = { ...record.parameters }
  const carried: Record<string, string> = { client_id: application.clientId, request_uri: requestUri }
  // After a prompt=login round trip the login page returns with our `login_after` marker
  // (see authorize-prompt.ts): honour it, and do not ask for the login again.
  const loginAfter = param(query, 'login_after')
  if (loginAfter !== undefined) {
    params.login_after = loginAfter
    carried.login_after = loginAfter
    const prompt = (params.prompt ?? '').split(' ').filter((v) => v !== '' && v !== 'login')
    if (prompt.length === 0) delete params.prompt
    else params.prompt = prompt.join(' ')
  }
  // Pushed `resource` values are kept space-separated (an absolute URI holds no space).
  const resources = (params.resource ?? '').split(' ').filter((r) => r !== '')
  return { id: record.id, params, resources, carried, fromRequestObject }
}

/** Uses up a pushed request at the user's decision (single use, §4); false when it was already used or expired. */
export async function consumePushedRequest (ctx: ServerContext, pushedRequestId: number | undefined): Promise<boolean> {
  if (pushedRequestId === undefined) return true
  return await ctx.store.consumePushedAuthorizationRequest(pushedRequestId, ctx.clock.now())
}
