import { ApplicationValidationError, clientKeyProblems, deleteApplication, prepareApplication, reconcileSecret } from '../applications.js'
import { notifyClientRegistered, notifyClientUpdated } from '../events.js'
import type { ServerContext } from '../context.js'
import { InvalidClientMetadataError, InvalidRedirectUriError, InvalidRequestError, InvalidTokenError } from '../errors.js'
import { lookupClient } from '../registration/cimd.js'
import { EXTRA_FIELDS, grantMetadataOf, validateClientMetadata, type ClientMetadata } from '../registration/metadata.js'
import { bearerChallenge, noStoreJson, type OAuthResponse } from '../response.js'
import type { Application, ApplicationGrantType, ClientRegistrationRecord, ClientType, SigningAlgorithm } from '../store/types.js'
import { constantTimeEqual, tokenChecksum } from '../tokens/checksum.js'
import { activeKeyFor } from '../tokens/signing-keys.js'
import { requiredAuthMethod } from '../validator/client-auth.js'

/** Who is registering, as the view established it under `dcrRegistrationPolicy`. */
export interface Registrant {
  /** The logged-in user who will own the application (`user` policy); `null` otherwise. */
  readonly userId: string | null
}

/** RFC 6750 §3: a registration request without a valid bearer token. */
function invalidToken (detail: string): InvalidTokenError {
  return new InvalidTokenError({
    description: 'The registration access token is invalid.',
    detail,
    headers: bearerChallenge({ error: 'invalid_token' }),
  })
}

/** The bearer token of an `Authorization` header, or `undefined`. */
function bearerToken (header: string | undefined): string | undefined {
  const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i.exec(header?.trim() ?? '')
  return match?.[1]
}

/**
 * RFC 7591 §3: under the `initial-access-token` policy, the request must carry one of the
 * host's initial access tokens. Every configured checksum is compared, in constant time.
 */
export function checkInitialAccessToken (ctx: ServerContext, authorization: string | undefined): void {
  const token = bearerToken(authorization)
  if (token === undefined) throw invalidToken('no initial access token')
  const checksum = tokenChecksum(token)
  let ok = false
  for (const known of ctx.initialAccessTokenChecksums ?? []) ok = constantTimeEqual(checksum, known) || ok
  if (!ok) throw invalidToken('unknown initial access token')
}

/**
 * The metadata document of a registered client (RFC 7591 §3.2.1, RFC 7592 §3). What the
 * application holds (type, grant type, authentication method, scope, URIs) is read from the
 * application, so an edit on the management pages shows here too.
 */
function clientDocument (ctx: ServerContext, application: Application, registration: ClientRegistrationRecord,
  issuer: string, extra: Record<string, unknown>): Record<string, unknown> {
  const metadata = registration.metadata
  const doc: Record<string, unknown> = {
    client_id: application.clientId,
    client_id_issued_at: Math.floor(application.createdAt.getTime() / 1000),
    ...extra,
    registration_client_uri: `${issuer}/register/${encodeURIComponent(application.clientId)}/`,
    redirect_uris: [...application.redirectUris],
  }
  if (application.name !== '') doc.client_name = application.name
  for (const name of EXTRA_FIELDS) if (metadata[name] !== undefined) doc[name] = metadata[name]
  Object.assign(doc, grantMetadataOf(application, metadata))
  doc.token_endpoint_auth_method = requiredAuthMethod(application) ?? (application.clientType === 'public' ? 'none' : 'client_secret_basic')
  if (application.allowedScopes !== null) doc.scope = application.allowedScopes.join(' ')
  if (ctx.settings.oidcEnabled) {
    doc.post_logout_redirect_uris = [...application.postLogoutRedirectUris]
    // OIDC Registration §2: the algorithm in force, the server's default when the client named none.
    doc.id_token_signed_response_alg = application.algorithm === '' ? (ctx.oidc?.keys.alg ?? 'RS256') : application.algorithm
    // Absent means plain JSON (OIDC Registration §2: no default signing).
    if (application.userinfoSignedResponseAlg !== '') doc.userinfo_signed_response_alg = application.userinfoSignedResponseAlg
    if (application.backchannelLogoutUri !== '') doc.backchannel_logout_uri = application.backchannelLogoutUri
    doc.backchannel_logout_session_required = application.backchannelLogoutSessionRequired
  }
  doc.require_pushed_authorization_requests = application.requirePushedAuthorizationRequests
  if (application.jwks !== '') {
    try {
      doc.jwks = JSON.parse(application.jwks) as unknown
    } catch {
      // A row written past the validation: leave the field out rather than fail the read (it authenticates no one either).
    }
  }
  if (application.jwksUri !== '') doc.jwks_uri = application.jwksUri
  if (application.tokenEndpointAuthSigningAlg !== '') doc.token_endpoint_auth_signing_alg = application.tokenEndpointAuthSigningAlg
  if (ctx.settings.dpopEnabled) doc.dpop_bound_access_tokens = application.dpopBoundAccessTokens
  doc.require_signed_request_object = application.requireSignedRequestObject
  if (application.requestObjectSigningAlg !== '') doc.request_object_signing_alg = application.requestObjectSigningAlg
  return doc
}

