// OpenID Connect RP-Initiated Logout 1.0 at /o/logout/ (DOT's RPInitiatedLogoutView).
import { createPublicKey } from 'node:crypto'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { importPKCS8, SignJWT, UnsecuredJWT } from 'jose'
import t from 'tap'
import { assertFatalPage, csrfCookieOf, USER_HEADER, unescapeHtml } from '../helpers/authorize.js'
import { ALICE, bearerWorks, clientCredentialsToken, fixedClock, FORM, form, type FixedClock } from '../helpers/index.js'
import type { SettingsInput } from '../../lib/settings.js'
import { buildOidcApp, createOidcApplication, ISSUER, newRsaPem, oidcCodeFlow } from './support.js'

const BYE = 'https://client.example.com/bye'

interface Setup { app: FastifyInstance, clock: FixedClock, clientId: string, idToken: string, accessToken: string, loggedOut: string[], key: string }

async function setup (t: Parameters<typeof buildOidcApp>[0], settings: SettingsInput = {}): Promise<Setup> {
  const clock = fixedClock('2026-06-01T08:00:00.000Z')
  const loggedOut: string[] = []
  const key = newRsaPem()
  const app = await buildOidcApp(t, {
    clock,
    oidc: { privateKey: key },
    settings: { oidcRpInitiatedLogoutEnabled: true, ...settings },
    logoutUser: (request: FastifyRequest) => { loggedOut.push(String(request.headers[USER_HEADER])) },
  })
  const created = await createOidcApplication(app, { postLogoutRedirectUris: [BYE] })
  const body = await oidcCodeFlow(app, created)
  return { app, clock, clientId: created.application.clientId, idToken: body.id_token ?? '', accessToken: body.access_token, loggedOut, key }
}

const logoutUrl = (params: Record<string, string>): string => `/o/logout/?${form(params)}`

t.test('a hint naming the logged-in user, no prompt: tokens revoked, session ended, back to the RP with state', async (t) => {
  const s = await setup(t, { oidcRpInitiatedLogoutAlwaysPrompt: false })
  const machine = await clientCredentialsToken(s.app)
  const res = await s.app.inject({ url: logoutUrl({ id_token_hint: s.idToken, post_logout_redirect_uri: BYE, state: 'x y' }), headers: { [USER_HEADER]: ALICE.id } })
  t.equal(res.statusCode, 302)
  t.equal(res.headers.location, `${BYE}?state=x+y`)
  t.same(s.loggedOut, [ALICE.id], 'logoutUser ran')
  t.notOk(await bearerWorks(s.app, s.accessToken), 'the user\'s browser-flow tokens are revoked')
  t.ok(await bearerWorks(s.app, machine), 'other tokens are untouched')
  const again = await s.app.inject({ url: logoutUrl({ id_token_hint: s.idToken, post_logout_redirect_uri: BYE }), headers: { [USER_HEADER]: ALICE.id } })
  t.equal(again.statusCode, 302, 'idempotent: a second logout is no error')
  const anonymous = await s.app.inject({ url: logoutUrl({ client_id: s.clientId }) })
  t.equal(anonymous.statusCode, 200, 'without a hint the user confirms')
  t.match(anonymous.body, 'Log out?')
  const action = unescapeHtml(/<form method="post" action="([^"]*)">/.exec(anonymous.body)?.[1] ?? '')
  const csrf = unescapeHtml(/name="csrf_token" value="([^"]*)"/.exec(anonymous.body)?.[1] ?? '')
  const done = await s.app.inject({ method: 'POST', url: action, headers: { ...FORM, cookie: csrfCookieOf(anonymous) ?? '' }, payload: form({ csrf_token: csrf }) })
  t.equal(done.statusCode, 200, 'no post_logout_redirect_uri: a logged-out page')
  t.match(done.body, 'You are logged out')
})

