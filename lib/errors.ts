/**
 * The OAuth error hierarchy. `description` is sent on the wire and must never help an attacker;
 * `detail` is the real reason, for logs only.
 */

/** Every `error` code the toolkit sends (RFC 6749 §4.1.2.1, §5.2; RFC 6750 §3.1; RFC 7009 §2.2.1). */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'access_denied'
  | 'unsupported_response_type'
  | 'unsupported_token_type'
  | 'invalid_token'
  | 'insufficient_scope'
  | 'server_error'
  | 'temporarily_unavailable'
  | 'login_required'
  | 'consent_required'
  // OIDC Core §3.1.2.6
  | 'request_not_supported'
  | 'request_uri_not_supported'
  // RFC 9101 §6.3 (OIDC Core §3.1.2.6)
  | 'invalid_request_object'
  // RFC 7591 §3.2.2
  | 'invalid_redirect_uri'
  | 'invalid_client_metadata'
  // RFC 8707 §2
  | 'invalid_target'
  | 'authorization_pending'
  | 'slow_down'
  | 'expired_token'
  // RFC 9449 §5, §7.1, §8
  | 'invalid_dpop_proof'
  | 'use_dpop_nonce'

/** Options common to every OAuth error. */
export interface OAuthErrorOptions {
  /** Sent as `error_description` (ASCII, safe to show). */
  description?: string
  /** Logged only (the error's `detail` property, not its message); never sent. */
  detail?: string
  /** Sent as `error_uri`. */
  uri?: string
  /** Echoed back where the RFC wants it. */
  state?: string
  /** Extra response headers (for example `WWW-Authenticate`). */
  headers?: Readonly<Record<string, string>>
}

/** Base class of every error that becomes an RFC-shaped response. */
export class OAuthError extends Error {
  readonly error: OAuthErrorCode
  readonly status: number
  readonly description: string | undefined
  readonly detail: string | undefined
  readonly uri: string | undefined
  readonly state: string | undefined
  readonly headers: Readonly<Record<string, string>>
  /**
   * False for the "fatal" family (a bad `client_id` or `redirect_uri` on the authorization
   * endpoint): those are shown to the user and never redirected (RFC 6749 §4.1.2.1).
   */
  readonly redirectable: boolean

  constructor (error: OAuthErrorCode, status: number, options: OAuthErrorOptions = {}, redirectable = true) {
    // The message is what may be shown (a host's error handler, Fastify's default one, sends it):
    // the description, else the code. The detail, the real reason ("unknown client_id" against
    // "secret mismatch"), is a property of its own, which loggers print and responses never carry.
    super(options.description ?? error)
    this.name = 'OAuthError'
    this.error = error
    this.status = status
    this.description = options.description
    this.detail = options.detail
    this.uri = options.uri
    this.state = options.state
    this.headers = options.headers ?? {}
    this.redirectable = redirectable
  }
}

/** `invalid_request` (400): a parameter is missing, repeated, malformed or unsupported. */
export class InvalidRequestError extends OAuthError {
  constructor (options: OAuthErrorOptions = {}) { super('invalid_request', 400, options) }
}

/** `invalid_client` (401): client authentication failed (RFC 6749 §5.2). */
export class InvalidClientError extends OAuthError {
  constructor (options: OAuthErrorOptions = {}) {
    super('invalid_client', 401, { description: 'Client authentication failed.', ...options })
  }
}

/** `invalid_grant` (400): the code, refresh token or credentials are invalid, expired or revoked. */
export class InvalidGrantError extends OAuthError {
  constructor (options: OAuthErrorOptions = {}) {
    super('invalid_grant', 400, { description: 'The provided authorization grant is invalid, expired, revoked or was issued to another client.', ...options })
  }
}

/** `unauthorized_client` (400): the client may not use this grant type. */
export class UnauthorizedClientError extends OAuthError {
  constructor (options: OAuthErrorOptions = {}) {
    super('unauthorized_client', 400, { description: 'The client is not authorized to use this grant type.', ...options })
  }
}