/**
 * Under the `open` policy anyone can register, so only grant types that need a user's consent
 * are allowed: an anonymous client_credentials (or password) client would get tokens without
 * any user agreeing. The other policies know who registers and allow them.
 */
function checkOpenPolicyGrant (ctx: ServerContext, grantType: ApplicationGrantType): void {
  if (ctx.settings.dcrRegistrationPolicy === 'open' && (grantType === 'client-credentials' || grantType === 'password')) {
    throw new InvalidClientMetadataError({ description: 'Open registration allows only grant types that need a user\'s consent.' })
  }
}

/** The key fields of the application, from registered metadata (`''` for those not given: an update replaces them). */
function keyFields (metadata: ClientMetadata): { jwks: string, jwksUri: string, tokenEndpointAuthSigningAlg: string } {
  return {
    jwks: metadata.jwks === undefined ? '' : JSON.stringify(metadata.jwks),
    jwksUri: metadata.jwks_uri ?? '',
    tokenEndpointAuthSigningAlg: metadata.token_endpoint_auth_signing_alg ?? '',
  }
}

/** What the registration table keeps: the metadata the application's columns do not hold. */
function extraMetadata (metadata: ClientMetadata): Record<string, unknown> {
  const extra: Record<string, unknown> = {}
  for (const name of EXTRA_FIELDS) if (metadata[name] !== undefined) extra[name] = metadata[name]
  return extra
}

/** Field errors from the application rules, as RFC 7591 §3.2.2 codes. */
function asRegistrationError (err: unknown): unknown {
  if (!(err instanceof ApplicationValidationError)) return err
  if (err.fields.redirectUris !== undefined || err.fields.postLogoutRedirectUris !== undefined) {
    return new InvalidRedirectUriError({ description: 'A redirect URI is not acceptable.', detail: err.message })
  }
  if (err.fields.algorithm !== undefined) {
    return new InvalidClientMetadataError({ description: 'This server cannot sign ID tokens with the requested id_token_signed_response_alg.', detail: err.message })
  }
  if (err.fields.userinfoSignedResponseAlg !== undefined) {
    return new InvalidClientMetadataError({ description: 'This server cannot sign UserInfo responses with the requested userinfo_signed_response_alg.', detail: err.message })
  }
  return new InvalidClientMetadataError({ description: 'The client metadata is not acceptable.', detail: err.message })
}

/**
 * `POST {prefix}/register/` (RFC 7591 §3): validates the metadata, registers an ordinary
 * application with a registration record, and answers 201 with the client's credentials. The
 * client secret and the registration access token exist in clear only in this response.
 * @param issuer this server's issuer identifier (for `registration_client_uri`).
 */
export async function registerClientEndpoint (ctx: ServerContext, body: unknown, registrant: Registrant, issuer: string): Promise<OAuthResponse> {
  const { metadata, clientType, authorizationGrantType } = validateClientMetadata(ctx.settings, body, ctx.settings.deviceFlowEnabled)
  checkOpenPolicyGrant(ctx, authorizationGrantType)
  let prepared
  try {
    prepared = await prepareApplication(ctx, {
      clientType,
      authorizationGrantType,
      name: metadata.client_name ?? '',
      redirectUris: metadata.redirect_uris,
      postLogoutRedirectUris: metadata.post_logout_redirect_uris ?? [],
      userId: registrant.userId,
      requirePushedAuthorizationRequests: metadata.require_pushed_authorization_requests ?? false,
      dpopBoundAccessTokens: metadata.dpop_bound_access_tokens ?? false,
      requireSignedRequestObject: metadata.require_signed_request_object ?? false,
      requestObjectSigningAlg: metadata.request_object_signing_alg ?? '',
      userinfoSignedResponseAlg: metadata.userinfo_signed_response_alg ?? '',
      backchannelLogoutUri: metadata.backchannel_logout_uri ?? '',
      backchannelLogoutSessionRequired: metadata.backchannel_logout_session_required ?? false,
      tokenEndpointAuthMethod: metadata.token_endpoint_auth_method,
      ...keyFields(metadata),
      allowedScopes: metadata.scope === undefined ? null : metadata.scope.split(' '),
      algorithm: metadata.id_token_signed_response_alg ?? '',
      // RFC 7662 §4: introspection rights are an administrator's decision, never the registrant's.
      allowIntrospection: false,
      // RFC 9700 §4.11.2: the redirect URIs are only the registrant's word (the store insists too).
      selfRegistered: true,
    })
  } catch (err) {
    throw asRegistrationError(err)
  }
  const registrationToken = ctx.random.token(32)
  const { application, registration } = await ctx.store.registerClient(prepared.row, {
    accessTokenChecksum: tokenChecksum(registrationToken),
    metadata: extraMetadata(metadata),
  })
  notifyClientRegistered(ctx, application, 'dynamic-registration')
  const credentials: Record<string, unknown> = prepared.clientSecret === null
    ? {}
    // RFC 7591 §3.2.1: 0 means the secret does not expire.
    : { client_secret: prepared.clientSecret, client_secret_expires_at: 0 }
  return noStoreJson(201, clientDocument(ctx, application, registration, issuer, { ...credentials, registration_access_token: registrationToken }))
}

