// A dynamically registered client is held to what it registered: its token_endpoint_auth_method
// at every endpoint that authenticates clients, its scope at authorize and token, and GET
// register/:client_id/ shows the application as it is after a management-page edit.
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import t from 'tap'
import { oauthRoutes } from '../../index.js'
import { ALICE, basicAuth, buildApp, createApplication, FORM, form, postToken } from '../helpers/index.js'
import { passwordGrant, passwordGrantOptions } from '../helpers/password-grant.js'
import {
  asUser, assertFatalPage, buildAuthorizeApp, codeFlowTokens, csrfCookieOf, getAuthorize, pkcePair, unescapeHtml, USER_HEADER,
} from '../helpers/authorize.js'

const JSON_HEADERS = { 'content-type': 'application/json' }
const SCOPES = { read: 'Read', write: 'Write', admin: 'Administer' }
const REDIRECT = 'https://client.example.com/cb'

async function register (app: FastifyInstance, body: unknown): Promise<Record<string, string>> {
  const res = await app.inject({ method: 'POST', url: '/o/register/', payload: JSON.stringify(body), headers: { ...JSON_HEADERS, [USER_HEADER]: ALICE.id } })
  if (res.statusCode !== 201) throw new Error(`registration failed: ${res.body}`)
  return res.json()
}

async function post (app: FastifyInstance, url: string, params: Record<string, string>, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  return await app.inject({ method: 'POST', url, payload: form(params), headers: { ...FORM, ...headers } })
}

// User policy (the default), so ALICE owns what she registers and can edit it on the management pages.
const app = await buildAuthorizeApp(t, {
  prefix: false,
  ...passwordGrantOptions({ settings: { dcrEnabled: true, parEnabled: true, rateLimitFailures: null, scopes: SCOPES, defaultScopes: ['read', 'write'] } }),
})
await app.register(oauthRoutes, { prefix: '/o', managementPages: true })
// Anything but the authorization code grant (a confidential code client is enough there).
const ENDPOINTS: ReadonlyArray<readonly [string, string, Record<string, string>]> = [
  ['token', '/o/token/', { grant_type: 'authorization_code', code: 'nope', redirect_uri: REDIRECT, code_verifier: pkcePair().verifier }],
  ['revoke', '/o/revoke_token/', { token: 'nope' }],
  ['introspect', '/o/introspect/', { token: 'nope' }],
  ['PAR', '/o/par/', { response_type: 'code', redirect_uri: REDIRECT, code_challenge: pkcePair().challenge, code_challenge_method: 'S256' }],
]

