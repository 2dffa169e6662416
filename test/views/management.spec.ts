// DOT's application and authorized-token pages, through app.inject on a real SQLite file.
import { generateKeyPairSync } from 'node:crypto'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import t from 'tap'
import { oauthRoutes } from '../../index.js'
import { serverContext } from '../../lib/server.js'
import { ALICE, basicAuth, bearerWorks, FORM, form, postToken, type BuildAppOptions } from '../helpers/index.js'
import { asUser, buildAuthorizeApp, codeFlowTokens, createCodeApplication, csrfCookieOf, unescapeHtml } from '../helpers/authorize.js'
import { newRsaPem, oidcSettings } from '../oidc/support.js'

const BOB = 'user-bob'

async function buildManagementApp (t: Parameters<typeof buildAuthorizeApp>[0], options: BuildAppOptions = {}): Promise<FastifyInstance> {
  const app = await buildAuthorizeApp(t, { prefix: false, ...options })
  await app.register(oauthRoutes, { prefix: '/o', managementPages: true })
  return app
}

/** A page's CSRF token and the cookie it is bound to. */
interface FormState { token: string, cookie: string }

function formState (res: LightMyRequestResponse, cookie?: string): FormState {
  const token = /name="csrf_token" value="([^"]*)"/.exec(res.body)?.[1]
  const set = csrfCookieOf(res) ?? cookie
  if (token === undefined || set === undefined) throw new Error(`no form on ${res.statusCode}: ${res.body.slice(0, 300)}`)
  return { token: unescapeHtml(token), cookie: set }
}

async function get (app: FastifyInstance, url: string, user: string | null = ALICE.id, cookie?: string): Promise<LightMyRequestResponse> {
  return await app.inject({ method: 'GET', url, headers: asUser(user, cookie === undefined ? {} : { cookie }) })
}

async function post (app: FastifyInstance, url: string, fields: Record<string, string>, state: FormState | null, user: string | null = ALICE.id): Promise<LightMyRequestResponse> {
  const payload = form(state === null ? fields : { ...fields, csrf_token: state.token })
  return await app.inject({ method: 'POST', url, payload, headers: asUser(user, { ...FORM, ...(state === null ? {} : { cookie: state.cookie }) }) })
}

const VALID = {
  name: 'Billing dashboard',
  clientType: 'confidential',
  authorizationGrantType: 'client-credentials',
  redirectUris: '',
  postLogoutRedirectUris: '',
  allowedOrigins: '',
  algorithm: '',
}

/** Registers an application through the pages as `user`; returns its id, client id and the secret shown once. */
async function register (app: FastifyInstance, fields: Record<string, string> = VALID, user: string = ALICE.id): Promise<{ id: number, clientId: string, secret: string | null, res: LightMyRequestResponse }> {
  const page = await get(app, '/o/applications/register/', user)
  const res = await post(app, '/o/applications/register/', fields, formState(page), user)
  const clientId = /id="client-id">([^<]*)</.exec(res.body)?.[1] ?? ''
  const secret = /id="client-secret">([^<]*)</.exec(res.body)?.[1] ?? null
  const id = Number(/href="\/o\/applications\/(\d+)\/update\/"/.exec(res.body)?.[1] ?? 0)
  return { id, clientId, secret, res }
}

t.test('the pages are not mounted unless managementPages is set', async (t) => {
  const app = await buildAuthorizeApp(t)
  t.equal((await get(app, '/o/applications/')).statusCode, 404)
  t.equal((await get(app, '/o/authorized-tokens/')).statusCode, 404)
})

t.test('anonymous visitors go to the login URL with next; anonymous POSTs get 403', async (t) => {
  const app = await buildManagementApp(t)
  for (const url of ['/o/applications/', '/o/applications/register/', '/o/applications/1/', '/o/authorized-tokens/']) {
    const res = await get(app, url, null)
    t.equal(res.statusCode, 302, url)
    t.equal(res.headers.location, `/accounts/login/?next=${encodeURIComponent(url)}`)
  }
  const res = await post(app, '/o/applications/register/', VALID, null, null)
  t.equal(res.statusCode, 403)
  t.same(await app.oauth.store.listApplications(), [], 'nothing was created')
})