t.test('by default the user confirms: GET shows a CSRF-protected form, the POST logs out', async (t) => {
  const s = await setup(t)
  const page = await s.app.inject({ url: logoutUrl({ id_token_hint: s.idToken, post_logout_redirect_uri: BYE, state: 's1' }), headers: { [USER_HEADER]: ALICE.id } })
  t.equal(page.statusCode, 200)
  t.equal(page.headers['x-frame-options'], 'DENY')
  t.same(s.loggedOut, [], 'nothing happens before the confirmation')
  const action = unescapeHtml(/<form method="post" action="([^"]*)">/.exec(page.body)?.[1] ?? '')
  const csrf = unescapeHtml(/name="csrf_token" value="([^"]*)"/.exec(page.body)?.[1] ?? '')
  const cookie = csrfCookieOf(page) ?? ''
  t.match(action, /^\/o\/logout\/\?/)
  const forged = await s.app.inject({ method: 'POST', url: action, headers: { ...FORM, [USER_HEADER]: ALICE.id, cookie }, payload: form({ csrf_token: 'forged' }) })
  t.equal(forged.statusCode, 403)
  const res = await s.app.inject({ method: 'POST', url: action, headers: { ...FORM, [USER_HEADER]: ALICE.id, cookie }, payload: form({ csrf_token: csrf }) })
  t.equal(res.statusCode, 302)
  t.equal(res.headers.location, `${BYE}?state=s1`)
  t.same(s.loggedOut, [ALICE.id])
})

t.test('a hint for another user asks for confirmation even without always-prompt', async (t) => {
  const s = await setup(t, { oidcRpInitiatedLogoutAlwaysPrompt: false })
  const res = await s.app.inject({ url: logoutUrl({ id_token_hint: s.idToken }), headers: { [USER_HEADER]: 'user-bob' } })
  t.equal(res.statusCode, 200)
  t.match(res.body, 'Log out?')
})

t.test('post_logout_redirect_uri only from the client\'s registered list; client_id must match the hint (REDIR-2)', async (t) => {
  const s = await setup(t, { oidcRpInitiatedLogoutAlwaysPrompt: false })
  const other = await createOidcApplication(s.app, { postLogoutRedirectUris: ['https://other.example.com/bye'] })
  const user = { [USER_HEADER]: ALICE.id }
  const cases: Array<[Record<string, string>, string]> = [
    [{ id_token_hint: s.idToken, post_logout_redirect_uri: 'https://other.example.com/bye' }, 'Mismatching post_logout_redirect_uri.'],
    [{ id_token_hint: s.idToken, post_logout_redirect_uri: `${BYE}/x` }, 'Mismatching post_logout_redirect_uri.'],
    [{ post_logout_redirect_uri: BYE }, 'post_logout_redirect_uri needs client_id or id_token_hint.'],
    [{ id_token_hint: s.idToken, client_id: other.application.clientId, post_logout_redirect_uri: 'https://other.example.com/bye' }, 'The client_id does not match the id_token_hint.'],
    [{ client_id: 'unknown', post_logout_redirect_uri: BYE }, 'Invalid client_id parameter value.'],
  ]
  for (const [params, description] of cases) {
    const res = await s.app.inject({ url: logoutUrl(params), headers: user })
    t.equal(res.statusCode, 400, description)
    t.equal(res.headers.location, undefined, `${description}: no redirect`)
    t.match(res.body, description)
  }
  t.same(s.loggedOut, [], 'no logout happened')
})

