import type { ServerContext } from '../context.js'
import { InvalidRequestError, OAuthError, UnauthorizedClientError, UnsupportedResponseTypeError } from '../errors.js'
import { param, type Params } from '../request.js'
import type { Application } from '../store/types.js'
import { lookupClient } from '../registration/cimd.js'
import { isPkceValue, type CodeChallengeMethod } from '../tokens/pkce.js'
import { redirectUriMatches, redirectUriProblem } from '../validator/redirect-uri.js'
import { signedRequestObjectRequired, verifyRequestObject, type RequestObjectParameters } from '../validator/request-object.js'
import { resolveRequestedResources } from '../validator/resources.js'
import { parseScopeParam, resolveRequestedScopes } from '../validator/scopes.js'
import { earlyErrorResponse, requestedResponseMode, type AuthorizationResponse, type ResponseMode } from './authorize-response.js'
import { expandPushedRequest, storePushedRequest, type PushedExpansion } from './pushed-request.js'

// The authorization request (RFC 6749 §4.1.1, §4.2.1; RFC 7636; OIDC Core §3): what it may
// carry, how it is validated, and how answers are added to the redirect URI. What happens once
// the user decides is in authorize.ts.

/** The parameters an authorization request may carry (others are ignored, RFC 6749 §3.1). */
export const AUTHORIZATION_PARAMETERS = [
  'client_id', 'redirect_uri', 'response_type', 'scope', 'state', 'nonce',
  'code_challenge', 'code_challenge_method', 'approval_prompt', 'response_mode',
  // OpenID Connect (OIDC Core §3.1.2.1); `login_after` is the toolkit's own marker, see authorize-prompt.ts.
  'prompt', 'max_age', 'login_after',
  // RFC 9449 §10: the DPoP key the code is bound to.
  'dpop_jkt',
] as const

/** Response types: RFC 6749's, and OpenID Connect's hybrid ones in canonical order (OIDC Core §3.3). */
export type ResponseType = 'code' | 'token' | 'code id_token' | 'code token' | 'code id_token token'

const HYBRID_RESPONSE_TYPES: ReadonlySet<string> = new Set(['code id_token', 'code token', 'code id_token token'])

/** A validated authorization request (RFC 6749 §4.1.1, §4.2.1; RFC 7636 §4.3). */
export interface AuthorizationRequest {
  readonly application: Application
  readonly responseType: ResponseType
  /** Where the answer goes: the requested URI, or the only registered one. */
  readonly redirectUri: string
  /** How the answer goes there: `response_mode`, or the response type's default. */
  readonly responseMode: ResponseMode
  /**
   * An end user created the client (RFC 7591 dynamic registration, the management pages; see
   * `Application.selfRegistered`): its redirect URIs are only the registrant's word, so errors
   * found before the user approved are shown on the error page, never redirected (RFC 9700
   * §4.11.2). See `earlyErrorResponse`.
   */
  readonly selfRegistered: boolean
  /** `redirect_uri` as the request gave it, `''` when omitted (the token request must repeat it, §4.1.3). */
  readonly requestedRedirectUri: string
  readonly scopes: readonly string[]
  /** RFC 8707 resources the grant (and its tokens) will be bound to; empty: unrestricted. */
  readonly resources: readonly string[]
  readonly state: string | undefined
  readonly nonce: string
  readonly codeChallenge: string
  readonly codeChallengeMethod: CodeChallengeMethod
  /** DOT's `approval_prompt`: the request's value, else the `requestApprovalPrompt` setting. */
  readonly approvalPrompt: 'force' | 'auto'
  /** OpenID Connect `prompt` values (`none`, `login`, `consent`); empty for plain OAuth requests. */
  readonly prompt: readonly string[]
  /** OpenID Connect `max_age`, seconds; `null` when absent or not an OpenID request. */
  readonly maxAge: number | null
  /** Set after a `prompt=login` redirect: the user must have authenticated at or after this time. */
  readonly loginAfter: Date | null
  /** The request's own parameters, to carry through the consent form. */
  readonly params: Readonly<Record<string, string>>
  /** RFC 9207 `iss` for the responses, when `authorizationResponseIss` is on; else undefined. */
  readonly iss: string | undefined
  /** This server's issuer identifier (`iss` of front-channel ID tokens), when the view gave it. */
  readonly issuer?: string
  /** Set when the request came through `par/` (RFC 9126): the record the user's decision consumes. */
  readonly pushedRequestId?: number
  /** RFC 9449 §10 `dpop_jkt`: the code may only be redeemed with a proof of this key; `''` or absent: none. */
  readonly dpopJkt?: string
}

