// UI-6: an application name is what a user reads on the consent page, so no entry point accepts
// one carrying Unicode format characters (bidi overrides, zero-width characters) or controls:
// host code, dynamic registration (RFC 7591 and 7592), the management pages and the CLI.
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import t from 'tap'
import { displayNameProblem } from '../../lib/display-name.js'
import { oauthRoutes } from '../../index.js'
import { ApplicationValidationError } from '../../entries/errors.js'
import { cli, migratedDatabase, withStore } from '../cli/helpers.js'
import { ALICE, FORM, form } from '../helpers/index.js'
import { asUser, buildAuthorizeApp, csrfCookieOf, unescapeHtml } from '../helpers/authorize.js'
import { buildOidcApp } from '../oidc/support.js'

/** Names that render as something else, or hide characters. */
const SPOOFS: ReadonlyArray<[string, string]> = [
  ['right-to-left override', 'Goo\u202Eelgoog'],
  ['left-to-right override', 'Goo\u202Dgle'],
  ['right-to-left isolate', '\u2067Google\u2069'],
  ['zero-width joiner', 'Goo\u200Dgle'],
  ['zero-width non-joiner', 'Goo\u200Cgle'],
  ['zero-width space', 'Google\u200B'],
  ['word joiner', 'Goo\u2060gle'],
  ['byte order mark', '\uFEFFGoogle'],
  ['soft hyphen', 'Goo\u00ADgle'],
  ['right-to-left mark', 'Google\u200F'],
  ['tag character', 'Google\u{E0041}'],
  ['C1 control (NEL)', 'Goo\u0085gle'],
  ['C0 control (BEL)', 'Goo\u0007gle'],
  ['line separator', 'Google\u2028Inc'],
]

/** Names that must stay possible: any script, marks, emoji, punctuation, spaces. */
const FINE = ['Café Müller', '日本語アプリ', 'مرحبا', 'Ünïcödé — “quoted” & <b>', 'Rocket 🚀', 'e\u0301 combining']

t.test('UI-6: one validator refuses format and control characters and keeps every visible name', async (t) => {
  for (const [what, name] of SPOOFS) t.match(displayNameProblem(name), /invisible formatting/, what)
  for (const name of FINE) t.equal(displayNameProblem(name), null, JSON.stringify(name))
})

t.test('UI-6: host code (app.oauth.createApplication) refuses a spoofing name and stores nothing', async (t) => {
  const app = await buildAuthorizeApp(t)
  for (const [what, name] of SPOOFS) {
    const err = await app.oauth.createApplication({ clientType: 'confidential', authorizationGrantType: 'client-credentials', name }).then(() => null, (e: unknown) => e)
    t.ok(err instanceof ApplicationValidationError, what)
    t.match((err as ApplicationValidationError).fields, { name: /invisible formatting/ }, what)
  }
  t.equal((await app.oauth.store.listApplications()).length, 0, 'nothing stored')
  const ok = await app.oauth.createApplication({ clientType: 'confidential', authorizationGrantType: 'client-credentials', name: FINE[0] })
  t.equal(ok.application.name, FINE[0])
})

t.test('UI-6: dynamic registration answers invalid_client_metadata for client_name and its localized forms, on create and update', async (t) => {
  const app = await buildAuthorizeApp(t, { settings: { dcrEnabled: true, dcrRegistrationPolicy: 'open', dcrRegistrationRateLimit: null } })
  const client = { redirect_uris: ['https://client.example/cb'], token_endpoint_auth_method: 'none', grant_types: ['authorization_code'], response_types: ['code'] }
  const send = async (method: 'POST' | 'PUT', url: string, body: unknown, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> =>
    await app.inject({ method, url, payload: JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } })
  const refused = {
    error: 'invalid_client_metadata',
    error_description: 'client_name must not contain control or invisible formatting characters (bidi overrides, zero-width characters).',
  }
  for (const [what, name] of SPOOFS) {
    for (const field of ['client_name', 'client_name#en', 'client_name#ar-EG']) {
      const res = await send('POST', '/o/register/', { ...client, [field]: name })
      t.equal(res.statusCode, 400, `${field}: ${what}`)
      t.same(res.json(), refused, `${field}: ${what}`)
    }
  }
  t.equal((await app.oauth.store.listApplications()).length, 0, 'nothing stored')

  const created = await send('POST', '/o/register/', { ...client, client_name: 'Honest client' })
  t.equal(created.statusCode, 201)
  const { client_id: clientId, registration_access_token: token } = created.json() as { client_id: string, registration_access_token: string }
  const update = await send('PUT', `/o/register/${clientId}/`, { ...client, client_id: clientId, client_name: 'Goo\u202Eelgoog' }, { authorization: `Bearer ${token}` })
  t.equal(update.statusCode, 400)
  t.same(update.json(), refused)
  t.equal((await app.oauth.store.findApplicationByClientId(clientId))?.name, 'Honest client', 'the update changed nothing')
})