t.test('registering shows the secret once; it works and is stored hashed', async (t) => {
  const app = await buildManagementApp(t)
  const page = await get(app, '/o/applications/register/')
  t.equal(page.statusCode, 200)
  for (const [name, value] of Object.entries({ 'x-frame-options': 'DENY', 'referrer-policy': 'no-referrer', 'cache-control': 'no-store' })) {
    t.equal(page.headers[name], value, name)
  }
  t.match(String(page.headers['content-security-policy']), /frame-ancestors 'none'/)
  for (const label of ['Name', 'Client type', 'Authorization grant type', 'Redirect URIs', 'Post-logout redirect URIs', 'Allowed origins', 'Algorithm']) {
    t.match(page.body, new RegExp(`<label for="[^"]+">${label}</label>`), `labelled field ${label}`)
  }

  const { id, clientId, secret, res } = await register(app)
  t.equal(res.statusCode, 200)
  t.match(res.body, /shown only this once/)
  t.match(secret, /^\w{128}$/)
  const stored = await app.oauth.store.findApplicationById(id)
  t.equal(stored?.userId, ALICE.id, 'owned by the user who registered it')
  t.match(stored?.clientSecretHash, /^scrypt\$/)
  t.not(stored?.clientSecretHash, secret)

  const token = await postToken(app, { grant_type: 'client_credentials' }, { authorization: basicAuth(clientId, secret ?? '') })
  t.equal(token.statusCode, 200, 'the secret shown works at the token endpoint')

  const detail = await get(app, `/o/applications/${id}/`)
  t.equal(detail.statusCode, 200)
  t.notMatch(detail.body, secret ?? 'x', 'the detail page never shows the secret again')
  t.match(detail.body, clientId)
})

t.test('validation errors are shown beside their fields and nothing is stored', async (t) => {
  const app = await buildManagementApp(t)
  const page = await get(app, '/o/applications/register/')
  const res = await post(app, '/o/applications/register/', {
    ...VALID,
    name: 'x'.repeat(300),
    clientType: 'public',
    authorizationGrantType: 'authorization-code',
    redirectUris: 'http://evil.example/cb javascript:alert(1)',
    allowedOrigins: 'https://app.example.com/path',
    algorithm: 'HS256',
  }, formState(page))
  t.equal(res.statusCode, 400)
  for (const fieldName of ['name', 'redirectUris', 'allowedOrigins', 'algorithm']) {
    t.match(res.body, new RegExp(`id="${fieldName}-error" role="alert">[^<]+<`), `error beside ${fieldName}`)
  }
  t.match(res.body, /must use https unless the host is loopback/)
  t.match(res.body, /value="public" selected/, 'the form keeps what was typed')

  const missing = await post(app, '/o/applications/register/', { ...VALID, authorizationGrantType: 'authorization-code' }, formState(page))
  t.match(missing.body, /id="redirectUris-error" role="alert">at least one redirect URI is required/)
  t.same(await app.oauth.store.listApplications(), [])
})

t.test('HS256 through the pages: refused beside the field without a sealing key; with one, the secret is shown once and kept sealed', async (t) => {
  const hs256 = { ...VALID, authorizationGrantType: 'authorization-code', redirectUris: 'https://rp.example/cb', algorithm: 'HS256' }
  await t.test('without the key', async (t) => {
    const app = await buildManagementApp(t)
    const { res } = await register(app, hs256)
    t.equal(res.statusCode, 400)
    t.match(res.body, /id="algorithm-error" role="alert">HS256 needs the client secret in clear, but secrets are stored hashed: configure clientSecretSealingKey/)
    t.same(await app.oauth.store.listApplications(), [])
  })
  await t.test('with the key', async (t) => {
    const app = await buildManagementApp(t, { clientSecretSealingKey: 'k'.repeat(43) })
    const { id, clientId, secret } = await register(app, hs256)
    const stored = await app.oauth.store.findApplicationById(id)
    t.equal(stored?.algorithm, 'HS256')
    t.equal(serverContext(app.oauth).secretSealer?.open(clientId, stored?.clientSecretSealed ?? ''), secret)
    const page = await get(app, `/o/applications/${id}/`)
    const regenerated = await post(app, `/o/applications/${id}/regenerate-secret/`, {}, formState(page))
    const fresh = /id="client-secret">([^<]*)</.exec(regenerated.body)?.[1]
    t.not(fresh, secret)
    t.equal(serverContext(app.oauth).secretSealer?.open(clientId, (await app.oauth.store.findApplicationById(id))?.clientSecretSealed ?? ''), fresh, 'regeneration re-seals')
  })
})

