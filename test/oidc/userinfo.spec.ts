// OpenID Connect UserInfo (OIDC Core §5.3–5.4): bearer token with openid, scope-filtered claims
// from getUserClaims, RFC 6750 challenges.
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { ALICE, basicAuth, clientCredentialsToken, FORM, postToken } from '../helpers/index.js'
import { buildOidcApp, createOidcApplication, newRsaPem, oidcCodeFlow } from './support.js'

const CLAIMS = {
  name: 'Alice Liddell',
  given_name: 'Alice',
  preferred_username: 'alice',
  email: 'alice@example.com',
  email_verified: true,
  address: { country: 'GB' },
  phone_number: '+44 1865 000000',
  sub: 'spoofed',
  department: 'wonderland',
}

async function appWithClaims (t: Parameters<typeof buildOidcApp>[0], seen: Array<[string, readonly string[]]> = []): Promise<FastifyInstance> {
  return await buildOidcApp(t, {
    oidc: {
      privateKey: newRsaPem(),
      getUserClaims: async (userId, scopes) => { seen.push([userId, scopes]); return userId === ALICE.id ? CLAIMS : null },
    },
  })
}

async function tokenFor (app: FastifyInstance, scope: string, user: string = ALICE.id): Promise<string> {
  return (await oidcCodeFlow(app, await createOidcApplication(app), { scope }, user)).access_token
}

t.test('GET and POST give sub plus the claims the scopes release; custom claims pass; no-store, CORS *', async (t) => {
  const seen: Array<[string, readonly string[]]> = []
  const app = await appWithClaims(t, seen)
  const token = await tokenFor(app, 'openid profile email')
  const expected = { sub: ALICE.id, name: 'Alice Liddell', given_name: 'Alice', preferred_username: 'alice', email: 'alice@example.com', email_verified: true, department: 'wonderland' }
  for (const method of ['GET', 'POST'] as const) {
    const res = await app.inject({ method, url: '/o/userinfo/', headers: { authorization: `Bearer ${token}` } })
    t.equal(res.statusCode, 200, method)
    t.same(res.json(), expected, `${method}: no address or phone without their scopes; sub is the token's user`)
    t.equal(res.headers['cache-control'], 'no-store')
    t.equal(res.headers['access-control-allow-origin'], '*')
  }
  t.same(seen[0], [ALICE.id, ['openid', 'profile', 'email']], 'getUserClaims gets the user id and the scopes')
  const all = await tokenFor(app, 'openid profile email address phone')
  const res = await app.inject({ url: '/o/userinfo', headers: { authorization: `Bearer ${all}` } })
  t.match(res.json(), { address: { country: 'GB' }, phone_number: '+44 1865 000000' })
})

t.test('POST with the token in a form body (RFC 6750 §2.2, oidcc-userinfo-post-body)', async (t) => {
  const app = await appWithClaims(t)
  const token = await tokenFor(app, 'openid email')
  const res = await app.inject({ method: 'POST', url: '/o/userinfo/', headers: FORM, payload: `access_token=${token}` })
  t.equal(res.statusCode, 200)
  t.same(res.json(), { sub: ALICE.id, email: 'alice@example.com', email_verified: true, department: 'wonderland' })
  const both = await app.inject({ method: 'POST', url: '/o/userinfo/', headers: { ...FORM, authorization: `Bearer ${token}` }, payload: `access_token=${token}` })
  t.equal(both.statusCode, 400)
  t.same(both.json(), { error: 'invalid_request', error_description: 'Send the access token by one method only.' })
})

t.test('without getUserClaims, UserInfo answers sub only', async (t) => {
  const app = await buildOidcApp(t)
  const token = await tokenFor(app, 'openid profile')
  const res = await app.inject({ url: '/o/userinfo/', headers: { authorization: `Bearer ${token}` } })
  t.same(res.json(), { sub: ALICE.id })
})

