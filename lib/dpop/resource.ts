import { InvalidDpopProofError, InvalidRequestError, InvalidTokenError, type OAuthError } from '../errors.js'
import type { DpopVerifier } from './proof.js'
import { requestUrl } from './proof.js'

// DPoP at a protected resource (RFC 9449 §7): the `DPoP` authorization scheme, the proof that
// must come with it, and the key binding of the token. Shared by the core's bearer check, UserInfo
// and the standalone resource server, so every place a token is checked applies the same rules.

/** What a resource needs to check a DPoP presentation beyond the token itself. */
export interface DpopPresentation {
  readonly authorization: string | undefined
  /** The `DPoP` header(s) as received. */
  readonly dpop?: string | readonly string[] | undefined
  /** `access_token` from the query string, if any (never allowed with DPoP). */
  readonly queryToken?: string | undefined
  /** The request's method (`htm`). */
  readonly method?: string
  /** The request target (path and query) as received; the URL is built from the configured origin and its path. */
  readonly target?: string
}

// RFC 9449 §7.1: token68, as for Bearer (RFC 6750 §2.1).
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/

/**
 * Whether the request presents its token with the `DPoP` scheme. The first character is tested
 * before anything else, so a `Bearer` header pays one comparison.
 */
export function usesDpopScheme (authorization: string | undefined): boolean {
  if (authorization === undefined || authorization.length < 4) return false
  const first = authorization.charCodeAt(0)
  return (first === 0x44 || first === 0x64) && /^dpop(?: |$)/i.test(authorization)
}

/** The access token of a `DPoP <token>` header; an `OAuthError` when malformed or also sent another way. */
export function extractDpopToken (source: DpopPresentation): string | OAuthError {
  const token = (source.authorization ?? '').slice(4).trim()
  if (!TOKEN68.test(token)) return new InvalidRequestError({ description: 'The DPoP access token is malformed.' })
  // RFC 6750 §2 as for bearer tokens: one method only, and DPoP tokens only in the header (RFC 9449 §7.1).
  if (source.queryToken !== undefined) return new InvalidRequestError({ description: 'Send the access token by one method only.' })
  return token
}

/**
 * Checks the proof sent with a `DPoP` token at a resource (§7.1: `htm`, `htu`, `ath`, replay,
 * nonce) and returns its key thumbprint, or the refusal. `origin` is the resource's configured
 * origin (its URL never comes from the `Host` header).
 */
export async function verifyResourceProof (verifier: DpopVerifier, origin: string, source: DpopPresentation, token: string): Promise<string | OAuthError> {
  const url = requestUrl(origin, source.target ?? '')
  if (url === null) return new InvalidDpopProofError({ detail: 'request target is not a path' })
  try {
    return (await verifier.verify({ proof: source.dpop, method: source.method ?? '', url, accessToken: token })).jkt
  } catch (err) {
    if (err instanceof InvalidDpopProofError || (err as OAuthError).error === 'use_dpop_nonce') return err as OAuthError
    throw err
  }
}

/**
 * RFC 9449 §7.1, §7.2: the token's binding must match how it was presented. A bound token needs
 * the `DPoP` scheme and a proof of its key (`jkt` of the proof); a bearer token (`bound` empty)
 * presented with the `DPoP` scheme is refused too, since its holder proves nothing with the key.
 * @param bound the token's `cnf.jkt` (`''` or absent: a bearer token).
 * @param presented the proof's key thumbprint, `''` for a Bearer presentation.
 */
export function checkBinding (bound: string | undefined, presented: string): OAuthError | null {
  const jkt = bound ?? ''
  if (jkt === presented) return null
  if (presented === '') return new InvalidTokenError({ description: 'The access token is bound to a DPoP key; present it with the DPoP scheme.', detail: 'DPoP-bound token presented as a bearer token' })
  if (jkt === '') return new InvalidTokenError({ description: 'The access token is not DPoP-bound; present it with the Bearer scheme.', detail: 'bearer token presented with the DPoP scheme' })
  return new InvalidTokenError({ detail: 'DPoP proof key differs from the token\'s cnf.jkt' })
}

/**
 * `dpopRequired`: a token of this server that is not DPoP-bound (issued before the setting, or
 * by a path that binds nothing) is refused wherever it is presented, so only sender-constrained
 * tokens reach a resource (FAPI 2.0 §5.3.2.1 item 4). `null` when the token may pass.
 */
export function requireBinding (dpopRequired: boolean, bound: string | undefined): OAuthError | null {
  if (!dpopRequired || (bound ?? '') !== '') return null
  return new InvalidTokenError({ description: 'This server accepts DPoP-bound access tokens only.', detail: 'unbound access token while dpopRequired' })
}

/**
 * The DPoP key a remote token is bound to, from its introspection response or JWT claims
 * (`cnf.jkt`, RFC 9449 §6): `''` for a bearer token, `null` for a confirmation this resource
 * cannot check (another method, such as mTLS's `x5t#S256`, or a malformed one), which fails closed.
 */
export function confirmationJkt (claims: Readonly<Record<string, unknown>>): string | null {
  const cnf = claims.cnf
  if (cnf === undefined) return ''
  if (cnf === null || typeof cnf !== 'object' || Array.isArray(cnf)) return null
  const jkt = (cnf as Record<string, unknown>).jkt
  return typeof jkt === 'string' && /^[A-Za-z0-9_-]{43}$/.test(jkt) ? jkt : null
}
