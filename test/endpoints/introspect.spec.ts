import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import t, { type Test } from 'tap'
import { updateApplication } from '../../lib/applications.js'
import { serverContext } from '../../lib/server.js'
import {
  ALICE, assertJsonError, basicAuth, buildApp, createApplication, createClient, fixedClock, form, FORM, invalidRequest,
  loadAlice, postToken, type TestClient, TOKEN_ERRORS, type BuildAppOptions, type FixedClock, type TokenBody,
} from '../helpers/index.js'
import { passwordGrant, passwordGrantOptions } from '../helpers/password-grant.js'

const START = '2026-01-01T00:00:00.000Z'
const START_EPOCH = Date.parse(START) / 1000

interface Setup {
  app: FastifyInstance
  clock: FixedClock
  /** A confidential resource server (`allowIntrospection`) that introspects with its client credentials. */
  rs: TestClient
  /** A confidential password-grant client whose tokens get introspected. */
  client: TestClient
}

/** The `introspection` scope must exist before a token can hold it (settings.scopes). */
async function setup (t: Test, options: BuildAppOptions = {}): Promise<Setup> {
  const clock = fixedClock(START)
  const app = await buildApp(t, passwordGrantOptions({
    clock,
    loadUser: loadAlice,
    ...options,
    settings: { scopes: { read: 'Reading scope', write: 'Writing scope', introspection: 'Introspect tokens' }, ...options.settings },
  }))
  const rs = await createClient(app, { authorizationGrantType: 'client-credentials', allowIntrospection: true })
  const client = await createClient(app, { authorizationGrantType: 'password' })
  return { app, clock, rs, client }
}

async function userTokens (app: FastifyInstance, client: TestClient): Promise<TokenBody> {
  const res = await passwordGrant(app, client.authorization, { scope: 'read write' })
  if (res.statusCode !== 200) throw new Error(`token request failed: ${res.body}`)
  return res.json<TokenBody>()
}

async function ccToken (app: FastifyInstance, client: TestClient, scope: string): Promise<string> {
  const res = await postToken(app, { grant_type: 'client_credentials', scope }, { authorization: client.authorization })
  if (res.statusCode !== 200) throw new Error(`token request failed: ${res.body}`)
  return res.json<TokenBody>().access_token
}

async function introspect (app: FastifyInstance, params: Record<string, string | readonly string[]>, headers: Record<string, string> = {}, url = '/o/introspect/'): Promise<LightMyRequestResponse> {
  return await app.inject({ method: 'POST', url, payload: form(params), headers: { ...FORM, ...headers } })
}

/** A 200 introspection answer: JSON, never cached (LEAK-4). */
function assertAnswer (t: Test, res: LightMyRequestResponse, body: object, message = 'introspected'): void {
  t.equal(res.statusCode, 200, message)
  t.match(res.headers['content-type'], /^application\/json/)
  t.equal(res.headers['cache-control'], 'no-store')
  t.equal(res.headers.pragma, 'no-cache')
  t.same(res.json(), body, message)
}

/** RFC 7662 §2.2: an inactive token is exactly `{"active": false}` (INTRO-1). */
function assertInactive (t: Test, res: LightMyRequestResponse, message = 'inactive'): void {
  assertAnswer(t, res, { active: false }, message)
  t.same(Object.keys(res.json()), ['active'], 'nothing else is said')
}

const INVALID_BEARER = { error: 'invalid_token', error_description: 'The access token is invalid or lacks the introspection scope.' }

t.test('an active user access token: every RFC 7662 field, exactly', async (t) => {
  const { app, rs, client } = await setup(t)
  const tokens = await userTokens(app, client)
  const res = await introspect(app, { token: tokens.access_token }, { authorization: rs.authorization })
  assertAnswer(t, res, {
    active: true,
    scope: 'read write',
    client_id: client.clientId,
    username: ALICE.username,
    token_type: 'Bearer',
    exp: START_EPOCH + 36000,
    iat: START_EPOCH,
    sub: ALICE.id,
  })
})

