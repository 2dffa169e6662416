import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { ApplicationValidationError, type ApplicationInput } from '../lib/applications.js'
import type { AuthorizingUser } from '../lib/endpoints/authorize-request.js'
import { safeRedirectTarget } from '../lib/redirect-target.js'
import { flattenParams } from '../lib/request.js'
import { listening, notifyAccessTokenRevoked } from '../lib/events.js'
import { APPLICATION_GRANT_TYPES, type AccessTokenRecord, type Application, type TokenEndpointAuthMethod } from '../lib/store/types.js'
import { scopeList } from '../lib/validator/scopes.js'
import { CSRF_FIELD, type CsrfProtection } from './csrf.js'
import { sendHtml } from './html-response.js'
import { routeId } from './route-id.js'
import type { PlainMessageKey } from '../lib/i18n/messages.js'
import { errorPageContext, pageContext } from './i18n.js'
import type { ApplicationSummary, PageContext } from './templates/index.js'
import { messagesOf } from './templates/layout.js'

/** What the management pages need from the routes plugin. */
export interface ManagementOptions {
  readonly csrf: CsrfProtection
  readonly page: PageContext
  /** The routes prefix, e.g. `/o`. */
  readonly prefix: string
}

// Deliberately not `allowIntrospection`: any logged-in user may use these pages, and the right to
// introspect every client's tokens is for administrators to grant (CLI, host code). An update
// leaves it as it is; the detail page only shows it.
const FORM_KEYS = ['name', 'clientType', 'authorizationGrantType', 'redirectUris', 'postLogoutRedirectUris', 'allowedOrigins', 'algorithm',
  'userinfoSignedResponseAlg', 'tokenEndpointAuthMethod', 'jwks', 'jwksUri', 'tokenEndpointAuthSigningAlg', 'requestObjectSigningAlg', 'requireSignedRequestObject',
  'backchannelLogoutUri', 'backchannelLogoutSessionRequired'] as const

/** Form fields an update leaves alone when they are not posted. */
const OPTIONAL_KEYS = ['userinfoSignedResponseAlg', 'tokenEndpointAuthMethod', 'jwks', 'jwksUri', 'tokenEndpointAuthSigningAlg', 'requestObjectSigningAlg', 'requireSignedRequestObject',
  'backchannelLogoutUri', 'backchannelLogoutSessionRequired'] as const

/** An application as the templates show it (shared with the staff pages). */
export function summary (app: Application): ApplicationSummary {
  return {
    id: app.id,
    name: app.name,
    clientId: app.clientId,
    clientType: app.clientType,
    authorizationGrantType: app.authorizationGrantType,
    redirectUris: app.redirectUris,
    postLogoutRedirectUris: app.postLogoutRedirectUris,
    allowedOrigins: app.allowedOrigins,
    algorithm: app.algorithm,
    userinfoSignedResponseAlg: app.userinfoSignedResponseAlg,
    tokenEndpointAuthMethod: app.tokenEndpointAuthMethod,
    jwks: app.jwks,
    jwksUri: app.jwksUri,
    tokenEndpointAuthSigningAlg: app.tokenEndpointAuthSigningAlg,
    skipAuthorization: app.skipAuthorization,
    allowIntrospection: app.allowIntrospection,
    selfRegistered: app.selfRegistered,
    dpopBoundAccessTokens: app.dpopBoundAccessTokens,
    requestObjectSigningAlg: app.requestObjectSigningAlg,
    requireSignedRequestObject: app.requireSignedRequestObject,
    backchannelLogoutUri: app.backchannelLogoutUri,
    backchannelLogoutSessionRequired: app.backchannelLogoutSessionRequired,
    createdAt: app.createdAt,
  }
}

