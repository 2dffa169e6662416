// A client an end user created, by dynamic registration (RFC 7591) or on the management pages
// any logged-in user may use, is only as trustworthy as whoever created it: until the user has
// authenticated and approved, its errors are shown on the error page, never redirected, so
// neither can turn authorize/ into an open redirector (RFC 9700 §4.11.2). The same requests for
// a client the operator created (CLI, host code, owned or not) still redirect (RFC 6749 §4.1.2.1).
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import t, { type Test } from 'tap'
import { oauthRoutes } from '../../index.js'
import { ALICE, basicAuth, FORM, form } from '../helpers/index.js'
import {
  asUser, buildAuthorizeApp, createCodeApplication, fetchConsent, getAuthorize, parseConsent, pkcePair, postDecision,
  redirectParams, type AuthorizeParams,
} from '../helpers/authorize.js'
import { registerThroughPages, submitPage } from '../helpers/management.js'
import { newRsaPem, oidcSettings } from '../oidc/support.js'

const EVIL = 'https://evil.example/cb'
const { challenge } = pkcePair()

const BOB = 'user-bob'

const app = await buildAuthorizeApp(t, {
  prefix: false,
  oidc: { privateKey: newRsaPem() },
  settings: oidcSettings({ dcrEnabled: true, dcrRegistrationPolicy: 'open', protectedResources: [{ resource: 'https://api.example/' }] }),
})
await app.register(oauthRoutes, { prefix: '/o', managementPages: true })

async function register (fastify: FastifyInstance, body: Record<string, unknown>): Promise<Record<string, string>> {
  const res = await fastify.inject({ method: 'POST', url: '/o/register/', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) })
  if (res.statusCode !== 201) throw new Error(`registration failed: ${res.body}`)
  return res.json()
}

const registered = await register(app, { redirect_uris: [EVIL], token_endpoint_auth_method: 'none', client_name: 'Totally legit' })
const confidential = await register(app, { redirect_uris: [EVIL], client_name: 'Confidential' })
const hostMade = await createCodeApplication(app, { redirectUris: [EVIL] })
// An operator's client with an owner (the CLI's --user, host code's userId): still trusted.
const hostOwned = await createCodeApplication(app, { redirectUris: [EVIL], userId: ALICE.id })
// Host code creating a client for one of its users says so.
const hostUntrusted = await createCodeApplication(app, { redirectUris: [EVIL], selfRegistered: true })
// Any user who can log in may create these, with any redirect URI.
const PAGE_FIELDS = { clientType: 'confidential', authorizationGrantType: 'authorization-code', redirectUris: EVIL, postLogoutRedirectUris: '', allowedOrigins: '', algorithm: '' }
const viaPages = await registerThroughPages(app, { ...PAGE_FIELDS, name: 'Pages app' }, BOB)
const viaPagesPublic = await registerThroughPages(app, { clientType: 'public', authorizationGrantType: 'openid-hybrid', redirectUris: EVIL }, BOB)

function request (clientId: string, extra: AuthorizeParams = {}): AuthorizeParams {
  return { response_type: 'code', client_id: clientId, redirect_uri: EVIL, state: 's', code_challenge: challenge, code_challenge_method: 'S256', ...extra }
}