t.test('a client_credentials token has no sub and no username', async (t) => {
  const { app, rs } = await setup(t)
  const token = await ccToken(app, rs, 'read')
  assertAnswer(t, await introspect(app, { token }, { authorization: rs.authorization }), {
    active: true, scope: 'read', client_id: rs.clientId, token_type: 'Bearer', exp: START_EPOCH + 36000, iat: START_EPOCH,
  })
})

t.test('without loadUser, or when it finds nobody, sub is there and username is not', async (t) => {
  const variants: Array<[string, BuildAppOptions]> = [['no loadUser', { loadUser: undefined }], ['loadUser finds nobody', { loadUser: async () => null }]]
  for (const [name, options] of variants) {
    // One app per subtest: a second buildApp in the same test would wipe its testdir.
    await t.test(name, async (t) => {
      const { app, rs, client } = await setup(t, options)
      const tokens = await userTokens(app, client)
      const body = (await introspect(app, { token: tokens.access_token }, { authorization: rs.authorization })).json<Record<string, unknown>>()
      t.equal(body.active, true)
      t.equal(body.sub, ALICE.id)
      t.notOk('username' in body)
    })
  }
})

t.test('unknown tokens are inactive', async (t) => {
  const { app, rs } = await setup(t)
  for (const token of ['no-such-token', 'x'.repeat(10_000), "' OR 1=1 --", 'ü🙂']) {
    assertInactive(t, await introspect(app, { token }, { authorization: rs.authorization }))
  }
})

t.test('an access token is inactive from its exp on (EXP-1)', async (t) => {
  const { app, clock, rs, client } = await setup(t)
  const tokens = await userTokens(app, client)
  clock.advance(35999)
  t.equal((await introspect(app, { token: tokens.access_token }, { authorization: rs.authorization })).json<{ active: boolean }>().active, true)
  clock.advance(1)
  assertInactive(t, await introspect(app, { token: tokens.access_token }, { authorization: rs.authorization }))
})

t.test('revoked tokens are inactive, both of the pair (EXP-2)', async (t) => {
  const { app, rs, client } = await setup(t)
  const tokens = await userTokens(app, client)
  const revoked = await app.inject({ method: 'POST', url: '/o/revoke-token/', payload: form({ token: tokens.access_token }), headers: { ...FORM, authorization: client.authorization } })
  t.equal(revoked.statusCode, 200)
  assertInactive(t, await introspect(app, { token: tokens.access_token }, { authorization: rs.authorization }), 'access token')
  assertInactive(t, await introspect(app, { token: tokens.refresh_token ?? '' }, { authorization: rs.authorization }), 'refresh token')
})

t.test('refresh tokens are introspected, and a rotated one is inactive', async (t) => {
  const { app, rs, client } = await setup(t)
  const tokens = await userTokens(app, client)
  const refresh = tokens.refresh_token ?? ''
  const expected = { active: true, scope: 'read write', client_id: client.clientId, username: ALICE.username, token_type: 'refresh_token', iat: START_EPOCH, sub: ALICE.id }
  // Only the client holding a refresh token learns about it (INTRO-1).
  assertAnswer(t, await introspect(app, { token: refresh }, { authorization: client.authorization }), expected, 'no hint')
  assertAnswer(t, await introspect(app, { token: refresh, token_type_hint: 'refresh_token' }, { authorization: client.authorization }), expected, 'right hint')
  assertAnswer(t, await introspect(app, { token: refresh, token_type_hint: 'access_token' }, { authorization: client.authorization }), expected, 'wrong hint')
  assertAnswer(t, await introspect(app, { token: refresh, token_type_hint: 'something' }, { authorization: client.authorization }), expected, 'unknown hint ignored (RFC 7662 §2.1)')

  const rotated = await postToken(app, { grant_type: 'refresh_token', refresh_token: refresh }, { authorization: client.authorization })
  t.equal(rotated.statusCode, 200)
  assertInactive(t, await introspect(app, { token: refresh }, { authorization: client.authorization }), 'the superseded refresh token')
  assertInactive(t, await introspect(app, { token: tokens.access_token }, { authorization: rs.authorization }), 'the superseded access token')
})

