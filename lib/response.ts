import { toErrorResponse } from './errors.js'

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

/** A JSON response that must not be cached (token, introspection, error bodies). */
export function noStoreJson (status: number, body: unknown, headers: Record<string, string> = {}): OAuthResponse {
  return { status, headers: { 'content-type': 'application/json; charset=utf-8', ...NO_STORE_HEADERS, ...headers }, body }
}

/** Turns any thrown value into an RFC 6749 JSON error response. */
export function errorToResponse (err: unknown): OAuthResponse {
  const { status, headers, body } = toErrorResponse(err)
  return { status, headers: { 'content-type': 'application/json; charset=utf-8', ...headers }, body }
}
