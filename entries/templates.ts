// `fastify-oauth-toolkit/templates`: what replacing the toolkit's pages takes (the plugin's
// `templates` option) and what reusing their look on the host's own pages takes: the `html`
// tagged template, which escapes every interpolated value, the page layout and the default templates.

export { html, raw, escapeHtml, SafeHtml, type HtmlValue } from '../lib/html.js'
export { layout as pageLayout, type PageContext } from '../views/templates/layout.js'
// The pages' languages (docs/i18n.md): the types a host's catalog is written against, and the shipped catalogs.
export { SHIPPED_CATALOGS } from '../lib/i18n/languages.js'
export type { Catalog, CatalogOverrides, Message, MessageKey, MessageParams, MessagePlaceholder, MessageValue, PluralMessage, PlainMessageKey, Translator } from '../lib/i18n/messages.js'
export {
  DEFAULT_TEMPLATES,
  type Templates,
  type ConsentPageData,
  type ErrorPageData,
  type DeviceCodePageData,
  type DeviceConfirmPageData,
  type DeviceDonePageData,
} from '../views/templates/index.js'
