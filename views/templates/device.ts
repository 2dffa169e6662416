import { html, type SafeHtml } from '../../lib/html.js'
import { audienceList, publisherNotice } from './consent.js'
import { layout, type PageContext } from './layout.js'

/** Data of the user-code page (`device/`, DOT's `device/user_code.html`). */
export interface DeviceCodePageData {
  /** Where the form posts. */
  readonly action: string
  /** The CSRF token the POST must carry in `csrf_token`. */
  readonly csrfToken: string
  /** Prefilled value (from `verification_uri_complete`'s `user_code`), or `''`. */
  readonly userCode: string
  /** Why the last entry failed, or `null`. */
  readonly error: string | null
}

/** Data of the confirm page (DOT's `device/accept_deny.html`): who asks for what. */
export interface DeviceConfirmPageData {
  readonly applicationName: string
  /** Each requested scope with its description from `settings.scopes`. */
  readonly scopes: ReadonlyArray<{ readonly name: string, readonly description: string }>
  /**
   * RFC 8707 resources the access would be for (empty: not restricted). Optional so templates
   * written before it keep compiling; a replacement template should show them.
   */
  readonly resources?: readonly string[]
  /** For a client ID metadata document client: the host that published its details (see `ConsentPageData.publisher`). */
  readonly publisher?: string
  readonly action: string
  readonly csrfToken: string
}

/** Data of the page after the decision (DOT's device grant status page). */
export interface DeviceDonePageData {
  readonly applicationName: string
  readonly approved: boolean
}

/** Enter the code shown on the device: case and dashes do not matter. */
export function deviceCodePage (data: DeviceCodePageData, page: PageContext): SafeHtml {
  return layout(page, 'Connect a device', html`
<h1>Connect a device</h1>
<p>Enter the code shown on your device.</p>
<form method="post" action="${data.action}">
<input type="hidden" name="csrf_token" value="${data.csrfToken}">
<div class="oat-field${data.error === null ? '' : ' oat-invalid'}">
<label for="user_code">Code</label>
<input type="text" id="user_code" name="user_code" value="${data.userCode}" autocomplete="off" autocapitalize="characters" spellcheck="false" required>
${data.error === null ? '' : html`<p class="oat-error">${data.error}</p>`}
</div>
<div class="oat-actions">
<button type="submit" class="oat-primary">Continue</button>
</div>
</form>
`)
}

/** Approve or deny the device's request: application name and scopes. */
export function deviceConfirmPage (data: DeviceConfirmPageData, page: PageContext): SafeHtml {
  return layout(page, `Authorize ${data.applicationName}`, html`
<h1>Authorize <span class="oat-app">${data.applicationName}</span> on your device?</h1>
<p>Only continue if you started this on a device you are holding. The device would be able to:</p>
<ul class="oat-scopes">
${data.scopes.map((scope) => html`<li>${scope.description}</li>\n`)}
</ul>
${publisherNotice(data.publisher)}${audienceList(data.resources ?? [])}<form method="post" action="${data.action}">
<input type="hidden" name="csrf_token" value="${data.csrfToken}">
<div class="oat-actions">
<button type="submit" name="deny" value="1" class="oat-secondary">Deny</button>
<button type="submit" name="allow" value="Authorize" class="oat-primary">Authorize</button>
</div>
</form>
`)
}

/** The outcome: go back to the device. */
export function deviceDonePage (data: DeviceDonePageData, page: PageContext): SafeHtml {
  return layout(page, data.approved ? 'Device connected' : 'Request denied', data.approved
    ? html`<h1>Device connected</h1>\n<p><span class="oat-app">${data.applicationName}</span> is authorized. You can return to your device.</p>\n`
    : html`<h1>Request denied</h1>\n<p><span class="oat-app">${data.applicationName}</span> was not authorized. You can close this page.</p>\n`)
}
