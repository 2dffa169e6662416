import t from 'tap'
import {
  assertTokenError, basicAuth, bearerWorks, buildApp, createApplication, postToken, TOKEN_ERRORS, type TokenBody,
} from '../helpers/index.js'
import { passwordGrantOptions } from '../helpers/password-grant.js'

const BASIC_CHALLENGE = 'Basic realm="oauth"'
const CC = { grant_type: 'client_credentials' } as const

t.test('client_secret_basic and client_secret_post both authenticate a confidential client', async (t) => {
  const app = await buildApp(t)
  const { application, clientSecret } = await createApplication(app)
  const secret = clientSecret ?? ''
  const basic = await postToken(app, CC, { authorization: basicAuth(application.clientId, secret) })
  t.equal(basic.statusCode, 200)
  const post = await postToken(app, { ...CC, client_id: application.clientId, client_secret: secret })
  t.equal(post.statusCode, 200)
  const token = post.json<TokenBody>()
  t.ok(await bearerWorks(app, token.access_token))
  const info = await app.oauth.authenticateBearer({ authorization: `Bearer ${token.access_token}`, queryToken: undefined })
  t.ok(info.ok)
  if (info.ok) {
    t.equal(info.token.userId, null, 'client_credentials tokens have no user (DOT parity)')
    t.equal(info.token.application?.clientId, application.clientId)
  }
})

t.test('Basic may repeat the same client_id in the body, but not a different one', async (t) => {
  const app = await buildApp(t)
  const { application, clientSecret } = await createApplication(app)
  const other = await createApplication(app)
  const authorization = basicAuth(application.clientId, clientSecret ?? '')
  t.equal((await postToken(app, { ...CC, client_id: application.clientId }, { authorization })).statusCode, 200)
  const mismatch = await postToken(app, { ...CC, client_id: other.application.clientId }, { authorization })
  assertTokenError(t, mismatch, 401, TOKEN_ERRORS.invalidClient)
  t.equal(mismatch.headers['www-authenticate'], BASIC_CHALLENGE)
})

t.test('Basic and client_secret_post together are invalid_request (RFC 6749 §2.3)', async (t) => {
  const app = await buildApp(t)
  const { application, clientSecret } = await createApplication(app)
  const secret = clientSecret ?? ''
  const authorization = basicAuth(application.clientId, secret)
  const expected = { error: 'invalid_request', error_description: 'Use only one client authentication method.' }
  assertTokenError(t, await postToken(app, { ...CC, client_id: application.clientId, client_secret: secret }, { authorization }), 400, expected)
  assertTokenError(t, await postToken(app, { ...CC, client_secret: secret }, { authorization }), 400, expected)
  assertTokenError(t, await postToken(app, { ...CC, client_secret: 'wrong' }, { authorization }), 400, expected)
})

t.test('a wrong secret is 401 invalid_client, with a Basic challenge only when Basic was used', async (t) => {
  const app = await buildApp(t)
  const { application, clientSecret } = await createApplication(app)
  const secret = clientSecret ?? ''
  const basic = await postToken(app, CC, { authorization: basicAuth(application.clientId, `${secret}x`) })
  assertTokenError(t, basic, 401, TOKEN_ERRORS.invalidClient)
  t.equal(basic.headers['www-authenticate'], BASIC_CHALLENGE)
  const post = await postToken(app, { ...CC, client_id: application.clientId, client_secret: secret.slice(1) })
  assertTokenError(t, post, 401, TOKEN_ERRORS.invalidClient)
  t.equal(post.headers['www-authenticate'], undefined)
  const prefix = await postToken(app, { ...CC, client_id: application.clientId, client_secret: secret.slice(0, -1) })
  assertTokenError(t, prefix, 401, TOKEN_ERRORS.invalidClient)
})

t.test('a confidential client without its secret is 401 invalid_client (DOT #1092)', async (t) => {
  const app = await buildApp(t)
  const { application } = await createApplication(app)
  assertTokenError(t, await postToken(app, { ...CC, client_id: application.clientId }), 401, TOKEN_ERRORS.invalidClient)
  assertTokenError(t, await postToken(app, { ...CC, client_id: application.clientId, client_secret: '' }), 401, TOKEN_ERRORS.invalidClient)
})

t.test('an unknown client is 401 invalid_client, like a wrong secret', async (t) => {
  const app = await buildApp(t)
  const basic = await postToken(app, CC, { authorization: basicAuth('no-such-client', 'some secret') })
  assertTokenError(t, basic, 401, TOKEN_ERRORS.invalidClient)
  t.equal(basic.headers['www-authenticate'], BASIC_CHALLENGE)
  const post = await postToken(app, { ...CC, client_id: 'no-such-client', client_secret: 'some secret' })
  assertTokenError(t, post, 401, TOKEN_ERRORS.invalidClient)
  t.equal(post.headers['www-authenticate'], undefined)
  assertTokenError(t, await postToken(app, { ...CC, client_id: 'no-such-client' }), 401, TOKEN_ERRORS.invalidClient)
})

