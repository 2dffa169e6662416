import { html, type HtmlValue, type SafeHtml } from '../../lib/html.js'
import { ASYMMETRIC_JWS_ALGORITHMS, HMAC_JWS_ALGORITHMS } from '../../lib/tokens/jws-algorithms.js'
import { layout, type PageContext } from './layout.js'

/** An application as the management pages show it. */
export interface ApplicationSummary {
  readonly id: number
  readonly name: string
  readonly clientId: string
  readonly clientType: string
  readonly authorizationGrantType: string
  readonly redirectUris: readonly string[]
  readonly postLogoutRedirectUris: readonly string[]
  readonly allowedOrigins: readonly string[]
  readonly algorithm: string
  /** OIDC Registration `userinfo_signed_response_alg`; `''` answers UserInfo as plain JSON. */
  readonly userinfoSignedResponseAlg: string
  /** RFC 7591 `token_endpoint_auth_method`; `''` accepts any. */
  readonly tokenEndpointAuthMethod: string
  /** The client's JWK Set (JSON text) for `private_key_jwt`, or `''`. */
  readonly jwks: string
  readonly jwksUri: string
  readonly tokenEndpointAuthSigningAlg: string
  readonly skipAuthorization: boolean
  /** RFC 7662 §4 resource-server permission: shown, never editable here (administrators set it). */
  readonly allowIntrospection: boolean
  /** Created (or pointed somewhere new) by an end user, on these pages or by dynamic registration: shown, never editable here. */
  readonly selfRegistered: boolean
  /** RFC 9449 `dpop_bound_access_tokens`: shown, set by an administrator or the client's registration. */
  readonly dpopBoundAccessTokens: boolean
  /** OIDC Registration `request_object_signing_alg`; `''` accepts any the server verifies. */
  readonly requestObjectSigningAlg: string
  /** RFC 9101 §10.5 `require_signed_request_object`. */
  readonly requireSignedRequestObject: boolean
  /** OIDC Back-Channel Logout `backchannel_logout_uri`; `''` for none. */
  readonly backchannelLogoutUri: string
  /** OIDC Back-Channel Logout `backchannel_logout_session_required`. */
  readonly backchannelLogoutSessionRequired: boolean
  readonly createdAt: Date
}

/** Data of the list page (`applications/`). */
export interface ApplicationListData {
  readonly applications: readonly ApplicationSummary[]
  /** Base path of the management pages, e.g. `/o/applications/`. */
  readonly base: string
}

/** Values and per-field errors of the register/update form. */
export interface ApplicationFormData {
  readonly title: string
  readonly action: string
  readonly csrfToken: string
  readonly values: Readonly<Record<string, string>>
  /** Field name → message, shown beside the field. */
  readonly errors: Readonly<Record<string, string>>
  readonly clientTypes: readonly string[]
  readonly grantTypes: readonly string[]
  /** The ID token signing algorithms offered (`''`: the server's default); default `'', 'RS256', 'HS256'`. */
  readonly algorithms?: readonly string[]
  /** The UserInfo signing algorithms offered (`''`: plain JSON); default `'', 'RS256'`. */
  readonly userinfoAlgorithms?: readonly string[]
  readonly cancel: string
}

/** Data of the detail page; `clientSecret` only right after creation or regeneration. */
export interface ApplicationDetailData {
  readonly application: ApplicationSummary
  readonly clientSecret: string | null
  readonly csrfToken: string
  readonly base: string
}

/** Data of a confirmation page (delete an application, revoke a token). */
export interface ConfirmData {
  readonly title: string
  readonly message: string
  readonly action: string
  readonly csrfToken: string
  readonly confirmLabel: string
  readonly cancel: string
}

/** `applications/`: the user's applications. */
export function applicationListPage (data: ApplicationListData, page: PageContext): SafeHtml {
  const rows = data.applications.map((app) => html`<li><a href="${data.base}${app.id}/">${app.name === '' ? app.clientId : app.name}</a>
<span class="oat-muted">${app.clientType}, ${app.authorizationGrantType}</span></li>\n`)
  return layout(page, 'Your applications', html`
<h1>Your applications</h1>
${data.applications.length === 0 ? html`<p>No applications yet.</p>` : html`<ul class="oat-list">\n${rows}</ul>`}
<p><a class="oat-button oat-primary" href="${data.base}register/">New application</a></p>
`)
}

