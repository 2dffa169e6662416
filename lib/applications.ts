import type { ServerContext } from './context.js'
import { displayNameProblem } from './display-name.js'
import type { ClientChangeSource } from './event-types.js'
import { notifyClientDeleted, notifyClientRegistered, notifyClientUpdated } from './events.js'
import { CLIENT_ID_ALPHABET } from './random.js'
import { APPLICATION_GRANT_TYPES, type Application, type ApplicationChanges, type ApplicationGrantType, type ClientType, type NewApplication, type SigningAlgorithm, type TokenEndpointAuthMethod } from './store/types.js'
import { activeKeyFor, SIGNING_KEY_ALGORITHMS, signingAlgorithmsOf, type SigningKeyAlgorithm } from './tokens/signing-keys.js'
import { isAsymmetricAlgorithm, isHmacAlgorithm } from './tokens/jws-algorithms.js'
import { parseJwks } from './validator/client-jwks.js'
import { requestObjectAlgorithms } from './validator/request-object.js'
import { calledUrlProblem, originProblem, redirectUriProblem } from './validator/redirect-uri.js'

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
  /** RFC 9126 §6: accept only authorization requests pushed through `par/` (default false). */
  requirePushedAuthorizationRequests?: boolean
  /** RFC 9449 §5.2 `dpop_bound_access_tokens`: every token request must carry a DPoP proof (default false; needs the `dpopEnabled` setting). */
  dpopBoundAccessTokens?: boolean
  /**
   * RFC 7591 `token_endpoint_auth_method`: the only client authentication method accepted.
   * `''` (the default) accepts any; `none` for public clients, the others for confidential ones.
   */
  tokenEndpointAuthMethod?: TokenEndpointAuthMethod | ''
  /**
   * RFC 7591 `jwks`: the client's public keys as JWK Set JSON text, for `private_key_jwt`
   * (`''` none). Public keys only; not together with `jwksUri`.
   */
  jwks?: string
  /** RFC 7591 `jwks_uri`: an https URL of the client's JWK Set, fetched when needed (`''` none). Not together with `jwks`. */
  jwksUri?: string
  /**
   * RFC 7591 / OIDC Registration `token_endpoint_auth_signing_alg`: the one JWS algorithm the
   * client's assertions may use (`''`, the default: any the server accepts for its method).
   */
  tokenEndpointAuthSigningAlg?: string
  /**
   * RFC 9101 §10.5 `require_signed_request_object`: authorization requests must come as signed
   * request objects (`request`, at the authorization endpoint or `par/`). Default false. Needs
   * keys to verify them: `jwks`/`jwksUri`, or a sealed secret for HS256/384/512.
   */
  requireSignedRequestObject?: boolean
  /**
   * OpenID Connect Registration `request_object_signing_alg`: the one `alg` the client's request
   * objects may use (`''`, the default: any the server accepts). An asymmetric algorithm of
   * `clientAssertionSigningAlgorithms` (needs `jwks`/`jwksUri`), HS256/384/512 (needs the secret
   * kept sealed: `client_secret_jwt` or HS256 ID tokens), or `none` with `allowUnsignedRequestObjects`.
   */
  requestObjectSigningAlg?: string
  /**
   * OpenID Connect Registration `userinfo_signed_response_alg`: UserInfo answers this client with
   * a JWS (`application/jwt`, OIDC Core §5.3.2) signed by the server's active key of this
   * algorithm (`RS256`, `PS256`, `ES256` or `EdDSA`); `''` (the default) answers plain JSON.
   * Left out of an update, the current value stays.
   */
  userinfoSignedResponseAlg?: string
  /**
   * OpenID Connect Back-Channel Logout 1.0 `backchannel_logout_uri`: where the server POSTs a
   * logout token when a user's session the client took part in ends (`''`, the default: none).
   * An absolute https URL without fragment. Left out of an update, the current value stays.
   */
  backchannelLogoutUri?: string
  /** Back-Channel Logout 1.0 `backchannel_logout_session_required`: the client needs `sid` in logout tokens (always sent; default false). */
  backchannelLogoutSessionRequired?: boolean
  /** RFC 7591 `scope`: the only scopes the client may obtain (known scope names); `null` (the default) for any. */
  allowedScopes?: readonly string[] | null
  /**
   * RFC 7662 §4: make this confidential client a resource server that may introspect every
   * client's access tokens and obtain the `introspection` scope (default false: it learns only
   * about its own tokens). For administrators: dynamic registration and the self-service
   * management pages never set it.
   */
  allowIntrospection?: boolean
  /**
   * The client is an end user's, not the operator's, so its redirect URIs are unvetted: errors
   * found at the authorization endpoint before the user approved are shown on the error page,
   * never redirected there (RFC 9700 §4.11.2), and the consent page names where the browser
   * will go. Default false (an operator's client); dynamic registration and the management
   * pages always set it. Set it when host code creates clients on behalf of its users.
   */
  selfRegistered?: boolean
}