t.test('refresh tokens report exp and expire with refreshTokenExpireSeconds', async (t) => {
  const { app, clock, client } = await setup(t, { settings: { refreshTokenExpireSeconds: 100 } })
  const refresh = (await userTokens(app, client)).refresh_token ?? ''
  const body = (await introspect(app, { token: refresh }, { authorization: client.authorization })).json<Record<string, unknown>>()
  t.equal(body.active, true)
  t.equal(body.exp, START_EPOCH + 100)
  clock.advance(100)
  assertInactive(t, await introspect(app, { token: refresh }, { authorization: client.authorization }))
})

t.test('a confidential client authenticates with Basic or with client_secret_post', async (t) => {
  const { app, rs, client } = await setup(t)
  const { access_token: token } = await userTokens(app, client)
  t.equal((await introspect(app, { token }, { authorization: rs.authorization })).json<{ active: boolean }>().active, true, 'Basic')
  t.equal((await introspect(app, { token, client_id: rs.clientId, client_secret: rs.secret })).json<{ active: boolean }>().active, true, 'post')
  t.equal((await introspect(app, { token }, { authorization: client.authorization })).json<{ active: boolean }>().active, true, 'the client the token was issued to')
})

t.test('a public client may not introspect: 401 invalid_client (INTRO-1)', async (t) => {
  const { app, rs } = await setup(t)
  const { application } = await createApplication(app, { clientType: 'public', authorizationGrantType: 'authorization-code', redirectUris: ['https://app.example.com/cb'] })
  const token = await ccToken(app, rs, 'read')
  assertJsonError(t, await introspect(app, { token, client_id: application.clientId }), 401, TOKEN_ERRORS.invalidClient)
  assertJsonError(t, await introspect(app, { token, client_id: application.clientId, client_secret: '' }), 401, TOKEN_ERRORS.invalidClient)
})

t.test('bad or missing client credentials are 401 invalid_client', async (t) => {
  const { app, rs } = await setup(t)
  const token = await ccToken(app, rs, 'read')
  const basic = await introspect(app, { token }, { authorization: basicAuth(rs.clientId, `${rs.secret}x`) })
  assertJsonError(t, basic, 401, TOKEN_ERRORS.invalidClient)
  t.equal(basic.headers['www-authenticate'], 'Basic realm="oauth"')
  assertJsonError(t, await introspect(app, { token }, { authorization: 'Basic !!!' }), 401, TOKEN_ERRORS.invalidClient)
  assertJsonError(t, await introspect(app, { token, client_id: rs.clientId, client_secret: 'wrong' }), 401, TOKEN_ERRORS.invalidClient)
  assertJsonError(t, await introspect(app, { token, client_id: rs.clientId }), 401, TOKEN_ERRORS.invalidClient)
  assertJsonError(t, await introspect(app, { token }), 401, TOKEN_ERRORS.invalidClient)
  assertJsonError(t, await app.inject({ method: 'GET', url: `/o/introspect/?token=${token}` }), 401, TOKEN_ERRORS.invalidClient)
})

t.test('a bearer token holding the introspection scope may introspect', async (t) => {
  const { app, rs, client } = await setup(t)
  const caller = await ccToken(app, rs, 'introspection')
  const { access_token: token } = await userTokens(app, client)
  const res = await introspect(app, { token }, { authorization: `Bearer ${caller}` })
  t.equal(res.json<{ active: boolean }>().active, true)
  const viaGet = await app.inject({ method: 'GET', url: `/o/introspect/?token=${token}`, headers: { authorization: `bearer ${caller}` } })
  t.equal(viaGet.json<{ username: string }>().username, ALICE.username, 'scheme name case-insensitive, GET too')
  assertInactive(t, await introspect(app, { token: 'unknown' }, { authorization: `Bearer ${caller}` }))
})

