import type { Settings } from '../settings.js'
import { TOKEN_GRANTS } from '../grants/index.js'

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
  code_challenge_methods_supported: string[]
  authorization_response_iss_parameter_supported: boolean
}

/**
 * Builds the metadata document for `issuer`, whose endpoints live under it (the routes prefix).
 * Every list is derived from the settings, so the document never advertises what is switched off.
 */
export function authorizationServerMetadata (settings: Settings, issuer: string): AuthorizationServerMetadata {
  const grants = [...TOKEN_GRANTS.values()].filter((g) => g.enabled(settings)).map((g) => g.grantType)
  if (settings.implicitGrantEnabled) grants.push('implicit')
  return {
    issuer,
    authorization_endpoint: `${issuer}/authorize/`,
    token_endpoint: `${issuer}/token/`,
    revocation_endpoint: `${issuer}/revoke-token/`,
    introspection_endpoint: `${issuer}/introspect/`,
    scopes_supported: Object.keys(settings.scopes),
    response_types_supported: settings.implicitGrantEnabled ? ['code', 'token'] : ['code'],
    response_modes_supported: settings.implicitGrantEnabled ? ['query', 'fragment'] : ['query'],
    grant_types_supported: grants,
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
    revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
    introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    code_challenge_methods_supported: settings.pkcePlainAllowed ? ['S256', 'plain'] : ['S256'],
    authorization_response_iss_parameter_supported: settings.authorizationResponseIss,
  }
}
