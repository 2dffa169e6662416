import type { LightMyRequestResponse } from 'fastify'
import t, { type Test } from 'tap'
import { ImproperlyConfiguredError } from '../../index.js'
import {
  basicAuth, bearerWorks, buildApp, createApplication, passwordGrantOptions, postToken, TEST_USER, TOKEN_ERRORS,
  verifyTestUser, type TokenBody,
} from '../helpers/index.js'

const ALICE = { grant_type: 'password', username: TEST_USER.username, password: TEST_USER.password } as const

function assertError (t: Test, res: LightMyRequestResponse, status: number, body: object): void {
  t.equal(res.statusCode, status, `status ${status}`)
  t.same(res.json(), body)
  t.equal(res.headers['cache-control'], 'no-store')
}

t.test('the password grant is off by default (RFC 9700 §2.4): unsupported_grant_type', async (t) => {
  let calls = 0
  const app = await buildApp(t, { verifyUserCredentials: async (u, p) => { calls++; return await verifyTestUser(u, p) } })
  const { application, clientSecret } = await createApplication(app, { authorizationGrantType: 'password' })
  const res = await postToken(app, ALICE, { authorization: basicAuth(application.clientId, clientSecret ?? '') })
  assertError(t, res, 400, TOKEN_ERRORS.unsupportedGrantType)
  t.equal(calls, 0, 'credentials are never checked')
})

t.test('when enabled, good credentials get an access and a refresh token for the user', async (t) => {
  const app = await buildApp(t, passwordGrantOptions())
  const { application, clientSecret } = await createApplication(app, { authorizationGrantType: 'password' })
  const res = await postToken(app, ALICE, { authorization: basicAuth(application.clientId, clientSecret ?? '') })
  t.equal(res.statusCode, 200)
  t.equal(res.headers['cache-control'], 'no-store')
  t.equal(res.headers.pragma, 'no-cache')
  const body = res.json<TokenBody>()
  t.same(Object.keys(body).sort(), ['access_token', 'expires_in', 'refresh_token', 'scope', 'token_type'])
  t.equal(body.token_type, 'Bearer')
  t.equal(body.expires_in, 36000)
  t.equal(body.scope, 'read write')
  t.match(body.refresh_token, /^[A-Za-z0-9_-]{43}$/)
  t.not(body.refresh_token, body.access_token)
  const info = await app.oauth.authenticateBearer({ authorization: `Bearer ${body.access_token}`, queryToken: undefined })
  t.ok(info.ok)
  if (info.ok) t.equal(info.token.userId, TEST_USER.id, 'the token speaks for the user')
  t.notOk(await bearerWorks(app, body.refresh_token ?? ''), 'a refresh token is not an access token')
})

t.test('the checker gets the decoded username and password, after client authentication only', async (t) => {
  const seen: Array<[string, string]> = []
  const app = await buildApp(t, {
    settings: { passwordGrantEnabled: true },
    verifyUserCredentials: async (u, p) => { seen.push([u, p]); return await verifyTestUser(u, p) },
  })
  const { application, clientSecret } = await createApplication(app, { authorizationGrantType: 'password' })
  const cc = await createApplication(app)
  t.equal((await postToken(app, ALICE, { authorization: basicAuth(application.clientId, clientSecret ?? '') })).statusCode, 200)
  t.same(seen, [[TEST_USER.username, TEST_USER.password]], 'special characters in the password survive the form encoding')

  assertError(t, await postToken(app, ALICE, { authorization: basicAuth(application.clientId, 'wrong secret') }), 401, TOKEN_ERRORS.invalidClient)
  assertError(t, await postToken(app, ALICE, { authorization: basicAuth(cc.application.clientId, cc.clientSecret ?? '') }), 400, TOKEN_ERRORS.unauthorizedClient)
  t.equal(seen.length, 1, 'no password check for a client that failed authentication or may not use the grant')
})

t.test('wrong credentials are invalid_grant, the same for a wrong password and an unknown user', async (t) => {
  const app = await buildApp(t, passwordGrantOptions())
  const { application, clientSecret } = await createApplication(app, { authorizationGrantType: 'password' })
  const authorization = basicAuth(application.clientId, clientSecret ?? '')
  const expected = { error: 'invalid_grant', error_description: 'Invalid credentials given.' }
  for (const params of [
    { ...ALICE, password: 'wrong' },
    { ...ALICE, password: TEST_USER.password.toUpperCase() },
    { ...ALICE, password: `${TEST_USER.password} ` },
    { ...ALICE, username: 'mallory' },
    { ...ALICE, username: 'ALICE' },
  ]) {
    assertError(t, await postToken(app, params, { authorization }), 400, expected)
  }
  t.equal((await app.oauth.store.listAccessTokensForUser(TEST_USER.id)).length, 0, 'nothing was issued')
})

