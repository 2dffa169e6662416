import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import t, { type Test } from 'tap'
import {
  assertJsonError, basicAuth, bearerWorks, buildApp, createApplication, createClient, form, FORM, invalidRequest, postToken,
  type TestClient, TOKEN_ERRORS, type TokenBody,
} from '../helpers/index.js'
import { passwordGrant, passwordGrantOptions } from '../helpers/password-grant.js'

const BASIC_CHALLENGE = 'Basic realm="oauth"'

/** An app with the password grant on, so that tokens come in access/refresh pairs. */
async function setup (t: Test): Promise<{ app: FastifyInstance, client: TestClient, other: TestClient }> {
  const app = await buildApp(t, passwordGrantOptions())
  const client = await createClient(app, { authorizationGrantType: 'password' })
  const other = await createClient(app, { authorizationGrantType: 'password' })
  return { app, client, other }
}

/** A fresh access/refresh pair for `ALICE`, issued to `client`. */
async function pair (app: FastifyInstance, client: TestClient): Promise<{ access: string, refresh: string }> {
  const res = await passwordGrant(app, client.authorization)
  if (res.statusCode !== 200) throw new Error(`token request failed: ${res.body}`)
  const body = res.json<TokenBody>()
  return { access: body.access_token, refresh: body.refresh_token ?? '' }
}

async function revoke (app: FastifyInstance, params: Record<string, string | readonly string[]>, headers: Record<string, string> = {}, url = '/o/revoke-token/'): Promise<LightMyRequestResponse> {
  return await app.inject({ method: 'POST', url, payload: form(params), headers: { ...FORM, ...headers } })
}

/** True when the refresh token still gets a new pair (it is used up when it does). */
async function refreshWorks (app: FastifyInstance, client: Pick<TestClient, 'authorization'>, refresh: string): Promise<boolean> {
  const res = await postToken(app, { grant_type: 'refresh_token', refresh_token: refresh }, { authorization: client.authorization })
  return res.statusCode === 200
}

/** RFC 7009 §2.2: 200 with an empty body. */
function assertRevoked (t: Test, res: LightMyRequestResponse, message = 'revoked'): void {
  t.equal(res.statusCode, 200, message)
  t.equal(res.body, '')
  t.equal(res.headers['cache-control'], 'no-store')
}

t.test('a client revokes its access token with Basic authentication', async (t) => {
  const { app, client } = await setup(t)
  const { access } = await pair(app, client)
  t.ok(await bearerWorks(app, access))
  assertRevoked(t, await revoke(app, { token: access }, { authorization: client.authorization }))
  t.notOk(await bearerWorks(app, access), 'refused right after the 200 (RFC 7009 §2.1: immediately)')
})

t.test('a client revokes with client_secret_post authentication', async (t) => {
  const { app, client } = await setup(t)
  const { access } = await pair(app, client)
  assertRevoked(t, await revoke(app, { token: access, client_id: client.clientId, client_secret: client.secret }))
  t.notOk(await bearerWorks(app, access))
})

t.test('a public client identifies itself with client_id alone', async (t) => {
  const app = await buildApp(t, passwordGrantOptions())
  const created = await createApplication(app, { clientType: 'public', authorizationGrantType: 'password' })
  const { application } = created
  const res = await passwordGrant(app, created)
  t.equal(res.statusCode, 200)
  const { access_token: access, refresh_token: refresh = '' } = res.json<TokenBody>()
  assertRevoked(t, await revoke(app, { token: refresh, client_id: application.clientId }))
  t.notOk(await bearerWorks(app, access), 'its access token went with it')
  t.notOk(await refreshWorks(app, { authorization: '' }, refresh))
  assertJsonError(t, await revoke(app, { token: access, client_id: application.clientId, client_secret: 'guess' }), 401, TOKEN_ERRORS.invalidClient)
})

