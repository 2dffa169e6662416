import { MissingBearerTokenError, OAuthError, ServerError, type OAuthErrorCode } from './errors.js'

// What goes on the wire. This module is the one place that writes OAuth error bodies and
// Bearer challenges: the endpoints, the protected-resource guard, UserInfo and the routes
// plugin's error handler all answer through it, so an error reads the same wherever it occurs.

/** What an endpoint returns; the view copies it onto the reply. Core code never touches a reply. */
export interface OAuthResponse {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  /** A JSON value, an HTML/text string, or `null` for an empty body. */
  readonly body: unknown
}

/** Headers every token-bearing response carries (RFC 6749 §5.1). */
export const NO_STORE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'cache-control': 'no-store',
  pragma: 'no-cache',
})

const JSON_CONTENT_TYPE = 'application/json; charset=utf-8'

/** A JSON response that must not be cached (token, introspection, error bodies). */
export function noStoreJson (status: number, body: unknown, headers: Readonly<Record<string, string>> = {}): OAuthResponse {
  return { status, headers: { 'content-type': JSON_CONTENT_TYPE, ...NO_STORE_HEADERS, ...headers }, body }
}

/** The JSON body of an error response (RFC 6749 §5.2). */
export interface OAuthErrorBody {
  error: OAuthErrorCode
  error_description?: string
  error_uri?: string
  state?: string
}

/** An error turned into what goes on the wire. */
export interface ErrorResponse extends OAuthResponse {
  readonly body: OAuthErrorBody
}

/**
 * The only code that builds an error body: the RFC status, `{ error, error_description?,
 * error_uri?, state? }`, the error's own headers (a `WWW-Authenticate`, a `Retry-After`) and
 * no caching. Anything that is not an `OAuthError` becomes a generic `server_error` 500; the
 * caller logs the original.
 */
export function toErrorResponse (err: unknown): ErrorResponse {
  const e = err instanceof OAuthError ? err : new ServerError()
  const body: OAuthErrorBody = { error: e.error }
  if (e.description !== undefined) body.error_description = e.description
  if (e.uri !== undefined) body.error_uri = e.uri
  if (e.state !== undefined) body.state = e.state
  return { status: e.status, headers: { 'content-type': JSON_CONTENT_TYPE, ...NO_STORE_HEADERS, ...e.headers }, body }
}

/** The auth-params of a Bearer challenge (RFC 6750 §3), written in this order when present. */
export interface BearerChallenge {
  readonly realm?: string
  readonly error?: OAuthErrorCode
  readonly description?: string | undefined
  /** The scope the request needed (`insufficient_scope`, RFC 6750 §3.1). */
  readonly scope?: readonly string[]
  /** RFC 9728 §5.1: where the client finds how to get a token for this resource. */
  readonly resourceMetadata?: string | null
}

/** Quotes an auth-param value (RFC 9110 §5.6.4), dropping what a header cannot carry. */
function quote (value: string): string {
  return `"${value.replace(/[\\"]/g, '\\$&').replace(/[^\x20-\x7e]/g, '')}"`
}

/** The auth-params both schemes share (RFC 6750 §3, RFC 9449 §7.1, RFC 9728 §5.1), in this order when present. */
function challengeParams (challenge: BearerChallenge): string[] {
  const params: string[] = []
  if (challenge.realm !== undefined) params.push(`realm=${quote(challenge.realm)}`)
  if (challenge.error !== undefined) params.push(`error=${quote(challenge.error)}`)
  if (challenge.description !== undefined) params.push(`error_description=${quote(challenge.description)}`)
  if (challenge.scope !== undefined) params.push(`scope=${quote(challenge.scope.join(' '))}`)
  if (challenge.resourceMetadata != null) params.push(`resource_metadata=${quote(challenge.resourceMetadata)}`)
  return params
}

/** The `WWW-Authenticate` header of a Bearer challenge (RFC 6750 §3). */
export function bearerChallenge (challenge: BearerChallenge): Readonly<Record<string, string>> {
  return { 'www-authenticate': `Bearer ${challengeParams(challenge).join(', ')}` }
}

/** The auth-params of a DPoP challenge (RFC 9449 §7.1): the Bearer ones, then `algs`. */
export interface DpopChallenge extends BearerChallenge {
  /** The JWS algorithms the resource accepts for proofs (`algs`). */
  readonly algs: readonly string[]
}

/** The value of a DPoP challenge (RFC 9449 §7.1), to stand alone in `WWW-Authenticate` or follow a Bearer one. */
export function dpopChallenge (challenge: DpopChallenge): string {
  return `DPoP ${[...challengeParams(challenge), `algs=${quote(challenge.algs.join(' '))}`].join(', ')}`
}

/** Errors about the proof itself: always answered with a DPoP challenge. */
const DPOP_ERRORS: ReadonlySet<OAuthErrorCode> = new Set(['invalid_dpop_proof', 'use_dpop_nonce'])

