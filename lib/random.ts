import { randomBytes, randomInt, randomUUID } from 'node:crypto'

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

/** The OS CSPRNG. */
export const cryptoRandom: Random = Object.freeze({
  token: (bytes = 32) => randomBytes(bytes).toString('base64url'),
  string: (length: number, alphabet: string) => {
    let out = ''
    // randomInt rejects modulo bias, so every character is uniform.
    for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)]
    return out
  },
  uuid: () => randomUUID(),
})
