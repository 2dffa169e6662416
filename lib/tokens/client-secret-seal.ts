import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto'
import { ImproperlyConfiguredError } from '../errors.js'

// HS256 ID tokens are MACed with the client secret (OIDC Core §10.1), but client secrets are
// stored hashed, and a hash is no key (DOT 3.4.0 #1737 keyed HS256 with it). So an HS256 application also
// keeps its secret sealed: AES-256-GCM under a server key that lives outside the database (an
// option or an environment variable, never a setting, never a column). A database thief gets
// ciphertext; the key alone opens nothing without the database. The client id is bound as
// additional data, so a sealed value copied onto another application does not open there.

/** A 256-bit key: 32 bytes, or their base64url/base64 (43/44 characters) or hex (64) spelling. */
export type SealingKey = string | Uint8Array

/**
 * The server's client-secret sealing key(s): one key, or a list whose first key seals and whose
 * every key opens (rotation: put the new key first, keep the old ones until every HS256
 * application's secret was regenerated).
 */
export type SealingKeyInput = SealingKey | readonly SealingKey[]

/** Seals and opens HS256 applications' client secrets. */
export interface SecretSealer {
  /** `v1.<key id>.<iv>.<ciphertext>.<tag>`, base64url parts. */
  seal (clientId: string, secret: string): string
  /** The secret, or `null` when no key opens it (wrong key, another application's value, tampered). */
  open (clientId: string, sealed: string): string | null
}

const VERSION = 'v1'
const AAD_PREFIX = 'fastify-oauth-toolkit client secret v1\0'

function keyError (message: string): never {
  throw new ImproperlyConfiguredError('OAT_ERR_OPTIONS', `fastify-oauth-toolkit: ${message}`)
}

/** Decodes one 32-byte server key given as option `option` (hex, base64url, base64 or bytes); anything else is a configuration error. */
export function decodeSealingKey (key: unknown, option: string): Buffer {
  let bytes: Buffer | null = null
  if (key instanceof Uint8Array) bytes = Buffer.from(key)
  else if (typeof key === 'string' && /^[0-9a-fA-F]{64}$/.test(key)) bytes = Buffer.from(key, 'hex')
  else if (typeof key === 'string' && /^[A-Za-z0-9_-]{43}$/.test(key)) bytes = Buffer.from(key, 'base64url')
  else if (typeof key === 'string' && /^[A-Za-z0-9+/]{43}=$/.test(key)) bytes = Buffer.from(key, 'base64')
  if (bytes?.length !== 32) keyError(`${option} must be 32 random bytes: a Uint8Array, or 64 hex / 43 base64url characters (\`fastify-oauth-toolkit generatekey --sealing\` prints one)`)
  return bytes
}

/** Decodes one key to its 32 bytes; anything else is a configuration error. */
function keyBytes (key: unknown, name: string): Buffer {
  let bytes: Buffer | null = null
  if (key instanceof Uint8Array) bytes = Buffer.from(key)
  else if (typeof key === 'string' && /^[0-9a-fA-F]{64}$/.test(key)) bytes = Buffer.from(key, 'hex')
  else if (typeof key === 'string' && /^[A-Za-z0-9_-]{43}$/.test(key)) bytes = Buffer.from(key, 'base64url')
  else if (typeof key === 'string' && /^[A-Za-z0-9+/]{43}=$/.test(key)) bytes = Buffer.from(key, 'base64')
  if (bytes?.length !== 32) keyError(`clientSecretSealingKey${name} must be 32 random bytes: a Uint8Array, or 64 hex / 43 base64url characters (\`fastify-oauth-toolkit generatekey --sealing\` prints one)`)
  return bytes
}

/** A short public identifier of a key, so a value sealed under a retired key finds it. */
function keyId (key: Buffer): string {
  return createHash('sha256').update('fastify-oauth-toolkit sealing key id\0').update(key).digest().subarray(0, 6).toString('base64url')
}

/** Validates the key(s) once, at startup, and returns the sealer. */
export function createSecretSealer (input: SealingKeyInput): SecretSealer {
  const list = Array.isArray(input) ? input as readonly unknown[] : [input]
  if (list.length === 0) keyError('clientSecretSealingKey must not be an empty list')
  const keys = list.map((key, i) => keyBytes(key, list.length === 1 ? '' : `[${i}]`)).map((key) => ({ id: keyId(key), key }))
  const active = keys[0]
  if (active === undefined) keyError('clientSecretSealingKey must not be an empty list')
  return {
    seal (clientId, secret) {
      const iv = randomBytes(12)
      const cipher = createCipheriv('aes-256-gcm', active.key, iv)
      cipher.setAAD(Buffer.from(AAD_PREFIX + clientId, 'utf8'))
      const ciphertext = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()])
      return [VERSION, active.id, iv.toString('base64url'), ciphertext.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.')
    },
    open (clientId, sealed) {
      const [version, id, iv, ciphertext, tag, extra] = sealed.split('.')
      if (version !== VERSION || iv === undefined || ciphertext === undefined || tag === undefined || extra !== undefined) return null
      const entry = keys.find((k) => k.id === id)
      if (entry === undefined) return null
      try {
        const decipher = createDecipheriv('aes-256-gcm', entry.key, Buffer.from(iv, 'base64url'), { authTagLength: 16 })
        decipher.setAAD(Buffer.from(AAD_PREFIX + clientId, 'utf8'))
        decipher.setAuthTag(Buffer.from(tag, 'base64url'))
        return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8')
      } catch {
        return null
      }
    },
  }
}