t.test('hostile hints are invalid: unsigned, HS256 keyed with the public key, another key, an access token (JOSE-1, JOSE-2)', async (t) => {
  const s = await setup(t, { oidcRpInitiatedLogoutAlwaysPrompt: false })
  const claims = { iss: ISSUER, sub: ALICE.id, aud: s.clientId }
  const now = Math.floor(s.clock.now().getTime() / 1000)
  const publicPem = createPublicKey(s.key).export({ type: 'spki', format: 'pem' }).toString()
  const hints: Array<[string, string]> = [
    ['alg none', new UnsecuredJWT(claims).setIssuedAt(now).setExpirationTime(now + 600).encode()],
    ['HS256 with the RSA public key as secret', await new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuedAt(now).setExpirationTime(now + 600).sign(new TextEncoder().encode(publicPem))],
    ['RS256 with another key', await new SignJWT(claims).setProtectedHeader({ alg: 'RS256' }).setIssuedAt(now).setExpirationTime(now + 600).sign(await importPKCS8(newRsaPem(), 'RS256'))],
    ['an access token', s.accessToken],
    ['garbage', 'a.b.c'],
  ]
  for (const [name, hint] of hints) {
    const res = await s.app.inject({ url: logoutUrl({ id_token_hint: hint, post_logout_redirect_uri: BYE }), headers: { [USER_HEADER]: ALICE.id } })
    t.equal(res.statusCode, 400, name)
    t.equal(res.headers.location, undefined, `${name}: no redirect`)
    t.match(res.body, 'The id_token_hint is not valid.', name)
  }
  t.same(s.loggedOut, [])
})

t.test('an expired hint is accepted by default and refused when the setting says so', async (t) => {
  const accepting = await setup(t, { oidcRpInitiatedLogoutAlwaysPrompt: false, idTokenExpireSeconds: 60 })
  accepting.clock.advance(3600)
  const ok = await accepting.app.inject({ url: logoutUrl({ id_token_hint: accepting.idToken, post_logout_redirect_uri: BYE }), headers: { [USER_HEADER]: ALICE.id } })
  t.equal(ok.statusCode, 302)
  const strict = await setup(t, { oidcRpInitiatedLogoutAlwaysPrompt: false, idTokenExpireSeconds: 60, oidcRpInitiatedLogoutAcceptExpiredTokens: false })
  strict.clock.advance(3600)
  assertFatalPage(t, await strict.app.inject({ url: logoutUrl({ id_token_hint: strict.idToken, post_logout_redirect_uri: BYE }), headers: { [USER_HEADER]: ALICE.id } }), 'The id_token_hint is not valid.')
})

t.test('configuration: 404 while disabled, logoutUser required, end_session_endpoint in discovery', async (t) => {
  const off = await buildOidcApp(t)
  t.equal((await off.inject({ url: '/o/logout/' })).statusCode, 404)
  t.equal((await off.inject({ url: '/o/.well-known/openid-configuration' })).json().end_session_endpoint, undefined)
  await t.rejects(buildOidcApp(t, { settings: { oidcRpInitiatedLogoutEnabled: true } }), { code: 'OAT_ERR_OPTIONS', message: /logoutUser/ })
  const s = await setup(t)
  t.equal((await s.app.inject({ url: '/o/.well-known/openid-configuration' })).json().end_session_endpoint, 'https://auth.example.com/o/logout/')
})

t.test('REDIR-4 the confirmation for a client an end user created names where logging out sends the browser', async (t) => {
  const s = await setup(t)
  const untrusted = await createOidcApplication(s.app, { name: 'Self-service', postLogoutRedirectUris: ['https://evil.example/bye'], selfRegistered: true })
  const page = await s.app.inject({ url: logoutUrl({ client_id: untrusted.application.clientId, post_logout_redirect_uri: 'https://evil.example/bye' }), headers: { [USER_HEADER]: ALICE.id } })
  t.equal(page.statusCode, 200)
  t.equal(page.headers.location, undefined, 'nothing happens before the user confirms')
  t.match(page.body, /not registered by the operator of this site: you will then be sent to https:\/\/evil\.example\./)
  const noTarget = await s.app.inject({ url: logoutUrl({ client_id: untrusted.application.clientId }), headers: { [USER_HEADER]: ALICE.id } })
  t.notMatch(noTarget.body, /sent to/, 'nowhere to go: nothing to name')
  const host = await s.app.inject({ url: logoutUrl({ client_id: s.clientId, post_logout_redirect_uri: BYE }), headers: { [USER_HEADER]: ALICE.id } })
  t.notMatch(host.body, /not registered by the operator/, 'an operator\'s client: no warning')
})
