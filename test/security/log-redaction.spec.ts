// LEAK-1 / goal G8 (grey-box): the main flows run with a trace-level logger captured in memory;
// no secret issued or sent may appear in it, at any level.
import { join } from 'node:path'
import Fastify, { type FastifyInstance, type LightMyRequestResponse } from 'fastify'
import t, { type Test } from 'tap'
import { fastifyOAuthToolkit, oauthRoutes, ProtectedResourceView } from '../../index.js'
import { redactUrl } from '../../lib/redact.js'
import { ALICE, basicAuth, createApplication, FORM, form, postToken, testHasher } from '../helpers/index.js'
import { passwordGrant, verifyAlice } from '../helpers/password-grant.js'
import {
  asUser, codeClient, createCodeApplication, csrfCookieOf, exchangeCode, LOGIN_OPTIONS, obtainCode, pkcePair, unescapeHtml,
} from '../helpers/authorize.js'
import { newRsaPem, oidcSettings } from '../oidc/support.js'

class HelloView extends ProtectedResourceView {
  async get (): Promise<string> { return 'hello' }
}

async function buildLoggedApp (t: Test, lines: string[]): Promise<FastifyInstance> {
  const app = Fastify({ logger: { level: 'trace', stream: { write: (line: string) => { lines.push(line) } } } })
  t.teardown(() => app.close())
  await app.register(fastifyOAuthToolkit, {
    database: join(t.testdir(), 'oauth.db'),
    migrate: true,
    hasher: testHasher,
    ...LOGIN_OPTIONS,
    verifyUserCredentials: verifyAlice,
    logoutUser: () => {},
    oidc: { privateKey: newRsaPem() },
    settings: oidcSettings({ passwordGrantEnabled: true, oidcRpInitiatedLogoutEnabled: true, oidcRpInitiatedLogoutAlwaysPrompt: false, rateLimitFailures: null }),
  })
  await app.register(oauthRoutes, { prefix: '/o', managementPages: true })
  await app.register(HelloView.asView('/api/hello'))
  return app
}

t.test('redactUrl keeps names and harmless values, hides credentials, never throws', async (t) => {
  t.equal(redactUrl('/o/introspect/?token=abc&x=1'), '/o/introspect/?token=[redacted]&x=1')
  t.equal(redactUrl('/api?ACCESS_TOKEN=a;code=b&state=s'), '/api?ACCESS_TOKEN=[redacted];code=[redacted]&state=s')
  t.equal(redactUrl('/p?%74oken=abc&%ZZ=1'), '/p?%74oken=[redacted]&%ZZ=1')
  t.equal(redactUrl('/plain'), '/plain')
})

