import type { JSONWebKeySet } from 'jose'
import { displayNameProblem } from '../display-name.js'
import { InvalidClientMetadataError, InvalidRedirectUriError } from '../errors.js'
import type { Settings } from '../settings.js'
import type { Application, ApplicationGrantType, ClientType, TokenEndpointAuthMethod } from '../store/types.js'
import { isHmacAlgorithm } from '../tokens/jws-algorithms.js'
import { jwksProblem } from '../validator/client-jwks.js'
import { calledUrlProblem, redirectUriProblem } from '../validator/redirect-uri.js'
import { INTROSPECTION_SCOPE } from '../validator/scopes.js'

/** Client authentication methods a registered client may choose (RFC 7591 §2). */
export type { TokenEndpointAuthMethod }

/** RFC 7591 §2 client metadata, as this server accepted it (unknown fields are dropped). */
export interface ClientMetadata {
  redirect_uris: string[]
  token_endpoint_auth_method: TokenEndpointAuthMethod
  grant_types: string[]
  response_types: string[]
  client_name?: string
  client_uri?: string
  logo_uri?: string
  scope?: string
  contacts?: string[]
  tos_uri?: string
  policy_uri?: string
  software_id?: string
  software_version?: string
  /** OpenID Connect RP-Initiated Logout 1.0 §3.1, with OpenID Connect on. */
  post_logout_redirect_uris?: string[]
  /** RFC 9126 §6. */
  require_pushed_authorization_requests?: boolean
  /**
   * OpenID Connect Registration 1.0 §2, with OpenID Connect on: how the client's ID tokens are
   * signed (one of the server's key algorithms, or `HS256`); the server's default when omitted.
   */
  id_token_signed_response_alg?: string
  /** RFC 7591 §2: the client's public keys (for `private_key_jwt`); never with `jwks_uri`. */
  jwks?: JSONWebKeySet
  /** RFC 7591 §2: where the client publishes its public keys (https); never with `jwks`. */
  jwks_uri?: string
  /** OIDC Registration §2: the one JWS algorithm of the client's assertions. */
  token_endpoint_auth_signing_alg?: string
  /** RFC 9449 §5.2: the client always sends DPoP proofs; token requests without one are refused. */
  dpop_bound_access_tokens?: boolean
  /** RFC 9101 §10.5: authorization requests must come as signed request objects. */
  require_signed_request_object?: boolean
  /** OIDC Registration §2: the one `alg` of the client's request objects. */
  request_object_signing_alg?: string
  /**
   * OpenID Connect Registration 1.0 §2, with OpenID Connect on: UserInfo answers as a JWS signed
   * with this algorithm (one of the server's key algorithms); plain JSON when omitted.
   */
  userinfo_signed_response_alg?: string
  /** OpenID Connect Back-Channel Logout 1.0 §2.2, with OpenID Connect on: where logout tokens are POSTed (https, no fragment). */
  backchannel_logout_uri?: string
  /** Back-Channel Logout 1.0 §2.2: the client needs `sid` in logout tokens (this server always sends it). */
  backchannel_logout_session_required?: boolean
}

/**
 * The fields only the registration keeps (the application's own columns hold the rest, among
 * them `token_endpoint_auth_method` and `scope`, which client authentication and scope checks
 * read with the application). `grant_types` and `response_types` are kept as registered, but
 * read through `grantMetadataOf`, which reconciles them with the application's grant type.
 */
export const EXTRA_FIELDS = ['client_uri', 'logo_uri', 'contacts', 'tos_uri', 'policy_uri', 'software_id', 'software_version',
  'grant_types', 'response_types'] as const

const GRANT_NAMES: Readonly<Record<ApplicationGrantType, readonly string[]>> = {
  'authorization-code': ['authorization_code'],
  implicit: ['implicit'],
  password: ['password'],
  'client-credentials': ['client_credentials'],
  // `implicit` is added when the registration listed it (OIDC Registration §2: token-bearing hybrid types).
  'openid-hybrid': ['authorization_code'],
  'urn:ietf:params:oauth:grant-type:device_code': ['urn:ietf:params:oauth:grant-type:device_code'],
}

/**
 * `grant_types` and `response_types` of a registered client, derived from its application (the
 * source of truth, which management pages may edit) so they cannot drift from it: the grant
 * type's names, plus `refresh_token` if the registration listed it; for a hybrid client, the
 * registered response types while they are still hybrid ones.
 */
