import { SignJWT } from 'jose'
import { addSeconds, toEpochSeconds } from '../clock.js'
import type { ServerContext } from '../context.js'
import type { Application } from '../store/types.js'
import { hs256KeyOf, idTokenAlgorithm } from './id-token.js'
import { activeKeyFor } from './signing-keys.js'

/** OpenID Connect Back-Channel Logout 1.0 §2.4: the member of `events` that makes a JWT a logout token. */
export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout'

/**
 * How long a logout token is valid, in seconds. Back-Channel Logout 1.0 §2.4 recommends a short
 * lifetime (the token is POSTed at once; a fresh one, with new `iat` and `jti`, is signed for
 * each retry), and RPs that remember `jti` against replay (§2.6) need remember it only that long.
 */
export const LOGOUT_TOKEN_EXPIRE_SECONDS = 120

/** What a logout token says. */
export interface LogoutTokenInput {
  readonly issuer: string
  readonly application: Application
  /** The user, as the `sub` of the ID tokens the relying party received. */
  readonly userId: string
  /** The ended session's `sid`, as its ID tokens carried it. */
  readonly sid: string
}

/**
 * Signs a logout token (Back-Channel Logout 1.0 §2.4) as the relying party's ID tokens are
 * signed (its algorithm, the server's active key of it, or HS256 with its secret), so it
 * verifies it the same way: `iss`, `aud` (its client id), `iat`, a short `exp`, `jti`, `events`
 * with the back-channel logout member, `sub` and `sid` (both: the token names the session and the
 * user, so an RP keyed on either, or requiring `sid`, §2.2, finds it). No `nonce`: §2.4 forbids
 * one, so a logout token can never pass for an ID token. `typ: logout+jwt` (§2.4, RFC 8725 §3.11)
 * keeps it apart from other JWTs the RP receives.
 */
export async function signLogoutToken (ctx: ServerContext, input: LogoutTokenInput): Promise<string> {
  const alg = idTokenAlgorithm(ctx, input.application)
  const now = ctx.clock.now()
  const key = alg === 'HS256' || ctx.oidc === null ? null : activeKeyFor(ctx.oidc.keys, alg) ?? null
  return await new SignJWT({ events: { [BACKCHANNEL_LOGOUT_EVENT]: {} }, sid: input.sid })
    .setProtectedHeader(key === null ? { alg: 'HS256', typ: 'logout+jwt' } : { alg, kid: key.kid, typ: 'logout+jwt' })
    .setIssuer(input.issuer)
    .setSubject(input.userId)
    .setAudience(input.application.clientId)
    .setIssuedAt(toEpochSeconds(now))
    .setExpirationTime(toEpochSeconds(addSeconds(now, LOGOUT_TOKEN_EXPIRE_SECONDS)))
    .setJti(ctx.random.uuid())
    .sign(key === null ? hs256KeyOf(ctx, input.application) : key.privateKey)
}
