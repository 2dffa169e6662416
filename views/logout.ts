import type { FastifyReply, FastifyRequest } from 'fastify'
import { postLogoutLocation, type LogoutRequest } from '../lib/endpoints/logout.js'
import { html } from '../lib/html.js'
import { redirectTarget } from '../lib/redirect-target.js'
import type { Params } from '../lib/request.js'
import { CSRF_FIELD, type CsrfProtection } from './csrf.js'
import { sendHtml } from './html-response.js'
import { issuerOf } from './issuer.js'
import { toOAuthRequest } from './oauth-request.js'
import { errorPageContext, pageContext } from './i18n.js'
import { layout, messagesOf, type PageContext } from './templates/layout.js'

/**
 * `GET/POST {prefix}/logout/` (DOT's `RPInitiatedLogoutView`, OIDC RP-Initiated Logout 1.0):
 * validates the request, asks the user to confirm when needed, revokes the user's browser-flow
 * tokens, ends the user's session at this server (back-channel logout tokens to its relying
 * parties), ends the host's session through `logoutUser`, and sends the browser to the client's
 * registered `post_logout_redirect_uri` with `state`. Invalid requests get an HTML 400 page
 * and never a redirect. Logging out twice is harmless (idempotent).
 */
export class RPInitiatedLogoutView {
  readonly #csrf: CsrfProtection
  readonly #stylesheet: string
  readonly #prefix: string

  constructor (csrf: CsrfProtection, stylesheet: string, prefix: string) {
    this.#csrf = csrf
    this.#stylesheet = stylesheet
    this.#prefix = prefix
  }

  async get (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const req = toOAuthRequest(request)
    return await this.#handle(request, reply, req.query, req.duplicated, false)
  }

  async post (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const req = toOAuthRequest(request)
    const body = req.body ?? {}
    // The confirmation form posts a CSRF token (its parameters ride in the action's query); an
    // RP may also POST the logout request itself (RP-Initiated Logout §2), without one.
    if (body[CSRF_FIELD] === undefined) return await this.#handle(request, reply, { ...req.query, ...body }, req.duplicated, false)
    const user = await request.server.oauth.resolveUser(request)
    const token = req.duplicated.has(CSRF_FIELD) ? undefined : body[CSRF_FIELD]
    if (!this.#csrf.verify(request, token, binding(user?.id ?? null))) {
      const page = await errorPageContext(request, reply, this.#stylesheet)
      return this.#page(reply, 403, 'access_denied', messagesOf(page).text('logout.csrf'), page)
    }
    return await this.#handle(request, reply, req.query, req.duplicated, true)
  }

  async #handle (request: FastifyRequest, reply: FastifyReply, params: Params, duplicated: ReadonlySet<string>, confirmed: boolean): Promise<FastifyReply> {
    const { oauth } = request.server
    const check = await oauth.validateLogoutRequest(params, duplicated, { issuer: issuerOf(request, this.#prefix) })
    if (!check.ok) {
      // The protocol's description stays as the core wrote it (English), like every error description.
      const page = await errorPageContext(request, reply, this.#stylesheet)
      return this.#page(reply, 400, check.error.error, check.error.description ?? messagesOf(page).text('common.invalidRequest'), page)
    }
    const user = await oauth.resolveUser(request)
    if (!confirmed && oauth.mustConfirmLogout(check.request, user?.id ?? null)) return await this.#confirm(request, reply, check.request, user?.id ?? null)
    if (user !== null) {
      await oauth.revokeBrowserTokens(user.id)
      // The session this server tracked for the user ends, and its other relying parties are told
      // (Back-Channel Logout 1.0); before the host's own session is destroyed, which `user` names.
      await oauth.endUserSession(user, { reason: 'rp-initiated' })
      await oauth.logoutUser?.(request, reply)
    }
    const location = postLogoutLocation(check.request)
    // RFC 9700 §4.12: 302, never 307, so the confirmation form is not re-posted.
    if (location !== null) return reply.redirect(location, 302)
    const page = await pageContext(request, reply, this.#stylesheet)
    const m = messagesOf(page)
    return sendHtml(reply, 200, layout(page, m.text('logout.doneTitle'), html`
<h1>${m.html('logout.doneHeading')}</h1>
<p>${m.html('logout.doneBody')}</p>
`))
  }

  async #confirm (request: FastifyRequest, reply: FastifyReply, logout: LogoutRequest, userId: string | null): Promise<FastifyReply> {
    const { oauth } = request.server
    const context = await pageContext(request, reply, this.#stylesheet)
    const m = messagesOf(context)
    const query = new URLSearchParams(logout.params).toString()
    const name = logout.application === null ? '' : logout.application.name === '' ? logout.application.clientId : logout.application.name
    const question = name === '' ? m.text('logout.question') : m.text('logout.questionFrom', { app: name })
    // RFC 9700 §4.11.2, as on the consent page: a client an end user created chose its own
    // post-logout URI, so the user sees where confirming sends the browser.
    const unvetted = logout.application?.selfRegistered === true ? logout.postLogoutRedirectUri : null
    const page = oauth.templates.confirm({
      title: m.text('logout.confirmTitle'),
      message: unvetted === null
        ? question
        : `${question} ${m.text('logout.unvetted', { target: redirectTarget(unvetted) })}`,
      // The route's own path, never the request's (see AuthorizationView#consent).
      action: `${request.routeOptions.url ?? ''}${query === '' ? '' : `?${query}`}`,
      csrfToken: this.#csrf.issue(request, reply, binding(userId)),
      confirmLabel: m.text('logout.confirm'),
      cancel: '/',
    }, context)
    return sendHtml(reply, 200, page)
  }

  #page (reply: FastifyReply, status: number, error: string, description: string, page: PageContext): FastifyReply {
    return sendHtml(reply, status, reply.server.oauth.templates.error({ status, error, description }, page))
  }
}

/** What a logout form's CSRF token is bound to: the logged-in user (or nobody). */
function binding (userId: string | null): string {
  return `logout\0${userId ?? ''}`
}
