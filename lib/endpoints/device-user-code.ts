import type { Random } from '../random.js'
import { tokenChecksum } from '../tokens/checksum.js'

/**
 * RFC 8628 §6.1's example alphabet: 20 consonants, so no vowels (no words) and no look-alikes
 * (no 0/O, 1/I/L, 5/S, 2/Z ambiguity among digits, since there are none). Typing is forgiving:
 * case, dashes and spaces do not matter.
 */
export const USER_CODE_ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ'

/** A fresh user code of `length` characters drawn uniformly with the CSPRNG, unformatted. */
export function generateUserCode (random: Random, length: number): string {
  return random.string(length, USER_CODE_ALPHABET)
}

/** `ABCDEFGH` → `ABCD-EFGH`: groups of four joined by dashes, as shown to the user. */
export function formatUserCode (code: string): string {
  return (code.match(/.{1,4}/g) ?? []).join('-')
}

/**
 * What the user typed, upper-cased without separators (dashes, spaces); `null` when it cannot be a
 * user code (wrong characters or length), so no lookup is spent on it.
 */
export function normalizeUserCode (input: string, length: number): string | null {
  if (input.length > 64) return null
  const code = input.toUpperCase().replace(/[\s-]+/g, '')
  if (code.length !== length) return null
  for (const c of code) if (!USER_CODE_ALPHABET.includes(c)) return null
  return code
}

/** The stored form of a normalised user code: its SHA-256 checksum only. */
export function userCodeChecksum (normalized: string): string {
  return tokenChecksum(`user_code:${normalized}`)
}
