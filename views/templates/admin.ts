import { revealInvisible } from '../../lib/display-name.js'
import { html, type HtmlValue, type SafeHtml } from '../../lib/html.js'
import type { PlainMessageKey } from '../../lib/i18n/messages.js'
import { messagesOf, type PageContext } from './layout.js'

// The staff administration pages (`{prefix}/admin/`), in the negotiated language like every
// other page: each string a person reads is an `admin.*` key of the message catalog
// (lib/i18n/en.ts, fr.ts, listed in docs/i18n.md). A new string is a new key there, rendered with
// `messagesOf(page).html(key)` (or `.text(key)` for a value the template escapes later).

/** One entry of the staff pages' navigation. */
export interface AdminNavItem {
  readonly href: string
  /** The message key of the section's name. */
  readonly label: PlainMessageKey
  readonly current: boolean
}

/** What every staff page shows around its content. */
export interface AdminChrome {
  readonly nav: readonly AdminNavItem[]
  readonly staffUserId: string
  /** A status line (after an action, already in the page's language), or `null`. */
  readonly notice: string | null
}

/**
 * A value nobody vetted (names, user ids, URIs, scopes), escaped by `html` and with every control
 * or invisible formatting character shown as its code point: a bidi override cannot reorder what
 * staff read, a zero-width character cannot make two values look alike.
 */
export function shown (value: string): HtmlValue {
  return revealInvisible(value).map((part) => 'text' in part ? part.text : html`<span class="oat-codepoint">${part.codePoint}</span>`)
}

/** The shell of a staff page: wide card, navigation, no scripts. */
export function adminLayout (page: PageContext, chrome: AdminChrome, title: string, body: HtmlValue): SafeHtml {
  const m = messagesOf(page)
  return html`<!doctype html>
<html lang="${m.locale}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${title} · ${m.text('admin.shell.title')}</title>
<link rel="stylesheet" href="${page.stylesheet}">
</head>
<body class="oat-admin-body">
<main class="oat-card oat-admin">
<nav class="oat-nav" aria-label="${m.text('admin.shell.nav')}">
${chrome.nav.map((item) => html`<a href="${item.href}"${item.current ? html` aria-current="page"` : ''}>${m.html(item.label)}</a>\n`)}<span class="oat-muted">${m.html('admin.shell.signedIn', { user: html`${shown(chrome.staffUserId)}` })}</span>
</nav>
${chrome.notice === null ? '' : html`<p class="oat-notice" role="status">${chrome.notice}</p>`}
${body}
</main>
</body>
</html>
`
}

/** Data of the overview page (`admin/`). */
export interface AdminIndexData {
  /** Each section's link, and the message keys of its name and description. */
  readonly sections: ReadonlyArray<{ readonly href: string, readonly label: PlainMessageKey, readonly description: PlainMessageKey }>
}

/** `admin/`: the sections. */
export function adminIndexPage (data: AdminIndexData, chrome: AdminChrome, page: PageContext): SafeHtml {
  const m = messagesOf(page)
  return adminLayout(page, chrome, m.text('admin.index.heading'), html`
<h1>${m.html('admin.index.heading')}</h1>
<p class="oat-muted">${m.html('admin.index.intro')}</p>
<ul class="oat-list">
${data.sections.map((s) => html`<li><a href="${s.href}">${m.html(s.label)}</a><br><span class="oat-muted">${m.html(s.description)}</span></li>\n`)}</ul>
`)
}

/** A filter control of a list page. */
export type AdminFilter =
  | { readonly kind: 'text', readonly name: string, readonly label: string, readonly value: string }
  | { readonly kind: 'select', readonly name: string, readonly label: string, readonly value: string, readonly options: ReadonlyArray<{ readonly value: string, readonly label: string }> }