/**
 * The outcome of validating an authorization request. A failure with `redirect: null` means the
 * client or redirect URI cannot be trusted, or the client registered itself: show the error to
 * the user, never redirect (RFC 6749 §4.1.2.1, RFC 9700 §4.11.2). Otherwise `redirect` is the
 * error response for the client.
 */
export type AuthorizationCheck =
  | { readonly ok: true, readonly request: AuthorizationRequest }
  | { readonly ok: false, readonly error: OAuthError, readonly redirect: AuthorizationResponse | null }

/** The user approving or denying a request, as the host app knows them. */
export interface AuthorizingUser {
  /** The user's id, as tokens will carry it. */
  readonly id: string
  /** When the user last authenticated (OpenID Connect `auth_time`); defaults to now. */
  readonly authTime?: Date
  /**
   * The host's own identifier of this login session (for example `request.session.sessionId`
   * with @fastify/session). With it the toolkit tracks the session (`sid` in ID tokens) and can
   * send back-channel logout tokens when it ends; it is kept only as its SHA-256 checksum (high-entropy, like a token), never in clear.
   */
  readonly sessionId?: string
  /** The user may use the staff administration pages (`{prefix}/admin/`, when enabled). */
  readonly isStaff?: boolean
}

/**
 * Validates an authorization request, in RFC order: client, redirect URI, then the rest.
 * @param issuer this server's issuer identifier, sent as `iss` (RFC 9207) when the settings say so.
 * @param resources every RFC 8707 `resource` value (it may repeat); default: `params.resource`, if any.
 */
export async function validateAuthorizationRequest (ctx: ServerContext, params: Params, duplicated: ReadonlySet<string>, issuer?: string,
  resources: readonly string[] = params.resource === undefined ? [] : [params.resource],
  options: { readonly pushed?: boolean } = {}): Promise<AuthorizationCheck> {
  const iss = ctx.settings.authorizationResponseIss ? issuer : undefined
  const fatal = (error: OAuthError | string, detail?: string): AuthorizationCheck =>
    ({ ok: false, error: typeof error === 'string' ? new InvalidRequestError({ description: error, detail }) : error, redirect: null })

  if (duplicated.has('client_id')) return fatal('Parameter repeated: client_id.')
  const clientId = param(params, 'client_id')
  if (clientId === undefined) return fatal('Missing client_id parameter.')
  // A client ID metadata document URL is resolved (fetched when stale) here; whatever went wrong,
  // the error is shown on this server's page, never sent to a redirect URI nobody verified.
  const { application, detail } = await lookupClient(ctx, clientId)
  if (application === null) return fatal('Invalid client_id parameter value.', detail)
  // Without `none` among `clientAuthMethods` (confidential clients only, FAPI 2.0 §5.3.2.1 item 3)
  // a public client could never redeem a code: refused before the user is asked anything.
  if (application.clientType === 'public' && !ctx.settings.clientAuthMethods.includes('none')) {
    return fatal(new UnauthorizedClientError({ description: 'This server does not accept public clients.', detail: 'public client while clientAuthMethods excludes none' }))
  }
  // RFC 9101 §5: a request object by value. Until it verifies there is no trustworthy redirect
  // URI (the parameters outside it are ignored, §6.3), so its errors go to the error page. A
  // verified object continues as a pushed request of this server's own (the object, and its
  // `jti`, is used once; the login round trip returns with the `request_uri`).
  if (params.request !== undefined && options.pushed !== true) {
    const stored = await acceptRequestObject(ctx, application, params, duplicated, issuer)
    if (stored instanceof OAuthError) return fatal(stored)
    params = { client_id: application.clientId, request_uri: stored }
    duplicated = new Set()
  }
  // RFC 9126 §4: a request_uri stands for the pushed parameters. Its redirect URI is the pushed
  // one, so until the reference is resolved there is nowhere trustworthy to send an error.
  let pushed: PushedExpansion | null = null
  if (params.request_uri !== undefined && options.pushed !== true) {
    const expanded = await expandPushedRequest(ctx, application, params, duplicated)
    if (expanded instanceof OAuthError) return fatal(expanded)
    pushed = expanded
    params = expanded.params
    duplicated = new Set()
    resources = expanded.resources
  }

  const redirect = resolveRedirectUri(ctx, application, params, duplicated)
  if (typeof redirect === 'string') return fatal(redirect)

  const responseType = param(params, 'response_type')
  const mode = requestedResponseMode(responseType, params.response_mode, duplicated.has('response_mode'), ctx.settings.oidcEnabled, redirect.uri)
  // A client an end user created (dynamic registration, management pages) has unvetted redirect
  // URIs. The flag holds for a request pushed through par/ too: the client authenticated there,
  // but nobody vouched for where its errors would go at this endpoint.
  const { selfRegistered } = application
  const target = { redirectUri: redirect.uri, responseMode: mode.mode, state: params.state, iss, selfRegistered }
  try {
    // RFC 9126 §5/§6: pushed requests only, server-wide or for this client.
    const parRequired = ctx.settings.requirePushedAuthorizationRequests || application.requirePushedAuthorizationRequests
    if (parRequired && (pushed === null || pushed.fromRequestObject) && options.pushed !== true) throw new InvalidRequestError({ description: 'Pushed authorization request required.' })
    // RFC 9101 §10.5: such a client's requests come as signed objects: by value (verified above),
    // or pushed (par/ refused a plain push), so only a plain front-channel request is left to refuse.
    if (pushed === null && options.pushed !== true && signedRequestObjectRequired(ctx, application)) {
      throw new InvalidRequestError({ description: 'A signed request object is required.' })
    }
    const request = {
      ...checkRest(ctx, application, redirect, params, duplicated, resources, mode.problem),
      responseMode: mode.mode,
      selfRegistered,
      iss,
      ...(issuer === undefined ? {} : { issuer }),
    }
    if (pushed !== null) return { ok: true, request: { ...request, params: pushed.carried, pushedRequestId: pushed.id } }
    return { ok: true, request }
  } catch (err) {
    if (err instanceof OAuthError) return { ok: false, error: err, redirect: earlyErrorResponse(target, err) }
    throw err
  }
}

