import { html, type SafeHtml } from '../../lib/html.js'
import { layout, messagesOf, type PageContext } from './layout.js'

/** Data of the consent page (DOT's `authorize.html`). */
export interface ConsentPageData {
  /** The application asking for access. */
  readonly applicationName: string
  /** Each requested scope with its description from `settings.scopes`. */
  readonly scopes: ReadonlyArray<{ readonly name: string, readonly description: string }>
  /** The authorization request's parameters, sent back as hidden inputs. */
  readonly fields: Readonly<Record<string, string>>
  /**
   * RFC 8707 resources the access is for (empty: not restricted). A replacement template must
   * send each back as a hidden `resource` input, or the grant is not bound to them.
   */
  readonly resources?: readonly string[]
  /**
   * Where the browser goes after the decision (an origin, or a native app's scheme), given for
   * clients an end user created (dynamic registration, the management pages), whose redirect
   * URIs nobody vetted (RFC 9700 §4.11.2).
   */
  readonly redirectTarget?: string
  /**
   * For a client identified by a Client ID Metadata Document: the host that published its name
   * and redirect URIs (the `client_id` URL's host), shown so the user can judge who is asking.
   */
  readonly publisher?: string
  /** The CSRF token the POST must carry in `csrf_token`. */
  readonly csrfToken: string
  /** Where the form posts (the authorize URL). */
  readonly action: string
}

/** The consent page: application name, scopes, an "Authorize" submit named `allow` and a "Cancel". */
export function consentPage (data: ConsentPageData, page: PageContext): SafeHtml {
  const resources = data.resources ?? []
  const m = messagesOf(page)
  const audience = audienceList(resources, page)
  return layout(page, m.text('consent.title', { app: data.applicationName }), html`
<h1>${m.html('consent.heading', { app: html`<span class="oat-app">${data.applicationName}</span>` })}</h1>
<p>${m.html('consent.intro')}</p>
<ul class="oat-scopes">
${data.scopes.map((scope) => html`<li>${scope.description}</li>\n`)}
</ul>
${publisherNotice(data.publisher, page)}${audience}${destination(data.redirectTarget, page)}<form method="post" action="${data.action}">
<input type="hidden" name="csrf_token" value="${data.csrfToken}">
${Object.entries(data.fields).map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">\n`)}${resources.map((resource) => html`<input type="hidden" name="resource" value="${resource}">\n`)}
<div class="oat-actions">
<button type="submit" name="cancel" value="1" class="oat-secondary">${m.html('common.cancel')}</button>
<button type="submit" name="allow" value="Authorize" class="oat-primary">${m.html('consent.allow')}</button>
</div>
</form>
`)
}

/** draft-ietf-oauth-client-id-metadata-document §6.3: the client's details come from a web page of this host, nobody else vouches for them. */
export function publisherNotice (host: string | undefined, page: PageContext): SafeHtml | '' {
  if (host === undefined) return ''
  return html`<p class="oat-notice oat-publisher">${messagesOf(page).html('consent.publisher', { host: html`<strong>${host}</strong>` })}</p>
`
}

/** RFC 9700 §4.11.2: for a client an end user created, where the decision sends the browser. */
function destination (target: string | undefined, page: PageContext): SafeHtml | '' {
  if (target === undefined) return ''
  return html`<p class="oat-notice">${messagesOf(page).html('consent.unvetted', { target: html`<strong>${target}</strong>` })}</p>
`
}

/** RFC 8707: the user sees which services the access is for (nothing when unrestricted). */
export function audienceList (resources: readonly string[], page: PageContext): SafeHtml | '' {
  return resources.length === 0
    ? ''
    : html`<p>${messagesOf(page).html('consent.audience')}</p>
<ul class="oat-resources">
${resources.map((resource) => html`<li>${resource}</li>\n`)}
</ul>
`
}
