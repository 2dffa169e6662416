import type { OAuthError } from '../errors.js'
import { toErrorResponse } from '../response.js'

// How an authorization response reaches the client: the response modes of OAuth 2.0 Multiple
// Response Type Encoding Practices §2.1 and OAuth 2.0 Form Post Response Mode, and the one
// decision of who may be redirected to at all before the user approved.

/** `query`, `fragment` (Multiple Response Types §2.1) and `form_post` (Form Post Response Mode §2). */
export type ResponseMode = 'query' | 'fragment' | 'form_post'

/** Every response mode this server serves, as discovery lists them. */
export const RESPONSE_MODES: readonly ResponseMode[] = Object.freeze(['query', 'fragment', 'form_post'])

/**
 * An answer for the client: the parameters to deliver at its redirect URI, and how. `query` and
 * `fragment` become a `Location`; `form_post` an HTML page that POSTs them there.
 */
export interface AuthorizationResponse {
  readonly redirectUri: string
  readonly mode: ResponseMode
  /** The response parameters, in order (absent values already left out). */
  readonly params: Readonly<Record<string, string>>
}

/**
 * The default response mode of a response type: query for `code`, fragment for what returns a
 * token from the authorization endpoint (Multiple Response Types §5): `token`, and with OpenID
 * Connect on, anything with `token` or `id_token`. Without OIDC those are unknown values,
 * answered in the query.
 */
export function defaultResponseMode (responseType: string | undefined, oidcEnabled: boolean): 'query' | 'fragment' {
  if (responseType === 'token') return 'fragment'
  const parts = (responseType ?? '').split(' ')
  return oidcEnabled && (parts.includes('token') || parts.includes('id_token')) ? 'fragment' : 'query'
}

/**
 * The response mode a request asked for (`response_mode`), or its response type's default.
 * `problem` is why the requested value cannot be honoured; `mode` is then the default, the mode
 * the resulting `invalid_request` travels in (a value that was refused is never used). A value
 * nobody understands is refused rather than ignored, and `query` never carries a response whose
 * default is the fragment (Multiple Response Types §2.1: tokens never go in the query).
 * @param redirectUri the validated redirect URI: `form_post` needs one a browser can POST to.
 */
export function requestedResponseMode (responseType: string | undefined, value: string | undefined, repeated: boolean,
  oidcEnabled: boolean, redirectUri: string): { readonly mode: ResponseMode, readonly problem?: string } {
  const fallback = defaultResponseMode(responseType, oidcEnabled)
  if (repeated) return { mode: fallback, problem: 'Parameter repeated: response_mode.' }
  if (value === undefined || value === '') return { mode: fallback }
  if (!(RESPONSE_MODES as readonly string[]).includes(value)) return { mode: fallback, problem: 'Unsupported response_mode parameter value.' }
  if (value === 'query' && fallback === 'fragment') return { mode: fallback, problem: 'This response type cannot be returned in the query.' }
  if (value === 'form_post' && !/^https?:/i.test(redirectUri)) return { mode: fallback, problem: 'response_mode=form_post needs an http or https redirect URI.' }
  return { mode: value as ResponseMode }
}

/** Builds a response, leaving out parameters without a value. */
export function authorizationResponse (redirectUri: string, mode: ResponseMode, values: Record<string, string | undefined>): AuthorizationResponse {
  const params: Record<string, string> = {}
  for (const [name, value] of Object.entries(values)) if (value !== undefined) params[name] = value
  return { redirectUri, mode, params }
}

/** The error parameters of RFC 6749 §4.1.2.1 / §4.2.2.1, with `state` and RFC 9207 `iss`. */
export function errorResponse (redirectUri: string, mode: ResponseMode, error: OAuthError, state: string | undefined, iss: string | undefined): AuthorizationResponse {
  // The fields of the JSON error body (lib/response.ts), as redirect parameters; the request's `state`.
  const { error: code, error_description: description, error_uri: uri } = toErrorResponse(error).body
  return authorizationResponse(redirectUri, mode, { error: code, error_description: description, error_uri: uri, state, iss })
}

/** What an error response before approval needs to know about the request (a validated redirect URI). */
export interface ErrorTarget {
  readonly redirectUri: string
  readonly responseMode: ResponseMode
  readonly state: string | undefined
  readonly iss: string | undefined
  /** An end user created the client (dynamic registration, management pages): `Application.selfRegistered`. */
  readonly selfRegistered: boolean
}

/**
 * Where an error found before the user approved goes: to the client, in the request's response
 * mode, unless an end user created the client. Anyone can register through open (or
 * initial-access-token) registration, and any user who can log in can create one on the
 * management pages, with a redirect URI of their choosing; redirecting such a client's errors
 * before any login or consent would make this server's origin an open redirector (RFC 9700
 * §4.11.2): those are shown on the error page instead. Clients the operator created (CLI, host
 * code without `selfRegistered`) keep RFC 6749 §4.1.2.1 redirects.
 * @returns the response for the client, or `null`: show the error page.
 */
export function earlyErrorResponse (request: ErrorTarget, error: OAuthError): AuthorizationResponse | null {
  if (request.selfRegistered) return null
  return errorResponse(request.redirectUri, request.responseMode, error, request.state, request.iss)
}

/** The `Location` of a `query` or `fragment` response (a `form_post` one is a page, not a redirect). */
export function responseLocation (response: AuthorizationResponse): string {
  if (response.mode === 'form_post') throw new TypeError('a form_post response has no Location')
  return appendParams(response.redirectUri, response.mode, response.params)
}

/**
 * Adds parameters to a redirect URI without re-serialising what is already there, so the
 * registered URI's bytes stay exactly as registered (RFC 6749 §3.1.2: keep its query).
 */
export function appendParams (uri: string, mode: 'query' | 'fragment', values: Record<string, string | undefined>): string {
  const encoded = new URLSearchParams()
  for (const [name, value] of Object.entries(values)) if (value !== undefined) encoded.append(name, value)
  if (mode === 'fragment') return `${uri}#${encoded.toString()}`
  const separator = !uri.includes('?') ? '?' : uri.endsWith('?') || uri.endsWith('&') ? '' : '&'
  return `${uri}${separator}${encoded.toString()}`
}
