import type { FastifyReply, FastifyRequest } from 'fastify'
import type { AuthorizationRequest } from '../lib/endpoints/authorize-request.js'
import type { AuthorizationResponse } from '../lib/endpoints/authorize-response.js'
import type { OAuthError } from '../lib/errors.js'
import { CSRF_FIELD, type CsrfProtection } from './csrf.js'
import { issuerOf } from './issuer.js'
import { toOAuthRequest } from './oauth-request.js'
import { paramValues } from '../lib/request.js'
import { redirectTarget, safeRedirectTarget } from '../lib/redirect-target.js'
import { sendHtml } from './html-response.js'
import { sendAuthorizationResponse } from './authorization-response.js'

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
    if (!check.ok) return this.#fail(reply, check.error, check.redirect)

    const user = await oauth.resolveUser(request)
    // Login, consent, prompt and max_age rules live in lib/endpoints/authorize-prompt.ts.
    const decision = await oauth.decideAuthorization(check.request, user)
    switch (decision.kind) {
      case 'login': return this.#toLogin(request, reply, check.request, decision.loginAfter)
      case 'error': return this.#fail(reply, decision.error, decision.response)
      case 'approve':
        if (!await oauth.consumePushedRequest(check.request)) return this.#usedRequestUri(reply)
        return this.#respond(reply, await oauth.approveAuthorization(check.request, decision.user, decision.via))
      case 'consent': return this.#consent(request, reply, check.request, decision.user.id)
    }
  }

  async post (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const req = toOAuthRequest(request)
    const { oauth } = request.server
    const fields = req.body ?? {}
    const user = await oauth.resolveUser(request)
    if (user === null) return this.#page(reply, 403, 'access_denied', 'You are not logged in. Go back to the application and start again.')
    // RFC 6749 §10.12: the decision must come from the page we showed this browser, for this
    // user and client. Checked first, so a forged POST learns nothing, not even a validation error.
    // A repeated token is no token: one value must stand for the form (RFC 6749 §3.1 spirit).
    const token = req.duplicated.has(CSRF_FIELD) ? undefined : fields[CSRF_FIELD]
    if (!this.#csrf.verify(request, token, binding(user.id, fields.client_id ?? ''))) {
      return this.#page(reply, 403, 'access_denied', 'The form has expired or did not come from this site. Go back to the application and start again.')
    }
    const check = await oauth.validateAuthorizationRequest(fields, req.duplicated, { issuer: issuerOf(request, this.#prefix), resources: paramValues(req, 'body', 'resource') })
    if (!check.ok) return this.#fail(reply, check.error, check.redirect)
    // RFC 9126 §4: a pushed request is single-use; the decision uses it up.
    if (!await oauth.consumePushedRequest(check.request)) return this.#usedRequestUri(reply)
    // 302 after a POST, never 307, so the browser does not re-post the form (RFC 9700 §4.12).
    if (fields.allow === undefined) return this.#respond(reply, oauth.denyAuthorization(check.request, user))
    return this.#respond(reply, await oauth.approveAuthorization(check.request, user))
  }

  #consent (request: FastifyRequest, reply: FastifyReply, authz: AuthorizationRequest, userId: string): FastifyReply {
    const { oauth } = request.server
    const csrfToken = this.#csrf.issue(request, reply, binding(userId, authz.application.clientId))
    const page = oauth.templates.consent({
      applicationName: authz.application.name === '' ? authz.application.clientId : authz.application.name,
      scopes: authz.scopes.map((name) => ({ name, description: oauth.settings.scopes[name] ?? name })),
      fields: authz.params,
      resources: authz.resources,
      // RFC 9700 §4.11.2: a client an end user created is only as trustworthy as its
      // registrant, so the user sees where the decision will send the browser.
      ...(authz.selfRegistered ? { redirectTarget: redirectTarget(authz.redirectUri) } : {}),
      csrfToken,
      // The route's own path, not the request's: with the router's ignoreDuplicateSlashes,
      // `//o/authorize/` would make the form post (CSRF token included) to the host "o".
      action: request.routeOptions.url ?? '',
    }, { stylesheet: this.#stylesheet })
    return sendHtml(reply, 200, page)
  }

  #usedRequestUri (reply: FastifyReply): FastifyReply {
    return this.#page(reply, 400, 'invalid_request', 'The request_uri is invalid, expired, used or was issued to another client.')
  }

  #respond (reply: FastifyReply, response: AuthorizationResponse): FastifyReply {
    return sendAuthorizationResponse(reply, response, this.#stylesheet)
  }

  #fail (reply: FastifyReply, error: OAuthError, response: AuthorizationResponse | null): FastifyReply {
    if (response !== null) return this.#respond(reply, response)
    return this.#page(reply, 400, error.error, error.description ?? 'Invalid request.')
  }

  #page (reply: FastifyReply, status: number, error: string, description: string): FastifyReply {
    const oauth = reply.server.oauth
    return sendHtml(reply, status, oauth.templates.error({ status, error, description }, { stylesheet: this.#stylesheet }))
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

/** What a consent form's CSRF token is bound to: the user and the client. */
function binding (userId: string, clientId: string): string {
  return `${userId}\0${clientId}`
}
