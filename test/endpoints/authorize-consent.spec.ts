// The authorization endpoint's browser side: login redirect, consent page, CSRF, the decision.
import { Writable } from 'node:stream'
import { join } from 'node:path'
import Fastify, { type LightMyRequestResponse } from 'fastify'
import t, { type Test } from 'tap'
import { fastifyOAuthToolkit, oauthRoutes } from '../../index.js'
import {
  authorizeUrl, buildAuthorizeApp, codeRequest, countRows, createCodeApplication, csrfCookieOf, fetchConsent, getAuthorize,
  headerUser, parseConsent, postDecision, REDIRECT_URI, redirectBase, redirectParams, setupCodeClient,
} from '../helpers/authorize.js'
import { ALICE, FORM, form, testHasher } from '../helpers/index.js'

const BOB = 'user-bob'

/** UI-3 and LEAK-2 on every page the endpoint renders. */
function assertPageHeaders (t: Test, res: LightMyRequestResponse, message: string): void {
  t.match(res.headers['content-type'], /^text\/html; charset=utf-8/, `${message}: HTML`)
  t.equal(res.headers['x-frame-options'], 'DENY', `${message}: X-Frame-Options`)
  t.match(res.headers['content-security-policy'], /frame-ancestors 'none'/, `${message}: CSP frame-ancestors`)
  t.match(res.headers['content-security-policy'], /default-src 'none'/, `${message}: CSP default-src`)
  t.equal(res.headers['referrer-policy'], 'no-referrer', `${message}: Referrer-Policy`)
  t.equal(res.headers['cache-control'], 'no-store', `${message}: Cache-Control`)
  // LEAK-2: nothing loaded from, or linked to, another origin.
  for (const m of res.body.matchAll(/\b(?:src|href|action)\s*=\s*"([^"]*)"/gi)) {
    const url = m[1] ?? ''
    t.ok(url.startsWith('/') && !url.startsWith('//') && !url.startsWith('/\\'), `${message}: same-origin ${m[0]}`)
  }
  t.notMatch(res.body, /<script|<iframe|<img|@import|url\(/i, `${message}: no scripts, frames or external resources`)
}

/** UI-1: a refused decision is a 403 page, with no redirect and no code anywhere. */
function assertForbidden (t: Test, res: LightMyRequestResponse, message: string): void {
  t.equal(res.statusCode, 403, `${message}: 403`)
  t.equal(res.headers.location, undefined, `${message}: no Location`)
  t.notMatch(res.body, 'code=', `${message}: no code`)
  assertPageHeaders(t, res, message)
}

t.test('an anonymous visitor is sent to loginUrl with next = the original authorize URL', async (t) => {
  const { app, clientId } = await setupCodeClient(t)
  const url = authorizeUrl(codeRequest(clientId, { scope: 'read write', state: 'a b&c' }))
  const res = await app.inject({ method: 'GET', url })
  t.equal(res.statusCode, 302, 'REDIR-3: 302, not 307')
  const location = String(res.headers.location)
  t.ok(location.startsWith('/accounts/login/?next='), location)
  t.equal(new URL(location, 'http://localhost').searchParams.get('next'), url, 'next is the exact original URL')
  t.equal(csrfCookieOf(res), undefined, 'nothing set for an anonymous visitor')

  const slashless = authorizeUrl(codeRequest(clientId), '/o/authorize')
  const res2 = await app.inject({ method: 'GET', url: slashless })
  t.equal(new URL(String(res2.headers.location), 'http://localhost').searchParams.get('next'), slashless)
})

t.test('a loginUrl with its own query gets next appended with &', async (t) => {
  const { app, clientId } = await setupCodeClient(t, { loginUrl: '/login?lang=en' })
  const url = authorizeUrl(codeRequest(clientId))
  const res = await getAuthorize(app, codeRequest(clientId), null)
  t.equal(res.statusCode, 302)
  const location = String(res.headers.location)
  t.ok(location.startsWith('/login?lang=en&next='), location)
  const parsed = new URL(location, 'http://localhost')
  t.equal(parsed.searchParams.get('lang'), 'en')
  t.equal(parsed.searchParams.get('next'), url)
})