t.test('revoking the access token also revokes its refresh token (RFC 7009 §2.1)', async (t) => {
  const { app, client } = await setup(t)
  const { access, refresh } = await pair(app, client)
  assertRevoked(t, await revoke(app, { token: access, token_type_hint: 'access_token' }, { authorization: client.authorization }))
  t.notOk(await bearerWorks(app, access))
  const res = await postToken(app, { grant_type: 'refresh_token', refresh_token: refresh }, { authorization: client.authorization })
  assertJsonError(t, res, 400, TOKEN_ERRORS.invalidGrant)
})

t.test('revoking the refresh token also revokes its access token', async (t) => {
  const { app, client } = await setup(t)
  const { access, refresh } = await pair(app, client)
  const untouched = await pair(app, client)
  assertRevoked(t, await revoke(app, { token: refresh, token_type_hint: 'refresh_token' }, { authorization: client.authorization }))
  t.notOk(await bearerWorks(app, access))
  t.notOk(await refreshWorks(app, client, refresh))
  t.ok(await bearerWorks(app, untouched.access), 'another authorization of the same client and user lives on')
  t.ok(await refreshWorks(app, client, untouched.refresh))
})

t.test('revoking a rotated refresh token\'s successor ends the family', async (t) => {
  const { app, client } = await setup(t)
  const first = await pair(app, client)
  const res = await postToken(app, { grant_type: 'refresh_token', refresh_token: first.refresh }, { authorization: client.authorization })
  const second = res.json<TokenBody>()
  assertRevoked(t, await revoke(app, { token: second.refresh_token ?? '' }, { authorization: client.authorization }))
  t.notOk(await bearerWorks(app, second.access_token))
  t.notOk(await refreshWorks(app, client, second.refresh_token ?? ''))
})

t.test('a wrong token_type_hint does not stop the search (RFC 7009 §2.1)', async (t) => {
  const { app, client } = await setup(t)
  const a = await pair(app, client)
  assertRevoked(t, await revoke(app, { token: a.access, token_type_hint: 'refresh_token' }, { authorization: client.authorization }))
  t.notOk(await bearerWorks(app, a.access))
  t.notOk(await refreshWorks(app, client, a.refresh))

  const b = await pair(app, client)
  assertRevoked(t, await revoke(app, { token: b.refresh, token_type_hint: 'access_token' }, { authorization: client.authorization }))
  t.notOk(await bearerWorks(app, b.access))
  t.notOk(await refreshWorks(app, client, b.refresh))
})

t.test('a client_credentials token (no refresh token) is revoked too', async (t) => {
  const app = await buildApp(t)
  const { application, clientSecret } = await createApplication(app)
  const authorization = basicAuth(application.clientId, clientSecret ?? '')
  const access = (await postToken(app, { grant_type: 'client_credentials' }, { authorization })).json<TokenBody>().access_token
  assertRevoked(t, await revoke(app, { token: access }, { authorization }))
  t.notOk(await bearerWorks(app, access))
})

t.test('REV-2: an unknown token_type_hint value is ignored (RFC 7009 §2.2): the token is still found and revoked, either type', async (t) => {
  const { app, client, other } = await setup(t)
  for (const hint of ['id_token', 'Access_Token', 'urn:ietf:params:oauth:token-type:access_token', 'x'.repeat(5000), '']) {
    const viaAccess = await pair(app, client)
    assertRevoked(t, await revoke(app, { token: viaAccess.access, token_type_hint: hint }, { authorization: client.authorization }), `access token, hint ${hint.slice(0, 40)}`)
    t.notOk(await bearerWorks(app, viaAccess.access))
    t.notOk(await refreshWorks(app, client, viaAccess.refresh), 'and its refresh token')
    const viaRefresh = await pair(app, client)
    assertRevoked(t, await revoke(app, { token: viaRefresh.refresh, token_type_hint: hint }, { authorization: client.authorization }), `refresh token, hint ${hint.slice(0, 40)}`)
    t.notOk(await bearerWorks(app, viaRefresh.access), 'and its access token')
    t.notOk(await refreshWorks(app, client, viaRefresh.refresh))
  }
  // An unknown hint changes nothing else: another client's token is still untouched (REV-1).
  const theirs = await pair(app, other)
  assertRevoked(t, await revoke(app, { token: theirs.access, token_type_hint: 'id_token' }, { authorization: client.authorization }))
  t.ok(await bearerWorks(app, theirs.access))
  assertRevoked(t, await revoke(app, { token: 'no-such-token', token_type_hint: 'id_token' }, { authorization: client.authorization }), 'unknown token, unknown hint')
})

