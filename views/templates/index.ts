import type { SafeHtml } from '../../lib/html.js'
import { consentPage, type ConsentPageData } from './consent.js'
import { deviceCodePage, deviceConfirmPage, deviceDonePage, type DeviceCodePageData, type DeviceConfirmPageData, type DeviceDonePageData } from './device.js'
import { errorPage, type ErrorPageData } from './error.js'
import type { PageContext } from './layout.js'
import {
  applicationDetailPage, applicationFormPage, applicationListPage, confirmPage,
  type ApplicationDetailData, type ApplicationFormData, type ApplicationListData, type ConfirmData,
} from './applications.js'
import { authorizedTokenListPage, type AuthorizedTokenListData } from './authorized-tokens.js'

export type { ConsentPageData } from './consent.js'
export type { DeviceCodePageData, DeviceConfirmPageData, DeviceDonePageData } from './device.js'
export type { ErrorPageData } from './error.js'
export type { PageContext } from './layout.js'
export type { ApplicationDetailData, ApplicationFormData, ApplicationListData, ApplicationSummary, ConfirmData, ExtraFormField } from './applications.js'
export type { AuthorizedTokenListData, AuthorizedTokenSummary } from './authorized-tokens.js'

/** The toolkit's HTML pages; host apps replace any of them through the plugin's `templates` option. */
export interface Templates {
  /** The consent page of `authorize/`. */
  consent (data: ConsentPageData, page: PageContext): SafeHtml | string
  /** The error page shown instead of an untrustworthy redirect. */
  error (data: ErrorPageData, page: PageContext): SafeHtml | string
  /** `applications/`. */
  applicationList (data: ApplicationListData, page: PageContext): SafeHtml | string
  /** `applications/register/` and `applications/:id/update/`. */
  applicationForm (data: ApplicationFormData, page: PageContext): SafeHtml | string
  /** `applications/:id/` (with the secret right after it was generated). */
  applicationDetail (data: ApplicationDetailData, page: PageContext): SafeHtml | string
  /** Confirmation before deleting an application or revoking a token. */
  confirm (data: ConfirmData, page: PageContext): SafeHtml | string
  /** `authorized-tokens/`. */
  authorizedTokenList (data: AuthorizedTokenListData, page: PageContext): SafeHtml | string
  /** `device/`: enter the user code (RFC 8628 §3.3). */
  deviceCode (data: DeviceCodePageData, page: PageContext): SafeHtml | string
  /** `device-confirm/:id/`: approve or deny the device. */
  deviceConfirm (data: DeviceConfirmPageData, page: PageContext): SafeHtml | string
  /** After the decision on the device confirm page. */
  deviceDone (data: DeviceDonePageData, page: PageContext): SafeHtml | string
}

/** The built-in templates. */
export const DEFAULT_TEMPLATES: Templates = Object.freeze({
  consent: consentPage,
  error: errorPage,
  applicationList: applicationListPage,
  applicationForm: applicationFormPage,
  applicationDetail: applicationDetailPage,
  confirm: confirmPage,
  authorizedTokenList: authorizedTokenListPage,
  deviceCode: deviceCodePage,
  deviceConfirm: deviceConfirmPage,
  deviceDone: deviceDonePage,
})