t.test('an anonymous visitor with an invalid but redirectable request still goes to the client with the error', async (t) => {
  // oauthlib order: the whole request is validated before the user matters.
  const { app, clientId } = await setupCodeClient(t)
  const res = await getAuthorize(app, codeRequest(clientId, { scope: 'nope' }), null)
  t.equal(res.statusCode, 302)
  t.equal(redirectBase(res), REDIRECT_URI)
  t.equal(redirectParams(res).error, 'invalid_scope')
})

t.test('without a resolveUser option the pages answer a generic 500 page and log the configuration error', async (t) => {
  // Decision: a missing resolveUser is a host configuration mistake (ImproperlyConfiguredError,
  // OAT_ERR_OPTIONS). Apps that never use the consent pages need not set it, so registration
  // does not refuse; the page says nothing about the cause, the log says everything.
  const lines: string[] = []
  const stream = new Writable({ write (chunk: Buffer, _encoding, done) { lines.push(chunk.toString()); done() } })
  const app = Fastify({ logger: { level: 'error', stream } })
  t.teardown(() => app.close())
  await app.register(fastifyOAuthToolkit, { database: join(t.testdir(), 'oauth.db'), migrate: true, hasher: testHasher })
  await app.register(oauthRoutes, { prefix: '/o' })
  const { application } = await createCodeApplication(app)

  const get = await app.inject({ method: 'GET', url: authorizeUrl(codeRequest(application.clientId)), headers: { 'x-test-user': ALICE.id } })
  const post = await app.inject({ method: 'POST', url: '/o/authorize/', payload: form({ ...codeRequest(application.clientId), allow: 'Authorize' }), headers: FORM })
  for (const [name, res] of [['GET', get], ['POST', post]] as const) {
    t.equal(res.statusCode, 500, `${name}: 500`)
    t.equal(res.headers.location, undefined, `${name}: no redirect`)
    assertPageHeaders(t, res, name)
    t.match(res.body, '<code>server_error</code>', `${name}: generic error`)
    t.notMatch(res.body, /resolveUser|OAT_ERR|at .*\.ts|ImproperlyConfigured/, `${name}: no internals on the page`)
  }
  const logged = lines.join('')
  t.match(logged, 'OAT_ERR_OPTIONS', 'the configuration error is logged')
  t.match(logged, 'the authorization pages need a resolveUser(request) option')

  // The request is still validated first: an unknown client gets its 400 page either way.
  const bad = await app.inject({ method: 'GET', url: authorizeUrl({ response_type: 'code', client_id: 'nope' }) })
  t.equal(bad.statusCode, 400)
})