/** The form's values of an existing application. */
export function formValues (app: Application): Record<string, string> {
  return {
    name: app.name,
    clientType: app.clientType,
    authorizationGrantType: app.authorizationGrantType,
    redirectUris: app.redirectUris.join('\n'),
    postLogoutRedirectUris: app.postLogoutRedirectUris.join('\n'),
    allowedOrigins: app.allowedOrigins.join('\n'),
    algorithm: app.algorithm,
    userinfoSignedResponseAlg: app.userinfoSignedResponseAlg,
    tokenEndpointAuthMethod: app.tokenEndpointAuthMethod,
    jwks: app.jwks,
    jwksUri: app.jwksUri,
    tokenEndpointAuthSigningAlg: app.tokenEndpointAuthSigningAlg,
    requestObjectSigningAlg: app.requestObjectSigningAlg,
    requireSignedRequestObject: app.requireSignedRequestObject ? 'yes' : 'no',
    backchannelLogoutUri: app.backchannelLogoutUri,
    backchannelLogoutSessionRequired: app.backchannelLogoutSessionRequired ? 'yes' : 'no',
  }
}

/** Reads the posted form fields (single values only; anything else counts as empty). */
export function postedValues (request: FastifyRequest): Record<string, string> {
  const { params } = flattenParams(request.body)
  const values: Record<string, string> = {}
  for (const key of [...FORM_KEYS, CSRF_FIELD]) values[key] = params[key] ?? ''
  // The client-authentication fields change only when posted: a form without them (an older
  // page, a script) keeps the application's method and keys, as edits did before they existed.
  for (const key of OPTIONAL_KEYS) if (params[key] === undefined) Reflect.deleteProperty(values, key)
  return values
}

/** The posted form as the validation of lib/applications.ts takes it. */
export function toInput (values: Record<string, string>): ApplicationInput {
  return {
    name: values.name ?? '',
    clientType: values.clientType ?? '',
    authorizationGrantType: values.authorizationGrantType ?? '',
    redirectUris: values.redirectUris ?? '',
    postLogoutRedirectUris: values.postLogoutRedirectUris ?? '',
    allowedOrigins: values.allowedOrigins ?? '',
    algorithm: values.algorithm ?? '',
    ...(values.userinfoSignedResponseAlg === undefined ? {} : { userinfoSignedResponseAlg: values.userinfoSignedResponseAlg }),
    // Validated with the rest: an unknown method is a field error shown beside the field.
    ...(values.tokenEndpointAuthMethod === undefined ? {} : { tokenEndpointAuthMethod: values.tokenEndpointAuthMethod as TokenEndpointAuthMethod | '' }),
    ...(values.jwks === undefined ? {} : { jwks: values.jwks.trim() }),
    ...(values.jwksUri === undefined ? {} : { jwksUri: values.jwksUri.trim() }),
    ...(values.tokenEndpointAuthSigningAlg === undefined ? {} : { tokenEndpointAuthSigningAlg: values.tokenEndpointAuthSigningAlg }),
    ...(values.requestObjectSigningAlg === undefined ? {} : { requestObjectSigningAlg: values.requestObjectSigningAlg }),
    ...(values.requireSignedRequestObject === undefined ? {} : { requireSignedRequestObject: values.requireSignedRequestObject === 'yes' }),
    ...(values.backchannelLogoutUri === undefined ? {} : { backchannelLogoutUri: values.backchannelLogoutUri.trim() }),
    ...(values.backchannelLogoutSessionRequired === undefined ? {} : { backchannelLogoutSessionRequired: values.backchannelLogoutSessionRequired === 'yes' }),
  }
}

/**
 * DOT's application and authorized-token management pages: login required, each user sees and
 * changes only their own objects (anyone else's id is a 404), every POST carries a CSRF token.
 */
