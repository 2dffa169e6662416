// The public entry of fastify-oauth-toolkit: explicit named re-exports only.

export { fastifyOAuthToolkit, fastifyOAuthToolkit as default, type FastifyOAuthToolkitOptions, type OidcOptions } from './plugins/oauth-toolkit.js'
export { oauthRoutes, type OAuthRoutesOptions } from './plugins/oauth-routes.js'
export { oauthMetadata, type OAuthMetadataOptions } from './plugins/oauth-metadata.js'
export { resourceServer, RETRY_AFTER_SECONDS, type ResourceServerOptions, type ResourceServerSettings } from './plugins/resource-server.js'
export { createIntrospectionVerifier, MAX_NEGATIVE_CACHE_SECONDS, type IntrospectionOptions, type RemoteVerifierDeps } from './lib/resource/introspection.js'
export { createJwtVerifier, type JwtVerificationOptions } from './lib/resource/jwt-verifier.js'
export type { TokenVerifier, RemoteVerificationProblem, ReportProblem } from './lib/resource/verifier.js'
export { AT_JWT_TYPE } from './lib/tokens/jwt-access-token.js'
export { oauthLogSerializers, type RedactedRequestLog } from './views/log-redaction.js'
export { redactUrl } from './lib/redact.js'
export { safeRedirectTarget, MAX_REDIRECT_TARGET_LENGTH, type SafeRedirectTargetOptions } from './lib/redirect-target.js'
export { loginRateLimit, TooManyRequestsError, type LoginRateLimit, type LoginRateLimitOptions } from './plugins/rate-limit.js'
export type { AuthorizationServerMetadata, OpenIdProviderMetadata } from './lib/endpoints/metadata.js'
export { oauthProtectedResourceMetadata, type ProtectedResourceMetadataOptions } from './plugins/protected-resource-metadata.js'
export type { ProtectedResourceMetadata } from './lib/endpoints/resource-metadata.js'
export {
  normalizeResource,
  sameResource,
  protectedResourceMetadataUrl,
  type ProtectedResourceSettings,
  type BearerMethod,
} from './lib/resource/identifiers.js'
export { checkAudience } from './lib/resource/audience.js'
export { loadSigningKeys, type OidcKeyOptions, type KeyMaterial, type SigningKeys, type PublicJwk } from './lib/tokens/signing-keys.js'
export type { SealingKey, SealingKeyInput } from './lib/tokens/client-secret-seal.js'
export { CLAIMS_BY_SCOPE } from './lib/endpoints/userinfo.js'
export type { ResourceOwner } from './plugins/augment.js'
export type { OAuthToolkit, OAuthResourceGuard, ProtectOptions, LoadUser, ResourceLoadUser, ResolveUser, VerifyOutcome } from './plugins/toolkit.js'
export type { AuthorizingUser, AuthorizationRequest } from './lib/endpoints/authorize-request.js'
export { html, raw, escapeHtml, SafeHtml, type HtmlValue } from './lib/html.js'
export { layout as pageLayout, type PageContext } from './views/templates/layout.js'
export {
  DEFAULT_TEMPLATES,
  type Templates,
  type ConsentPageData,
  type ErrorPageData,
  type DeviceCodePageData,
  type DeviceConfirmPageData,
  type DeviceDonePageData,
} from './views/templates/index.js'
export type { DeviceRateLimitOptions } from './views/device.js'
export type { DeviceAuthorizationResponseBody } from './lib/endpoints/device-authorization.js'
export { DEVICE_CODE_GRANT_TYPE } from './lib/grants/device-code.js'
export {
  ProtectedResourceView,
  ScopedProtectedResourceView,
  ReadWriteScopedResourceView,
  ClientProtectedResourceView,
  ClientProtectedScopedResourceView,
  type ViewMethod,
  type ViewClass,
} from './views/protected-resource.js'

export { createOAuthServer, type OAuthServer, type OAuthServerOptions } from './lib/server.js'
export { DEFAULT_SETTINGS, RFC9700_SETTINGS, resolveSettings, type Settings, type SettingsInput } from './lib/settings.js'
export {
  OAuthError,
  InvalidRequestError,
  InvalidClientError,
  InvalidGrantError,
  UnauthorizedClientError,
  UnsupportedGrantTypeError,
  InvalidScopeError,
  AccessDeniedError,
  UnsupportedResponseTypeError,
  UnsupportedTokenTypeError,
  InvalidTokenError,
  InsufficientScopeError,
  LoginRequiredError,
  ConsentRequiredError,
  RequestNotSupportedError,
  RequestUriNotSupportedError,
  InvalidTargetError,
  AuthorizationPendingError,
  SlowDownError,
  ExpiredTokenError,
  InvalidRedirectUriError,
  InvalidClientMetadataError,
  ServerError,
  ImproperlyConfiguredError,
  toErrorResponse,
  type OAuthErrorCode,
  type OAuthErrorOptions,
  type OAuthErrorBody,
  type ImproperlyConfiguredCode,
} from './lib/errors.js'
export type { AppAuthorizedEvent, ToolkitEventMap, VerifyUserCredentials, GetUserClaims, OidcContext } from './lib/context.js'
export type { AccessTokenInfo, BearerResult, BearerSource } from './lib/resource/bearer.js'
export { ApplicationValidationError, type ApplicationInput, type CreatedApplication } from './lib/applications.js'
export type { ClearExpiredOptions } from './lib/maintenance.js'
export type { Clock } from './lib/clock.js'
export type { Random } from './lib/random.js'
export { createScryptHasher, type SecretHasher, type ScryptParams } from './lib/tokens/secret-hasher.js'
export { createSqliteStore, DEFAULT_CROSS_PROCESS_CHECK_MS, type SqliteStoreOptions } from './lib/store/sqlite/store.js'
export { migrateSqlite } from './lib/store/sqlite/open.js'
export { createPgStore, type PgStoreOptions } from './lib/store/pg/store.js'
export { migratePg } from './lib/store/pg/open.js'
export { openStore, type SqliteOptions } from './lib/store/open.js'
export { parseDatabaseUrl, type ParsedDatabaseUrl } from './lib/store/database-url.js'
export type { DatabaseOption } from './lib/store/connection.js'
export {
  APPLICATION_GRANT_TYPES,
  type Store,
  type Application,
  type ApplicationGrantType,
  type ClientType,
  type SigningAlgorithm,
  type AccessTokenRecord,
  type RefreshTokenRecord,
  type GrantRecord,
  type IdTokenRecord,
  type DeviceGrantRecord,
  type DeviceGrantStatus,
  type ClearedBatch,
  type ClearedCounts,
  type VerifiableAccessToken,
  type StoreInvalidation,
  type InvalidationListener,
  type ClientRegistrationRecord,
  type NewClientRegistration,
  type PushedAuthorizationRequestRecord,
  type NewPushedAuthorizationRequest,
} from './lib/store/types.js'
export { validateClientMetadata, type ClientMetadata, type TokenEndpointAuthMethod } from './lib/registration/metadata.js'
export { REQUEST_URI_PREFIX } from './lib/endpoints/par.js'
export { DynamicClientRegistrationView } from './views/register.js'
export { PushedAuthorizationRequestView } from './views/par.js'
export type { OAuthRequest, Params } from './lib/request.js'
export type { OAuthResponse } from './lib/response.js'