/** `unsupported_grant_type` (400). */
export class UnsupportedGrantTypeError extends OAuthError {
  constructor (options: OAuthErrorOptions = {}) {
    super('unsupported_grant_type', 400, { description: 'The grant type is not supported by this server.', ...options })
  }
}

/** `invalid_scope` (400): unknown, not allowed, or wider than granted. */
export class InvalidScopeError extends OAuthError {
  constructor (options: OAuthErrorOptions = {}) {
    super('invalid_scope', 400, { description: 'The requested scope is invalid, unknown or exceeds what was granted.', ...options })
  }
}

/** `access_denied`: the resource owner or server denied the request. */
export class AccessDeniedError extends OAuthError {
  constructor (options: OAuthErrorOptions = {}) { super('access_denied', 400, options) }
}

/** `unsupported_response_type`. */
export class UnsupportedResponseTypeError extends OAuthError {
  constructor (options: OAuthErrorOptions = {}) { super('unsupported_response_type', 400, options) }
}

/** `unsupported_token_type` (RFC 7009 §2.2.1). */
export class UnsupportedTokenTypeError extends OAuthError {
  constructor (options: OAuthErrorOptions = {}) { super('unsupported_token_type', 400, options) }
}

/** `invalid_token` (401, RFC 6750 §3.1). */
export class InvalidTokenError extends OAuthError {
  constructor (options: OAuthErrorOptions = {}) {
    super('invalid_token', 401, { description: 'The access token is invalid.', ...options })
  }
}

/**
 * `invalid_token` (401) for a request that carried no bearer token at all. RFC 6750 §3.1: its
 * challenge names no error, so the answer tells the two cases apart by this class.
 */
export class MissingBearerTokenError extends InvalidTokenError {
  constructor () { super({ description: 'No access token was provided.', detail: 'missing bearer token' }) }
}

/** `insufficient_scope` (403, RFC 6750 §3.1). */
export class InsufficientScopeError extends OAuthError {
  constructor (options: OAuthErrorOptions = {}) {
    super('insufficient_scope', 403, { description: 'The access token is valid but does not have enough scope.', ...options })
  }
}

/** `login_required` (OIDC Core §3.1.2.6): `prompt=none`, but the user must log in. */
export class LoginRequiredError extends OAuthError {
  constructor (options: OAuthErrorOptions = {}) {
    super('login_required', 400, { description: 'The user must log in.', ...options })
  }
}

/** `consent_required` (OIDC Core §3.1.2.6): `prompt=none`, but the user must consent. */
export class ConsentRequiredError extends OAuthError {
  constructor (options: OAuthErrorOptions = {}) {
    super('consent_required', 400, { description: 'The user must consent.', ...options })
  }
}

/**
 * `request_not_supported` (OIDC Core §3.1.2.6, §6): a request object this server does not
 * accept. The toolkit accepts signed request objects (RFC 9101) and answers
 * `invalid_request_object` for bad ones; this class stays for host code that refuses them.
 */
export class RequestNotSupportedError extends OAuthError {
  constructor (options: OAuthErrorOptions = {}) {
    super('request_not_supported', 400, { description: 'Request objects are not supported.', ...options })
  }
}

/**
 * `invalid_request_object` (400, RFC 9101 §6.3, OIDC Core §3.1.2.6): the `request` parameter
 * holds a request object that does not verify (signature, key, algorithm, `iss`/`client_id`,
 * `aud`, lifetime, replayed `jti`) or carries what it may not.
 */
export class InvalidRequestObjectError extends OAuthError {
  constructor (options: OAuthErrorOptions = {}) {
    super('invalid_request_object', 400, { description: 'The request object is invalid.', ...options })
  }
}

/** `request_uri_not_supported` (OIDC Core §3.1.2.6, §6): a `request_uri` this server did not issue through `par/`. */
export class RequestUriNotSupportedError extends OAuthError {
  constructor (options: OAuthErrorOptions = {}) {
    super('request_uri_not_supported', 400, { description: 'Only request_uri values issued by the pushed authorization request endpoint are supported.', ...options })
  }
}

