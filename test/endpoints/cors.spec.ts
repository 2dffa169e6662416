import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import t, { type Test } from 'tap'
import { basicAuth, buildApp, createClient, form, FORM, postToken, type TestClient, TOKEN_ERRORS, type TokenBody } from '../helpers/index.js'

const ORIGIN = 'https://app.example.com'
const SECOND_ORIGIN = 'http://localhost:3000'
const OTHER_APPS_ORIGIN = 'https://other.example.org'

/** Origins a browser could send that must not pass for `ORIGIN` (UI-5). */
const LOOKALIKES = [
  'https://app.example.com.evil.net',
  'https://app.example.com/',
  'https://app.example.com:8443',
  'https://app.example.com:443',
  'http://app.example.com',
  'HTTPS://APP.EXAMPLE.COM',
  'https://app.example.co',
  'https://pp.example.com',
  'https://evil.example',
  'https://app',
  'null',
  '',
  `${ORIGIN} ${SECOND_ORIGIN}`,
]

/**
 * A client registered with `ORIGIN` and `SECOND_ORIGIN` (a resource server, so that it may
 * introspect the other's tokens), and another with its own origin.
 */
async function setup (t: Test): Promise<{ app: FastifyInstance, client: TestClient, other: TestClient }> {
  const app = await buildApp(t, { settings: { scopes: { read: 'Reading scope', write: 'Writing scope', introspection: 'Introspect tokens' } } })
  const client = await createClient(app, { allowedOrigins: [ORIGIN, SECOND_ORIGIN], allowIntrospection: true })
  const other = await createClient(app, { allowedOrigins: [OTHER_APPS_ORIGIN] })
  return { app, client, other }
}

async function tokenFor (app: FastifyInstance, client: TestClient, scope = 'read'): Promise<string> {
  return (await postToken(app, { grant_type: 'client_credentials', scope }, { authorization: client.authorization })).json<TokenBody>().access_token
}

async function post (app: FastifyInstance, url: string, params: Record<string, string>, headers: Record<string, string>): Promise<LightMyRequestResponse> {
  return await app.inject({ method: 'POST', url, payload: form(params), headers: { ...FORM, ...headers } })
}

function assertEchoed (t: Test, res: LightMyRequestResponse, origin: string, message: string): void {
  t.equal(res.headers['access-control-allow-origin'], origin, message)
  t.match(res.headers.vary, /\bOrigin\b/, `${message}: Vary: Origin`)
  t.equal(res.headers['access-control-allow-credentials'], undefined, `${message}: never with credentials`)
}

function assertNoCors (t: Test, res: LightMyRequestResponse, message: string): void {
  t.equal(res.headers['access-control-allow-origin'], undefined, message)
  t.equal(res.headers['access-control-allow-methods'], undefined, message)
  t.equal(res.headers['access-control-max-age'], undefined, message)
}

t.test('the token endpoint echoes an Origin the client registered', async (t) => {
  const { app, client } = await setup(t)
  for (const origin of [ORIGIN, SECOND_ORIGIN]) {
    const res = await postToken(app, { grant_type: 'client_credentials' }, { authorization: client.authorization, origin })
    t.equal(res.statusCode, 200)
    assertEchoed(t, res, origin, origin)
    t.equal(res.headers['cache-control'], 'no-store', 'the token response headers are kept')
  }
})

t.test('errors after client authentication carry CORS headers too; failed authentication does not', async (t) => {
  const { app, client } = await setup(t)
  const badScope = await postToken(app, { grant_type: 'client_credentials', scope: 'nonsense' }, { authorization: client.authorization, origin: ORIGIN })
  t.equal(badScope.statusCode, 400)
  t.same(badScope.json(), TOKEN_ERRORS.invalidScope)
  assertEchoed(t, badScope, ORIGIN, 'invalid_scope is readable by the client\'s own page')

  const badSecret = await postToken(app, { grant_type: 'client_credentials' }, { authorization: basicAuth(client.clientId, 'wrong'), origin: ORIGIN })
  t.equal(badSecret.statusCode, 401)
  assertNoCors(t, badSecret, 'unauthenticated: the client is unknown')
  const notForm = await app.inject({ method: 'POST', url: '/o/token/', payload: '{}', headers: { 'content-type': 'application/json', authorization: client.authorization, origin: ORIGIN } })
  t.equal(notForm.statusCode, 400)
  assertNoCors(t, notForm, 'rejected before authentication')
})

