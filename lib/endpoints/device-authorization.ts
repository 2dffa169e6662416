import { addSeconds } from '../clock.js'
import type { ServerContext } from '../context.js'
import { InvalidRequestError, ServerError, UnauthorizedClientError } from '../errors.js'
import { DEVICE_CODE_GRANT_TYPE } from '../grants/device-code.js'
import { param, paramValues, type OAuthRequest, type Params } from '../request.js'
import { noStoreJson, type OAuthResponse } from '../response.js'
import { tokenChecksum } from '../tokens/checksum.js'
import { authenticateClient } from '../validator/client-auth.js'
import { resolveRequestedResources } from '../validator/resources.js'
import { parseScopeParam, resolveRequestedScopes } from '../validator/scopes.js'
import { formatUserCode, generateUserCode, userCodeChecksum } from './device-user-code.js'

/**
 * The parameters of a device authorization request that may appear once (RFC 8628 §3.1, with
 * RFC 6749 §2.3 client authentication); RFC 8707 `resource` may repeat.
 */
const DEVICE_AUTHORIZATION_PARAMETERS = ['client_id', 'client_secret', 'scope']

/** A user code collides with a live one about never (20^8 codes); a few draws make it certain. */
const USER_CODE_ATTEMPTS = 5

/** The RFC 8628 §3.2 success body. */
export interface DeviceAuthorizationResponseBody {
  device_code: string
  user_code: string
  verification_uri: string
  verification_uri_complete: string
  expires_in: number
  interval: number
}

/**
 * `POST {prefix}/device-authorization/` (RFC 8628 §3.1–3.2, DOT's `DeviceAuthorizationView`).
 * Confidential clients authenticate as at the token endpoint, public ones send `client_id`; the
 * application must be registered for the device grant. Only checksums of both codes are stored.
 * RFC 8707 `resource` values bind the grant (and so its tokens) to those resources, validated
 * as at the authorization endpoint (`invalid_target`).
 * @param verificationUri where the user enters the code (`{issuer}/device/` unless configured).
 * @param issuer this server's issuer identifier (the `aud` of a client assertion).
 */
export async function deviceAuthorizationEndpoint (ctx: ServerContext, req: OAuthRequest, verificationUri: string,
  issuer: string | null = ctx.settings.issuer): Promise<OAuthResponse> {
  const params = requireFormBody(req)
  rejectDuplicateParams(req)
  const client = await authenticateClient(ctx, req, params, issuer, 'device-authorization')
  if (client.application.authorizationGrantType !== DEVICE_CODE_GRANT_TYPE) {
    throw new UnauthorizedClientError({ detail: `${client.application.authorizationGrantType} application asked for a device code` })
  }
  const scopes = resolveRequestedScopes(ctx.settings, parseScopeParam(param(params, 'scope')), client.application)
  const resources = resolveRequestedResources(ctx.settings, paramValues(req, 'body', 'resource'))
  const { deviceCode, userCode } = await createDeviceGrant(ctx, client.application.id, scopes, resources)
  const shown = formatUserCode(userCode)
  const body: DeviceAuthorizationResponseBody = {
    device_code: deviceCode,
    user_code: shown,
    verification_uri: verificationUri,
    verification_uri_complete: `${verificationUri}?${new URLSearchParams({ user_code: shown }).toString()}`,
    expires_in: ctx.settings.deviceCodeExpireSeconds,
    interval: ctx.settings.deviceFlowInterval,
  }
  return noStoreJson(200, body)
}

/** Draws a 256-bit device code and a user code, and stores their checksums; retries a taken user code. */
async function createDeviceGrant (ctx: ServerContext, applicationId: number, scopes: readonly string[], resources: readonly string[]): Promise<{ deviceCode: string, userCode: string }> {
  const now = ctx.clock.now()
  for (let attempt = 0; attempt < USER_CODE_ATTEMPTS; attempt++) {
    const deviceCode = ctx.random.token(32)
    const userCode = generateUserCode(ctx.random, ctx.settings.deviceUserCodeLength)
    const created = await ctx.store.createDeviceGrant({
      checksum: tokenChecksum(deviceCode),
      userCodeChecksum: userCodeChecksum(userCode),
      applicationId,
      scope: scopes.join(' '),
      resource: resources.join(' '),
      expiresAt: addSeconds(now, ctx.settings.deviceCodeExpireSeconds),
      interval: ctx.settings.deviceFlowInterval,
    }, now)
    if (created !== null) return { deviceCode, userCode }
  }
  throw new ServerError({ detail: `no free user code after ${USER_CODE_ATTEMPTS} draws` })
}

function requireFormBody (req: OAuthRequest): Params {
  if (req.unsupportedBody || req.body === null) {
    throw new InvalidRequestError({ description: 'The request body must be application/x-www-form-urlencoded.' })
  }
  return req.body
}

/** RFC 6749 §3.2 (applied by RFC 8628 §3.1): parameters MUST NOT be included more than once. */
function rejectDuplicateParams (req: OAuthRequest): void {
  const repeated = DEVICE_AUTHORIZATION_PARAMETERS.filter((name) => req.duplicated.has(name))
  if (repeated.length > 0) throw new InvalidRequestError({ description: `Parameter repeated: ${repeated.join(', ')}.` })
}
