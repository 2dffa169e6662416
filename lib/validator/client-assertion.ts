import { decodeJwt, decodeProtectedHeader, type JWTPayload } from 'jose'
import { nowMs } from '../clock.js'
import type { ServerContext } from '../context.js'
import { InvalidClientError } from '../errors.js'
import type { Application } from '../store/types.js'
import { isAsymmetricAlgorithm, isHmacAlgorithm } from '../tokens/jws-algorithms.js'
import { verifyClientJws } from './client-jws.js'

// JWT client authentication (RFC 7523 §2.2, §3; OpenID Connect Core §9): the client proves who
// it is with a JWT it signed, `private_key_jwt` with its own key (published as `jwks` or
// `jwks_uri`), or `client_secret_jwt` MACed with its client secret. The audience follows the
// update to RFC 7523 (draft-ietf-oauth-rfc7523bis): this server's issuer identifier, as the sole
// value; the token endpoint URL only behind `clientAssertionLegacyAudience`.

/** RFC 7523 §2.2: the only `client_assertion_type` this server understands. */
export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'

/** The JWT client authentication methods (OIDC Core §9 names). */
export type JwtAuthMethod = 'private_key_jwt' | 'client_secret_jwt'

/**
 * `typ` values an assertion may carry: none, the generic `JWT`, or the explicit type of the
 * RFC 7523 update. Any other declares another kind of JWT (an access token, a DPoP proof, a
 * logout token), which must not pass for a client assertion.
 */
const ACCEPTED_TYPES = new Set(['jwt', 'client-authentication+jwt', 'application/client-authentication+jwt'])
const MAX_JTI_LENGTH = 256

function refuse (detail: string): InvalidClientError {
  return new InvalidClientError({ detail: `client assertion: ${detail}` })
}

/**
 * The client an assertion names, read before any verification only to find the client whose
 * keys verify it: `sub` (RFC 7523 §3: `iss` and `sub` are both the client id; both are checked
 * once the signature is).
 */
export function assertionClientId (assertion: string): string {
  let payload: JWTPayload
  try {
    payload = decodeJwt(assertion)
  } catch {
    throw refuse('not a JWT')
  }
  if (typeof payload.sub !== 'string' || payload.sub === '') throw refuse('no sub')
  return payload.sub
}

/**
 * The client id an assertion claims (its `sub`), unverified, or `undefined`: for keying rate
 * limits by the client a request names, as a Basic header or `client_id` does.
 */
export function claimedClientId (assertion: string | undefined): string | undefined {
  if (assertion === undefined) return undefined
  try {
    return assertionClientId(assertion)
  } catch {
    return undefined
  }
}

/** The method an algorithm implies: HMAC is `client_secret_jwt`, the asymmetric ones `private_key_jwt`. */
function methodOf (alg: unknown): JwtAuthMethod {
  if (typeof alg === 'string' && isHmacAlgorithm(alg)) return 'client_secret_jwt'
  if (typeof alg === 'string' && isAsymmetricAlgorithm(alg)) return 'private_key_jwt'
  throw refuse(`algorithm ${String(alg)} is not accepted`)
}

/**
 * RFC 7523 update: `aud` is the issuer identifier, as a string or a one-member array. With
 * `legacy`, the token endpoint URL is accepted too, and the issuer among other values.
 */
export function audienceAccepted (aud: unknown, issuer: string, legacy: boolean): boolean {
  const list = typeof aud === 'string' ? [aud] : Array.isArray(aud) && aud.every((a) => typeof a === 'string') ? aud as string[] : []
  if (list.length === 1 && list[0] === issuer) return true
  if (!legacy) return false
  const tokenEndpoint = `${issuer}/token/`
  return list.some((a) => a === issuer || a === tokenEndpoint || a === tokenEndpoint.slice(0, -1))
}

async function verifySignature (ctx: ServerContext, application: Application, assertion: string, alg: string): Promise<JWTPayload> {
  const { settings } = ctx
  return await verifyClientJws(ctx, application, assertion, alg, {
    issuer: application.clientId,
    subject: application.clientId,
    currentDate: ctx.clock.now(),
    clockTolerance: settings.clientAssertionClockSkewSeconds,
    requiredClaims: ['exp', 'jti'],
  }, refuse)
}

/**
 * Verifies a client assertion for `application` (whose id the assertion's `sub` named) and
 * uses up its `jti`; resolves the method it authenticated with. Every failure is 401
 * `invalid_client` with the reason in `detail` only.
 * @param issuer this server's issuer identifier for the request (the `aud` required).
 */
export async function verifyClientAssertion (ctx: ServerContext, application: Application, assertion: string, issuer: string | null): Promise<JwtAuthMethod> {
  const { settings } = ctx
  let header: ReturnType<typeof decodeProtectedHeader>
  try {
    header = decodeProtectedHeader(assertion)
  } catch {
    throw refuse('not a JWS')
  }
  const method = methodOf(header.alg)
  const alg = header.alg as string
  if (!settings.clientAuthMethods.includes(method)) throw refuse(`${method} is not accepted here (clientAuthMethods)`)
  // A non-string `typ` is refused like a foreign one (it would otherwise be a TypeError, a 500).
  const typ: unknown = header.typ
  if (typ !== undefined && (typeof typ !== 'string' || !ACCEPTED_TYPES.has(typ.toLowerCase()))) throw refuse(`typ ${String(typ)} is not a client assertion's`)
  if (header.crit !== undefined) throw refuse('crit header parameters are not supported')
  // A registered method is the only one (RFC 7591 §2), before any key work.
  if (application.tokenEndpointAuthMethod !== '' && application.tokenEndpointAuthMethod !== method) {
    throw refuse(`client registered for ${application.tokenEndpointAuthMethod} used ${method}`)
  }
  if (method === 'private_key_jwt' && !settings.clientAssertionSigningAlgorithms.includes(alg)) throw refuse(`algorithm ${alg} is not enabled`)
  if (application.tokenEndpointAuthSigningAlg !== '' && application.tokenEndpointAuthSigningAlg !== alg) {
    throw refuse(`client registered token_endpoint_auth_signing_alg ${application.tokenEndpointAuthSigningAlg}, assertion used ${alg}`)
  }
  if (issuer === null) throw refuse('no issuer identifier to check aud against (set the issuer setting)')

  const payload = await verifySignature(ctx, application, assertion, alg)
  if (!audienceAccepted(payload.aud, issuer, settings.clientAssertionLegacyAudience)) throw refuse('aud is not this server\'s issuer identifier')
  const now = Math.floor(nowMs(ctx.clock) / 1000)
  const skew = settings.clientAssertionClockSkewSeconds
  const max = settings.clientAssertionMaxLifetimeSeconds
  const exp = payload.exp as number
  if (exp - now > max + skew) throw refuse(`exp is more than ${max} s ahead`)
  if (payload.iat !== undefined) {
    if (payload.iat > now + skew) throw refuse('iat is in the future')
    if (exp - payload.iat > max + skew) throw refuse(`lives longer than ${max} s`)
  }
  const jti = payload.jti
  if (typeof jti !== 'string' || jti === '' || jti.length > MAX_JTI_LENGTH) throw refuse('jti missing or too long')
  // RFC 7523 §3 item 7: single use, until the assertion would have expired anyway; the store
  // makes it hold across instances.
  const fresh = await ctx.store.useOnce('client_assertion', `${application.clientId} ${jti}`, new Date((exp + skew) * 1000), ctx.clock.now())
  if (!fresh) throw refuse('jti was already used')
  return method
}