/** How a protected resource answers a request it refuses. */
export interface ResourceDenialOptions {
  /** RFC 6750 challenges (401/403 + `WWW-Authenticate`); `false`: DOT's bare 403. */
  readonly bearerChallenge: boolean
  /** The challenge's `realm`. */
  readonly realm: string
  /** The scopes the request needed, named in an `insufficient_scope` challenge. */
  readonly requiredScopes: readonly string[]
  /** DOT's `errorResponseWithScopes`: an `insufficient_scope` body also lists `required_scopes`. */
  readonly scopesInBody?: boolean
  /** RFC 9728 §5.1: the `resource_metadata` URL of the route's declared resource, if any. */
  readonly resourceMetadata?: string | null
  /** Headers every answer carries (UserInfo's CORS). */
  readonly headers?: Readonly<Record<string, string>>
  /**
   * RFC 9449: the proof algorithms the resource accepts, when it accepts DPoP (`null` or absent:
   * it does not, and no DPoP challenge is written). RFC 6750 challenges then also offer `DPoP`.
   */
  readonly dpopAlgorithms?: readonly string[] | null
  /** The request presented its token with the `DPoP` scheme: the refusal is a DPoP challenge (§7.1). */
  readonly dpopScheme?: boolean
}

/**
 * The answer of a protected resource (a view, `protect()`, UserInfo) to a refused request:
 * DOT's bare 403, or an RFC 6750 §3 challenge with the error in a JSON body.
 */
export function resourceDenial (error: OAuthError, options: ResourceDenialOptions): OAuthResponse {
  const extra = options.headers ?? {}
  // The token could not be verified right now (a remote authorization server is down): no RFC
  // 6750 failure, since the token may well be good, so no challenge; the error says when to retry.
  // A client-protected view's failed client authentication: RFC 6749 §5.2's 401, challenging
  // with the scheme the client used (Basic), not with Bearer.
  if (error.error === 'temporarily_unavailable' || (options.bearerChallenge && error.error === 'invalid_client')) {
    const response = toErrorResponse(error)
    return { ...response, headers: { ...response.headers, ...extra } }
  }
  const required = error.error === 'insufficient_scope' && options.scopesInBody === true ? { required_scopes: options.requiredScopes } : null
  const algs = options.dpopAlgorithms ?? null
  // RFC 9449 §7.1: a client that spoke DPoP gets a DPoP challenge, whatever `bearerChallenge` says:
  // DOT's bare 403 predates DPoP, and without the challenge (and its nonce) the client cannot recover.
  if (algs !== null && (options.dpopScheme === true || DPOP_ERRORS.has(error.error))) {
    const challenge = dpopChallenge({
      realm: options.realm,
      error: error.error,
      description: error.description,
      ...(error.error === 'insufficient_scope' ? { scope: options.requiredScopes } : {}),
      resourceMetadata: options.resourceMetadata ?? null,
      algs,
    })
    const response = toErrorResponse(error)
    // A proof error is the resource's 401 (§7.1), not the token endpoint's 400.
    const status = DPOP_ERRORS.has(error.error) ? 401 : response.status
    return { status, headers: { ...response.headers, ...extra, 'www-authenticate': challenge }, body: required === null ? response.body : { ...response.body, ...required } }
  }
  if (!options.bearerChallenge) {
    // DOT parity: a bare 403 whatever went wrong (tutorial part 2 expects it).
    return required === null ? { status: 403, headers: extra, body: null } : { status: 403, headers: { 'content-type': JSON_CONTENT_TYPE, ...extra }, body: required }
  }
  // RFC 6750 §3.1: no error code, and no body, when the request carried no token at all.
  // RFC 9449 §7.1: a resource accepting both schemes offers both.
  const offerDpop = (header: Readonly<Record<string, string>>): Readonly<Record<string, string>> =>
    algs === null ? header : { 'www-authenticate': `${header['www-authenticate'] ?? ''}, ${dpopChallenge({ algs })}` }
  if (error instanceof MissingBearerTokenError) {
    const challenge = offerDpop(bearerChallenge({ realm: options.realm, resourceMetadata: options.resourceMetadata ?? null }))
    return { status: error.status, headers: { ...NO_STORE_HEADERS, ...extra, ...challenge }, body: null }
  }
  const challenge = bearerChallenge({
    realm: options.realm,
    error: error.error,
    description: error.description,
    ...(error.error === 'insufficient_scope' ? { scope: options.requiredScopes } : {}),
    resourceMetadata: options.resourceMetadata ?? null,
  })
  const response = toErrorResponse(error)
  return { status: response.status, headers: { ...response.headers, ...extra, ...offerDpop(challenge) }, body: required === null ? response.body : { ...response.body, ...required } }
}
