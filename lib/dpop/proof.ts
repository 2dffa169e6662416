import { createHash, createHmac, timingSafeEqual } from 'node:crypto'
import { calculateJwkThumbprint, decodeProtectedHeader, importJWK, jwtVerify, type CryptoKey, type JWK } from 'jose'
import { nowMs, type Clock } from '../clock.js'
import { InvalidDpopProofError, UseDpopNonceError } from '../errors.js'
import { ASYMMETRIC_JWS_ALGORITHMS } from '../tokens/jws-algorithms.js'

// RFC 9449 (DPoP) proof checking, framework-agnostic: the token endpoint, the protected-resource
// guard, UserInfo and the standalone resource server all verify proofs through `createDpopVerifier`.
// A proof is checked in the order of §4.3; the one write (the `jti` replay record) comes last, so
// a forged or stale proof costs no row.

/** Every JWS algorithm a DPoP proof may be signed with here: asymmetric only (§4.3 step 5: never `none`, never a MAC). */
export const DPOP_SUPPORTED_ALGORITHMS: readonly string[] = ASYMMETRIC_JWS_ALGORITHMS

/** The default allow-list (`dpopSigningAlgValues`): what oauth4webapi, openid-client and browsers' WebCrypto sign with. */
export const DEFAULT_DPOP_ALGORITHMS: readonly string[] = Object.freeze(['ES256', 'ES384', 'ES512', 'PS256', 'RS256', 'EdDSA'])

/** Private-key members of a JWK (RFC 7518 §6.2.2, §6.3.2; RFC 8037 §2) and the symmetric `k`: a proof's `jwk` carries none. */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k']

/** A compact JWS: three base64url parts. Anything else (two headers joined by `,`, spaces) is not one proof. */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/

/** Longest proof accepted, characters: an RSA-4096 `jwk`, a long `htu` and the claims fit well below. */
const MAX_PROOF_LENGTH = 8192

/** Public keys (imported, with their thumbprints) kept per verifier: a client signs every proof with the same key. */
const KEY_CACHE_SIZE = 1000

/** The public members of each key type (RFC 7518 §6.2.1, §6.3.1; RFC 8037 §2): all a proof's key is made of. */
const PUBLIC_MEMBERS: Readonly<Record<string, readonly string[]>> = { EC: ['crv', 'x', 'y'], RSA: ['n', 'e'], OKP: ['crv', 'x'] }

/** How long a server nonce stays good (RFC 9449 §8): this window and the one before (and after, for instances whose clocks differ a little). */
export const DPOP_NONCE_WINDOW_SECONDS = 300

/** What the verifier needs; built once per server (or resource server). */
export interface DpopVerifierOptions {
  /** Accepted `alg` values, a subset of `DPOP_SUPPORTED_ALGORITHMS`. */
  readonly algorithms: readonly string[]
  /** A proof's `iat` may be at most this many seconds away from now, either way (§4.3 step 11). */
  readonly maxAgeSeconds: number
  /** Server nonces (§8, §9): the key they are MACed with, or `null` for no nonces. */
  readonly nonceKey: Uint8Array | null
  readonly clock: Clock
  /**
   * Records `key` until `expiresAt`; true the first time, false on a replay. Backed by the store
   * (`store.useOnce('dpop', …)`), so a proof replayed to another instance is refused too.
   */
  readonly useOnce: (key: string, expiresAt: Date) => Promise<boolean>
}

/** One request's proof, as the server sees the request. */
export interface DpopProofRequest {
  /** The `DPoP` header: `undefined` when absent, a list when the request repeated it. */
  readonly proof: string | readonly string[] | undefined
  /** The request's method (`htm`). */
  readonly method: string
  /** The request's URL from the server's own origin and the request's path (`htu`); never from the `Host` header. */
  readonly url: string
  /** At a protected resource: the access token the proof must be bound to (`ath`, §4.3 step 12). */
  readonly accessToken?: string
}

/** A proof that passed every check. */
export interface VerifiedDpopProof {
  /** The JWK SHA-256 thumbprint of the proof's key (RFC 7638), base64url: what tokens are bound to (`cnf.jkt`). */
  readonly jkt: string
}