/**
 * RFC 7592 §2: the registration access token authorizes reading, updating and deleting its
 * own client only. Unknown clients and wrong tokens get the same 401 (§2.1: "SHOULD NOT"
 * reveal which). Tokens are compared as checksums, in constant time.
 */
async function authenticateRegistration (ctx: ServerContext, clientId: string, authorization: string | undefined):
Promise<{ application: Application, registration: ClientRegistrationRecord, token: string }> {
  const token = bearerToken(authorization)
  if (token === undefined) throw invalidToken('no registration access token')
  // A metadata document client was never registered here (no registration row): never fetch for one.
  const { application } = await lookupClient(ctx, clientId, { fetch: 'never' })
  const registration = application === null ? null : await ctx.store.findClientRegistration(application.id)
  const ok = constantTimeEqual(tokenChecksum(token), registration?.accessTokenChecksum ?? '')
  if (application === null || registration === null || !ok) throw invalidToken('unknown client or wrong registration access token')
  return { application, registration, token }
}

/**
 * `GET {prefix}/register/:client_id/` (RFC 7592 §2.1). The secret is stored hashed, so it is
 * never returned again; the registration access token (REQUIRED in §3) is the one just presented.
 */
export async function readRegistrationEndpoint (ctx: ServerContext, clientId: string, authorization: string | undefined, issuer: string): Promise<OAuthResponse> {
  const { application, registration, token } = await authenticateRegistration(ctx, clientId, authorization)
  return noStoreJson(200, clientDocument(ctx, application, registration, issuer, { registration_access_token: token }))
}

/**
 * `PUT {prefix}/register/:client_id/` (RFC 7592 §2.2): replaces the client's metadata (omitted
 * fields take their defaults). `client_id` must match; a `client_secret`, if sent, must be the
 * current one. A client becoming confidential gets a new secret. With
 * `dcrRotateRegistrationTokenOnUpdate` the registration access token is replaced and the new
 * one returned; the old one stops working at once.
 */