/**
 * RFC 9101 §5-§6 at the authorization endpoint: verifies the `request` object and keeps its
 * parameters as a pushed request of this server's own.
 * @returns the `request_uri` to continue with, or the error (shown to the user, never redirected).
 */
async function acceptRequestObject (ctx: ServerContext, application: Application, params: Params,
  duplicated: ReadonlySet<string>, issuer: string | undefined): Promise<string | OAuthError> {
  if (duplicated.has('request')) return new InvalidRequestError({ description: 'Parameter repeated: request.' })
  // RFC 9101 §5: a request object is sent by value or by reference, never both.
  if (params.request_uri !== undefined) return new InvalidRequestError({ description: 'Use request or request_uri, not both.' })
  // RFC 9126 §6: a front-channel object is no pushed request.
  if (ctx.settings.requirePushedAuthorizationRequests || application.requirePushedAuthorizationRequests) {
    return new InvalidRequestError({ description: 'Pushed authorization request required.' })
  }
  let object: RequestObjectParameters
  try {
    object = await verifyRequestObject(ctx, application, params.request ?? '', issuer ?? ctx.settings.issuer)
  } catch (err) {
    if (err instanceof OAuthError) return err
    throw err
  }
  const parameters: Record<string, string> = { ...object.params }
  if (object.resources.length > 0) parameters.resource = object.resources.join(' ')
  return (await storePushedRequest(ctx, application, parameters, true)).requestUri
}

/** RFC 6749 §3.1.2.3 with RFC 8252 §7.3; a string is the reason the URI is refused. */
function resolveRedirectUri (ctx: ServerContext, application: Application, params: Params, duplicated: ReadonlySet<string>): { uri: string, requested: string } | string {
  if (duplicated.has('redirect_uri')) return 'Parameter repeated: redirect_uri.'
  const requested = param(params, 'redirect_uri')
  if (requested === undefined) {
    // RFC 6749 §3.1.2.3: with several registered URIs the client must say which one; with
    // `redirectUriRequired` (FAPI 2.0 §5.3.2.2 item 6), always.
    const [only, ...others] = application.redirectUris
    if (only === undefined || others.length > 0 || ctx.settings.redirectUriRequired) return 'Missing redirect_uri parameter.'
    // Held to today's rules like a requested URI: a row stored before them (or by hand) must
    // not reach a Location header (a non-ASCII URI made Node throw there).
    if (redirectUriProblem(only, ctx.settings.allowedRedirectUriSchemes) !== null) return 'Mismatching redirect URI.'
    return { uri: only, requested: '' }
  }
  const registered = application.redirectUris.some((uri) => redirectUriMatches(uri, requested))
  if (!registered || redirectUriProblem(requested, ctx.settings.allowedRedirectUriSchemes) !== null) {
    // The registered URIs are never listed in the page: it would tell an attacker what to aim at.
    return 'Mismatching redirect URI.'
  }
  return { uri: requested, requested }
}

