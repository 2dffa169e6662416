import { html, type SafeHtml } from '../../lib/html.js'
import { layout, type PageContext } from './layout.js'

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
  const audience = audienceList(resources)
  return layout(page, `Authorize ${data.applicationName}`, html`
<h1>Authorize <span class="oat-app">${data.applicationName}</span>?</h1>
<p>This application would like to:</p>
<ul class="oat-scopes">
${data.scopes.map((scope) => html`<li>${scope.description}</li>\n`)}
</ul>
${publisherNotice(data.publisher)}${audience}${destination(data.redirectTarget)}<form method="post" action="${data.action}">
<input type="hidden" name="csrf_token" value="${data.csrfToken}">
${Object.entries(data.fields).map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">\n`)}${resources.map((resource) => html`<input type="hidden" name="resource" value="${resource}">\n`)}
<div class="oat-actions">
<button type="submit" name="cancel" value="1" class="oat-secondary">Cancel</button>
<button type="submit" name="allow" value="Authorize" class="oat-primary">Authorize</button>
</div>
</form>
`)
}

/** draft-ietf-oauth-client-id-metadata-document §6.3: the client's details come from a web page of this host, nobody else vouches for them. */
export function publisherNotice (host: string | undefined): SafeHtml | '' {
  if (host === undefined) return ''
  return html`<p class="oat-notice oat-publisher">The name and details of this application were published by <strong>${host}</strong>, not checked by this site.</p>
`
}

/** RFC 9700 §4.11.2: for a client an end user created, where the decision sends the browser. */
function destination (target: string | undefined): SafeHtml | '' {
  if (target === undefined) return ''
  return html`<p class="oat-notice">This application was not registered by the operator of this site, so nobody checked where it sends you. Whatever you choose, you will then be sent to <strong>${target}</strong>.</p>
`
}

/** RFC 8707: the user sees which services the access is for (nothing when unrestricted). */
export function audienceList (resources: readonly string[]): SafeHtml | '' {
  return resources.length === 0
    ? ''
    : html`<p>Access is for:</p>
<ul class="oat-resources">
${resources.map((resource) => html`<li>${resource}</li>\n`)}
</ul>
`
}
