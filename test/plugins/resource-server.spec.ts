// A standalone resource server (no OAuth tables) verifying tokens by RFC 7662 introspection
// against a real authorization server on another port: acceptance, caching, revocation after
// the cache entry ends, and failing closed when the authorization server is slow, down or
// answers garbage. One AS serves the whole file.
import Fastify from 'fastify'
import t, { type Test } from 'tap'
import { ClientProtectedResourceView, fastifyOAuthToolkit } from '../../index.js'
import { resourceServer, type ResourceServerOptions } from '../../entries/resource-server.js'
import { ALICE, basicAuth, buildApp, createApplication, FORM, form, loadAlice, postToken, fixedClock, type TokenBody } from '../helpers/index.js'
import { passwordGrant, verifyAlice } from '../helpers/password-grant.js'
import { buildApi, callApi, listen, stubServer, type CapturedLog, type WhoAmI } from './resource-server-support.js'

const as = await buildApp(t, {
  settings: { passwordGrantEnabled: true, scopes: { read: 'Reading scope', write: 'Writing scope', introspection: 'Introspect tokens' } },
  verifyUserCredentials: verifyAlice,
  loadUser: loadAlice,
})
let introspections = 0
as.addHook('onRequest', async (request) => { if (request.url.startsWith('/o/introspect')) introspections++ })
const asOrigin = await listen(as)
const introspectUrl = `${asOrigin}/o/introspect/`
// The API's own client at the AS, for introspection (DOT's RESOURCE_SERVER_INTROSPECTION_CREDENTIALS):
// a resource server, which only an administrator makes one (the CLI's --allow-introspection).
const rsClient = await createApplication(as, { name: 'The API', allowIntrospection: true })
const credentials = { clientId: rsClient.application.clientId, clientSecret: rsClient.clientSecret ?? '' }
const pwApp = await createApplication(as, { authorizationGrantType: 'password' })
const ccApp = await createApplication(as)

async function userTokens (scope = 'read'): Promise<TokenBody> {
  const res = await passwordGrant(as, pwApp, { scope })
  return res.json<TokenBody>()
}
async function clientToken (scope = 'read'): Promise<string> {
  const res = await postToken(as, { grant_type: 'client_credentials', scope }, { authorization: basicAuth(ccApp.application.clientId, ccApp.clientSecret ?? '') })
  return res.json<TokenBody>().access_token
}
/** A token of the API's own client, e.g. one with the `introspection` scope (DOT's RESOURCE_SERVER_AUTH_TOKEN). */
async function rsToken (scope: string): Promise<string> {
  const res = await postToken(as, { grant_type: 'client_credentials', scope }, { authorization: basicAuth(credentials.clientId, credentials.clientSecret) })
  if (res.statusCode !== 200) throw new Error(res.body)
  return res.json<TokenBody>().access_token
}
async function revoke (token: string): Promise<void> {
  const res = await as.inject({ method: 'POST', url: '/o/revoke_token/', headers: { ...FORM, authorization: basicAuth(pwApp.application.clientId, pwApp.clientSecret ?? '') }, payload: form({ token }) })
  if (res.statusCode !== 200) throw new Error(res.body)
}

function introspectionApi (t: Test, extra: Partial<ResourceServerOptions['introspection']> = {}, options: Partial<ResourceServerOptions> = {}, log?: CapturedLog) {
  const clock = fixedClock(new Date().toISOString())
  return {
    clock,
    api: buildApi(t, {
      introspection: { url: introspectUrl, credentials, cacheSeconds: 30, negativeCacheSeconds: 2, ...extra },
      clock,
      loadUser: async (id, token) => ({ id, username: String(token.claims?.username) }),
      ...options,
    }, log),
  }
}