t.test('the consent page shows the application and each scope\'s description, and carries the request', async (t) => {
  const app = await buildAuthorizeApp(t, { settings: { scopes: { read: 'Read your files', write: 'Change your files', admin: 'Run the place' } } })
  const { application } = await createCodeApplication(app, { name: 'Photo Printer' })
  const params = codeRequest(application.clientId, { scope: 'read write', nonce: 'n-1', approval_prompt: 'force' })
  const res = await getAuthorize(app, params)
  t.equal(res.statusCode, 200)
  assertPageHeaders(t, res, 'consent page')
  t.match(res.body, 'Photo Printer')
  t.match(res.body, '<li>Read your files</li>')
  t.match(res.body, '<li>Change your files</li>')
  t.notMatch(res.body, 'Run the place', 'only the requested scopes')
  t.match(res.body, /<button type="submit" name="allow"[^>]*>Authorize<\/button>/, 'an Authorize submit named allow')
  t.match(res.body, /<button type="submit" name="cancel"[^>]*>Cancel<\/button>/, 'a Cancel')

  const consent = parseConsent(res)
  t.equal(consent.action, '/o/authorize/', 'posts back to the endpoint, same origin')
  const { csrf_token: token, ...carried } = consent.fields
  t.same(carried, params, 'every request parameter travels in a hidden input, nothing else')
  t.match(token, /^[A-Za-z0-9_-]{43}$/, 'a CSRF token')

  const cookie = ([] as string[]).concat(res.headers['set-cookie'] ?? []).find((c) => c.startsWith('oat_csrf='))
  t.match(cookie, /^oat_csrf=[A-Za-z0-9_-]{43}; Path=\/o; HttpOnly; SameSite=Lax$/, 'UI-1: HttpOnly, SameSite=Lax, scoped to the prefix')

  const css = await app.inject({ method: 'GET', url: '/o/static/oauth.css' })
  t.equal(css.statusCode, 200, 'the stylesheet the page links is served')
  t.match(css.headers['content-type'], /^text\/css/)
})

t.test('the default scopes are listed when the request names none, with the built-in descriptions', async (t) => {
  const { app, clientId } = await setupCodeClient(t)
  const res = await getAuthorize(app, codeRequest(clientId))
  t.match(res.body, '<li>Reading scope</li>')
  t.match(res.body, '<li>Writing scope</li>')
})

t.test('an application without a name is shown by its client_id', async (t) => {
  const app = await buildAuthorizeApp(t)
  const { application } = await createCodeApplication(app, { name: '' })
  const res = await getAuthorize(app, codeRequest(application.clientId))
  t.match(res.body, `<span class="oat-app">${application.clientId}</span>`)
})

t.test('a hostile application name and state are escaped on the page and survive the round trip', async (t) => {
  const app = await buildAuthorizeApp(t)
  const name = '<script>alert(1)</script>"\'&`'
  const { application } = await createCodeApplication(app, { name })
  const state = '"><script>alert(2)</script><input name="allow" value="'
  const params = codeRequest(application.clientId, { state, nonce: "'><img src=x onerror=alert(3)>" })
  const res = await getAuthorize(app, params)
  t.equal(res.statusCode, 200)
  t.notMatch(res.body, /<script|<img/i, 'no markup from the request or the registration')
  t.match(res.body, '&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;&#96;', 'the name is escaped')
  t.equal((res.body.match(/name="allow"/g) ?? []).length, 1, 'the state cannot add a field')
  assertPageHeaders(t, res, 'hostile consent page')

  const consent = parseConsent(res)
  t.equal(consent.fields.state, state)
  const approved = await postDecision(app, consent)
  t.equal(approved.statusCode, 302)
  t.equal(redirectParams(approved).state, state, 'the state comes back byte for byte')
})

t.test('approve: 302 (REDIR-3) to redirect_uri with code and state only', async (t) => {
  const { app, clientId } = await setupCodeClient(t)
  const consent = await fetchConsent(app, codeRequest(clientId))
  const res = await postDecision(app, consent)
  t.equal(res.statusCode, 302)
  t.equal(redirectBase(res), REDIRECT_URI)
  const params = redirectParams(res)
  t.same(Object.keys(params).sort(), ['code', 'state'])
  t.match(params.code, /^[A-Za-z0-9_-]{43}$/, '256 random bits')
  t.equal(params.state, 'xyz')
  t.equal(countRows(t, 'oauth2_grant'), 1)
})

t.test('approve without state: the redirect carries the code only', async (t) => {
  const { app, clientId } = await setupCodeClient(t)
  const { state: _s, ...noState } = codeRequest(clientId)
  const res = await postDecision(app, await fetchConsent(app, noState))
  t.same(Object.keys(redirectParams(res)), ['code'])
})