/**
 * The fields of a Client ID Metadata Document client (lib/registration/cimd.ts) that its document
 * describes, rewritten from it at every fetch: its name, where the browser may be sent, how the
 * client authenticates (type, method, keys; never a secret, draft §4.1), the algorithms and the
 * grant type it asks for, its scopes. `updateApplication` refuses to change them on such a client:
 * the next fetch would quietly undo the edit. Its other fields are the operator's.
 */
export const CIMD_DOCUMENT_FIELDS = Object.freeze([
  'name', 'clientType', 'authorizationGrantType', 'redirectUris', 'postLogoutRedirectUris', 'algorithm', 'tokenEndpointAuthMethod',
  'clientSecretHash', 'clientSecretSealed', 'jwks', 'jwksUri', 'tokenEndpointAuthSigningAlg', 'requestObjectSigningAlg', 'userinfoSignedResponseAlg',
  'allowedScopes',
] as const satisfies ReadonlyArray<keyof ApplicationChanges>)

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

/** Every value of an application's `algorithm` (`''`: the server's default). */
const APPLICATION_ALGORITHMS: readonly string[] = ['', ...SIGNING_KEY_ALGORITHMS, 'HS256']

/** Every value of an application's `userinfoSignedResponseAlg` (`''`: plain JSON; `none` is not offered). */
const USERINFO_ALGORITHMS: readonly string[] = ['', ...SIGNING_KEY_ALGORITHMS]

/**
 * The problem with a `userinfoSignedResponseAlg`, if any: an algorithm the server can sign with.
 * Without keys (the CLI) whether the key exists cannot be known here; answering then says it loudly.
 */
function userinfoAlgorithmProblem (ctx: ServerContext, alg: string): string | null {
  if (!USERINFO_ALGORITHMS.includes(alg)) return 'must be empty, "RS256", "PS256", "ES256" or "EdDSA"'
  if (alg !== '' && ctx.oidc != null && activeKeyFor(ctx.oidc.keys, alg as SigningKeyAlgorithm) === undefined) {
    return `the server has no ${alg} signing key (it signs with ${signingAlgorithmsOf(ctx.oidc.keys).join(', ')})`
  }
  return null
}

const GRANTS_NEEDING_REDIRECT: ReadonlySet<string> = new Set(['authorization-code', 'implicit', 'openid-hybrid'])
// RFC 6749 §2.2: client_id is VSCHAR (printable ASCII); we also refuse spaces and ':' (Basic).
const CLIENT_ID = /^[\x21-\x39\x3b-\x7e]{1,255}$/

function list (value: readonly string[] | string | undefined): string[] {
  if (value === undefined) return []
  return (typeof value === 'string' ? value.split(/\s+/) : [...value]).map((s) => s.trim()).filter((s) => s.length > 0)
}

/** The fields every application has, validated and normalised. */
interface ValidFields {
  clientType: ClientType
  authorizationGrantType: ApplicationGrantType
  redirectUris: string[]
  postLogoutRedirectUris: string[]
  allowedOrigins: string[]
  name: string
  algorithm: SigningAlgorithm
}

/** Checks the fields shared by registration and update; problems go into `errors` by field name. */
function validateFields (ctx: ServerContext, input: ApplicationInput, errors: Record<string, string>): ValidFields {
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
  if (!APPLICATION_ALGORITHMS.includes(algorithm)) errors.algorithm = 'must be empty, "RS256", "PS256", "ES256", "EdDSA" or "HS256"'
  else if (algorithm === 'HS256') {
    const problem = hs256Problem(ctx, clientType)
    if (problem !== null) errors.algorithm = problem
  } else if (algorithm !== '' && ctx.oidc != null && activeKeyFor(ctx.oidc.keys, algorithm) === undefined) {
    // Without keys (the CLI) this cannot be known here; issuing then says it loudly.
    errors.algorithm = `the server has no ${algorithm} signing key (it signs with ${signingAlgorithmsOf(ctx.oidc.keys).join(', ')})`
  }

  if (input.backchannelLogoutUri !== undefined) {
    const problem = typeof input.backchannelLogoutUri !== 'string' ? 'must be a string' : input.backchannelLogoutUri === '' ? null : calledUrlProblem(input.backchannelLogoutUri)
    if (problem !== null) errors.backchannelLogoutUri = problem
  }
  if (input.backchannelLogoutSessionRequired !== undefined && typeof input.backchannelLogoutSessionRequired !== 'boolean') errors.backchannelLogoutSessionRequired = 'must be true or false'

  const name = input.name ?? ''
  const nameProblem = typeof name === 'string' ? displayNameProblem(name) : 'must be a string'
  if (nameProblem !== null) errors.name = nameProblem
  else if (name.length > 255) errors.name = 'must be at most 255 characters'
  return { clientType, authorizationGrantType: grantType, redirectUris, postLogoutRedirectUris: postLogout, allowedOrigins: origins, name, algorithm }
}

