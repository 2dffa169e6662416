// Login and logout for the example app, on Fastify's standard session and CSRF plugins.
// The toolkit only asks `resolveUser(request)` who is logged in; everything here is the host's.
import { randomBytes } from 'node:crypto'
import fastifyCookie from '@fastify/cookie'
import fastifyCsrf from '@fastify/csrf-protection'
import fastifyFormbody from '@fastify/formbody'
import fastifySession from '@fastify/session'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { UserStore } from './users.js'
import { loginRateLimit, safeRedirectTarget } from 'fastify-oauth-toolkit'
import { html, pageLayout, type SafeHtml } from 'fastify-oauth-toolkit/templates'

declare module 'fastify' {
  interface Session {
    userId?: string
    username?: string
    /** When the user logged in, epoch milliseconds (OpenID Connect `auth_time`). */
    authTime?: number
  }
}

/**
 * The tutorial's staff: the users who may use the toolkit's administration pages (`/o/admin/`).
 * A real app keeps this on its user model (Django's `is_staff`); the tutorial's first user, alice,
 * is staff, so that the pages can be tried right after `createuser alice`.
 */
export const STAFF_USERNAMES: ReadonlySet<string> = new Set(['alice'])

/**
 * The logged-in user of a request, as the toolkit's `resolveUser` wants it. `sessionId` (a new
 * one at each login, see below) lets the toolkit track the login session: ID tokens carry its
 * `sid`, and when it ends, relying parties with a back-channel logout URI are told.
 */
export function sessionUser (request: FastifyRequest): { id: string, authTime: Date, sessionId: string, isStaff: boolean } | null {
  const { userId, authTime, username } = request.session
  return userId === undefined
    ? null
    : { id: userId, authTime: new Date(authTime ?? 0), sessionId: request.session.sessionId, isStaff: username !== undefined && STAFF_USERNAMES.has(username) }
}

/**
 * Only same-origin paths are followed after login, never another origin (no open redirect):
 * `safeRedirectTarget` judges `next` as a browser's URL parser will, so `/<TAB>/evil.example`
 * and `/\\evil.example` are refused, and what it returns is always a valid `Location`.
 */
function safeNext (next: unknown): string {
  return safeRedirectTarget(next) ?? '/'
}

/** Pages of the example app share the toolkit's look (its stylesheet is served under /o/). */
function page (title: string, body: SafeHtml): string {
  return pageLayout({ stylesheet: '/o/static/oauth.css' }, title, body).toString()
}

function loginForm (reply: FastifyReply, next: string, error: string | null): string {
  return page('Log in', html`
<h1>Log in</h1>
${error === null ? '' : html`<p class="oat-error" role="alert">${error}</p>`}
<form method="post" action="/accounts/login/">
<input type="hidden" name="_csrf" value="${reply.generateCsrf()}">
<input type="hidden" name="next" value="${next}">
<label for="username">Username</label>
<input type="text" id="username" name="username" autocomplete="username" required autofocus>
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required>
<div class="oat-actions"><button type="submit" class="oat-primary">Log in</button></div>
</form>`)
}

/** Registers sessions, CSRF protection and the `/accounts/login/` and `/accounts/logout/` routes. */
export async function registerAccounts (app: FastifyInstance, users: UserStore, sessionSecret: string | undefined): Promise<void> {
  await app.register(fastifyFormbody)
  await app.register(fastifyCookie)
  await app.register(fastifySession, {
    // Sessions are signed with this secret; without SESSION_SECRET they last as long as the process.
    secret: sessionSecret ?? randomBytes(32).toString('base64url'),
    cookieName: 'sessionid',
    saveUninitialized: false,
    cookie: { httpOnly: true, sameSite: 'lax', secure: 'auto', path: '/', maxAge: 2 * 60 * 60 * 1000 },
  })
  await app.register(fastifyCsrf, { sessionPlugin: '@fastify/session' })

  app.get('/accounts/login/', async (request, reply) => {
    const { next } = request.query as { next?: unknown }
    return reply.type('text/html; charset=utf-8').headers(PAGE_HEADERS).send(loginForm(reply, safeNext(next), null))
  })

  // Brute force: within 15 minutes, 10 failed logins for one account from one address refuse that
  // address for that account, and 100 failures from one address refuse the address (429, before
  // any password hash); an account failing from many addresses only makes its logins wait (up to
  // 5 s), so nobody can lock a user out by typing wrong passwords for them.
  const loginLimit = await loginRateLimit(app, {
    onLimited: (request, reply, wait) => reply.code(429).header('retry-after', String(wait)).type('text/html; charset=utf-8')
      .headers(PAGE_HEADERS).send(loginForm(reply, safeNext((request.body as Record<string, unknown> | undefined)?.next), 'Too many failed logins. Try again later.')),
  })
  app.post('/accounts/login/', { preHandler: [app.csrfProtection, loginLimit.preHandler] }, async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, unknown>
    const next = safeNext(body.next)
    const username = typeof body.username === 'string' ? body.username : ''
    const password = typeof body.password === 'string' ? body.password : ''
    const userId = await users.verify(username, password)
    if (userId === null) {
      await loginLimit.recordFailure(request)
      return reply.code(401).type('text/html; charset=utf-8').headers(PAGE_HEADERS).send(loginForm(reply, next, 'Wrong username or password.'))
    }
    // UI-2: a new session id at login, so a planted session cannot be logged in.
    await request.session.regenerate()
    request.session.userId = userId
    request.session.username = username
    request.session.authTime = Date.now()
    return reply.redirect(next, 302)
  })

  app.post('/accounts/logout/', { preHandler: app.csrfProtection }, async (request, reply) => {
    // The toolkit ends its session for this login first (while `resolveUser` still sees it):
    // back-channel logout tokens go to the relying parties the user signed in to.
    await request.server.oauth.endSession(request)
    await request.session.destroy()
    return reply.redirect('/', 302)
  })

  app.get('/', async (request, reply) => {
    const name = request.session.username
    const body = name === undefined
      ? html`<h1>Example app</h1><p>You are not logged in. <a href="/accounts/login/">Log in</a></p>`
      : html`<h1>Example app</h1><p>Logged in as <strong>${name}</strong>.</p>
<form method="post" action="/accounts/logout/"><input type="hidden" name="_csrf" value="${reply.generateCsrf()}">
<button type="submit" class="oat-secondary">Log out</button></form>`
    return reply.type('text/html; charset=utf-8').headers(PAGE_HEADERS).send(page('Example app', body))
  })

  // CSRF failures are 403 pages, not 500s.
  app.setErrorHandler((error: { statusCode?: number, code?: string, message: string }, request, reply) => {
    if (error.code === 'FST_CSRF_INVALID_TOKEN' || error.code === 'FST_CSRF_MISSING_SECRET') {
      return reply.code(403).type('text/html; charset=utf-8').headers(PAGE_HEADERS)
        .send(page('Forbidden', html`<h1>Forbidden</h1><p>The form expired. <a href="/accounts/login/">Try again</a>.</p>`))
    }
    const status = error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500
    if (status === 500) request.log.error({ err: error }, 'request failed')
    return reply.code(status).send({ error: status === 500 ? 'server_error' : 'invalid_request' })
  })
}

/** The same protective headers the toolkit's own pages send. */
const PAGE_HEADERS = {
  'x-frame-options': 'DENY',
  'content-security-policy': "default-src 'none'; style-src 'self'; frame-ancestors 'none'; base-uri 'none'",
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
}
