import { html, type HtmlValue, type SafeHtml } from '../../lib/html.js'

/** What every page template receives besides its own data. */
export interface PageContext {
  /** URL of the toolkit's stylesheet (served by the routes plugin, same origin). */
  readonly stylesheet: string
}

/** The shared page shell: same-origin stylesheet only, no scripts, readable on a phone. */
export function layout (page: PageContext, title: string, body: HtmlValue): SafeHtml {
  return html`<!doctype html>
<html lang="en">
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
