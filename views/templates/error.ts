import { html, type SafeHtml } from '../../lib/html.js'
import { layout, type PageContext } from './layout.js'

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
  return layout(page, 'Authorization error', html`
<h1>Authorization error</h1>
<p class="oat-error"><code>${data.error}</code>: ${data.description}</p>
<p>The application that sent you here made a request this server cannot accept. Go back to it and try again.</p>
`)
}