/** One row of a list page: its id and its cells (escaped text or built HTML). */
export interface AdminRow {
  readonly id: number
  readonly cells: readonly HtmlValue[]
  /** Whether the bulk action may be applied to it (a checkbox is shown). */
  readonly selectable: boolean
}

/** Data of a list page: filters (GET), a table, keyset links, and an optional bulk action (POST). */
export interface AdminListData {
  readonly title: string
  /** The list's own URL (the filter form's action). */
  readonly base: string
  readonly filters: readonly AdminFilter[]
  readonly columns: readonly string[]
  readonly rows: readonly AdminRow[]
  /** The next page's URL, or `null` on the last page. */
  readonly next: string | null
  /** The first page's URL, or `null` when this is it. */
  readonly first: string | null
  /** The bulk action on the selected rows (it asks for confirmation first), or `null`. */
  readonly action: { readonly url: string, readonly label: string, readonly csrfToken: string } | null
}

function filterControl (filter: AdminFilter): SafeHtml {
  const id = `filter-${filter.name}`
  return filter.kind === 'text'
    ? html`<div class="oat-field"><label for="${id}">${filter.label}</label><input type="text" id="${id}" name="${filter.name}" value="${filter.value}"></div>\n`
    : html`<div class="oat-field"><label for="${id}">${filter.label}</label><select id="${id}" name="${filter.name}">
${filter.options.map((o) => html`<option value="${o.value}"${o.value === filter.value ? html` selected` : ''}>${o.label}</option>\n`)}</select></div>\n`
}

/** A list page: the filter form, then the table inside the bulk action's form. */
export function adminListPage (data: AdminListData, chrome: AdminChrome, page: PageContext): SafeHtml {
  const m = messagesOf(page)
  const action = data.action
  const table = html`<div class="oat-scroll"><table class="oat-table">
<thead><tr>${action === null ? '' : html`<th scope="col">${m.html('admin.list.select')}</th>`}${data.columns.map((c) => html`<th scope="col">${c}</th>`)}</tr></thead>
<tbody>
${data.rows.map((row) => html`<tr>${action === null
? ''
: html`<td>${row.selectable ? html`<input type="checkbox" name="id" value="${row.id}" aria-label="${m.text('admin.list.selectRow', { id: String(row.id) })}">` : ''}</td>`}${row.cells.map((c) => html`<td>${c}</td>`)}</tr>\n`)}</tbody>
</table></div>`
  return adminLayout(page, chrome, data.title, html`
<h1>${data.title}</h1>
<form method="get" action="${data.base}" class="oat-filters">
${data.filters.map(filterControl)}<div class="oat-actions"><a class="oat-button oat-secondary" href="${data.base}">${m.html('admin.list.clear')}</a><button type="submit" class="oat-primary">${m.html('admin.list.filter')}</button></div>
</form>
${data.rows.length === 0
? html`<p>${m.html('admin.list.empty')}</p>`
: action === null
? table
: html`<form method="post" action="${action.url}">
<input type="hidden" name="csrf_token" value="${action.csrfToken}">
${table}
<div class="oat-actions"><button type="submit" class="oat-primary oat-danger">${action.label}</button></div>
</form>`}
<div class="oat-actions">
${data.first === null ? '' : html`<a class="oat-button oat-secondary" href="${data.first}">${m.html('admin.list.first')}</a>`}
${data.next === null ? '' : html`<a class="oat-button oat-secondary" rel="next" href="${data.next}">${m.html('admin.list.next')}</a>`}
</div>
`)
}

/** Data of the confirmation of a bulk action: the selected ids go back as hidden fields with `confirm=yes`. */
export interface AdminConfirmData {
  readonly title: string
  readonly message: string
  readonly action: string
  readonly csrfToken: string
  readonly ids: readonly number[]
  readonly confirmLabel: string
  readonly cancel: string
}