t.test('two apps on two ports: a token issued by the AS is accepted by the separate API', async (t) => {
  const { api: building } = introspectionApi(t)
  const api = await building
  const apiOrigin = await listen(api)
  const tokens = await userTokens('read')
  const before = introspections
  const res = await fetch(`${apiOrigin}/api/hello`, { headers: { authorization: `Bearer ${tokens.access_token}` } })
  t.equal(res.status, 200)
  t.same(await res.json(), {
    userId: ALICE.id,
    clientId: pwApp.application.clientId,
    scopes: ['read'],
    verifiedBy: 'introspection',
    owner: { id: ALICE.id, username: ALICE.username },
  } satisfies WhoAmI, 'request.accessToken and request.resourceOwner come from the introspection answer')
  t.equal((await fetch(`${apiOrigin}/api/protected`, { headers: { authorization: `Bearer ${tokens.access_token}` } })).status, 200, 'the protect() hook too')
  t.equal((await fetch(`${apiOrigin}/api/write`, { headers: { authorization: `Bearer ${tokens.access_token}` } })).status, 403, 'scoped views check scopes')
  t.equal((await callApi(api, tokens.access_token, '/api/notes')).statusCode, 200, 'read/write views: read with read')
  t.equal((await callApi(api, tokens.access_token, '/api/notes', 'POST')).statusCode, 403, 'read/write views: no write without write')
  t.equal(introspections - before, 1, 'one introspection call, then the cache')
  t.equal((await fetch(`${apiOrigin}/api/hello`)).status, 403, 'no token: DOT\'s bare 403')

  const cc = await clientToken('read write')
  t.match((await callApi(api, cc, '/api/write')).json(), { userId: null, clientId: ccApp.application.clientId, owner: null }, 'a client-credentials token has no resource owner')
})

t.test('revocation at the AS is refused by the API once the cache entry ends', async (t) => {
  const { api: building, clock } = introspectionApi(t, { cacheSeconds: 30 })
  const api = await building
  const { access_token: token } = await userTokens()
  t.equal((await callApi(api, token)).statusCode, 200)
  await revoke(token)
  t.equal((await callApi(api, token)).statusCode, 200, 'still cached: the documented revocation latency')
  clock.advance(29)
  t.equal((await callApi(api, token)).statusCode, 200, 'until cacheSeconds')
  clock.advance(2)
  t.equal((await callApi(api, token)).statusCode, 403, 'then refused')
})

t.test('a cached answer never outlives the token (EXP-1)', async (t) => {
  const { api: building, clock } = introspectionApi(t, { cacheSeconds: 100000 })
  const api = await building
  const token = await clientToken()
  t.equal((await callApi(api, token)).statusCode, 200)
  const before = introspections
  clock.advance(36001)
  t.equal((await callApi(api, token)).statusCode, 403)
  t.equal(introspections, before + 1, 'the entry ended at exp; the AS was asked again (and, on its clock, said active, but the API\'s clock is past exp)')
})

t.test('negative answers are cached for a few seconds only; concurrent requests share one call', async (t) => {
  const { api: building, clock } = introspectionApi(t, { negativeCacheSeconds: 2 })
  const api = await building
  const before = introspections
  t.equal((await callApi(api, 'not-a-token')).statusCode, 403)
  t.equal((await callApi(api, 'not-a-token')).statusCode, 403)
  t.equal(introspections - before, 1, 'the inactive answer was reused')
  clock.advance(2)
  t.equal((await callApi(api, 'not-a-token')).statusCode, 403)
  t.equal(introspections - before, 2, 'and asked again after negativeCacheSeconds')

  const fresh = await clientToken()
  const start = introspections
  const all = await Promise.all(Array.from({ length: 20 }, async () => (await callApi(api, fresh)).statusCode))
  t.same([...new Set(all)], [200])
  t.equal(introspections - start, 1, '20 concurrent requests, one introspection')
  await t.rejects(buildApi(t, { introspection: { url: introspectUrl, credentials, negativeCacheSeconds: 6 } }), /negativeCacheSeconds must be at most 5/)
})

t.test('a refresh token is not an access token (JOSE-2)', async (t) => {
  const { api: building } = introspectionApi(t)
  const api = await building
  const tokens = await userTokens()
  // The AS describes a refresh token only to the client holding it (INTRO-1); were it to say
  // active, the API would still refuse a token_type other than an access token's.
  t.equal((await callApi(api, tokens.refresh_token ?? '')).statusCode, 403, 'refused')
})

t.test('INTRO-1: an API whose client lacks allowIntrospection accepts no other client\'s token', async (t) => {
  const plain = await createApplication(as, { name: 'An API nobody made a resource server' })
  const api = await buildApi(t, { introspection: { url: introspectUrl, credentials: { clientId: plain.application.clientId, clientSecret: plain.clientSecret ?? '' } } })
  t.equal((await callApi(api, (await userTokens()).access_token)).statusCode, 403, 'the AS answers {"active": false}')
  t.equal((await callApi(api, await clientToken())).statusCode, 403)
  const scoped = await postToken(as, { grant_type: 'client_credentials', scope: 'introspection' }, { authorization: basicAuth(plain.application.clientId, plain.clientSecret ?? '') })
  t.same(scoped.json(), { error: 'invalid_scope', error_description: 'The client is not registered for the requested scope.' }, 'nor can it obtain the introspection scope')
})

