import type { ServerContext } from './context.js'
import { decideAuthorization, type AuthorizationDecision } from './endpoints/authorize-prompt.js'
import { validateAuthorizationRequest, type AuthorizationCheck, type AuthorizationRequest, type AuthorizingUser } from './endpoints/authorize-request.js'
import type { AuthorizationResponse } from './endpoints/authorize-response.js'
import { approveAuthorization, denyAuthorization } from './endpoints/authorize.js'
import { corsPreflight } from './endpoints/cors.js'
import { deviceAuthorizationEndpoint } from './endpoints/device-authorization.js'
import { claimUserCode, decideDeviceAuthorization, pendingDeviceAuthorization, type PendingDeviceAuthorization } from './endpoints/device-user.js'
import { introspectionEndpoint, type UsernameOf } from './endpoints/introspect.js'
import { jwksEndpoint } from './endpoints/jwks.js'
import { mustConfirmLogout, revokeBrowserTokens, validateLogoutRequest, type LogoutCheck, type LogoutRequest } from './endpoints/logout.js'
import { authorizationServerMetadata, openIdProviderMetadata, type AuthorizationServerMetadata, type OpenIdProviderMetadata } from './endpoints/metadata.js'
import { pushedAuthorizationRequestEndpoint } from './endpoints/par.js'
import { consumePushedRequest } from './endpoints/pushed-request.js'
import {
  checkInitialAccessToken,
  deleteRegistrationEndpoint,
  readRegistrationEndpoint,
  registerClientEndpoint,
  updateRegistrationEndpoint,
  type Registrant,
} from './endpoints/register.js'
import { revocationEndpoint } from './endpoints/revoke.js'
import { tokenEndpoint } from './endpoints/token.js'
import { releasableClaims, userInfoEndpoint } from './endpoints/userinfo.js'
import { ImproperlyConfiguredError, OAuthError } from './errors.js'
import type { AuthorizationVia } from './event-types.js'
import type { OAuthRequest, Params } from './request.js'
import { toErrorResponse, type OAuthResponse } from './response.js'
import type { DeviceGrantRecord } from './store/types.js'
import { signingAlgorithmsOf } from './tokens/signing-keys.js'

// The endpoints of `OAuthServer`: each binds a lib/endpoints function to the server's context,
// so that views and plugins (or a host's own adapter for another framework) call the server
// and never see the context. Endpoints that answer JSON resolve an `OAuthResponse`; unless a
// method says otherwise, an OAuth failure rejects with the `OAuthError`, which `toErrorResponse`
// turns into the RFC 6749 §5.2 answer (the routes plugin's error handler does).

/** Per-request facts an endpoint cannot know by itself. */
export interface EndpointOptions {
  /** This server's issuer identifier for the request (the `issuer` setting, else derived by the view). */
  issuer?: string
}

/** Options of `validateAuthorizationRequest`. */
export interface AuthorizationRequestOptions extends EndpointOptions {
  /** Every RFC 8707 `resource` value (the parameter may repeat); default: `params.resource`, if any. */
  resources?: readonly string[]
}

/** Options of `introspect`. */
export interface IntrospectOptions extends EndpointOptions {
  /** The user name of a user id, for the response's `username` (RFC 7662 §2.2); none without it. */
  usernameOf?: UsernameOf
}

/**
 * The authorization-server endpoints of `OAuthServer`, in the order a client meets them. They take
 * an `OAuthRequest`, which carries no address, so they count no failures: the routes plugin applies
 * the brute-force limits around `token`, `revoke`, `introspect`, `pushAuthorizationRequest` and
 * `deviceAuthorization`, and the device pages around `claimUserCode`. A route of your own that
 * checks client credentials uses `app.oauth.authenticateClient(request)`, which applies them.
 */
