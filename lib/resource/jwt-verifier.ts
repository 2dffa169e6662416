import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload } from 'jose'
import { systemClock } from '../clock.js'
import { ImproperlyConfiguredError } from '../errors.js'
import { AT_JWT_TYPE } from '../tokens/jwt-access-token.js'
import { scopeList } from '../validator/scopes.js'
import { confirmationJkt } from '../dpop/resource.js'
import type { BearerResult } from './bearer.js'
import type { RemoteVerifierDeps } from './introspection.js'
import { invalidToken, unavailableError, userIdOf, type TokenVerifier } from './verifier.js'

/** How a standalone resource server verifies RFC 9068 JWT access tokens offline. */
export interface JwtVerificationOptions {
  /** The authorization server's issuer identifier, exactly as its tokens carry it in `iss`. */
  readonly issuer: string
  /** This resource server's identifier(s): a token is accepted when its `aud` names one of them (RFC 9068 §4). */
  readonly audience: string | readonly string[]
  /** The authorization server's JWKS, e.g. `https://auth.example.com/o/.well-known/jwks.json`. */
  readonly jwksUri: string
  /** Accepted signature algorithms (default `['RS256']`, the toolkit's default `accessTokenSigningAlgorithm`: name the one your server signs with, e.g. `['ES256']`; `none` and HMAC are never accepted). */
  readonly algorithms?: readonly string[]
  /** Clock skew allowed on `exp`/`iat`/`nbf`, seconds (default 0). */
  readonly clockToleranceSeconds?: number
  /** Refetch the JWKS after this many seconds (default 600). */
  readonly jwksCacheSeconds?: number
  /** An unknown `kid` triggers a refetch, at most once per this many seconds (default 30). */
  readonly jwksCooldownSeconds?: number
  /** Give up on a JWKS fetch after this many seconds (default 5). */
  readonly timeoutSeconds?: number
  /**
   * Also ask the introspection endpoint (the `introspection` option, cached the same way) so
   * that revoked tokens are refused, at the cost of a remote call per cache period. Off: a
   * revoked JWT works here until it expires.
   */
  readonly checkRevocation?: boolean
}

function optionError (message: string): never {
  throw new ImproperlyConfiguredError('OAT_ERR_OPTIONS', `fastify-oauth-toolkit: resourceServer: jwt: ${message}`)
}

function seconds (value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) optionError(`${name} must be a non-negative number`)
  return value
}

/** Errors that mean "the JWKS could not be had", not "the token is bad". */
const UNAVAILABLE_CODES = new Set(['ERR_JWKS_TIMEOUT', 'ERR_JWKS_INVALID', 'ERR_JOSE_GENERIC'])

/**
 * A `TokenVerifier` for RFC 9068 access tokens: signature from the remote JWKS (fetched,
 * cached, refetched for an unknown `kid`), `typ` at+jwt, `alg` allow-listed, `iss`, `aud`,
 * `exp`, and the required claims (§4). No call home per request.
 */
