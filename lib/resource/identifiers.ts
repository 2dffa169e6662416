/**
 * Resource identifiers (RFC 8707 §2, RFC 9728 §1.2): what a declared protected resource looks
 * like, how two identifiers are compared, and where the RFC 9728 document of one lives.
 */

/** RFC 6750 bearer token presentations the toolkit's resource server accepts. */
export type BearerMethod = 'header' | 'query'

/**
 * A protected resource this application declares (the `protectedResources` setting): the
 * source of its RFC 9728 metadata document and an allowed RFC 8707 `resource` indicator.
 */
export interface ProtectedResourceSettings {
  /**
   * The resource identifier (RFC 9728 §1.2): an https URL without query or fragment (http only
   * for loopback hosts), e.g. `https://api.example.com/mcp`. Tokens bound to it carry it as `aud`.
   */
  readonly resource: string
  /** `scopes_supported`: the scopes clients request for it; each must be in `scopes`. Left out when not given. */
  readonly scopesSupported?: readonly string[]
  /** `authorization_servers`: issuer identifiers of the servers that issue its tokens; default this server's issuer. */
  readonly authorizationServers?: readonly string[]
  /** `bearer_methods_supported`; default `header`, plus `query` when `allowQueryStringTokens` (never more than that). */
  readonly bearerMethodsSupported?: readonly BearerMethod[]
  /** `resource_name`: a human-readable name. */
  readonly resourceName?: string
  /** `resource_documentation`: a URL of developer documentation. */
  readonly resourceDocumentation?: string
  /** `resource_policy_uri`: a URL of its data-usage policy. */
  readonly resourcePolicyUri?: string
  /** `resource_tos_uri`: a URL of its terms of service. */
  readonly resourceTosUri?: string
  /**
   * Serve its RFC 9728 document from this application (default `true`). Set `false` for a
   * resource another server hosts (a remote resource server publishes its own document); it
   * stays an allowed `resource` indicator.
   */
  readonly metadata?: boolean
}

/** The RFC 9728 §3 well-known path segment. */
export const PROTECTED_RESOURCE_WELL_KNOWN = '/.well-known/oauth-protected-resource'

/**
 * The comparison form of an identifier: http(s) URLs with scheme and host lower-cased, the
 * default port dropped and an empty path as `/` (the MCP spec asks servers to accept
 * upper-case scheme and host); other URIs as they are.
 */
export function normalizeResource (resource: string): string {
  if (!/^https?:/i.test(resource)) return resource
  try {
    return new URL(resource).href
  } catch {
    return resource
  }
}

/** True when two identifiers name the same resource. */
export function sameResource (a: string, b: string): boolean {
  return normalizeResource(a) === normalizeResource(b)
}

/**
 * RFC 9728 §3.1: the well-known segment goes between the host and the path; a path of just
 * `/` is dropped. `https://api.example.com/mcp` → `/.well-known/oauth-protected-resource/mcp`.
 */
export function protectedResourceMetadataPath (resource: string): string {
  const { pathname } = new URL(resource)
  return `${PROTECTED_RESOURCE_WELL_KNOWN}${pathname === '/' ? '' : pathname}`
}

/** The absolute URL of a resource's RFC 9728 document (the `resource_metadata` of challenges, §5.1). */
export function protectedResourceMetadataUrl (resource: string): string {
  return `${new URL(resource).origin}${protectedResourceMetadataPath(resource)}`
}

// Path characters a route can hold literally: no `:` or `*` (router syntax), no raw spaces.
const ROUTABLE_PATH = /^[A-Za-z0-9\-._~!$&'()+,;=@/%]*$/

/** Why `value` cannot be a declared resource identifier, or `null` when it can. */
export function declaredResourceProblem (value: unknown): string | null {
  if (typeof value !== 'string') return 'must be a string'
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return 'must be an absolute URL'
  }
  if (value.includes('#') || value.includes('?')) return 'must not have a query or fragment'
  const loopback = ['127.0.0.1', '[::1]', 'localhost'].includes(url.hostname)
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) return 'must use https (http only for loopback hosts)'
  if (url.username !== '' || url.password !== '') return 'must not carry credentials'
  if (!ROUTABLE_PATH.test(url.pathname)) return 'has a path with characters a route cannot hold (":" or "*")'
  return null
}

/** True for an https/http URL: the form of the optional URL fields of the metadata. */
export function isWebUrl (value: unknown): value is string {
  if (typeof value !== 'string') return false
  try {
    const url = new URL(value)
    return url.protocol === 'https:' || url.protocol === 'http:'
  } catch {
    return false
  }
}
