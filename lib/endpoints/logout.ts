import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose'
import type { ServerContext } from '../context.js'
import { InvalidRequestError, type OAuthError } from '../errors.js'
import { lookupClient } from '../registration/cimd.js'
import { param, type Params } from '../request.js'
import type { Application, ApplicationGrantType } from '../store/types.js'
import { hs256KeyOf } from '../tokens/id-token.js'
import { SIGNING_KEY_ALGORITHMS } from '../tokens/signing-keys.js'
import { notifyAccessTokenRevoked } from '../events.js'

/** The parameters of OpenID Connect RP-Initiated Logout 1.0 §2 the toolkit reads. */
export const LOGOUT_PARAMETERS = ['id_token_hint', 'client_id', 'post_logout_redirect_uri', 'state'] as const

/** A validated logout request. */
export interface LogoutRequest {
  /** The relying party, from `client_id` or the hint's `aud`; `null` when neither was sent. */
  readonly application: Application | null
  /** The hint's `sub`: the user the RP believes is logged in; `null` without a hint. */
  readonly hintUserId: string | null
  /** Where to send the browser afterwards (a URI the application registered), else `null`. */
  readonly postLogoutRedirectUri: string | null
  readonly state: string | undefined
  /** The request's own parameters, to carry through the confirmation form. */
  readonly params: Readonly<Record<string, string>>
}

/** The outcome of validating a logout request; failures are shown, never redirected (no open redirect). */
export type LogoutCheck =
  | { readonly ok: true, readonly request: LogoutRequest }
  | { readonly ok: false, readonly error: OAuthError }

/** Application types whose tokens a browser sign-in produced (DOT deletes those on logout). */
const BROWSER_GRANT_TYPES: ReadonlySet<ApplicationGrantType> = new Set(['authorization-code', 'implicit', 'openid-hybrid'])

const invalid = (description: string, detail?: string): LogoutCheck => ({ ok: false, error: new InvalidRequestError({ description, detail }) })

/**
 * RP-Initiated Logout 1.0 §2–3 (DOT's `validate_logout_request`): the `id_token_hint` must be
 * an ID token this server signed (with one of its keys, or HS256 with the secret of the
 * HS256 application it names; `alg: none` and asymmetric/HS algorithm confusion refused) for this issuer,
 * expired ones accepted when the settings say so; `client_id` must agree with it;
 * `post_logout_redirect_uri` must be one the application registered, exactly.
 */
export async function validateLogoutRequest (ctx: ServerContext, params: Params, duplicated: ReadonlySet<string>, issuer: string): Promise<LogoutCheck> {
  const repeated = LOGOUT_PARAMETERS.filter((name) => duplicated.has(name))
  if (repeated.length > 0) return invalid(`Parameter repeated: ${repeated.join(', ')}.`)
  const hint = param(params, 'id_token_hint')
  const clientId = param(params, 'client_id')
  const redirectUri = param(params, 'post_logout_redirect_uri')

  let claims: JWTPayload | null = null
  if (hint !== undefined) {
    claims = await verifyHint(ctx, hint, issuer)
    if (claims === null) return invalid('The id_token_hint is not valid.')
  }
  const audiences = claims === null ? [] : typeof claims.aud === 'string' ? [claims.aud] : claims.aud ?? []
  if (clientId !== undefined && claims !== null && !audiences.includes(clientId)) {
    return invalid('The client_id does not match the id_token_hint.', 'client_id is not an audience of the hint')
  }
  const appClientId = clientId ?? audiences[0]
  // A client that took part in a sign-in is stored: a metadata document URL never seen is an
  // unknown client here (no fetch), a stale document is fetched again so that its current
  // post_logout_redirect_uris decide, and a document client is unknown while cimdEnabled is off.
  const application = appClientId === undefined ? null : (await lookupClient(ctx, appClientId, { fetch: 'refresh' })).application
  if (appClientId !== undefined && application === null) return invalid('Invalid client_id parameter value.')
  if (redirectUri !== undefined) {
    // RP-Initiated Logout §3: only with a known client, and only a URI it registered: no open redirect.
    if (application === null) return invalid('post_logout_redirect_uri needs client_id or id_token_hint.')
    if (!application.postLogoutRedirectUris.includes(redirectUri)) return invalid('Mismatching post_logout_redirect_uri.')
  }
  const carried: Record<string, string> = {}
  for (const name of LOGOUT_PARAMETERS) {
    const value = params[name]
    if (value !== undefined) carried[name] = value
  }
  return {
    ok: true,
    request: {
      application,
      hintUserId: typeof claims?.sub === 'string' ? claims.sub : null,
      postLogoutRedirectUri: redirectUri ?? null,
      state: params.state,
      params: carried,
    },
  }
}