t.test('LEAK-1 no credential of any flow reaches the trace-level log', async (t) => {
  const lines: string[] = []
  const app = await buildLoggedApp(t, lines)
  const secrets = new Set<string>()
  const keep = (...values: Array<string | null | undefined>): void => {
    for (const v of values) if (typeof v === 'string' && v.length >= 8) secrets.add(v)
  }
  const ok = (res: LightMyRequestResponse, label: string): void => { t.ok(res.statusCode < 500, `${label}: ${res.statusCode}`) }

  // Authorization code + PKCE + OIDC, then refresh, userinfo, introspection, revocation.
  const code = await createCodeApplication(app, { algorithm: 'RS256' })
  keep(code.clientSecret, basicAuth(code.application.clientId, code.clientSecret ?? '').slice(6))
  const { verifier, challenge } = pkcePair('leak')
  keep(verifier)
  const authCode = await obtainCode(app, {
    response_type: 'code',
    client_id: code.application.clientId,
    redirect_uri: code.application.redirectUris[0] ?? '',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    scope: 'openid read',
    nonce: 'n-0123456789',
  })
  keep(authCode)
  const exchanged = await exchangeCode(app, codeClient(code), authCode, { redirect_uri: code.application.redirectUris[0] ?? '', code_verifier: verifier })
  t.equal(exchanged.statusCode, 200, exchanged.body)
  const tokens = exchanged.json<{ access_token: string, refresh_token: string, id_token: string }>()
  keep(tokens.access_token, tokens.refresh_token, tokens.id_token)
  const refreshed = await postToken(app, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token }, { authorization: basicAuth(code.application.clientId, code.clientSecret ?? '') })
  t.equal(refreshed.statusCode, 200, refreshed.body)
  const fresh = refreshed.json<{ access_token: string, refresh_token: string, id_token?: string }>()
  keep(fresh.access_token, fresh.refresh_token, fresh.id_token)
  ok(await app.inject({ url: '/o/userinfo/', headers: { authorization: `Bearer ${fresh.access_token}` } }), 'userinfo')
  ok(await app.inject({ url: `/o/userinfo/?access_token=${fresh.access_token}` }), 'userinfo query token')
  ok(await app.inject({ url: `/api/hello?access_token=${fresh.access_token}` }), 'query-string bearer')
  ok(await app.inject({ url: '/api/hello', headers: { authorization: `Bearer ${fresh.access_token}` } }), 'bearer')
  ok(await app.inject({ url: `/o/introspect/?token=${fresh.access_token}`, headers: { authorization: `Bearer ${fresh.access_token}` } }), 'introspect GET')
  ok(await app.inject({ method: 'POST', url: '/o/introspect/', headers: { ...FORM, authorization: basicAuth(code.application.clientId, code.clientSecret ?? '') }, payload: form({ token: fresh.refresh_token }) }), 'introspect POST')
  ok(await app.inject({ url: `/o/logout/?id_token_hint=${tokens.id_token}&client_id=${code.application.clientId}`, headers: asUser(ALICE.id) }), 'logout')

  // Client credentials (Basic and client_secret_post), password, revoke; failures too.
  const cc = await createApplication(app)
  keep(cc.clientSecret)
  const ccToken = (await postToken(app, { grant_type: 'client_credentials', client_id: cc.application.clientId, client_secret: cc.clientSecret ?? '' })).json<{ access_token: string }>().access_token
  keep(ccToken)
  ok(await postToken(app, { grant_type: 'client_credentials' }, { authorization: basicAuth(cc.application.clientId, `${cc.clientSecret ?? ''}-wrong`) }), 'wrong secret')
  ok(await postToken(app, { grant_type: 'client_credentials' }, { authorization: `Basic ${Buffer.from(`${cc.application.clientId}:${cc.clientSecret ?? ''}`).toString('base64')}%` }), 'garbled Basic')
  ok(await app.inject({ method: 'POST', url: '/o/revoke-token/', headers: { ...FORM, authorization: basicAuth(cc.application.clientId, cc.clientSecret ?? '') }, payload: form({ token: ccToken }) }), 'revoke')
  const pw = await createApplication(app, { authorizationGrantType: 'password' })
  keep(pw.clientSecret, ALICE.password)
  const pwTokens = (await passwordGrant(app, pw)).json<{ access_token: string, refresh_token: string }>()
  keep(pwTokens.access_token, pwTokens.refresh_token)
  ok(await passwordGrant(app, pw, { password: 'hunter2-wrong-password' }), 'wrong password')
  keep('hunter2-wrong-password')
  // Malformed bodies that carry secrets must not be echoed into error logs either.
  ok(await app.inject({ method: 'POST', url: '/o/token/', headers: { 'content-type': 'application/json' }, payload: `{"client_secret":"${cc.clientSecret ?? ''}",` }), 'broken JSON')

  // Management pages: register an application (the secret is shown once, never logged).
  const page = await app.inject({ url: '/o/applications/register/', headers: asUser(ALICE.id) })
  const csrf = unescapeHtml(/name="csrf_token" value="([^"]*)"/.exec(page.body)?.[1] ?? '')
  const registered = await app.inject({
    method: 'POST',
    url: '/o/applications/register/',
    headers: asUser(ALICE.id, { ...FORM, cookie: csrfCookieOf(page) ?? '' }),
    payload: form({ name: 'Leaky', clientType: 'confidential', authorizationGrantType: 'client-credentials', redirectUris: '', postLogoutRedirectUris: '', allowedOrigins: '', algorithm: '', csrf_token: csrf }),
  })
  const shownSecret = /id="client-secret">([^<]*)</.exec(registered.body)?.[1]
  t.type(shownSecret, 'string', 'the management page showed a new secret')
  keep(shownSecret, csrf)

  ok(await exchangeCode(app, codeClient(code), authCode, { redirect_uri: code.application.redirectUris[0] ?? '', code_verifier: verifier }), 'code replay')

  const log = lines.join('')
  t.ok(lines.length > 40, `the app logged (${lines.length} lines at trace level)`)
  t.match(log, /incoming request/, 'request logging was on')
  const leaked = [...secrets].filter((secret) => log.includes(secret) || log.includes(encodeURIComponent(secret)))
  t.same(leaked, [], `none of ${secrets.size} secrets appears in the log`)
  t.notMatch(log, /authorization|cookie/i, 'no header reaches the log')
})