t.test('no Origin, an origin nobody registered, or another client\'s origin: no CORS headers', async (t) => {
  const { app, client } = await setup(t)
  const cases: Array<[string, Record<string, string>]> = [
    ['no Origin', {}],
    ['unregistered', { origin: 'https://evil.example' }],
    ['registered by another application', { origin: OTHER_APPS_ORIGIN }],
  ]
  for (const [name, headers] of cases) {
    const res = await postToken(app, { grant_type: 'client_credentials' }, { authorization: client.authorization, ...headers })
    t.equal(res.statusCode, 200, name)
    assertNoCors(t, res, name)
  }
})

t.test('lookalike origins are not allowed anywhere (exact match only)', async (t) => {
  const { app, client } = await setup(t)
  const access = await tokenFor(app, client)
  for (const origin of LOOKALIKES) {
    const token = await postToken(app, { grant_type: 'client_credentials' }, { authorization: client.authorization, origin })
    assertNoCors(t, token, `token, ${JSON.stringify(origin)}`)
    const revoke = await post(app, '/o/revoke-token/', { token: 'unknown' }, { authorization: client.authorization, origin })
    assertNoCors(t, revoke, `revoke, ${JSON.stringify(origin)}`)
    const introspect = await post(app, '/o/introspect/', { token: access }, { authorization: client.authorization, origin })
    assertNoCors(t, introspect, `introspect, ${JSON.stringify(origin)}`)
    const preflight = await app.inject({ method: 'OPTIONS', url: '/o/token/', headers: { origin, 'access-control-request-method': 'POST' } })
    assertNoCors(t, preflight, `preflight, ${JSON.stringify(origin)}`)
  }
})

t.test('the revocation endpoint echoes the client\'s origin, on every spelling', async (t) => {
  const { app, client, other } = await setup(t)
  for (const url of ['/o/revoke-token/', '/o/revoke-token', '/o/revoke_token/', '/o/revoke_token']) {
    const access = await tokenFor(app, client)
    const res = await post(app, url, { token: access }, { authorization: client.authorization, origin: ORIGIN })
    t.equal(res.statusCode, 200)
    assertEchoed(t, res, ORIGIN, url)
  }
  const foreign = await post(app, '/o/revoke-token/', { token: 'x' }, { authorization: other.authorization, origin: ORIGIN })
  assertNoCors(t, foreign, 'another client calling from this client\'s origin')
  const badHint = await post(app, '/o/revoke-token/', { token: 'x', token_type_hint: 'id_token' }, { authorization: client.authorization, origin: ORIGIN })
  t.equal(badHint.statusCode, 200, 'an unknown hint is ignored (RFC 7009 §2.2)')
  assertEchoed(t, badHint, ORIGIN, 'an unknown hint')
})

t.test('the introspection endpoint echoes the caller\'s origin, for client and bearer callers', async (t) => {
  const { app, client, other } = await setup(t)
  const access = await tokenFor(app, other)
  const viaPost = await post(app, '/o/introspect/', { token: access }, { authorization: client.authorization, origin: ORIGIN })
  t.equal(viaPost.json<{ active: boolean }>().active, true)
  assertEchoed(t, viaPost, ORIGIN, 'client credentials, POST')
  const viaGet = await app.inject({ method: 'GET', url: `/o/introspect?token=${access}`, headers: { authorization: client.authorization, origin: ORIGIN } })
  assertEchoed(t, viaGet, ORIGIN, 'client credentials, GET')

  const bearer = await tokenFor(app, client, 'introspection')
  const viaBearer = await post(app, '/o/introspect/', { token: access }, { authorization: `Bearer ${bearer}`, origin: SECOND_ORIGIN })
  t.equal(viaBearer.json<{ active: boolean }>().active, true)
  assertEchoed(t, viaBearer, SECOND_ORIGIN, 'bearer: the origins of the token\'s application')

  const foreign = await post(app, '/o/introspect/', { token: access }, { authorization: other.authorization, origin: ORIGIN })
  assertNoCors(t, foreign, 'the caller did not register this origin')
  const failed = await post(app, '/o/introspect/', { token: access }, { authorization: 'Bearer nope', origin: ORIGIN })
  t.equal(failed.statusCode, 401)
  assertNoCors(t, failed, 'failed caller authentication')
})

