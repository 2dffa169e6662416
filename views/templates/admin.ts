import { revealInvisible } from '../../lib/display-name.js'
import { html, type HtmlValue, type SafeHtml } from '../../lib/html.js'
import type { PageContext } from './layout.js'

// The staff administration pages (`{prefix}/admin/`). Every string a person reads is in `TEXT`,
// one group per page, so that a translation pass can move them to a catalog in one place.

/** The English text of the staff pages. */
export const ADMIN_TEXT = Object.freeze({
  shell: { title: 'Administration', nav: 'Administration sections', signedIn: 'Staff', home: 'Overview' },
  index: { heading: 'Administration', intro: 'Every change made here is recorded as a staffAction event.' },
  list: {
    filter: 'Filter',
    clear: 'Clear filters',
    next: 'Next page',
    first: 'First page',
    empty: 'Nothing matches.',
    select: 'Select',
    selectRow: (id: number) => `Select row ${id}`,
    application: 'Application id',
    user: 'User id',
    pageSize: 'Rows per page',
    done: (changed: number, asked: number) => `${changed} of ${asked} selected changed.`,
  },
  applications: {
    heading: 'Applications',
    search: 'Name or client id contains',
    clientType: 'Client type',
    grantType: 'Grant type',
    owner: 'Owner (user id)',
    source: 'Source',
    any: 'any',
    columns: ['Id', 'Name', 'Client id', 'Type', 'Grant type', 'Owner', 'Source', 'Created'],
    sources: { operator: 'operator', 'self-registered': 'self-registered (management pages)', dynamic: 'dynamic registration', cimd: 'client metadata document' } as Record<string, string>,
  },
  detail: {
    secretNotice: 'Client secret — copy it now: it is shown only this once and stored hashed.',
    edit: 'Edit',
    regenerate: 'Regenerate secret',
    delete: 'Delete',
    back: 'All applications',
    saved: 'Saved.',
    related: 'Issued to this application',
    none: 'none',
    nobody: 'nobody (operator)',
    yes: 'yes',
    no: 'no',
    labels: {
      clientId: 'Client id',
      name: 'Name',
      owner: 'Owner (user id)',
      source: 'Source',
      clientType: 'Client type',
      grantType: 'Grant type',
      redirectUris: 'Redirect URIs',
      postLogoutRedirectUris: 'Post-logout redirect URIs',
      allowedOrigins: 'Allowed origins',
      authMethod: 'Client authentication',
      algorithm: 'ID token algorithm',
      skipAuthorization: 'Skips the consent page',
      allowIntrospection: 'May introspect every client\'s tokens',
      dpop: 'Requires DPoP',
      par: 'Requires pushed authorization requests',
      cimdExpiresAt: 'Metadata document fetched again after',
      created: 'Created',
    },
  },
  sessions: {
    heading: 'Sessions',
    description: 'Users\' sessions at this server, as relying parties know them (sid): filter by user and state; end selected, telling their relying parties (back-channel logout).',
    state: 'State',
    any: 'any',
    states: { live: 'live (not ended)', ended: 'ended' } as Record<'live' | 'ended', string>,
    columns: ['Id', 'User', 'Session id (sid)', 'Authenticated', 'Created', 'Expires', 'State', 'Relying parties'],
    live: 'live',
    expired: 'expired, not ended yet',
    ended: (at: string) => `ended ${at}`,
    action: 'End selected sessions',
    confirmTitle: 'End the selected sessions?',
    confirmMessage: 'Each session ends as at logout: its relying parties with a back-channel logout URI are sent a logout token, its refresh tokens without offline_access are revoked, and a logout event (reason staff) is emitted. The user stays logged in to the host site itself.',
  },
  confirm: { cancel: 'Cancel', selected: 'Selected ids' },
})

/** One entry of the staff pages' navigation. */
export interface AdminNavItem {
  readonly href: string
  readonly label: string
  readonly current: boolean
}

/** What every staff page shows around its content. */
export interface AdminChrome {
  readonly nav: readonly AdminNavItem[]
  readonly staffUserId: string
  /** A status line (after an action), or `null`. */
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
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${title} · ${ADMIN_TEXT.shell.title}</title>
<link rel="stylesheet" href="${page.stylesheet}">
</head>
<body class="oat-admin-body">
<main class="oat-card oat-admin">
<nav class="oat-nav" aria-label="${ADMIN_TEXT.shell.nav}">
${chrome.nav.map((item) => html`<a href="${item.href}"${item.current ? html` aria-current="page"` : ''}>${item.label}</a>\n`)}<span class="oat-muted">${ADMIN_TEXT.shell.signedIn}: ${shown(chrome.staffUserId)}</span>
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
  readonly sections: ReadonlyArray<{ readonly href: string, readonly label: string, readonly description: string }>
}

