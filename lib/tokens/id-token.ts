import { createHash } from 'node:crypto'
import { SignJWT } from 'jose'
import { addSeconds, toEpochSeconds } from '../clock.js'
import type { ServerContext } from '../context.js'
import { ImproperlyConfiguredError } from '../errors.js'
import { filterClaims } from '../endpoints/userinfo.js'
import type { Application, NewIdToken } from '../store/types.js'
import { activeKeyFor, type SigningKeyAlgorithm } from './signing-keys.js'

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
  /** The user's session at this server (OIDC Front-/Back-Channel Logout `sid`), when one is tracked. */
  readonly sid?: string | null
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
 * The claims `getIdTokenClaims` cannot set: the protocol's own (OIDC Core §2, §3.1.3.6,
 * §3.3.2.11; RFC 7519 §4.1; RFC 7800 `cnf`), which the server alone decides. A hook that
 * returns one has it dropped; the server's value (or its absence) stands.
 */
export const RESERVED_ID_TOKEN_CLAIMS: readonly string[] = Object.freeze(['iss', 'sub', 'aud', 'exp', 'iat', 'nbf', 'nonce', 'at_hash', 'c_hash',
  's_hash', 'auth_time', 'acr', 'amr', 'azp', 'sid', 'jti', 'cnf'])

/**
 * OIDC Core §3.1.3.6 / §3.3.2.11: the left half of the hash of the ASCII token, base64url-encoded,
 * with the hash of the ID token's `alg`: SHA-256 for the *256 algorithms, SHA-512 for EdDSA
 * with Ed25519 (whose signature hashes with SHA-512; what oauth4webapi and oidc-provider use).
 */
export function leftHalfHash (value: string, alg: IdTokenAlgorithm = 'RS256'): string {
  const digest = createHash(alg === 'EdDSA' ? 'sha512' : 'sha256').update(value, 'ascii').digest()
  return digest.subarray(0, digest.length / 2).toString('base64url')
}

/** The algorithms an ID token can be signed with: the server's keys', or HS256 with the client secret. */
export type IdTokenAlgorithm = SigningKeyAlgorithm | 'HS256'

/**
 * The algorithm `application`'s ID tokens are signed with: its `algorithm`, or when it names none
 * the `idTokenSigningAlgorithm` setting, else the server's default key's (RS256 when the server
 * has an RS256 key). An application
 * whose algorithm has no active key is a misconfiguration (the key was removed after it
 * registered): said loudly, never replaced by another algorithm its relying party would refuse.
 */
export function idTokenAlgorithm (ctx: ServerContext, application: Application): IdTokenAlgorithm {
  const keys = ctx.oidc?.keys
  if (application.algorithm === 'HS256') return 'HS256'
  if (keys === undefined) throw new ImproperlyConfiguredError('OAT_ERR_OPTIONS', 'fastify-oauth-toolkit: ID tokens need a signing key (`oidc: { privateKey }`)')
  if (application.algorithm === '') return ctx.settings.idTokenSigningAlgorithm ?? keys.alg
  if (activeKeyFor(keys, application.algorithm) === undefined) {
    throw new ImproperlyConfiguredError('OAT_ERR_OPTIONS', `fastify-oauth-toolkit: application ${application.id} signs ID tokens with ${application.algorithm}, but the server has no active ${application.algorithm} key; add one to \`oidc.signingKeys\` or change the application's algorithm`)
  }
  return application.algorithm
}

/**
 * The host's extra ID-token claims (`getIdTokenClaims`), as UserInfo treats its claims: standard
 * claims only with the scope that releases them (OIDC Core §5.4), custom claims as given, and
 * the reserved protocol claims dropped.
 */
async function hostClaims (ctx: ServerContext, input: IdTokenInput): Promise<Record<string, unknown>> {
  const hook = ctx.oidc?.getIdTokenClaims
  if (hook == null) return {}
  const given = await hook(input.userId, input.scopes, { clientId: input.application.clientId })
  if (given === null || given === undefined) return {}
  if (typeof given !== 'object' || Array.isArray(given)) {
    throw new ImproperlyConfiguredError('OAT_ERR_OPTIONS', 'fastify-oauth-toolkit: oidc.getIdTokenClaims must return an object of claims, null or undefined')
  }
  const { sub: _sub, ...claims } = filterClaims(given, input.scopes, input.userId)
  for (const name of RESERVED_ID_TOKEN_CLAIMS) Reflect.deleteProperty(claims, name)
  return claims
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
 * Signs an ID token with the active key of the application's algorithm (`kid` in the header),
 * or with the client secret for HS256 applications, and returns it with the id-token row to
 * store; `null` when none is due (OIDC off, or no `openid` scope). The host's extra claims
 * (`getIdTokenClaims`) come first, so the protocol claims always win.
 */
export async function prepareIdToken (ctx: ServerContext, input: IdTokenInput): Promise<PreparedIdToken | null> {
  if (!wantsIdToken(ctx, input.scopes) || ctx.oidc === null) return null
  if (input.issuer === null) {
    throw new ImproperlyConfiguredError('OAT_ERR_SETTINGS', 'fastify-oauth-toolkit: an ID token needs an issuer: set the `issuer` setting or call the endpoint through the routes plugin')
  }
  const now = ctx.clock.now()
  const expiresAt = addSeconds(now, ctx.settings.idTokenExpireSeconds)
  const jti = ctx.random.uuid()
  const alg = idTokenAlgorithm(ctx, input.application)
  const claims: Record<string, unknown> = await hostClaims(ctx, input)
  if (input.authTime !== null) claims.auth_time = toEpochSeconds(input.authTime)
  if (input.nonce !== '') claims.nonce = input.nonce
  if (input.accessToken !== undefined) claims.at_hash = leftHalfHash(input.accessToken, alg)
  if (input.code !== undefined) claims.c_hash = leftHalfHash(input.code, alg)
  // Back-Channel Logout 1.0 §2.1: the RP keys its own session on `sid`, which logout tokens name.
  if (input.sid != null) claims.sid = input.sid
  const key = alg === 'HS256' ? null : activeKeyFor(ctx.oidc.keys, alg) ?? null
  const jwt = await new SignJWT(claims)
    .setProtectedHeader(key === null ? { alg: 'HS256', typ: 'JWT' } : { alg, kid: key.kid, typ: 'JWT' })
    .setIssuer(input.issuer)
    .setSubject(input.userId)
    .setAudience(input.application.clientId)
    .setIssuedAt(toEpochSeconds(now))
    .setExpirationTime(toEpochSeconds(expiresAt))
    .setJti(jti)
    .sign(key === null ? hs256KeyOf(ctx, input.application) : key.privateKey)
  return {
    jwt,
    record: { jti, applicationId: input.application.id, userId: input.userId, scope: input.scopes.join(' '), expiresAt },
  }
}
