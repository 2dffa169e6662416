import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto'
import type { JSONWebKeySet, JWK } from 'jose'
import { SafeFetchError, type SafeFetch } from '../http/safe-fetch.js'

// A client's public keys (RFC 7591 §2 `jwks` / `jwks_uri`), for verifying what it signs: client
// assertions (RFC 7523) and request objects. A JWK Set is accepted only when it holds public keys
// of the asymmetric kinds: a set carrying private key material (`d`, the RSA primes) or a
// symmetric key (`oct`, `k`) is refused whole, since accepting it would mean its holder had
// published a secret, and a shared key is no proof of the client's identity.

/** Most keys one set may hold: enough for rotation with a spare of each kind. */
const MAX_KEYS = 20
/** Private or symmetric key members (RFC 7518 §6.2.2, §6.3.2, §6.4.1; RFC 8037 §2). */
const SECRET_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k']
const KEY_TYPES = ['RSA', 'EC', 'OKP']

/** What is wrong with a JWK Set (as a sentence's end, after "jwks "), or `null`. */
export function jwksProblem (value: unknown): string | null {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'must be a JSON object with a "keys" array'
  const keys = (value as { keys?: unknown }).keys
  if (!Array.isArray(keys) || keys.length === 0) return 'must have a non-empty "keys" array'
  if (keys.length > MAX_KEYS) return `must hold at most ${MAX_KEYS} keys`
  for (const key of keys as unknown[]) {
    if (key === null || typeof key !== 'object' || Array.isArray(key)) return 'keys must be JSON objects'
    const jwk = key as Record<string, unknown>
    if (typeof jwk.kty !== 'string' || !KEY_TYPES.includes(jwk.kty)) return 'may hold only RSA, EC and OKP public keys'
    if (SECRET_MEMBERS.some((member) => Object.hasOwn(jwk, member))) return 'must hold public keys only (a key has private members)'
    if (jwk.kid !== undefined && typeof jwk.kid !== 'string') return 'key ids (kid) must be strings'
    if (jwk.use !== undefined && jwk.use !== 'sig') return 'keys must be for signing (use "sig") when they say'
    const problem = publicKeyProblem(jwk)
    if (problem !== null) return problem
  }
  return null
}

/** RSA keys below this size are refused (RFC 7518 §3.3; jose refuses them at verification too). */
const MIN_RSA_BITS = 2048

/** Whether the key really is a public key node can use, so a bad one is refused here, not at verification. */
function publicKeyProblem (jwk: Record<string, unknown>): string | null {
  let key: KeyObject
  try {
    key = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' })
  } catch {
    return 'holds a key that is not a valid public key'
  }
  const bits = key.asymmetricKeyDetails?.modulusLength
  if (jwk.kty === 'RSA' && (bits === undefined || bits < MIN_RSA_BITS)) return `holds an RSA key shorter than ${MIN_RSA_BITS} bits`
  return null
}

/** Parses JWK Set JSON text and checks it (`jwksProblem`); throws `Error` with the problem. */
export function parseJwks (text: string): JSONWebKeySet {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new Error('is not valid JSON')
  }
  const problem = jwksProblem(value)
  if (problem !== null) throw new Error(problem)
  return { keys: (value as { keys: JWK[] }).keys }
}

interface Entry {
  keys: JSONWebKeySet
  /** Epoch ms after which the document is fetched again. */
  expiresAt: number
  /** Epoch ms of the last fetch. */
  fetchedAt: number
}

/** Most `jwks_uri` documents kept in memory; the least recently fetched goes first. */
const MAX_ENTRIES = 1000

/**
 * Keeps clients' `jwks_uri` documents for `cacheSeconds`, fetched through the SSRF-safe client.
 * One process's memory: each instance fetches for itself (the documents are public). Concurrent
 * requests for one URI share one fetch.
 */
export class JwksUriCache {
  readonly #fetch: SafeFetch
  readonly #cacheMs: number
  readonly #refetchMs: number
  readonly #entries = new Map<string, Entry>()
  readonly #inFlight = new Map<string, Promise<JSONWebKeySet>>()

  constructor (fetch: SafeFetch, cacheSeconds: number, refetchSeconds: number) {
    this.#fetch = fetch
    this.#cacheMs = cacheSeconds * 1000
    this.#refetchMs = refetchSeconds * 1000
  }

  /** The document at `uri`, from the cache while fresh. Throws `Error` when it cannot be fetched or is not a public JWK Set. */
  async get (uri: string, now: number): Promise<JSONWebKeySet> {
    const entry = this.#entries.get(uri)
    if (entry !== undefined && entry.expiresAt > now) return entry.keys
    return await this.#load(uri, now)
  }

  /**
   * The document fetched anew, for a `kid` the cached one lacks (the client rotated its keys), or
   * `null` when `uri` was fetched less than `refetchSeconds` ago: the cached keys stand.
   */
  async refresh (uri: string, now: number): Promise<JSONWebKeySet | null> {
    const entry = this.#entries.get(uri)
    if (entry !== undefined && now - entry.fetchedAt < this.#refetchMs) return null
    return await this.#load(uri, now)
  }

  async #load (uri: string, now: number): Promise<JSONWebKeySet> {
    const pending = this.#inFlight.get(uri)
    if (pending !== undefined) return await pending
    const load = this.#download(uri, now).finally(() => this.#inFlight.delete(uri))
    this.#inFlight.set(uri, load)
    return await load
  }

  async #download (uri: string, now: number): Promise<JSONWebKeySet> {
    let keys: JSONWebKeySet
    try {
      const response = await this.#fetch(uri, { accept: 'application/jwk-set+json, application/json' })
      keys = parseJwks(response.body.toString('utf8'))
    } catch (err) {
      // A failure counts as a fetch: a dead or broken URI is asked again only after
      // `refetchSeconds`, whatever assertions arrive meanwhile. Keys fetched before stay usable;
      // without any, none match until then.
      const entry = this.#entries.get(uri)
      if (entry !== undefined) entry.fetchedAt = now
      else this.#remember(uri, { keys: { keys: [] }, fetchedAt: now, expiresAt: now + this.#refetchMs })
      if (err instanceof SafeFetchError) throw new Error(`jwks_uri fetch refused (${err.reason}): ${err.message}`)
      throw new Error(`jwks_uri document ${(err as Error).message}`)
    }
    this.#remember(uri, { keys, fetchedAt: now, expiresAt: now + this.#cacheMs })
    return keys
  }

  #remember (uri: string, entry: Entry): void {
    this.#entries.delete(uri)
    if (this.#entries.size >= MAX_ENTRIES) {
      const oldest = this.#entries.keys().next()
      if (oldest.done !== true) this.#entries.delete(oldest.value)
    }
    this.#entries.set(uri, entry)
  }
}