export function grantMetadataOf (application: Pick<Application, 'authorizationGrantType'>, stored: Readonly<Record<string, unknown>>):
{ grant_types: string[], response_types: string[] } {
  const registered = (name: string): string[] => {
    const value = stored[name]
    return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []
  }
  const kind = application.authorizationGrantType
  const grantTypes = [...(GRANT_NAMES[kind] ?? [])]
  const implicitListed = registered('grant_types').includes('implicit')
  if (kind === 'openid-hybrid' && implicitListed) grantTypes.push('implicit')
  if (registered('grant_types').includes('refresh_token')) grantTypes.push('refresh_token')
  let responseTypes: string[]
  switch (kind) {
    case 'authorization-code': responseTypes = ['code']; break
    case 'implicit': responseTypes = ['token']; break
    case 'openid-hybrid': {
      const hybrid = registered('response_types').filter((r) => r === 'code' || HYBRID.includes(r))
      responseTypes = hybrid.some((r) => HYBRID.includes(r)) ? hybrid : ['code', ...HYBRID.filter((r) => implicitListed || !r.split(' ').includes('token'))]
      break
    }
    default: responseTypes = []
  }
  return { grant_types: grantTypes, response_types: responseTypes }
}

/** Validated metadata and the application it describes. */
export interface ValidatedMetadata {
  readonly metadata: ClientMetadata
  readonly clientType: ClientType
  readonly authorizationGrantType: ApplicationGrantType
}

/** The `id_token_signed_response_alg` values a registration may name; whether the server has the key is checked with the application. */
const ID_TOKEN_ALGS: readonly string[] = ['RS256', 'PS256', 'ES256', 'EdDSA', 'HS256']

/** The `userinfo_signed_response_alg` values a registration may name (`none` is not offered); the key is checked with the application. */
const USERINFO_ALGS: readonly string[] = ['RS256', 'PS256', 'ES256', 'EdDSA']

const AUTH_METHODS: readonly string[] = ['client_secret_basic', 'client_secret_post', 'none', 'private_key_jwt', 'client_secret_jwt']
const HYBRID: readonly string[] = ['code id_token', 'code token', 'code id_token token']
const DEVICE = 'urn:ietf:params:oauth:grant-type:device_code'
const MAX_STRING = 255
const MAX_URI = 2000
const MAX_LIST = 20

function bad (description: string): InvalidClientMetadataError {
  return new InvalidClientMetadataError({ description })
}

/** True when `value` holds a C0 control character or DEL. */
function hasControl (value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i)
    if (code < 0x20 || code === 0x7f) return true
  }
  return false
}

function optionalString (body: Record<string, unknown>, name: string, max = MAX_STRING): string | undefined {
  const value = body[name]
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'string') throw bad(`${name} must be a string.`)
  if (value.length > max) throw bad(`${name} must be at most ${max} characters.`)
  // No control characters: these values reach HTML pages and logs.
  if (hasControl(value)) throw bad(`${name} must not contain control characters.`)
  return value
}

function stringList (body: Record<string, unknown>, name: string): string[] | undefined {
  const value = body[name]
  if (value === undefined || value === null) return undefined
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw bad(`${name} must be an array of strings.`)
  if (value.length > MAX_LIST) throw bad(`${name} must have at most ${MAX_LIST} entries.`)
  return [...new Set(value as string[])]
}

/**
 * `client_name`, shown to users on the consent page: no control or invisible formatting
 * characters (they can make one name look like another). Its language-tagged variants
 * (`client_name#fr`, RFC 7591 §2.2) are not kept, but one that carries such characters is
 * still refused rather than silently dropped, so a registrant learns the name was not taken.
 */
function clientName (body: Record<string, unknown>): string | undefined {
  for (const key of Object.keys(body)) {
    if (key !== 'client_name' && !key.startsWith('client_name#')) continue
    const value = body[key]
    if (typeof value === 'string' && displayNameProblem(value) !== null) {
      throw bad('client_name must not contain control or invisible formatting characters (bidi overrides, zero-width characters).')
    }
    optionalString(body, key)
  }
  return optionalString(body, 'client_name')
}

/** A human-facing web page of the client (client_uri, logo_uri, tos_uri, policy_uri): https, or http on loopback. */
function webUri (body: Record<string, unknown>, name: string): string | undefined {
  const value = optionalString(body, name, MAX_URI)
  if (value === undefined) return undefined
  if (redirectUriProblem(value, ['https', 'http']) !== null) throw bad(`${name} must be an https URL without user information or fragment.`)
  return value
}

