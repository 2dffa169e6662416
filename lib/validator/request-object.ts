import { decodeProtectedHeader, errors as joseErrors, UnsecuredJWT, type JWTPayload } from 'jose'
import { nowMs } from '../clock.js'
import type { ServerContext } from '../context.js'
import { InvalidRequestObjectError } from '../errors.js'
import type { Settings } from '../settings.js'
import type { Application } from '../store/types.js'
import { HMAC_JWS_ALGORITHMS, isHmacAlgorithm } from '../tokens/jws-algorithms.js'
import { verifyClientJws } from './client-jws.js'

// Request objects (RFC 9101, OIDC Core §6.1): the authorization request's parameters as claims
// of a JWT the client signed, with the keys it registered for JWT client authentication (its
// `jwks` / `jwks_uri`), or with its client secret (HS256/384/512) where that secret is kept
// sealed, as `client_secret_jwt` needs. An unsigned object (`alg: none`) is refused unless the
// `allowUnsignedRequestObjects` setting says otherwise. Every refusal is `invalid_request_object`
// (§6.3) with the reason logged only.

/** Longest `request` value read: a request object is a few hundred bytes; this leaves room for many claims. */
export const MAX_REQUEST_OBJECT_LENGTH = 32768

/** `typ` values a request object may carry: none, `JWT`, or RFC 9101 §10.8's explicit type. */
const ACCEPTED_TYPES = new Set(['jwt', 'oauth-authz-req+jwt', 'application/oauth-authz-req+jwt'])
/** JWT claims that describe the object itself (RFC 7519 §4.1), not authorization parameters. */
const OBJECT_CLAIMS = new Set(['iss', 'aud', 'exp', 'iat', 'nbf', 'jti', 'sub'])
/**
 * Claims that may not appear inside an object: another object or a reference (RFC 9101 §4
 * forbids nesting them) and the toolkit's own `login_after` marker (only its login round trip sets it).
 */
const FORBIDDEN_CLAIMS = new Set(['request', 'request_uri', 'login_after'])
const MAX_JTI_LENGTH = 256

/** The authorization request an object carries, as the authorization endpoint reads parameters. */
export interface RequestObjectParameters {
  /** Every parameter, as strings; `client_id` is the requesting client's. */
  readonly params: Record<string, string>
  /** RFC 8707 `resource` values (a string or an array in the object). */
  readonly resources: readonly string[]
}

function refuse (detail: string): InvalidRequestObjectError {
  return new InvalidRequestObjectError({ detail: `request object: ${detail}` })
}

/** Whether `application`'s authorization requests must come as signed request objects (the setting, or the client's own `requireSignedRequestObject`). */
export function signedRequestObjectRequired (ctx: ServerContext, application: Application): boolean {
  return ctx.settings.requireSignedRequestObject || application.requireSignedRequestObject
}

/**
 * The `alg` values this server verifies on request objects (discovery's
 * `request_object_signing_alg_values_supported`): the asymmetric algorithms of
 * `clientAssertionSigningAlgorithms`, HS256/384/512 when client secrets can be kept sealed
 * (`sealedSecrets`: a `clientSecretSealingKey` is configured), and `none` only with `allowUnsignedRequestObjects`.
 */
export function requestObjectAlgorithms (settings: Pick<Settings, 'clientAssertionSigningAlgorithms' | 'allowUnsignedRequestObjects'>, sealedSecrets: boolean): string[] {
  return [
    ...settings.clientAssertionSigningAlgorithms,
    ...(sealedSecrets ? HMAC_JWS_ALGORITHMS : []),
    ...(settings.allowUnsignedRequestObjects ? ['none'] : []),
  ]
}

/** Which algorithm the object may use, given the server's list and what the client registered; throws otherwise. */
function checkAlgorithm (ctx: ServerContext, application: Application, alg: unknown): string {
  if (typeof alg !== 'string') throw refuse('no alg')
  if (application.requestObjectSigningAlg !== '' && application.requestObjectSigningAlg !== alg) {
    throw refuse(`client registered request_object_signing_alg ${application.requestObjectSigningAlg}, object used ${alg}`)
  }
  if (alg === 'none') {
    // RFC 9101 §10.2: an unsigned object proves nothing; accepted only where the operator allowed it.
    if (!ctx.settings.allowUnsignedRequestObjects) throw refuse('unsigned (alg none) objects are not accepted')
    if (signedRequestObjectRequired(ctx, application)) throw refuse('unsigned object from a client that must sign them')
    return alg
  }
  if (isHmacAlgorithm(alg) || ctx.settings.clientAssertionSigningAlgorithms.includes(alg)) return alg
  throw refuse(`algorithm ${alg} is not accepted`)
}

/** The payload of an object, its signature (if any) verified; `exp` required, `nbf`/`exp` checked with the skew. */
async function verifiedPayload (ctx: ServerContext, application: Application, jwt: string, alg: string): Promise<JWTPayload> {
  const options = {
    currentDate: ctx.clock.now(),
    clockTolerance: ctx.settings.clientAssertionClockSkewSeconds,
    requiredClaims: ['exp'],
  }
  if (alg !== 'none') return await verifyClientJws(ctx, application, jwt, alg, options, refuse)
  try {
    return UnsecuredJWT.decode(jwt, options).payload
  } catch (err) {
    if (err instanceof joseErrors.JOSEError) throw refuse(`${err.code}: ${err.message}`)
    throw err
  }
}