export function registerManagementPages (app: FastifyInstance, options: ManagementOptions): void {
  const { csrf, page } = options
  const apps = `${options.prefix}/applications/`
  const tokens = `${options.prefix}/authorized-tokens/`
  const binding = (user: AuthorizingUser): string => `${user.id}\0manage`

  /** The logged-in user, or the reply already sent (login redirect for GET, 403 for POST). */
  async function requireUser (request: FastifyRequest, reply: FastifyReply): Promise<AuthorizingUser | null> {
    const user = await request.server.oauth.resolveUser(request)
    if (user !== null) return user
    if (request.method === 'GET') {
      const { loginUrl } = request.server.oauth
      // Only a `next` a login page following safeRedirectTarget will accept; else the list.
      const next = safeRedirectTarget(request.url) ?? apps
      await reply.redirect(`${loginUrl}${loginUrl.includes('?') ? '&' : '?'}next=${encodeURIComponent(next)}`, 302)
    } else {
      await sendError(request, reply, 403, 'access_denied', 'apps.notLoggedIn')
    }
    return null
  }

  /**
   * A POST whose CSRF token does not match gets a 403 page and changes nothing. A repeated token
   * is no token, as on the consent, device, logout and staff pages: one value must stand for the form.
   */
  async function checkCsrf (request: FastifyRequest, reply: FastifyReply, user: AuthorizingUser): Promise<boolean> {
    const { params, duplicated } = flattenParams(request.body)
    const token = duplicated.includes(CSRF_FIELD) ? undefined : params[CSRF_FIELD]
    if (csrf.verify(request, token, binding(user))) return true
    await sendError(request, reply, 403, 'access_denied', 'common.csrfReload')
    return false
  }

  /** The error page, in the request's language: `description` is a message key, or text (the core's validation messages). */
  async function sendError (request: FastifyRequest, reply: FastifyReply, status: number, error: string, description: PlainMessageKey | { text: string }): Promise<FastifyReply> {
    const context = await errorPageContext(request, reply, page.stylesheet)
    const text = typeof description === 'string' ? messagesOf(context).text(description) : description.text
    return sendHtml(reply, status, reply.server.oauth.templates.error({ status, error, description: text }, context))
  }

  /** The page context of a request: its language, negotiated. */
  async function localized (request: FastifyRequest, reply: FastifyReply): Promise<PageContext> {
    return await pageContext(request, reply, page.stylesheet)
  }

  /** The user's own application with the route's `:id`, else a 404 page (never someone else's). */
  async function ownApplication (request: FastifyRequest, reply: FastifyReply, user: AuthorizingUser): Promise<Application | null> {
    const id = routeId(request)
    const found = id === null ? null : await request.server.oauth.store.findApplicationById(id)
    if (found !== null && found.userId === user.id) return found
    await sendError(request, reply, 404, 'not_found', 'apps.notFound')
    return null
  }

  /** The register or edit form; `editing` names the application being edited (the title says so). */
  async function form (request: FastifyRequest, reply: FastifyReply, user: AuthorizingUser, editing: string | null, action: string,
    values: Record<string, string>, errors: Record<string, string>, status: number): Promise<FastifyReply> {
    const context = await localized(request, reply)
    const m = messagesOf(context)
    const title = editing === null ? m.text('apps.form.registerTitle') : m.text('apps.form.editTitle', { name: editing })
    const provider = request.server.oauth.openIdProviderMetadata(options.prefix)
    const html = request.server.oauth.templates.applicationForm({
      title,
      action,
      csrfToken: csrf.issue(request, reply, binding(user)),
      values,
      errors,
      clientTypes: ['confidential', 'public'],
      grantTypes: APPLICATION_GRANT_TYPES,
      // What the server can sign ID tokens with (as discovery says), and the current value even
      // when its key is gone, so an edit does not change it silently.
      algorithms: [...new Set(['', ...provider.id_token_signing_alg_values_supported, values.algorithm ?? ''])],
      // Likewise for signed UserInfo responses ('': plain JSON).
      userinfoAlgorithms: [...new Set(['', ...provider.userinfo_signing_alg_values_supported, values.userinfoSignedResponseAlg ?? ''])],
      cancel: apps,
    }, context)
    return sendHtml(reply, status, html)
  }

  async function detail (request: FastifyRequest, reply: FastifyReply, user: AuthorizingUser, application: Application, clientSecret: string | null): Promise<FastifyReply> {
    const context = await localized(request, reply)
    const html = request.server.oauth.templates.applicationDetail({
      application: summary(application),
      clientSecret,
      csrfToken: csrf.issue(request, reply, binding(user)),
      base: apps,
    }, context)
    return sendHtml(reply, 200, html)
  }

  app.get('/applications/', async (request, reply) => {
    const user = await requireUser(request, reply)
    if (user === null) return reply
    const list = await request.server.oauth.store.listApplications({ userId: user.id })
    return sendHtml(reply, 200, request.server.oauth.templates.applicationList({ applications: list.map(summary), base: apps }, await localized(request, reply)))
  })

  app.get('/applications/register/', async (request, reply) => {
    const user = await requireUser(request, reply)
    if (user === null) return reply
    const values = { clientType: 'confidential', authorizationGrantType: 'authorization-code' }
    return await form(request, reply, user, null, `${apps}register/`, values, {}, 200)
  })

  app.post('/applications/register/', async (request, reply) => {
    const user = await requireUser(request, reply)
    if (user === null) return reply
    const values = postedValues(request)
    if (!await checkCsrf(request, reply, user)) return reply
    try {
      // Any logged-in user may register here, with redirect URIs nobody vetted: the client is
      // self-registered, so its early authorization errors are never redirected (RFC 9700 §4.11.2).
      const created = await request.server.oauth.createApplication({ ...toInput(values), userId: user.id, selfRegistered: true }, { source: 'management' })
      // The secret is shown on this response only (never in a URL); then only its hash exists.
      return await detail(request, reply, user, created.application, created.clientSecret)
    } catch (err) {
      if (!(err instanceof ApplicationValidationError)) throw err
      return await form(request, reply, user, null, `${apps}register/`, values, { ...err.fields }, 400)
    }
  })

  app.get('/applications/:id/', async (request, reply) => {
    const user = await requireUser(request, reply)
    if (user === null) return reply
    const application = await ownApplication(request, reply, user)
    return application === null ? reply : await detail(request, reply, user, application, null)
  })

  app.get('/applications/:id/update/', async (request, reply) => {
    const user = await requireUser(request, reply)
    if (user === null) return reply
    const application = await ownApplication(request, reply, user)
    if (application === null) return reply
    return await form(request, reply, user, application.name, `${apps}${application.id}/update/`, formValues(application), {}, 200)
  })

  app.post('/applications/:id/update/', async (request, reply) => {
    const user = await requireUser(request, reply)
    if (user === null) return reply
    const application = await ownApplication(request, reply, user)
    if (application === null) return reply
    const values = postedValues(request)
    if (!await checkCsrf(request, reply, user)) return reply
    try {
      // An operator's application the user owns (CLI --user) that the user points somewhere new
      // is no longer vetted: selfService marks it (RFC 9700 §4.11.2).
      const updated = await request.server.oauth.updateApplication(application.id, toInput(values), { selfService: true, source: 'management' })
      if (updated === null) return await sendError(request, reply, 404, 'not_found', 'apps.notFound')
      if (updated.clientSecret !== null) return await detail(request, reply, user, updated.application, updated.clientSecret)
      return await reply.redirect(`${apps}${application.id}/`, 302)
    } catch (err) {
      if (!(err instanceof ApplicationValidationError)) throw err
      return await form(request, reply, user, application.name, `${apps}${application.id}/update/`, values, { ...err.fields }, 400)
    }
  })

  app.post('/applications/:id/regenerate-secret/', async (request, reply) => {
    const user = await requireUser(request, reply)
    if (user === null) return reply
    const application = await ownApplication(request, reply, user)
    if (application === null) return reply
    if (!await checkCsrf(request, reply, user)) return reply
    let regenerated
    try {
      regenerated = await request.server.oauth.regenerateClientSecret(application.id, { source: 'management' })
    } catch (err) {
      if (!(err instanceof ApplicationValidationError)) throw err
      // The core's validation messages are English, as on the form (docs/i18n.md).
      return await sendError(request, reply, 400, 'invalid_request', { text: Object.values(err.fields).join(' ') })
    }
    if (regenerated === null) return await sendError(request, reply, 400, 'invalid_request', 'apps.noSecret')
    return await detail(request, reply, user, regenerated.application, regenerated.clientSecret)
  })

  app.get('/applications/:id/delete/', async (request, reply) => {
    const user = await requireUser(request, reply)
    if (user === null) return reply
    const application = await ownApplication(request, reply, user)
    if (application === null) return reply
    const context = await localized(request, reply)
    const m = messagesOf(context)
    return sendHtml(reply, 200, request.server.oauth.templates.confirm({
      title: m.text('apps.delete.title', { name: application.name === '' ? application.clientId : application.name }),
      message: m.text('apps.delete.message'),
      action: `${apps}${application.id}/delete/`,
      csrfToken: csrf.issue(request, reply, binding(user)),
      confirmLabel: m.text('apps.delete.confirm'),
      cancel: `${apps}${application.id}/`,
    }, context))
  })

  app.post('/applications/:id/delete/', async (request, reply) => {
    const user = await requireUser(request, reply)
    if (user === null) return reply
    const application = await ownApplication(request, reply, user)
    if (application === null) return reply
    if (!await checkCsrf(request, reply, user)) return reply
    await request.server.oauth.deleteApplication(application.id, { source: 'management' })
    return await reply.redirect(apps, 302)
  })

  app.get('/authorized-tokens/', async (request, reply) => {
    const user = await requireUser(request, reply)
    if (user === null) return reply
    const { store, settings, clock } = request.server.oauth
    const now = clock.now().getTime()
    const live = (await store.listAccessTokensForUser(user.id)).filter((t) => t.expiresAt.getTime() > now && t.applicationId !== null)
    const names = new Map<number, string>()
    for (const id of new Set(live.map((t) => t.applicationId ?? 0))) {
      const application = await store.findApplicationById(id)
      names.set(id, application === null ? '' : application.name === '' ? application.clientId : application.name)
    }
    const list = live.map((t) => ({
      id: t.id,
      applicationName: names.get(t.applicationId ?? 0) ?? '',
      scopes: scopeList(t.scope).map((name) => ({ name, description: settings.scopes[name] ?? name })),
      expiresAt: t.expiresAt,
    }))
    return sendHtml(reply, 200, request.server.oauth.templates.authorizedTokenList({ tokens: list, base: tokens }, await localized(request, reply)))
  })

  /** The user's own access token with the route's `:id`, else a 404 page. */
  async function ownToken (request: FastifyRequest, reply: FastifyReply, user: AuthorizingUser): Promise<AccessTokenRecord | null> {
    const id = routeId(request)
    const found = id === null ? null : await request.server.oauth.store.findAccessTokenById(id)
    if (found !== null && found.userId === user.id) return found
    await sendError(request, reply, 404, 'not_found', 'tokens.notFound')
    return null
  }

  app.get('/authorized-tokens/:id/delete/', async (request, reply) => {
    const user = await requireUser(request, reply)
    if (user === null) return reply
    const token = await ownToken(request, reply, user)
    if (token === null) return reply
    const application = token.applicationId === null ? null : await request.server.oauth.store.findApplicationById(token.applicationId)
    const context = await localized(request, reply)
    const m = messagesOf(context)
    return sendHtml(reply, 200, request.server.oauth.templates.confirm({
      title: m.text('tokens.revokeTitle', { app: application?.name ?? m.text('tokens.thisApplication') }),
      message: m.text('tokens.revokeMessage'),
      action: `${tokens}${token.id}/delete/`,
      csrfToken: csrf.issue(request, reply, binding(user)),
      confirmLabel: m.text('tokens.revoke'),
      cancel: tokens,
    }, context))
  })

  app.post('/authorized-tokens/:id/delete/', async (request, reply) => {
    const user = await requireUser(request, reply)
    if (user === null) return reply
    const token = await ownToken(request, reply, user)
    if (token === null) return reply
    if (!await checkCsrf(request, reply, user)) return reply
    // Revokes the access token and its refresh token (the whole family): DOT left the refresh token alive.
    const { oauth } = request.server
    await oauth.store.revokeAccessToken(token.id, oauth.clock.now())
    if (listening(oauth.events, 'tokenRevoked')) {
      const owner = token.applicationId === null ? null : await oauth.store.findApplicationById(token.applicationId)
      notifyAccessTokenRevoked(oauth, 'user', token, owner?.clientId ?? null)
    }
    return await reply.redirect(tokens, 302)
  })
}