t.test('a bearer token without the introspection scope, or a bad one, is 401 invalid_token', async (t) => {
  const { app, clock, rs, client } = await setup(t)
  const expiring = await ccToken(app, rs, 'introspection')
  clock.advance(36000)
  const readOnly = await ccToken(app, rs, 'read write')
  const { access_token: token } = await userTokens(app, client)
  const cases: Array<[string, string]> = [['no introspection scope', `Bearer ${readOnly}`], ['expired', `Bearer ${expiring}`],
    ['unknown', 'Bearer nope'], ['malformed', 'Bearer a b'], ['empty', 'Bearer']]
  for (const [name, authorization] of cases) {
    const res = await introspect(app, { token }, { authorization })
    assertJsonError(t, res, 401, INVALID_BEARER)
    t.equal(res.headers['www-authenticate'], 'Bearer error="invalid_token"', name)
  }
  const withCreds = await introspect(app, { token, client_id: rs.clientId, client_secret: rs.secret }, { authorization: `Bearer ${readOnly}` })
  assertJsonError(t, withCreds, 401, INVALID_BEARER)
})

t.test('GET reads the query string and POST the form, with or without the trailing slash', async (t) => {
  const { app, rs, client } = await setup(t)
  const { access_token: token } = await userTokens(app, client)
  for (const url of ['/o/introspect/', '/o/introspect']) {
    const get = await app.inject({ method: 'GET', url: `${url}?${form({ token })}`, headers: { authorization: rs.authorization } })
    t.equal(get.json<{ active: boolean }>().active, true, `GET ${url}`)
    t.equal(get.headers['cache-control'], 'no-store')
    t.equal(get.headers.pragma, 'no-cache')
    t.equal((await introspect(app, { token }, { authorization: rs.authorization }, url)).json<{ active: boolean }>().active, true, `POST ${url}`)
  }
  const head = await app.inject({ method: 'HEAD', url: `/o/introspect/?${form({ token })}`, headers: { authorization: rs.authorization } })
  t.equal(head.statusCode, 200, 'HEAD answers as GET, without a body')
  t.equal(head.body, '')
})

t.test('a client secret in the URI is refused (RFC 6749 §2.3.1), for GET and POST alike', async (t) => {
  const { app, rs } = await setup(t)
  const token = await ccToken(app, rs, 'read')
  const inUri = invalidRequest('Client credentials must not be sent in the URI.')
  assertJsonError(t, await app.inject({ method: 'GET', url: `/o/introspect/?${form({ token, client_id: rs.clientId, client_secret: rs.secret })}` }), 400, inUri)
  assertJsonError(t, await app.inject({ method: 'GET', url: `/o/introspect/?${form({ token, client_secret: 'x' })}`, headers: { authorization: rs.authorization } }), 400, inUri)
  const post = await app.inject({ method: 'POST', url: `/o/introspect/?${form({ client_secret: rs.secret })}`, payload: form({ token, client_id: rs.clientId }), headers: FORM })
  assertJsonError(t, post, 400, inUri)
})

t.test('a missing token is invalid_request, after caller authentication', async (t) => {
  const { app, rs } = await setup(t)
  const missing = invalidRequest('Request is missing token parameter.')
  assertJsonError(t, await introspect(app, {}, { authorization: rs.authorization }), 400, missing)
  assertJsonError(t, await introspect(app, { token: '' }, { authorization: rs.authorization }), 400, missing)
  assertJsonError(t, await app.inject({ method: 'GET', url: '/o/introspect/', headers: { authorization: rs.authorization } }), 400, missing)
  assertJsonError(t, await introspect(app, {}), 401, TOKEN_ERRORS.invalidClient)
})