const AUTH_METHODS: readonly string[] = ['', 'client_secret_basic', 'client_secret_post', 'none', 'private_key_jwt', 'client_secret_jwt']

/** The client policy fields `validatePolicy` checks. */
type Policy = Pick<NewApplication, 'tokenEndpointAuthMethod' | 'allowedScopes' | 'jwks' | 'jwksUri' | 'tokenEndpointAuthSigningAlg'>

/** The client policy fields given in `input`, validated (omitted ones stay omitted). */
function validatePolicy (ctx: ServerContext, input: ApplicationInput, clientType: ClientType, errors: Record<string, string>): Policy {
  const policy: { -readonly [K in keyof Policy]: Policy[K] } = {}
  const method = input.tokenEndpointAuthMethod
  if (method !== undefined) {
    if (!AUTH_METHODS.includes(method)) {
      errors.tokenEndpointAuthMethod = 'must be empty, "client_secret_basic", "client_secret_post", "private_key_jwt", "client_secret_jwt" or "none"'
    } else if (method !== '' && (method === 'none') !== (clientType === 'public')) {
      errors.tokenEndpointAuthMethod = 'public clients use "none"; confidential clients "client_secret_basic", "client_secret_post", "private_key_jwt" or "client_secret_jwt"'
    } else if (method === 'client_secret_jwt' && ctx.secretSealer == null) {
      errors.tokenEndpointAuthMethod = 'client_secret_jwt needs the client secret in clear, but secrets are stored hashed: configure clientSecretSealingKey ' +
        '(OAT_CLIENT_SECRET_SEALING_KEY for the CLI) so the server can keep it sealed, or use private_key_jwt'
    }
    policy.tokenEndpointAuthMethod = method
  }
  if (input.jwks !== undefined) {
    const problem = typeof input.jwks !== 'string' ? 'must be JWK Set JSON text' : input.jwks === '' ? null : jwksTextProblem(input.jwks)
    if (problem !== null) errors.jwks = problem
    policy.jwks = input.jwks
  }
  if (input.jwksUri !== undefined) {
    const problem = typeof input.jwksUri !== 'string' ? 'must be a string' : input.jwksUri === '' ? null : jwksUriProblem(input.jwksUri)
    if (problem !== null) errors.jwksUri = problem
    policy.jwksUri = input.jwksUri
  }
  if (input.tokenEndpointAuthSigningAlg !== undefined) policy.tokenEndpointAuthSigningAlg = input.tokenEndpointAuthSigningAlg
  if (input.allowedScopes !== undefined) {
    const scopes = input.allowedScopes === null ? null : [...new Set(input.allowedScopes)]
    const unknown = (scopes ?? []).filter((s) => !Object.hasOwn(ctx.settings.scopes, s))
    if (unknown.length > 0) errors.allowedScopes = `unknown scopes: ${unknown.join(' ')}`
    policy.allowedScopes = scopes
  }
  return policy
}

function jwksTextProblem (text: string): string | null {
  try {
    parseJwks(text)
    return null
  } catch (err) {
    return (err as Error).message
  }
}

/** A `jwks_uri` the SSRF-safe client will fetch (see `calledUrlProblem`). */
const jwksUriProblem = calledUrlProblem

/**
 * The key fields of an application as they will be stored, checked together: RFC 7591 §2 allows
 * `jwks` or `jwks_uri`, never both; `private_key_jwt` needs one of them; the signing algorithm
 * belongs to the method's family (asymmetric and enabled for `private_key_jwt`, HMAC for
 * `client_secret_jwt`) and means nothing for the secret methods.
 */
