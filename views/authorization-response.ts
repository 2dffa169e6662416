import { createHash } from 'node:crypto'
import type { FastifyReply } from 'fastify'
import { responseLocation, type AuthorizationResponse } from '../lib/endpoints/authorize-response.js'
import { HTML_SECURITY_HEADERS } from './html-response.js'
import { FORM_POST_SCRIPT, formPostPage } from './templates/form-post.js'
import type { PageContext } from './templates/layout.js'

/** The CSP source of the form_post page's one script, by hash (CSP Level 2 hash sources). */
const SCRIPT_SOURCE = `'sha256-${createHash('sha256').update(FORM_POST_SCRIPT).digest('base64')}'`

/**
 * The form_post page's headers: those of every page, with the auto-submit script allowed by its
 * hash. `form-action` stays open on purpose: the form's target is the client's redirect URI,
 * on another origin, and some browsers apply `form-action` to the client's own redirects after it.
 */
export const FORM_POST_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  ...HTML_SECURITY_HEADERS,
  'content-security-policy': `${HTML_SECURITY_HEADERS['content-security-policy'] ?? ''}; script-src ${SCRIPT_SOURCE}`,
  pragma: 'no-cache',
})

/**
 * Delivers an authorization response: a 302 to the redirect URI with the parameters in the
 * query or fragment, or for `form_post` a 200 page that POSTs them there (never a 307: the
 * browser must not re-send what it posted to us, RFC 9700 §4.12).
 */
export function sendAuthorizationResponse (reply: FastifyReply, response: AuthorizationResponse, page: PageContext): FastifyReply {
  if (response.mode !== 'form_post') return reply.redirect(responseLocation(response), 302)
  return reply.code(200).headers(FORM_POST_HEADERS).send(String(formPostPage({ action: response.redirectUri, fields: response.params }, page)))
}
