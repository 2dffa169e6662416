import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto'
import { calculateJwkThumbprint, exportJWK, importPKCS8, importSPKI, type CryptoKey, type JWK } from 'jose'
import { ImproperlyConfiguredError } from '../errors.js'

/** An RSA private key: a PEM string (PKCS#8 or PKCS#1), a JWK object, or a JWK as a JSON string. */
export type KeyMaterial = string | Readonly<Record<string, unknown>>

/** The OpenID Connect signing keys as the host gives them (DOT `OIDC_RSA_PRIVATE_KEY` and `OIDC_RSA_PRIVATE_KEYS_INACTIVE`). */
export interface OidcKeyOptions {
  /** Signs every new ID token (RS256). */
  readonly privateKey: KeyMaterial
  /** Retired keys: no longer used to sign, still published in the JWKS until the tokens they signed expire. */
  readonly inactiveKeys?: readonly KeyMaterial[]
}

/** A public key as the JWKS publishes it: RSA members only, with `kid`, `alg` and `use`. */
export type PublicJwk = JWK & { readonly kid: string }

/** Loaded, validated signing keys. */
export interface SigningKeys {
  /** The active key's id: its RFC 7638 JWK thumbprint. */
  readonly kid: string
  readonly privateKey: CryptoKey
  /** The active key first, then the inactive ones; public members only. */
  readonly publicKeys: readonly PublicJwk[]
}

/** Smallest RSA modulus accepted, bits (RFC 7518 §3.3: 2048 or larger). */
const MIN_MODULUS_BITS = 2048

function keyError (message: string): never {
  throw new ImproperlyConfiguredError('OAT_ERR_OPTIONS', `fastify-oauth-toolkit: oidc: ${message}`)
}

/** Parses PEM or JWK into an RSA private KeyObject of at least 2048 bits; `name` says which key in errors. */
function toRsaPrivateKey (material: KeyMaterial, name: string): KeyObject {
  let key: KeyObject
  try {
    if (typeof material === 'string' && material.trim().startsWith('{')) {
      key = createPrivateKey({ key: JSON.parse(material) as Record<string, unknown> as never, format: 'jwk' })
    } else if (typeof material === 'string') {
      key = createPrivateKey(material)
    } else if (material !== null && typeof material === 'object') {
      key = createPrivateKey({ key: { ...material } as never, format: 'jwk' })
    } else {
      keyError(`${name} must be a PEM string or a JWK`)
    }
  } catch (err) {
    if (err instanceof ImproperlyConfiguredError) throw err
    keyError(`${name} is not a readable private key (PEM or JWK)`)
  }
  if (key.asymmetricKeyType !== 'rsa') keyError(`${name} must be an RSA key (RS256), not ${key.asymmetricKeyType ?? 'unknown'}`)
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0
  if (bits < MIN_MODULUS_BITS) keyError(`${name} is ${bits} bits; RS256 needs at least ${MIN_MODULUS_BITS}`)
  return key
}

/** The public JWK of a private key, with `kid` = its SHA-256 JWK thumbprint (RFC 7638). */
async function publicJwkOf (key: KeyObject): Promise<PublicJwk> {
  const spki = createPublicKey(key).export({ type: 'spki', format: 'pem' }).toString()
  const { kty, n, e } = await exportJWK(await importSPKI(spki, 'RS256', { extractable: true }))
  const jwk: JWK = { kty, n, e }
  return { ...jwk, kid: await calculateJwkThumbprint(jwk, 'sha256'), alg: 'RS256', use: 'sig' }
}

/**
 * Validates and loads the signing keys once, at registration: a bad key fails `register`,
 * never a request. Only public members (`kty`, `n`, `e`) are ever published, never private ones.
 */
export async function loadSigningKeys (options: OidcKeyOptions): Promise<SigningKeys> {
  if (options === null || typeof options !== 'object') keyError('give `{ privateKey }`')
  const active = toRsaPrivateKey(options.privateKey, 'privateKey')
  const inactive = options.inactiveKeys ?? []
  if (!Array.isArray(inactive)) keyError('inactiveKeys must be an array of keys')
  const activeJwk = await publicJwkOf(active)
  const publicKeys: PublicJwk[] = [activeJwk]
  for (const [i, material] of inactive.entries()) {
    const jwk = await publicJwkOf(toRsaPrivateKey(material, `inactiveKeys[${i}]`))
    if (!publicKeys.some((k) => k.kid === jwk.kid)) publicKeys.push(jwk)
  }
  const pkcs8 = active.export({ type: 'pkcs8', format: 'pem' }).toString()
  return { kid: activeJwk.kid, privateKey: await importPKCS8(pkcs8, 'RS256'), publicKeys }
}
