import type { SafeHtml } from '../../lib/html.js'
import { consentPage, type ConsentPageData } from './consent.js'
import { errorPage, type ErrorPageData } from './error.js'
import type { PageContext } from './layout.js'

export type { ConsentPageData } from './consent.js'
export type { ErrorPageData } from './error.js'
export type { PageContext } from './layout.js'

/** The toolkit's HTML pages; host apps replace any of them through the plugin's `templates` option. */
export interface Templates {
  /** The consent page of `authorize/`. */
  consent (data: ConsentPageData, page: PageContext): SafeHtml | string
  /** The error page shown instead of an untrustworthy redirect. */
  error (data: ErrorPageData, page: PageContext): SafeHtml | string
}

/** The built-in templates. */
export const DEFAULT_TEMPLATES: Templates = Object.freeze({ consent: consentPage, error: errorPage })