function keyProblems (ctx: ServerContext, method: TokenEndpointAuthMethod | '', jwks: string, jwksUri: string, alg: string,
  algorithm: SigningAlgorithm, errors: Record<string, string>): void {
  if (jwks !== '' && jwksUri !== '') errors.jwks ??= 'give jwks or jwksUri, not both (RFC 7591 §2)'
  else if (method === 'private_key_jwt' && jwks === '' && jwksUri === '') errors.jwks ??= 'private_key_jwt needs the client\'s public keys: jwks or jwksUri'
  if (method === 'private_key_jwt' && algorithm === 'HS256') errors.algorithm ??= 'HS256 signs with the client secret, and private_key_jwt clients have none; use RS256'
  if (alg === '') return
  const family = method === 'private_key_jwt' || (method === '' && isAsymmetricAlgorithm(alg))
    ? 'asymmetric'
    : method === 'client_secret_jwt' || (method === '' && isHmacAlgorithm(alg)) ? 'hmac' : null
  if (family === null) errors.tokenEndpointAuthSigningAlg ??= 'applies only to private_key_jwt and client_secret_jwt'
  else if (family === 'asymmetric' && !ctx.settings.clientAssertionSigningAlgorithms.includes(alg)) {
    errors.tokenEndpointAuthSigningAlg ??= `must be one of ${ctx.settings.clientAssertionSigningAlgorithms.join(', ')} for private_key_jwt`
  } else if (family === 'hmac' && !isHmacAlgorithm(alg)) errors.tokenEndpointAuthSigningAlg ??= 'must be HS256, HS384 or HS512 for client_secret_jwt'
}

/** What a client registered about request objects, with what it has to verify them. */
interface RequestObjectFields {
  readonly alg: string
  readonly required: boolean
  readonly keys: boolean
  readonly sealed: boolean
}

/**
 * RFC 9101 request object fields: the algorithm is one this server verifies, and the client has
 * what verifies it (public keys for the asymmetric ones, a sealed secret for HMAC); a client that
 * must sign its objects can neither choose `none` nor be without any key.
 */
function requestObjectProblems (ctx: ServerContext, fields: RequestObjectFields, errors: Record<string, string>): void {
  const { alg, required, keys, sealed } = fields
  const field = 'requestObjectSigningAlg'
  if (typeof alg !== 'string') errors[field] ??= 'must be a string'
  else if (alg === 'none') {
    if (!ctx.settings.allowUnsignedRequestObjects) errors[field] ??= 'none (unsigned request objects) needs the allowUnsignedRequestObjects setting'
    else if (required) errors[field] ??= 'a client that requires signed request objects cannot use none'
  } else if (isHmacAlgorithm(alg)) {
    if (!sealed) errors[field] ??= `${alg} MACs with the client secret, which is kept (sealed) only for client_secret_jwt and HS256 ID tokens`
  } else if (alg !== '') {
    if (!ctx.settings.clientAssertionSigningAlgorithms.includes(alg)) errors[field] ??= `must be one of ${requestObjectAlgorithms(ctx.settings, ctx.secretSealer != null).join(', ')}`
    else if (!keys) errors[field] ??= `${alg} needs the client's public keys: jwks or jwksUri`
  }
  if (typeof required !== 'boolean') errors.requireSignedRequestObject ??= 'must be a boolean'
  else if (required && alg === '' && !keys && !sealed) errors.requireSignedRequestObject ??= 'signed request objects need the client\'s public keys (jwks or jwksUri) or a sealed secret'
}

/** Whether the application keeps its secret sealed: an HS256 ID token or `client_secret_jwt` keys an HMAC with it. */
function needsSealedSecret (algorithm: SigningAlgorithm, method: TokenEndpointAuthMethod | ''): boolean {
  return algorithm === 'HS256' || method === 'client_secret_jwt'
}

/** Only a client that can authenticate may introspect (RFC 7662 §2.1): a public one never can. */
const PUBLIC_INTROSPECTOR = 'only confidential clients can introspect tokens (RFC 7662 §2.1)'

/**
 * A registered client's authentication method kept consistent with a new client type: a
 * client that becomes public uses `none`, one that becomes confidential `client_secret_basic`.
 */
function methodForType (current: TokenEndpointAuthMethod | '', clientType: ClientType): TokenEndpointAuthMethod | '' {
  if (current === '') return ''
  if (clientType === 'public') return 'none'
  return current === 'none' ? 'client_secret_basic' : current
}

/**
 * Why an application cannot use HS256, or `null`. The ID token is MACed with the client secret
 * (OIDC Core §10.1), so there must be one, and the server must be able to keep it: secrets are
 * stored hashed, and a hash is no key (DOT 3.4.0 #1737 keyed HS256 with it), so it is also kept sealed under
 * the `clientSecretSealingKey` option.
 */