/** `admin/`: the sections. */
export function adminIndexPage (data: AdminIndexData, chrome: AdminChrome, page: PageContext): SafeHtml {
  return adminLayout(page, chrome, ADMIN_TEXT.index.heading, html`
<h1>${ADMIN_TEXT.index.heading}</h1>
<p class="oat-muted">${ADMIN_TEXT.index.intro}</p>
<ul class="oat-list">
${data.sections.map((s) => html`<li><a href="${s.href}">${s.label}</a><br><span class="oat-muted">${s.description}</span></li>\n`)}</ul>
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
  const t = ADMIN_TEXT.list
  const action = data.action
  const table = html`<div class="oat-scroll"><table class="oat-table">
<thead><tr>${action === null ? '' : html`<th scope="col">${t.select}</th>`}${data.columns.map((c) => html`<th scope="col">${c}</th>`)}</tr></thead>
<tbody>
${data.rows.map((row) => html`<tr>${action === null
? ''
: html`<td>${row.selectable ? html`<input type="checkbox" name="id" value="${row.id}" aria-label="${t.selectRow(row.id)}">` : ''}</td>`}${row.cells.map((c) => html`<td>${c}</td>`)}</tr>\n`)}</tbody>
</table></div>`
  return adminLayout(page, chrome, data.title, html`
<h1>${data.title}</h1>
<form method="get" action="${data.base}" class="oat-filters">
${data.filters.map(filterControl)}<div class="oat-actions"><a class="oat-button oat-secondary" href="${data.base}">${t.clear}</a><button type="submit" class="oat-primary">${t.filter}</button></div>
</form>
${data.rows.length === 0
? html`<p>${t.empty}</p>`
: action === null
? table
: html`<form method="post" action="${action.url}">
<input type="hidden" name="csrf_token" value="${action.csrfToken}">
${table}
<div class="oat-actions"><button type="submit" class="oat-primary oat-danger">${action.label}</button></div>
</form>`}
<div class="oat-actions">
${data.first === null ? '' : html`<a class="oat-button oat-secondary" href="${data.first}">${t.first}</a>`}
${data.next === null ? '' : html`<a class="oat-button oat-secondary" rel="next" href="${data.next}">${t.next}</a>`}
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
  return adminLayout(page, chrome, data.title, html`
<h1>${data.title}</h1>
<p>${data.message}</p>
${data.ids.length === 0 ? '' : html`<p class="oat-muted">${ADMIN_TEXT.confirm.selected}: ${data.ids.join(', ')}</p>`}
<form method="post" action="${data.action}">
<input type="hidden" name="csrf_token" value="${data.csrfToken}">
<input type="hidden" name="confirm" value="yes">
${data.ids.map((id) => html`<input type="hidden" name="id" value="${id}">\n`)}<div class="oat-actions">
<a class="oat-button oat-secondary" href="${data.cancel}">${ADMIN_TEXT.confirm.cancel}</a>
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
  /** Links to the lists filtered by this application. */
  readonly related: ReadonlyArray<{ readonly href: string, readonly label: string }>
}

/** `admin/applications/:id/`. */
export function adminApplicationDetailPage (data: AdminApplicationDetailData, chrome: AdminChrome, page: PageContext): SafeHtml {
  const t = ADMIN_TEXT.detail
  const l = t.labels
  const app = data.application
  const row = (label: string, value: HtmlValue, id?: string): SafeHtml => html`<dt>${label}</dt><dd${id === undefined ? '' : html` id="${id}"`}>${value}</dd>\n`
  const list = (values: readonly string[]): HtmlValue => values.length === 0 ? html`<span class="oat-muted">${t.none}</span>` : values.map((u) => html`<code>${shown(u)}</code><br>`)
  const yesNo = (value: boolean): string => value ? t.yes : t.no
  const title = app.name === '' ? app.clientId : app.name
  return adminLayout(page, chrome, title, html`
<h1>${shown(title)}</h1>
${data.clientSecret === null
? ''
: html`<div class="oat-notice" role="status"><p><strong>${t.secretNotice}</strong></p>
<p><code id="client-secret">${data.clientSecret}</code></p></div>`}
<dl class="oat-details">
${row(l.clientId, html`<code>${shown(app.clientId)}</code>`, 'client-id')}
${row(l.name, shown(app.name))}
${row(l.owner, app.userId === null ? t.nobody : shown(app.userId), 'owner')}
${row(l.source, ADMIN_TEXT.applications.sources[app.source] ?? app.source, 'source')}
${row(l.clientType, app.clientType)}
${row(l.grantType, app.authorizationGrantType)}
${row(l.redirectUris, list(app.redirectUris))}
${row(l.postLogoutRedirectUris, list(app.postLogoutRedirectUris))}
${row(l.allowedOrigins, list(app.allowedOrigins))}
${row(l.authMethod, app.tokenEndpointAuthMethod === '' ? 'any' : app.tokenEndpointAuthMethod)}
${row(l.algorithm, app.algorithm === '' ? t.none : app.algorithm)}
${row(l.skipAuthorization, yesNo(app.skipAuthorization), 'skip-authorization')}
${row(l.allowIntrospection, yesNo(app.allowIntrospection), 'allow-introspection')}
${row(l.dpop, yesNo(app.dpopBoundAccessTokens))}
${row(l.par, yesNo(app.requirePushedAuthorizationRequests))}
${app.cimdExpiresAt === null ? '' : row(l.cimdExpiresAt, app.cimdExpiresAt.toISOString())}
${row(l.created, app.createdAt.toISOString())}
</dl>
<h2>${t.related}</h2>
<p>${data.related.map((r) => html`<a class="oat-button oat-secondary" href="${r.href}">${r.label}</a> `)}</p>
<div class="oat-actions">
<a class="oat-button oat-secondary" href="${data.base}">${t.back}</a>
<a class="oat-button oat-secondary" href="${data.base}${app.id}/update/">${t.edit}</a>
${app.hasSecret ? html`<a class="oat-button oat-secondary" href="${data.base}${app.id}/regenerate-secret/">${t.regenerate}</a>` : ''}
<a class="oat-button oat-secondary" href="${data.base}${app.id}/delete/">${t.delete}</a>
</div>
`)
}
