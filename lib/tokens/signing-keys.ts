import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto'
import { calculateJwkThumbprint, importPKCS8, type CryptoKey, type JWK } from 'jose'
import { ImproperlyConfiguredError } from '../errors.js'

/** A private key: a PEM string (PKCS#8, or PKCS#1 / SEC 1), a JWK object, or a JWK as a JSON string. */
export type KeyMaterial = string | Readonly<Record<string, unknown>>

/**
 * The asymmetric JWS algorithms the server signs with (RFC 7518 §3; RFC 8037 for `EdDSA`):
 * `RS256` and `PS256` with an RSA key of at least 2048 bits, `ES256` with a P-256 key,
 * `EdDSA` with an Ed25519 key.
 */
export type SigningKeyAlgorithm = 'RS256' | 'PS256' | 'ES256' | 'EdDSA'

/** Every `SigningKeyAlgorithm`, in the order discovery lists them. */
export const SIGNING_KEY_ALGORITHMS: readonly SigningKeyAlgorithm[] = Object.freeze(['RS256', 'PS256', 'ES256', 'EdDSA'])

/** One key and the algorithm it signs with (a key serves one algorithm only, RFC 7517 §4.4). */
export interface SigningKeyOption {
  readonly alg: SigningKeyAlgorithm
  /** The private key (inactive keys may also be given as public keys: they only verify). */
  readonly privateKey: KeyMaterial
}

/**
 * The signing keys as the host gives them (DOT `OIDC_RSA_PRIVATE_KEY` and
 * `OIDC_RSA_PRIVATE_KEYS_INACTIVE`, extended to several algorithms). Give `privateKey`, or
 * `signingKeys`, or both; at most one active key per algorithm.
 * @example
 * { privateKey: rsaPem, signingKeys: [{ alg: 'ES256', privateKey: p256Pem }], inactiveKeys: [oldRsaPem] }
 */
export interface OidcKeyOptions {
  /** An active RSA key for RS256 (the algorithm every relying party supports, OIDC Core §15.1). */
  readonly privateKey?: KeyMaterial | undefined
  /** More active keys, one per algorithm (`PS256`, `ES256`, `EdDSA`; or `RS256` when `privateKey` is not given). */
  readonly signingKeys?: readonly SigningKeyOption[] | undefined
  /**
   * Retired keys: no longer used to sign, still published in the JWKS until the tokens they
   * signed expire. A bare key is taken for RS256 (RSA; or the JWK's `alg`), ES256 (P-256) or
   * EdDSA (Ed25519); give `{ alg: 'PS256', privateKey }` for a retired PS256 key.
   */
  readonly inactiveKeys?: ReadonlyArray<KeyMaterial | SigningKeyOption> | undefined
}

/** A public key as the JWKS publishes it: public members only, with `kid`, `alg` and `use`. */
export type PublicJwk = JWK & { readonly kid: string, readonly alg: SigningKeyAlgorithm }

/** An active key, ready to sign. */
export interface ActiveSigningKey {
  readonly alg: SigningKeyAlgorithm
  /** Its RFC 7638 JWK thumbprint. */
  readonly kid: string
  readonly privateKey: CryptoKey
}

/** Loaded, validated signing keys. */
export interface SigningKeys {
  /** The default key's id (see `alg`). */
  readonly kid: string
  /** The default key: the RS256 one when there is one, else the first of `signingKeys`. */
  readonly privateKey: CryptoKey
  /** The default key's algorithm: what applications without an `algorithm` get. */
  readonly alg: SigningKeyAlgorithm
  /** Every active key, one per algorithm, the default first. */
  readonly active: readonly ActiveSigningKey[]
  /** The active keys first, then the inactive ones; public members only. */
  readonly publicKeys: readonly PublicJwk[]
}

/** Smallest RSA modulus accepted, bits (RFC 7518 §3.3: 2048 or larger). */
const MIN_MODULUS_BITS = 2048

/** The public members of each key type (RFC 7518 §6), the only ones ever published. */
const PUBLIC_MEMBERS: Readonly<Record<string, readonly string[]>> = { RSA: ['kty', 'n', 'e'], EC: ['kty', 'crv', 'x', 'y'], OKP: ['kty', 'crv', 'x'] }

/** OpenSSL's curve names as JOSE spells them (RFC 7518 §6.2.1.1). */
const CURVE_NAMES: Readonly<Record<string, string>> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' }

function keyError (message: string): never {
  throw new ImproperlyConfiguredError('OAT_ERR_OPTIONS', `fastify-oauth-toolkit: oidc: ${message}`)
}

function isAlgorithm (value: unknown): value is SigningKeyAlgorithm {
  return (SIGNING_KEY_ALGORITHMS as readonly unknown[]).includes(value)
}

/** What kind of key `key` is, in words for errors. */
function describeKey (key: KeyObject): string {
  switch (key.asymmetricKeyType) {
    case 'rsa': return `a ${key.asymmetricKeyDetails?.modulusLength ?? 0}-bit RSA key`
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve ?? 'an unknown curve'
      return `an EC key on ${CURVE_NAMES[curve] ?? curve}`
    }
    case undefined: return 'not an asymmetric key'
    default: return `an ${key.asymmetricKeyType.replace(/^(ed|x)/, (p) => p.toUpperCase().replace('ED', 'Ed'))} key`
  }
}