t.test('a missing, empty or repeated username or password is invalid_request', async (t) => {
  const app = await buildApp(t, passwordGrantOptions())
  const { application, clientSecret } = await createApplication(app, { authorizationGrantType: 'password' })
  const authorization = basicAuth(application.clientId, clientSecret ?? '')
  const missing = (name: string): object => ({ error: 'invalid_request', error_description: `Request is missing ${name} parameter.` })
  assertError(t, await postToken(app, { grant_type: 'password', password: TEST_USER.password }, { authorization }), 400, missing('username'))
  assertError(t, await postToken(app, { grant_type: 'password', username: TEST_USER.username }, { authorization }), 400, missing('password'))
  assertError(t, await postToken(app, { ...ALICE, username: '' }, { authorization }), 400, missing('username'))
  assertError(t, await postToken(app, { ...ALICE, password: '' }, { authorization }), 400, missing('password'))
  assertError(t, await postToken(app, { grant_type: 'password' }, { authorization }), 400, missing('username'))
  const repeated = await postToken(app, { ...ALICE, password: [TEST_USER.password, 'other'] }, { authorization })
  assertError(t, repeated, 400, { error: 'invalid_request', error_description: 'Parameter repeated: password.' })
  const repeatedUser = await postToken(app, { ...ALICE, username: [TEST_USER.username, 'mallory'] }, { authorization })
  assertError(t, repeatedUser, 400, { error: 'invalid_request', error_description: 'Parameter repeated: username.' })
})

t.test('a public client identifies itself with client_id only (DOT parity) and gets a refresh token', async (t) => {
  const app = await buildApp(t, passwordGrantOptions())
  const { application, clientSecret } = await createApplication(app, { clientType: 'public', authorizationGrantType: 'password' })
  t.equal(clientSecret, null)
  const res = await postToken(app, { ...ALICE, client_id: application.clientId })
  t.equal(res.statusCode, 200)
  t.type(res.json<TokenBody>().refresh_token, 'string')
  t.equal((await postToken(app, { ...ALICE, client_id: application.clientId, client_secret: '' })).statusCode, 200, 'an empty secret counts as none')
  const withSecret = await postToken(app, { ...ALICE, client_id: application.clientId, client_secret: 'made-up secret' })
  assertError(t, withSecret, 401, TOKEN_ERRORS.invalidClient)
  assertError(t, await postToken(app, ALICE), 401, TOKEN_ERRORS.invalidClient)
})

t.test('a confidential password client must still authenticate', async (t) => {
  const app = await buildApp(t, passwordGrantOptions())
  const { application } = await createApplication(app, { authorizationGrantType: 'password' })
  assertError(t, await postToken(app, { ...ALICE, client_id: application.clientId }), 401, TOKEN_ERRORS.invalidClient)
})

t.test('password tokens honour scope: known scopes only, defaults otherwise', async (t) => {
  const app = await buildApp(t, passwordGrantOptions({ scopes: { read: 'R', write: 'W', admin: 'A' }, defaultScopes: ['read', 'write'] }))
  const { application, clientSecret } = await createApplication(app, { authorizationGrantType: 'password' })
  const authorization = basicAuth(application.clientId, clientSecret ?? '')
  t.equal((await postToken(app, ALICE, { authorization })).json<TokenBody>().scope, 'read write')
  t.equal((await postToken(app, { ...ALICE, scope: 'admin' }, { authorization })).json<TokenBody>().scope, 'admin')
  assertError(t, await postToken(app, { ...ALICE, scope: 'root' }, { authorization }), 400, TOKEN_ERRORS.invalidScope)
})

t.test('verifyUserCredentials must be a function, checked at registration', async (t) => {
  const err = await buildApp(t, { settings: { passwordGrantEnabled: true }, verifyUserCredentials: 'yes' as unknown as typeof verifyTestUser })
    .then(() => null, (e: unknown) => e)
  t.type(err, ImproperlyConfiguredError)
  t.match(err, { code: 'OAT_ERR_OPTIONS', message: /verifyUserCredentials/ })
})