t.test('a public client cannot use client_credentials (RFC 6749 §4.4)', async (t) => {
  const app = await buildApp(t, passwordGrantOptions())
  const { application } = await createApplication(app, { clientType: 'public', authorizationGrantType: 'password' })
  assertTokenError(t, await postToken(app, { ...CC, client_id: application.clientId }), 400, TOKEN_ERRORS.unauthorizedClient)
  const withSecret = await postToken(app, { ...CC, client_id: application.clientId, client_secret: 'guessed secret' })
  assertTokenError(t, withSecret, 401, TOKEN_ERRORS.invalidClient)

  // Even a client-credentials application turned public behind the validator's back.
  const cc = await createApplication(app)
  await app.oauth.store.updateApplication(cc.application.id, { clientType: 'public', clientSecretHash: '' }, new Date())
  assertTokenError(t, await postToken(app, { ...CC, client_id: cc.application.clientId }), 400, TOKEN_ERRORS.unauthorizedClient)
})

t.test('an application registered for another grant type gets unauthorized_client', async (t) => {
  const app = await buildApp(t, passwordGrantOptions())
  const password = await createApplication(app, { authorizationGrantType: 'password' })
  const code = await createApplication(app, { authorizationGrantType: 'authorization-code', redirectUris: ['https://client.example/cb'] })
  for (const { application, clientSecret } of [password, code]) {
    const res = await postToken(app, CC, { authorization: basicAuth(application.clientId, clientSecret ?? '') })
    assertTokenError(t, res, 400, TOKEN_ERRORS.unauthorizedClient)
  }
})

t.test('Basic credentials are form-urlencoded before base64 (RFC 6749 §2.3.1)', async (t) => {
  const app = await buildApp(t)
  const clientId = 'app+id%2F&=/?#@!~*\'()'
  const secret = 'p+a s%20s:w&o=r/d?é€😀'
  const { application } = await createApplication(app, { clientId, clientSecret: secret })
  t.equal(application.clientId, clientId)

  t.equal((await postToken(app, CC, { authorization: basicAuth(clientId, secret) })).statusCode, 200, 'encoded as the RFC says')
  t.equal((await postToken(app, { ...CC, client_id: clientId, client_secret: secret })).statusCode, 200, 'client_secret_post')

  // Sent without the form-encoding step, '+' decodes to a space and '%20' to a space: refused.
  const raw = `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`
  assertTokenError(t, await postToken(app, CC, { authorization: raw }), 401, TOKEN_ERRORS.invalidClient)
})

t.test('a colon inside the secret survives, as only the first colon splits Basic', async (t) => {
  const app = await buildApp(t)
  const { application } = await createApplication(app, { clientId: 'colon-client', clientSecret: 'a:b:c:d:e:f' })
  const raw = `Basic ${Buffer.from(`${application.clientId}:a:b:c:d:e:f`).toString('base64')}`
  t.equal((await postToken(app, CC, { authorization: raw })).statusCode, 200)
  t.equal((await postToken(app, CC, { authorization: basicAuth(application.clientId, 'a:b:c:d:e:f') })).statusCode, 200)
})

t.test('requested scopes must exist; the token holds exactly the requested ones', async (t) => {
  const app = await buildApp(t)
  const { application, clientSecret } = await createApplication(app)
  const authorization = basicAuth(application.clientId, clientSecret ?? '')
  for (const scope of ['admin', 'read admin', 'READ', '__all__']) {
    assertTokenError(t, await postToken(app, { ...CC, scope }, { authorization }), 400, TOKEN_ERRORS.invalidScope)
  }
  const read = await postToken(app, { ...CC, scope: 'read' }, { authorization })
  t.equal(read.json<TokenBody>().scope, 'read')
  t.ok(await bearerWorks(app, read.json<TokenBody>().access_token, ['read']))
  t.notOk(await bearerWorks(app, read.json<TokenBody>().access_token, ['write']), 'no scope beyond the request')
  const both = await postToken(app, { ...CC, scope: '  write  read write ' }, { authorization })
  t.equal(both.json<TokenBody>().scope, 'write read', 'extra spaces and repeats collapse')
  const malformed = await postToken(app, { ...CC, scope: 'read,write' }, { authorization })
  assertTokenError(t, malformed, 400, TOKEN_ERRORS.invalidScope)
})

t.test('no scope, an empty scope or a blank scope get the default scopes', async (t) => {
  const app = await buildApp(t, {
    settings: { scopes: { read: 'Read', write: 'Write', admin: 'Admin' }, defaultScopes: ['read'] },
  })
  const { application, clientSecret } = await createApplication(app)
  const authorization = basicAuth(application.clientId, clientSecret ?? '')
  for (const params of [CC, { ...CC, scope: '' }, { ...CC, scope: '   ' }]) {
    const res = await postToken(app, params, { authorization })
    t.equal(res.statusCode, 200)
    t.equal(res.json<TokenBody>().scope, 'read', JSON.stringify(params))
  }
  t.equal((await postToken(app, { ...CC, scope: 'admin' }, { authorization })).json<TokenBody>().scope, 'admin', 'any known scope may be asked for')
})

t.test('defaultScopes __all__ grants every configured scope', async (t) => {
  const app = await buildApp(t, { settings: { scopes: { a: 'A', b: 'B', c: 'C' } } })
  const { application, clientSecret } = await createApplication(app)
  const res = await postToken(app, CC, { authorization: basicAuth(application.clientId, clientSecret ?? '') })
  t.equal(res.json<TokenBody>().scope, 'a b c')
})