t.test('every value is HTML-escaped', async (t) => {
  const app = await buildManagementApp(t)
  const { id } = await register(app, { ...VALID, name: '<script>alert("x")</script>' })
  for (const url of ['/o/applications/', `/o/applications/${id}/`, `/o/applications/${id}/update/`, `/o/applications/${id}/delete/`]) {
    const res = await get(app, url)
    t.notMatch(res.body, '<script>', url)
    t.match(res.body, '&lt;script&gt;', url)
  }
})

t.test('POSTs without a valid CSRF token change nothing (UI-1)', async (t) => {
  const app = await buildManagementApp(t)
  const { id } = await register(app)
  const page = await get(app, `/o/applications/${id}/delete/`)
  const state = formState(page)
  t.equal((await post(app, `/o/applications/${id}/delete/`, {}, null)).statusCode, 403, 'no token')
  t.equal((await post(app, `/o/applications/${id}/delete/`, {}, { token: state.token, cookie: 'oat_csrf=' + 'a'.repeat(43) })).statusCode, 403, 'another browser')
  t.equal((await post(app, `/o/applications/${id}/update/`, { ...VALID, name: 'changed' }, { token: 'forged', cookie: state.cookie })).statusCode, 403, 'forged token')
  const stored = await app.oauth.store.findApplicationById(id)
  t.equal(stored?.name, VALID.name)
  t.equal((await post(app, `/o/applications/${id}/delete/`, {}, state)).statusCode, 302, 'the real token works')
})

t.test("a user sees and changes only their own applications; another user's id is a 404", async (t) => {
  const app = await buildManagementApp(t)
  const alices = await register(app, { ...VALID, name: 'Alice app' })
  await register(app, { ...VALID, name: 'Bob app' }, BOB)
  const list = await get(app, '/o/applications/')
  t.match(list.body, 'Alice app')
  t.notMatch(list.body, 'Bob app')

  for (const url of [`/o/applications/${alices.id}/`, `/o/applications/${alices.id}/update/`, `/o/applications/${alices.id}/delete/`, '/o/applications/999/', '/o/applications/abc/']) {
    t.equal((await get(app, url, BOB)).statusCode, 404, url)
  }
  const bobsPage = await get(app, '/o/applications/register/', BOB)
  const res = await post(app, `/o/applications/${alices.id}/delete/`, {}, formState(bobsPage), BOB)
  t.equal(res.statusCode, 404)
  t.not(await app.oauth.store.findApplicationById(alices.id), null, "Bob cannot delete Alice's application")
})

t.test('update validates, saves and redirects to the detail page', async (t) => {
  const app = await buildManagementApp(t)
  const { id } = await register(app, { ...VALID, authorizationGrantType: 'authorization-code', redirectUris: 'https://app.example.com/cb' })
  const page = await get(app, `/o/applications/${id}/update/`)
  t.match(page.body, 'https://app.example.com/cb', 'the form is filled in')
  const bad = await post(app, `/o/applications/${id}/update/`, { ...VALID, authorizationGrantType: 'authorization-code', redirectUris: 'https://app.example.com/cb#frag' }, formState(page))
  t.equal(bad.statusCode, 400)
  t.match(bad.body, /id="redirectUris-error"/)
  const ok = await post(app, `/o/applications/${id}/update/`, {
    ...VALID, name: 'Renamed', authorizationGrantType: 'authorization-code', redirectUris: 'https://app.example.com/cb\nhttps://app.example.com/other',
  }, formState(page))
  t.equal(ok.statusCode, 302)
  t.equal(ok.headers.location, `/o/applications/${id}/`)
  const stored = await app.oauth.store.findApplicationById(id)
  t.equal(stored?.name, 'Renamed')
  t.same(stored?.redirectUris, ['https://app.example.com/cb', 'https://app.example.com/other'])
})