t.test('token_endpoint_auth_method is enforced at token, revoke, introspect and PAR: another method is 401 invalid_client', async (t) => {
  const basic = await register(app, { redirect_uris: [REDIRECT], token_endpoint_auth_method: 'client_secret_basic' })
  const posted = await register(app, { redirect_uris: [REDIRECT], token_endpoint_auth_method: 'client_secret_post' })
  const none = await register(app, { redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none' })
  const asBasic = (c: Record<string, string>) => ({ authorization: basicAuth(c.client_id ?? '', c.client_secret ?? '') })
  const asPost = (c: Record<string, string>) => ({ client_id: c.client_id ?? '', client_secret: c.client_secret ?? '' })
  for (const [name, url, params] of ENDPOINTS) {
    const refused = [
      ['basic client with client_secret_post', await post(app, url, { ...params, ...asPost(basic) })],
      ['post client with client_secret_basic', await post(app, url, params, asBasic(posted))],
      ['none client with Basic and an empty secret', await post(app, url, params, { authorization: basicAuth(none.client_id ?? '', '') })],
    ] as const
    for (const [what, res] of refused) {
      t.equal(res.statusCode, 401, `${name}: ${what}: 401`)
      t.equal(res.json().error, 'invalid_client', `${name}: ${what}: invalid_client`)
    }
    // The registered method still works (whatever the endpoint then says about the request).
    for (const [what, res] of [
      ['basic', await post(app, url, params, asBasic(basic))],
      ['post', await post(app, url, { ...params, ...asPost(posted) })],
      // Introspection is for confidential clients only.
      ...(name === 'introspect' ? [] : [['none', await post(app, url, { ...params, client_id: none.client_id ?? '' })]] as const),
    ] as const) {
      t.not(res.statusCode, 401, `${name}: the registered ${what} method authenticates (${res.body})`)
      t.ok(res.statusCode < 500, `${name}: ${what}: no server error`)
    }
  }
  // Basic challenges a Basic failure (RFC 6749 §5.2).
  const res = await post(app, '/o/token/', ENDPOINTS[0]![2], asBasic(posted))
  t.equal(res.headers['www-authenticate'], 'Basic realm="oauth"')
})

t.test('the device authorization endpoint enforces it too', async (t) => {
  const device = await buildApp(t, { settings: { dcrEnabled: true, dcrRegistrationPolicy: 'open', deviceFlowEnabled: true } })
  const res = await device.inject({
    method: 'POST',
    url: '/o/register/',
    payload: JSON.stringify({ grant_types: ['urn:ietf:params:oauth:grant-type:device_code'], token_endpoint_auth_method: 'client_secret_post' }),
    headers: JSON_HEADERS,
  })
  t.equal(res.statusCode, 201, res.body)
  const client = res.json() as Record<string, string>
  const wrong = await post(device, '/o/device-authorization/', {}, { authorization: basicAuth(client.client_id ?? '', client.client_secret ?? '') })
  t.equal(wrong.statusCode, 401)
  t.equal(wrong.json().error, 'invalid_client')
  const right = await post(device, '/o/device-authorization/', { client_id: client.client_id ?? '', client_secret: client.client_secret ?? '' })
  t.equal(right.statusCode, 200, right.body)
})

t.test('applications not created by registration accept either method, as before', async (t) => {
  const created = await createApplication(app)
  t.equal(created.application.tokenEndpointAuthMethod, '')
  const viaBasic = await postToken(app, { grant_type: 'client_credentials' }, { authorization: basicAuth(created.application.clientId, created.clientSecret ?? '') })
  const viaPost = await postToken(app, { grant_type: 'client_credentials', client_id: created.application.clientId, client_secret: created.clientSecret ?? '' })
  t.equal(viaBasic.statusCode, 200)
  t.equal(viaPost.statusCode, 200)
  t.same(viaBasic.json().scope, 'read write', 'the default scopes')
  t.same((await postToken(app, { grant_type: 'client_credentials', scope: 'admin' }, { authorization: basicAuth(created.application.clientId, created.clientSecret ?? '') })).json().scope, 'admin')
})

t.test('the registered scope is enforced: invalid_scope at authorize (the error page: REDIR-4) and at token', async (t) => {
  // Authorize: a public code client registered for "read".
  const reader = await register(app, { redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none', scope: 'read' })
  const { challenge } = pkcePair()
  const base = { response_type: 'code', client_id: reader.client_id ?? '', redirect_uri: REDIRECT, code_challenge: challenge, code_challenge_method: 'S256', state: 'xyz' }
  // A self-registered client's errors before approval are shown, never redirected.
  const refused = await getAuthorize(app, { ...base, scope: 'read write' })
  assertFatalPage(t, refused, 'The client is not registered for the requested scope.', 'invalid_scope', 'invalid_scope')
  const application = await app.oauth.store.findApplicationByClientId(reader.client_id ?? '')
  t.same(application?.allowedScopes, ['read'])
  const allowed = await codeFlowTokens(app, { application: application!, clientSecret: null }, { scope: 'read' })
  t.equal(allowed.scope, 'read')
  const defaults = await codeFlowTokens(app, { application: application!, clientSecret: null })
  t.equal(defaults.scope, 'read', 'no scope asked: the defaults it may have (read of read write)')
  // PAR validates like authorize.
  const pushed = await post(app, '/o/par/', { ...base, scope: 'write' })
  t.equal(pushed.statusCode, 400)
  t.equal(pushed.json().error, 'invalid_scope')

  // Token: client_credentials and password clients registered for "read".
  const cc = await buildApp(t, { settings: { dcrEnabled: true, dcrRegistrationPolicy: 'initial-access-token', scopes: SCOPES, defaultScopes: ['write'] }, initialAccessTokens: ['initial-access-token-of-at-least-32-chars'] })
  const res = await cc.inject({
    method: 'POST',
    url: '/o/register/',
    payload: JSON.stringify({ grant_types: ['client_credentials'], scope: 'read' }),
    headers: { ...JSON_HEADERS, authorization: 'Bearer initial-access-token-of-at-least-32-chars' },
  })
  const client = res.json() as Record<string, string>
  const auth = { authorization: basicAuth(client.client_id ?? '', client.client_secret ?? '') }
  for (const scope of ['write', 'read write', 'admin']) {
    const denied = await postToken(cc, { grant_type: 'client_credentials', scope }, auth)
    t.equal(denied.statusCode, 400, `${scope}: 400`)
    t.equal(denied.json().error, 'invalid_scope', `${scope}: invalid_scope`)
  }
  t.equal((await postToken(cc, { grant_type: 'client_credentials', scope: 'read' }, auth)).json().scope, 'read')
  t.equal((await postToken(cc, { grant_type: 'client_credentials' }, auth)).json().scope, 'read', 'no scope asked, defaults (write) not allowed: its registered scope')
})

t.test('password and refresh grants: invalid_scope beyond the registered scope, also after a narrowing update', async (t) => {
  const registered = await register(app, { grant_types: ['password', 'refresh_token'], scope: 'read write' })
  const auth = { authorization: basicAuth(registered.client_id ?? '', registered.client_secret ?? '') }
  const denied = await passwordGrant(app, auth.authorization, { scope: 'admin' })
  t.equal(denied.json().error, 'invalid_scope')
  const granted = await passwordGrant(app, auth.authorization, { scope: 'read write' })
  t.equal(granted.statusCode, 200, granted.body)
  const body = granted.json() as { refresh_token: string }
  // RFC 7592 update narrows the registration to "read".
  const update = await app.inject({
    method: 'PUT',
    url: `/o/register/${registered.client_id ?? ''}/`,
    headers: { ...JSON_HEADERS, authorization: `Bearer ${registered.registration_access_token ?? ''}` },
    payload: JSON.stringify({ client_id: registered.client_id, grant_types: ['password', 'refresh_token'], scope: 'read' }),
  })
  t.equal(update.statusCode, 200, update.body)
  t.equal(update.json().scope, 'read')
  const unchanged = await postToken(app, { grant_type: 'refresh_token', refresh_token: body.refresh_token }, auth)
  t.equal(unchanged.json().error, 'invalid_scope', 'the original read write is no longer allowed')
  const narrowed = await postToken(app, { grant_type: 'refresh_token', refresh_token: body.refresh_token, scope: 'read' }, auth)
  t.equal(narrowed.statusCode, 200, narrowed.body)
  t.equal(narrowed.json().scope, 'read')
})

t.test('registration validates scope: unknown names are refused, an empty scope restricts nothing', async (t) => {
  const bad = await app.inject({ method: 'POST', url: '/o/register/', payload: JSON.stringify({ redirect_uris: [REDIRECT], scope: 'read hasOwnProperty' }), headers: { ...JSON_HEADERS, [USER_HEADER]: ALICE.id } })
  t.equal(bad.json().error, 'invalid_client_metadata')
  const empty = await register(app, { redirect_uris: [REDIRECT], scope: ' ' })
  t.notOk('scope' in empty)
  t.equal((await app.oauth.store.findApplicationByClientId(empty.client_id ?? ''))?.allowedScopes, null)
})

t.test('GET register/:client_id/ after a management-page edit shows the application as it now is', async (t) => {
  const created = await register(app, { redirect_uris: [REDIRECT], grant_types: ['authorization_code', 'refresh_token'], token_endpoint_auth_method: 'client_secret_post', scope: 'read' })
  const application = await app.oauth.store.findApplicationByClientId(created.client_id ?? '')
  const id = application?.id ?? 0
  // On the management page, Alice makes it a client_credentials application.
  const page = await app.inject({ method: 'GET', url: `/o/applications/${id}/update/`, headers: asUser(ALICE.id) })
  t.equal(page.statusCode, 200)
  const csrf = unescapeHtml(/name="csrf_token" value="([^"]*)"/.exec(page.body)?.[1] ?? '')
  const edit = async (fields: Record<string, string>) => await app.inject({
    method: 'POST',
    url: `/o/applications/${id}/update/`,
    payload: form({ name: 'Edited', redirectUris: REDIRECT, postLogoutRedirectUris: '', allowedOrigins: '', algorithm: '', ...fields, csrf_token: csrf }),
    headers: asUser(ALICE.id, { ...FORM, cookie: csrfCookieOf(page) ?? '' }),
  })
  t.equal((await edit({ clientType: 'confidential', authorizationGrantType: 'client-credentials' })).statusCode, 302)
  const read = async () => (await app.inject({ method: 'GET', url: `/o/register/${created.client_id ?? ''}/`, headers: { authorization: `Bearer ${created.registration_access_token ?? ''}` } })).json() as Record<string, unknown>
  t.match(await read(), {
    client_name: 'Edited',
    grant_types: ['client_credentials', 'refresh_token'],
    response_types: [],
    token_endpoint_auth_method: 'client_secret_post',
    scope: 'read',
  }, 'grant and response types follow the application')
  // The registered method still holds after the edit.
  t.equal((await postToken(app, { grant_type: 'client_credentials', client_id: created.client_id ?? '', client_secret: created.client_secret ?? '' })).statusCode, 200)

  t.equal((await edit({ clientType: 'public', authorizationGrantType: 'authorization-code' })).statusCode, 302)
  t.match(await read(), { grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none' },
    'a client made public authenticates with none')
  t.equal((await app.oauth.store.findApplicationById(id))?.tokenEndpointAuthMethod, 'none', 'and that is what is stored')
  const confidential = await edit({ clientType: 'confidential', authorizationGrantType: 'authorization-code' })
  t.equal(confidential.statusCode, 200, 'the new secret is shown once')
  t.match(confidential.body, 'id="client-secret"')
  t.match(await read(), { token_endpoint_auth_method: 'client_secret_basic' }, 'made confidential again: the RFC 7591 default')
})

t.test('POST register/ is limited per IP address (dcrRegistrationRateLimit): 429 JSON with Retry-After, nothing stored', async (t) => {
  for (const bad of [0, 1.5, -1, '3']) {
    await t.rejects(buildApp(t, { settings: { dcrEnabled: true, dcrRegistrationPolicy: 'open', dcrRegistrationRateLimit: bad as number } }),
      { code: 'OAT_ERR_SETTINGS', message: /dcrRegistrationRateLimit must be a positive integer/ }, `${String(bad)} is refused`)
  }
  const limited = await buildApp(t, { settings: { dcrEnabled: true, dcrRegistrationPolicy: 'open', dcrRegistrationRateLimit: 3, rateLimitWindowSeconds: 60 } })
  const attempt = async (remoteAddress: string, body: unknown = { redirect_uris: [REDIRECT] }) =>
    await limited.inject({ method: 'POST', url: '/o/register/', remoteAddress, payload: JSON.stringify(body), headers: JSON_HEADERS })
  t.equal((await attempt('203.0.113.1')).statusCode, 201)
  t.equal((await attempt('203.0.113.1', { redirect_uris: ['http://evil.example/cb'] })).statusCode, 400, 'failed registrations count too')
  t.equal((await attempt('203.0.113.1')).statusCode, 201)
  const refused = await attempt('203.0.113.1')
  t.equal(refused.statusCode, 429)
  t.same(refused.json(), { error: 'temporarily_unavailable', error_description: 'Too many attempts; retry later.' })
  t.ok(Number(refused.headers['retry-after']) >= 1 && Number(refused.headers['retry-after']) <= 60, 'Retry-After within the window')
  t.equal(refused.headers['cache-control'], 'no-store')
  t.equal((await limited.oauth.store.listApplications()).length, 2, 'the refused request wrote nothing')
  t.equal((await attempt('203.0.113.2')).statusCode, 201, 'another address is not affected')
  // Reading a registration is not limited by it.
  const created = (await attempt('203.0.113.3')).json() as Record<string, string>
  const read = await limited.inject({ method: 'GET', url: `/o/register/${created.client_id ?? ''}/`, remoteAddress: '203.0.113.1', headers: { authorization: `Bearer ${created.registration_access_token ?? ''}` } })
  t.equal(read.statusCode, 200)

  const unlimited = await buildApp(t, { settings: { dcrEnabled: true, dcrRegistrationPolicy: 'open', dcrRegistrationRateLimit: null } })
  for (let i = 0; i < 25; i++) {
    const res = await unlimited.inject({ method: 'POST', url: '/o/register/', payload: JSON.stringify({ redirect_uris: ['http://evil.example/cb'] }), headers: JSON_HEADERS })
    if (res.statusCode !== 400) t.fail(`request ${i}: ${res.statusCode}`)
  }
  t.pass('null turns the limit off')
})
