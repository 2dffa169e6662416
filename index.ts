// The public entry of fastify-oauth-toolkit: what a user writes in an app (the plugins, the view
// classes, settings, the errors and a few helpers), as explicit named re-exports only. The rest
// is in subpath entries (entries/): `/resource-server`, `/templates`, `/store`, `/sqlite`,
// `/pg`, `/core` and `/errors`.
import * as errors from './entries/errors.js'

export { fastifyOAuthToolkit, fastifyOAuthToolkit as default, type FastifyOAuthToolkitOptions, type OidcOptions } from './plugins/oauth-toolkit.js'
export { oauthRoutes, type OAuthRoutesOptions } from './plugins/oauth-routes.js'
export type { DeviceRateLimitOptions } from './views/device.js'
export type { I18nOptions, ResolveLocale } from './views/i18n.js'
export { oauthMetadata, type OAuthMetadataOptions } from './plugins/oauth-metadata.js'
export { oauthProtectedResourceMetadata, type ProtectedResourceMetadataOptions } from './plugins/protected-resource-metadata.js'
export {
  ProtectedResourceView,
  ScopedProtectedResourceView,
  ReadWriteScopedResourceView,
  ClientProtectedResourceView,
  ClientProtectedScopedResourceView,
  type ViewMethod,
  type ViewClass,
} from './views/protected-resource.js'

// The types of `app.oauth`, `request.accessToken` and `request.resourceOwner`, and of the options' callbacks.
export type { OAuthToolkit, LoadUser, ResolveUser } from './plugins/toolkit.js'
export type { OAuthResourceGuard, ProtectOptions, VerifyOutcome } from './views/resource-guard.js'
export type { AuthorizingUser, AuthorizationRequest } from './lib/endpoints/authorize-request.js'
export type { AppAuthorizedEvent, ToolkitEventMap, ToolkitEventName, VerifyUserCredentials, GetUserClaims, GetIdTokenClaims, IdTokenClaimsContext, LogoutEvent, LogoutReason, BackchannelLogoutEvent } from './lib/context.js'
export type {
  AuthorizationApprovedEvent, AuthorizationDeniedEvent, AuthorizationVia, ClientAuthEndpoint, ClientAuthenticationFailedEvent, ClientChangeSource,
  ClientDeletedEvent, ClientRegisteredEvent, ClientUpdatedEvent, RateLimitKind, RateLimitTriggeredEvent, RefreshTokenReuseDetectedEvent,
  TokenIssuedEvent, TokenRefreshedEvent, TokenRevocationReason, TokenRevokedEvent,
} from './lib/event-types.js'
export { TOOLKIT_EVENT_NAMES } from './lib/events.js'
export type { EndSessionsOptions, EndSessionsResult, SessionTarget } from './lib/sessions.js'
export type { AccessTokenInfo, ResourceOwner } from './lib/resource/bearer.js'
export type { ApplicationInput, CreatedApplication } from './lib/applications.js'
export type { Application } from './lib/store/types.js'

export { DEFAULT_SETTINGS, RFC9700_SETTINGS, FAPI2_SETTINGS, type Settings, type SettingsInput } from './lib/settings.js'
export type { ProtectedResourceSettings } from './lib/resource/identifiers.js'

/** Every error class of the toolkit (also `fastify-oauth-toolkit/errors`), e.g. `errors.InvalidTokenError`. */
export { errors }
export { OAuthError, ImproperlyConfiguredError } from './lib/errors.js'

// Helpers for the host's own routes: its login form, its redirects and its logs.
export { loginRateLimit, type LoginRateLimit, type LoginRateLimitOptions } from './views/rate-limit.js'
export { safeRedirectTarget, type SafeRedirectTargetOptions } from './lib/redirect-target.js'
export { oauthLogSerializers, type RedactedRequestLog } from './views/log-redaction.js'
export { redactUrl } from './lib/redact.js'

// Deployment checks for the host's own deploy gate (the CLI's `check`, from host code).
export { checkDeployment, type DeploymentCheckResult } from './lib/check/deployment.js'
