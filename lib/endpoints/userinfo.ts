import { SignJWT } from 'jose'
import type { ServerContext } from '../context.js'
import { ImproperlyConfiguredError, InvalidRequestError, InvalidTokenError, OAuthError } from '../errors.js'
import type { OAuthRequest } from '../request.js'
import { checkAudience } from '../resource/audience.js'
import { checkScopes, extractBearerToken, verifyAccessToken, type BearerResult } from '../resource/bearer.js'
import { noStoreJson, resourceDenial, type OAuthResponse } from '../response.js'
import { checkBinding, extractDpopToken, requireBinding, usesDpopScheme, verifyResourceProof } from '../dpop/resource.js'
import { serverOrigin } from '../dpop/server.js'
import type { Settings } from '../settings.js'
import type { Application } from '../store/types.js'
import { activeKeyFor, SIGNING_KEY_ALGORITHMS, type SigningKeyAlgorithm } from '../tokens/signing-keys.js'

/** OIDC Core §5.4: the standard claims each scope asks for (DOT's `oidc_claim_scope`). */
export const CLAIMS_BY_SCOPE: Readonly<Record<string, readonly string[]>> = Object.freeze({
  profile: ['name', 'family_name', 'given_name', 'middle_name', 'nickname', 'preferred_username', 'profile',
    'picture', 'website', 'gender', 'birthdate', 'zoneinfo', 'locale', 'updated_at'],
  email: ['email', 'email_verified'],
  address: ['address'],
  phone: ['phone_number', 'phone_number_verified'],
})

/** Standard claim → the scope that releases it. */
const SCOPE_OF_CLAIM: ReadonlyMap<string, string> = new Map(
  Object.entries(CLAIMS_BY_SCOPE).flatMap(([scope, claims]) => claims.map((claim) => [claim, scope] as const)))

/** The standard claims the server's known scopes can release (for `claims_supported`). */
export function releasableClaims (settings: Settings): string[] {
  return Object.entries(CLAIMS_BY_SCOPE).filter(([scope]) => scope in settings.scopes).flatMap(([, claims]) => claims)
}

/**
 * Keeps the standard claims whose scope was granted and every custom claim (DOT parity:
 * claims outside the mapping are not filtered); `sub` is always the token's user (§5.3.2).
 */
export function filterClaims (claims: Readonly<Record<string, unknown>>, scopes: readonly string[], userId: string): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [name, value] of Object.entries(claims)) {
    const scope = SCOPE_OF_CLAIM.get(name)
    if (value !== undefined && name !== 'sub' && (scope === undefined || scopes.includes(scope))) out[name] = value
  }
  return { sub: userId, ...out }
}

/** CORS for UserInfo: any origin, no credentials (DOT `OIDC_USERINFO_CORS_ENABLED`). */
const CORS = { 'access-control-allow-origin': '*', 'access-control-expose-headers': 'WWW-Authenticate, DPoP-Nonce' } as const

/**
 * `GET/POST {prefix}/userinfo/` (OIDC Core §5.3): a bearer token with `openid` gets the user's
 * claims. The token comes in the `Authorization` header or, on POST, a form body's
 * `access_token` (RFC 6750 §2.2; OIDF `oidcc-userinfo-post-body`). Failures are RFC 6750 §3
 * challenges: 401 `invalid_token`, 403 `insufficient_scope`, 400 `invalid_request`. A token
 * bound to RFC 8707 resources is refused (`invalid_token`): its audience is those services.
 * A client registered with `userinfo_signed_response_alg` gets the claims as a JWS instead
 * (`application/jwt`, §5.3.2), with `iss` (`issuer`) and `aud` (its client_id).
 * @param issuer this server's issuer identifier, for signed responses (the `issuer` setting when omitted).
 */
export async function userInfoEndpoint (ctx: ServerContext, req: OAuthRequest, issuer: string | null = ctx.settings.issuer): Promise<OAuthResponse> {
  try {
    const result = await verifyUserInfoToken(ctx, req)
    if (!result.ok) throw result.error
    const { userId, scopes } = result.token
    if (userId === null) throw new InvalidTokenError({ detail: 'the token has no user (client credentials)' })
    const claims = ctx.oidc?.getUserClaims == null ? {} : await ctx.oidc.getUserClaims(userId, scopes)
    // The host no longer knows the user: the token speaks for nobody (fail closed).
    if (claims === null || typeof claims !== 'object') throw new InvalidTokenError({ detail: 'getUserClaims found no user' })
    const released = filterClaims(claims, scopes, userId)
    const application = result.token.application
    if (application !== null && application.userinfoSignedResponseAlg !== '') {
      return { status: 200, headers: { 'content-type': 'application/jwt', ...NO_STORE, ...CORS }, body: await signUserInfo(ctx, application, released, issuer) }
    }
    return noStoreJson(200, released, CORS)
  } catch (err) {
    // RFC 6750 §3 challenges, always (OIDC Core §5.3.3), whatever the `bearerChallenge` setting.
    if (err instanceof OAuthError) {
      return resourceDenial(err, {
        bearerChallenge: true,
        realm: ctx.settings.realm,
        requiredScopes: ['openid'],
        headers: CORS,
        dpopAlgorithms: ctx.dpop == null ? null : ctx.dpop.algorithms,
        dpopScheme: ctx.dpop != null && usesDpopScheme(req.headers.authorization),
      })
    }
    throw err
  }
}