t.test('repeated parameters are invalid_request', async (t) => {
  const { app, rs } = await setup(t)
  const token = await ccToken(app, rs, 'read')
  const cases: Array<[Record<string, string | string[]>, string]> = [
    [{ token: [token, 'other'] }, 'token'],
    [{ token, token_type_hint: ['access_token', 'refresh_token'] }, 'token_type_hint'],
  ]
  for (const [params, name] of cases) {
    assertJsonError(t, await introspect(app, params, { authorization: rs.authorization }), 400, invalidRequest(`Parameter repeated: ${name}.`))
  }
  const get = await app.inject({ method: 'GET', url: `/o/introspect/?token=${token}&token=${token}`, headers: { authorization: rs.authorization } })
  assertJsonError(t, get, 400, invalidRequest('Parameter repeated: token.'))
  const both = await app.inject({ method: 'POST', url: `/o/introspect/?token=${token}`, payload: form({ token }), headers: { ...FORM, authorization: rs.authorization } })
  assertJsonError(t, both, 400, invalidRequest('Parameter repeated: token.'))
})

t.test('bad input gets a 4xx JSON error, never a 500', async (t) => {
  const { app, rs } = await setup(t)
  const token = await ccToken(app, rs, 'read')
  const { authorization } = rs
  const cases: Array<[string, Record<string, string>, string | undefined, object]> = [
    ['JSON', { 'content-type': 'application/json' }, JSON.stringify({ token }), TOKEN_ERRORS.notForm],
    ['broken JSON', { 'content-type': 'application/json' }, '{"token":', TOKEN_ERRORS.unparsable],
    ['nested JSON', { 'content-type': 'application/json' }, JSON.stringify({ token: [token] }), TOKEN_ERRORS.notForm],
    ['text', { 'content-type': 'text/plain' }, `token=${token}`, TOKEN_ERRORS.notForm],
    ['multipart', { 'content-type': 'multipart/form-data; boundary=x' }, '--x--', TOKEN_ERRORS.unparsable],
    ['no body', {}, undefined, TOKEN_ERRORS.notForm],
    ['too large', FORM, form({ token: 'x'.repeat(70 * 1024) }), TOKEN_ERRORS.unparsable],
  ]
  for (const [name, headers, payload, body] of cases) {
    const res = await app.inject({ method: 'POST', url: '/o/introspect/', headers: { ...headers, authorization }, ...(payload === undefined ? {} : { payload }) })
    t.equal(res.statusCode, 400, name)
    t.same(res.json(), body, name)
  }
  const nested = await app.inject({ method: 'GET', url: '/o/introspect/?token[a]=1', headers: { authorization } })
  t.ok(nested.statusCode < 500, 'a bracketed query key')
  for (const method of ['PUT', 'PATCH', 'DELETE'] as const) {
    const res = await app.inject({ method, url: '/o/introspect/', headers: { authorization } })
    t.equal(res.statusCode, 405, method)
    t.equal(res.headers.allow, 'GET, POST')
    t.same(res.json(), invalidRequest('Method not allowed; use GET, POST.'))
  }
})

const HINTS = [undefined, 'access_token', 'refresh_token', 'id_token', '']

/** Introspects `token` as `caller` with no hint, each known hint, an unknown and an empty one; each answer must be exactly inactive. */
async function assertInactiveWithEveryHint (t: Test, app: FastifyInstance, token: string, authorization: string, message: string): Promise<void> {
  for (const hint of HINTS) {
    assertInactive(t, await introspect(app, hint === undefined ? { token } : { token, token_type_hint: hint }, { authorization }), `${message}, hint ${String(hint)}`)
  }
}

t.test('INTRO-1: a client without allowIntrospection learns only about its own tokens', async (t) => {
  const { app, client } = await setup(t)
  const other = await createClient(app, { authorizationGrantType: 'password' })
  const theirs = await userTokens(app, client)
  const ours = await userTokens(app, other)
  await assertInactiveWithEveryHint(t, app, theirs.access_token, other.authorization, 'another client\'s access token')
  await assertInactiveWithEveryHint(t, app, theirs.refresh_token ?? '', other.authorization, 'another client\'s refresh token')
  const cc = await createClient(app, { authorizationGrantType: 'client-credentials' })
  await assertInactiveWithEveryHint(t, app, await ccToken(app, cc, 'read'), other.authorization, 'another client\'s client_credentials token')

  assertAnswer(t, await introspect(app, { token: ours.access_token }, { authorization: other.authorization }), {
    active: true, scope: 'read write', client_id: other.clientId, username: ALICE.username, token_type: 'Bearer', exp: START_EPOCH + 36000, iat: START_EPOCH, sub: ALICE.id,
  }, 'its own access token')
  assertAnswer(t, await introspect(app, { token: ours.refresh_token ?? '' }, { authorization: other.authorization }), {
    active: true, scope: 'read write', client_id: other.clientId, username: ALICE.username, token_type: 'refresh_token', iat: START_EPOCH, sub: ALICE.id,
  }, 'its own refresh token')
  t.equal((await introspect(app, { token: theirs.access_token }, { authorization: client.authorization })).json<{ active: boolean }>().active, true, 'the holder still sees its token')
})