export function createJwtVerifier (options: JwtVerificationOptions, deps: RemoteVerifierDeps = {}): TokenVerifier {
  if (options === null || typeof options !== 'object') optionError('give { issuer, audience, jwksUri }')
  if (typeof options.issuer !== 'string' || options.issuer === '') optionError('issuer must be a non-empty string')
  const audience = typeof options.audience === 'string' ? [options.audience] : options.audience
  if (!Array.isArray(audience) || audience.length === 0 || !audience.every((a) => typeof a === 'string' && a !== '')) optionError('audience must be a non-empty string or array of strings')
  let jwksUrl: URL
  try {
    jwksUrl = new URL(options.jwksUri)
  } catch {
    optionError('jwksUri must be an absolute URL')
  }
  const loopback = ['127.0.0.1', '[::1]', 'localhost'].includes(jwksUrl.hostname)
  // Keys fetched over plain http could be swapped by anyone on the path.
  if (jwksUrl.protocol !== 'https:' && !(jwksUrl.protocol === 'http:' && loopback)) optionError('jwksUri must use https (http only for loopback hosts)')
  const algorithms = [...(options.algorithms ?? ['RS256'])]
  if (algorithms.length === 0 || algorithms.some((a) => typeof a !== 'string' || a === 'none' || /^HS/i.test(a))) {
    // RFC 8725 §3.1: no `none`, and no HMAC with a public key as the secret (algorithm confusion).
    optionError('algorithms must be asymmetric JWS algorithms (never none or HS*)')
  }
  const clockTolerance = seconds(options.clockToleranceSeconds, 0, 'clockToleranceSeconds')
  const jwks = createRemoteJWKSet(jwksUrl, {
    timeoutDuration: seconds(options.timeoutSeconds, 5, 'timeoutSeconds') * 1000,
    cacheMaxAge: seconds(options.jwksCacheSeconds, 600, 'jwksCacheSeconds') * 1000,
    cooldownDuration: seconds(options.jwksCooldownSeconds, 30, 'jwksCooldownSeconds') * 1000,
  })
  const clock = deps.clock ?? systemClock
  const report = deps.report ?? (() => {})

  return {
    async verify (token: string): Promise<BearerResult> {
      let payload: JWTPayload
      try {
        ({ payload } = await jwtVerify(token, jwks, {
          issuer: options.issuer,
          audience,
          algorithms,
          // RFC 9068 §4: `typ` MUST be at+jwt (jose also accepts application/at+jwt): an ID token is refused (no token-type confusion).
          typ: AT_JWT_TYPE,
          currentDate: clock.now(),
          clockTolerance,
          requiredClaims: ['iss', 'aud', 'exp', 'iat', 'sub', 'client_id', 'jti'],
        }))
      } catch (err) {
        const code = err instanceof errors.JOSEError ? err.code : null
        if (code === null || UNAVAILABLE_CODES.has(code)) {
          const reason = code ?? (err instanceof Error ? `${err.name}${err.cause instanceof Error ? ` (${(err.cause as NodeJS.ErrnoException).code ?? err.cause.name})` : ''}` : 'error')
          report({ source: 'jwks', reason: `JWKS unavailable: ${reason}` })
          return { ok: false, error: unavailableError(`JWKS unavailable: ${reason}`) }
        }
        if (code === 'ERR_JWT_EXPIRED') return invalidToken('expired JWT access token', 'The access token has expired.')
        return invalidToken(`JWT access token refused: ${code}`)
      }
      const { sub, client_id: clientId, scope, aud, exp } = payload
      if (typeof sub !== 'string' || typeof clientId !== 'string' || (scope !== undefined && typeof scope !== 'string') || typeof exp !== 'number') {
        return invalidToken('JWT access token with malformed claims')
      }
      const jkt = confirmationJkt(payload)
      if (jkt === null) return invalidToken('JWT access token with a cnf this resource server cannot check')
      return {
        ok: true,
        token: {
          id: null,
          scopes: scopeList(scope ?? ''),
          expiresAt: new Date(exp * 1000),
          userId: userIdOf(sub, clientId),
          application: null,
          resource: aud === undefined ? [] : typeof aud === 'string' ? [aud] : [...aud],
          verifiedBy: 'jwt',
          clientId,
          claims: Object.freeze({ ...payload }),
          jkt,
        },
      }
    },
  }
}

/** True when `token` has the shape of a JWS (three base64url parts): such tokens go to the JWT check, never to introspection alone. */
export function looksLikeJwt (token: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token)
}

/**
 * Chooses per token: JWTs are verified offline (then, with `checkRevocation`, also by
 * introspection); other tokens by introspection when configured, else refused.
 */
export function combineVerifiers (jwt: TokenVerifier | null, introspection: TokenVerifier | null, checkRevocation: boolean): TokenVerifier {
  return {
    async verify (token: string): Promise<BearerResult> {
      if (jwt !== null && looksLikeJwt(token)) {
        const offline = await jwt.verify(token)
        if (!offline.ok || !checkRevocation || introspection === null) return offline
        const online = await introspection.verify(token)
        return online.ok ? offline : online
      }
      if (introspection !== null) return await introspection.verify(token)
      return invalidToken('not a JWT access token, and no introspection endpoint is configured')
    },
  }
}
