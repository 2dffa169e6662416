import { InvalidTokenError, OAuthError } from '../errors.js'
import type { Settings } from '../settings.js'
import type { DpopVerifier } from '../dpop/proof.js'
import { checkBinding, extractDpopToken, requireBinding, usesDpopScheme, verifyResourceProof } from '../dpop/resource.js'
import { checkAudience } from './audience.js'
import { checkScopes, extractBearerToken, type BearerResult, type BearerSource } from './bearer.js'

/**
 * Checks one bearer token and describes it. The core plugin checks against its own store; a
 * standalone resource server against a remote authorization server (RFC 7662 introspection,
 * or RFC 9068 JWT access tokens verified offline). Verifiers fail closed: anything they cannot
 * establish is a failure, never a pass.
 */
export interface TokenVerifier {
  verify (token: string): Promise<BearerResult>
}

/** Something went wrong on the way to the authorization server (not the caller's fault); reported for logging. */
export interface RemoteVerificationProblem {
  /** `introspection` or `jwks`. */
  readonly source: 'introspection' | 'jwks'
  /** What failed, without the token, credentials or response body. */
  readonly reason: string
  /** The HTTP status the authorization server answered, if it answered. */
  readonly status?: number
}

/** Receives remote verification problems (the plugin logs them at `warn`). */
export type ReportProblem = (problem: RemoteVerificationProblem) => void

/** Seconds a client should wait before retrying after a 503. */
export const RETRY_AFTER_SECONDS = 5

/**
 * A failure that says "could not verify", as opposed to "the token is bad": 503 with
 * `Retry-After` (RFC 9110 §10.2.3), so clients retry instead of discarding a good token.
 */
export function unavailableError (detail: string): OAuthError {
  return new OAuthError('temporarily_unavailable', 503, {
    description: 'The access token could not be verified right now; try again later.',
    detail,
    headers: { 'retry-after': String(RETRY_AFTER_SECONDS) },
  })
}

/** An `invalid_token` failure with a logged-only `detail`. */
export function invalidToken (detail: string, description?: string): BearerResult {
  return { ok: false, error: new InvalidTokenError({ detail, ...(description === undefined ? {} : { description }) }) }
}

/** DPoP at a standalone resource server: the proof verifier and this server's configured origin. */
export interface ResourceDpop {
  readonly verifier: DpopVerifier
  /** The resource server's public origin (`https://api.example.com`): proofs' `htu` must name it. */
  readonly origin: string
  /** Only DPoP-bound tokens pass (an unbound one is refused whatever its scheme). */
  readonly required: boolean
}

/**
 * The bearer check of a standalone resource server: extracts the token as the core does (header,
 * query only where allowed; the `DPoP` scheme with its proof when `dpop` is given), verifies it
 * with `verifier`, checks its key binding (RFC 9449 §7), then scopes.
 */
export async function authenticateWith (settings: Settings, verifier: TokenVerifier, source: BearerSource, required: readonly string[], resource: string | null = null, dpop: ResourceDpop | null = null): Promise<BearerResult> {
  const dpopScheme = dpop !== null && usesDpopScheme(source.authorization)
  const token = dpopScheme ? extractDpopToken(source) : extractBearerToken({ settings }, source)
  if (typeof token !== 'string') return { ok: false, error: token }
  const result = await verifier.verify(token)
  if (!result.ok) return result
  const jkt = dpop !== null && dpopScheme ? await verifyResourceProof(dpop.verifier, dpop.origin, source, token) : ''
  if (typeof jkt !== 'string') return { ok: false, error: jkt }
  const bindingError = checkBinding(result.token.jkt, jkt) ?? requireBinding(dpop?.required ?? false, result.token.jkt)
  if (bindingError !== null) return { ok: false, error: bindingError }
  // RFC 8707 as on the AS; a JWT's `aud` was already checked against `jwt.audience`, so a route
  // without a declared resource does not refuse it for carrying one.
  const audienceError = result.token.verifiedBy === 'jwt' && resource === null ? null : checkAudience(settings, result.token, resource)
  if (audienceError !== null) return { ok: false, error: audienceError }
  const scopeError = checkScopes(result.token, required)
  return scopeError === null ? result : { ok: false, error: scopeError }
}

/** `sub` names the resource owner, except where it names the client itself (RFC 9068 §2.2, client credentials). */
export function userIdOf (sub: string | undefined, clientId: string | undefined): string | null {
  if (sub === undefined || sub === '') return null
  return sub === clientId ? null : sub
}
