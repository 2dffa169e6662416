import { protectedResourceMetadataPath, type BearerMethod, type ProtectedResourceSettings } from '../resource/identifiers.js'
import type { Settings } from '../settings.js'

/** RFC 9728 §2 protected resource metadata, limited to what is true of this server. */
export interface ProtectedResourceMetadata {
  resource: string
  authorization_servers: string[]
  bearer_methods_supported: BearerMethod[]
  scopes_supported?: string[]
  resource_name?: string
  resource_documentation?: string
  resource_policy_uri?: string
  resource_tos_uri?: string
  /** RFC 9728 §2 (RFC 9449): with `dpopEnabled`, the algorithms this resource accepts for DPoP proofs. */
  dpop_signing_alg_values_supported?: string[]
}

/**
 * The RFC 9728 document of a declared resource. `issuer` is this server's issuer for the
 * request, the default `authorization_servers`. Bearer methods never claim more than the
 * resource server accepts (the header; the query only with `allowQueryStringTokens`).
 */
export function protectedResourceMetadata (settings: Settings, declared: ProtectedResourceSettings, issuer: string): ProtectedResourceMetadata {
  const body: ProtectedResourceMetadata = {
    // §3.3: the identifier exactly as declared, the one the well-known URL was built from.
    resource: declared.resource,
    authorization_servers: [...(declared.authorizationServers ?? [issuer])],
    bearer_methods_supported: [...(declared.bearerMethodsSupported ?? (settings.allowQueryStringTokens ? ['header', 'query'] : ['header']))],
  }
  if (declared.scopesSupported !== undefined) body.scopes_supported = [...declared.scopesSupported]
  if (declared.resourceName !== undefined) body.resource_name = declared.resourceName
  if (declared.resourceDocumentation !== undefined) body.resource_documentation = declared.resourceDocumentation
  if (declared.resourcePolicyUri !== undefined) body.resource_policy_uri = declared.resourcePolicyUri
  if (declared.resourceTosUri !== undefined) body.resource_tos_uri = declared.resourceTosUri
  if (settings.dpopEnabled) body.dpop_signing_alg_values_supported = [...settings.dpopSigningAlgValues]
  return body
}

/** The declared resources whose documents this app serves, by well-known path (§3.1); several may share a path on different hosts. */
export function resourcesByMetadataPath (settings: Settings): Map<string, ProtectedResourceSettings[]> {
  const byPath = new Map<string, ProtectedResourceSettings[]>()
  for (const declared of settings.protectedResources) {
    if (declared.metadata === false) continue
    const path = protectedResourceMetadataPath(declared.resource)
    byPath.set(path, [...(byPath.get(path) ?? []), declared])
  }
  return byPath
}

/**
 * Which of the resources sharing a path a request is about: the one on the request's host
 * (the scheme is not compared: TLS often ends at a proxy); else, when only one is declared
 * there, that one (behind a proxy the app may not see the public host). `null` when the
 * request's host matches none of several.
 * @param requestHost the request's `Host`, e.g. `api.example.com` or `localhost:3000`.
 */
export function selectResource (candidates: readonly ProtectedResourceSettings[], requestHost: string): ProtectedResourceSettings | null {
  const host = requestHost.toLowerCase()
  const hostname = host.replace(/:\d+$/, '')
  const onHost = candidates.filter((r) => new URL(r.resource).hostname === hostname)
  const exact = onHost.find((r) => new URL(r.resource).host === host) ?? (onHost.length === 1 ? onHost[0] : undefined)
  if (exact !== undefined) return exact
  return candidates.length === 1 ? candidates[0] ?? null : null
}
