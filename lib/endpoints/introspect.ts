import { toEpochSeconds } from '../clock.js'
import type { ServerContext } from '../context.js'
import { InvalidClientError, InvalidRequestError, OAuthError } from '../errors.js'
import { param, type OAuthRequest, type Params } from '../request.js'
import { authenticateBearer } from '../resource/bearer.js'
import { bearerChallenge, noStoreJson, type OAuthResponse } from '../response.js'
import type { Application } from '../store/types.js'
import { tokenChecksum } from '../tokens/checksum.js'
import { refreshTokenExpiresAt } from '../tokens/refresh-expiry.js'
import { authenticateClient, challengeIfBasic } from '../validator/client-auth.js'
import { INTROSPECTION_SCOPE, mayIntrospect } from '../validator/scopes.js'
import { corsHeaders, withCors } from './cors.js'

/** Resolves a user id to the `username` introspection reports; `undefined` leaves it out. */
export type UsernameOf = (userId: string) => Promise<string | undefined>

/** The RFC 7662 §2.2 response of an active token. */
export interface IntrospectionBody {
  active: boolean
  scope?: string
  client_id?: string
  username?: string
  token_type?: 'Bearer' | 'DPoP' | 'refresh_token'
  exp?: number
  iat?: number
  sub?: string
  aud?: string | string[]
  /** RFC 9449 §6.2: the DPoP key a bound access token is confirmed by. */
  cnf?: { jkt: string }
}

/**
 * The authenticated caller and what it may learn (RFC 7662 §4: the server decides which
 * callers learn about which tokens, so that introspection cannot be used to scan for them).
 */
interface Introspector {
  /** The caller's application: its own tokens are always described to it. */
  readonly application: Application
  /** A resource server (`allowIntrospection`): learns about every client's access tokens. */
  readonly resourceServer: boolean
}

/**
 * `GET/POST {prefix}/introspect/` (RFC 7662). The caller authenticates with a confidential
 * client's credentials, or with a bearer token holding the `introspection` scope; else 401
 * (§2.1). A resource server (an application with `allowIntrospection`, or such a bearer token)
 * learns about every client's access tokens; any other client only about its own. Refresh
 * tokens are described only to the client holding them: a resource server must never mistake
 * one for an access token. Everything else, like unknown, expired and revoked tokens, is
 * exactly `{"active": false}` (§2.2).
 */
export async function introspectionEndpoint (ctx: ServerContext, req: OAuthRequest, usernameOf: UsernameOf,
  issuer: string | null = ctx.settings.issuer): Promise<OAuthResponse> {
  const params = introspectionParams(req)
  const caller = await authenticateCaller(ctx, req, params, issuer)
  return await withCors(corsHeaders(req, caller.application), () => describeToken(ctx, params, usernameOf, caller))
}

/** §2.2: the whole answer about a token the caller may not learn about, or that is not active. */
const INACTIVE: IntrospectionBody = Object.freeze({ active: false })

async function describeToken (ctx: ServerContext, params: Params, usernameOf: UsernameOf, caller: Introspector): Promise<OAuthResponse> {
  const token = param(params, 'token')
  if (token === undefined) throw new InvalidRequestError({ description: 'Request is missing token parameter.' })
  const hint = param(params, 'token_type_hint')
  const checksum = tokenChecksum(token)
  const now = ctx.clock.now()

  // §2.1: the hint only orders the search, and a wrong one still finds the token; an unknown
  // hint is ignored (the server MAY ignore it; the revocation endpoint does the same, RFC 7009 §2.2).
  const describe = hint === 'refresh_token' ? [describeRefresh, describeAccess] : [describeAccess, describeRefresh]
  for (const lookup of describe) {
    const body = await lookup(ctx, checksum, now, usernameOf, caller)
    if (body !== null) return noStoreJson(200, body)
  }
  return noStoreJson(200, INACTIVE)
}

/** POST reads the form body; GET (DOT parity) and its automatic HEAD twin the query string. */
function introspectionParams (req: OAuthRequest): Params {
  // RFC 6749 §2.3.1: client credentials MUST NOT travel in the request URI (it gets logged);
  // nor does a client assertion, which anyone reading the log could use before its owner does.
  if (Object.hasOwn(req.query, 'client_secret') || Object.hasOwn(req.query, 'client_assertion')) throw new InvalidRequestError({ description: 'Client credentials must not be sent in the URI.' })
  let params: Params
  if (req.method === 'GET' || req.method === 'HEAD') {
    params = req.query
  } else {
    if (req.unsupportedBody || req.body === null) throw new InvalidRequestError({ description: 'The request body must be application/x-www-form-urlencoded.' })
    params = req.body
  }
  const repeated = ['token', 'token_type_hint', 'client_id', 'client_secret'].filter((name) => req.duplicated.has(name))
  if (repeated.length > 0) throw new InvalidRequestError({ description: `Parameter repeated: ${repeated.join(', ')}.` })
  return params
}

