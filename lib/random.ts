import { randomBytes, randomFillSync, randomInt, randomUUID } from 'node:crypto'

/** Every random value the toolkit draws, behind one interface so tests can make it deterministic. */
export interface Random {
  /** `bytes` bytes from the OS CSPRNG, base64url-encoded (32 bytes = 256 bits, RFC 6749 §10.10). */
  token(bytes?: number): string
  /** A string of `length` characters drawn uniformly from `alphabet`. */
  string(length: number, alphabet: string): string
  /** A random UUID (token families, `jti`). */
  uuid(): string
}

/** Characters of DOT's client id and secret generators (oauthlib's UNICODE_ASCII_CHARACTER_SET). */
export const CLIENT_ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'

/** Bytes drawn from the CSPRNG at a time for tokens (128 tokens of 32 bytes). */
const POOL_SIZE = 4096
/** Larger draws bypass the pool. */
const MAX_POOLED = 256
const pool = Buffer.alloc(POOL_SIZE)
let poolOffset = POOL_SIZE

/**
 * `bytes` random bytes, base64url-encoded, taken from a pool that one `randomFillSync` call
 * fills (node:crypto's `randomUUID` pools the same way): one call into OpenSSL per 4 KiB instead
 * of one per token, which is most of what drawing a token cost. Every byte is handed out once,
 * and is zeroed once encoded, so the pool never holds a token that was already issued.
 */
function pooledToken (bytes: number): string {
  // Anything but a small positive count goes to randomBytes, which also rejects a bad one.
  if (!Number.isInteger(bytes) || bytes <= 0 || bytes > MAX_POOLED) return randomBytes(bytes).toString('base64url')
  if (poolOffset + bytes > POOL_SIZE) {
    randomFillSync(pool)
    poolOffset = 0
  }
  const start = poolOffset
  poolOffset += bytes
  const encoded = pool.toString('base64url', start, poolOffset)
  pool.fill(0, start, poolOffset)
  return encoded
}

/** The OS CSPRNG. */
export const cryptoRandom: Random = Object.freeze({
  token: (bytes = 32) => pooledToken(bytes),
  string: (length: number, alphabet: string) => {
    let out = ''
    // randomInt rejects modulo bias, so every character is uniform.
    for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)]
    return out
  },
  uuid: () => randomUUID(),
})
