// The authorization endpoint's redirectable errors: error, error_description and state at the
// client's redirect URI (RFC 6749 §4.1.2.1, §4.2.2.1).
import t from 'tap'
import {
  assertCleanHeaders, assertRedirectError, authorizeUrl, buildAuthorizeApp, codeRequest, createCodeApplication, fetchConsent,
  getAuthorize, obtainCode, REDIRECT_URI, redirectParams, setupCodeClient,
} from '../helpers/authorize.js'
import { createApplication } from '../helpers/index.js'

t.test('a valid request shows the consent page (the baseline every error test departs from)', async (t) => {
  const { app, clientId } = await setupCodeClient(t)
  const res = await getAuthorize(app, codeRequest(clientId))
  t.equal(res.statusCode, 200)
  t.match(res.body, '<form method="post"')
})

t.test('response_type missing or unsupported redirects with error, error_description and state', async (t) => {
  const { app, clientId } = await setupCodeClient(t)
  assertRedirectError(t, await getAuthorize(app, codeRequest(clientId, { response_type: '' })),
    { error: 'invalid_request', error_description: 'Missing response_type parameter.', state: 'xyz' })
  const { response_type: _omitted, ...withoutType } = codeRequest(clientId)
  assertRedirectError(t, await getAuthorize(app, withoutType),
    { error: 'invalid_request', error_description: 'Missing response_type parameter.', state: 'xyz' })
  for (const type of ['bogus', 'code token', 'id_token', 'CODE', 'none']) {
    assertRedirectError(t, await getAuthorize(app, codeRequest(clientId, { response_type: type })),
      { error: 'unsupported_response_type', error_description: 'The response type is not supported by this server.', state: 'xyz' })
  }
})

t.test('response_type=token while the implicit grant is disabled: unsupported_response_type in the fragment', async (t) => {
  const app = await buildAuthorizeApp(t)
  const { application } = await createApplication(app, { clientType: 'public', authorizationGrantType: 'implicit', redirectUris: [REDIRECT_URI] })
  const res = await getAuthorize(app, { response_type: 'token', client_id: application.clientId, redirect_uri: REDIRECT_URI, state: 'xyz' })
  assertRedirectError(t, res, { error: 'unsupported_response_type', error_description: 'The response type is not supported by this server.', state: 'xyz' },
    { part: 'fragment' })
  t.notMatch(String(res.headers.location), '?', 'nothing in the query')
})

t.test('a response type the application is not registered for: unauthorized_client', async (t) => {
  const app = await buildAuthorizeApp(t, { settings: { implicitGrantEnabled: true } })
  const code = await createCodeApplication(app)
  const implicit = await createApplication(app, { clientType: 'public', authorizationGrantType: 'implicit', redirectUris: [REDIRECT_URI] })
  const cc = await createApplication(app, { authorizationGrantType: 'client-credentials', redirectUris: [REDIRECT_URI] })
  const password = await createApplication(app, { authorizationGrantType: 'password', redirectUris: [REDIRECT_URI] })
  const unauthorized = { error: 'unauthorized_client', error_description: 'The client is not authorized to use this response type.', state: 'xyz' }
  assertRedirectError(t, await getAuthorize(app, { ...codeRequest(code.application.clientId), response_type: 'token' }), unauthorized, { part: 'fragment' })
  assertRedirectError(t, await getAuthorize(app, codeRequest(implicit.application.clientId)), unauthorized)
  assertRedirectError(t, await getAuthorize(app, codeRequest(cc.application.clientId)), unauthorized)
  assertRedirectError(t, await getAuthorize(app, codeRequest(password.application.clientId)), unauthorized)
})