t.test('unknown tokens get 200 and reveal nothing (RFC 7009 §2.2)', async (t) => {
  const { app, client } = await setup(t)
  for (const token of ['no-such-token', 'x'.repeat(10_000), "' OR 1=1 --", 'ü🙂']) {
    assertRevoked(t, await revoke(app, { token }, { authorization: client.authorization }))
  }
  const { access } = await pair(app, client)
  assertRevoked(t, await revoke(app, { token: access }, { authorization: client.authorization }))
  assertRevoked(t, await revoke(app, { token: access }, { authorization: client.authorization }), 'revoking twice is still 200')
})

t.test('a client cannot revoke another client\'s tokens, and still gets 200 (REV-1)', async (t) => {
  const { app, client, other } = await setup(t)
  const { access, refresh } = await pair(app, client)
  for (const [token, hint] of [[access, 'access_token'], [refresh, 'refresh_token'], [access, undefined], [refresh, undefined]] as const) {
    const params: Record<string, string> = { token }
    if (hint !== undefined) params.token_type_hint = hint
    assertRevoked(t, await revoke(app, params, { authorization: other.authorization }))
  }
  t.ok(await bearerWorks(app, access), 'the owner\'s access token still works')
  t.ok(await refreshWorks(app, client, refresh), 'and so does its refresh token')
})

t.test('failed client authentication is 401 invalid_client, checked before the token', async (t) => {
  const { app, client } = await setup(t)
  const { access } = await pair(app, client)
  const basic = [basicAuth(client.clientId, `${client.secret}x`), basicAuth('no-such-client', client.secret), 'Basic !!!', 'Basic ']
  for (const authorization of basic) {
    const res = await revoke(app, { token: access }, { authorization })
    assertJsonError(t, res, 401, TOKEN_ERRORS.invalidClient)
    t.equal(res.headers['www-authenticate'], BASIC_CHALLENGE, 'a Basic failure gets a Basic challenge')
  }
  const posted = await revoke(app, { token: access, client_id: client.clientId, client_secret: 'wrong' })
  assertJsonError(t, posted, 401, TOKEN_ERRORS.invalidClient)
  t.equal(posted.headers['www-authenticate'], undefined)
  assertJsonError(t, await revoke(app, { token: access, client_id: client.clientId }), 401, TOKEN_ERRORS.invalidClient)
  assertJsonError(t, await revoke(app, { token: access }), 401, TOKEN_ERRORS.invalidClient)
  assertJsonError(t, await revoke(app, {}, { authorization: basicAuth(client.clientId, 'wrong') }), 401, TOKEN_ERRORS.invalidClient)
  t.ok(await bearerWorks(app, access), 'nothing was revoked')
})

t.test('two authentication methods at once are refused', async (t) => {
  const { app, client } = await setup(t)
  const { access } = await pair(app, client)
  const res = await revoke(app, { token: access, client_secret: client.secret }, { authorization: client.authorization })
  assertJsonError(t, res, 400, invalidRequest('Use only one client authentication method.'))
  t.ok(await bearerWorks(app, access))
})

t.test('a missing or empty token is invalid_request', async (t) => {
  const { app, client } = await setup(t)
  const cases: Array<Record<string, string>> = [{}, { token: '' }, { token_type_hint: 'access_token' }]
  for (const params of cases) {
    assertJsonError(t, await revoke(app, params, { authorization: client.authorization }), 400, invalidRequest('Request is missing token parameter.'))
  }
})