t.test('deny: 302 with error=access_denied and state, and no code is stored', async (t) => {
  const { app, clientId } = await setupCodeClient(t)
  const consent = await fetchConsent(app, codeRequest(clientId))
  const res = await postDecision(app, consent, { allow: false })
  t.equal(res.statusCode, 302)
  t.equal(redirectBase(res), REDIRECT_URI)
  t.same(redirectParams(res), { error: 'access_denied', error_description: 'The resource owner denied the request.', state: 'xyz' })
  t.equal(countRows(t, 'oauth2_grant'), 0)
})

t.test('UI-1 a POST without the CSRF token, or with an empty or garbage one, is refused', async (t) => {
  const { app, clientId } = await setupCodeClient(t)
  const consent = await fetchConsent(app, codeRequest(clientId))
  for (const [label, token] of [['missing', undefined], ['empty', ''], ['garbage', 'x'], ['not base64url', '!!!!'], ['too long', 'A'.repeat(400)]] as const) {
    assertForbidden(t, await postDecision(app, consent, { fields: { csrf_token: token } }), `token ${label}`)
  }
  assertForbidden(t, await postDecision(app, consent, { cookie: '' }), 'no CSRF cookie')
  assertForbidden(t, await postDecision(app, consent, { cookie: 'oat_csrf=' }), 'empty CSRF cookie')
  const repeated = await app.inject({
    method: 'POST',
    url: '/o/authorize/',
    payload: form({ ...consent.fields, csrf_token: [consent.fields.csrf_token ?? '', 'x'], allow: 'Authorize' }),
    headers: { ...FORM, cookie: consent.cookie, 'x-test-user': ALICE.id },
  })
  assertForbidden(t, repeated, 'regression: a repeated csrf_token counts as none (the first value was used)')
  t.equal(countRows(t, 'oauth2_grant'), 0, 'no code was issued')
})

t.test('UI-1 a token from another browser, another user or another client is refused', async (t) => {
  const { app, clientId } = await setupCodeClient(t)
  const other = await createCodeApplication(app, { redirectUris: ['https://client.example.com/other'] })
  const victim = await fetchConsent(app, codeRequest(clientId))
  const attacker = await fetchConsent(app, codeRequest(clientId))
  t.not(victim.cookie, attacker.cookie, 'each browser has its own cookie')

  // The attacker's own page gives a token bound to the attacker's cookie, not the victim's.
  assertForbidden(t, await postDecision(app, victim, { fields: { csrf_token: attacker.fields.csrf_token } }), 'token from another browser')
  assertForbidden(t, await postDecision(app, attacker, { cookie: victim.cookie }), 'cookie from another browser')
  assertForbidden(t, await postDecision(app, victim, { user: BOB }), 'token issued to another user')
  assertForbidden(t, await postDecision(app, victim, {
    fields: { client_id: other.application.clientId, redirect_uri: 'https://client.example.com/other' },
  }), 'token issued for another client')
  t.equal(countRows(t, 'oauth2_grant'), 0, 'no code was issued')

  const ok = await postDecision(app, victim)
  t.equal(ok.statusCode, 302, 'the genuine form still works')
  t.ok(redirectParams(ok).code)
})

t.test('the CSRF cookie is kept across pages, and a token for one page works for another of the same client', async (t) => {
  const { app, clientId } = await setupCodeClient(t)
  const first = await fetchConsent(app, codeRequest(clientId))
  const again = await getAuthorize(app, codeRequest(clientId, { scope: 'read' }), ALICE.id, { cookie: first.cookie })
  t.equal(csrfCookieOf(again), undefined, 'no new cookie when the browser has one')
  const second = parseConsent(again, first.cookie)
  t.equal(second.fields.csrf_token, first.fields.csrf_token, 'bound to browser, user and client')
  t.equal((await postDecision(app, second)).statusCode, 302)
})