export async function updateRegistrationEndpoint (ctx: ServerContext, clientId: string, authorization: string | undefined,
  body: unknown, issuer: string): Promise<OAuthResponse> {
  const { application, registration, token } = await authenticateRegistration(ctx, clientId, authorization)
  const fields = body !== null && typeof body === 'object' && !Array.isArray(body) ? body as Record<string, unknown> : {}
  if (fields.client_id !== application.clientId) throw new InvalidRequestError({ description: 'client_id must match the client being updated.' })
  const { metadata, clientType, authorizationGrantType } = validateClientMetadata(ctx.settings, body, ctx.settings.deviceFlowEnabled)
  checkOpenPolicyGrant(ctx, authorizationGrantType)
  if (fields.client_secret !== undefined) {
    const sent = fields.client_secret
    const matches = typeof sent === 'string' && application.clientSecretHash !== '' && await ctx.hasher.verify(sent, application.clientSecretHash)
    if (!matches) throw new InvalidClientMetadataError({ description: 'client_secret does not match; a client cannot choose its own secret.' })
  }
  const algorithm = updatedAlgorithm(ctx, application, metadata, clientType)
  const keys = keyFields(metadata)
  const method = metadata.token_endpoint_auth_method
  const requestObjects = {
    requireSignedRequestObject: metadata.require_signed_request_object ?? false,
    requestObjectSigningAlg: metadata.request_object_signing_alg ?? '',
  }
  // RFC 7592 §2.2: an update replaces the metadata, so a field left out goes back to plain JSON.
  const userinfoSignedResponseAlg = metadata.userinfo_signed_response_alg ?? ''
  const problems = clientKeyProblems(ctx, { method, jwks: keys.jwks, jwksUri: keys.jwksUri, alg: keys.tokenEndpointAuthSigningAlg, algorithm, clientType, ...requestObjects, userinfoSignedResponseAlg })
  if (Object.keys(problems).length > 0) throw asRegistrationError(new ApplicationValidationError(problems))
  let reconciled
  try {
    reconciled = await reconcileSecret(ctx, application, clientType, method, algorithm)
  } catch (err) {
    throw asRegistrationError(err)
  }
  const { clientSecret, clientSecretHash, clientSecretSealed } = reconciled
  // validateClientMetadata applied the application rules (redirect URIs, client type per grant).
  const rotate = ctx.settings.dcrRotateRegistrationTokenOnUpdate
  const newToken = rotate ? ctx.random.token(32) : null
  const now = ctx.clock.now()
  const updated = await ctx.store.updateClientRegistration(application.id, {
    clientType,
    authorizationGrantType,
    clientSecretHash,
    clientSecretSealed,
    ...keys,
    name: metadata.client_name ?? '',
    redirectUris: metadata.redirect_uris,
    postLogoutRedirectUris: metadata.post_logout_redirect_uris ?? [],
    requirePushedAuthorizationRequests: metadata.require_pushed_authorization_requests ?? false,
    dpopBoundAccessTokens: metadata.dpop_bound_access_tokens ?? false,
    ...requestObjects,
    userinfoSignedResponseAlg,
    // RFC 7592 §2.2: left out, they go back to none.
    backchannelLogoutUri: metadata.backchannel_logout_uri ?? '',
    backchannelLogoutSessionRequired: metadata.backchannel_logout_session_required ?? false,
    tokenEndpointAuthMethod: metadata.token_endpoint_auth_method,
    allowedScopes: metadata.scope === undefined ? null : metadata.scope.split(' '),
    algorithm,
    // An administrator's introspection permission survives an update, unless the client turns
    // public (then it could no longer authenticate to use it), as on the management pages.
    ...(clientType === 'public' ? { allowIntrospection: false } : {}),
  }, { accessTokenChecksum: newToken === null ? registration.accessTokenChecksum : tokenChecksum(newToken), metadata: extraMetadata(metadata) }, now, registration.accessTokenChecksum)
  // Deleted meanwhile, or a concurrent update presenting the same token rotated it first: that
  // token is spent, as a refresh token is (nothing was changed, no secret or token handed out).
  if (updated === null) throw invalidToken('client deleted or registration access token rotated during the update')
  notifyClientUpdated(ctx, updated, 'dynamic-registration', clientSecret !== null)
  const extra: Record<string, unknown> = {}
  if (clientSecret !== null) Object.assign(extra, { client_secret: clientSecret, client_secret_expires_at: 0 })
  // RFC 7592 §3: the response always carries the token to use from now on.
  extra.registration_access_token = newToken ?? token
  const stored: ClientRegistrationRecord = { ...registration, metadata: extraMetadata(metadata), updatedAt: now }
  return noStoreJson(200, clientDocument(ctx, updated, stored, issuer, extra))
}

/**
 * The algorithm an RFC 7592 update leaves the client with. Any of the server's key algorithms
 * (or none, the default); HS256 only for a client that already has it and stays confidential:
 * its sealed secret stays valid, while a switch to HS256 would need a secret the server only
 * holds hashed (register anew instead).
 */
function updatedAlgorithm (ctx: ServerContext, application: Application, metadata: ClientMetadata, clientType: ClientType): SigningAlgorithm {
  const wanted = (metadata.id_token_signed_response_alg ?? '') as SigningAlgorithm
  const cannot = (detail: string): InvalidClientMetadataError =>
    new InvalidClientMetadataError({ description: 'This server cannot sign ID tokens with the requested id_token_signed_response_alg.', detail })
  if (wanted === 'HS256') {
    if (application.algorithm !== 'HS256' || clientType !== 'confidential' || application.clientSecretSealed === '') {
      throw cannot('a client switches to HS256 only by registering anew (the server holds its secret hashed)')
    }
  } else if (wanted !== '' && (ctx.oidc == null || activeKeyFor(ctx.oidc.keys, wanted) === undefined)) {
    throw cannot(`no active ${wanted} key`)
  }
  return wanted
}

/** `DELETE {prefix}/register/:client_id/` (RFC 7592 §2.3): the application and every token, code and registration of it go. */
export async function deleteRegistrationEndpoint (ctx: ServerContext, clientId: string, authorization: string | undefined): Promise<OAuthResponse> {
  const { application } = await authenticateRegistration(ctx, clientId, authorization)
  await deleteApplication(ctx, application.id, 'dynamic-registration')
  return { status: 204, headers: { 'cache-control': 'no-store', pragma: 'no-cache' }, body: null }
}
