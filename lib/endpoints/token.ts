import type { ServerContext } from '../context.js'
import { InvalidRequestError, UnauthorizedClientError, UnsupportedGrantTypeError } from '../errors.js'
import { TOKEN_GRANTS } from '../grants/index.js'
import type { GrantRequestInfo, TokenGrant } from '../grants/types.js'
import { param, paramValues, type OAuthRequest, type Params } from '../request.js'
import { noStoreJson, type OAuthResponse } from '../response.js'
import { tokenResponseBody } from '../tokens/issue.js'
import { authenticateClient, type AuthenticatedClient } from '../validator/client-auth.js'
import { nonceHeader, tokenRequestProof } from '../dpop/server.js'
import { corsHeaders, withCors } from './cors.js'
import { emitEvent, listening, notifyTokenIssued, notifyTokenRefreshed } from '../events.js'

/** Parameters every grant may carry besides its own (client authentication, RFC 6749 §2.3.1, RFC 7521 §4.2). */
const CLIENT_PARAMETERS = ['client_id', 'client_secret', 'client_assertion', 'client_assertion_type']

/**
 * `POST {prefix}/token/` (RFC 6749 §3.2, §5). Steps run in RFC order; each throws an
 * `OAuthError`, which the view turns into a §5.2 JSON error.
 */
export async function tokenEndpoint (ctx: ServerContext, req: OAuthRequest, issuer: string | null = ctx.settings.issuer): Promise<OAuthResponse> {
  const params = requireFormBody(req)
  const grant = selectGrant(ctx, req, params)
  rejectDuplicateParams(req, grant)
  const client = await authenticateClient(ctx, req, params, issuer, 'token')
  // CORS (DOT 2.4): a browser on one of the client's allowed origins may read the answer.
  return await withCors(corsHeaders(req, client.application), async () => {
    checkClientMayUseGrant(client, grant)
    // RFC 9449 §5: a proof binds the tokens to its key, whatever the grant.
    const dpopJkt = await tokenRequestProof(ctx, req, client.application)
    return await issueToken(ctx, client, grant, params, { issuer, resources: paramValues(req, 'body', 'resource'), dpopJkt })
  })
}

async function issueToken (ctx: ServerContext, client: AuthenticatedClient, grant: TokenGrant, params: Params, info: GrantRequestInfo): Promise<OAuthResponse> {
  const result = await grant.handle(ctx, client, params, info)
  // DOT's `app_authorized` signal. The token is already stored, so no listener may turn this 200
  // into a 500 (or an unhandled rejection), nor skip the listeners after it (lib/events.ts).
  if (result.rows.accessToken.applicationId !== null && listening(ctx.events, 'appAuthorized')) {
    emitEvent(ctx.events, 'appAuthorized', {
      application: client.application,
      accessToken: result.rows.accessToken,
      refreshToken: result.rows.refreshToken,
      grantType: grant.grantType,
    })
  }
  if (result.reissued !== true) {
    notifyTokenIssued(ctx, client.application, grant.grantType, result.rows, result.idToken !== undefined)
    if (result.refreshed !== undefined) notifyTokenRefreshed(ctx, client.application, result.refreshed, result.rows)
  }
  // A pair answered again (a refresh retried inside the grace period) says how long it has left.
  const answeredAt = result.reissued === true ? ctx.clock.now() : undefined
  return noStoreJson(200, tokenResponseBody(result.tokens, result.rows, result.idToken, answeredAt), nonceHeader(ctx))
}

/** RFC 6749 §4.1.3 and friends: parameters travel form-encoded in the body. */
function requireFormBody (req: OAuthRequest): Params {
  if (req.unsupportedBody || req.body === null) {
    throw new InvalidRequestError({ description: 'The request body must be application/x-www-form-urlencoded.' })
  }
  return req.body
}

function selectGrant (ctx: ServerContext, req: OAuthRequest, params: Params): TokenGrant {
  const grantType = param(params, 'grant_type')
  if (req.duplicated.has('grant_type')) throw new InvalidRequestError({ description: 'Parameter repeated: grant_type.' })
  if (grantType === undefined) throw new InvalidRequestError({ description: 'Request is missing grant_type parameter.' })
  const grant = TOKEN_GRANTS.get(grantType)
  if (grant === undefined || !grant.enabled(ctx.settings)) throw new UnsupportedGrantTypeError({ detail: `grant_type ${grantType}` })
  return grant
}

/** RFC 6749 §3.2: request and response parameters MUST NOT be included more than once. */
function rejectDuplicateParams (req: OAuthRequest, grant: TokenGrant): void {
  const repeated = [...req.duplicated].filter((name) => grant.parameters.has(name) || CLIENT_PARAMETERS.includes(name))
  if (repeated.length > 0) {
    throw new InvalidRequestError({ description: `Parameter repeated: ${repeated.sort().join(', ')}.` })
  }
}

/** DOT's mapping from the wire grant to the application's registered grant type; RFC 6749 §4.4 for confidential-only grants. */
function checkClientMayUseGrant (client: AuthenticatedClient, grant: TokenGrant): void {
  if (grant.confidentialOnly && client.application.clientType !== 'confidential') {
    throw new UnauthorizedClientError({ detail: `public client may not use ${grant.grantType}` })
  }
  if (!grant.applicationTypes.has(client.application.authorizationGrantType)) {
    throw new UnauthorizedClientError({ detail: `${client.application.authorizationGrantType} application may not use ${grant.grantType}` })
  }
}