t.test('repeated parameters are invalid_request and revoke nothing', async (t) => {
  const { app, client } = await setup(t)
  const { access, refresh } = await pair(app, client)
  const cases: Array<[Record<string, string | string[]>, Record<string, string>, string]> = [
    [{ token: [access, refresh] }, { authorization: client.authorization }, 'token'],
    [{ token: [access, access] }, { authorization: client.authorization }, 'token'],
    [{ token: access, token_type_hint: ['access_token', 'refresh_token'] }, { authorization: client.authorization }, 'token_type_hint'],
    [{ token: access, client_id: [client.clientId, client.clientId], client_secret: client.secret }, {}, 'client_id'],
    [{ token: access, client_id: client.clientId, client_secret: [client.secret, client.secret] }, {}, 'client_secret'],
  ]
  for (const [params, headers, name] of cases) {
    assertJsonError(t, await revoke(app, params, headers), 400, invalidRequest(`Parameter repeated: ${name}.`))
  }
  const inQuery = await app.inject({ method: 'POST', url: `/o/revoke-token/?token=${access}`, payload: form({ token: access }), headers: { ...FORM, authorization: client.authorization } })
  assertJsonError(t, inQuery, 400, invalidRequest('Parameter repeated: token.'))
  t.ok(await bearerWorks(app, access))
})

t.test('bodies that are not form-encoded get a 400 JSON error, never a 500', async (t) => {
  const { app, client } = await setup(t)
  const { access } = await pair(app, client)
  const { authorization } = client
  const cases: Array<[string, Record<string, string>, string | undefined, object]> = [
    ['JSON', { 'content-type': 'application/json' }, JSON.stringify({ token: access }), TOKEN_ERRORS.notForm],
    ['broken JSON', { 'content-type': 'application/json' }, '{"token":', TOKEN_ERRORS.unparsable],
    ['text', { 'content-type': 'text/plain' }, `token=${access}`, TOKEN_ERRORS.notForm],
    ['multipart', { 'content-type': 'multipart/form-data; boundary=x' }, '--x--', TOKEN_ERRORS.unparsable],
    ['no body', {}, undefined, TOKEN_ERRORS.notForm],
    ['nested JSON', { 'content-type': 'application/json' }, JSON.stringify({ token: { $ne: null } }), TOKEN_ERRORS.notForm],
    ['too large', FORM, form({ token: 'x'.repeat(70 * 1024) }), TOKEN_ERRORS.unparsable],
  ]
  for (const [name, headers, payload, body] of cases) {
    const res = await app.inject({ method: 'POST', url: '/o/revoke-token/', headers: { ...headers, authorization }, ...(payload === undefined ? {} : { payload }) })
    t.equal(res.statusCode, 400, name)
    t.same(res.json(), body, name)
  }
  t.ok(await bearerWorks(app, access), 'nothing was revoked')
})

t.test('other methods get 405 with Allow: POST', async (t) => {
  const { app, client } = await setup(t)
  for (const method of ['GET', 'PUT', 'PATCH', 'DELETE'] as const) {
    const res = await app.inject({ method, url: '/o/revoke-token/?token=x', headers: { authorization: client.authorization } })
    t.equal(res.statusCode, 405, method)
    t.equal(res.headers.allow, 'POST')
    t.same(res.json(), invalidRequest('Method not allowed; use POST.'))
  }
})

t.test('both spellings work, with and without the trailing slash', async (t) => {
  const { app, client } = await setup(t)
  for (const url of ['/o/revoke-token/', '/o/revoke-token', '/o/revoke_token/', '/o/revoke_token']) {
    const { access } = await pair(app, client)
    assertRevoked(t, await revoke(app, { token: access }, { authorization: client.authorization }, url))
    t.notOk(await bearerWorks(app, access), url)
  }
})
