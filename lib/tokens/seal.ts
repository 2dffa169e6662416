import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto'
import type { TokenPair } from './issue.js'

// The refresh grace period must hand a retried, just-rotated refresh token the *same* pair it
// already minted, but tokens are never stored in clear. So the successor pair is sealed with
// AES-256-GCM under a key derived (HKDF-SHA256) from the old refresh token itself: only a
// caller presenting that old token can open it, and a database thief learns nothing.

const INFO = Buffer.from('fastify-oauth-toolkit refresh-token successor v1')

function keyFor (refreshToken: string): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(refreshToken, 'utf8'), Buffer.alloc(0), INFO, 32))
}

/** Seals `pair` under `refreshToken`: `v1.iv.ciphertext.tag`, base64url parts. */
export function sealSuccessor (refreshToken: string, pair: TokenPair): string {
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', keyFor(refreshToken), iv)
  const ciphertext = Buffer.concat([cipher.update(JSON.stringify([pair.accessToken, pair.refreshToken]), 'utf8'), cipher.final()])
  return ['v1', iv.toString('base64url'), ciphertext.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.')
}

/** Opens a sealed pair; `null` when it does not open with this token or is malformed. */
export function openSuccessor (refreshToken: string, sealed: string): TokenPair | null {
  const [version, iv, ciphertext, tag] = sealed.split('.')
  if (version !== 'v1' || iv === undefined || ciphertext === undefined || tag === undefined) return null
  try {
    const decipher = createDecipheriv('aes-256-gcm', keyFor(refreshToken), Buffer.from(iv, 'base64url'))
    decipher.setAuthTag(Buffer.from(tag, 'base64url'))
    const plain = Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8')
    const value: unknown = JSON.parse(plain)
    if (!Array.isArray(value) || typeof value[0] !== 'string' || (typeof value[1] !== 'string' && value[1] !== null)) return null
    return { accessToken: value[0], refreshToken: value[1] as string | null }
  } catch {
    return null
  }
}
