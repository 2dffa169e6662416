import { html, type HtmlValue, type SafeHtml } from '../../lib/html.js'
import { ENGLISH } from '../../lib/i18n/languages.js'
import type { Translator } from '../../lib/i18n/messages.js'

/** What every page template receives besides its own data. */
export interface PageContext {
  /** URL of the toolkit's stylesheet (served by the routes plugin, same origin). */
  readonly stylesheet: string
  /**
   * The page's language and messages, negotiated for the request (the toolkit always gives
   * them; absent, as on a host's own page built with `pageLayout`, the page is in English).
   * A replacement template renders its text with them to follow the user's language.
   */
  readonly messages?: Translator
}

/** The messages of a page: the negotiated ones, or English. */
export function messagesOf (page: PageContext): Translator {
  return page.messages ?? ENGLISH
}

/** The shared page shell: same-origin stylesheet only, no scripts, readable on a phone, in the page's language. */
export function layout (page: PageContext, title: string, body: HtmlValue): SafeHtml {
  return html`<!doctype html>
<html lang="${messagesOf(page).locale}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${title}</title>
<link rel="stylesheet" href="${page.stylesheet}">
</head>
<body>
<main class="oat-card">
${body}
</main>
</body>
</html>
`
}