const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' } as const

/**
 * OIDC Core §5.3.2: the released claims signed with the server's active key of the client's
 * `userinfo_signed_response_alg` (`kid` in the header), with `iss` and `aud` added. A client
 * whose algorithm has no active key any more (the key was removed after it registered) is a
 * misconfiguration said loudly, never answered in another algorithm or unsigned: the relying
 * party would either refuse it or, worse, learn to accept what it did not ask for.
 */
async function signUserInfo (ctx: ServerContext, application: Application, claims: Record<string, unknown>, issuer: string | null): Promise<string> {
  const alg = application.userinfoSignedResponseAlg as SigningKeyAlgorithm
  const key = ctx.oidc == null || !SIGNING_KEY_ALGORITHMS.includes(alg) ? undefined : activeKeyFor(ctx.oidc.keys, alg)
  if (key === undefined) {
    throw new ImproperlyConfiguredError('OAT_ERR_OPTIONS', `fastify-oauth-toolkit: application ${application.id} asks for UserInfo signed with ${alg}, but the server has no active ${alg} key; add one to \`oidc.signingKeys\` or change the application's userinfo_signed_response_alg`)
  }
  if (issuer === null) {
    throw new ImproperlyConfiguredError('OAT_ERR_SETTINGS', 'fastify-oauth-toolkit: a signed UserInfo response needs an issuer: set the `issuer` setting or call the endpoint through the routes plugin')
  }
  // `sub` is the token's user (filterClaims put it first); the protocol claims are the server's.
  return await new SignJWT({ ...claims, iss: issuer, aud: application.clientId })
    .setProtectedHeader({ alg, kid: key.kid, typ: 'JWT' })
    .sign(key.privateKey)
}

/** The token from the header, the query (only where allowed) or a POSTed form; one method only (RFC 6750 §2). */
async function verifyUserInfoToken (ctx: ServerContext, req: OAuthRequest): Promise<BearerResult> {
  const queryToken = req.query.access_token
  const bodyToken = req.method === 'POST' ? req.body?.access_token : undefined
  if (req.duplicated.has('access_token')) throw new InvalidRequestError({ description: 'Parameter repeated: access_token.' })
  if (bodyToken !== undefined && (req.headers.authorization !== undefined || queryToken !== undefined)) {
    throw new InvalidRequestError({ description: 'Send the access token by one method only.' })
  }
  // RFC 9449 §7: a DPoP-bound token comes with the DPoP scheme and a proof for this request.
  const dpop = ctx.dpop != null && bodyToken === undefined && usesDpopScheme(req.headers.authorization) ? ctx.dpop : null
  const token = bodyToken ?? (dpop === null
    ? extractBearerToken(ctx, { authorization: req.headers.authorization, queryToken })
    : extractDpopToken({ authorization: req.headers.authorization, queryToken }))
  if (typeof token !== 'string') return { ok: false, error: token }
  const result = await verifyAccessToken(ctx, token)
  if (!result.ok) return result
  const jkt = dpop === null ? '' : await verifyResourceProof(dpop, serverOrigin(ctx.settings), { authorization: req.headers.authorization, dpop: req.headers.dpop, method: req.method, target: req.url ?? '' }, token)
  if (typeof jkt !== 'string') return { ok: false, error: jkt }
  const bindingError = checkBinding(result.token.jkt, jkt) ?? requireBinding(ctx.settings.dpopRequired, result.token.jkt)
  if (bindingError !== null) return { ok: false, error: bindingError }
  // RFC 8707: a token bound to resources is for those services, not for this server's UserInfo
  // (the same rule as a route that declares no resource).
  const audienceError = checkAudience(ctx.settings, result.token, null)
  if (audienceError !== null) return { ok: false, error: audienceError }
  const scopeError = checkScopes(result.token, ['openid'])
  return scopeError === null ? result : { ok: false, error: scopeError }
}

/** A CORS preflight of UserInfo: any origin may call it with a bearer header. */
export function userInfoPreflight (): OAuthResponse {
  return {
    status: 204,
    headers: {
      allow: 'GET, POST, OPTIONS',
      ...CORS,
      'access-control-allow-methods': 'GET, POST',
      'access-control-allow-headers': 'Authorization, Content-Type, DPoP',
      'access-control-max-age': '3600',
    },
    body: null,
  }
}
