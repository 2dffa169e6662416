import type { ServerContext } from '../context.js'
import type { Params } from '../request.js'
import type { Settings } from '../settings.js'
import type { ApplicationGrantType, IssuedTokenRows, RefreshTokenRecord } from '../store/types.js'
import type { TokenPair } from '../tokens/issue.js'
import type { AuthenticatedClient } from '../validator/client-auth.js'

/** What a grant hands back to the token endpoint. */
export interface GrantResult {
  readonly tokens: TokenPair
  readonly rows: IssuedTokenRows
  /** The signed OpenID Connect ID token, when one was issued. */
  readonly idToken?: string
  /** The refresh grant: the refresh token presented, which these tokens replace (`tokenRefreshed`). */
  readonly refreshed?: RefreshTokenRecord
  /** A grace-period retry: the pair issued before, handed back; nothing new was issued. */
  readonly reissued?: boolean
}

/** Per-request facts a grant may need besides its parameters. */
export interface GrantRequestInfo {
  /** The issuer identifier of this request (`iss` of ID tokens); `null` when unknown. */
  readonly issuer: string | null
  /** RFC 8707: every `resource` value of the token request, unvalidated (none: `[]`). */
  readonly resources?: readonly string[]
  /** RFC 9449: the JWK thumbprint of the request's verified DPoP proof, `''` (or absent) without one. */
  readonly dpopJkt?: string
}

/** One `grant_type` of the token endpoint. `grants/index.ts` maps wire values to these. */
export interface TokenGrant {
  /** The wire value of `grant_type`. */
  readonly grantType: string
  /** Parameters this grant reads; duplicates of these are rejected. */
  readonly parameters: ReadonlySet<string>
  /** Application types that may use it (DOT's mapping from wire grant to `authorization_grant_type`). */
  readonly applicationTypes: ReadonlySet<ApplicationGrantType>
  /** RFC 6749 §4.4: some grants are for confidential clients only. */
  readonly confidentialOnly: boolean
  /** Whether the server offers this grant under these settings. */
  enabled (settings: Settings): boolean
  handle (ctx: ServerContext, client: AuthenticatedClient, params: Params, info: GrantRequestInfo): Promise<GrantResult>
}
