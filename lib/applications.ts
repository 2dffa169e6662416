import type { ServerContext } from './context.js'
import { CLIENT_ID_ALPHABET } from './random.js'
import { APPLICATION_GRANT_TYPES, type Application, type ApplicationGrantType, type ClientType, type SigningAlgorithm } from './store/types.js'
import { originProblem, redirectUriProblem } from './validator/redirect-uri.js'

/** Input for registering an application (CLI, management pages, host code). */
export interface ApplicationInput {
  clientType: string
  authorizationGrantType: string
  name?: string
  redirectUris?: readonly string[] | string
  postLogoutRedirectUris?: readonly string[] | string
  allowedOrigins?: readonly string[] | string
  /** Generated (`clientIdGeneratorLength` characters) when omitted. */
  clientId?: string
  /** Generated for confidential clients when omitted; refused for public clients. */
  clientSecret?: string
  skipAuthorization?: boolean
  userId?: string | null
  algorithm?: string
}

/** A newly registered application and its secret in clear, which exists only now. */
export interface CreatedApplication {
  readonly application: Application
  /** Shown once; only its hash is stored. `null` for public clients. */
  readonly clientSecret: string | null
}

/** Field-by-field validation errors (field name → message), as DOT's `Application.clean()` reports them. */
export class ApplicationValidationError extends Error {
  readonly fields: Readonly<Record<string, string>>
  constructor (fields: Record<string, string>) {
    super(Object.entries(fields).map(([f, m]) => `${f}: ${m}`).join('; '))
    this.name = 'ApplicationValidationError'
    this.fields = fields
  }
}

const GRANTS_NEEDING_REDIRECT: ReadonlySet<string> = new Set(['authorization-code', 'implicit', 'openid-hybrid'])
// RFC 6749 §2.2: client_id is VSCHAR (printable ASCII); we also refuse spaces and ':' (Basic).
const CLIENT_ID = /^[\x21-\x39\x3b-\x7e]{1,255}$/

function list (value: readonly string[] | string | undefined): string[] {
  if (value === undefined) return []
  return (typeof value === 'string' ? value.split(/\s+/) : [...value]).map((s) => s.trim()).filter((s) => s.length > 0)
}

/** Validates every field and registers the application; throws `ApplicationValidationError`. */
export async function createApplication (ctx: ServerContext, input: ApplicationInput): Promise<CreatedApplication> {
  const errors: Record<string, string> = {}
  const clientType = input.clientType as ClientType
  if (clientType !== 'confidential' && clientType !== 'public') errors.clientType = 'must be "confidential" or "public"'
  const grantType = input.authorizationGrantType as ApplicationGrantType
  if (!APPLICATION_GRANT_TYPES.includes(grantType)) errors.authorizationGrantType = `must be one of ${APPLICATION_GRANT_TYPES.join(', ')}`
  if (grantType === 'client-credentials' && clientType === 'public') errors.clientType = 'client-credentials applications must be confidential (RFC 6749 §4.4)'

  const redirectUris = list(input.redirectUris)
  const uriErrors = redirectUris.map((u) => [u, redirectUriProblem(u, ctx.settings.allowedRedirectUriSchemes)] as const).filter(([, p]) => p !== null)
  if (uriErrors.length > 0) errors.redirectUris = uriErrors.map(([u, p]) => `${u} ${p ?? ''}`).join('; ')
  else if (GRANTS_NEEDING_REDIRECT.has(grantType) && redirectUris.length === 0) errors.redirectUris = `at least one redirect URI is required for ${grantType} applications`

  const postLogout = list(input.postLogoutRedirectUris)
  const logoutErrors = postLogout.map((u) => [u, redirectUriProblem(u, ctx.settings.allowedRedirectUriSchemes)] as const).filter(([, p]) => p !== null)
  if (logoutErrors.length > 0) errors.postLogoutRedirectUris = logoutErrors.map(([u, p]) => `${u} ${p ?? ''}`).join('; ')

  const origins = list(input.allowedOrigins)
  const originErrors = origins.map((o) => [o, originProblem(o)] as const).filter(([, p]) => p !== null)
  if (originErrors.length > 0) errors.allowedOrigins = originErrors.map(([o, p]) => `${o} ${p ?? ''}`).join('; ')

  const algorithm = (input.algorithm ?? '') as SigningAlgorithm
  if (!['', 'RS256', 'HS256'].includes(algorithm)) errors.algorithm = 'must be empty, "RS256" or "HS256"'
  // Secrets are stored hashed, so there is no usable HMAC key (DOT 3.4.0 #1737, JOSE-1).
  if (algorithm === 'HS256') errors.algorithm = 'HS256 needs the client secret in clear, but secrets are stored hashed; use RS256'

  const name = input.name ?? ''
  if (name.length > 255) errors.name = 'must be at most 255 characters'

  let clientId = input.clientId
  if (clientId !== undefined) {
    if (!CLIENT_ID.test(clientId)) errors.clientId = 'must be 1 to 255 printable ASCII characters without spaces or ":"'
    else if (await ctx.store.findApplicationByClientId(clientId) !== null) errors.clientId = 'is already taken'
  }
  let clientSecret: string | null = null
  if (clientType === 'public') {
    if (input.clientSecret !== undefined && input.clientSecret !== '') errors.clientSecret = 'public clients have no secret'
  } else {
    clientSecret = input.clientSecret ?? ctx.random.string(ctx.settings.clientSecretGeneratorLength, CLIENT_ID_ALPHABET)
    if (clientSecret.length < 8) errors.clientSecret = 'must be at least 8 characters'
  }
  if (Object.keys(errors).length > 0) throw new ApplicationValidationError(errors)

  clientId ??= ctx.random.string(ctx.settings.clientIdGeneratorLength, CLIENT_ID_ALPHABET)
  const application = await ctx.store.createApplication({
    clientId,
    clientSecretHash: clientSecret === null ? '' : await ctx.hasher.hash(clientSecret),
    clientType,
    authorizationGrantType: grantType,
    redirectUris,
    postLogoutRedirectUris: postLogout,
    allowedOrigins: origins,
    name,
    userId: input.userId ?? null,
    skipAuthorization: input.skipAuthorization ?? false,
    algorithm,
    now: ctx.clock.now(),
  })
  return { application, clientSecret }
}
