import { html, type SafeHtml } from '../../lib/html.js'
import { layout, messagesOf, type PageContext } from './layout.js'

/** One access the user granted, as `authorized-tokens/` lists it. */
export interface AuthorizedTokenSummary {
  readonly id: number
  readonly applicationName: string
  readonly scopes: ReadonlyArray<{ readonly name: string, readonly description: string }>
  readonly expiresAt: Date
}

/** Data of `authorized-tokens/`. */
export interface AuthorizedTokenListData {
  readonly tokens: readonly AuthorizedTokenSummary[]
  /** Base path, e.g. `/o/authorized-tokens/`. */
  readonly base: string
}

/** `authorized-tokens/`: the access the user has granted, with a revoke link each. */
export function authorizedTokenListPage (data: AuthorizedTokenListData, page: PageContext): SafeHtml {
  const m = messagesOf(page)
  const rows = data.tokens.map((t) => html`<li>
<strong>${t.applicationName}</strong>
<span class="oat-muted">${m.html('tokens.expires', { date: html`<time datetime="${t.expiresAt.toISOString()}">${m.dateTime(t.expiresAt)}</time>` })}</span>
<ul class="oat-scopes">${t.scopes.map((s) => html`<li>${s.description}</li>`)}</ul>
<a class="oat-button oat-secondary" href="${data.base}${t.id}/delete/">${m.html('tokens.revoke')}</a>
</li>\n`)
  return layout(page, m.text('tokens.title'), html`
<h1>${m.html('tokens.title')}</h1>
${data.tokens.length === 0
? html`<p>${m.html('tokens.empty')}</p>`
: html`<p class="oat-muted" id="token-count">${m.html('tokens.count', { count: data.tokens.length })}</p>\n<ul class="oat-list">\n${rows}</ul>`}
`)
}
