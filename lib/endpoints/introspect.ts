import { toEpochSeconds } from '../clock.js'
import type { ServerContext } from '../context.js'
import { InvalidClientError, InvalidRequestError, OAuthError } from '../errors.js'
import { param, type OAuthRequest, type Params } from '../request.js'
import { authenticateBearer } from '../resource/bearer.js'
import { noStoreJson, type OAuthResponse } from '../response.js'
import type { Application } from '../store/types.js'
import { tokenChecksum } from '../tokens/checksum.js'
import { refreshTokenExpiresAt } from '../tokens/refresh-expiry.js'
import { authenticateClient } from '../validator/client-auth.js'
import { corsHeaders, withCors } from './cors.js'

/** The scope a bearer token needs to call the introspection endpoint (DOT parity). */
export const INTROSPECTION_SCOPE = 'introspection'

/** Resolves a user id to the `username` introspection reports; `undefined` leaves it out. */
export type UsernameOf = (userId: string) => Promise<string | undefined>

/** The RFC 7662 §2.2 response of an active token. */
export interface IntrospectionBody {
  active: boolean
  scope?: string
  client_id?: string
  username?: string
  token_type?: 'Bearer' | 'refresh_token'
  exp?: number
  iat?: number
  sub?: string
  aud?: string | string[]
}

/**
 * `GET/POST {prefix}/introspect/` (RFC 7662). The caller is a resource server authenticating
 * with its client credentials, or with a bearer token holding the `introspection` scope; else
 * 401 (§2.1). Unknown, expired and revoked tokens are `{"active": false}` (§2.2).
 */
export async function introspectionEndpoint (ctx: ServerContext, req: OAuthRequest, usernameOf: UsernameOf): Promise<OAuthResponse> {
  const params = introspectionParams(req)
  const caller = await authenticateCaller(ctx, req, params)
  return await withCors(corsHeaders(req, caller), () => describeToken(ctx, params, usernameOf))
}

async function describeToken (ctx: ServerContext, params: Params, usernameOf: UsernameOf): Promise<OAuthResponse> {
  const token = param(params, 'token')
  if (token === undefined) throw new InvalidRequestError({ description: 'Request is missing token parameter.' })
  const hint = param(params, 'token_type_hint')
  const checksum = tokenChecksum(token)
  const now = ctx.clock.now()

  // §2.1: the hint only orders the search; an unknown hint is ignored.
  const describe = hint === 'refresh_token' ? [describeRefresh, describeAccess] : [describeAccess, describeRefresh]
  for (const lookup of describe) {
    const body = await lookup(ctx, checksum, now, usernameOf)
    if (body !== null) return noStoreJson(200, body)
  }
  return noStoreJson(200, { active: false })
}

/** POST reads the form body; GET (DOT parity) and its automatic HEAD twin the query string. */
function introspectionParams (req: OAuthRequest): Params {
  // RFC 6749 §2.3.1: client credentials MUST NOT travel in the request URI (it gets logged).
  if (Object.hasOwn(req.query, 'client_secret')) throw new InvalidRequestError({ description: 'Client credentials must not be sent in the URI.' })
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
 * introspection scope. Resolves the caller's application (for CORS), if it has one.
 */
async function authenticateCaller (ctx: ServerContext, req: OAuthRequest, params: Params): Promise<Application | null> {
  if (/^bearer(\s|$)/i.test(req.headers.authorization ?? '')) {
    const result = await authenticateBearer(ctx, { authorization: req.headers.authorization, queryToken: undefined }, [INTROSPECTION_SCOPE])
    if (!result.ok) throw new OAuthError('invalid_token', 401, { description: 'The access token is invalid or lacks the introspection scope.', headers: { 'www-authenticate': 'Bearer error="invalid_token"' } })
    return result.token.application
  }
  const client = await authenticateClient(ctx, req, params)
  if (client.application.clientType !== 'confidential') throw new InvalidClientError({ detail: 'public clients may not introspect' })
  return client.application
}

async function describeAccess (ctx: ServerContext, checksum: string, now: Date, usernameOf: UsernameOf): Promise<IntrospectionBody | null> {
  const record = await ctx.store.findAccessToken(checksum)
  if (record === null) return null
  if (record.expiresAt.getTime() <= now.getTime()) return { active: false }
  const application = record.applicationId === null ? null : await ctx.store.findApplicationById(record.applicationId)
  const body: IntrospectionBody = {
    active: true,
    scope: record.scope,
    token_type: 'Bearer',
    exp: toEpochSeconds(record.expiresAt),
    iat: toEpochSeconds(record.createdAt),
  }
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

async function describeRefresh (ctx: ServerContext, checksum: string, now: Date, usernameOf: UsernameOf): Promise<IntrospectionBody | null> {
  const record = await ctx.store.findRefreshToken(checksum)
  if (record === null) return null
  const expiresAt = refreshTokenExpiresAt(ctx.settings, record)
  if (record.revokedAt !== null || (expiresAt !== null && now >= expiresAt)) return { active: false }
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