t.test('a POST without login is a 403 page, even with a valid form', async (t) => {
  const { app, clientId } = await setupCodeClient(t)
  const consent = await fetchConsent(app, codeRequest(clientId))
  assertForbidden(t, await postDecision(app, consent, { user: null }), 'anonymous POST')
  t.equal(countRows(t, 'oauth2_grant'), 0)
})

t.test('the CSRF check comes before validation: a forged POST learns nothing', async (t) => {
  const { app, clientId } = await setupCodeClient(t)
  const res = await app.inject({
    method: 'POST',
    url: '/o/authorize/',
    payload: form({ client_id: 'nope', redirect_uri: 'https://evil.example/', response_type: 'code', allow: 'Authorize' }),
    headers: { ...FORM, 'x-test-user': ALICE.id },
  })
  assertForbidden(t, res, 'forged POST for an unknown client')
  t.ok(clientId)
})

t.test('a tampered form is validated again: an unregistered redirect_uri gets the error page', async (t) => {
  const { app, clientId } = await setupCodeClient(t)
  const consent = await fetchConsent(app, codeRequest(clientId))
  const res = await postDecision(app, consent, { fields: { redirect_uri: 'https://evil.example/cb' } })
  t.equal(res.statusCode, 400)
  t.equal(res.headers.location, undefined)
  assertPageHeaders(t, res, 'tampered form')
  const scope = await postDecision(app, consent, { fields: { scope: 'admin' } })
  t.equal(scope.statusCode, 302)
  t.equal(redirectParams(scope).error, 'invalid_scope')
  t.equal(countRows(t, 'oauth2_grant'), 0)
})

t.test('malformed POST bodies get a 4xx page, never a 500', async (t) => {
  const { app } = await setupCodeClient(t)
  const json = await app.inject({ method: 'POST', url: '/o/authorize/', payload: '{"allow":1}', headers: { 'content-type': 'application/json', 'x-test-user': ALICE.id } })
  t.ok(json.statusCode >= 400 && json.statusCode < 500, `JSON body: ${json.statusCode}`)
  t.equal(json.headers.location, undefined)
  const big = await app.inject({ method: 'POST', url: '/o/authorize/', payload: `state=${'a'.repeat(70 * 1024)}`, headers: { ...FORM, 'x-test-user': ALICE.id } })
  t.ok(big.statusCode >= 400 && big.statusCode < 500, `oversized body: ${big.statusCode}`)
  t.match(big.headers['content-type'], /^text\/html/)
  const none = await app.inject({ method: 'POST', url: '/o/authorize/', headers: { 'x-test-user': ALICE.id } })
  t.equal(none.statusCode, 403, 'no body: no CSRF token')
})

t.test('regression: with the router\'s ignoreDuplicateSlashes, //o/authorize/ cannot point the form or next at another host', async (t) => {
  // The form's action and the login `next` were built from request.url: `//o/authorize/` made
  // the consent form post, CSRF token included, to https://o/authorize/.
  const app = Fastify({ routerOptions: { ignoreDuplicateSlashes: true } })
  t.teardown(() => app.close())
  await app.register(fastifyOAuthToolkit, { database: join(t.testdir(), 'oauth.db'), migrate: true, hasher: testHasher, resolveUser: headerUser })
  await app.register(oauthRoutes, { prefix: '/o' })
  const { application } = await createCodeApplication(app)
  const query = authorizeUrl(codeRequest(application.clientId), '')
  for (const path of ['//o/authorize/', '/o//authorize/', '//o//authorize/']) {
    const page = await app.inject({ method: 'GET', url: `${path}${query}`, headers: { 'x-test-user': ALICE.id } })
    t.equal(parseConsent(page).action, '/o/authorize/', `${path}: the form posts to the route's own path`)
    const anonymous = await app.inject({ method: 'GET', url: `${path}${query}` })
    const next = new URL(String(anonymous.headers.location), 'http://localhost').searchParams.get('next')
    t.equal(next, `/o/authorize/${query}`, `${path}: next is the route's path and the original query`)
  }
})