export interface OAuthEndpoints {
  /**
   * Authorization endpoint, step 1 (RFC 6749 §4.1.1, §4.2.1; OIDC Core §3): validates the
   * request in RFC order (client, redirect URI, then the rest), expanding a pushed request's
   * `request_uri` (RFC 9126 §4). A failure says whether it may be redirected to the client.
   */
  validateAuthorizationRequest (params: Params, duplicated: ReadonlySet<string>, options?: AuthorizationRequestOptions): Promise<AuthorizationCheck>
  /** Authorization endpoint, step 2: log in, ask consent, approve, or answer an OIDC `prompt` error, for this user (`null`: anonymous). */
  decideAuthorization (request: AuthorizationRequest, user: AuthorizingUser | null): Promise<AuthorizationDecision>
  /**
   * The user approved: a code (RFC 6749 §4.1.2), tokens (implicit, hybrid), in the request's
   * response mode. `via` (default `consent`) is how, for `authorizationApproved`: pass an
   * `approve` decision's `via` when no page was shown.
   */
  approveAuthorization (request: AuthorizationRequest, user: AuthorizingUser, via?: AuthorizationVia): Promise<AuthorizationResponse>
  /** The user denied: `access_denied` for the client (RFC 6749 §4.1.2.1). `user`: who refused, for `authorizationDenied`. */
  denyAuthorization (request: AuthorizationRequest, user?: AuthorizingUser | null): AuthorizationResponse
  /** Uses up the request's pushed request at the user's decision (RFC 9126 §4: single use); false when it was already used or expired. */
  consumePushedRequest (request: AuthorizationRequest): Promise<boolean>
  /** The token endpoint (RFC 6749 §3.2); OAuth errors resolve as RFC 6749 §5.2 responses, anything else rejects. */
  token (req: OAuthRequest, options?: EndpointOptions): Promise<OAuthResponse>
  /** The revocation endpoint (RFC 7009). */
  revoke (req: OAuthRequest, options?: EndpointOptions): Promise<OAuthResponse>
  /** The introspection endpoint (RFC 7662). */
  introspect (req: OAuthRequest, options?: IntrospectOptions): Promise<OAuthResponse>
  /** The pushed authorization request endpoint (RFC 9126 §2): 201 with a `request_uri`. */
  pushAuthorizationRequest (req: OAuthRequest, options?: EndpointOptions): Promise<OAuthResponse>
  /**
   * The device authorization endpoint (RFC 8628 §3.1). The `verification_uri` is the
   * `deviceVerificationUri` setting, else `{issuer}/device/`.
   */
  deviceAuthorization (req: OAuthRequest, options?: EndpointOptions): Promise<OAuthResponse>
  /** Device flow: the user entered a user code (RFC 8628 §3.3), which binds the authorization to them; `null` for a wrong, expired or foreign code. */
  claimUserCode (input: string, userId: string): Promise<DeviceGrantRecord | null>
  /** Device flow: the authorization `id` while it waits for this user's decision, else `null`. */
  pendingDeviceAuthorization (id: number, userId: string): Promise<PendingDeviceAuthorization | null>
  /** Device flow: records the user's decision; false when it was not theirs to decide (any more). */
  decideDeviceAuthorization (id: number, user: AuthorizingUser, approve: boolean): Promise<boolean>
  /**
   * The UserInfo endpoint (OIDC Core §5.3); failures resolve as RFC 6750 §3 challenges.
   * `options.issuer` (default: the `issuer` setting) is the `iss` of signed responses (§5.3.2).
   */
  userInfo (req: OAuthRequest, options?: { readonly issuer?: string }): Promise<OAuthResponse>
  /** The JWK Set of the signing keys (RFC 7517), for ID tokens and JWT access tokens. */
  jwks (): OAuthResponse
  /** RFC 8414 authorization server metadata for `issuer`. */
  authorizationServerMetadata (issuer: string): AuthorizationServerMetadata
  /** OpenID Connect Discovery 1.0 §3 provider metadata for `issuer`. */
  openIdProviderMetadata (issuer: string): OpenIdProviderMetadata
  /** A CORS preflight (`OPTIONS`) of a token-side endpoint serving `methods`. */
  corsPreflight (req: OAuthRequest, methods: readonly string[]): Promise<OAuthResponse>
  /**
   * Dynamic client registration under the `initial-access-token` policy (RFC 7591 §3): throws
   * `invalid_token` unless `authorization` carries one of the initial access tokens.
   */
  checkInitialAccessToken (authorization: string | undefined): void
  /** `POST register/` (RFC 7591 §3): registers a client for `registrant`; 201 with its metadata and credentials. */
  registerClient (body: unknown, registrant: Registrant, options?: EndpointOptions): Promise<OAuthResponse>
  /** `GET register/:client_id/` (RFC 7592 §2.1), authorized by the registration access token in `authorization`. */
  readClientRegistration (clientId: string, authorization: string | undefined, options?: EndpointOptions): Promise<OAuthResponse>
  /** `PUT register/:client_id/` (RFC 7592 §2.2): replaces the client's metadata. */
  updateClientRegistration (clientId: string, authorization: string | undefined, body: unknown, options?: EndpointOptions): Promise<OAuthResponse>
  /** `DELETE register/:client_id/` (RFC 7592 §2.3): deletes the client and what it was issued. */
  deleteClientRegistration (clientId: string, authorization: string | undefined): Promise<OAuthResponse>
  /** RP-Initiated Logout 1.0 §2–3: validates a logout request (`id_token_hint`, `client_id`, `post_logout_redirect_uri`). */
  validateLogoutRequest (params: Params, duplicated: ReadonlySet<string>, options?: EndpointOptions): Promise<LogoutCheck>
  /** Whether the user must confirm the logout (DOT's `must_prompt`); `userId` is who is logged in, if anyone. */
  mustConfirmLogout (request: LogoutRequest, userId: string | null): boolean
  /** Revokes the user's tokens from browser sign-ins, when the settings say so (DOT's `do_logout`); resolves how many. */
  revokeBrowserTokens (userId: string): Promise<number>
}