/** "Are you sure?" before a destructive staff action. */
export function adminConfirmPage (data: AdminConfirmData, chrome: AdminChrome, page: PageContext): SafeHtml {
  const m = messagesOf(page)
  return adminLayout(page, chrome, data.title, html`
<h1>${data.title}</h1>
<p>${data.message}</p>
${data.ids.length === 0 ? '' : html`<p class="oat-muted">${m.html('admin.confirm.selected', { ids: data.ids.join(', ') })}</p>`}
<form method="post" action="${data.action}">
<input type="hidden" name="csrf_token" value="${data.csrfToken}">
<input type="hidden" name="confirm" value="yes">
${data.ids.map((id) => html`<input type="hidden" name="id" value="${id}">\n`)}<div class="oat-actions">
<a class="oat-button oat-secondary" href="${data.cancel}">${m.html('common.cancel')}</a>
<button type="submit" class="oat-primary oat-danger">${data.confirmLabel}</button>
</div>
</form>
`)
}

/** An application as the staff detail page shows it. */
export interface AdminApplicationView {
  readonly id: number
  readonly clientId: string
  readonly name: string
  readonly userId: string | null
  readonly source: string
  readonly clientType: string
  readonly authorizationGrantType: string
  readonly redirectUris: readonly string[]
  readonly postLogoutRedirectUris: readonly string[]
  readonly allowedOrigins: readonly string[]
  readonly tokenEndpointAuthMethod: string
  readonly algorithm: string
  readonly skipAuthorization: boolean
  readonly allowIntrospection: boolean
  readonly dpopBoundAccessTokens: boolean
  readonly requirePushedAuthorizationRequests: boolean
  readonly cimdExpiresAt: Date | null
  readonly createdAt: Date
  /** Whether it has a secret to regenerate (confidential, not `private_key_jwt`). */
  readonly hasSecret: boolean
}

/** Data of `admin/applications/:id/`. */
export interface AdminApplicationDetailData {
  readonly application: AdminApplicationView
  /** The new secret, right after it was generated; else `null`. */
  readonly clientSecret: string | null
  /** Base of the application pages, e.g. `/o/admin/applications/`. */
  readonly base: string
  /** Links to the lists filtered by this application (the message key of each list's name). */
  readonly related: ReadonlyArray<{ readonly href: string, readonly label: PlainMessageKey }>
}

/** The message key of each application source (the list's filter and column, the detail page). */
export const ADMIN_SOURCE_LABELS: Readonly<Record<string, PlainMessageKey>> = {
  operator: 'admin.source.operator',
  'self-registered': 'admin.source.selfRegistered',
  dynamic: 'admin.source.dynamic',
  cimd: 'admin.source.cimd',
}

/** A date as `<time>`: machine-readable, shown in the page's language and time zone. */
export function adminTime (page: PageContext, date: Date): SafeHtml {
  return html`<time datetime="${date.toISOString()}">${messagesOf(page).dateTime(date)}</time>`
}

