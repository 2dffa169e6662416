import type { FastifyReply, FastifyRequest } from 'fastify'
import type { AuthorizationRequest } from '../lib/endpoints/authorize-request.js'
import type { AuthorizationResponse } from '../lib/endpoints/authorize-response.js'
import type { OAuthError } from '../lib/errors.js'
import { CSRF_FIELD, type CsrfProtection } from './csrf.js'
import { issuerOf } from './issuer.js'
import { toOAuthRequest } from './oauth-request.js'
import { paramValues } from '../lib/request.js'
import { redirectTarget, safeRedirectTarget } from '../lib/redirect-target.js'
import { cimdPublisher } from '../lib/registration/cimd.js'
import { sendHtml } from './html-response.js'
import { sendAuthorizationResponse } from './authorization-response.js'
import { errorPageContext, pageContext } from './i18n.js'
import { messagesOf } from './templates/layout.js'
import type { PlainMessageKey } from '../lib/i18n/messages.js'

/**
 * `GET/POST {prefix}/authorize/` (DOT's `AuthorizationView`): validates the request, sends
 * anonymous users to the login URL, shows the consent page, and redirects to the client with a
 * code (or `access_denied`) once the user decides, in the request's response mode (query,
 * fragment or form_post). Untrustworthy requests, and every error of a self-registered client
 * before the user approved, get an HTML error page and are never redirected (RFC 6749
 * §4.1.2.1, RFC 9700 §4.11.2).
 */
export class AuthorizationView {
  readonly #csrf: CsrfProtection
  readonly #stylesheet: string
  /** The routes prefix, for the issuer sent as `iss` (RFC 9207). */
  readonly #prefix: string

  /**
   * @param csrf the routes plugin's CSRF protection.
   * @param stylesheet URL of the toolkit's stylesheet.
   * @param prefix the routes prefix, for the issuer (RFC 9207 `iss`).
   */
  constructor (csrf: CsrfProtection, stylesheet: string, prefix = '') {
    this.#csrf = csrf
    this.#stylesheet = stylesheet
    this.#prefix = prefix
  }