function field (name: string, label: string, control: HtmlValue, error: string | undefined, hint?: string): SafeHtml {
  return html`<div class="oat-field${error === undefined ? '' : ' oat-invalid'}">
<label for="${name}">${label}</label>
${control}
${hint === undefined ? '' : html`<p class="oat-hint" id="${name}-hint">${hint}</p>`}
${error === undefined ? '' : html`<p class="oat-error" id="${name}-error" role="alert">${error}</p>`}
</div>\n`
}

function described (name: string, error: string | undefined, hint: boolean): string {
  return [hint ? `${name}-hint` : '', error === undefined ? '' : `${name}-error`].filter((s) => s !== '').join(' ')
}

function select (name: string, value: string, options: readonly string[], error: string | undefined): SafeHtml {
  return html`<select id="${name}" name="${name}" aria-describedby="${described(name, error, false)}">
${options.map((o) => html`<option value="${o}"${o === value ? html` selected` : ''}>${o}</option>\n`)}</select>`
}

/** `applications/register/` and `applications/:id/update/`: the form, errors beside their fields. */
export function applicationFormPage (data: ApplicationFormData, page: PageContext): SafeHtml {
  const v = (name: string): string => data.values[name] ?? ''
  const e = (name: string): string | undefined => data.errors[name]
  const text = (name: string, hint: boolean): SafeHtml => html`<input type="text" id="${name}" name="${name}" value="${v(name)}" aria-describedby="${described(name, e(name), hint)}">`
  const area = (name: string): SafeHtml => html`<textarea id="${name}" name="${name}" rows="3" aria-describedby="${described(name, e(name), true)}">${v(name)}</textarea>`
  const general = Object.entries(data.errors).filter(([k]) => !FORM_FIELDS.includes(k))
  return layout(page, data.title, html`
<h1>${data.title}</h1>
${general.map(([k, m]) => html`<p class="oat-error" role="alert">${k}: ${m}</p>`)}
<form method="post" action="${data.action}" novalidate>
<input type="hidden" name="csrf_token" value="${data.csrfToken}">
${field('name', 'Name', text('name', false), e('name'))}
${field('clientType', 'Client type', select('clientType', v('clientType'), data.clientTypes, e('clientType')), e('clientType'))}
${field('authorizationGrantType', 'Authorization grant type', select('authorizationGrantType', v('authorizationGrantType'), data.grantTypes, e('authorizationGrantType')), e('authorizationGrantType'))}
${field('redirectUris', 'Redirect URIs', area('redirectUris'), e('redirectUris'), 'One per line or separated by spaces; matched exactly. http only for 127.0.0.1, [::1] or localhost.')}
${field('postLogoutRedirectUris', 'Post-logout redirect URIs', area('postLogoutRedirectUris'), e('postLogoutRedirectUris'), 'Where RP-initiated logout may return to.')}
${field('allowedOrigins', 'Allowed origins', area('allowedOrigins'), e('allowedOrigins'), 'Origins (https://host[:port]) whose browser code may call the token endpoint.')}
${field('algorithm', 'Algorithm', select('algorithm', v('algorithm'), data.algorithms ?? ['', 'RS256', 'HS256'], e('algorithm')), e('algorithm'), 'ID token signing: empty for the server\'s default (RS256), one of the server\'s key algorithms (RS256, PS256, ES256, EdDSA), or HS256 with the client secret (confidential applications, when the server keeps secrets sealed).')}
${field('userinfoSignedResponseAlg', 'UserInfo signing algorithm', select('userinfoSignedResponseAlg', v('userinfoSignedResponseAlg'), data.userinfoAlgorithms ?? ['', 'RS256'], e('userinfoSignedResponseAlg')), e('userinfoSignedResponseAlg'), 'Empty: UserInfo answers plain JSON. One of the server\'s key algorithms: UserInfo answers a JWT signed with that key (OpenID Connect userinfo_signed_response_alg).')}
${field('tokenEndpointAuthMethod', 'Client authentication', select('tokenEndpointAuthMethod', v('tokenEndpointAuthMethod'), AUTH_METHODS, e('tokenEndpointAuthMethod')), e('tokenEndpointAuthMethod'), 'The only method accepted (empty: any). private_key_jwt signs with the keys below and has no secret; client_secret_jwt signs with the secret (when the server keeps secrets sealed).')}
${field('jwks', 'Public keys (JWK Set)', area('jwks'), e('jwks'), 'For private_key_jwt: the client\'s JWK Set as JSON, public keys only. Or give a JWK Set URL below, not both.')}
${field('jwksUri', 'JWK Set URL', text('jwksUri', true), e('jwksUri'), 'For private_key_jwt: an https URL where the client publishes its public keys.')}
${field('tokenEndpointAuthSigningAlg', 'Assertion signing algorithm', select('tokenEndpointAuthSigningAlg', v('tokenEndpointAuthSigningAlg'), ASSERTION_ALGORITHMS, e('tokenEndpointAuthSigningAlg')), e('tokenEndpointAuthSigningAlg'), 'The one JWS algorithm of the client\'s assertions (empty: any the server accepts).')}
${field('requestObjectSigningAlg', 'Request object signing algorithm', select('requestObjectSigningAlg', v('requestObjectSigningAlg'), REQUEST_OBJECT_ALGORITHMS, e('requestObjectSigningAlg')), e('requestObjectSigningAlg'), 'The one JWS algorithm of the client\'s signed request objects (empty: any the server accepts). Asymmetric ones verify with the keys above; HS256/384/512 with the secret, when the server keeps it sealed.')}
${field('backchannelLogoutUri', 'Back-channel logout URL', text('backchannelLogoutUri', true), e('backchannelLogoutUri'), 'OpenID Connect: an https URL (no fragment) this server POSTs a logout token to when a user\'s session the application took part in ends. Empty: none.')}
${field('backchannelLogoutSessionRequired', 'Logout tokens must name the session', select('backchannelLogoutSessionRequired', v('backchannelLogoutSessionRequired') === 'yes' ? 'yes' : 'no', ['no', 'yes'], e('backchannelLogoutSessionRequired')), e('backchannelLogoutSessionRequired'), 'yes: the application needs sid in logout tokens (this server always sends it).')}
${field('requireSignedRequestObject', 'Require signed request objects', select('requireSignedRequestObject', v('requireSignedRequestObject') === 'yes' ? 'yes' : 'no', ['no', 'yes'], e('requireSignedRequestObject')), e('requireSignedRequestObject'), 'yes: authorization requests are accepted only as signed request objects (the request parameter, at the authorization endpoint or par/).')}
<div class="oat-actions">
<a class="oat-button oat-secondary" href="${data.cancel}">Cancel</a>
<button type="submit" class="oat-primary">Save</button>
</div>
</form>
`)
}