/** Verifies DPoP proofs (RFC 9449 §4.3) and hands out server nonces. */
export interface DpopVerifier {
  readonly algorithms: readonly string[]
  /** Whether proofs must carry a server nonce. */
  readonly nonceRequired: boolean
  /** The nonce to send in `DPoP-Nonce` now, or `null` without nonces. */
  nonce (): string | null
  /** The proof's key thumbprint; throws `InvalidDpopProofError` or `UseDpopNonceError`. */
  verify (request: DpopProofRequest): Promise<VerifiedDpopProof>
}

/** `htu` as RFC 9449 §4.3 step 9 compares it: scheme, host, port and path after WHATWG normalisation; no query or fragment. `null` if not an http(s) URL. */
export function normalizeHtu (value: string): string | null {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return null
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return null
  return `${url.protocol}//${url.host}${url.pathname}`
}

/**
 * The URL of a request as this server names it: `origin` (from configuration: the issuer, or a
 * resource server's declared origin) and the request target's path. The `Host` header, which the
 * client writes, plays no part, so a proof made for another server cannot be replayed here.
 * `null` when the request target is not a path.
 */
export function requestUrl (origin: string, target: string): string | null {
  if (!target.startsWith('/')) return null
  const query = target.indexOf('?')
  // Concatenated, not resolved against `origin`: a target of `//evil.example/x` stays a path here.
  return normalizeHtu(origin + (query === -1 ? target : target.slice(0, query)))
}

/** base64url(SHA-256(access token)): the `ath` claim (§4.2). */
export function accessTokenHash (token: string): string {
  return createHash('sha256').update(token, 'ascii').digest('base64url')
}

function invalid (detail: string): InvalidDpopProofError {
  return new InvalidDpopProofError({ detail })
}

