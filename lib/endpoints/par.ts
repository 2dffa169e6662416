import { addSeconds } from '../clock.js'
import type { ServerContext } from '../context.js'
import { InvalidDpopProofError, InvalidRequestError } from '../errors.js'
import { tokenRequestProof } from '../dpop/server.js'
import { paramValues, type OAuthRequest } from '../request.js'
import { noStoreJson, type OAuthResponse } from '../response.js'
import { tokenChecksum } from '../tokens/checksum.js'
import { authenticateClient } from '../validator/client-auth.js'
import { validateAuthorizationRequest } from './authorize-request.js'
import { REQUEST_URI_PREFIX } from './pushed-request.js'

/** Parameters that authenticate the client at `par/`, not part of the authorization request. */
const CLIENT_AUTH_PARAMETERS = new Set(['client_secret', 'client_assertion', 'client_assertion_type'])

/**
 * `POST {prefix}/par/` (RFC 9126 §2): authenticates the client as the token endpoint does,
 * validates the authorization request exactly as the authorization endpoint would (errors as
 * JSON), stores it under the checksum of a fresh `request_uri` and answers 201.
 * @param issuer this server's issuer identifier (RFC 9207 `iss` of the later responses).
 */
export async function pushedAuthorizationRequestEndpoint (ctx: ServerContext, req: OAuthRequest, issuer?: string): Promise<OAuthResponse> {
  if (req.unsupportedBody || req.body === null) {
    throw new InvalidRequestError({ description: 'The request body must be application/x-www-form-urlencoded.' })
  }
  const body = req.body
  if (req.duplicated.has('client_id') || req.duplicated.has('client_secret')) {
    throw new InvalidRequestError({ description: 'Parameter repeated: client_id or client_secret.' })
  }
  const { application } = await authenticateClient(ctx, req, body, issuer ?? null)
  // §2.1: request_uri MUST NOT be pushed.
  if (body.request_uri !== undefined) throw new InvalidRequestError({ description: 'request_uri must not be pushed.' })
  // RFC 9449 §10.1: a proof sent to `par/` binds the code to its key, as `dpop_jkt` would; both must agree.
  const proofJkt = req.headers.dpop === undefined ? '' : await tokenRequestProof(ctx, req, application)

  const parameters: Record<string, string> = Object.create(null) as Record<string, string>
  for (const [name, value] of Object.entries(body)) if (!CLIENT_AUTH_PARAMETERS.has(name)) parameters[name] = value
  // With Basic authentication the body may omit client_id; the request still names its client.
  parameters.client_id = application.clientId
  // The authorization endpoint's own validation; our own `login_after` marker cannot be pushed.
  delete parameters.login_after
  if (proofJkt !== '') {
    if (parameters.dpop_jkt !== undefined && parameters.dpop_jkt !== proofJkt) throw new InvalidDpopProofError({ description: 'dpop_jkt does not match the DPoP proof\'s key.', detail: 'PAR dpop_jkt differs from the proof key' })
    parameters.dpop_jkt = proofJkt
  }
  const resources = paramValues(req, 'body', 'resource')
  const check = await validateAuthorizationRequest(ctx, parameters, req.duplicated, issuer, resources, { pushed: true })
  if (!check.ok) throw check.error
  if (resources.length > 0) parameters.resource = resources.join(' ')

  const token = ctx.random.token(32)
  const now = ctx.clock.now()
  const lifetime = ctx.settings.parRequestUriLifetimeSeconds
  await ctx.store.createPushedAuthorizationRequest({
    checksum: tokenChecksum(token),
    applicationId: application.id,
    parameters,
    expiresAt: addSeconds(now, lifetime),
  }, now)
  return noStoreJson(201, { request_uri: `${REQUEST_URI_PREFIX}${token}`, expires_in: lifetime })
}