t.test('UI-6: the management pages show a form error and store nothing, on register and on edit', async (t) => {
  const app: FastifyInstance = await buildAuthorizeApp(t, { prefix: false })
  await app.register(oauthRoutes, { prefix: '/o', managementPages: true })
  const fields = { clientType: 'confidential', authorizationGrantType: 'client-credentials', redirectUris: '', postLogoutRedirectUris: '', allowedOrigins: '', algorithm: '' }
  const submit = async (url: string, name: string): Promise<LightMyRequestResponse> => {
    const page = await app.inject({ method: 'GET', url, headers: asUser(ALICE.id) })
    const token = unescapeHtml(/name="csrf_token" value="([^"]*)"/.exec(page.body)?.[1] ?? '')
    const cookie = csrfCookieOf(page) ?? ''
    return await app.inject({ method: 'POST', url, payload: form({ ...fields, name, csrf_token: token }), headers: asUser(ALICE.id, { ...FORM, cookie }) })
  }
  for (const [what, name] of SPOOFS) {
    const res = await submit('/o/applications/register/', name)
    t.equal(res.statusCode, 400, what)
    t.match(res.body, /must not contain control or invisible formatting characters/, what)
  }
  t.equal((await app.oauth.store.listApplications()).length, 0, 'nothing stored')

  const ok = await submit('/o/applications/register/', 'Billing dashboard')
  t.equal(ok.statusCode, 200)
  const [created] = await app.oauth.store.listApplications()
  const edit = await submit(`/o/applications/${created?.id ?? 0}/update/`, 'Billing\u200Bdashboard')
  t.equal(edit.statusCode, 400)
  t.match(edit.body, /must not contain control or invisible formatting characters/)
  t.equal((await app.oauth.store.findApplicationById(created?.id ?? 0))?.name, 'Billing dashboard', 'the edit changed nothing')
})

t.test('UI-6: createapplication --name refuses a spoofing name with a clear error, exit 2, nothing stored', async (t) => {
  const path = await migratedDatabase(t.testdir())
  for (const [what, name] of SPOOFS.slice(0, 4)) {
    const r = await cli(['createapplication', 'confidential', 'client-credentials', '--name', name, '--database', path])
    t.equal(r.code, 2, what)
    t.equal(r.stdout, '', what)
    t.match(r.stderr, /^ {2}--name: +must not contain control or invisible formatting characters \(found U\+[0-9A-F]{4,5};/m, what)
    t.notMatch(r.stderr, /\n\s+at /, 'no stack trace')
  }
  t.equal(await withStore(path, async (store) => (await store.listApplications()).length), 0)
  const ok = await cli(['createapplication', 'confidential', 'client-credentials', '--name', 'Café Müller', '--database', path])
  t.equal(ok.code, 0)
})

// The same characters inside the URLs a client registers: every URL field, whether the browser is
// sent to it (redirect and post-logout URIs), a user reads it (client_uri, logo_uri, tos_uri,
// policy_uri) or this server calls it (jwks_uri, backchannel_logout_uri), is ASCII, as URLs are
// on the wire. A stored URL with a bidi override would read as another address on the staff pages
// and in logs.
const URL_FIELDS: ReadonlyArray<[string, (url: string) => Record<string, unknown>]> = [
  ['redirect_uris', (url) => ({ redirect_uris: [url] })],
  ['post_logout_redirect_uris', (url) => ({ post_logout_redirect_uris: [url] })],
  ['client_uri', (url) => ({ client_uri: url })],
  ['logo_uri', (url) => ({ logo_uri: url })],
  ['tos_uri', (url) => ({ tos_uri: url })],
  ['policy_uri', (url) => ({ policy_uri: url })],
  ['jwks_uri', (url) => ({ jwks_uri: url, token_endpoint_auth_method: 'private_key_jwt' })],
  ['backchannel_logout_uri', (url) => ({ backchannel_logout_uri: url })],
]

t.test('UI-6: no registered URL carries format or control characters: dynamic registration and host code', async (t) => {
  // OpenID Connect on, so that the post-logout and back-channel logout URIs are read, not ignored.
  const app = await buildOidcApp(t, { settings: { dcrEnabled: true, dcrRegistrationPolicy: 'open', dcrRegistrationRateLimit: null } })
  const base = { redirect_uris: ['https://client.example/cb'], grant_types: ['authorization_code'], response_types: ['code'] }
  for (const [field, body] of URL_FIELDS) {
    for (const [what, spoof] of SPOOFS) {
      const url = `https://client.example/${encodeURIComponent('x')}${spoof}`
      const res = await app.inject({ method: 'POST', url: '/o/register/', payload: JSON.stringify({ ...base, ...body(url) }), headers: { 'content-type': 'application/json' } })
      t.equal(res.statusCode, 400, `${field}: ${what}`)
      t.match(res.json(), { error: /^invalid_(client_metadata|redirect_uri)$/ }, `${field}: ${what}`)
    }
  }
  t.equal((await app.oauth.store.listApplications()).length, 0, 'nothing stored')
  for (const [field, value] of [['jwksUri', 'https://client.example/\u202ejwks'], ['backchannelLogoutUri', 'https://client.example/\u202elogout']] as const) {
    const err = await app.oauth.createApplication({
      clientType: 'confidential',
      authorizationGrantType: 'authorization-code',
      redirectUris: ['https://client.example/cb'],
      name: 'n',
      ...(field === 'jwksUri' ? { tokenEndpointAuthMethod: 'private_key_jwt' } : {}),
      [field]: value,
    }).then(() => null, (e: unknown) => e)
    t.ok(err instanceof ApplicationValidationError, `host code: ${field}`)
    t.match((err as ApplicationValidationError).fields, { [field]: /ASCII/ }, `host code: ${field}`)
  }
})