/** Why `key` cannot sign `alg`, or `null` when it can. */
function mismatch (key: KeyObject, alg: SigningKeyAlgorithm): string | null {
  switch (alg) {
    case 'RS256':
    case 'PS256':
      if (key.asymmetricKeyType !== 'rsa') return `${alg} needs an RSA key of at least ${MIN_MODULUS_BITS} bits`
      return (key.asymmetricKeyDetails?.modulusLength ?? 0) < MIN_MODULUS_BITS ? `${alg} needs at least ${MIN_MODULUS_BITS} bits` : null
    case 'ES256':
      return key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1' ? null : 'ES256 needs an EC key on P-256'
    case 'EdDSA':
      return key.asymmetricKeyType === 'ed25519' ? null : 'EdDSA needs an Ed25519 key'
  }
}

/** The `alg` member of a key given as a JWK (object or JSON string), if any. */
function jwkAlgOf (material: unknown): unknown {
  if (material !== null && typeof material === 'object') return (material as Record<string, unknown>).alg
  if (typeof material !== 'string' || !material.trim().startsWith('{')) return undefined
  try {
    return (JSON.parse(material) as Record<string, unknown> | null)?.alg
  } catch {
    return undefined
  }
}

/** The algorithm a bare key (no `alg` given) is taken for; `null` when its type has none. */
function impliedAlgorithm (key: KeyObject, jwkAlg: unknown): SigningKeyAlgorithm | null {
  if (isAlgorithm(jwkAlg)) return jwkAlg
  if (key.asymmetricKeyType === 'rsa') return 'RS256'
  if (key.asymmetricKeyType === 'ec') return 'ES256'
  if (key.asymmetricKeyType === 'ed25519') return 'EdDSA'
  return null
}

/** Parses PEM or JWK into a KeyObject: private, or (when `publicAllowed`) public; `name` says which key in errors. */
function readKey (material: unknown, name: string, publicAllowed: boolean): KeyObject {
  let jwk: Record<string, unknown> | null = null
  let pem: string | null = null
  if (typeof material === 'string' && material.trim().startsWith('{')) {
    try {
      jwk = JSON.parse(material) as Record<string, unknown>
    } catch {
      keyError(`${name} is not a readable key (PEM or JWK): its JSON does not parse`)
    }
  } else if (typeof material === 'string') {
    pem = material
  } else if (material !== null && typeof material === 'object' && !Array.isArray(material)) {
    jwk = { ...material }
  } else {
    keyError(`${name} must be a PEM string or a JWK`)
  }
  const isPublic = jwk !== null ? jwk.d === undefined : /PUBLIC KEY-----/.test(pem ?? '')
  if (isPublic && !publicAllowed) keyError(`${name} is a public key; signing needs the private key`)
  try {
    const input = jwk !== null ? { key: jwk as never, format: 'jwk' as const } : (pem ?? '')
    return isPublic ? createPublicKey(input) : createPrivateKey(input)
  } catch {
    return keyError(`${name} is not a readable ${isPublic ? 'public or private' : 'private'} key (PEM or JWK)`)
  }
}

/** The public JWK of a key, with `kid` = its SHA-256 JWK thumbprint (RFC 7638), `alg` and `use`. */
async function publicJwkOf (key: KeyObject, alg: SigningKeyAlgorithm): Promise<PublicJwk> {
  const full = (key.type === 'public' ? key : createPublicKey(key)).export({ format: 'jwk' }) as Record<string, unknown>
  const jwk: Record<string, unknown> = {}
  for (const member of PUBLIC_MEMBERS[String(full.kty)] ?? []) jwk[member] = full[member]
  return { ...jwk, kid: await calculateJwkThumbprint(jwk as JWK, 'sha256'), alg, use: 'sig' }
}

/** A `{ alg, privateKey }` entry (as opposed to a bare JWK, which has `kty`). */
function isKeyOption (value: unknown): value is SigningKeyOption {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && 'privateKey' in value
}

/** Checks an `{ alg, privateKey }` entry's shape and returns its algorithm. */
function optionAlgorithm (entry: SigningKeyOption, name: string): SigningKeyAlgorithm {
  for (const key of Object.keys(entry)) {
    if (key !== 'alg' && key !== 'privateKey') keyError(`${name} has no field "${key}"; give { alg, privateKey }`)
  }
  if (!isAlgorithm(entry.alg)) keyError(`${name}.alg must be ${SIGNING_KEY_ALGORITHMS.join(', ')}; got ${JSON.stringify(entry.alg) ?? 'nothing'}`)
  return entry.alg
}

/** One key read and checked against its algorithm. */
interface CheckedKey { readonly key: KeyObject, readonly alg: SigningKeyAlgorithm, readonly name: string }