t.test('preflights from a registered origin get the CORS answer', async (t) => {
  const { app } = await setup(t)
  const endpoints: Array<[string, string]> = [
    ['/o/token/', 'POST'], ['/o/token', 'POST'],
    ['/o/revoke-token/', 'POST'], ['/o/revoke-token', 'POST'], ['/o/revoke_token/', 'POST'], ['/o/revoke_token', 'POST'],
    ['/o/introspect/', 'GET, POST'], ['/o/introspect', 'GET, POST'],
  ]
  for (const [url, methods] of endpoints) {
    for (const origin of [ORIGIN, SECOND_ORIGIN, OTHER_APPS_ORIGIN]) {
      const res = await app.inject({
        method: 'OPTIONS',
        url,
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
      })
      t.equal(res.statusCode, 204, `${url} ${origin}`)
      t.equal(res.body, '')
      t.equal(res.headers['access-control-allow-origin'], origin)
      t.equal(res.headers['access-control-allow-methods'], methods)
      t.equal(res.headers['access-control-allow-headers'], 'Authorization, Content-Type, DPoP', 'DPoP proofs too (RFC 9449)')
      t.equal(res.headers['access-control-max-age'], '3600')
      t.equal(res.headers['access-control-allow-credentials'], undefined)
      t.match(res.headers.vary, /\bOrigin\b/)
      t.equal(res.headers.allow, `${methods}, OPTIONS`)
    }
  }
})

t.test('other preflights get 204 with Allow and no CORS headers, so the browser refuses', async (t) => {
  const { app } = await setup(t)
  const cases: Array<[string, Record<string, string>]> = [
    ['unregistered origin', { origin: 'https://evil.example', 'access-control-request-method': 'POST' }],
    ['no Origin (not a CORS request)', {}],
    ['an absurdly long origin', { origin: `https://${'a'.repeat(5000)}.example` }],
  ]
  for (const [name, headers] of cases) {
    const res = await app.inject({ method: 'OPTIONS', url: '/o/token/', headers })
    t.equal(res.statusCode, 204, name)
    t.equal(res.headers.allow, 'POST, OPTIONS')
    assertNoCors(t, res, name)
    t.equal(res.headers['access-control-allow-headers'], undefined)
  }
})

t.test('the authorization endpoint never answers CORS (RFC 9700 §2.6, UI-5)', async (t) => {
  const { app } = await setup(t)
  const preflight = await app.inject({ method: 'OPTIONS', url: '/o/authorize/', headers: { origin: ORIGIN, 'access-control-request-method': 'GET' } })
  assertNoCors(t, preflight, 'OPTIONS')
})

t.test('isOriginAllowed matches list entries exactly, with no wildcard', async (t) => {
  const app = await buildApp(t)
  await createClient(app, { allowedOrigins: ['https://a_b.example.com', 'https://first.example'] })
  await createClient(app, { allowedOrigins: ['https://second.example'] })
  const { store } = app.oauth
  for (const origin of ['https://a_b.example.com', 'https://first.example', 'https://second.example']) {
    t.equal(await store.isOriginAllowed(origin), true, origin)
  }
  const refused = [
    'https://aXb.example.com', // `_` is a LIKE wildcard
    'https://a%.example.com', // and so is `%`
    '%', '_', 'https://a_b', 'https://a_b.example.co', 'https://a_b.example.com.evil.net', 'a_b.example.com',
    'https://first.example https://a_b.example.com', '', ' ', 'https://first.example\n',
  ]
  for (const origin of refused) t.equal(await store.isOriginAllowed(origin), false, JSON.stringify(origin))

  const [first] = await store.listApplications()
  if (first === undefined) throw new Error('no application')
  await store.updateApplication(first.id, { allowedOrigins: [] }, new Date())
  t.equal(await store.isOriginAllowed('https://a_b.example.com'), false, 'an origin removed from the list is refused at once')
  t.equal(await store.isOriginAllowed('https://second.example'), true)
})
