import type { ServerContext } from '../context.js'
import { nowMs } from '../clock.js'
import { InsufficientScopeError, InvalidRequestError, InvalidTokenError, MissingBearerTokenError, type OAuthError } from '../errors.js'
import { tokenChecksum } from '../tokens/checksum.js'
import type { DpopVerifier } from '../dpop/proof.js'
import type { Application } from '../store/types.js'
import { freezeApplication } from '../validator/client-cache.js'
import { hasScopes, scopeList } from '../validator/scopes.js'
import { checkAudience } from './audience.js'
import { checkBinding, extractDpopToken, requireBinding, usesDpopScheme, verifyResourceProof, type DpopPresentation } from '../dpop/resource.js'
import { serverOrigin } from '../dpop/server.js'

/**
 * The host application's user, as `loadUser` returns it and `request.resourceOwner` holds it.
 * Empty here; host apps augment it so that `request.resourceOwner` is typed without casts:
 * @example
 * declare module 'fastify-oauth-toolkit' {
 *   interface ResourceOwner { id: number, username: string }
 * }
 */
export interface ResourceOwner {}

/** A verified access token, as `request.accessToken` exposes it. */
export interface AccessTokenInfo {
  /** The token's row id in the local store; `null` when a standalone resource server verified it remotely. */
  readonly id: number | null
  /** Granted scopes. */
  readonly scopes: readonly string[]
  readonly expiresAt: Date
  /** The resource owner's id; `null` for client-credentials tokens. */
  readonly userId: string | null
  /** The client the token was issued to (`null` on a standalone resource server: see `clientId`). */
  readonly application: Application | null
  /** RFC 8707 resource indicators the token is restricted to (empty: unrestricted). */
  readonly resource: readonly string[]
  /** How it was verified; absent means the local store (standalone resource servers: `introspection` or `jwt`). */
  readonly verifiedBy?: 'store' | 'introspection' | 'jwt'
  /** The `client_id` the remote authorization server reported (standalone resource servers only). */
  readonly clientId?: string | null
  /** The RFC 7662 introspection response or the RFC 9068 JWT claims, as received (standalone resource servers only). */
  readonly claims?: Readonly<Record<string, unknown>>
  /**
   * RFC 9449: the JWK SHA-256 thumbprint of the DPoP key the token is bound to (`cnf.jkt`); `''` or
   * absent for a bearer token. A bound token passes only with the `DPoP` scheme and a proof of that key.
   */
  readonly jkt?: string
}

/** The outcome of checking a request's bearer token. */
export type BearerResult =
  | { readonly ok: true, readonly token: AccessTokenInfo }
  | { readonly ok: false, readonly error: OAuthError }

/**
 * Where the token is looked for: the `Authorization` header, and the query only where allowed.
 * With the `DPoP` scheme (RFC 9449 §7), also the request's `DPoP` proof, method and target.
 */
export interface BearerSource extends DpopPresentation {
  readonly authorization: string | undefined
  /** `access_token` from the query string, if any. */
  readonly queryToken: string | undefined
}

// RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/

/** Extracts the bearer token; an `OAuthError` for a malformed or forbidden presentation. */
export function extractBearerToken (ctx: Pick<ServerContext, 'settings'>, source: BearerSource): string | OAuthError {
  const header = source.authorization
  // The usual form, `Bearer <b64token>` with nothing in the query, without the general parse
  // below (the verification hot path); anything else takes the general parse.
  if (source.queryToken === undefined && header !== undefined && header.startsWith('Bearer ')) {
    const token = header.slice(7)
    if (B64TOKEN.test(token)) return token
  }
  let fromHeader: string | undefined
  if (header !== undefined) {
    const m = /^bearer(?:[ ]+(.*))?$/i.exec(header.trim())
    if (m !== null) {
      fromHeader = (m[1] ?? '').trim()
      if (!B64TOKEN.test(fromHeader)) return new InvalidRequestError({ description: 'The bearer token is malformed.' })
    }
  }
  if (source.queryToken !== undefined) {
    // RFC 6750 §2.3 / RFC 9700 §4.3.2: refused unless explicitly allowed.
    if (!ctx.settings.allowQueryStringTokens) return new InvalidRequestError({ description: 'Access tokens are not accepted in the query string.' })
    // RFC 6750 §2: a client MUST NOT use more than one method.
    if (fromHeader !== undefined) return new InvalidRequestError({ description: 'Send the access token by one method only.' })
    if (!B64TOKEN.test(source.queryToken)) return new InvalidRequestError({ description: 'The bearer token is malformed.' })
    return source.queryToken
  }
  if (fromHeader === undefined) return new MissingBearerTokenError()
  return fromHeader
}

/**
 * The verification cache's answer for `token`, without I/O: the verified token on a hit, `null`
 * when it is not cached (or the cache may not serve now) and the store must be asked.
 */
function cachedVerification (ctx: ServerContext, checksum: string, now: number): BearerResult | null {
  const hit = ctx.verificationCache?.get(checksum, now) ?? null
  return hit === null ? null : { ok: true, token: hit }
}

/**
 * Looks a token up by checksum (token and application in one query, or the verification cache)
 * and checks expiry. Expired, revoked and unknown tokens fail closed.
 */