function checkKey (material: unknown, alg: SigningKeyAlgorithm | null, name: string, active: boolean, field = name): CheckedKey {
  // `privateKey: process.env.SOME_KEY` with the variable unset: name the field, not the type.
  if (material === undefined) keyError(`${field} is undefined (an unset environment variable?); give a PEM string or a JWK`)
  const key = readKey(material, name, !active)
  const jwkAlg = jwkAlgOf(material)
  const chosen = alg ?? impliedAlgorithm(key, jwkAlg)
  if (chosen === null) keyError(`${name} is ${describeKey(key)}, which signs none of ${SIGNING_KEY_ALGORITHMS.join(', ')}`)
  const problem = mismatch(key, chosen)
  if (problem !== null) keyError(`${name} is ${describeKey(key)}, but ${problem}`)
  if (jwkAlg !== undefined && jwkAlg !== chosen) keyError(`${name} is a JWK for ${String(jwkAlg)}, but it is given for ${chosen}`)
  return { key, alg: chosen, name }
}

/**
 * Validates and loads the signing keys once, at registration: a bad key fails `register` with
 * one line naming it (unreadable, a public key where a private one is needed, a type, curve or
 * size its algorithm does not take, two active keys for one algorithm, one key for two
 * algorithms), never a request. Only public members are ever published, never private ones.
 */
export async function loadSigningKeys (options: OidcKeyOptions): Promise<SigningKeys> {
  if (options === null || typeof options !== 'object') keyError('give `{ privateKey }` or `{ signingKeys: [{ alg, privateKey }] }`')
  const extra = options.signingKeys ?? []
  if (!Array.isArray(extra)) keyError('signingKeys must be an array of { alg, privateKey }')
  const inactive = options.inactiveKeys ?? []
  if (!Array.isArray(inactive)) keyError('inactiveKeys must be an array of keys')
  if (options.privateKey === undefined && extra.length === 0) keyError('give `privateKey` (an RSA key for RS256) or `signingKeys: [{ alg, privateKey }]`')

  const active: CheckedKey[] = []
  if (options.privateKey !== undefined) active.push(checkKey(options.privateKey, 'RS256', 'privateKey', true))
  for (const [i, entry] of (extra as unknown[]).entries()) {
    const name = `signingKeys[${i}]`
    if (!isKeyOption(entry)) keyError(`${name} must be { alg, privateKey }`)
    const checked = checkKey(entry.privateKey, optionAlgorithm(entry, name), name, true, `${name}.privateKey`)
    const twin = active.find((k) => k.alg === checked.alg)
    if (twin !== undefined) keyError(`${twin.name} and ${name} are both active ${checked.alg} keys; keep one active and move the other to inactiveKeys`)
    active.push(checked)
  }
  const retired = (inactive as unknown[]).map((entry, i) => {
    const name = `inactiveKeys[${i}]`
    return isKeyOption(entry) ? checkKey(entry.privateKey, optionAlgorithm(entry, name), name, false, `${name}.privateKey`) : checkKey(entry, null, name, false)
  })

  // RS256 is the default (OIDC Core §15.1 and Registration §2: what a client that names no algorithm expects).
  const ordered = [...active.filter((k) => k.alg === 'RS256'), ...active.filter((k) => k.alg !== 'RS256')]
  const publicKeys: PublicJwk[] = []
  const origin = new Map<string, CheckedKey>()
  for (const checked of [...ordered, ...retired]) {
    const jwk = await publicJwkOf(checked.key, checked.alg)
    const seen = origin.get(jwk.kid)
    if (seen !== undefined) {
      // The same key listed twice for the same algorithm (say, active and inactive) is published once.
      if (seen.alg === checked.alg) continue
      keyError(`${seen.name} and ${checked.name} are the same key, for ${seen.alg} and ${checked.alg}; use one key per algorithm`)
    }
    origin.set(jwk.kid, checked)
    publicKeys.push(jwk)
  }
  const signers: ActiveSigningKey[] = []
  for (const [i, checked] of ordered.entries()) {
    const pkcs8 = checked.key.export({ type: 'pkcs8', format: 'pem' }).toString()
    signers.push({ alg: checked.alg, kid: publicKeys[i]?.kid ?? '', privateKey: await importPKCS8(pkcs8, checked.alg) })
  }
  const first = signers[0]
  if (first === undefined) return keyError('no active key')
  return { kid: first.kid, privateKey: first.privateKey, alg: first.alg, active: signers, publicKeys }
}

/** The active key that signs `alg`, or `undefined` when the server has none. */
export function activeKeyFor (keys: SigningKeys, alg: SigningKeyAlgorithm): ActiveSigningKey | undefined {
  return keys.active.find((k) => k.alg === alg)
}

/** The algorithms the server holds an active key for, in `SIGNING_KEY_ALGORITHMS` order (empty without keys). */
export function signingAlgorithmsOf (keys: SigningKeys | undefined): SigningKeyAlgorithm[] {
  return keys === undefined ? [] : SIGNING_KEY_ALGORITHMS.filter((alg) => activeKeyFor(keys, alg) !== undefined)
}