/** RFC 7591 §2: `redirect_uris`, each an absolute URI this server accepts (RFC 8252 native forms included). */
function redirectUris (body: Record<string, unknown>, name: string, settings: Settings): string[] {
  let uris: string[] | undefined
  try {
    uris = stringList(body, name)
  } catch {
    throw new InvalidRedirectUriError({ description: `${name} must be an array of strings.` })
  }
  for (const uri of uris ?? []) {
    const problem = redirectUriProblem(uri, settings.allowedRedirectUriSchemes)
    // The problem text is ours (fixed ASCII sentences); the URI itself is not echoed.
    if (problem !== null) throw new InvalidRedirectUriError({ description: `A redirect URI in ${name} ${problem}.` })
  }
  return uris ?? []
}

/**
 * The grant types a registered client may ask for, given the settings. `implicit` only with the
 * implicit grant on, whatever it is combined with: with it off no access token may leave the
 * authorization endpoint (RFC 9700 §2.1.2), hybrid flows included.
 */
function supportedGrantTypes (settings: Settings, deviceGrant: boolean): Set<string> {
  const grants = new Set(['authorization_code', 'refresh_token', 'client_credentials'])
  if (settings.implicitGrantEnabled) grants.add('implicit')
  if (settings.passwordGrantEnabled) grants.add('password')
  if (deviceGrant) grants.add(DEVICE)
  return grants
}

/**
 * RFC 7591 §2.1: grant_types and response_types must agree, and they must name one
 * application grant type (this toolkit's applications have exactly one, as DOT's do).
 */
function applicationGrantType (settings: Settings, grantTypes: readonly string[], responseTypes: readonly string[]): ApplicationGrantType {
  const main = grantTypes.filter((g) => g !== 'refresh_token')
  if (responseTypes.some((r) => HYBRID.includes(r))) {
    // OIDC Registration §2: `code id_token` needs authorization_code (and may list implicit);
    // the types that return an access token need implicit too.
    if (!grantTypes.includes('authorization_code') || main.some((g) => g !== 'authorization_code' && g !== 'implicit')) {
      throw bad('Hybrid response types need the authorization_code grant type, and implicit only.')
    }
    return 'openid-hybrid'
  }
  if (main.length !== 1) throw bad('grant_types must name exactly one of the supported grant types (plus refresh_token).')
  const [grant] = main
  const expected = grant === 'authorization_code' ? ['code'] : grant === 'implicit' ? ['token'] : []
  if (responseTypes.length !== expected.length || !expected.every((r) => responseTypes.includes(r))) {
    throw bad('response_types do not match grant_types (RFC 7591 section 2.1).')
  }
  switch (grant) {
    case 'authorization_code': return 'authorization-code'
    case 'implicit':
      if (!settings.implicitGrantEnabled) throw bad('Unsupported grant type in grant_types.')
      return 'implicit'
    case 'password': return 'password'
    case 'client_credentials': return 'client-credentials'
    default: return DEVICE
  }
}

/**
 * RFC 7591 §2 `jwks` / `jwks_uri` and OIDC Registration `token_endpoint_auth_signing_alg`:
 * public keys only, one of the two, and an algorithm of the method's family that this server accepts.
 */
function clientKeys (settings: Settings, body: Record<string, unknown>, method: string): Pick<ClientMetadata, 'jwks' | 'jwks_uri' | 'token_endpoint_auth_signing_alg'> {
  const jwks = body.jwks ?? undefined
  if (jwks !== undefined) {
    const problem = jwksProblem(jwks)
    if (problem !== null) throw bad(`jwks ${problem}.`)
  }
  const jwksUri = optionalString(body, 'jwks_uri', MAX_URI)
  if (jwksUri !== undefined) {
    const problem = calledUrlProblem(jwksUri)
    if (problem !== null) throw bad(`jwks_uri ${problem}.`)
  }
  if (jwks !== undefined && jwksUri !== undefined) throw bad('Use jwks or jwks_uri, not both (RFC 7591 section 2).')
  if (method === 'private_key_jwt' && jwks === undefined && jwksUri === undefined) throw bad('private_key_jwt needs jwks or jwks_uri.')
  const alg = optionalString(body, 'token_endpoint_auth_signing_alg')
  if (alg !== undefined) {
    const fits = method === 'private_key_jwt'
      ? settings.clientAssertionSigningAlgorithms.includes(alg)
      : method === 'client_secret_jwt' && isHmacAlgorithm(alg)
    if (!fits) throw bad('Unsupported token_endpoint_auth_signing_alg for the token_endpoint_auth_method.')
  }
  return {
    ...(jwks === undefined ? {} : { jwks: jwks as JSONWebKeySet }),
    ...(jwksUri === undefined ? {} : { jwks_uri: jwksUri }),
    ...(alg === undefined ? {} : { token_endpoint_auth_signing_alg: alg }),
  }
}

