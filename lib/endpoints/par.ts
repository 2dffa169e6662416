import type { ServerContext } from '../context.js'
import { InvalidDpopProofError, InvalidRequestError } from '../errors.js'
import { tokenRequestProof } from '../dpop/server.js'
import { paramValues, type OAuthRequest } from '../request.js'
import { noStoreJson, type OAuthResponse } from '../response.js'
import type { Application } from '../store/types.js'
import { authenticateClient } from '../validator/client-auth.js'
import { signedRequestObjectRequired, verifyRequestObject, type RequestObjectParameters } from '../validator/request-object.js'
import { validateAuthorizationRequest } from './authorize-request.js'
import { storePushedRequest } from './pushed-request.js'

/** Parameters that authenticate the client at `par/`, not part of the authorization request. */
const CLIENT_AUTH_PARAMETERS = new Set(['client_secret', 'client_assertion', 'client_assertion_type'])

/**
 * `POST {prefix}/par/` (RFC 9126 §2): authenticates the client as the token endpoint does,
 * verifies a pushed request object (`request`, §3; RFC 9101) whose claims then stand for the
 * request, validates the authorization request exactly as the authorization endpoint would
 * (errors as JSON), stores it under the checksum of a fresh `request_uri` and answers 201.
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
  const { application } = await authenticateClient(ctx, req, body, issuer ?? null, 'par')
  // §2.1: request_uri MUST NOT be pushed.
  if (body.request_uri !== undefined) throw new InvalidRequestError({ description: 'request_uri must not be pushed.' })
  if (req.duplicated.has('request')) throw new InvalidRequestError({ description: 'Parameter repeated: request.' })
  // RFC 9449 §10.1: a proof sent to `par/` binds the code to its key, as `dpop_jkt` would; both must agree.
  const proofJkt = req.headers.dpop === undefined ? '' : await tokenRequestProof(ctx, req, application)

  // RFC 9126 §3: a request object stands for the whole request; the body's other parameters
  // are ignored (RFC 9101 §6.3), client authentication and `client_id` aside.
  const fromObject = await requestObjectParameters(ctx, req, application, issuer)
  const parameters: Record<string, string> = Object.create(null) as Record<string, string>
  if (fromObject === null) {
    // RFC 9101 §10.5: a client (or server) that requires signed request objects gets no plain push.
    if (signedRequestObjectRequired(ctx, application)) throw new InvalidRequestError({ description: 'A signed request object is required.' })
    for (const [name, value] of Object.entries(body)) if (!CLIENT_AUTH_PARAMETERS.has(name)) parameters[name] = value
  } else {
    Object.assign(parameters, fromObject.params)
  }
  // With Basic authentication the body may omit client_id; the request still names its client.
  parameters.client_id = application.clientId
  // The authorization endpoint's own validation; our own `login_after` marker cannot be pushed.
  delete parameters.login_after
  if (proofJkt !== '') {
    if (parameters.dpop_jkt !== undefined && parameters.dpop_jkt !== proofJkt) throw new InvalidDpopProofError({ description: 'dpop_jkt does not match the DPoP proof\'s key.', detail: 'PAR dpop_jkt differs from the proof key' })
    parameters.dpop_jkt = proofJkt
  }
  const resources = fromObject?.resources ?? paramValues(req, 'body', 'resource')
  const check = await validateAuthorizationRequest(ctx, parameters, fromObject === null ? req.duplicated : new Set(), issuer, resources, { pushed: true })
  if (!check.ok) throw check.error
  if (resources.length > 0) parameters.resource = resources.join(' ')

  const { requestUri, expiresIn } = await storePushedRequest(ctx, application, parameters)
  return noStoreJson(201, { request_uri: requestUri, expires_in: expiresIn })
}

/** RFC 9126 §3: the pushed `request` object verified (JSON `invalid_request_object` when it is bad), or `null` without one. */
async function requestObjectParameters (ctx: ServerContext, req: OAuthRequest, application: Application, issuer: string | undefined): Promise<RequestObjectParameters | null> {
  const jwt = req.body?.request
  if (jwt === undefined) return null
  return await verifyRequestObject(ctx, application, jwt, issuer ?? ctx.settings.issuer)
}