t.test('unknown or malformed scope: invalid_scope at the redirect URI', async (t) => {
  const { app, clientId } = await setupCodeClient(t)
  const invalidScope = { error: 'invalid_scope', error_description: 'The requested scope is invalid, unknown or exceeds what was granted.', state: 'xyz' }
  assertRedirectError(t, await getAuthorize(app, codeRequest(clientId, { scope: 'read admin' })), invalidScope)
  assertRedirectError(t, await getAuthorize(app, codeRequest(clientId, { scope: '__all__' })), invalidScope)
  assertRedirectError(t, await getAuthorize(app, codeRequest(clientId, { scope: 'constructor' })), invalidScope)
  assertRedirectError(t, await getAuthorize(app, codeRequest(clientId, { scope: 'read "write"' })),
    { ...invalidScope, error_description: 'The scope parameter is malformed.' })
  t.equal((await getAuthorize(app, codeRequest(clientId, { scope: 'read' }))).statusCode, 200, 'a known scope is fine')
})

t.test('PKCE-3 a missing code_challenge is refused while pkceRequired (the default)', async (t) => {
  const { app, clientId } = await setupCodeClient(t)
  const { code_challenge: _c, code_challenge_method: _m, ...noPkce } = codeRequest(clientId)
  assertRedirectError(t, await getAuthorize(app, noPkce), { error: 'invalid_request', error_description: 'Code challenge required.', state: 'xyz' })
  const publicApp = await createCodeApplication(app, { clientType: 'public' })
  const { code_challenge: _pc, code_challenge_method: _pm, ...publicNoPkce } = codeRequest(publicApp.application.clientId)
  assertRedirectError(t, await getAuthorize(app, publicNoPkce), { error: 'invalid_request', error_description: 'Code challenge required.', state: 'xyz' })
})

t.test('with pkceRequired: false a request without PKCE is accepted', async (t) => {
  const { app, clientId } = await setupCodeClient(t, { settings: { pkceRequired: false } })
  const { code_challenge: _c, code_challenge_method: _m, ...noPkce } = codeRequest(clientId)
  const consent = await fetchConsent(app, noPkce)
  t.equal(consent.fields.code_challenge, undefined)
  // A method without a challenge is still malformed.
  assertRedirectError(t, await getAuthorize(app, { ...noPkce, code_challenge_method: 'S256' }),
    { error: 'invalid_request', error_description: 'code_challenge_method without code_challenge.', state: 'xyz' })
})

t.test('PKCE-3 plain is refused by default, and an unknown method always', async (t) => {
  const { app, clientId } = await setupCodeClient(t)
  const unsupported = { error: 'invalid_request', error_description: 'Transform algorithm not supported.', state: 'xyz' }
  assertRedirectError(t, await getAuthorize(app, codeRequest(clientId, { code_challenge_method: 'plain' })), unsupported)
  const { code_challenge_method: _m, ...defaultMethod } = codeRequest(clientId)
  // No method means plain (RFC 7636 §4.3).
  assertRedirectError(t, await getAuthorize(app, defaultMethod), unsupported)
  for (const method of ['s256', 'S512', 'none']) {
    assertRedirectError(t, await getAuthorize(app, codeRequest(clientId, { code_challenge_method: method })), unsupported)
  }
})

t.test('pkcePlainAllowed accepts plain, with or without the explicit method', async (t) => {
  const { app, clientId } = await setupCodeClient(t, { settings: { pkcePlainAllowed: true } })
  const plain = 'p'.repeat(43)
  const consent = await fetchConsent(app, codeRequest(clientId, { code_challenge: plain, code_challenge_method: 'plain' }))
  t.equal(consent.fields.code_challenge_method, 'plain')
  const { code_challenge_method: _m, ...implied } = codeRequest(clientId, { code_challenge: plain })
  t.equal((await getAuthorize(app, implied)).statusCode, 200)
  assertRedirectError(t, await getAuthorize(app, codeRequest(clientId, { code_challenge_method: 'S384' })),
    { error: 'invalid_request', error_description: 'Transform algorithm not supported.', state: 'xyz' })
})