t.test('the detail page shows whether the application must use DPoP (RFC 9449), and an edit keeps it', async (t) => {
  const app = await buildManagementApp(t)
  const { id, res } = await register(app, VALID)
  t.match(res.body, /id="dpop">optional</)
  await app.oauth.store.updateApplication(id, { dpopBoundAccessTokens: true }, new Date())
  t.match((await get(app, `/o/applications/${id}/`)).body, /id="dpop">required: every token request must carry a proof of the client&#39;s key</)
  const page = await get(app, `/o/applications/${id}/update/`)
  t.equal((await post(app, `/o/applications/${id}/update/`, { ...VALID, name: 'Renamed' }, formState(page))).statusCode, 302)
  t.equal((await app.oauth.store.findApplicationById(id))?.dpopBoundAccessTokens, true, 'an edit keeps it')
})

t.test('INTRO-1: the introspection permission is shown, never settable or lost through the pages', async (t) => {
  const app = await buildManagementApp(t)
  const form = await get(app, '/o/applications/register/')
  t.notMatch(form.body, /allowIntrospection|allow_introspection/i, 'no such field on the form')
  // Extra fields a user might post, in every spelling, are ignored.
  const sneaky = { allowIntrospection: 'true', allow_introspection: 'on', introspection: '1' }
  const { id, res } = await register(app, { ...VALID, ...sneaky })
  t.equal(res.statusCode, 200)
  t.match(res.body, /id="introspection">its own tokens only</)
  t.equal((await app.oauth.store.findApplicationById(id))?.allowIntrospection, false, 'not granted by registering')
  const page = await get(app, `/o/applications/${id}/update/`)
  t.equal((await post(app, `/o/applications/${id}/update/`, { ...VALID, ...sneaky }, formState(page))).statusCode, 302)
  t.equal((await app.oauth.store.findApplicationById(id))?.allowIntrospection, false, 'nor by updating')

  // An administrator grants it (CLI, host code); the owner sees it and editing keeps it.
  await app.oauth.store.updateApplication(id, { allowIntrospection: true }, new Date())
  t.match((await get(app, `/o/applications/${id}/`)).body, /id="introspection">any client&#39;s access tokens \(a resource server, set by an administrator\)</)
  const again = await get(app, `/o/applications/${id}/update/`)
  t.equal((await post(app, `/o/applications/${id}/update/`, { ...VALID, name: 'Renamed' }, formState(again))).statusCode, 302)
  const kept = await app.oauth.store.findApplicationById(id)
  t.equal(kept?.name, 'Renamed')
  t.equal(kept?.allowIntrospection, true, 'an edit keeps it')
  const pub = await get(app, `/o/applications/${id}/update/`)
  t.equal((await post(app, `/o/applications/${id}/update/`, { ...VALID, clientType: 'public', authorizationGrantType: 'authorization-code', redirectUris: 'https://app.example.com/cb' }, formState(pub))).statusCode, 302)
  t.equal((await app.oauth.store.findApplicationById(id))?.allowIntrospection, false, 'turning public drops it')
})

t.test('regenerating the secret shows the new one once; the old one stops working', async (t) => {
  const app = await buildManagementApp(t)
  const { id, clientId, secret } = await register(app)
  const detail = await get(app, `/o/applications/${id}/`)
  const res = await post(app, `/o/applications/${id}/regenerate-secret/`, {}, formState(detail))
  t.equal(res.statusCode, 200)
  const fresh = /id="client-secret">([^<]*)</.exec(res.body)?.[1] ?? ''
  t.match(fresh, /^\w{128}$/)
  t.not(fresh, secret)
  t.equal((await postToken(app, { grant_type: 'client_credentials' }, { authorization: basicAuth(clientId, secret ?? '') })).statusCode, 401, 'old secret refused')
  t.equal((await postToken(app, { grant_type: 'client_credentials' }, { authorization: basicAuth(clientId, fresh) })).statusCode, 200, 'new secret works')
})

t.test('delete asks for confirmation, then deletes the application and its tokens', async (t) => {
  const app = await buildManagementApp(t)
  const { id, clientId, secret } = await register(app)
  const token = (await postToken(app, { grant_type: 'client_credentials' }, { authorization: basicAuth(clientId, secret ?? '') })).json<{ access_token: string }>().access_token
  const confirm = await get(app, `/o/applications/${id}/delete/`)
  t.equal(confirm.statusCode, 200)
  t.match(confirm.body, /cannot be undone/)
  const res = await post(app, `/o/applications/${id}/delete/`, {}, formState(confirm))
  t.equal(res.statusCode, 302)
  t.equal(res.headers.location, '/o/applications/')
  t.equal(await app.oauth.store.findApplicationById(id), null)
  t.notOk(await bearerWorks(app, token), 'its tokens are gone')
})

t.test('authorized tokens: the user sees their grants and revokes access and refresh token', async (t) => {
  const app = await buildManagementApp(t)
  const created = await createCodeApplication(app, { name: 'Photo printer' })
  const tokens = await codeFlowTokens(app, created, { scope: 'read' })
  await codeFlowTokens(app, created, { scope: 'read write', user: BOB })

  const list = await get(app, '/o/authorized-tokens/')
  t.equal(list.statusCode, 200)
  t.match(list.body, 'Photo printer')
  t.match(list.body, 'Reading scope')
  t.notMatch(list.body, 'Writing scope', "Bob's grant is not listed for Alice")
  const id = Number(/authorized-tokens\/(\d+)\/delete\//.exec(list.body)?.[1])
  const bobsList = await get(app, '/o/authorized-tokens/', BOB)
  const bobsId = Number(/authorized-tokens\/(\d+)\/delete\//.exec(bobsList.body)?.[1])
  t.equal((await get(app, `/o/authorized-tokens/${bobsId}/delete/`)).statusCode, 404, "another user's token is a 404")

  const confirm = await get(app, `/o/authorized-tokens/${id}/delete/`)
  t.equal(confirm.statusCode, 200)
  const res = await post(app, `/o/authorized-tokens/${id}/delete/`, {}, formState(confirm))
  t.equal(res.statusCode, 302)
  t.notOk(await bearerWorks(app, tokens.access_token), 'the access token is refused')
  const refresh = await postToken(app, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token ?? '' },
    { authorization: basicAuth(created.application.clientId, created.clientSecret ?? '') })
  t.equal(refresh.statusCode, 400, 'and so is its refresh token (DOT left it alive)')
  t.notMatch((await get(app, '/o/authorized-tokens/')).body, 'Photo printer')
})

t.test('host apps replace any template through the templates option', async (t) => {
  const app = await buildAuthorizeApp(t, {
    prefix: false,
    templates: { applicationList: (data) => `<p>custom list of ${data.applications.length}</p>` },
  })
  await app.register(oauthRoutes, { prefix: '/o', managementPages: true })
  const res = await get(app, '/o/applications/')
  t.equal(res.body, '<p>custom list of 0</p>')
  t.equal(res.headers['x-frame-options'], 'DENY', 'custom pages keep the security headers')
  t.match((await get(app, '/o/applications/register/')).body, /Register a new application/, 'the others stay built in')
})

t.test('JWT client authentication through the pages: a private_key_jwt client with a JWK Set gets no secret; private keys are refused beside the field', async (t) => {
  const app = await buildManagementApp(t)
  const page = await get(app, '/o/applications/register/')
  for (const label of ['Client authentication', 'Public keys \\(JWK Set\\)', 'JWK Set URL', 'Assertion signing algorithm']) {
    t.match(page.body, new RegExp(`<label for="[^"]+">${label}</label>`), `labelled field ${label}`)
  }
  const jwk = { kty: 'EC', crv: 'P-256', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0', kid: 'k1' }
  const keyed = { ...VALID, tokenEndpointAuthMethod: 'private_key_jwt', jwks: JSON.stringify({ keys: [jwk] }), jwksUri: '', tokenEndpointAuthSigningAlg: 'ES256' }

  const refused = await post(app, '/o/applications/register/', { ...keyed, jwks: JSON.stringify({ keys: [{ ...jwk, d: 'secret-part' }] }), jwksUri: 'https://c.example/jwks' }, formState(page))
  t.equal(refused.statusCode, 400)
  t.match(refused.body, /id="jwks-error" role="alert">must hold public keys only/)
  t.same(await app.oauth.store.listApplications(), [])

  const { id, secret, res } = await register(app, keyed)
  t.equal(res.statusCode, 200)
  t.equal(secret, null, 'no secret is shown: there is none')
  t.match(res.body, /id="auth-method">private_key_jwt, ES256</)
  t.notMatch(res.body, /regenerate-secret/, 'nothing to regenerate')
  const stored = await app.oauth.store.findApplicationById(id)
  t.equal(stored?.tokenEndpointAuthMethod, 'private_key_jwt')
  t.equal(stored?.clientSecretHash, '')
  t.same(JSON.parse(stored?.jwks ?? ''), { keys: [jwk] })

  // The edit form shows the keys and keeps them through an unrelated change.
  const edit = await get(app, `/o/applications/${id}/update/`)
  t.match(edit.body, /value="private_key_jwt" selected/)
  const updated = await post(app, `/o/applications/${id}/update/`, { ...keyed, name: 'Renamed' }, formState(edit))
  t.equal(updated.statusCode, 302)
  t.same(JSON.parse((await app.oauth.store.findApplicationById(id))?.jwks ?? ''), { keys: [jwk] })
})

t.test('request objects through the pages: the algorithm and the requirement are set, shown, and checked against the keys', async (t) => {
  const app = await buildManagementApp(t)
  const page = await get(app, '/o/applications/register/')
  for (const label of ['Request object signing algorithm', 'Require signed request objects']) {
    t.match(page.body, new RegExp(`<label for="[^"]+">${label}</label>`), `labelled field ${label}`)
  }
  const jwk = { kty: 'EC', crv: 'P-256', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0', kid: 'k1' }
  const signed = { ...VALID, requestObjectSigningAlg: 'ES256', requireSignedRequestObject: 'yes' }
  const refused = await post(app, '/o/applications/register/', signed, formState(page))
  t.equal(refused.statusCode, 400)
  t.match(refused.body, /id="requestObjectSigningAlg-error" role="alert">ES256 needs the client&#39;s public keys/)
  const { id, res } = await register(app, { ...signed, jwks: JSON.stringify({ keys: [jwk] }) })
  t.match(res.body, /id="request-objects">required: authorization requests must be signed request objects, ES256</)
  const stored = await app.oauth.store.findApplicationById(id)
  t.equal(stored?.requireSignedRequestObject, true)
  t.equal(stored?.requestObjectSigningAlg, 'ES256')
  const edit = await get(app, `/o/applications/${id}/update/`)
  t.match(edit.body, /<option value="yes" selected>yes<\/option>/)
  t.equal((await post(app, `/o/applications/${id}/update/`, { ...VALID, name: 'Renamed' }, formState(edit))).statusCode, 302, 'a form without the fields')
  t.equal((await app.oauth.store.findApplicationById(id))?.requireSignedRequestObject, true, 'keeps them')
  t.equal((await post(app, `/o/applications/${id}/update/`, { ...VALID, requireSignedRequestObject: 'no', requestObjectSigningAlg: '' }, formState(edit))).statusCode, 302)
  t.equal((await app.oauth.store.findApplicationById(id))?.requireSignedRequestObject, false, 'turned off')
})

t.test('signed UserInfo through the pages: the server\'s key algorithms are offered, one without a key is refused beside the field', async (t) => {
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
  const ed = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
  const app = await buildManagementApp(t, { settings: oidcSettings(), oidc: { signingKeys: [{ alg: 'ES256', privateKey: ec }, { alg: 'EdDSA', privateKey: ed }] } })
  const page = await get(app, '/o/applications/register/')
  t.match(page.body, /<label for="[^"]+">UserInfo signing algorithm<\/label>/)
  const options = [.../<select id="userinfoSignedResponseAlg"[^>]*>([\s\S]*?)<\/select>/.exec(page.body)?.[1]?.matchAll(/<option value="([^"]*)"/g) ?? []].map((m) => m[1])
  t.same(options, ['', 'ES256', 'EdDSA'], 'plain JSON, then what the server signs with')
  const refused = await post(app, '/o/applications/register/', { ...VALID, userinfoSignedResponseAlg: 'RS256' }, formState(page))
  t.equal(refused.statusCode, 400)
  t.match(refused.body, /id="userinfoSignedResponseAlg-error" role="alert">the server has no RS256 signing key \(it signs with ES256, EdDSA\)/)
  const { id, res } = await register(app, { ...VALID, userinfoSignedResponseAlg: 'EdDSA' })
  t.match(res.body, /id="userinfo-signing">signed JWT, EdDSA</)
  t.equal((await app.oauth.store.findApplicationById(id))?.userinfoSignedResponseAlg, 'EdDSA')
  const edit = await get(app, `/o/applications/${id}/update/`)
  t.match(edit.body, /<option value="EdDSA" selected>EdDSA<\/option>/)
  t.equal((await post(app, `/o/applications/${id}/update/`, { ...VALID, name: 'Renamed' }, formState(edit))).statusCode, 302, 'a form without the field')
  t.equal((await app.oauth.store.findApplicationById(id))?.userinfoSignedResponseAlg, 'EdDSA', 'keeps it')
  t.equal((await post(app, `/o/applications/${id}/update/`, { ...VALID, userinfoSignedResponseAlg: '' }, formState(edit))).statusCode, 302)
  t.equal((await app.oauth.store.findApplicationById(id))?.userinfoSignedResponseAlg, '', 'back to plain JSON')
})

t.test('back-channel logout through the pages: an https URL without fragment, escaped on every page, kept by a form without it', async (t) => {
  const app = await buildManagementApp(t, { settings: oidcSettings(), oidc: { privateKey: newRsaPem() } })
  const page = await get(app, '/o/applications/register/')
  t.match(page.body, /<label for="backchannelLogoutUri">Back-channel logout URL<\/label>/)
  const refused = await post(app, '/o/applications/register/', { ...VALID, backchannelLogoutUri: 'http://rp.example/bcl#x' }, formState(page))
  t.equal(refused.statusCode, 400)
  t.match(refused.body, /id="backchannelLogoutUri-error" role="alert">must be an https URL/)
  t.match(refused.body, /value="http:\/\/rp\.example\/bcl#x"/, 'the posted value comes back, escaped')
  const uri = 'https://rp.example/bcl?a=1&b="<x>"'
  const { id, res } = await register(app, { ...VALID, backchannelLogoutUri: uri, backchannelLogoutSessionRequired: 'yes' })
  t.match(res.body, /id="backchannel-logout"><code>https:\/\/rp\.example\/bcl\?a=1&amp;b=&quot;&lt;x&gt;&quot;<\/code>, sid required</)
  t.notOk(res.body.includes('"<x>"'), 'never unescaped')
  t.match(await app.oauth.store.findApplicationById(id), { backchannelLogoutUri: uri, backchannelLogoutSessionRequired: true })
  const edit = await get(app, `/o/applications/${id}/update/`)
  t.equal((await post(app, `/o/applications/${id}/update/`, { ...VALID, name: 'Renamed' }, formState(edit))).statusCode, 302, 'a form without the fields')
  t.match(await app.oauth.store.findApplicationById(id), { backchannelLogoutUri: uri, backchannelLogoutSessionRequired: true }, 'keeps them')
  t.equal((await post(app, `/o/applications/${id}/update/`, { ...VALID, backchannelLogoutUri: '', backchannelLogoutSessionRequired: 'no' }, formState(edit))).statusCode, 302)
  t.match(await app.oauth.store.findApplicationById(id), { backchannelLogoutUri: '', backchannelLogoutSessionRequired: false }, 'cleared')
})
