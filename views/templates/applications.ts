import { html, type HtmlValue, type SafeHtml } from '../../lib/html.js'
import { ASYMMETRIC_JWS_ALGORITHMS, HMAC_JWS_ALGORITHMS } from '../../lib/tokens/jws-algorithms.js'
import { layout, messagesOf, type PageContext } from './layout.js'

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
  /** Further choices after the standard fields (the staff pages' administrator-only settings); default none. */
  readonly extraFields?: readonly ExtraFormField[]
  readonly cancel: string
}

/** A further choice on the application form: a select of `options`, its value in `values[name]`. */
export interface ExtraFormField {
  readonly name: string
  readonly label: string
  readonly options: readonly string[]
  readonly hint: string
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
  const m = messagesOf(page)
  return layout(page, m.text('apps.list.title'), html`
<h1>${m.html('apps.list.title')}</h1>
${data.applications.length === 0
? html`<p>${m.html('apps.list.empty')}</p>`
: html`<p class="oat-muted" id="application-count">${m.html('apps.list.count', { count: data.applications.length })}</p>\n<ul class="oat-list">\n${rows}</ul>`}
<p><a class="oat-button oat-primary" href="${data.base}register/">${m.html('apps.list.new')}</a></p>
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

/** A select whose options show their values, or the given labels (translated words such as yes/no). */
function select (name: string, value: string, options: readonly string[], error: string | undefined, labels: Readonly<Record<string, string>> = {}): SafeHtml {
  return html`<select id="${name}" name="${name}" aria-describedby="${described(name, error, false)}">
${options.map((o) => html`<option value="${o}"${o === value ? html` selected` : ''}>${labels[o] ?? o}</option>\n`)}</select>`
}

/** `applications/register/` and `applications/:id/update/`: the form, errors beside their fields. */
export function applicationFormPage (data: ApplicationFormData, page: PageContext): SafeHtml {
  const v = (name: string): string => data.values[name] ?? ''
  const e = (name: string): string | undefined => data.errors[name]
  const text = (name: string, hint: boolean): SafeHtml => html`<input type="text" id="${name}" name="${name}" value="${v(name)}" aria-describedby="${described(name, e(name), hint)}">`
  const area = (name: string): SafeHtml => html`<textarea id="${name}" name="${name}" rows="3" aria-describedby="${described(name, e(name), true)}">${v(name)}</textarea>`
  const extra = data.extraFields ?? []
  const general = Object.entries(data.errors).filter(([k]) => !FORM_FIELDS.includes(k) && !extra.some((f) => f.name === k))
  const m = messagesOf(page)
  return layout(page, data.title, html`
<h1>${data.title}</h1>
${general.map(([k, message]) => html`<p class="oat-error" role="alert">${k}: ${message}</p>`)}
<form method="post" action="${data.action}" novalidate>
<input type="hidden" name="csrf_token" value="${data.csrfToken}">
${field('name', m.text('apps.field.name'), text('name', false), e('name'))}
${field('clientType', m.text('apps.field.clientType'), select('clientType', v('clientType'), data.clientTypes, e('clientType')), e('clientType'))}
${field('authorizationGrantType', m.text('apps.field.authorizationGrantType'), select('authorizationGrantType', v('authorizationGrantType'), data.grantTypes, e('authorizationGrantType')), e('authorizationGrantType'))}
${field('redirectUris', m.text('apps.field.redirectUris'), area('redirectUris'), e('redirectUris'), m.text('apps.hint.redirectUris'))}
${field('postLogoutRedirectUris', m.text('apps.field.postLogoutRedirectUris'), area('postLogoutRedirectUris'), e('postLogoutRedirectUris'), m.text('apps.hint.postLogoutRedirectUris'))}
${field('allowedOrigins', m.text('apps.field.allowedOrigins'), area('allowedOrigins'), e('allowedOrigins'), m.text('apps.hint.allowedOrigins'))}
${field('algorithm', m.text('apps.field.algorithm'), select('algorithm', v('algorithm'), data.algorithms ?? ['', 'RS256', 'HS256'], e('algorithm')), e('algorithm'), m.text('apps.hint.algorithm'))}
${field('userinfoSignedResponseAlg', m.text('apps.field.userinfoSignedResponseAlg'), select('userinfoSignedResponseAlg', v('userinfoSignedResponseAlg'), data.userinfoAlgorithms ?? ['', 'RS256'], e('userinfoSignedResponseAlg')), e('userinfoSignedResponseAlg'), m.text('apps.hint.userinfoSignedResponseAlg'))}
${field('tokenEndpointAuthMethod', m.text('apps.field.tokenEndpointAuthMethod'), select('tokenEndpointAuthMethod', v('tokenEndpointAuthMethod'), AUTH_METHODS, e('tokenEndpointAuthMethod')), e('tokenEndpointAuthMethod'), m.text('apps.hint.tokenEndpointAuthMethod'))}
${field('jwks', m.text('apps.field.jwks'), area('jwks'), e('jwks'), m.text('apps.hint.jwks'))}
${field('jwksUri', m.text('apps.field.jwksUri'), text('jwksUri', true), e('jwksUri'), m.text('apps.hint.jwksUri'))}
${field('tokenEndpointAuthSigningAlg', m.text('apps.field.tokenEndpointAuthSigningAlg'), select('tokenEndpointAuthSigningAlg', v('tokenEndpointAuthSigningAlg'), ASSERTION_ALGORITHMS, e('tokenEndpointAuthSigningAlg')), e('tokenEndpointAuthSigningAlg'), m.text('apps.hint.tokenEndpointAuthSigningAlg'))}
${field('requestObjectSigningAlg', m.text('apps.field.requestObjectSigningAlg'), select('requestObjectSigningAlg', v('requestObjectSigningAlg'), REQUEST_OBJECT_ALGORITHMS, e('requestObjectSigningAlg')), e('requestObjectSigningAlg'), m.text('apps.hint.requestObjectSigningAlg'))}
${field('backchannelLogoutUri', m.text('apps.field.backchannelLogoutUri'), text('backchannelLogoutUri', true), e('backchannelLogoutUri'), m.text('apps.hint.backchannelLogoutUri'))}
${field('backchannelLogoutSessionRequired', m.text('apps.field.backchannelLogoutSessionRequired'), select('backchannelLogoutSessionRequired', v('backchannelLogoutSessionRequired') === 'yes' ? 'yes' : 'no', ['no', 'yes'], e('backchannelLogoutSessionRequired'), { no: m.text('common.no'), yes: m.text('common.yes') }), e('backchannelLogoutSessionRequired'), m.text('apps.hint.backchannelLogoutSessionRequired'))}
${field('requireSignedRequestObject', m.text('apps.field.requireSignedRequestObject'), select('requireSignedRequestObject', v('requireSignedRequestObject') === 'yes' ? 'yes' : 'no', ['no', 'yes'], e('requireSignedRequestObject'), { no: m.text('common.no'), yes: m.text('common.yes') }), e('requireSignedRequestObject'), m.text('apps.hint.requireSignedRequestObject'))}
${extra.map((f) => field(f.name, f.label, select(f.name, v(f.name), f.options, e(f.name)), e(f.name), f.hint))}<div class="oat-actions">
<a class="oat-button oat-secondary" href="${data.cancel}">${m.html('common.cancel')}</a>
<button type="submit" class="oat-primary">${m.html('common.save')}</button>
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
  const m = messagesOf(page)
  const row = (label: string, value: HtmlValue): SafeHtml => html`<dt>${label}</dt><dd>${value}</dd>\n`
  const listOf = (values: readonly string[]): HtmlValue => values.length === 0 ? html`<span class="oat-muted">${m.html('common.none')}</span>` : values.map((u) => html`<code>${u}</code><br>`)
  return layout(page, app.name === '' ? app.clientId : app.name, html`
<h1>${app.name === '' ? app.clientId : app.name}</h1>
${data.clientSecret === null
? ''
: html`<div class="oat-notice" role="status"><p>${m.html('apps.detail.secretNotice', { label: html`<strong>${m.text('apps.detail.secretLabel')}</strong>` })}</p>
<p><code id="client-secret">${data.clientSecret}</code></p></div>`}
<dl class="oat-details">
${row(m.text('apps.detail.clientId'), html`<code id="client-id">${app.clientId}</code>`)}
${row(m.text('apps.detail.clientType'), app.clientType)}
${row(m.text('apps.detail.grantType'), app.authorizationGrantType)}
${row(m.text('apps.detail.redirectUris'), listOf(app.redirectUris))}
${row(m.text('apps.detail.postLogoutRedirectUris'), listOf(app.postLogoutRedirectUris))}
${row(m.text('apps.detail.allowedOrigins'), listOf(app.allowedOrigins))}
${row(m.text('apps.detail.algorithm'), app.algorithm === '' ? m.text('common.none') : app.algorithm)}
${row(m.text('apps.detail.userinfo'), html`<span id="userinfo-signing">${app.userinfoSignedResponseAlg === '' ? m.text('apps.detail.userinfoPlain') : m.text('apps.detail.userinfoSigned', { alg: app.userinfoSignedResponseAlg })}</span>`)}
${row(m.text('apps.detail.authMethod'), html`<span id="auth-method">${app.tokenEndpointAuthMethod === '' ? m.text('apps.detail.anyMethod') : app.tokenEndpointAuthMethod}${app.tokenEndpointAuthSigningAlg === '' ? '' : `, ${app.tokenEndpointAuthSigningAlg}`}</span>`)}
${app.jwksUri !== '' ? row(m.text('apps.detail.jwksUri'), html`<code>${app.jwksUri}</code>`) : app.jwks !== '' ? row(m.text('apps.detail.jwks'), m.text('apps.detail.jwksRegistered')) : ''}
${row(m.text('apps.detail.introspection'), html`<span id="introspection">${m.text(app.allowIntrospection ? 'apps.detail.introspectionAny' : 'apps.detail.introspectionOwn')}</span>`)}
${row(m.text('apps.detail.vetted'), html`<span id="self-registered">${m.text(app.selfRegistered ? 'apps.detail.vettedNo' : 'apps.detail.vettedYes')}</span>`)}
${row(m.text('apps.detail.requestObjects'), html`<span id="request-objects">${m.text(app.requireSignedRequestObject ? 'apps.detail.requestObjectsRequired' : 'apps.detail.optional')}${app.requestObjectSigningAlg === '' ? '' : `, ${app.requestObjectSigningAlg}`}</span>`)}
${row(m.text('apps.detail.backchannelLogout'), html`<span id="backchannel-logout">${app.backchannelLogoutUri === '' ? m.text('common.none') : html`<code>${app.backchannelLogoutUri}</code>${app.backchannelLogoutSessionRequired ? `, ${m.text('apps.detail.backchannelSidRequired')}` : ''}`}</span>`)}
${row(m.text('apps.detail.dpop'), html`<span id="dpop">${m.text(app.dpopBoundAccessTokens ? 'apps.detail.dpopRequired' : 'apps.detail.optional')}</span>`)}
${row(m.text('apps.detail.created'), html`<time datetime="${app.createdAt.toISOString()}">${m.dateTime(app.createdAt)}</time>`)}
</dl>
<div class="oat-actions">
<a class="oat-button oat-secondary" href="${data.base}">${m.html('apps.detail.all')}</a>
<a class="oat-button oat-secondary" href="${data.base}${app.id}/update/">${m.html('apps.detail.edit')}</a>
<a class="oat-button oat-secondary" href="${data.base}${app.id}/delete/">${m.html('apps.detail.delete')}</a>
${app.clientType === 'confidential' && app.tokenEndpointAuthMethod !== 'private_key_jwt'
? html`<form method="post" action="${data.base}${app.id}/regenerate-secret/" class="oat-inline">
<input type="hidden" name="csrf_token" value="${data.csrfToken}">
<button type="submit" class="oat-secondary">${m.html('apps.detail.regenerate')}</button></form>`
: ''}
</div>
`)
}

/** A confirmation before a destructive POST. */
export function confirmPage (data: ConfirmData, page: PageContext): SafeHtml {
  const m = messagesOf(page)
  return layout(page, data.title, html`
<h1>${data.title}</h1>
<p>${data.message}</p>
<form method="post" action="${data.action}">
<input type="hidden" name="csrf_token" value="${data.csrfToken}">
<div class="oat-actions">
<a class="oat-button oat-secondary" href="${data.cancel}">${m.html('common.cancel')}</a>
<button type="submit" class="oat-primary oat-danger">${data.confirmLabel}</button>
</div>
</form>
`)
}
