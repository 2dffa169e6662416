import t from 'tap'
import { ImproperlyConfiguredError } from '../../index.js'
import {
  ALICE, assertTokenError, assertTokenPair, basicAuth, bearerWorks, buildApp, createApplication, postToken, TOKEN_ERRORS, type TokenBody,
} from '../helpers/index.js'
import { PASSWORD_GRANT, passwordGrantOptions, verifyAlice } from '../helpers/password-grant.js'

t.test('the password grant is off by default (RFC 9700 §2.4): unsupported_grant_type', async (t) => {
  let calls = 0
  const app = await buildApp(t, { verifyUserCredentials: async (u, p) => { calls++; return await verifyAlice(u, p) } })
  const { application, clientSecret } = await createApplication(app, { authorizationGrantType: 'password' })
  const res = await postToken(app, PASSWORD_GRANT, { authorization: basicAuth(application.clientId, clientSecret ?? '') })
  assertTokenError(t, res, 400, TOKEN_ERRORS.unsupportedGrantType)
  t.equal(calls, 0, 'credentials are never checked')
})

t.test('when enabled, good credentials get an access and a refresh token for the user', async (t) => {
  const app = await buildApp(t, passwordGrantOptions())
  const { application, clientSecret } = await createApplication(app, { authorizationGrantType: 'password' })
  const body = assertTokenPair(t, await postToken(app, PASSWORD_GRANT, { authorization: basicAuth(application.clientId, clientSecret ?? '') }))
  t.equal(body.scope, 'read write')
  t.match(body.refresh_token, /^[A-Za-z0-9_-]{43}$/)
  t.not(body.refresh_token, body.access_token)
  const info = await app.oauth.authenticateBearer({ authorization: `Bearer ${body.access_token}`, queryToken: undefined })
  t.ok(info.ok)
  if (info.ok) t.equal(info.token.userId, ALICE.id, 'the token speaks for the user')
  t.notOk(await bearerWorks(app, body.refresh_token ?? ''), 'a refresh token is not an access token')
})

t.test('the checker gets the decoded username and password, after client authentication only', async (t) => {
  const seen: Array<[string, string]> = []
  const app = await buildApp(t, {
    settings: { passwordGrantEnabled: true },
    verifyUserCredentials: async (u, p) => { seen.push([u, p]); return await verifyAlice(u, p) },
  })
  const { application, clientSecret } = await createApplication(app, { authorizationGrantType: 'password' })
  const cc = await createApplication(app)
  t.equal((await postToken(app, PASSWORD_GRANT, { authorization: basicAuth(application.clientId, clientSecret ?? '') })).statusCode, 200)
  t.same(seen, [[ALICE.username, ALICE.password]], 'special characters in the password survive the form encoding')

  assertTokenError(t, await postToken(app, PASSWORD_GRANT, { authorization: basicAuth(application.clientId, 'wrong secret') }), 401, TOKEN_ERRORS.invalidClient)
  assertTokenError(t, await postToken(app, PASSWORD_GRANT, { authorization: basicAuth(cc.application.clientId, cc.clientSecret ?? '') }), 400, TOKEN_ERRORS.unauthorizedClient)
  t.equal(seen.length, 1, 'no password check for a client that failed authentication or may not use the grant')
})

t.test('wrong credentials are invalid_grant, the same for a wrong password and an unknown user', async (t) => {
  const app = await buildApp(t, passwordGrantOptions())
  const { application, clientSecret } = await createApplication(app, { authorizationGrantType: 'password' })
  const authorization = basicAuth(application.clientId, clientSecret ?? '')
  const expected = { error: 'invalid_grant', error_description: 'Invalid credentials given.' }
  for (const params of [
    { ...PASSWORD_GRANT, password: 'wrong' },
    { ...PASSWORD_GRANT, password: ALICE.password.toUpperCase() },
    { ...PASSWORD_GRANT, password: `${ALICE.password} ` },
    { ...PASSWORD_GRANT, username: 'mallory' },
    { ...PASSWORD_GRANT, username: 'ALICE' },
  ]) {
    assertTokenError(t, await postToken(app, params, { authorization }), 400, expected)
  }
  t.equal((await app.oauth.store.listAccessTokensForUser(ALICE.id)).length, 0, 'nothing was issued')
})

