import { createLocalJWKSet, errors as joseErrors, jwtVerify, type JSONWebKeySet, type JWTPayload, type JWTVerifyOptions } from 'jose'
import { nowMs } from '../clock.js'
import type { ServerContext } from '../context.js'
import { OAuthError } from '../errors.js'
import type { Application } from '../store/types.js'
import { isHmacAlgorithm } from '../tokens/jws-algorithms.js'
import { parseJwks } from './client-jwks.js'

// Verifying a JWS a client signed, with the keys the client registered: its `jwks`, else its
// `jwks_uri` document (through the process's cache, refetched once, rate limited, for an unknown
// `kid`), or for the HMAC algorithms its client secret, kept sealed. Client assertions (RFC
// 7523) and request objects (RFC 9101) both verify here; each caller decides which algorithms
// it accepts and turns a refusal into its own error.

/** Turns the reason a JWS is refused (logged only) into the caller's protocol error. */
export type Refuse = (detail: string) => OAuthError

/** The keys of a client that signs with its own keys: its `jwks`, else its `jwks_uri` document (`null`: refetched too recently). */
async function clientKeys (ctx: ServerContext, application: Application, refetch: boolean, refuse: Refuse): Promise<JSONWebKeySet | null> {
  if (application.jwks !== '') {
    try {
      return parseJwks(application.jwks)
    } catch (err) {
      throw refuse(`registered jwks ${(err as Error).message}`)
    }
  }
  if (application.jwksUri === '') throw refuse('the client has no jwks or jwks_uri')
  const cache = ctx.jwksUriCache ?? null
  if (cache == null) throw refuse('jwks_uri cannot be fetched (no outbound client)')
  try {
    return refetch ? await cache.refresh(application.jwksUri, nowMs(ctx.clock)) : await cache.get(application.jwksUri, nowMs(ctx.clock))
  } catch (err) {
    throw refuse((err as Error).message)
  }
}

/** The HMAC key of a client: its secret, kept sealed (the stored hash is no key). */
function secretKey (ctx: ServerContext, application: Application, alg: string, refuse: Refuse): Uint8Array {
  if (application.clientSecretSealed === '' || ctx.secretSealer == null) throw refuse(`the client has no sealed secret to key ${alg}`)
  const secret = ctx.secretSealer.open(application.clientId, application.clientSecretSealed)
  if (secret === null) throw refuse('the sealed secret does not open')
  const key = new TextEncoder().encode(secret)
  // RFC 7518 §3.2: the key is at least as long as the hash output.
  if (key.length * 8 < Number(alg.slice(2))) throw refuse(`the client secret is too short for ${alg}`)
  return key
}

/**
 * jose's verdicts as a logged detail. WebCrypto's and jose's own refusals of a key (a
 * `DOMException`, a `TypeError`) are the client's key at fault, not a bug: the key sets are
 * checked when registered and fetched, but a refusal here must still be a 4xx, never a 500.
 */
function joseDetail (err: unknown, refuse: Refuse): OAuthError {
  if (err instanceof OAuthError) return err
  if (err instanceof joseErrors.JOSEError) return refuse(`${err.code}: ${err.message}`)
  if (err instanceof TypeError || (typeof DOMException !== 'undefined' && err instanceof DOMException)) return refuse(`unusable key: ${err.message}`)
  throw err
}

/**
 * Verifies `jwt`, signed with `alg` (already checked against what the caller accepts), with the
 * client's keys, and its claims by `options` (whose `algorithms` this sets to `[alg]`).
 * @returns the verified payload; a refusal is thrown as `refuse(detail)`.
 */
export async function verifyClientJws (ctx: ServerContext, application: Application, jwt: string, alg: string,
  options: Omit<JWTVerifyOptions, 'algorithms'>, refuse: Refuse): Promise<JWTPayload> {
  const verify = { ...options, algorithms: [alg] }
  if (isHmacAlgorithm(alg)) {
    try {
      return (await jwtVerify(jwt, secretKey(ctx, application, alg, refuse), verify)).payload
    } catch (err) {
      throw joseDetail(err, refuse)
    }
  }
  const keys = await clientKeys(ctx, application, false, refuse)
  try {
    return (await jwtVerify(jwt, createLocalJWKSet(keys ?? { keys: [] }), verify)).payload
  } catch (err) {
    // An unknown key in a `jwks_uri` document: the client may have rotated; fetch once more (rate limited).
    if (!(err instanceof joseErrors.JWKSNoMatchingKey) || application.jwks !== '') throw joseDetail(err, refuse)
  }
  const fresh = await clientKeys(ctx, application, true, refuse)
  if (fresh === null) throw refuse('no key matches, and jwks_uri was fetched too recently to fetch again')
  try {
    return (await jwtVerify(jwt, createLocalJWKSet(fresh), verify)).payload
  } catch (err) {
    throw joseDetail(err, refuse)
  }
}