t.test('INTRO-1: a resource server learns about every client\'s access tokens, never about another client\'s refresh token', async (t) => {
  const { app, rs, client } = await setup(t)
  const tokens = await userTokens(app, client)
  t.equal((await introspect(app, { token: tokens.access_token }, { authorization: rs.authorization })).json<{ active: boolean }>().active, true, 'access token')
  await assertInactiveWithEveryHint(t, app, tokens.refresh_token ?? '', rs.authorization, 'another client\'s refresh token')
  // A resource server that is also a password client sees its own refresh tokens.
  const both = await createClient(app, { authorizationGrantType: 'password', allowIntrospection: true })
  const own = await userTokens(app, both)
  t.match((await introspect(app, { token: own.refresh_token ?? '' }, { authorization: both.authorization })).json(), { active: true, token_type: 'refresh_token' }, 'its own refresh token')
  await assertInactiveWithEveryHint(t, app, tokens.refresh_token ?? '', both.authorization, 'still not another client\'s')
  // The same through a bearer token with the introspection scope.
  const bearer = `Bearer ${await ccToken(app, rs, 'introspection')}`
  t.equal((await introspect(app, { token: tokens.access_token }, { authorization: bearer })).json<{ active: boolean }>().active, true, 'bearer: access token')
  await assertInactiveWithEveryHint(t, app, tokens.refresh_token ?? '', bearer, 'bearer: another client\'s refresh token')
})

t.test('INTRO-1: the introspection scope is granted only to applications with allowIntrospection', async (t) => {
  const { app, rs, client } = await setup(t)
  const cc = await createClient(app, { authorizationGrantType: 'client-credentials' })
  const refused = { error: 'invalid_scope', error_description: 'The client is not registered for the requested scope.' }
  for (const scope of ['introspection', 'read introspection']) {
    const res = await postToken(app, { grant_type: 'client_credentials', scope }, { authorization: cc.authorization })
    assertJsonError(t, res, 400, refused)
  }
  assertJsonError(t, await passwordGrant(app, client.authorization, { scope: 'read introspection' }), 400, refused)
  // The default scopes are __all__ (DOT's default): everything declared but introspection.
  const defaults = await postToken(app, { grant_type: 'client_credentials' }, { authorization: cc.authorization })
  t.equal(defaults.json<TokenBody>().scope, 'read write', 'the defaults leave it out')
  const permitted = await postToken(app, { grant_type: 'client_credentials' }, { authorization: rs.authorization })
  t.equal(permitted.json<TokenBody>().scope, 'read write introspection', 'a resource server gets it with the defaults')
  // A client restricted to its registered scopes cannot hold it either.
  const restricted = await createApplication(app, { authorizationGrantType: 'client-credentials', allowedScopes: ['read', 'introspection'] })
  const authorization = basicAuth(restricted.application.clientId, restricted.clientSecret ?? '')
  assertJsonError(t, await postToken(app, { grant_type: 'client_credentials', scope: 'introspection' }, { authorization }), 400, refused)
  t.equal((await postToken(app, { grant_type: 'client_credentials' }, { authorization })).json<TokenBody>().scope, 'read')
})