/** `admin/applications/:id/`. */
export function adminApplicationDetailPage (data: AdminApplicationDetailData, chrome: AdminChrome, page: PageContext): SafeHtml {
  const m = messagesOf(page)
  const app = data.application
  const row = (label: PlainMessageKey, value: HtmlValue, id?: string): SafeHtml => html`<dt>${m.html(label)}</dt><dd${id === undefined ? '' : html` id="${id}"`}>${value}</dd>\n`
  const list = (values: readonly string[]): HtmlValue => values.length === 0 ? html`<span class="oat-muted">${m.html('common.none')}</span>` : values.map((u) => html`<code>${shown(u)}</code><br>`)
  const yesNo = (value: boolean): string => m.text(value ? 'common.yes' : 'common.no')
  const source = ADMIN_SOURCE_LABELS[app.source]
  const title = app.name === '' ? app.clientId : app.name
  return adminLayout(page, chrome, title, html`
<h1>${shown(title)}</h1>
${data.clientSecret === null
? ''
: html`<div class="oat-notice" role="status"><p><strong>${m.html('admin.detail.secretNotice')}</strong></p>
<p><code id="client-secret">${data.clientSecret}</code></p></div>`}
<dl class="oat-details">
${row('admin.detail.clientId', html`<code>${shown(app.clientId)}</code>`, 'client-id')}
${row('admin.detail.name', shown(app.name))}
${row('admin.detail.owner', app.userId === null ? m.text('admin.detail.nobody') : shown(app.userId), 'owner')}
${row('admin.detail.source', source === undefined ? app.source : m.text(source), 'source')}
${row('admin.detail.clientType', app.clientType)}
${row('admin.detail.grantType', app.authorizationGrantType)}
${row('admin.detail.redirectUris', list(app.redirectUris))}
${row('admin.detail.postLogoutRedirectUris', list(app.postLogoutRedirectUris))}
${row('admin.detail.allowedOrigins', list(app.allowedOrigins))}
${row('admin.detail.authMethod', app.tokenEndpointAuthMethod === '' ? m.text('admin.detail.anyMethod') : app.tokenEndpointAuthMethod)}
${row('admin.detail.algorithm', app.algorithm === '' ? m.text('common.none') : app.algorithm)}
${row('admin.detail.skipAuthorization', yesNo(app.skipAuthorization), 'skip-authorization')}
${row('admin.detail.allowIntrospection', yesNo(app.allowIntrospection), 'allow-introspection')}
${row('admin.detail.dpop', yesNo(app.dpopBoundAccessTokens))}
${row('admin.detail.par', yesNo(app.requirePushedAuthorizationRequests))}
${app.cimdExpiresAt === null ? '' : row('admin.detail.cimdExpiresAt', adminTime(page, app.cimdExpiresAt))}
${row('admin.detail.created', adminTime(page, app.createdAt))}
</dl>
<h2>${m.html('admin.detail.related')}</h2>
<p>${data.related.map((r) => html`<a class="oat-button oat-secondary" href="${r.href}">${m.html(r.label)}</a> `)}</p>
<div class="oat-actions">
<a class="oat-button oat-secondary" href="${data.base}">${m.html('admin.detail.back')}</a>
<a class="oat-button oat-secondary" href="${data.base}${app.id}/update/">${m.html('admin.detail.edit')}</a>
${app.hasSecret ? html`<a class="oat-button oat-secondary" href="${data.base}${app.id}/regenerate-secret/">${m.html('admin.detail.regenerate')}</a>` : ''}
<a class="oat-button oat-secondary" href="${data.base}${app.id}/delete/">${m.html('admin.detail.delete')}</a>
</div>
`)
}

/** A relying party of a session, as the staff detail page shows it. */
export interface AdminSessionClientView {
  readonly applicationId: number
  readonly name: string
  readonly clientId: string
  /** Whether it registered a back-channel logout URI (it is sent a logout token when the session ends). */
  readonly backchannel: boolean
  readonly since: Date
}

/** A logout token still to deliver, as the staff detail page shows it (never the token: it is signed at each attempt). */
export interface AdminLogoutDeliveryView {
  readonly id: number
  readonly applicationId: number
  /** The application's name or client id, when it is one of the session's relying parties. */
  readonly application: string | null
  readonly attempts: number
  readonly nextAttemptAt: Date
  readonly lastError: string
  readonly createdAt: Date
}

/** Data of `admin/sessions/:id/`. */
export interface AdminSessionDetailData {
  readonly session: {
    readonly id: number
    readonly userId: string
    readonly sid: string
    readonly authTime: Date
    readonly createdAt: Date
    readonly expiresAt: Date
  }
  /** Its status (live, expired, ended when), in the page's language. */
  readonly status: HtmlValue
  readonly clients: readonly AdminSessionClientView[]
  readonly deliveries: readonly AdminLogoutDeliveryView[]
  /** The staff pages' base, e.g. `/o/admin/`. */
  readonly base: string
  /** The sessions list's bulk action (the "End this session" form posts there, to be confirmed), or `null` once ended. */
  readonly end: { readonly url: string, readonly csrfToken: string } | null
}

