// `fastify-oauth-toolkit/errors`, also the root entry's `errors` namespace: every error the
// toolkit throws or answers with. `OAuthError` is the base of the protocol errors (each carries
// its RFC `error` code and HTTP status); `ImproperlyConfiguredError` is a configuration mistake
// found at startup, never sent on the wire.

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
  InvalidRequestObjectError,
  InvalidTargetError,
  AuthorizationPendingError,
  SlowDownError,
  ExpiredTokenError,
  InvalidRedirectUriError,
  InvalidClientMetadataError,
  InvalidDpopProofError,
  UseDpopNonceError,
  ServerError,
  ImproperlyConfiguredError,
  type OAuthErrorCode,
  type OAuthErrorOptions,
  type ImproperlyConfiguredCode,
} from '../lib/errors.js'
export { toErrorResponse, type OAuthErrorBody } from '../lib/response.js'
export { ApplicationValidationError } from '../lib/applications.js'
export { TooManyRequestsError } from '../views/rate-limit.js'