function hs256Problem (ctx: ServerContext, clientType: ClientType): string | null {
  if (clientType === 'public') return 'HS256 signs with the client secret, and public clients have none; use RS256'
  if (ctx.secretSealer == null) {
    return 'HS256 needs the client secret in clear, but secrets are stored hashed: configure clientSecretSealingKey ' +
      '(OAT_CLIENT_SECRET_SEALING_KEY for the CLI) so the server can keep it sealed, or use RS256'
  }
  return null
}

/** HS256 keys must be at least as long as the hash (RFC 7518 §3.2): 256 bits. */
const HS256_MIN_SECRET_BYTES = 32

/** The sealed secret to store: for HS256 and `client_secret_jwt` applications only. */
function sealFor (ctx: ServerContext, sealed: boolean, clientId: string, secret: string): string {
  if (!sealed) return ''
  if (ctx.secretSealer == null) throw new ApplicationValidationError({ algorithm: hs256Problem(ctx, 'confidential') ?? '' })
  return ctx.secretSealer.seal(clientId, secret)
}

/** A validated application ready to insert, and its secret in clear (shown once). */
export interface PreparedApplication {
  readonly row: NewApplication
  readonly clientSecret: string | null
}

/** Validates every field and draws the client id and secret; throws `ApplicationValidationError`. Stores nothing. */
export async function prepareApplication (ctx: ServerContext, input: ApplicationInput): Promise<PreparedApplication> {
  const errors: Record<string, string> = {}
  const fields = validateFields(ctx, input, errors)
  const { clientType } = fields
  const policy = validatePolicy(ctx, input, clientType, errors)
  const method = policy.tokenEndpointAuthMethod ?? ''
  keyProblems(ctx, method, policy.jwks ?? '', policy.jwksUri ?? '', policy.tokenEndpointAuthSigningAlg ?? '', fields.algorithm, errors)
  const sealed = needsSealedSecret(fields.algorithm, method)
  requestObjectProblems(ctx, {
    alg: input.requestObjectSigningAlg ?? '',
    required: input.requireSignedRequestObject ?? false,
    keys: (policy.jwks ?? '') !== '' || (policy.jwksUri ?? '') !== '',
    sealed: sealed && clientType === 'confidential',
  }, errors)
  if (input.allowIntrospection === true && clientType === 'public') errors.allowIntrospection = PUBLIC_INTROSPECTOR
  const userinfoProblem = userinfoAlgorithmProblem(ctx, input.userinfoSignedResponseAlg ?? '')
  if (userinfoProblem !== null) errors.userinfoSignedResponseAlg = userinfoProblem

  let clientId = input.clientId
  if (clientId !== undefined) {
    if (!CLIENT_ID.test(clientId)) errors.clientId = 'must be 1 to 255 printable ASCII characters without spaces or ":"'
    else if (await ctx.store.findApplicationByClientId(clientId) !== null) errors.clientId = 'is already taken'
  }
  let clientSecret: string | null = null
  if (clientType === 'public') {
    if (input.clientSecret !== undefined && input.clientSecret !== '') errors.clientSecret = 'public clients have no secret'
  } else if (method === 'private_key_jwt') {
    // It proves itself with its key: a secret would be a second, weaker credential.
    if (input.clientSecret !== undefined && input.clientSecret !== '') errors.clientSecret = 'private_key_jwt clients have no secret'
  } else {
    clientSecret = input.clientSecret ?? newSecret(ctx)
    if (clientSecret.length < 8) errors.clientSecret = 'must be at least 8 characters'
    else if (sealed && Buffer.byteLength(clientSecret, 'utf8') < HS256_MIN_SECRET_BYTES) {
      errors.clientSecret = `must be at least ${HS256_MIN_SECRET_BYTES} bytes to key ${fields.algorithm === 'HS256' ? 'HS256' : 'client_secret_jwt'} (RFC 7518 §3.2)`
    }
  }
  if (Object.keys(errors).length > 0) throw new ApplicationValidationError(errors)

  clientId ??= ctx.random.string(ctx.settings.clientIdGeneratorLength, CLIENT_ID_ALPHABET)
  const row: NewApplication = {
    ...fields,
    clientId,
    clientSecretHash: clientSecret === null ? '' : await ctx.hasher.hash(clientSecret),
    clientSecretSealed: clientSecret === null ? '' : sealFor(ctx, sealed, clientId, clientSecret),
    userId: input.userId ?? null,
    skipAuthorization: input.skipAuthorization ?? false,
    requirePushedAuthorizationRequests: input.requirePushedAuthorizationRequests ?? false,
    dpopBoundAccessTokens: input.dpopBoundAccessTokens ?? false,
    requireSignedRequestObject: input.requireSignedRequestObject ?? false,
    requestObjectSigningAlg: input.requestObjectSigningAlg ?? '',
    userinfoSignedResponseAlg: input.userinfoSignedResponseAlg ?? '',
    backchannelLogoutUri: input.backchannelLogoutUri ?? '',
    backchannelLogoutSessionRequired: input.backchannelLogoutSessionRequired ?? false,
    allowIntrospection: input.allowIntrospection ?? false,
    selfRegistered: input.selfRegistered ?? false,
    ...policy,
    now: ctx.clock.now(),
  }
  return { row, clientSecret }
}