/** Builds a verifier; `options` were validated with the settings. */
export function createDpopVerifier (options: DpopVerifierOptions): DpopVerifier {
  const { algorithms, maxAgeSeconds, nonceKey, clock, useOnce } = options
  const allowed = new Set(algorithms)
  // Importing a JWK and hashing its thumbprint cost more than the signature check itself; a client
  // reuses its key, so both are kept, keyed by the algorithm and every public member (oldest out first).
  const keys = new Map<string, { readonly key: CryptoKey, readonly jkt: string }>()

  /** The proof's public key, imported for `alg`, and its RFC 7638 thumbprint; throws on a key that is not one. */
  async function publicKeyOf (alg: string, jwk: Record<string, unknown>): Promise<{ readonly key: CryptoKey, readonly jkt: string }> {
    const members = typeof jwk.kty === 'string' && Object.hasOwn(PUBLIC_MEMBERS, jwk.kty) ? PUBLIC_MEMBERS[jwk.kty] ?? [] : null
    if (members === null || !members.every((m) => typeof jwk[m] === 'string')) throw invalid('DPoP proof jwk is not an EC, RSA or OKP public key')
    // As jose's EmbeddedJWK: a key that names another use or algorithm is not this proof's key.
    if (jwk.use !== undefined && jwk.use !== 'sig') throw invalid('DPoP proof jwk is not a signing key')
    if (jwk.alg !== undefined && jwk.alg !== alg) throw invalid('DPoP proof jwk is for another alg')
    const publicJwk: JWK = { kty: jwk.kty as string }
    for (const m of members) (publicJwk as Record<string, unknown>)[m] = jwk[m]
    const id = `${alg} ${JSON.stringify(publicJwk)}`
    const cached = keys.get(id)
    if (cached !== undefined) return cached
    let key: CryptoKey | Uint8Array
    try {
      key = await importJWK(publicJwk, alg)
    } catch {
      throw invalid('DPoP proof jwk does not import for its alg')
    }
    if (key instanceof Uint8Array || key.type !== 'public') throw invalid('DPoP proof jwk is not a public key')
    const entry = { key, jkt: await calculateJwkThumbprint(publicJwk, 'sha256') }
    if (keys.size >= KEY_CACHE_SIZE) keys.delete(keys.keys().next().value as string)
    keys.set(id, entry)
    return entry
  }

  function nonceFor (window: number): string {
    return createHmac('sha256', nonceKey ?? new Uint8Array(32)).update(`fastify-oauth-toolkit dpop nonce ${window}`).digest().subarray(0, 16).toString('base64url')
  }
  function currentWindow (): number {
    return Math.floor(nowMs(clock) / 1000 / DPOP_NONCE_WINDOW_SECONDS)
  }
  function nonceIsCurrent (given: unknown): boolean {
    if (typeof given !== 'string' || given.length !== 22) return false
    const window = currentWindow()
    const bytes = Buffer.from(given, 'utf8')
    let ok = false
    for (const w of [window - 1, window, window + 1]) ok = timingSafeEqual(bytes, Buffer.from(nonceFor(w), 'utf8')) || ok
    return ok
  }

  async function verify (request: DpopProofRequest): Promise<VerifiedDpopProof> {
    const { proof } = request
    // §4.3 step 1: exactly one DPoP header. Node joins repeated headers with ", ", which is no JWS either.
    if (proof === undefined) throw invalid('no DPoP proof')
    if (typeof proof !== 'string') throw invalid('more than one DPoP header')
    if (proof.length > MAX_PROOF_LENGTH) throw invalid('DPoP proof too long')
    if (!COMPACT_JWS.test(proof)) throw invalid(proof.includes(',') ? 'more than one DPoP proof' : 'DPoP proof is not a compact JWS')
    let header: ReturnType<typeof decodeProtectedHeader>
    try {
      header = decodeProtectedHeader(proof)
    } catch {
      throw invalid('DPoP proof header is not JSON')
    }
    // Steps 4, 5 and 7, before any key is imported.
    if (header.typ !== 'dpop+jwt') throw invalid(`DPoP proof typ ${String(header.typ)}`)
    if (typeof header.alg !== 'string' || !allowed.has(header.alg)) throw invalid(`DPoP proof alg ${String(header.alg)} not allowed`)
    const jwk = header.jwk
    if (jwk === null || typeof jwk !== 'object' || Array.isArray(jwk)) throw invalid('DPoP proof without a jwk header')
    if (PRIVATE_MEMBERS.some((name) => Object.hasOwn(jwk, name))) throw invalid('DPoP proof jwk holds private key material')
    const { key, jkt } = await publicKeyOf(header.alg, jwk as Record<string, unknown>)
    let payload: Record<string, unknown>
    try {
      // Step 6: the signature, with the embedded public key and the proof's allow-listed algorithm only.
      ({ payload } = await jwtVerify(proof, key, { typ: 'dpop+jwt', algorithms: [header.alg], currentDate: new Date(nowMs(clock)) }))
    } catch {
      throw invalid('DPoP proof signature, key or claims did not verify')
    }
    const { jti, htm, htu, iat } = payload
    // Step 3: the required claims.
    if (typeof jti !== 'string' || jti === '' || jti.length > 256) throw invalid('DPoP proof jti missing or malformed')
    if (typeof htm !== 'string' || typeof htu !== 'string' || typeof iat !== 'number' || !Number.isFinite(iat)) throw invalid('DPoP proof claims missing or malformed')
    // Step 8, 9: this request's method and URL.
    if (htm !== request.method) throw invalid(`DPoP proof htm ${htm} for a ${request.method} request`)
    const expected = normalizeHtu(request.url)
    if (expected === null || normalizeHtu(htu) !== expected) throw invalid('DPoP proof htu names another URL')
    // Step 11: fresh. Either way, so a proof made for later cannot be kept.
    const now = nowMs(clock) / 1000
    if (Math.abs(now - iat) > maxAgeSeconds) throw invalid('DPoP proof iat outside the accepted window')
    // Step 10 (§8): the server's nonce, when it asks for one.
    if (nonceKey !== null && !nonceIsCurrent(payload.nonce)) {
      throw new UseDpopNonceError(nonceFor(currentWindow()), { detail: payload.nonce === undefined ? 'DPoP proof without a nonce' : 'stale or unknown DPoP nonce' })
    }
    // Step 12: bound to the access token presented with it.
    if (request.accessToken !== undefined && payload.ath !== accessTokenHash(request.accessToken)) {
      throw invalid(payload.ath === undefined ? 'DPoP proof without ath' : 'DPoP proof ath names another access token')
    }
    // §11.1: each proof once, across every instance sharing the store, for as long as its iat is accepted.
    const fresh = await useOnce(`${jkt} ${jti}`, new Date((iat + maxAgeSeconds + 1) * 1000))
    if (!fresh) throw invalid('DPoP proof replayed (jti seen before)')
    return { jkt }
  }

  return {
    algorithms: Object.freeze([...algorithms]),
    nonceRequired: nonceKey !== null,
    nonce: () => nonceKey === null ? null : nonceFor(currentWindow()),
    verify,
  }
}