t.test('errors are RFC 6750 challenges', async (t) => {
  const app = await appWithClaims(t)
  const noOpenid = await tokenFor(app, 'read')
  const gone = await tokenFor(app, 'openid', 'user-deleted')
  const clientToken = await clientCredentialsToken(app, 'openid')

  const missing = await app.inject({ url: '/o/userinfo/' })
  t.equal(missing.statusCode, 401)
  t.equal(missing.headers['www-authenticate'], 'Bearer realm="api"', 'no error code without a token (RFC 6750 §3)')

  const cases: Array<[string, string, number, string, string]> = [
    ['an unknown token', 'Bearer nope', 401, 'invalid_token', 'The access token is invalid.'],
    ['a token without openid', `Bearer ${noOpenid}`, 403, 'insufficient_scope', 'The access token is valid but does not have enough scope.'],
    ['a user getUserClaims no longer knows', `Bearer ${gone}`, 401, 'invalid_token', 'The access token is invalid.'],
    ['a client-credentials token', `Bearer ${clientToken}`, 401, 'invalid_token', 'The access token is invalid.'],
    ['a malformed header', 'Bearer a b', 400, 'invalid_request', 'The bearer token is malformed.'],
  ]
  for (const [name, authorization, status, error, description] of cases) {
    const res = await app.inject({ url: '/o/userinfo/', headers: { authorization } })
    t.equal(res.statusCode, status, name)
    t.same(res.json(), { error, error_description: description }, name)
    const scope = error === 'insufficient_scope' ? ', scope="openid"' : ''
    t.equal(res.headers['www-authenticate'], `Bearer realm="api", error="${error}", error_description="${description}"${scope}`, name)
    t.equal(res.headers['cache-control'], 'no-store', name)
  }
  const query = await app.inject({ url: `/o/userinfo/?access_token=${noOpenid}` })
  t.equal(query.statusCode, 400, 'query-string tokens stay refused (LEAK-3)')
})

t.test('an ID token is no bearer token for UserInfo (JOSE-2); preflight and other methods', async (t) => {
  const app = await appWithClaims(t)
  const body = await oidcCodeFlow(app, await createOidcApplication(app), { scope: 'openid' })
  const res = await app.inject({ url: '/o/userinfo/', headers: { authorization: `Bearer ${body.id_token ?? ''}` } })
  t.equal(res.statusCode, 401)
  const preflight = await app.inject({ method: 'OPTIONS', url: '/o/userinfo/', headers: { origin: 'https://rp.example', 'access-control-request-method': 'GET' } })
  t.equal(preflight.statusCode, 204)
  t.equal(preflight.headers['access-control-allow-origin'], '*')
  t.match(preflight.headers['access-control-allow-headers'], /Authorization/)
  const put = await app.inject({ method: 'PUT', url: '/o/userinfo/' })
  t.equal(put.statusCode, 405)
  t.equal(put.headers.allow, 'GET, POST')
  const json = await app.inject({ method: 'POST', url: '/o/userinfo/', headers: { 'content-type': 'application/json' }, payload: '{bad' })
  t.equal(json.statusCode, 400, 'a body that does not parse is a 400, never a 500')
})

t.test('a token bound to RFC 8707 resources is for those services, not for UserInfo', async (t) => {
  const api = 'https://api.example.com/'
  const app = await buildOidcApp(t, { settings: { protectedResources: [{ resource: api }] } })
  const created = await createOidcApplication(app)
  const body = await oidcCodeFlow(app, created, { scope: 'openid' })
  const unbound = await app.inject({ url: '/o/userinfo/', headers: { authorization: `Bearer ${body.access_token}` } })
  t.equal(unbound.statusCode, 200, 'a token bound to no resource reads UserInfo')
  // The grant had no resource, so a refresh may bind the next token to the API (RFC 8707 §2.2).
  const refreshed = await postToken(app, { grant_type: 'refresh_token', refresh_token: body.refresh_token ?? '', resource: api }, { authorization: basicAuth(created.application.clientId, created.clientSecret ?? '') })
  t.equal(refreshed.statusCode, 200, refreshed.body)
  const bound = await app.inject({ url: '/o/userinfo/', headers: { authorization: `Bearer ${refreshed.json<{ access_token: string }>().access_token}` } })
  t.equal(bound.statusCode, 401)
  t.match(bound.headers['www-authenticate'], /error="invalid_token"/)
  t.same(bound.json(), { error: 'invalid_token', error_description: 'The access token is not valid for this resource.' })
})