export async function verifyAccessToken (ctx: ServerContext, token: string): Promise<BearerResult> {
  const checksum = tokenChecksum(token)
  const now = nowMs(ctx.clock)
  return cachedVerification(ctx, checksum, now) ?? await lookUpAccessToken(ctx, checksum, now)
}

/** The store half of `verifyAccessToken`: one joined lookup, cached when the cache is on. */
async function lookUpAccessToken (ctx: ServerContext, checksum: string, now: number): Promise<BearerResult> {
  const cache = ctx.verificationCache ?? null
  const generation = cache?.generation ?? 0
  const found = await ctx.store.findAccessTokenForVerification(checksum)
  if (found === null) return { ok: false, error: new InvalidTokenError({ detail: 'unknown or revoked access token' }) }
  const record = found.token
  if (now >= record.expiresAt.getTime()) {
    return { ok: false, error: new InvalidTokenError({ description: 'The access token has expired.', detail: 'expired access token' }) }
  }
  // Frozen: a cached verification is shared by every request presenting the token.
  const info: AccessTokenInfo = Object.freeze({
    id: record.id,
    scopes: Object.freeze(scopeList(record.scope)),
    expiresAt: record.expiresAt,
    userId: record.userId,
    application: found.application === null ? null : freezeApplication(found.application),
    resource: Object.freeze(scopeList(record.resource)),
    jkt: record.jkt,
  })
  cache?.set(checksum, info, generation, now, info.expiresAt.getTime())
  return { ok: true, token: info }
}

/** Checks scopes of a verified token (RFC 6750 §3.1 `insufficient_scope`). */
export function checkScopes (token: AccessTokenInfo, required: readonly string[]): OAuthError | null {
  return hasScopes(token.scopes, required) ? null : new InsufficientScopeError({ detail: `missing scopes: ${required.filter((s) => !token.scopes.includes(s)).join(' ')}` })
}

/** The binding, audience and scope checks of a verified token; `jkt` is the proof's key, `''` for a Bearer presentation. */
function checkVerified (ctx: ServerContext, result: BearerResult, required: readonly string[], resource: string | null, jkt = ''): BearerResult {
  if (!result.ok) return result
  const bindingError = checkBinding(result.token.jkt, jkt) ?? requireBinding(ctx.settings.dpopRequired, result.token.jkt)
  if (bindingError !== null) return { ok: false, error: bindingError }
  const audienceError = checkAudience(ctx.settings, result.token, resource)
  if (audienceError !== null) return { ok: false, error: audienceError }
  const scopeError = checkScopes(result.token, required)
  return scopeError === null ? result : { ok: false, error: scopeError }
}

/**
 * Verifies the request's token, its audience (RFC 8707: `resource` is the route's declared
 * resource, `null` for none) and, when given, its scopes, in one call.
 */
export async function authenticateBearer (ctx: ServerContext, source: BearerSource, required: readonly string[], resource: string | null = null): Promise<BearerResult> {
  const now = authenticateBearerNow(ctx, source, required, resource)
  return typeof now === 'string' ? await verifyChecksum(ctx, now, required, resource) : await now
}

/** The rest of `authenticateBearer` after a cache miss: the store's record of `checksum`, checked. */
export async function verifyChecksum (ctx: ServerContext, checksum: string, required: readonly string[], resource: string | null): Promise<BearerResult> {
  return checkVerified(ctx, await lookUpAccessToken(ctx, checksum, nowMs(ctx.clock)), required, resource)
}

/**
 * `authenticateBearer` as far as it goes without I/O (the synchronous cache-hit path): the
 * result when the presentation is refused or the token is in the verification cache, otherwise
 * the token's checksum, to be looked up in the store. Same checks and answers as
 * `authenticateBearer`, which it backs.
 */
export function authenticateBearerNow (ctx: ServerContext, source: BearerSource, required: readonly string[], resource: string | null = null): BearerResult | string | Promise<BearerResult> {
  // RFC 9449 §7: the DPoP scheme takes its own path; a Bearer header pays one character comparison.
  if (ctx.dpop != null && usesDpopScheme(source.authorization)) return authenticateDpop(ctx, ctx.dpop, source, required, resource)
  const token = extractBearerToken(ctx, source)
  if (typeof token !== 'string') return { ok: false, error: token }
  const checksum = tokenChecksum(token)
  const hit = cachedVerification(ctx, checksum, nowMs(ctx.clock))
  return hit === null ? checksum : checkVerified(ctx, hit, required, resource)
}

/**
 * A `DPoP` presentation (RFC 9449 §7.1): the token is looked up first (cheap, often cached), then
 * the proof is checked against this request and the token (`ath`), and the token's `cnf.jkt` must
 * be the proof's key.
 */
async function authenticateDpop (ctx: ServerContext, verifier: DpopVerifier, source: BearerSource, required: readonly string[], resource: string | null): Promise<BearerResult> {
  const token = extractDpopToken(source)
  if (typeof token !== 'string') return { ok: false, error: token }
  const verified = await verifyAccessToken(ctx, token)
  if (!verified.ok) return verified
  const jkt = await verifyResourceProof(verifier, serverOrigin(ctx.settings), source, token)
  if (typeof jkt !== 'string') return { ok: false, error: jkt }
  return checkVerified(ctx, verified, required, resource, jkt)
}
