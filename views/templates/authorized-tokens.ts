import { html, type SafeHtml } from '../../lib/html.js'
import { layout, type PageContext } from './layout.js'

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
  const rows = data.tokens.map((t) => html`<li>
<strong>${t.applicationName}</strong>
<span class="oat-muted">expires ${t.expiresAt.toISOString()}</span>
<ul class="oat-scopes">${t.scopes.map((s) => html`<li>${s.description}</li>`)}</ul>
<a class="oat-button oat-secondary" href="${data.base}${t.id}/delete/">Revoke</a>
</li>\n`)
  return layout(page, 'Authorized applications', html`
<h1>Authorized applications</h1>
${data.tokens.length === 0 ? html`<p>You have not granted any application access.</p>` : html`<ul class="oat-list">\n${rows}</ul>`}
`)
}