t.test('a missing, empty or repeated username or password is invalid_request', async (t) => {
  const app = await buildApp(t, passwordGrantOptions())
  const { application, clientSecret } = await createApplication(app, { authorizationGrantType: 'password' })
  const authorization = basicAuth(application.clientId, clientSecret ?? '')
  const missing = (name: string): object => ({ error: 'invalid_request', error_description: `Request is missing ${name} parameter.` })
  assertTokenError(t, await postToken(app, { grant_type: 'password', password: ALICE.password }, { authorization }), 400, missing('username'))
  assertTokenError(t, await postToken(app, { grant_type: 'password', username: ALICE.username }, { authorization }), 400, missing('password'))
  assertTokenError(t, await postToken(app, { ...PASSWORD_GRANT, username: '' }, { authorization }), 400, missing('username'))
  assertTokenError(t, await postToken(app, { ...PASSWORD_GRANT, password: '' }, { authorization }), 400, missing('password'))
  assertTokenError(t, await postToken(app, { grant_type: 'password' }, { authorization }), 400, missing('username'))
  const repeated = await postToken(app, { ...PASSWORD_GRANT, password: [ALICE.password, 'other'] }, { authorization })
  assertTokenError(t, repeated, 400, { error: 'invalid_request', error_description: 'Parameter repeated: password.' })
  const repeatedUser = await postToken(app, { ...PASSWORD_GRANT, username: [ALICE.username, 'mallory'] }, { authorization })
  assertTokenError(t, repeatedUser, 400, { error: 'invalid_request', error_description: 'Parameter repeated: username.' })
})

t.test('a public client identifies itself with client_id only (DOT parity) and gets a refresh token', async (t) => {
  const app = await buildApp(t, passwordGrantOptions())
  const { application, clientSecret } = await createApplication(app, { clientType: 'public', authorizationGrantType: 'password' })
  t.equal(clientSecret, null)
  const res = await postToken(app, { ...PASSWORD_GRANT, client_id: application.clientId })
  t.equal(res.statusCode, 200)
  t.type(res.json<TokenBody>().refresh_token, 'string')
  t.equal((await postToken(app, { ...PASSWORD_GRANT, client_id: application.clientId, client_secret: '' })).statusCode, 200, 'an empty secret counts as none')
  const withSecret = await postToken(app, { ...PASSWORD_GRANT, client_id: application.clientId, client_secret: 'made-up secret' })
  assertTokenError(t, withSecret, 401, TOKEN_ERRORS.invalidClient)
  assertTokenError(t, await postToken(app, PASSWORD_GRANT), 401, TOKEN_ERRORS.invalidClient)
})

t.test('a confidential password client must still authenticate', async (t) => {
  const app = await buildApp(t, passwordGrantOptions())
  const { application } = await createApplication(app, { authorizationGrantType: 'password' })
  assertTokenError(t, await postToken(app, { ...PASSWORD_GRANT, client_id: application.clientId }), 401, TOKEN_ERRORS.invalidClient)
})

t.test('password tokens honour scope: known scopes only, defaults otherwise', async (t) => {
  const app = await buildApp(t, passwordGrantOptions({ settings: { scopes: { read: 'R', write: 'W', admin: 'A' }, defaultScopes: ['read', 'write'] } }))
  const { application, clientSecret } = await createApplication(app, { authorizationGrantType: 'password' })
  const authorization = basicAuth(application.clientId, clientSecret ?? '')
  t.equal((await postToken(app, PASSWORD_GRANT, { authorization })).json<TokenBody>().scope, 'read write')
  t.equal((await postToken(app, { ...PASSWORD_GRANT, scope: 'admin' }, { authorization })).json<TokenBody>().scope, 'admin')
  assertTokenError(t, await postToken(app, { ...PASSWORD_GRANT, scope: 'root' }, { authorization }), 400, TOKEN_ERRORS.invalidScope)
})

t.test('verifyUserCredentials must be a function, checked at registration', async (t) => {
  const err = await buildApp(t, { settings: { passwordGrantEnabled: true }, verifyUserCredentials: 'yes' as unknown as typeof verifyAlice })
    .then(() => null, (e: unknown) => e)
  t.type(err, ImproperlyConfiguredError)
  t.match(err, { code: 'OAT_ERR_OPTIONS', message: /verifyUserCredentials/ })
})