t.test('a malformed code_challenge or a method without challenge is invalid_request', async (t) => {
  const { app, clientId } = await setupCodeClient(t)
  const malformed = { error: 'invalid_request', error_description: 'The code_challenge parameter is malformed.', state: 'xyz' }
  for (const challengeValue of ['a'.repeat(42), 'a'.repeat(129), `${'a'.repeat(42)}+`, `${'a'.repeat(42)}=`, `${'a'.repeat(42)} `, `${'a'.repeat(42)}é`]) {
    assertRedirectError(t, await getAuthorize(app, codeRequest(clientId, { code_challenge: challengeValue })), malformed)
  }
  t.equal((await getAuthorize(app, codeRequest(clientId, { code_challenge: 'a'.repeat(128) }))).statusCode, 200, '128 characters is fine')
  const { code_challenge: _c, ...methodOnly } = codeRequest(clientId)
  assertRedirectError(t, await getAuthorize(app, methodOnly),
    { error: 'invalid_request', error_description: 'code_challenge_method without code_challenge.', state: 'xyz' })
})

t.test('repeated authorization parameters redirect with invalid_request', async (t) => {
  const { app, clientId } = await setupCodeClient(t)
  for (const name of ['response_type', 'scope', 'code_challenge', 'code_challenge_method', 'nonce', 'approval_prompt']) {
    const params = codeRequest(clientId, { scope: 'read', nonce: 'n', approval_prompt: 'force' })
    const value = params[name]
    const res = await getAuthorize(app, { ...params, [name]: [String(value), String(value)] })
    assertRedirectError(t, res, { error: 'invalid_request', error_description: `Parameter repeated: ${name}.`, state: 'xyz' })
  }
  const twoStates = await getAuthorize(app, codeRequest(clientId, { state: ['one', 'two'] }))
  t.equal(twoStates.statusCode, 302)
  t.same(redirectParams(twoStates), { error: 'invalid_request', error_description: 'Parameter repeated: state.', state: 'one' })
})

t.test('an invalid approval_prompt is invalid_request', async (t) => {
  const { app, clientId } = await setupCodeClient(t)
  assertRedirectError(t, await getAuthorize(app, codeRequest(clientId, { approval_prompt: 'never' })),
    { error: 'invalid_request', error_description: 'Invalid approval_prompt parameter value.', state: 'xyz' })
})

t.test('error redirects keep the registered URI\'s own query and omit an absent state', async (t) => {
  const app = await buildAuthorizeApp(t)
  const registered = 'https://client.example.com/cb?tenant=a&x=%20y'
  const { application } = await createCodeApplication(app, { redirectUris: [registered] })
  const res = await getAuthorize(app, { response_type: 'bogus', client_id: application.clientId, redirect_uri: registered })
  t.equal(res.statusCode, 302)
  t.ok(String(res.headers.location).startsWith(`${registered}&error=`), 'the registered bytes come first, untouched')
  t.same(redirectParams(res), { tenant: 'a', x: ' y', error: 'unsupported_response_type', error_description: 'The response type is not supported by this server.' })

  const code = await obtainCode(app, codeRequest(application.clientId, { redirect_uri: registered }))
  t.ok(code, 'the code is appended to the same query')
})

t.test('a hostile state travels back encoded, never raw', async (t) => {
  const { app, clientId } = await setupCodeClient(t)
  const state = 'a b&c=d#e\r\nX-Evil: 1<script>'
  const res = await getAuthorize(app, codeRequest(clientId, { response_type: 'bogus', state }))
  t.equal(res.statusCode, 302)
  assertCleanHeaders(t, res, 'hostile state')
  t.equal(redirectParams(res).state, state)
})

t.test('the endpoint answers with and without the trailing slash', async (t) => {
  const { app, clientId } = await setupCodeClient(t)
  const res = await app.inject({ method: 'GET', url: authorizeUrl(codeRequest(clientId), '/o/authorize'), headers: { 'x-test-user': 'user-alice' } })
  t.equal(res.statusCode, 200)
})
