import { createHash, timingSafeEqual } from 'node:crypto'

/** PKCE methods (RFC 7636 §4.2); `''` means the request carried no challenge. */
export type CodeChallengeMethod = '' | 'plain' | 'S256'

// RFC 7636 §4.1 and §4.2: 43–128 characters of [A-Z a-z 0-9 - . _ ~].
const PKCE_VALUE = /^[A-Za-z0-9\-._~]{43,128}$/

/** True when `value` is a syntactically valid code verifier or challenge. */
export function isPkceValue (value: string): boolean {
  return PKCE_VALUE.test(value)
}

/** RFC 7636 §4.6: checks a verifier against the stored challenge, in constant time, so timing leaks nothing of it. */
export function verifyCodeChallenge (verifier: string, challenge: string, method: 'plain' | 'S256'): boolean {
  const derived = method === 'S256' ? createHash('sha256').update(verifier, 'ascii').digest('base64url') : verifier
  const a = createHash('sha256').update(derived).digest()
  const b = createHash('sha256').update(challenge).digest()
  // Hashing both sides first gives equal-length buffers without leaking the length.
  return timingSafeEqual(a, b)
}
