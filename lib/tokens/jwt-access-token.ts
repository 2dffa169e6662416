import { SignJWT } from 'jose'
import { toEpochSeconds } from '../clock.js'
import type { ServerContext } from '../context.js'
import { ImproperlyConfiguredError } from '../errors.js'
import type { Application } from '../store/types.js'
import { activeKeyFor } from './signing-keys.js'

/** The media type of RFC 9068 access tokens, as the `typ` header carries it (§2.1). */
export const AT_JWT_TYPE = 'at+jwt'

/** What a JWT access token says about itself (RFC 9068 §2.2). */
export interface JwtAccessTokenInput {
  readonly application: Application
  /** The resource owner; `null` for client-credentials tokens, whose `sub` is then the client id (§2.2). */
  readonly userId: string | null
  readonly scopes: readonly string[]
  /** RFC 8707 resource indicators the token is restricted to (empty: the default audience). */
  readonly resource: readonly string[]
  readonly issuedAt: Date
  readonly expiresAt: Date
  /** When the user authenticated, where known (RFC 9068 §2.2.1 `auth_time`). */
  readonly authTime?: Date | null
  /** RFC 9449 §6.1: the DPoP key the token is bound to, as `cnf.jkt`; `''` or absent for a bearer token. */
  readonly jkt?: string
}

/**
 * The `aud` of a JWT access token (RFC 9068 §3): the requested resource indicators, else the
 * configured default resource. Never the client: a client is not the audience of its access
 * token, and an `aud` equal to the client id would let the token pass for an ID token.
 */
export function accessTokenAudience (ctx: ServerContext, resource: readonly string[]): string | string[] {
  const audience = resource.length > 0 ? resource : ctx.settings.accessTokenDefaultAudience
  if (audience === null) throw new ImproperlyConfiguredError('OAT_ERR_SETTINGS', 'fastify-oauth-toolkit: JWT access tokens need accessTokenDefaultAudience')
  return typeof audience === 'string' ? audience : audience.length === 1 ? (audience[0] ?? '') : [...audience]
}

/**
 * Signs an RFC 9068 access token with the server's active key for the
 * `accessTokenSigningAlgorithm` setting (`kid` and `typ: at+jwt` in the header). The caller
 * stores its checksum like any opaque token.
 */
export async function signJwtAccessToken (ctx: ServerContext, input: JwtAccessTokenInput): Promise<string> {
  const issuer = ctx.settings.issuer
  if (ctx.oidc === null || issuer === null) {
    throw new ImproperlyConfiguredError('OAT_ERR_OPTIONS', 'fastify-oauth-toolkit: JWT access tokens need the issuer setting and a signing key (`oidc: { privateKey }`)')
  }
  const alg = ctx.settings.accessTokenSigningAlgorithm
  const key = activeKeyFor(ctx.oidc.keys, alg)
  if (key === undefined) throw new ImproperlyConfiguredError('OAT_ERR_OPTIONS', `fastify-oauth-toolkit: accessTokenSigningAlgorithm is ${alg}, but the oidc option has no active ${alg} key`)
  const claims: Record<string, unknown> = { client_id: input.application.clientId }
  if (input.scopes.length > 0) claims.scope = input.scopes.join(' ')
  if (input.authTime !== undefined && input.authTime !== null) claims.auth_time = toEpochSeconds(input.authTime)
  if (input.jkt !== undefined && input.jkt !== '') claims.cnf = { jkt: input.jkt }
  return await new SignJWT(claims)
    .setProtectedHeader({ alg, kid: key.kid, typ: AT_JWT_TYPE })
    .setIssuer(issuer)
    // §2.2: `sub` is the resource owner, or the client itself when no resource owner is involved.
    .setSubject(input.userId ?? input.application.clientId)
    .setAudience(accessTokenAudience(ctx, input.resource))
    .setIssuedAt(toEpochSeconds(input.issuedAt))
    .setExpirationTime(toEpochSeconds(input.expiresAt))
    .setJti(ctx.random.uuid())
    .sign(key.privateKey)
}