/** RFC 9101 §4: `aud` is this server's issuer identifier, as the value or one of the values. */
function audienceIncludes (aud: unknown, issuer: string): boolean {
  if (typeof aud === 'string') return aud === issuer
  return Array.isArray(aud) && aud.includes(issuer)
}

/** The claims checked after the signature: who sent it, to whom, for how long. */
function checkClaims (ctx: ServerContext, application: Application, payload: JWTPayload, alg: string, issuer: string): void {
  // RFC 9101 §5: the client_id outside must be the object's; §4: a signed object names its client as `iss`.
  if (payload.client_id !== application.clientId) throw refuse('client_id missing or not the requesting client')
  if (payload.iss !== undefined || alg !== 'none') {
    if (payload.iss !== application.clientId) throw refuse('iss missing or not the requesting client')
  }
  if (!audienceIncludes(payload.aud, issuer)) throw refuse('aud is not this server\'s issuer identifier')
  const now = Math.floor(nowMs(ctx.clock) / 1000)
  const skew = ctx.settings.clientAssertionClockSkewSeconds
  const max = ctx.settings.requestObjectMaxLifetimeSeconds
  const exp = payload.exp as number
  if (exp - now > max + skew) throw refuse(`exp is more than ${max} s ahead`)
  if (payload.iat !== undefined) {
    if (payload.iat > now + skew) throw refuse('iat is in the future')
    if (exp - payload.iat > max + skew) throw refuse(`lives longer than ${max} s`)
  }
}

/** The authorization parameters of a verified payload: strings as they are, `max_age` as a number, `resource` as a string or array. */
function parametersOf (application: Application, payload: JWTPayload): RequestObjectParameters {
  const params: Record<string, string> = Object.create(null) as Record<string, string>
  let resources: string[] = []
  for (const [name, value] of Object.entries(payload)) {
    if (OBJECT_CLAIMS.has(name)) continue
    if (FORBIDDEN_CLAIMS.has(name)) throw refuse(`${name} inside a request object`)
    if (name === 'resource') {
      if (typeof value === 'string') resources = [value]
      else if (Array.isArray(value) && value.every((r) => typeof r === 'string')) resources = value as string[]
      else throw refuse('resource must be a string or an array of strings')
      continue
    }
    // OIDC Core §5.5: the claims request parameter (an object) is not supported; ignored, as a
    // parameter this server does not know would be (RFC 6749 §3.1).
    if (name === 'claims') continue
    if (typeof value === 'string') params[name] = value
    // OIDC Core §6.1: numeric parameters such as max_age are JSON numbers in the object.
    else if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) params[name] = String(value)
    else throw refuse(`claim ${name} must be a string`)
  }
  params.client_id = application.clientId
  return { params, resources }
}

/**
 * Verifies the request object `jwt` that `application` sent (RFC 9101 §6): algorithm allowed
 * for the server and the client, signature with the client's keys, `client_id` and `iss` the
 * client's, `aud` this server's issuer identifier, `exp` present and at most
 * `requestObjectMaxLifetimeSeconds` ahead, `iat`/`nbf` not in the future; a `jti` is used once
 * (across instances: the store keeps it until the object expires).
 * @param issuer this server's issuer identifier for the request (the `aud` required); `null` refuses every object.
 * @returns the parameters the object carries; only these count (§6.3), besides `client_id`.
 * @throws InvalidRequestObjectError with the reason in `detail` only.
 */
export async function verifyRequestObject (ctx: ServerContext, application: Application, jwt: string, issuer: string | null): Promise<RequestObjectParameters> {
  if (jwt.length > MAX_REQUEST_OBJECT_LENGTH) throw refuse(`longer than ${MAX_REQUEST_OBJECT_LENGTH} characters`)
  let header: ReturnType<typeof decodeProtectedHeader>
  try {
    header = decodeProtectedHeader(jwt)
  } catch {
    throw refuse('not a JWT')
  }
  // A JWE (five parts) is not decrypted here: request objects are signed, not encrypted.
  if (jwt.split('.').length !== 3) throw refuse('not a JWS')
  const alg = checkAlgorithm(ctx, application, header.alg)
  // A non-string `typ` is refused like a foreign one (it would otherwise be a TypeError, a 500).
  const typ: unknown = header.typ
  if (typ !== undefined && (typeof typ !== 'string' || !ACCEPTED_TYPES.has(typ.toLowerCase()))) throw refuse(`typ ${String(typ)} is not a request object's`)
  if (header.crit !== undefined) throw refuse('crit header parameters are not supported')
  if (issuer === null) throw refuse('no issuer identifier to check aud against (set the issuer setting)')

  const payload = await verifiedPayload(ctx, application, jwt, alg)
  checkClaims(ctx, application, payload, alg, issuer)
  const parameters = parametersOf(application, payload)
  const { jti } = payload
  if (jti !== undefined) {
    if (typeof jti !== 'string' || jti === '' || jti.length > MAX_JTI_LENGTH) throw refuse('jti empty, not a string or too long')
    // RFC 9101 §10.1 (replay): the object is used once, until it would have expired anyway.
    const expiresAt = new Date(((payload.exp as number) + ctx.settings.clientAssertionClockSkewSeconds) * 1000)
    if (!await ctx.store.useOnce('request_object', `${application.clientId} ${jti}`, expiresAt, ctx.clock.now())) throw refuse('jti was already used')
  }
  return parameters
}