/**
 * Validates every field and registers the application; throws `ApplicationValidationError`.
 * @param source who asked, for `clientRegistered`.
 */
export async function createApplication (ctx: ServerContext, input: ApplicationInput, source: ClientChangeSource = 'api'): Promise<CreatedApplication> {
  const { row, clientSecret } = await prepareApplication(ctx, input)
  const application = await ctx.store.createApplication(row)
  notifyClientRegistered(ctx, application, source)
  return { application, clientSecret }
}

/**
 * Input for changing an application: the editable fields. The client id never changes, and
 * neither does `selfRegistered`: an owner's edit cannot vouch for the client's redirect URIs.
 */
export type ApplicationUpdate = Omit<ApplicationInput, 'clientId' | 'clientSecret' | 'userId' | 'selfRegistered'>

/**
 * Validates and applies changes to an application. A public client that becomes confidential
 * gets a new secret, returned in clear this once; a confidential one that becomes public loses
 * its secret. An application that becomes HS256 gets a new secret too (only the hash of the old
 * one is known, and HS256 needs it sealed); one that leaves HS256 drops its sealed copy.
 * `allowIntrospection` left out keeps the current permission; a client that becomes public loses it.
 * `selfRegistered` is never cleared here; with `selfService` (an end user editing their own
 * application, as on the management pages) it is set when the redirect or post-logout URIs
 * change: the owner, not the operator, now vouches for where the browser is sent.
 * `null` when the application no longer exists.
 */