/** `admin/sessions/:id/`: a session, its relying parties and its queued logout tokens. */
export function adminSessionDetailPage (data: AdminSessionDetailData, chrome: AdminChrome, page: PageContext): SafeHtml {
  const m = messagesOf(page)
  const s = data.session
  const title = m.text('admin.sessions.detail.title', { id: String(s.id) })
  const row = (label: PlainMessageKey, value: HtmlValue, id?: string): SafeHtml => html`<dt>${m.html(label)}</dt><dd${id === undefined ? '' : html` id="${id}"`}>${value}</dd>\n`
  const head = (keys: readonly PlainMessageKey[]): SafeHtml => html`<thead><tr>${keys.map((k) => html`<th scope="col">${m.html(k)}</th>`)}</tr></thead>`
  const appLink = (id: number, name: string | null): HtmlValue => name === null ? String(id) : html`<a href="${data.base}applications/${id}/">${shown(name)}</a>`
  const none = (key: PlainMessageKey): SafeHtml => html`<p class="oat-muted">${m.html(key)}</p>`
  return adminLayout(page, chrome, title, html`
<h1>${title}</h1>
<dl class="oat-details">
${row('admin.column.user', shown(s.userId), 'user')}
${row('admin.sessions.column.sid', html`<code>${shown(s.sid)}</code>`, 'sid')}
${row('admin.sessions.column.authenticated', adminTime(page, s.authTime))}
${row('admin.column.created', adminTime(page, s.createdAt))}
${row('admin.column.expires', adminTime(page, s.expiresAt))}
${row('admin.sessions.state', data.status, 'status')}
</dl>
<h2>${m.html('admin.sessions.column.clients')}</h2>
${data.clients.length === 0
? none('admin.sessions.detail.noClients')
: html`<div class="oat-scroll"><table class="oat-table" id="clients">
${head(['admin.column.application', 'admin.column.clientId', 'admin.sessions.detail.backchannel', 'admin.sessions.detail.since'])}
<tbody>
${data.clients.map((c) => html`<tr><td>${appLink(c.applicationId, c.name)}</td><td><code>${shown(c.clientId)}</code></td><td>${m.html(c.backchannel ? 'common.yes' : 'common.no')}</td><td>${adminTime(page, c.since)}</td></tr>\n`)}</tbody>
</table></div>`}
<h2>${m.html('admin.sessions.detail.deliveries')}</h2>
${data.deliveries.length === 0
? none('admin.sessions.detail.noDeliveries')
: html`<div class="oat-scroll"><table class="oat-table" id="deliveries">
${head(['admin.column.id', 'admin.column.application', 'admin.sessions.detail.attempts', 'admin.sessions.detail.nextAttempt', 'admin.sessions.detail.lastError', 'admin.sessions.detail.queued'])}
<tbody>
${data.deliveries.map((d) => html`<tr><td>${d.id}</td><td>${appLink(d.applicationId, d.application)}</td><td>${d.attempts}</td><td>${adminTime(page, d.nextAttemptAt)}</td><td>${shown(d.lastError)}</td><td>${adminTime(page, d.createdAt)}</td></tr>\n`)}</tbody>
</table></div>`}
<div class="oat-actions">
<a class="oat-button oat-secondary" href="${data.base}sessions/">${m.html('admin.sessions.detail.back')}</a>
${data.end === null
? ''
: html`<form method="post" action="${data.end.url}">
<input type="hidden" name="csrf_token" value="${data.end.csrfToken}">
<input type="hidden" name="id" value="${s.id}">
<button type="submit" class="oat-primary oat-danger">${m.html('admin.sessions.detail.end')}</button>
</form>`}
</div>
`)
}