/**
 * RFC 7662 §2.1: client credentials of a confidential client, or a bearer token with the
 * introspection scope. The scope is only ever granted to applications with `allowIntrospection`,
 * and the token's application must still have it: a permission withdrawn, or a token issued
 * before the scope was reserved, authorizes nothing.
 */
async function authenticateCaller (ctx: ServerContext, req: OAuthRequest, params: Params, issuer: string | null): Promise<Introspector> {
  if (/^bearer(\s|$)/i.test(req.headers.authorization ?? '')) {
    const result = await authenticateBearer(ctx, { authorization: req.headers.authorization, queryToken: undefined }, [INTROSPECTION_SCOPE])
    const application = result.ok ? result.token.application : null
    if (application === null || !mayIntrospect(application)) {
      throw new OAuthError('invalid_token', 401, {
        description: 'The access token is invalid or lacks the introspection scope.',
        detail: result.ok ? 'introspection-scoped token of an application without allowIntrospection' : undefined,
        headers: bearerChallenge({ error: 'invalid_token' }),
      })
    }
    return { application, resourceServer: true }
  }
  const client = await authenticateClient(ctx, req, params, issuer, 'introspection')
  if (client.application.clientType !== 'confidential') throw new InvalidClientError({ detail: 'public clients may not introspect', ...challengeIfBasic(req) })
  return { application: client.application, resourceServer: mayIntrospect(client.application) }
}

/** An access token: described to a resource server, or to the client it was issued to. */
async function describeAccess (ctx: ServerContext, checksum: string, now: Date, usernameOf: UsernameOf, caller: Introspector): Promise<IntrospectionBody | null> {
  const record = await ctx.store.findAccessToken(checksum)
  if (record === null) return null
  if (record.expiresAt.getTime() <= now.getTime()) return INACTIVE
  if (!caller.resourceServer && record.applicationId !== caller.application.id) return INACTIVE
  const application = record.applicationId === null ? null : await ctx.store.findApplicationById(record.applicationId)
  const body: IntrospectionBody = {
    active: true,
    scope: record.scope,
    token_type: record.jkt === '' ? 'Bearer' : 'DPoP',
    exp: toEpochSeconds(record.expiresAt),
    iat: toEpochSeconds(record.createdAt),
  }
  if (record.jkt !== '') body.cnf = { jkt: record.jkt }
  if (application !== null) body.client_id = application.clientId
  if (record.userId !== null) {
    body.sub = record.userId
    const username = await usernameOf(record.userId)
    if (username !== undefined) body.username = username
  }
  const audience = record.resource.split(' ').filter((r) => r !== '')
  if (audience.length > 0) body.aud = audience.length === 1 ? audience[0] : audience
  return body
}

/**
 * A refresh token: described only to the client holding it, resource servers included. A
 * refresh token is no credential at a resource server, and one reported active there would be
 * taken for an access token by resource servers that read only `active`.
 */
async function describeRefresh (ctx: ServerContext, checksum: string, now: Date, usernameOf: UsernameOf, caller: Introspector): Promise<IntrospectionBody | null> {
  const record = await ctx.store.findRefreshToken(checksum)
  if (record === null) return null
  const expiresAt = refreshTokenExpiresAt(ctx.settings, record)
  if (record.revokedAt !== null || (expiresAt !== null && now >= expiresAt)) return INACTIVE
  if (record.applicationId !== caller.application.id) return INACTIVE
  const application = await ctx.store.findApplicationById(record.applicationId)
  const body: IntrospectionBody = { active: true, scope: record.scope, token_type: 'refresh_token', iat: toEpochSeconds(record.createdAt) }
  if (expiresAt !== null) body.exp = toEpochSeconds(expiresAt)
  if (application !== null) body.client_id = application.clientId
  if (record.userId !== null) {
    body.sub = record.userId
    const username = await usernameOf(record.userId)
    if (username !== undefined) body.username = username
  }
  return body
}