t.test('introspection with a bearer token holding the introspection scope (DOT RESOURCE_SERVER_AUTH_TOKEN)', async (t) => {
  const bearer = await rsToken('introspection')
  const { api: building } = introspectionApi(t, { credentials: undefined, token: bearer })
  const api = await building
  t.equal((await callApi(api, await clientToken())).statusCode, 200)
})

t.test('RFC 6750 challenges when configured', async (t) => {
  const { api: building } = introspectionApi(t, {}, { settings: { bearerChallenge: true, scopes: { read: 'r', write: 'w' } } })
  const api = await building
  const res = await callApi(api, 'unknown-token')
  t.equal(res.statusCode, 401)
  t.equal(res.headers['www-authenticate'], 'Bearer realm="api", error="invalid_token", error_description="The access token is invalid."')
  t.equal((await callApi(api, await clientToken('read'), '/api/write')).statusCode, 403)
})

t.test('fails closed, without a 500, when the AS is slow, down, misconfigured or answers garbage', async (t) => {
  const hanging = await stubServer(t, () => {})
  const log: CapturedLog = { lines: [] }
  const slow = await buildApi(t, { introspection: { url: `${hanging.origin}/introspect/`, credentials, timeoutSeconds: 0.3 } }, log)
  const token = await clientToken()
  const started = Date.now()
  const res = await callApi(slow, token)
  t.ok(Date.now() - started < 3000, 'gave up after the timeout')
  t.equal(res.statusCode, 503)
  t.equal(res.headers['retry-after'], '5')
  t.equal(res.headers['cache-control'], 'no-store')
  t.same(res.json(), { error: 'temporarily_unavailable', error_description: 'The access token could not be verified right now; try again later.' })
  t.equal((await slow.inject({ url: '/api/protected', headers: { authorization: `Bearer ${token}` } })).statusCode, 503, 'protect() answers the same')

  const denying = await buildApi(t, { introspection: { url: `${hanging.origin}/introspect/`, credentials, timeoutSeconds: 0.2 }, onUnavailable: 'deny' })
  t.equal((await callApi(denying, token)).statusCode, 403, 'onUnavailable "deny": the normal denial (DOT)')
  const challenging = await buildApi(t, { introspection: { url: `${hanging.origin}/introspect/`, credentials, timeoutSeconds: 0.2 }, onUnavailable: 'deny', settings: { bearerChallenge: true } })
  t.match((await callApi(challenging, token)).headers['www-authenticate'], /error="invalid_token"/)

  const closed = await stubServer(t, () => {})
  const downUrl = `${closed.origin}/introspect/`
  await new Promise<void>((resolve) => closed.server.close(() => resolve()))
  const down = await buildApi(t, { introspection: { url: downUrl, credentials } }, log)
  t.equal((await callApi(down, token)).statusCode, 503, 'connection refused')

  const wrong = await buildApi(t, { introspection: { url: introspectUrl, credentials: { ...credentials, clientSecret: 'wrong' } } }, log)
  t.equal((await callApi(wrong, token)).statusCode, 503, 'the AS refuses our credentials (401): our problem, not the caller\'s')

  const answers: Array<[number, string]> = [
    [200, 'not json'], [200, '{"active":"yes"}'], [200, '[]'], [500, '{"active":true}'], [302, ''],
    [200, '{"active":true,"scope":5}'], [200, '{"active":true,"aud":[1]}'], [200, '{"active":true,"exp":"soon"}'],
    [200, JSON.stringify({ active: true, pad: 'x'.repeat(70000) })],
  ]
  let current = 0
  const garbage = await stubServer(t, (_req, res) => {
    const [status, body] = answers[current] ?? [200, '']
    res.writeHead(status, { 'content-type': 'application/json', ...(status === 302 ? { location: introspectUrl } : {}) }).end(body)
  })
  const confused = await buildApi(t, { introspection: { url: `${garbage.origin}/introspect/`, credentials } }, log)
  for (current = 0; current < answers.length; current++) {
    const [status, body] = answers[current] ?? [0, '']
    t.equal((await callApi(confused, token)).statusCode, 503, `AS answers ${status} ${body.slice(0, 40)}`)
  }
  answers.push([200, '{"active":true,"token_type":"refresh_token"}'], [200, '{"active":false}'])
  for (; current < answers.length; current++) t.equal((await callApi(confused, `t${current}`)).statusCode, 403, `well-formed refusal ${answers[current]?.[1] ?? ''}`)

  const warnings = log.lines.filter((l) => l.includes('remote token verification failed'))
  t.ok(warnings.length >= answers.length - 2, 'each failure is logged at warn')
  t.match(warnings.join('\n'), /timed out after 300 ms/)
  t.match(warnings.join('\n'), /ECONNREFUSED/)
  t.match(warnings.join('\n'), /HTTP 401/)
})

