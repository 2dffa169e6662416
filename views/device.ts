import rateLimit from '@fastify/rate-limit'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { AuthorizingUser } from '../lib/endpoints/authorize-request.js'
import { safeRedirectTarget } from '../lib/redirect-target.js'
import { addressKey, InFlight } from '../lib/throttle.js'
import { notifyRateLimited } from './rate-limit.js'
import { CSRF_FIELD, type CsrfProtection } from './csrf.js'
import { sendHtml } from './html-response.js'
import { routeId } from './route-id.js'
import { issuerOf } from './issuer.js'
import { sendOAuthResponse, toOAuthRequest } from './oauth-request.js'
import type { PlainMessageKey } from '../lib/i18n/messages.js'
import { errorPageContext, pageContext } from './i18n.js'
import { messagesOf, type PageContext } from './templates/layout.js'
import { cimdPublisher } from '../lib/registration/cimd.js'

/** `POST {prefix}/device-authorization/` (RFC 8628 §3.1, DOT's `DeviceAuthorizationView`): converts, calls the core, writes. */
export class DeviceAuthorizationView {
  readonly #prefix: string

  /** @param prefix the routes prefix, for the default `verification_uri` (`{issuer}/device/`). */
  constructor (prefix = '') {
    this.#prefix = prefix
  }

