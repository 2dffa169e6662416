import { html, type SafeHtml } from '../../lib/html.js'
import { layout, messagesOf, type PageContext } from './layout.js'

/** Data of the error page shown when the client or redirect URI cannot be trusted. */
export interface ErrorPageData {
  readonly status: number
  /** The OAuth error code, e.g. `invalid_request`. */
  readonly error: string
  /** A safe, human-readable description. */
  readonly description: string
}

/** An error shown to the user instead of redirecting (RFC 6749 §4.1.2.1). */
export function errorPage (data: ErrorPageData, page: PageContext): SafeHtml {
  const m = messagesOf(page)
  return layout(page, m.text('error.title'), html`
<h1>${m.html('error.title')}</h1>
<p class="oat-error"><code>${data.error}</code>: ${data.description}</p>
<p>${m.html('error.help')}</p>
`)
}