export async function updateApplication (ctx: ServerContext, id: number, input: ApplicationUpdate,
  options: { readonly selfService?: boolean, readonly source?: ClientChangeSource } = {}): Promise<CreatedApplication | null> {
  const current = await ctx.store.findApplicationById(id)
  if (current === null) return null
  const errors: Record<string, string> = {}
  const fields = validateFields(ctx, input, errors)
  const policy = validatePolicy(ctx, input, fields.clientType, errors)
  const method = policy.tokenEndpointAuthMethod ?? methodForType(current.tokenEndpointAuthMethod, fields.clientType)
  keyProblems(ctx, method, policy.jwks ?? current.jwks, policy.jwksUri ?? current.jwksUri,
    policy.tokenEndpointAuthSigningAlg ?? current.tokenEndpointAuthSigningAlg, fields.algorithm, errors)
  requestObjectProblems(ctx, {
    alg: input.requestObjectSigningAlg ?? current.requestObjectSigningAlg,
    required: input.requireSignedRequestObject ?? current.requireSignedRequestObject,
    keys: (policy.jwks ?? current.jwks) !== '' || (policy.jwksUri ?? current.jwksUri) !== '',
    sealed: needsSealedSecret(fields.algorithm, method) && fields.clientType === 'confidential',
  }, errors)
  if (input.allowIntrospection === true && fields.clientType === 'public') errors.allowIntrospection = PUBLIC_INTROSPECTOR
  const userinfoProblem = input.userinfoSignedResponseAlg === undefined ? null : userinfoAlgorithmProblem(ctx, input.userinfoSignedResponseAlg)
  if (userinfoProblem !== null) errors.userinfoSignedResponseAlg = userinfoProblem
  if (current.cimdExpiresAt !== null) {
    const wanted: Record<(typeof CIMD_DOCUMENT_FIELDS)[number], unknown> = {
      ...fields,
      tokenEndpointAuthMethod: method,
      clientSecretHash: current.clientSecretHash,
      clientSecretSealed: current.clientSecretSealed,
      jwks: policy.jwks ?? current.jwks,
      jwksUri: policy.jwksUri ?? current.jwksUri,
      tokenEndpointAuthSigningAlg: policy.tokenEndpointAuthSigningAlg ?? current.tokenEndpointAuthSigningAlg,
      requestObjectSigningAlg: input.requestObjectSigningAlg ?? current.requestObjectSigningAlg,
      userinfoSignedResponseAlg: input.userinfoSignedResponseAlg ?? current.userinfoSignedResponseAlg,
      allowedScopes: policy.allowedScopes === undefined ? current.allowedScopes : policy.allowedScopes,
    }
    for (const field of CIMD_DOCUMENT_FIELDS) {
      if (!sameValue(wanted[field], current[field])) errors[field] ??= CIMD_FIELD
    }
  }
  if (Object.keys(errors).length > 0) throw new ApplicationValidationError(errors)
  // A client that becomes public loses the permission it could no longer use safely: its
  // tokens would otherwise be able to carry the introspection scope.
  const allowIntrospection = fields.clientType === 'public' ? false : input.allowIntrospection
  const { clientSecret, clientSecretHash, clientSecretSealed } = await reconcileSecret(ctx, current, fields.clientType, method, fields.algorithm)
  const application = await ctx.store.updateApplication(id, {
    ...fields,
    clientSecretHash,
    clientSecretSealed,
    ...(input.skipAuthorization === undefined ? {} : { skipAuthorization: input.skipAuthorization }),
    ...(input.requirePushedAuthorizationRequests === undefined ? {} : { requirePushedAuthorizationRequests: input.requirePushedAuthorizationRequests }),
    ...(input.dpopBoundAccessTokens === undefined ? {} : { dpopBoundAccessTokens: input.dpopBoundAccessTokens }),
    ...(input.requireSignedRequestObject === undefined ? {} : { requireSignedRequestObject: input.requireSignedRequestObject }),
    ...(input.requestObjectSigningAlg === undefined ? {} : { requestObjectSigningAlg: input.requestObjectSigningAlg }),
    ...(input.userinfoSignedResponseAlg === undefined ? {} : { userinfoSignedResponseAlg: input.userinfoSignedResponseAlg }),
    ...(input.backchannelLogoutUri === undefined ? {} : { backchannelLogoutUri: input.backchannelLogoutUri }),
    ...(input.backchannelLogoutSessionRequired === undefined ? {} : { backchannelLogoutSessionRequired: input.backchannelLogoutSessionRequired }),
    ...(allowIntrospection === undefined ? {} : { allowIntrospection }),
    ...(options.selfService === true && !current.selfRegistered && newDestinations(current, fields) ? { selfRegistered: true } : {}),
    // A management edit of a registered client keeps its authentication method true to its type.
    tokenEndpointAuthMethod: method,
    ...(policy.allowedScopes === undefined ? {} : { allowedScopes: policy.allowedScopes }),
    ...(policy.jwks === undefined ? {} : { jwks: policy.jwks }),
    ...(policy.jwksUri === undefined ? {} : { jwksUri: policy.jwksUri }),
    ...(policy.tokenEndpointAuthSigningAlg === undefined ? {} : { tokenEndpointAuthSigningAlg: policy.tokenEndpointAuthSigningAlg }),
  }, ctx.clock.now())
  if (application === null) return null
  notifyClientUpdated(ctx, application, options.source ?? 'api', clientSecret !== null)
  return { application, clientSecret }
}

/**
 * Replaces a confidential application's secret; the new one is returned in clear this once. An
 * HS256 application's is sealed anew, so this throws `ApplicationValidationError` (field
 * `algorithm`) when no `clientSecretSealingKey` is configured, and changes nothing.
 */
export async function regenerateClientSecret (ctx: ServerContext, id: number, source: ClientChangeSource = 'api'): Promise<CreatedApplication | null> {
  const current = await ctx.store.findApplicationById(id)
  if (current === null || current.clientType !== 'confidential' || current.tokenEndpointAuthMethod === 'private_key_jwt') return null
  const clientSecret = newSecret(ctx)
  const clientSecretSealed = sealFor(ctx, needsSealedSecret(current.algorithm, current.tokenEndpointAuthMethod), current.clientId, clientSecret)
  const application = await ctx.store.updateApplication(id, { clientSecretHash: await ctx.hasher.hash(clientSecret), clientSecretSealed }, ctx.clock.now())
  if (application === null) return null
  notifyClientUpdated(ctx, application, source, true)
  return { application, clientSecret }
}

/** Deletes an application with everything issued to it; `clientDeleted` when it existed. */
export async function deleteApplication (ctx: ServerContext, id: number, source: ClientChangeSource = 'api'): Promise<boolean> {
  const application = await ctx.store.findApplicationById(id)
  if (application === null || !await ctx.store.deleteApplication(id)) return false
  notifyClientDeleted(ctx, application, source)
  return true
}