/** The error page: 400, HTML, no Location, the error code shown. */
function assertPage (t: Test, res: LightMyRequestResponse, error: string, message: string): void {
  t.equal(res.statusCode, 400, `${message}: 400`)
  t.equal(res.headers.location, undefined, `${message}: no Location`)
  t.match(res.headers['content-type'], /^text\/html/, `${message}: HTML`)
  t.notMatch(res.body, /<form method="post" action="https:\/\/evil/, `${message}: no form_post to the client`)
  t.match(res.body, `<code>${error}</code>`, `${message}: ${error}`)
}

// Each request and the error it earns; all of them are found before any login or consent.
const CASES: ReadonlyArray<readonly [string, AuthorizeParams, string]> = [
  ['unknown response_type', { response_type: 'token' }, 'unsupported_response_type'],
  ['missing response_type', { response_type: '' }, 'invalid_request'],
  ['hybrid with an access token', { response_type: 'code id_token token', scope: 'openid', nonce: 'n' }, 'unsupported_response_type'],
  ['hybrid for a code client', { response_type: 'code id_token', scope: 'openid', nonce: 'n' }, 'unauthorized_client'],
  ['unknown scope', { scope: 'admin' }, 'invalid_scope'],
  ['no PKCE', { code_challenge: '', code_challenge_method: '' }, 'invalid_request'],
  ['plain PKCE', { code_challenge_method: 'plain' }, 'invalid_request'],
  ['malformed PKCE', { code_challenge: 'short' }, 'invalid_request'],
  ['unknown resource', { resource: 'https://other.example/' }, 'invalid_target'],
  ['unknown response_mode', { response_mode: 'jwt' }, 'invalid_request'],
  ['form_post with a bad scope', { response_mode: 'form_post', scope: 'admin' }, 'invalid_scope'],
  ['fragment with a bad scope', { response_mode: 'fragment', scope: 'admin' }, 'invalid_scope'],
  ['unsigned request object', { request: 'eyJhbGciOiJub25lIn0.e30.' }, 'invalid_request_object'],
  ['repeated scope', { scope: ['read', 'write'] }, 'invalid_request'],
  ['repeated state', { state: ['a', 'b'] }, 'invalid_request'],
  ['bad approval_prompt', { approval_prompt: 'never' }, 'invalid_request'],
  ['unknown prompt', { scope: 'openid', prompt: 'select_account' }, 'invalid_request'],
  ['bad max_age', { scope: 'openid', max_age: '-1' }, 'invalid_request'],
  ['prompt=none, logged out', { scope: 'openid', prompt: 'none' }, 'login_required'],
]

t.test('REDIR-4 every error before login of a self-registered client is the error page, for anonymous and logged-in users', async (t) => {
  for (const [name, extra, error] of CASES) {
    assertPage(t, await getAuthorize(app, request(registered.client_id ?? '', extra), null), error, `anonymous: ${name}`)
    if (error !== 'login_required') assertPage(t, await getAuthorize(app, request(registered.client_id ?? '', extra)), error, `logged in: ${name}`)
  }
})

t.test('REDIR-4 a client any user created on the management pages: every error before approval is the error page', async (t) => {
  for (const [clientId, kind] of [[viaPages.clientId, 'confidential'], [viaPagesPublic.clientId, 'public hybrid']] as const) {
    for (const [name, extra, error] of CASES) {
      // An openid-hybrid client may use `code id_token`: that case is no error for it.
      if (kind === 'public hybrid' && extra.response_type === 'code id_token') continue
      assertPage(t, await getAuthorize(app, request(clientId, extra), null), error, `${kind}, anonymous: ${name}`)
      if (error !== 'login_required') {
        assertPage(t, await getAuthorize(app, request(clientId, extra), BOB), error, `${kind}, its owner: ${name}`)
        assertPage(t, await getAuthorize(app, request(clientId, extra)), error, `${kind}, another user: ${name}`)
      }
    }
    assertPage(t, await getAuthorize(app, request(clientId, { scope: 'openid', prompt: 'none' })), 'consent_required', `${kind}: prompt=none, no consent`)
  }
  t.equal((await app.oauth.store.findApplicationByClientId(viaPages.clientId))?.selfRegistered, true, 'stored as self-registered')
  t.equal(await app.oauth.store.findClientRegistration(viaPages.id), null, 'with no registration record: the flag alone decides')
})

t.test('REDIR-4 host code creating a client with selfRegistered gets the same treatment', async (t) => {
  for (const [name, extra, error] of CASES) {
    assertPage(t, await getAuthorize(app, request(hostUntrusted.application.clientId, extra), null), error, `anonymous: ${name}`)
  }
})

t.test('REDIR-4 edits keep the flag: the management edit page and an RFC 7592 update', async (t) => {
  const edited = await submitPage(app, `/o/applications/${viaPages.id}/update/`, `/o/applications/${viaPages.id}/update/`, {
    ...PAGE_FIELDS,
    name: 'Renamed',
    redirectUris: `${EVIL} https://evil.example/other`,
    // Not form fields: ignored, whatever they say.
    selfRegistered: 'false',
    self_registered: '0',
  }, BOB)
  t.equal(edited.statusCode, 302, edited.body)
  const after = await app.oauth.store.findApplicationByClientId(viaPages.clientId)
  t.equal(after?.name, 'Renamed')
  t.equal(after?.selfRegistered, true, 'the owner cannot vouch for the client')
  assertPage(t, await getAuthorize(app, request(viaPages.clientId, { scope: 'admin' }), null), 'invalid_scope', 'after the edit')
  const detail = await app.inject({ method: 'GET', url: `/o/applications/${viaPages.id}/`, headers: asUser(BOB) })
  t.match(detail.body, /id="self-registered">no: its URIs come from a user/, 'the detail page shows it, read-only')
  t.notMatch((await app.inject({ method: 'GET', url: `/o/applications/${viaPages.id}/update/`, headers: asUser(BOB) })).body, /self.?registered/i, 'no such field on the form')

  const put = await app.inject({
    method: 'PUT',
    url: `/o/register/${registered.client_id ?? ''}/`,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${registered.registration_access_token ?? ''}` },
    payload: JSON.stringify({ client_id: registered.client_id, redirect_uris: [EVIL], token_endpoint_auth_method: 'none', self_registered: false, selfRegistered: false }),
  })
  t.equal(put.statusCode, 200, put.body)
  t.equal((await app.oauth.store.findApplicationByClientId(registered.client_id ?? ''))?.selfRegistered, true, 'the client cannot vouch for itself')
  assertPage(t, await getAuthorize(app, request(registered.client_id ?? '', { scope: 'admin' }), null), 'invalid_scope', 'after the RFC 7592 update')
})

t.test('REDIR-4 an operator\'s application its owner points somewhere new on the management pages is no longer vetted', async (t) => {
  const GOOD = 'https://good.example/cb'
  const owned = await createCodeApplication(app, { redirectUris: [GOOD], userId: BOB, name: 'Made by the operator' })
  const id = owned.application.id
  const edit = async (fields: Record<string, string>): Promise<LightMyRequestResponse> =>
    await submitPage(app, `/o/applications/${id}/update/`, `/o/applications/${id}/update/`, { ...PAGE_FIELDS, redirectUris: GOOD, ...fields }, BOB)
  t.equal((await edit({ name: 'Renamed by its owner' })).statusCode, 302)
  t.equal((await app.oauth.store.findApplicationById(id))?.selfRegistered, false, 'a rename changes nothing')
  t.equal((await edit({ name: 'Fewer URIs', redirectUris: GOOD })).statusCode, 302)
  t.equal((await app.oauth.store.findApplicationById(id))?.selfRegistered, false, 'the same URIs change nothing')
  const bad = request(owned.application.clientId, { redirect_uri: GOOD, scope: 'admin' })
  t.equal((await getAuthorize(app, bad, null)).statusCode, 302, 'still redirected before the edit')

  t.equal((await edit({ redirectUris: `${GOOD} ${EVIL}` })).statusCode, 302)
  t.equal((await app.oauth.store.findApplicationById(id))?.selfRegistered, true, 'a new redirect URI: the owner vouches for it, not the operator')
  assertPage(t, await getAuthorize(app, bad, null), 'invalid_scope', 'the old URI too')
  assertPage(t, await getAuthorize(app, { ...bad, redirect_uri: EVIL }, null), 'invalid_scope', 'the new URI')
  t.equal((await edit({ redirectUris: GOOD })).statusCode, 302)
  t.equal((await app.oauth.store.findApplicationById(id))?.selfRegistered, true, 'removing it again does not restore trust')

  const logout = await createCodeApplication(app, { redirectUris: [GOOD], userId: BOB })
  const logoutEdit = await submitPage(app, `/o/applications/${logout.application.id}/update/`, `/o/applications/${logout.application.id}/update/`,
    { ...PAGE_FIELDS, redirectUris: GOOD, postLogoutRedirectUris: 'https://evil.example/bye' }, BOB)
  t.equal(logoutEdit.statusCode, 302)
  t.equal((await app.oauth.store.findApplicationById(logout.application.id))?.selfRegistered, true, 'a new post-logout URI too')
})

t.test('REDIR-4 the flag comes with the application: no registration lookup per authorization request', async (t) => {
  const store = app.oauth.store
  const original = store.findClientRegistration.bind(store)
  let lookups = 0
  store.findClientRegistration = async (id) => { lookups++; return await original(id) }
  t.teardown(() => { store.findClientRegistration = original })
  assertPage(t, await getAuthorize(app, request(registered.client_id ?? '', { scope: 'admin' }), null), 'invalid_scope', 'registered')
  t.equal((await getAuthorize(app, request(registered.client_id ?? ''))).statusCode, 200, 'consent page')
  t.equal(lookups, 0)
})

t.test('REDIR-4 control: the same requests for host-made clients with the same redirect URI are redirected (RFC 6749 §4.1.2.1)', async (t) => {
  for (const [client, kind] of [[hostMade, 'no owner'], [hostOwned, 'with an owner']] as const) {
    for (const [name, extra, error] of CASES) {
      const res = await getAuthorize(app, request(client.application.clientId, extra), null)
      // RFC 9101 §6.3: until an object verifies its redirect URI is unproven, so for every client its errors are on the page.
      if (extra.request !== undefined) {
        assertPage(t, res, error, `${kind}, ${name}: the error page`)
        continue
      }
      if (extra.response_mode === 'form_post') {
        t.equal(res.statusCode, 200, `${kind}, ${name}: form_post page`)
        t.match(res.body, `name="error" value="${error}"`)
        continue
      }
      t.equal(res.statusCode, 302, `${kind}, ${name}: redirected`)
      const part = extra.response_mode === 'fragment' || String(extra.response_type ?? '').includes('id_token') || extra.response_type === 'token' ? 'fragment' : 'query'
      t.equal(redirectParams(res, part).error, error, `${kind}, ${name}`)
    }
  }
})

t.test('REDIR-4 prompt=none with a logged-in user who never consented: consent_required on the page', async (t) => {
  assertPage(t, await getAuthorize(app, request(registered.client_id ?? '', { scope: 'openid', prompt: 'none' })), 'consent_required', 'public client')
  assertPage(t, await getAuthorize(app, request(confidential.client_id ?? '', { scope: 'openid', prompt: 'none', approval_prompt: 'auto' })), 'consent_required', 'confidential client')
})

t.test('REDIR-4 the consent form POSTed back with a tampered field is the error page too', async (t) => {
  const consent = await fetchConsent(app, request(registered.client_id ?? ''))
  assertPage(t, await postDecision(app, consent, { fields: { scope: 'admin' } }), 'invalid_scope', 'tampered scope')
  assertPage(t, await postDecision(app, consent, { fields: { response_mode: 'jwt' } }), 'invalid_request', 'tampered response_mode')
  assertPage(t, await postDecision(app, consent, { fields: { code_challenge: undefined } }), 'invalid_request', 'PKCE removed')
})

t.test('REDIR-4 pushed requests: par/ answers in JSON, and a request_uri of a self-registered client never redirects an error', async (t) => {
  const clients = [
    [confidential.client_id ?? '', confidential.client_secret ?? '', 'registered'],
    [viaPages.clientId, viaPages.secret ?? '', 'management pages'],
  ] as const
  for (const [clientId, secret, kind] of clients) {
    const push = async (params: Record<string, string>): Promise<LightMyRequestResponse> => await app.inject({
      method: 'POST', url: '/o/par/', headers: { ...FORM, authorization: basicAuth(clientId, secret) }, payload: form(params),
    })
    const bad = await push({ ...request(clientId), scope: 'admin' } as Record<string, string>)
    t.equal(bad.statusCode, 400, kind)
    t.equal(bad.headers.location, undefined)
    t.equal(bad.json().error, 'invalid_scope')
    // The client authenticated at par/, but its redirect URI is still only its own word.
    const pushed = await push({ ...request(clientId), scope: 'openid', prompt: 'none' } as Record<string, string>)
    t.equal(pushed.statusCode, 201, kind)
    const uri = pushed.json<{ request_uri: string }>().request_uri
    assertPage(t, await getAuthorize(app, { client_id: clientId, request_uri: uri }, null), 'login_required', `${kind}: pushed prompt=none, logged out`)
    assertPage(t, await getAuthorize(app, { client_id: clientId, request_uri: uri }), 'consent_required', `${kind}: pushed prompt=none, no consent`)
  }
  // Control: an operator's client pushing the same request gets RFC 6749 redirects.
  const pushed = await app.inject({
    method: 'POST',
    url: '/o/par/',
    headers: { ...FORM, authorization: basicAuth(hostMade.application.clientId, hostMade.clientSecret ?? '') },
    payload: form({ ...request(hostMade.application.clientId), scope: 'openid', prompt: 'none' } as Record<string, string>),
  })
  t.equal(pushed.statusCode, 201)
  const res = await getAuthorize(app, { client_id: hostMade.application.clientId, request_uri: pushed.json<{ request_uri: string }>().request_uri }, null)
  t.equal(res.statusCode, 302, 'host-made: redirected')
  t.equal(redirectParams(res).error, 'login_required')
})

t.test('REDIR-4 after the user decided: approval redirects with the code, denial with access_denied; the page said where to', async (t) => {
  const consent = await getAuthorize(app, request(registered.client_id ?? ''))
  t.match(consent.body, /not registered by the operator/, 'the consent page warns')
  t.match(consent.body, '<strong>https://evil.example</strong>', 'and names where the browser goes')
  const pages = await getAuthorize(app, request(viaPages.clientId))
  t.match(pages.body, /not registered by the operator/, 'a management-page client gets the same warning')
  t.match(pages.body, '<strong>https://evil.example</strong>')
  const host = await getAuthorize(app, request(hostMade.application.clientId))
  t.notMatch((await getAuthorize(app, request(hostOwned.application.clientId))).body, /not registered by the operator/, 'nor for an owned one')
  t.notMatch(host.body, /not registered by the operator/, 'no warning for a host-made client')
  const approved = await postDecision(app, parseConsent(consent))
  t.equal(approved.statusCode, 302)
  t.type(redirectParams(approved).code, 'string')
  const denied = await postDecision(app, await fetchConsent(app, request(registered.client_id ?? '')), { allow: false })
  t.equal(denied.statusCode, 302, 'the user chose this, having been told where it leads')
  t.same(redirectParams(denied), { error: 'access_denied', error_description: 'The resource owner denied the request.', state: 's' })
})

t.test('REDIR-4 an earlier approval counts: prompt=none then succeeds without a page', async (t) => {
  const { verifier, challenge: c } = pkcePair('again')
  const params = request(confidential.client_id ?? '', { code_challenge: c, approval_prompt: 'auto' })
  const code = redirectParams(await postDecision(app, await fetchConsent(app, params))).code ?? ''
  const token = await app.inject({
    method: 'POST',
    url: '/o/token/',
    headers: { ...FORM, authorization: basicAuth(confidential.client_id ?? '', confidential.client_secret ?? '') },
    payload: form({ grant_type: 'authorization_code', code, redirect_uri: EVIL, code_verifier: verifier }),
  })
  t.equal(token.statusCode, 200)
  const silent = await app.inject({ method: 'GET', url: `/o/authorize/?${form({ ...params, scope: 'read write', prompt: 'none' } as Record<string, string>)}`, headers: asUser(ALICE.id) })
  t.equal(silent.statusCode, 302, 'approved before: the code is sent')
  t.type(redirectParams(silent).code, 'string')
})
