// `fastify-oauth-toolkit/templates`: what replacing the toolkit's pages takes (the plugin's
// `templates` option) and what reusing their look on the host's own pages takes: the `html`
// tagged template, which escapes every interpolated value, the page layout and the default templates.

export { html, raw, escapeHtml, SafeHtml, type HtmlValue } from '../lib/html.js'
export { layout as pageLayout, type PageContext } from '../views/templates/layout.js'
export {
  DEFAULT_TEMPLATES,
  type Templates,
  type ConsentPageData,
  type ErrorPageData,
  type DeviceCodePageData,
  type DeviceConfirmPageData,
  type DeviceDonePageData,
} from '../views/templates/index.js'
