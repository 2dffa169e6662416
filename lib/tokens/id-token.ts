import { createHash } from 'node:crypto'
import { SignJWT } from 'jose'
import { addSeconds, toEpochSeconds } from '../clock.js'
import type { ServerContext } from '../context.js'
import { ImproperlyConfiguredError } from '../errors.js'
import type { Application, NewIdToken } from '../store/types.js'

/** What an ID token says, besides what the server adds (`iss`, `iat`, `exp`, `jti`). */
export interface IdTokenInput {
  /** The issuer identifier, exactly as discovery publishes it (`null`: unknown, a configuration error). */
  readonly issuer: string | null
  readonly application: Application
  readonly userId: string
  /** Granted scopes; an ID token is issued only with `openid` among them. */
  readonly scopes: readonly string[]
  /** The authorization request's `nonce`; `''` for none (and always none on refresh, OIDC Core §12.2). */
  readonly nonce: string
  /** When the user authenticated (OIDC Core §2 `auth_time`); `null` when unknown. */
  readonly authTime: Date | null
  /** The access token issued alongside, for `at_hash` (OIDC Core §3.1.3.6). */
  readonly accessToken?: string
  /** The code issued alongside (hybrid flow), for `c_hash` (OIDC Core §3.3.2.11). */
  readonly code?: string
}

/** A signed ID token and the row that records it. */
export interface PreparedIdToken {
  readonly jwt: string
  readonly record: NewIdToken
}

/** True when OpenID Connect is on and `scopes` asks for it (OIDC Core §3.1.2.1: `openid` MUST be present). */
export function wantsIdToken (ctx: ServerContext, scopes: readonly string[]): boolean {
  return ctx.settings.oidcEnabled && ctx.oidc !== null && scopes.includes('openid')
}

/**
 * OIDC Core §3.1.3.6 / §3.3.2.11: the left half of the SHA-256 of the ASCII token,
 * base64url-encoded, for RS256's SHA-256.
 */
export function leftHalfHash (value: string): string {
  const digest = createHash('sha256').update(value, 'ascii').digest()
  return digest.subarray(0, digest.length / 2).toString('base64url')
}

/**
 * The key an HS256 application's ID tokens are MACed with: the octets of the UTF-8 client secret
 * (OIDC Core §10.1), opened from its sealed copy. A missing or unopenable seal is a server
 * misconfiguration (the sealing key was removed or changed), never a reason to fall back.
 */
export function hs256KeyOf (ctx: ServerContext, application: Application): Uint8Array {
  const secret = ctx.secretSealer == null || application.clientSecretSealed === ''
    ? null
    : ctx.secretSealer.open(application.clientId, application.clientSecretSealed)
  if (secret === null) {
    throw new ImproperlyConfiguredError('OAT_ERR_OPTIONS', `fastify-oauth-toolkit: application ${application.id} signs ID tokens with HS256, but its sealed client secret does not open with the configured clientSecretSealingKey; restore the key or regenerate the secret`)
  }
  return new TextEncoder().encode(secret)
}

/**
 * Signs an ID token with the active key (RS256, `kid` in the header), or with the client secret
 * for HS256 applications, and returns it with the id-token row to store; `null` when none is
 * due (OIDC off, or no `openid` scope). Both algorithms hash with SHA-256, so `at_hash` and
 * `c_hash` are computed alike.
 */
export async function prepareIdToken (ctx: ServerContext, input: IdTokenInput): Promise<PreparedIdToken | null> {
  if (!wantsIdToken(ctx, input.scopes) || ctx.oidc === null) return null
  if (input.issuer === null) {
    throw new ImproperlyConfiguredError('OAT_ERR_SETTINGS', 'fastify-oauth-toolkit: an ID token needs an issuer: set the `issuer` setting or call the endpoint through the routes plugin')
  }
  const now = ctx.clock.now()
  const expiresAt = addSeconds(now, ctx.settings.idTokenExpireSeconds)
  const jti = ctx.random.uuid()
  const claims: Record<string, unknown> = {}
  if (input.authTime !== null) claims.auth_time = toEpochSeconds(input.authTime)
  if (input.nonce !== '') claims.nonce = input.nonce
  if (input.accessToken !== undefined) claims.at_hash = leftHalfHash(input.accessToken)
  if (input.code !== undefined) claims.c_hash = leftHalfHash(input.code)
  const hs256 = input.application.algorithm === 'HS256'
  const jwt = await new SignJWT(claims)
    .setProtectedHeader(hs256 ? { alg: 'HS256', typ: 'JWT' } : { alg: 'RS256', kid: ctx.oidc.keys.kid, typ: 'JWT' })
    .setIssuer(input.issuer)
    .setSubject(input.userId)
    .setAudience(input.application.clientId)
    .setIssuedAt(toEpochSeconds(now))
    .setExpirationTime(toEpochSeconds(expiresAt))
    .setJti(jti)
    .sign(hs256 ? hs256KeyOf(ctx, input.application) : ctx.oidc.keys.privateKey)
  return {
    jwt,
    record: { jti, applicationId: input.application.id, userId: input.userId, scope: input.scopes.join(' '), expiresAt },
  }
}