/**
 * Verifies the hint against this server's own public keys (active and inactive, each with its
 * own algorithm), or, for an HS256 hint, against
 * the sealed secret of the one HS256 application it is addressed to; an expired one passes only
 * when allowed. The algorithm picks the key source, and each source allows its algorithm only.
 */
async function verifyHint (ctx: ServerContext, hint: string, issuer: string): Promise<JWTPayload | null> {
  if (ctx.oidc === null) return null
  // The same keys sign this server's other JWTs: RFC 9068 access tokens (`typ: at+jwt`), logout
  // tokens (`logout+jwt`) and signed UserInfo responses (`JWT`, but with no `exp` or `iat`). Only
  // an ID token is a hint (RFC 8725 §3.11): its `typ` is `JWT` and OIDC Core §2 requires the
  // claims below, so none of the others passes for one.
  const options = { issuer, currentDate: ctx.clock.now(), typ: 'JWT', requiredClaims: ['sub', 'aud', 'exp', 'iat'] }
  try {
    if (hs256Hint(hint)) {
      const application = await hs256Audience(ctx, hint)
      if (application === null) return null
      return (await jwtVerify(hint, hs256KeyOf(ctx, application), { ...options, audience: application.clientId, algorithms: ['HS256'] })).payload
    }
    const keys = createLocalJWKSet({ keys: [...ctx.oidc.keys.publicKeys] })
    // Every algorithm a published key is for: jose matches the header's `alg` to the key's.
    return (await jwtVerify(hint, keys, { ...options, algorithms: [...SIGNING_KEY_ALGORITHMS] })).payload
  } catch (err) {
    // jose checks the signature before the claims, so an expired hint here is genuine.
    if (err instanceof joseErrors.JWTExpired && ctx.settings.oidcRpInitiatedLogoutAcceptExpiredTokens) return err.payload
    return null
  }
}

function hs256Hint (hint: string): boolean {
  try {
    return decodeProtectedHeader(hint).alg === 'HS256'
  } catch {
    return false
  }
}

/** The HS256 application an (unverified) hint names as its only audience, if it can be verified with it. */
async function hs256Audience (ctx: ServerContext, hint: string): Promise<Application | null> {
  let aud: unknown
  try {
    aud = decodeJwt(hint).aud
  } catch {
    return null
  }
  const clientId = typeof aud === 'string' ? aud : Array.isArray(aud) && aud.length === 1 ? aud[0] as unknown : null
  if (typeof clientId !== 'string') return null
  // The audience is not verified yet: a stored client only, never a fetch for a new URL.
  const { application } = await lookupClient(ctx, clientId, { fetch: 'refresh' })
  if (application === null || application.algorithm !== 'HS256' || application.clientSecretSealed === '' || ctx.secretSealer == null) return null
  return application
}

/**
 * Whether the user must confirm (DOT's `must_prompt`): always when the settings say so, and
 * whenever the hint does not name the logged-in user.
 */
export function mustConfirmLogout (ctx: ServerContext, request: LogoutRequest, userId: string | null): boolean {
  return ctx.settings.oidcRpInitiatedLogoutAlwaysPrompt || request.hintUserId === null || request.hintUserId !== userId
}

/** DOT's `do_logout` token part: revokes the user's tokens from browser sign-ins (with their refresh families). */
export async function revokeBrowserTokens (ctx: ServerContext, userId: string): Promise<number> {
  if (!ctx.settings.oidcRpInitiatedLogoutDeleteTokens) return 0
  const now = ctx.clock.now()
  let revoked = 0
  for (const token of await ctx.store.listAccessTokensForUser(userId)) {
    const application = token.applicationId === null ? null : await ctx.store.findApplicationById(token.applicationId)
    if (application === null || !BROWSER_GRANT_TYPES.has(application.authorizationGrantType)) continue
    await ctx.store.revokeAccessToken(token.id, now)
    notifyAccessTokenRevoked(ctx, 'logout', token, application.clientId)
    revoked++
  }
  return revoked
}

/** Where the browser goes after logging out: the registered URI with `state` (§3), or `null`. */
export function postLogoutLocation (request: LogoutRequest): string | null {
  if (request.postLogoutRedirectUri === null) return null
  if (request.state === undefined) return request.postLogoutRedirectUri
  const separator = request.postLogoutRedirectUri.includes('?') ? '&' : '?'
  return `${request.postLogoutRedirectUri}${separator}${new URLSearchParams({ state: request.state }).toString()}`
}