/** The endpoints of a server built on `ctx`. */
export function bindEndpoints (ctx: ServerContext): OAuthEndpoints {
  const { settings } = ctx
  /** The issuer an endpoint that must name one uses: the request's, else the setting. */
  const issuerFor = (method: string, options: EndpointOptions): string => {
    const issuer = options.issuer ?? settings.issuer
    if (issuer === null) {
      throw new ImproperlyConfiguredError('OAT_ERR_OPTIONS', `fastify-oauth-toolkit: ${method}() needs an issuer: set the issuer setting or pass options.issuer`)
    }
    return issuer
  }
  return {
    validateAuthorizationRequest: async (params, duplicated, options = {}) =>
      await validateAuthorizationRequest(ctx, params, duplicated, options.issuer ?? settings.issuer ?? undefined, options.resources),
    decideAuthorization: async (request, user) => await decideAuthorization(ctx, request, user),
    approveAuthorization: async (request, user, via) => await approveAuthorization(ctx, request, user, via),
    denyAuthorization: (request, user) => denyAuthorization(ctx, request, user?.id ?? null),
    consumePushedRequest: async (request) => await consumePushedRequest(ctx, request.pushedRequestId),
    async token (req, options = {}) {
      try {
        return await tokenEndpoint(ctx, req, options.issuer ?? settings.issuer)
      } catch (err) {
        // Anything else is a bug: let the caller log it and answer a generic server_error.
        if (err instanceof OAuthError) return toErrorResponse(err)
        throw err
      }
    },
    revoke: async (req, options = {}) => await revocationEndpoint(ctx, req, options.issuer ?? settings.issuer),
    introspect: async (req, options = {}) => await introspectionEndpoint(ctx, req, options.usernameOf ?? (async () => undefined), options.issuer ?? settings.issuer),
    pushAuthorizationRequest: async (req, options = {}) => await pushedAuthorizationRequestEndpoint(ctx, req, options.issuer ?? settings.issuer ?? undefined),
    deviceAuthorization: async (req, options = {}) =>
      await deviceAuthorizationEndpoint(ctx, req, settings.deviceVerificationUri ?? `${issuerFor('deviceAuthorization', options)}/device/`,
        options.issuer ?? settings.issuer),
    claimUserCode: async (input, userId) => await claimUserCode(ctx, input, userId),
    pendingDeviceAuthorization: async (id, userId) => await pendingDeviceAuthorization(ctx, id, userId),
    decideDeviceAuthorization: async (id, user, approve) => await decideDeviceAuthorization(ctx, id, user, approve),
    userInfo: async (req, options = {}) => await userInfoEndpoint(ctx, req, options.issuer ?? settings.issuer),
    jwks: () => jwksEndpoint(ctx),
    authorizationServerMetadata: (issuer) => authorizationServerMetadata(settings, issuer, { secretJwt: ctx.secretSealer != null }),
    openIdProviderMetadata: (issuer) => openIdProviderMetadata(settings, issuer,
      ctx.oidc?.getUserClaims == null ? [] : releasableClaims(settings),
      { hs256: ctx.secretSealer != null, algorithms: signingAlgorithmsOf(ctx.oidc?.keys) }),
    corsPreflight: async (req, methods) => await corsPreflight(ctx, req, methods),
    checkInitialAccessToken: (authorization) => { checkInitialAccessToken(ctx, authorization) },
    registerClient: async (body, registrant, options = {}) => await registerClientEndpoint(ctx, body, registrant, issuerFor('registerClient', options)),
    readClientRegistration: async (clientId, authorization, options = {}) =>
      await readRegistrationEndpoint(ctx, clientId, authorization, issuerFor('readClientRegistration', options)),
    updateClientRegistration: async (clientId, authorization, body, options = {}) =>
      await updateRegistrationEndpoint(ctx, clientId, authorization, body, issuerFor('updateClientRegistration', options)),
    deleteClientRegistration: async (clientId, authorization) => await deleteRegistrationEndpoint(ctx, clientId, authorization),
    validateLogoutRequest: async (params, duplicated, options = {}) =>
      await validateLogoutRequest(ctx, params, duplicated, issuerFor('validateLogoutRequest', options)),
    mustConfirmLogout: (request, userId) => mustConfirmLogout(ctx, request, userId),
    revokeBrowserTokens: async (userId) => await revokeBrowserTokens(ctx, userId),
  }
}
