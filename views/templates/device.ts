import { html, type SafeHtml } from '../../lib/html.js'
import { audienceList, publisherNotice } from './consent.js'
import { layout, messagesOf, type PageContext } from './layout.js'

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
  const m = messagesOf(page)
  return layout(page, m.text('device.code.title'), html`
<h1>${m.html('device.code.title')}</h1>
<p>${m.html('device.code.intro')}</p>
<form method="post" action="${data.action}">
<input type="hidden" name="csrf_token" value="${data.csrfToken}">
<div class="oat-field${data.error === null ? '' : ' oat-invalid'}">
<label for="user_code">${m.html('device.code.label')}</label>
<input type="text" id="user_code" name="user_code" value="${data.userCode}" autocomplete="off" autocapitalize="characters" spellcheck="false" required>
${data.error === null ? '' : html`<p class="oat-error">${data.error}</p>`}
</div>
<div class="oat-actions">
<button type="submit" class="oat-primary">${m.html('common.continue')}</button>
</div>
</form>
`)
}

/** Approve or deny the device's request: application name and scopes. */
export function deviceConfirmPage (data: DeviceConfirmPageData, page: PageContext): SafeHtml {
  const m = messagesOf(page)
  return layout(page, m.text('device.confirm.title', { app: data.applicationName }), html`
<h1>${m.html('device.confirm.heading', { app: html`<span class="oat-app">${data.applicationName}</span>` })}</h1>
<p>${m.html('device.confirm.intro')}</p>
<ul class="oat-scopes">
${data.scopes.map((scope) => html`<li>${scope.description}</li>\n`)}
</ul>
${publisherNotice(data.publisher, page)}${audienceList(data.resources ?? [], page)}<form method="post" action="${data.action}">
<input type="hidden" name="csrf_token" value="${data.csrfToken}">
<div class="oat-actions">
<button type="submit" name="deny" value="1" class="oat-secondary">${m.html('device.confirm.deny')}</button>
<button type="submit" name="allow" value="Authorize" class="oat-primary">${m.html('device.confirm.allow')}</button>
</div>
</form>
`)
}

/** The outcome: go back to the device. */
export function deviceDonePage (data: DeviceDonePageData, page: PageContext): SafeHtml {
  const m = messagesOf(page)
  const app = html`<span class="oat-app">${data.applicationName}</span>`
  return layout(page, m.text(data.approved ? 'device.done.approvedTitle' : 'device.done.deniedTitle'), data.approved
    ? html`<h1>${m.html('device.done.approvedTitle')}</h1>\n<p>${m.html('device.done.approved', { app })}</p>\n`
    : html`<h1>${m.html('device.done.deniedTitle')}</h1>\n<p>${m.html('device.done.denied', { app })}</p>\n`)
}