t.test('the introspection credentials and tokens are never logged', async (t) => {
  const log: CapturedLog = { lines: [] }
  const bearer = await rsToken('introspection')
  const { api: a } = introspectionApi(t, {}, {}, log)
  const { api: b } = introspectionApi(t, { credentials: undefined, token: bearer }, {}, log)
  const apiA = await a
  const apiB = await b
  const hanging = await stubServer(t, () => {})
  const slow = await buildApi(t, { introspection: { url: `${hanging.origin}/x`, credentials, timeoutSeconds: 0.2 } }, log)
  const token = await clientToken()
  for (const api of [apiA, apiB, slow]) {
    await callApi(api, token)
    await callApi(api, 'unknown')
  }
  const wrong = await buildApi(t, { introspection: { url: introspectUrl, credentials: { ...credentials, clientSecret: `${credentials.clientSecret}x` } } }, log)
  await callApi(wrong, token)
  const all = log.lines.join('\n')
  t.ok(log.lines.length > 10, 'there were logs to scan (trace level)')
  for (const secret of [credentials.clientSecret, basicAuth(credentials.clientId, credentials.clientSecret).slice(6), bearer, token]) {
    t.notOk(all.includes(secret), 'a secret value is absent from the logs')
  }
})

t.test('registration checks the options', async (t) => {
  const bad: Array<[ResourceServerOptions, RegExp]> = [
    [{}, /give `introspection`, `jwt`, or both/],
    [{ introspection: { url: introspectUrl } }, /exactly one of `credentials`/],
    [{ introspection: { url: introspectUrl, credentials, token: 'abc' } }, /exactly one of `credentials`/],
    [{ introspection: { url: 'http://auth.example.com/o/introspect/', credentials } }, /must use https/],
    [{ introspection: { url: 'https://id:secret@auth.example.com/o/introspect/', credentials } }, /must not carry credentials/],
    [{ introspection: { url: introspectUrl, credentials: { clientId: 'x', clientSecret: '' } } }, /non-empty strings/],
    [{ introspection: { url: introspectUrl, credentials, timeoutSeconds: 0 } }, /timeoutSeconds must be positive/],
    [{ introspection: { url: introspectUrl, credentials }, settings: { scopes: {} } }, /scopes must not be empty/],
  ]
  for (const [options, message] of bad) {
    const app = Fastify()
    t.teardown(() => app.close())
    await t.rejects(async () => { await app.register(resourceServer, options) }, message)
  }
  await t.resolves(buildApi(t, { introspection: { url: 'http://auth.internal/o/introspect/', credentials, allowHttp: true } }), 'allowHttp opts in to a private network')

  const both = Fastify()
  t.teardown(() => both.close())
  await both.register(fastifyOAuthToolkit, { database: ':memory:', migrate: true })
  await t.rejects(async () => { await both.register(resourceServer, { introspection: { url: introspectUrl, credentials } }) }, /already protects resources/)

  const clientView = Fastify()
  t.teardown(() => clientView.close())
  await clientView.register(resourceServer, { introspection: { url: introspectUrl, credentials } })
  class ClientView extends ClientProtectedResourceView { async get () { return 'x' } }
  await t.rejects(async () => { await clientView.register(ClientView.asView('/c')) }, /checks client credentials and needs the core plugin/)
})

t.test('protect() on a resource server is the core plugin\'s: its options are checked when the route is defined', async (t) => {
  const api = await introspectionApi(t).api
  t.throws(() => api.oauthResource.protect({ scopes: ['admin'] }), { code: 'OAT_ERR_OPTIONS', message: /protect\(\): scope "admin" not declared in settings\.scopes/ })
  // @ts-expect-error -- a misspelt option, as plain JavaScript could pass it
  t.throws(() => api.oauthResource.protect({ scope: ['read'] }), { code: 'OAT_ERR_OPTIONS', message: /protect\(\) has no option "scope" \(did you mean "scopes"\?\)/ })
})