/** Parameters that may appear once; `request` and `request_uri` too (refused or resolved, never guessed between). */
const SINGLE_PARAMETERS: readonly string[] = [...AUTHORIZATION_PARAMETERS, 'request', 'request_uri']

function checkRest (ctx: ServerContext, application: Application, redirect: { uri: string, requested: string },
  params: Params, duplicated: ReadonlySet<string>, resourceValues: readonly string[], responseModeProblem: string | undefined):
  Omit<AuthorizationRequest, 'iss' | 'issuer' | 'responseMode' | 'selfRegistered'> {
  const repeated = SINGLE_PARAMETERS.filter((name) => duplicated.has(name))
  if (repeated.length > 0) throw new InvalidRequestError({ description: `Parameter repeated: ${repeated.join(', ')}.` })

  const responseType = checkResponseType(ctx, application, param(params, 'response_type'))
  // Multiple Response Types §2.1 / Form Post Response Mode: an unknown or unsafe response_mode is refused, not ignored.
  if (responseModeProblem !== undefined) throw new InvalidRequestError({ description: responseModeProblem })
  const scopes = resolveRequestedScopes(ctx.settings, parseScopeParam(param(params, 'scope')), application)
  if (HYBRID_RESPONSE_TYPES.has(responseType)) {
    if (!scopes.includes('openid')) throw new InvalidRequestError({ description: 'The hybrid flow needs the openid scope.' })
    // OIDC Core §3.3.2.11: an ID token from the authorization endpoint needs a nonce (against replay).
    if (responseType.includes('id_token') && param(params, 'nonce') === undefined) throw new InvalidRequestError({ description: 'Missing nonce parameter.' })
  }
  const { codeChallenge, codeChallengeMethod } = responseType !== 'token'
    ? checkPkce(ctx, param(params, 'code_challenge'), param(params, 'code_challenge_method'))
    : { codeChallenge: '', codeChallengeMethod: '' as const }

  const prompt = param(params, 'approval_prompt') ?? ctx.settings.requestApprovalPrompt
  if (prompt !== 'force' && prompt !== 'auto') throw new InvalidRequestError({ description: 'Invalid approval_prompt parameter value.' })

  const oidc = checkOidcParams(ctx, scopes, params)
  const dpopJkt = checkDpopJkt(ctx, param(params, 'dpop_jkt'))
  // RFC 8707 §2.1: validated here, so a bad one goes back to the client as invalid_target.
  const resources = resolveRequestedResources(ctx.settings, resourceValues)

  const carried: Record<string, string> = {}
  for (const name of AUTHORIZATION_PARAMETERS) {
    const value = params[name]
    if (value !== undefined) carried[name] = value
  }
  return {
    application,
    responseType,
    redirectUri: redirect.uri,
    requestedRedirectUri: redirect.requested,
    scopes,
    resources,
    state: params.state,
    nonce: params.nonce ?? '',
    codeChallenge,
    codeChallengeMethod,
    approvalPrompt: prompt,
    ...oidc,
    params: carried,
    dpopJkt,
  }
}

/** RFC 9449 §10: `dpop_jkt` is a JWK SHA-256 thumbprint (43 base64url characters); ignored while DPoP is off. */
function checkDpopJkt (ctx: ServerContext, value: string | undefined): string {
  if (value === undefined || !ctx.settings.dpopEnabled) return ''
  if (!/^[A-Za-z0-9_-]{43}$/.test(value)) throw new InvalidRequestError({ description: 'Invalid dpop_jkt parameter value.' })
  return value
}