/** An application's secret after a change of type, method or ID token algorithm. */
export interface ReconciledSecret {
  /** A new secret, in clear this once; `null` when none was made. */
  readonly clientSecret: string | null
  readonly clientSecretHash: string
  readonly clientSecretSealed: string
}

/**
 * The secret an application keeps once it becomes `clientType` with `method` and ID token
 * `algorithm`: none for a public or `private_key_jwt` client (it proves itself with its key), the
 * current one otherwise, or a new one when it had none or now needs one sealed (HS256 ID tokens
 * and `client_secret_jwt` key an HMAC with it; only the hash of the old one is known).
 */
export async function reconcileSecret (ctx: ServerContext, current: Application, clientType: ClientType,
  method: TokenEndpointAuthMethod | '', algorithm: SigningAlgorithm): Promise<ReconciledSecret> {
  const sealed = needsSealedSecret(algorithm, method)
  if (clientType === 'public' || method === 'private_key_jwt') return { clientSecret: null, clientSecretHash: '', clientSecretSealed: '' }
  if (current.clientSecretHash !== '' && (!sealed || current.clientSecretSealed !== '')) {
    return { clientSecret: null, clientSecretHash: current.clientSecretHash, clientSecretSealed: sealed ? current.clientSecretSealed : '' }
  }
  const clientSecret = newSecret(ctx)
  return { clientSecret, clientSecretHash: await ctx.hasher.hash(clientSecret), clientSecretSealed: sealFor(ctx, sealed, current.clientId, clientSecret) }
}

/**
 * Problems with an application's key fields as they will be stored (field → message; empty
 * when none), for the registration endpoint's updates, which do not pass through `updateApplication`.
 */
export function clientKeyProblems (ctx: ServerContext, fields: {
  method: TokenEndpointAuthMethod | '',
  jwks: string,
  jwksUri: string,
  alg: string,
  algorithm: SigningAlgorithm,
  clientType: ClientType,
  requestObjectSigningAlg: string,
  requireSignedRequestObject: boolean,
  userinfoSignedResponseAlg?: string
}): Record<string, string> {
  const errors: Record<string, string> = {}
  const userinfoProblem = userinfoAlgorithmProblem(ctx, fields.userinfoSignedResponseAlg ?? '')
  if (userinfoProblem !== null) errors.userinfoSignedResponseAlg = userinfoProblem
  if (fields.jwks !== '') {
    const problem = jwksTextProblem(fields.jwks)
    if (problem !== null) errors.jwks = problem
  }
  if (fields.jwksUri !== '') {
    const problem = jwksUriProblem(fields.jwksUri)
    if (problem !== null) errors.jwksUri = problem
  }
  if (fields.method === 'client_secret_jwt' && ctx.secretSealer == null) errors.tokenEndpointAuthMethod = 'client_secret_jwt needs clientSecretSealingKey'
  keyProblems(ctx, fields.method, fields.jwks, fields.jwksUri, fields.alg, fields.algorithm, errors)
  requestObjectProblems(ctx, {
    alg: fields.requestObjectSigningAlg,
    required: fields.requireSignedRequestObject,
    keys: fields.jwks !== '' || fields.jwksUri !== '',
    sealed: needsSealedSecret(fields.algorithm, fields.method) && fields.clientType === 'confidential',
  }, errors)
  return errors
}

const CIMD_FIELD = 'comes from the client\'s metadata document: the next fetch would replace it'

/** Whether two field values are the same: strings and booleans exactly, lists as sets, `null` only as `null`. */
function sameValue (a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b)) {
    const left = new Set<unknown>(a)
    const right = new Set<unknown>(b)
    return left.size === right.size && [...left].every((v) => right.has(v))
  }
  return a === b
}

/** Whether an update sends the browser anywhere new: the redirect or post-logout URIs differ (as sets). */
function newDestinations (current: Application, fields: ValidFields): boolean {
  const differ = (a: readonly string[], b: readonly string[]): boolean => {
    const before = new Set(a)
    return b.some((uri) => !before.has(uri))
  }
  return differ(current.redirectUris, fields.redirectUris) || differ(current.postLogoutRedirectUris, fields.postLogoutRedirectUris)
}

function newSecret (ctx: ServerContext): string {
  return ctx.random.string(ctx.settings.clientSecretGeneratorLength, CLIENT_ID_ALPHABET)
}