t.test('INTRO-1: a bearer token authorizes introspection only while its application has allowIntrospection', async (t) => {
  const { app, clock, rs, client } = await setup(t)
  const { access_token: token } = await userTokens(app, client)
  const bearer = `Bearer ${await ccToken(app, rs, 'introspection read')}`
  t.equal((await introspect(app, { token }, { authorization: bearer })).json<{ active: boolean }>().active, true, 'permitted')
  // Withdrawn (or a token issued before the scope was reserved): the scope alone is not enough.
  await app.oauth.store.updateApplication(rs.id, { allowIntrospection: false }, clock.now())
  const res = await introspect(app, { token }, { authorization: bearer })
  assertJsonError(t, res, 401, INVALID_BEARER)
  t.equal(res.headers['www-authenticate'], 'Bearer error="invalid_token"')
  const asClient = await introspect(app, { token }, { authorization: rs.authorization })
  assertInactive(t, asClient, 'its client credentials now learn only about its own tokens')
})

t.test('INTRO-1: the permission counts only on a confidential client, even if a direct store write left it on a public one', async (t) => {
  const { app, clock, rs, client } = await setup(t)
  const { access_token: token } = await userTokens(app, client)
  const bearer = `Bearer ${await ccToken(app, rs, 'introspection')}`
  await app.oauth.store.updateApplication(rs.id, { clientType: 'public', clientSecretHash: '' }, clock.now())
  t.equal((await app.oauth.store.findApplicationById(rs.id))?.allowIntrospection, true, 'the store does not police it')
  assertJsonError(t, await introspect(app, { token }, { authorization: bearer }), 401, INVALID_BEARER)
})

t.test('INTRO-1: a refresh token is no bearer credential at the introspection endpoint', async (t) => {
  const { app, client } = await setup(t)
  const both = await createClient(app, { authorizationGrantType: 'password', allowIntrospection: true })
  const own = await passwordGrant(app, both.authorization, { scope: 'introspection' })
  t.equal(own.statusCode, 200)
  const { access_token: accessToken, refresh_token: refreshToken } = own.json<TokenBody>()
  const { access_token: token } = await userTokens(app, client)
  t.equal((await introspect(app, { token }, { authorization: `Bearer ${accessToken}` })).json<{ active: boolean }>().active, true, 'its access token')
  assertJsonError(t, await introspect(app, { token }, { authorization: `Bearer ${refreshToken ?? ''}` }), 401, INVALID_BEARER)
})

t.test('INTRO-1: an update through the host API keeps or drops the permission; a public client never has it', async (t) => {
  const { app, rs, client } = await setup(t)
  const { access_token: token } = await userTokens(app, client)
  const ctx = serverContext(app.oauth)
  const kept = await updateApplication(ctx, rs.id, { clientType: 'confidential', authorizationGrantType: 'client-credentials', name: 'renamed' })
  t.equal(kept?.application.allowIntrospection, true, 'left out: kept')
  t.equal((await introspect(app, { token }, { authorization: rs.authorization })).json<{ active: boolean }>().active, true)
  const cc = await createClient(app, { authorizationGrantType: 'client-credentials' })
  const granted = await updateApplication(ctx, cc.id, { clientType: 'confidential', authorizationGrantType: 'client-credentials', allowIntrospection: true })
  t.equal(granted?.application.allowIntrospection, true, 'granted by host code')
  t.equal((await introspect(app, { token }, { authorization: cc.authorization })).json<{ active: boolean }>().active, true, 'and used at once')

  const pub = { clientType: 'public', authorizationGrantType: 'authorization-code', redirectUris: ['https://app.example.com/cb'] } as const
  await t.rejects(updateApplication(ctx, rs.id, { ...pub, allowIntrospection: true }), { name: 'ApplicationValidationError', message: 'allowIntrospection: only confidential clients can introspect tokens (RFC 7662 §2.1)' })
  t.equal((await updateApplication(ctx, rs.id, pub))?.application.allowIntrospection, false, 'turning public drops it')
  await t.rejects(createApplication(app, { ...pub, allowIntrospection: true }), { name: 'ApplicationValidationError', message: 'allowIntrospection: only confidential clients can introspect tokens (RFC 7662 §2.1)' })
})