  async get (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const req = toOAuthRequest(request)
    const { oauth } = request.server
    const check = await oauth.validateAuthorizationRequest(req.query, req.duplicated, { issuer: issuerOf(request, this.#prefix), resources: paramValues(req, 'query', 'resource') })
    if (!check.ok) return await this.#fail(request, reply, check.error, check.redirect)

    const user = await oauth.resolveUser(request)
    // Login, consent, prompt and max_age rules live in lib/endpoints/authorize-prompt.ts.
    const decision = await oauth.decideAuthorization(check.request, user)
    switch (decision.kind) {
      case 'login': return this.#toLogin(request, reply, check.request, decision.loginAfter)
      case 'error': return await this.#fail(request, reply, decision.error, decision.response)
      case 'approve':
        if (!await oauth.consumePushedRequest(check.request)) return await this.#usedRequestUri(request, reply)
        return await this.#respond(request, reply, await oauth.approveAuthorization(check.request, decision.user, decision.via))
      case 'consent': return await this.#consent(request, reply, check.request, decision.user.id)
    }
  }

  async post (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const req = toOAuthRequest(request)
    const { oauth } = request.server
    const fields = req.body ?? {}
    const user = await oauth.resolveUser(request)
    if (user === null) return await this.#page(request, reply, 403, 'access_denied', 'consent.notLoggedIn')
    // RFC 6749 §10.12: the decision must come from the page we showed this browser, for this
    // user and client. Checked first, so a forged POST learns nothing, not even a validation error.
    // A repeated token is no token: one value must stand for the form (RFC 6749 §3.1 spirit).
    const token = req.duplicated.has(CSRF_FIELD) ? undefined : fields[CSRF_FIELD]
    if (!this.#csrf.verify(request, token, binding(user.id, fields.client_id ?? ''))) {
      return await this.#page(request, reply, 403, 'access_denied', 'consent.csrf')
    }
    const check = await oauth.validateAuthorizationRequest(fields, req.duplicated, { issuer: issuerOf(request, this.#prefix), resources: paramValues(req, 'body', 'resource') })
    if (!check.ok) return await this.#fail(request, reply, check.error, check.redirect)
    // RFC 9126 §4: a pushed request is single-use; the decision uses it up.
    if (!await oauth.consumePushedRequest(check.request)) return await this.#usedRequestUri(request, reply)
    // 302 after a POST, never 307, so the browser does not re-post the form (RFC 9700 §4.12).
    if (fields.allow === undefined) return await this.#respond(request, reply, oauth.denyAuthorization(check.request, user))
    return await this.#respond(request, reply, await oauth.approveAuthorization(check.request, user))
  }

  async #consent (request: FastifyRequest, reply: FastifyReply, authz: AuthorizationRequest, userId: string): Promise<FastifyReply> {
    const { oauth } = request.server
    const context = await pageContext(request, reply, this.#stylesheet)
    const csrfToken = this.#csrf.issue(request, reply, binding(userId, authz.application.clientId))
    const page = oauth.templates.consent({
      applicationName: authz.application.name === '' ? authz.application.clientId : authz.application.name,
      scopes: authz.scopes.map((name) => ({ name, description: oauth.settings.scopes[name] ?? name })),
      fields: authz.params,
      resources: authz.resources,
      // RFC 9700 §4.11.2: a client an end user created is only as trustworthy as its
      // registrant, so the user sees where the decision will send the browser.
      ...(authz.selfRegistered ? { redirectTarget: redirectTarget(authz.redirectUri) } : {}),
      // A client ID metadata document client: the host that published what the page shows.
      ...(authz.application.cimdExpiresAt !== null ? { publisher: cimdPublisher(authz.application.clientId) } : {}),
      csrfToken,
      // The route's own path, not the request's: with the router's ignoreDuplicateSlashes,
      // `//o/authorize/` would make the form post (CSRF token included) to the host "o".
      action: request.routeOptions.url ?? '',
    }, context)
    return sendHtml(reply, 200, page)
  }

  async #usedRequestUri (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    return await this.#page(request, reply, 400, 'invalid_request', 'consent.usedRequestUri')
  }

  async #respond (request: FastifyRequest, reply: FastifyReply, response: AuthorizationResponse): Promise<FastifyReply> {
    // Only the form_post page has text; a redirect needs no language.
    if (response.mode !== 'form_post') return sendAuthorizationResponse(reply, response, { stylesheet: this.#stylesheet })
    return sendAuthorizationResponse(reply, response, await pageContext(request, reply, this.#stylesheet))
  }

  /** A protocol error: to the client when redirectable, else the error page with the protocol's (English) description. */
  async #fail (request: FastifyRequest, reply: FastifyReply, error: OAuthError, response: AuthorizationResponse | null): Promise<FastifyReply> {
    if (response !== null) return await this.#respond(request, reply, response)
    const page = await errorPageContext(request, reply, this.#stylesheet)
    const description = error.description ?? messagesOf(page).text('common.invalidRequest')
    return sendHtml(reply, 400, reply.server.oauth.templates.error({ status: 400, error: error.error, description }, page))
  }

  /** The error page with one of the page's own messages. */
  async #page (request: FastifyRequest, reply: FastifyReply, status: number, error: string,
    description: PlainMessageKey): Promise<FastifyReply> {
    const page = await errorPageContext(request, reply, this.#stylesheet)
    const text = messagesOf(page).text(description)
    return sendHtml(reply, status, reply.server.oauth.templates.error({ status, error, description: text }, page))
  }

  /**
   * Anonymous users log in first and come back to this exact request (DOT: `LOGIN_URL?next=`).
   * After `prompt=login`, `next` drops `login` from `prompt` (DOT 2.1) and carries
   * `login_after`, so the return trip checks the login was fresh instead of looping. A pushed
   * request comes back by its reference (`client_id` and `request_uri`): for a request object
   * sent by value, the original query would present the object, and its `jti`, a second time.
   */
  #toLogin (request: FastifyRequest, reply: FastifyReply, authz: AuthorizationRequest, loginAfter: Date | null): FastifyReply {
    const { loginUrl } = request.server.oauth
    const separator = loginUrl.includes('?') ? '&' : '?'
    // The route's path plus the original query: never `//host/…`, whatever the router tolerates.
    const index = request.url.indexOf('?')
    let query = authz.pushedRequestId !== undefined
      ? `?${new URLSearchParams(authz.params).toString()}`
      : index === -1 ? '' : request.url.slice(index)
    if (loginAfter !== null) {
      const params = new URLSearchParams(query)
      const prompt = (params.get('prompt') ?? '').split(' ').filter((v) => v !== '' && v !== 'login')
      if (prompt.length === 0) params.delete('prompt')
      else params.set('prompt', prompt.join(' '))
      params.set('login_after', String(Math.floor(loginAfter.getTime() / 1000)))
      query = `?${params.toString()}`
    }
    // Only a `next` the login page will accept (a raw-client query with odd bytes or a huge one
    // is not): else the bare route, which at least brings the user back here.
    const route = request.routeOptions.url ?? '/'
    const next = safeRedirectTarget(`${route}${query}`) ?? route
    return reply.redirect(`${loginUrl}${separator}next=${encodeURIComponent(next)}`, 302)
  }
}

/**
 * What a consent form's CSRF token is bound to: the user and the client, after the form's purpose.
 * Host code chooses client ids, so without the purpose a client named `manage`, `admin` or
 * `device` would make its consent token the token of that user's management, staff or device
 * forms (bound to `<user>\0manage` and the like).
 */
function binding (userId: string, clientId: string): string {
  return `consent\0${userId}\0${clientId}`
}