/** OIDC Core §3.1.2.1: `prompt` and `max_age`, for OpenID requests only (plain OAuth ignores them). */
function checkOidcParams (ctx: ServerContext, scopes: readonly string[], params: Params): Pick<AuthorizationRequest, 'prompt' | 'maxAge' | 'loginAfter'> {
  if (!ctx.settings.oidcEnabled || !scopes.includes('openid')) return { prompt: [], maxAge: null, loginAfter: null }
  const prompt = [...new Set((param(params, 'prompt') ?? '').split(' ').filter((v) => v !== ''))]
  if (prompt.some((v) => v !== 'none' && v !== 'login' && v !== 'consent')) {
    throw new InvalidRequestError({ description: 'Unsupported prompt parameter value.' })
  }
  if (prompt.includes('none') && prompt.length > 1) throw new InvalidRequestError({ description: 'prompt=none cannot be combined with other values.' })
  return { prompt, maxAge: nonNegativeInteger(param(params, 'max_age'), 'max_age'), loginAfter: epoch(param(params, 'login_after')) }
}

function nonNegativeInteger (value: string | undefined, name: string): number | null {
  if (value === undefined) return null
  if (!/^\d{1,10}$/.test(value)) throw new InvalidRequestError({ description: `Invalid ${name} parameter value.` })
  return Number(value)
}

function epoch (value: string | undefined): Date | null {
  const seconds = nonNegativeInteger(value, 'login_after')
  return seconds === null ? null : new Date(seconds * 1000)
}

/** RFC 6749 §3.1.1; the implicit grant only where the settings allow it (RFC 9700 §2.1.2). */
function checkResponseType (ctx: ServerContext, application: Application, value: string | undefined): ResponseType {
  if (value === undefined) throw new InvalidRequestError({ description: 'Missing response_type parameter.' })
  // OIDC Core §3.3: the hybrid flows, for openid-hybrid applications; the order of the values is free.
  const canonical = ['code', 'id_token', 'token'].filter((v) => value.split(' ').includes(v)).join(' ')
  if (ctx.settings.oidcEnabled && HYBRID_RESPONSE_TYPES.has(canonical) && canonical.split(' ').length === value.split(' ').length) {
    // `hybridFlowEnabled` off (FAPI 2.0 §5.3.2.2 item 1): `response_type=code` only.
    if (!ctx.settings.hybridFlowEnabled) {
      throw new UnsupportedResponseTypeError({ description: 'The response type is not supported by this server.', detail: `response_type ${value} with the hybrid flow off` })
    }
    // RFC 9700 §2.1.2: with the implicit grant off, no access token leaves through the front
    // channel, whatever response type asks for it; `code id_token` carries none and stays.
    if (canonical.split(' ').includes('token') && !ctx.settings.implicitGrantEnabled) {
      throw new UnsupportedResponseTypeError({ description: 'The response type is not supported by this server.', detail: `response_type ${value} with the implicit grant off` })
    }
    if (application.authorizationGrantType !== 'openid-hybrid') {
      throw new UnauthorizedClientError({ description: 'The client is not authorized to use this response type.' })
    }
    return canonical as ResponseType
  }
  if (value === 'code') {
    if (application.authorizationGrantType !== 'authorization-code' && application.authorizationGrantType !== 'openid-hybrid') {
      throw new UnauthorizedClientError({ description: 'The client is not authorized to use this response type.' })
    }
    return 'code'
  }
  if (value === 'token' && ctx.settings.implicitGrantEnabled) {
    if (application.authorizationGrantType !== 'implicit') {
      throw new UnauthorizedClientError({ description: 'The client is not authorized to use this response type.' })
    }
    return 'token'
  }
  throw new UnsupportedResponseTypeError({ description: 'The response type is not supported by this server.', detail: `response_type ${value}` })
}

/** RFC 7636 §4.3–4.4: required when `pkceRequired`; `plain` only where the settings allow it. */
function checkPkce (ctx: ServerContext, challenge: string | undefined, method: string | undefined): { codeChallenge: string, codeChallengeMethod: CodeChallengeMethod } {
  if (challenge === undefined) {
    if (method !== undefined) throw new InvalidRequestError({ description: 'code_challenge_method without code_challenge.' })
    if (ctx.settings.pkceRequired) throw new InvalidRequestError({ description: 'Code challenge required.' })
    return { codeChallenge: '', codeChallengeMethod: '' }
  }
  // RFC 7636 §4.3: the method defaults to plain.
  const chosen = method ?? 'plain'
  if (chosen !== 'S256' && !(chosen === 'plain' && ctx.settings.pkcePlainAllowed)) {
    throw new InvalidRequestError({ description: 'Transform algorithm not supported.' })
  }
  if (!isPkceValue(challenge)) throw new InvalidRequestError({ description: 'The code_challenge parameter is malformed.' })
  return { codeChallenge: challenge, codeChallengeMethod: chosen }
}