/** `invalid_redirect_uri` (400, RFC 7591 §3.2.2): a registered redirect URI is not acceptable. */
export class InvalidRedirectUriError extends OAuthError {
  constructor (options: OAuthErrorOptions = {}) { super('invalid_redirect_uri', 400, options) }
}

/** `invalid_client_metadata` (400, RFC 7591 §3.2.2): some other client metadata value is not acceptable. */
export class InvalidClientMetadataError extends OAuthError {
  constructor (options: OAuthErrorOptions = {}) { super('invalid_client_metadata', 400, options) }
}

/** `invalid_target` (400, RFC 8707 §2): a `resource` indicator is invalid, unknown, not allowed, or wider than granted. */
export class InvalidTargetError extends OAuthError {
  constructor (options: OAuthErrorOptions = {}) {
    super('invalid_target', 400, { description: 'The requested resource is invalid, unknown, or not allowed.', ...options })
  }
}

/** `authorization_pending` (400, RFC 8628 §3.5): the user has not decided yet; keep polling. */
export class AuthorizationPendingError extends OAuthError {
  constructor (options: OAuthErrorOptions = {}) {
    super('authorization_pending', 400, { description: 'The authorization request is still pending.', ...options })
  }
}

/** `slow_down` (400, RFC 8628 §3.5): still pending, and the device polls too fast; the interval grew by 5 s. */
export class SlowDownError extends OAuthError {
  constructor (options: OAuthErrorOptions = {}) {
    super('slow_down', 400, { description: 'Polling too frequently; increase the interval by 5 seconds.', ...options })
  }
}

/** `expired_token` (400, RFC 8628 §3.5): the device code expired; start a new device authorization. */
export class ExpiredTokenError extends OAuthError {
  constructor (options: OAuthErrorOptions = {}) {
    super('expired_token', 400, { description: 'The device code has expired.', ...options })
  }
}

/**
 * `invalid_dpop_proof` (RFC 9449 §5, §7.1): the DPoP proof is missing where required, malformed,
 * wrongly signed, stale, replayed, or for another request or key. 400 at the token endpoint; a
 * protected resource answers it with a 401 `DPoP` challenge.
 */
export class InvalidDpopProofError extends OAuthError {
  constructor (options: OAuthErrorOptions = {}) {
    super('invalid_dpop_proof', 400, { description: 'The DPoP proof is invalid.', ...options })
  }
}

/**
 * `use_dpop_nonce` (RFC 9449 §8, §9): the server wants a proof carrying the nonce it sends in
 * the `DPoP-Nonce` header. 400 at the token endpoint, 401 with a `DPoP` challenge at a resource.
 */
export class UseDpopNonceError extends OAuthError {
  constructor (nonce: string, options: OAuthErrorOptions = {}) {
    super('use_dpop_nonce', 400, { description: 'The DPoP proof must carry the server-provided nonce.', ...options, headers: { 'dpop-nonce': nonce, ...options.headers } })
  }
}

/** `server_error` (500): a bug or an unavailable dependency; the real cause goes to the log. */
export class ServerError extends OAuthError {
  constructor (options: OAuthErrorOptions = {}) {
    super('server_error', 500, { description: 'The server encountered an unexpected condition.', ...options })
  }
}

/** Stable codes of configuration errors, so that tools can match them. */
export type ImproperlyConfiguredCode =
  | 'OAT_ERR_SETTINGS'
  | 'OAT_ERR_OPTIONS'
  | 'OAT_ERR_DATABASE'
  | 'OAT_ERR_VIEW'
  | 'OAT_ERR_PLUGIN_ORDER'

/** A configuration mistake found at startup (DOT's ImproperlyConfigured). Never sent on the wire. */
export class ImproperlyConfiguredError extends Error {
  readonly code: ImproperlyConfiguredCode
  constructor (code: ImproperlyConfiguredCode, message: string) {
    super(message)
    this.name = 'ImproperlyConfiguredError'
    this.code = code
  }
}