/**
 * Validates RFC 7591 §2 client metadata from a registration or update body. Unknown fields
 * are ignored (§2: the server MUST ignore metadata it does not understand); wrong types and
 * unacceptable values throw `invalid_client_metadata` or `invalid_redirect_uri` (§3.2.2).
 * @param deviceGrant whether the device authorization grant is available on this server.
 */
export function validateClientMetadata (settings: Settings, input: unknown, deviceGrant = false): ValidatedMetadata {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) throw bad('The request body must be a JSON object.')
  const body = input as Record<string, unknown>

  const authMethod = optionalString(body, 'token_endpoint_auth_method') ?? 'client_secret_basic'
  // Only the methods this server accepts (`clientAuthMethods`): a client registered for another could never authenticate.
  if (!AUTH_METHODS.includes(authMethod) || !(settings.clientAuthMethods as readonly string[]).includes(authMethod)) throw bad('Unsupported token_endpoint_auth_method.')
  const clientType: ClientType = authMethod === 'none' ? 'public' : 'confidential'

  const grantTypes = stringList(body, 'grant_types') ?? ['authorization_code']
  const supported = supportedGrantTypes(settings, deviceGrant)
  if (grantTypes.length === 0 || grantTypes.some((g) => !supported.has(g))) throw bad('Unsupported grant type in grant_types.')
  const responseTypes = (stringList(body, 'response_types') ?? (grantTypes.includes('authorization_code') ? ['code'] : grantTypes.includes('implicit') ? ['token'] : []))
    .map((r) => ['code', 'id_token', 'token'].filter((v) => r.split(' ').includes(v)).join(' ') || r)
  // A response type that returns an access token from the authorization endpoint needs the
  // implicit grant, which needs the server's implicit setting (checked above).
  const withToken = grantTypes.includes('implicit')
  const hybrid = settings.oidcEnabled && settings.hybridFlowEnabled
  const responses = new Set(['code', ...(withToken ? ['token'] : []), ...(hybrid ? HYBRID.filter((r) => withToken || !r.split(' ').includes('token')) : [])])
  if (responseTypes.some((r) => !responses.has(r))) throw bad('Unsupported response type in response_types.')
  const authorizationGrantType = applicationGrantType(settings, grantTypes, responseTypes)
  if (clientType === 'public' && authorizationGrantType === 'client-credentials') {
    throw bad('The client_credentials grant needs client authentication; token_endpoint_auth_method none is not allowed.')
  }

  const redirects = redirectUris(body, 'redirect_uris', settings)
  if (['authorization-code', 'implicit', 'openid-hybrid'].includes(authorizationGrantType) && redirects.length === 0) {
    throw new InvalidRedirectUriError({ description: 'redirect_uris is required for redirect-based grant types.' })
  }

  let scope = optionalString(body, 'scope', 2000)
  if (scope !== undefined) {
    const names = [...new Set(scope.split(' ').filter((s) => s !== ''))]
    if (names.some((name) => !Object.hasOwn(settings.scopes, name))) throw bad('scope names a scope this server does not know.')
    // Only administrators make a client a resource server (RFC 7662 §4); the scope would be refused anyway.
    if (names.includes(INTROSPECTION_SCOPE)) throw bad('The introspection scope is granted by the server administrator, not by registration.')
    // An empty scope restricts nothing: it is the same as none.
    scope = names.length === 0 ? undefined : names.join(' ')
  }
  const contacts = stringList(body, 'contacts')
  if (contacts?.some((c) => c.length === 0 || c.length > 320 || hasControl(c) || /[\s<>]/.test(c))) throw bad('contacts must be e-mail addresses.')

  // Without OpenID Connect there are no ID tokens: the field is unknown, so ignored. `none`
  // (unsigned ID tokens, OIDC Core §3.1.3.7 allows them only off the front channel) is not offered.
  const idTokenAlg = settings.oidcEnabled ? optionalString(body, 'id_token_signed_response_alg') : undefined
  if (idTokenAlg !== undefined && !ID_TOKEN_ALGS.includes(idTokenAlg)) throw bad('Unsupported id_token_signed_response_alg.')
  if (idTokenAlg === 'HS256' && clientType === 'public') throw bad('id_token_signed_response_alg HS256 needs a client secret; public clients have none.')
  // Likewise without OpenID Connect there is no UserInfo endpoint. Only the server's key
  // algorithms: an HS256 response would need the secret sealed, and unsigned is plain JSON.
  const userinfoAlg = settings.oidcEnabled ? optionalString(body, 'userinfo_signed_response_alg') : undefined
  if (userinfoAlg !== undefined && !USERINFO_ALGS.includes(userinfoAlg)) throw bad('Unsupported userinfo_signed_response_alg.')
  const keys = clientKeys(settings, body, authMethod)
  // Without OpenID Connect there are no sessions to log out of: the fields are unknown, so ignored.
  const backchannelUri = settings.oidcEnabled ? optionalString(body, 'backchannel_logout_uri', MAX_URI) : undefined
  if (backchannelUri !== undefined) {
    const problem = calledUrlProblem(backchannelUri)
    if (problem !== null) throw bad(`backchannel_logout_uri ${problem}.`)
  }
  const sessionRequired = settings.oidcEnabled ? body.backchannel_logout_session_required : undefined
  if (sessionRequired !== undefined && sessionRequired !== null && typeof sessionRequired !== 'boolean') throw bad('backchannel_logout_session_required must be a boolean.')

  const requirePar = body.require_pushed_authorization_requests
  if (requirePar !== undefined && requirePar !== null && typeof requirePar !== 'boolean') throw bad('require_pushed_authorization_requests must be a boolean.')
  const dpopBound = body.dpop_bound_access_tokens
  if (dpopBound !== undefined && dpopBound !== null && typeof dpopBound !== 'boolean') throw bad('dpop_bound_access_tokens must be a boolean.')
  // Without DPoP the client could never get a token: refused rather than stored as a trap.
  if (dpopBound === true && !settings.dpopEnabled) throw bad('dpop_bound_access_tokens needs DPoP, which this server does not accept.')
  const requireSigned = body.require_signed_request_object
  if (requireSigned !== undefined && requireSigned !== null && typeof requireSigned !== 'boolean') throw bad('require_signed_request_object must be a boolean.')
  // Whether the client has what verifies the algorithm is the application rules' to say.
  const requestObjectAlg = optionalString(body, 'request_object_signing_alg')

  const metadata: ClientMetadata = {
    redirect_uris: redirects,
    token_endpoint_auth_method: authMethod as TokenEndpointAuthMethod,
    grant_types: grantTypes,
    response_types: responseTypes,
  }
  const optional: Partial<ClientMetadata> = {
    client_name: clientName(body),
    client_uri: webUri(body, 'client_uri'),
    logo_uri: webUri(body, 'logo_uri'),
    scope,
    contacts,
    tos_uri: webUri(body, 'tos_uri'),
    policy_uri: webUri(body, 'policy_uri'),
    software_id: optionalString(body, 'software_id'),
    software_version: optionalString(body, 'software_version'),
    // Without OpenID Connect there is no logout endpoint: the field is unknown, so ignored.
    post_logout_redirect_uris: settings.oidcEnabled && body.post_logout_redirect_uris != null ? redirectUris(body, 'post_logout_redirect_uris', settings) : undefined,
    require_pushed_authorization_requests: typeof requirePar === 'boolean' ? requirePar : undefined,
    id_token_signed_response_alg: idTokenAlg,
    ...keys,
    dpop_bound_access_tokens: typeof dpopBound === 'boolean' ? dpopBound : undefined,
    require_signed_request_object: typeof requireSigned === 'boolean' ? requireSigned : undefined,
    request_object_signing_alg: requestObjectAlg,
    userinfo_signed_response_alg: userinfoAlg,
    backchannel_logout_uri: backchannelUri === '' ? undefined : backchannelUri,
    backchannel_logout_session_required: typeof sessionRequired === 'boolean' ? sessionRequired : undefined,
  }
  for (const [name, value] of Object.entries(optional)) {
    if (value !== undefined) (metadata as unknown as Record<string, unknown>)[name] = value
  }
  return { metadata, clientType, authorizationGrantType }
}
