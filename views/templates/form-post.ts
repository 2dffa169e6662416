import { html, type SafeHtml } from '../../lib/html.js'
import { layout, messagesOf, type PageContext } from './layout.js'

/** Data of the form_post page (OAuth 2.0 Form Post Response Mode §2). */
export interface FormPostPageData {
  /** The client's validated redirect URI, where the form posts. */
  readonly action: string
  /** The authorization response parameters, sent as hidden inputs. */
  readonly fields: Readonly<Record<string, string>>
}

/**
 * The script that submits the form as soon as the page loads. It is constant, so the page's
 * Content-Security-Policy allows exactly it by its hash and no other script.
 */
export const FORM_POST_SCRIPT = 'document.forms[0].submit();'

/**
 * OAuth 2.0 Form Post Response Mode §2: an HTML form that POSTs the response to the client's
 * redirect URI, submitted by the one allowed script, with a visible button for browsers that do
 * not run it. Every value is escaped.
 */
export function formPostPage (data: FormPostPageData, page: PageContext): SafeHtml {
  const m = messagesOf(page)
  return layout(page, m.text('formPost.title'), html`
<h1>${m.html('formPost.title')}</h1>
<form method="post" action="${data.action}">
${Object.entries(data.fields).map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">\n`)}<p class="oat-muted">${m.html('formPost.manual')}</p>
<div class="oat-actions">
<button type="submit" class="oat-primary">${m.html('common.continue')}</button>
</div>
</form>
<script>${FORM_POST_SCRIPT}</script>
`)
}