const FORM_FIELDS = ['name', 'clientType', 'authorizationGrantType', 'redirectUris', 'postLogoutRedirectUris', 'allowedOrigins', 'algorithm',
  'userinfoSignedResponseAlg', 'tokenEndpointAuthMethod', 'jwks', 'jwksUri', 'tokenEndpointAuthSigningAlg', 'requestObjectSigningAlg', 'requireSignedRequestObject',
  'backchannelLogoutUri', 'backchannelLogoutSessionRequired']
const AUTH_METHODS = ['', 'client_secret_basic', 'client_secret_post', 'private_key_jwt', 'client_secret_jwt', 'none']
const ASSERTION_ALGORITHMS = ['', ...ASYMMETRIC_JWS_ALGORITHMS, ...HMAC_JWS_ALGORITHMS]
// `none` is left out: unsigned objects are for servers that allow them, and for host code to set.
const REQUEST_OBJECT_ALGORITHMS = ASSERTION_ALGORITHMS

/** `applications/:id/`: details; the secret appears only right after it was generated. */
export function applicationDetailPage (data: ApplicationDetailData, page: PageContext): SafeHtml {
  const app = data.application
  const row = (label: string, value: HtmlValue): SafeHtml => html`<dt>${label}</dt><dd>${value}</dd>\n`
  const listOf = (values: readonly string[]): HtmlValue => values.length === 0 ? html`<span class="oat-muted">none</span>` : values.map((u) => html`<code>${u}</code><br>`)
  return layout(page, app.name === '' ? app.clientId : app.name, html`
<h1>${app.name === '' ? app.clientId : app.name}</h1>
${data.clientSecret === null
? ''
: html`<div class="oat-notice" role="status"><p><strong>Client secret</strong> — copy it now: it is shown only this once and stored hashed.</p>
<p><code id="client-secret">${data.clientSecret}</code></p></div>`}
<dl class="oat-details">
${row('Client id', html`<code id="client-id">${app.clientId}</code>`)}
${row('Client type', app.clientType)}
${row('Grant type', app.authorizationGrantType)}
${row('Redirect URIs', listOf(app.redirectUris))}
${row('Post-logout redirect URIs', listOf(app.postLogoutRedirectUris))}
${row('Allowed origins', listOf(app.allowedOrigins))}
${row('Algorithm', app.algorithm === '' ? 'none' : app.algorithm)}
${row('UserInfo responses', html`<span id="userinfo-signing">${app.userinfoSignedResponseAlg === '' ? 'plain JSON' : `signed JWT, ${app.userinfoSignedResponseAlg}`}</span>`)}
${row('Client authentication', html`<span id="auth-method">${app.tokenEndpointAuthMethod === '' ? 'any method' : app.tokenEndpointAuthMethod}${app.tokenEndpointAuthSigningAlg === '' ? '' : `, ${app.tokenEndpointAuthSigningAlg}`}</span>`)}
${app.jwksUri !== '' ? row('JWK Set URL', html`<code>${app.jwksUri}</code>`) : app.jwks !== '' ? row('Public keys', 'registered (JWK Set)') : ''}
${row('Token introspection', html`<span id="introspection">${app.allowIntrospection ? 'any client\'s access tokens (a resource server, set by an administrator)' : 'its own tokens only'}</span>`)}
${row('Redirect URIs vetted', html`<span id="self-registered">${app.selfRegistered ? 'no: its URIs come from a user, so authorization errors are shown on this site before the user approves, never sent to the application' : 'yes: set by an administrator'}</span>`)}
${row('Request objects', html`<span id="request-objects">${app.requireSignedRequestObject ? 'required: authorization requests must be signed request objects' : 'optional'}${app.requestObjectSigningAlg === '' ? '' : `, ${app.requestObjectSigningAlg}`}</span>`)}
${row('Back-channel logout', html`<span id="backchannel-logout">${app.backchannelLogoutUri === '' ? 'none' : html`<code>${app.backchannelLogoutUri}</code>${app.backchannelLogoutSessionRequired ? ', sid required' : ''}`}</span>`)}
${row('DPoP', html`<span id="dpop">${app.dpopBoundAccessTokens ? 'required: every token request must carry a proof of the client\'s key' : 'optional'}</span>`)}
${row('Created', app.createdAt.toISOString())}
</dl>
<div class="oat-actions">
<a class="oat-button oat-secondary" href="${data.base}">All applications</a>
<a class="oat-button oat-secondary" href="${data.base}${app.id}/update/">Edit</a>
<a class="oat-button oat-secondary" href="${data.base}${app.id}/delete/">Delete</a>
${app.clientType === 'confidential' && app.tokenEndpointAuthMethod !== 'private_key_jwt'
? html`<form method="post" action="${data.base}${app.id}/regenerate-secret/" class="oat-inline">
<input type="hidden" name="csrf_token" value="${data.csrfToken}">
<button type="submit" class="oat-secondary">Regenerate secret</button></form>`
: ''}
</div>
`)
}

/** A confirmation before a destructive POST. */
export function confirmPage (data: ConfirmData, page: PageContext): SafeHtml {
  return layout(page, data.title, html`
<h1>${data.title}</h1>
<p>${data.message}</p>
<form method="post" action="${data.action}">
<input type="hidden" name="csrf_token" value="${data.csrfToken}">
<div class="oat-actions">
<a class="oat-button oat-secondary" href="${data.cancel}">Cancel</a>
<button type="submit" class="oat-primary oat-danger">${data.confirmLabel}</button>
</div>
</form>
`)
}