  async post (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const response = await request.server.oauth.deviceAuthorization(toOAuthRequest(request), { issuer: issuerOf(request, this.#prefix) })
    return sendOAuthResponse(reply, response)
  }
}

/** How often a user code may be entered (RFC 8628 §5.1: brute force), per account and per IP address. */
export interface DeviceRateLimitOptions {
  /** Entries per window by one logged-in user (default 5: user codes are short, so guesses are limited). */
  perUser?: number
  /**
   * Wrong codes per window from one IP address (an IPv6 address counts by its /64), whoever is
   * logged in (default 20); past it the address is refused. Only wrong codes count: everyone
   * behind one address shares this budget, so right codes, anonymous posts and stale forms must
   * not use it up.
   */
  perIp?: number
  /** The window, milliseconds or an @fastify/rate-limit duration such as `'10 minutes'` (default 10 minutes). */
  timeWindow?: number | string
}

/** What the device pages need from the routes plugin. */
export interface DevicePagesOptions {
  readonly csrf: CsrfProtection
  readonly page: PageContext
  readonly prefix: string
  readonly bodyLimit: number
  readonly rateLimit?: DeviceRateLimitOptions
}

/** A 429 from the rate limiter, rendered by the device pages' error handler. */
class TooManyAttempts extends Error {
  readonly statusCode = 429
}

/**
 * The login-required pages of the device flow (RFC 8628 §3.3, DOT's `device/` and
 * `device-confirm/`), in their own encapsulated context: `device/` takes the user code and binds
 * the authorization to the user who entered it; `device-confirm/:id/` shows the application and
 * scopes and takes the decision. Anyone but that user gets 404. Entries are rate-limited
 * per user and per IP with @fastify/rate-limit, registered here unless the host already did.
 *
 * Unlike DOT (`device-confirm/<client_id>/<user_code>`), the confirm URL names the authorization
 * by id, so user codes never appear in URLs, logs or history after entry.
 */
export async function registerDevicePages (app: FastifyInstance, options: DevicePagesOptions): Promise<void> {
  await app.register(async function devicePages (pages) {
    // `global: false`: only routes that ask are limited, and another registration (the host's) wins.
    if (!pages.hasDecorator('rateLimit')) await pages.register(rateLimit, { global: false })
    const { csrf, page, prefix } = options
    const timeWindow = options.rateLimit?.timeWindow ?? 10 * 60 * 1000
    const perIp = pages.createRateLimit({
      max: options.rateLimit?.perIp ?? 20,
      timeWindow,
      keyGenerator: (request) => `oat-device-ip:${addressKey(request.ip)}`,
    })
    const entriesInFlight = new InFlight()
    const entryUrl = `${prefix}/device/`
    const confirmUrl = (id: number): string => `${prefix}/device-confirm/${id}/`

    pages.setErrorHandler(async function (error: FastifyError, request, reply) {
      if (error instanceof TooManyAttempts) return await tooMany(request, reply)
      const status = error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500 ? 400 : 500
      if (status === 500) request.log.error({ err: error }, 'unexpected error on a device page')
      return await sendError(request, reply, status, status === 500 ? 'server_error' : 'invalid_request',
        status === 500 ? 'common.serverError' : 'common.unparsable')
    })

    /** The error page, in the request's language (the default one if even that fails). */
    async function sendError (request: FastifyRequest, reply: FastifyReply, status: number, error: string, description: PlainMessageKey): Promise<FastifyReply> {
      const context = await errorPageContext(request, reply, page.stylesheet)
      return sendHtml(reply, status, reply.server.oauth.templates.error({ status, error, description: messagesOf(context).text(description) }, context))
    }

    async function tooMany (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
      return await sendError(request, reply, 429, 'slow_down', 'device.error.tooMany')
    }

    function toLogin (reply: FastifyReply, next: string): FastifyReply {
      const { loginUrl } = reply.server.oauth
      // Only a `next` a login page following safeRedirectTarget will accept; else the entry page.
      const target = safeRedirectTarget(next) ?? entryUrl
      return reply.redirect(`${loginUrl}${loginUrl.includes('?') ? '&' : '?'}next=${encodeURIComponent(target)}`, 302)
    }

    async function entryPage (request: FastifyRequest, reply: FastifyReply, user: AuthorizingUser, userCode: string, wrongCode: boolean): Promise<FastifyReply> {
      const context = await pageContext(request, reply, page.stylesheet)
      const error = wrongCode ? messagesOf(context).text('device.code.invalid') : null
      const body = reply.server.oauth.templates.deviceCode({
        action: entryUrl,
        csrfToken: csrf.issue(request, reply, `${user.id}\0device`),
        userCode,
        error,
      }, context)
      return sendHtml(reply, error === null ? 200 : 400, body)
    }

    /** A repeated token is no token: one value must stand for the form. */
    function csrfToken (request: FastifyRequest): string | undefined {
      const req = toOAuthRequest(request)
      return req.duplicated.has(CSRF_FIELD) ? undefined : req.body?.[CSRF_FIELD]
    }

    for (const url of ['/device', '/device/']) {
      pages.get(url, async (request, reply) => {
        const user = await reply.server.oauth.resolveUser(request)
        const query = toOAuthRequest(request).query
        // verification_uri_complete (RFC 8628 §3.3.1): the code arrives prefilled; the user still submits it.
        const prefill = typeof query.user_code === 'string' ? query.user_code.slice(0, 64) : ''
        if (user === null) return toLogin(reply, prefill === '' ? entryUrl : `${entryUrl}?${new URLSearchParams({ user_code: prefill }).toString()}`)
        return await entryPage(request, reply, user, prefill, false)
      })
      pages.post(url, {
        bodyLimit: options.bodyLimit,
        config: {
          rateLimit: {
            max: options.rateLimit?.perUser ?? 5,
            timeWindow,
            hook: 'preHandler',
            // Per account, so one user cannot guess codes from many addresses; anonymous posts are refused below, so they count per IP.
            keyGenerator: async (request: FastifyRequest) => {
              const user = await request.server.oauth.resolveUser(request)
              return user === null ? `oat-device-anon:${addressKey(request.ip)}` : `oat-device-user:${user.id}`
            },
            errorResponseBuilder: (request: FastifyRequest, context: { ttl: number }) => {
              notifyRateLimited(request, 'device-entries-per-user', Math.max(1, Math.ceil(context.ttl / 1000)), undefined)
              return new TooManyAttempts('too many user code entries')
            },
          },
        },
      }, async (request, reply) => {
        // The address's budget is read here and spent only by a wrong code below: it is shared by
        // everyone behind one address (an office, a campus), so requests that guess nothing
        // (anonymous, a stale form, a right code) must not use it up for them. Entries still
        // being checked count as wrong until they end, or guesses sent all at once would each see
        // the count from before any of them; the check and the reservation have no await between.
        const addressEntries = addressKey(request.ip)
        const limited = await perIp(request, { increment: false })
        if (!limited.isAllowed && limited.remaining - entriesInFlight.count(addressEntries) <= 0) {
          notifyRateLimited(request, 'device-entries-per-address', Math.max(1, limited.ttlInSeconds), undefined)
          reply.header('retry-after', String(limited.ttlInSeconds))
          return await tooMany(request, reply)
        }
        const end = entriesInFlight.start([addressEntries])
        try {
          const user = await reply.server.oauth.resolveUser(request)
          if (user === null) return await sendError(request, reply, 403, 'access_denied', 'device.error.notLoggedIn')
          if (!csrf.verify(request, csrfToken(request), `${user.id}\0device`)) {
            return await sendError(request, reply, 403, 'access_denied', 'common.csrfReload')
          }
          const typed = toOAuthRequest(request).body?.user_code ?? ''
          const grant = await reply.server.oauth.claimUserCode(typed, user.id)
          if (grant === null) {
            await perIp(request)
            return await entryPage(request, reply, user, typed.slice(0, 64), true)
          }
          // RFC 9700 §4.12: 302 after a POST, so the browser does not re-post the form.
          return reply.redirect(confirmUrl(grant.id), 302)
        } finally {
          end()
        }
      })
    }

    for (const url of ['/device-confirm/:id', '/device-confirm/:id/']) {
      pages.get(url, async (request, reply) => {
        const id = routeId(request) ?? -1
        const { oauth } = reply.server
        const user = await oauth.resolveUser(request)
        if (user === null) return toLogin(reply, id > 0 ? confirmUrl(id) : entryUrl)
        const pending = await oauth.pendingDeviceAuthorization(id, user.id)
        // Only the user who entered the code decides (DOT 3.4.1 #1819): someone else's authorization does not exist for this user.
        if (pending === null) return await sendError(request, reply, 404, 'not_found', 'device.error.notFound')
        const body = oauth.templates.deviceConfirm({
          applicationName: pending.application.name === '' ? pending.application.clientId : pending.application.name,
          scopes: pending.scopes.map((name) => ({ name, description: oauth.settings.scopes[name] ?? name })),
          resources: pending.resources,
          ...(pending.application.cimdExpiresAt !== null ? { publisher: cimdPublisher(pending.application.clientId) } : {}),
          action: confirmUrl(id),
          csrfToken: csrf.issue(request, reply, `${user.id}\0device:${id}`),
        }, await pageContext(request, reply, page.stylesheet))
        return sendHtml(reply, 200, body)
      })
      pages.post(url, { bodyLimit: options.bodyLimit }, async (request, reply) => {
        const id = routeId(request) ?? -1
        const { oauth } = reply.server
        const user = await oauth.resolveUser(request)
        if (user === null) return await sendError(request, reply, 403, 'access_denied', 'device.error.notLoggedIn')
        // CSRF: the decision must come from the page shown to this browser, for this user and authorization.
        if (!csrf.verify(request, csrfToken(request), `${user.id}\0device:${id}`)) {
          return await sendError(request, reply, 403, 'access_denied', 'device.error.csrf')
        }
        const pending = await oauth.pendingDeviceAuthorization(id, user.id)
        const approve = toOAuthRequest(request).body?.allow !== undefined
        if (pending === null || !await oauth.decideDeviceAuthorization(id, user, approve)) {
          return await sendError(request, reply, 404, 'not_found', 'device.error.notFound')
        }
        const applicationName = pending.application.name === '' ? pending.application.clientId : pending.application.name
        return sendHtml(reply, 200, oauth.templates.deviceDone({ applicationName, approved: approve }, await pageContext(request, reply, page.stylesheet)))
      })
    }
  })
}
