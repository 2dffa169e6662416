import type { Settings } from '../settings.js'
import { TOKEN_GRANTS } from '../grants/index.js'
import { HMAC_JWS_ALGORITHMS } from '../tokens/jws-algorithms.js'
import { requestObjectAlgorithms } from '../validator/request-object.js'
import { RESPONSE_MODES } from './authorize-response.js'

/** RFC 8414 §2 authorization server metadata, limited to what this server really does. */
export interface AuthorizationServerMetadata {
  issuer: string
  authorization_endpoint: string
  token_endpoint: string
  revocation_endpoint: string
  introspection_endpoint: string
  scopes_supported: string[]
  response_types_supported: string[]
  response_modes_supported: string[]
  grant_types_supported: string[]
  token_endpoint_auth_methods_supported: string[]
  revocation_endpoint_auth_methods_supported: string[]
  introspection_endpoint_auth_methods_supported: string[]
  /** RFC 8414 §2: the JWS algorithms of `private_key_jwt` and `client_secret_jwt` assertions at each endpoint. */
  token_endpoint_auth_signing_alg_values_supported: string[]
  revocation_endpoint_auth_signing_alg_values_supported: string[]
  introspection_endpoint_auth_signing_alg_values_supported: string[]
  code_challenge_methods_supported: string[]
  authorization_response_iss_parameter_supported: boolean
  /** RFC 8628 §4, with the device flow on. */
  device_authorization_endpoint?: string
  /** With OpenID Connect on: where the ID token signing keys are (RFC 8414 §2). */
  jwks_uri?: string
  /** RFC 7591, with `dcrEnabled`. */
  registration_endpoint?: string
  /** RFC 9126 §5, with `parEnabled`. */
  pushed_authorization_request_endpoint?: string
  require_pushed_authorization_requests?: boolean
  /** RFC 9728 §4: the declared protected resources this server issues tokens for. */
  protected_resources?: string[]
  /** draft-ietf-oauth-client-id-metadata-document §5, with `cimdEnabled`: an https URL may be a `client_id`. */
  client_id_metadata_document_supported?: boolean
  /** RFC 9449 §5.1, with `dpopEnabled`: the algorithms DPoP proofs may use. */
  dpop_signing_alg_values_supported?: string[]
  /** RFC 9101 request objects by value (`request`), at the authorization endpoint and `par/`. */
  request_parameter_supported: boolean
  /** Request objects by reference are not fetched (only `par/`'s `request_uri` values are accepted). */
  request_uri_parameter_supported: boolean
  /** The `alg` values request objects may use. */
  request_object_signing_alg_values_supported: string[]
  /** RFC 9101 §10.5: every authorization request must be a signed request object (the `requireSignedRequestObject` setting). */
  require_signed_request_object: boolean
}

/** What the server can do beyond its settings: `secretJwt`, whether a `clientSecretSealingKey` lets clients use `client_secret_jwt` (and HS256). */
export interface MetadataCapabilities {
  readonly secretJwt?: boolean
}

/**
 * Builds the metadata document for `issuer`, whose endpoints live under it (the routes prefix).
 * Every list is derived from the settings, so the document never advertises what is switched off.
 */
export function authorizationServerMetadata (settings: Settings, issuer: string, capabilities: MetadataCapabilities = {}): AuthorizationServerMetadata {
  const secretJwt = capabilities.secretJwt === true
  // client_secret_jwt keys an HMAC with the client secret, which only a sealing key keeps usable.
  const jwtMethods = ['private_key_jwt', ...(secretJwt ? ['client_secret_jwt'] : [])]
  // Only what `clientAuthMethods` accepts; client_secret_jwt's HMAC algorithms only with it.
  const accepted = (methods: readonly string[]): string[] => methods.filter((m) => (settings.clientAuthMethods as readonly string[]).includes(m))
  const jwtAlgs = [
    ...(settings.clientAuthMethods.includes('private_key_jwt') ? settings.clientAssertionSigningAlgorithms : []),
    ...(secretJwt && settings.clientAuthMethods.includes('client_secret_jwt') ? HMAC_JWS_ALGORITHMS : []),
  ]
  const grants = [...TOKEN_GRANTS.values()].filter((g) => g.enabled(settings)).map((g) => g.grantType)
  if (settings.implicitGrantEnabled) grants.push('implicit')
  return {
    issuer,
    authorization_endpoint: `${issuer}/authorize/`,
    token_endpoint: `${issuer}/token/`,
    revocation_endpoint: `${issuer}/revoke-token/`,
    introspection_endpoint: `${issuer}/introspect/`,
    scopes_supported: Object.keys(settings.scopes),
    // OpenID Connect adds the hybrid flows (for openid-hybrid applications); those that return
    // an access token from the authorization endpoint only with the implicit grant on (RFC 9700 §2.1.2).
    response_types_supported: responseTypesSupported(settings),
    // Every response type can be answered in any of them (but tokens never in the query).
    response_modes_supported: [...RESPONSE_MODES],
    grant_types_supported: grants,
    token_endpoint_auth_methods_supported: accepted(['client_secret_basic', 'client_secret_post', ...jwtMethods, 'none']),
    revocation_endpoint_auth_methods_supported: accepted(['client_secret_basic', 'client_secret_post', ...jwtMethods, 'none']),
    introspection_endpoint_auth_methods_supported: accepted(['client_secret_basic', 'client_secret_post', ...jwtMethods]),
    token_endpoint_auth_signing_alg_values_supported: jwtAlgs,
    revocation_endpoint_auth_signing_alg_values_supported: jwtAlgs,
    introspection_endpoint_auth_signing_alg_values_supported: jwtAlgs,
    code_challenge_methods_supported: settings.pkcePlainAllowed ? ['S256', 'plain'] : ['S256'],
    authorization_response_iss_parameter_supported: settings.authorizationResponseIss,
    ...(settings.deviceFlowEnabled ? { device_authorization_endpoint: `${issuer}/device-authorization/` } : {}),
    ...(settings.oidcEnabled || settings.accessTokenFormat === 'jwt' ? { jwks_uri: `${issuer}/.well-known/jwks.json` } : {}),
    ...(settings.dcrEnabled ? { registration_endpoint: `${issuer}/register/` } : {}),
    ...(settings.parEnabled
      ? { pushed_authorization_request_endpoint: `${issuer}/par/`, require_pushed_authorization_requests: settings.requirePushedAuthorizationRequests }
      : {}),
    ...(settings.protectedResources.length > 0 ? { protected_resources: settings.protectedResources.map((r) => r.resource) } : {}),
    ...(settings.cimdEnabled ? { client_id_metadata_document_supported: true } : {}),
    ...(settings.dpopEnabled ? { dpop_signing_alg_values_supported: [...settings.dpopSigningAlgValues] } : {}),
    request_parameter_supported: true,
    // Discovery §3: request_uri_parameter_supported defaults to true, so it is said explicitly.
    request_uri_parameter_supported: false,
    request_object_signing_alg_values_supported: requestObjectAlgorithms(settings, secretJwt),
    require_signed_request_object: settings.requireSignedRequestObject,
  }
}

/** The response types the authorization endpoint accepts under `settings`. */
export function responseTypesSupported (settings: Pick<Settings, 'implicitGrantEnabled' | 'oidcEnabled' | 'hybridFlowEnabled'>): string[] {
  const implicit = settings.implicitGrantEnabled
  const hybrid = settings.oidcEnabled && settings.hybridFlowEnabled
  return [
    'code',
    ...(implicit ? ['token'] : []),
    ...(hybrid ? ['code id_token'] : []),
    ...(hybrid && implicit ? ['code token', 'code id_token token'] : []),
  ]
}

/** OpenID Connect Discovery 1.0 §3 provider metadata: the RFC 8414 document plus the OIDC fields. */
export interface OpenIdProviderMetadata extends AuthorizationServerMetadata {
  jwks_uri: string
  userinfo_endpoint: string
  subject_types_supported: string[]
  id_token_signing_alg_values_supported: string[]
  /** OIDC Discovery §3: the algorithms UserInfo responses can be signed with (the active keys'). */
  userinfo_signing_alg_values_supported: string[]
  claims_supported: string[]
  claims_parameter_supported: boolean
  prompt_values_supported: string[]
  /** RP-Initiated Logout 1.0 §2.1, when enabled. */
  end_session_endpoint?: string
  /** Back-Channel Logout 1.0 §2.1: logout tokens are POSTed to clients' `backchannel_logout_uri`. */
  backchannel_logout_supported: boolean
  /** Back-Channel Logout 1.0 §2.1: logout tokens carry `sid`, and ID tokens of a tracked session do too. */
  backchannel_logout_session_supported: boolean
}

/** Claims every ID token (or UserInfo answer) may carry, whatever the host's claims. */
const ID_TOKEN_CLAIMS = ['sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'at_hash', 'jti', 'sid']

/**
 * The OpenID Connect discovery document for `issuer`: the RFC 8414 document (so the two never
 * disagree) plus the OIDC fields, each limited to what the server really does.
 * @param userClaims the standard claims UserInfo can return (those of the known scopes when the host gives `getUserClaims`).
 * @param options.hs256 whether applications can use HS256 and client_secret_jwt (a `clientSecretSealingKey` is configured).
 * @param options.algorithms the algorithms of the server's active keys (default `['RS256']`).
 */
export function openIdProviderMetadata (settings: Settings, issuer: string, userClaims: readonly string[],
  options: { hs256?: boolean, algorithms?: readonly string[] } = {}): OpenIdProviderMetadata {
  return {
    ...authorizationServerMetadata(settings, issuer, { secretJwt: options.hs256 === true }),
    jwks_uri: `${issuer}/.well-known/jwks.json`,
    userinfo_endpoint: `${issuer}/userinfo/`,
    subject_types_supported: ['public'],
    // What the server can sign with: its active keys' algorithms; HS256 needs the client secret,
    // which only a configured sealing key keeps usable (a stored hash is no HMAC key).
    id_token_signing_alg_values_supported: [...(options.algorithms ?? ['RS256']), ...(options.hs256 === true ? ['HS256'] : [])],
    // Signed UserInfo uses the server's keys only (`none` means plain JSON, not offered as a value).
    userinfo_signing_alg_values_supported: [...(options.algorithms ?? ['RS256'])],
    claims_supported: [...new Set([...ID_TOKEN_CLAIMS, ...userClaims])],
    claims_parameter_supported: false,
    prompt_values_supported: ['none', 'login', 'consent'],
    ...(settings.oidcRpInitiatedLogoutEnabled ? { end_session_endpoint: `${issuer}/logout/` } : {}),
    backchannel_logout_supported: true,
    backchannel_logout_session_supported: true,
  }
}
