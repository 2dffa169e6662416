import type { FastifyReply, FastifyRequest } from 'fastify'
import t, { type Test } from 'tap'
import { ImproperlyConfiguredError, ProtectedResourceView } from '../../index.js'
import { InvalidTokenError } from '../../entries/errors.js'
import { basicAuth, buildApp, clientCredentialsToken, fixedClock, postToken, type BuildAppOptions } from '../helpers/index.js'
import { passwordGrantOptions, passwordTokens } from '../helpers/password-grant.js'
import { accessTokenRow, bearer } from './support.js'

/** The tutorial's view (DOT tutorial part 2). */
class Hello extends ProtectedResourceView {
  async get () { return 'Hello, OAuth2!' }
}

/** Every write method, each echoing what reached it; `this` is the view instance. */
class Items extends ProtectedResourceView {
  readonly kind = 'items'
  async post (request: FastifyRequest, reply: FastifyReply) {
    reply.code(201)
    return { method: request.method, kind: this.kind }
  }

  async put (request: FastifyRequest) { return { method: request.method, kind: this.kind } }
  async patch (request: FastifyRequest) { return { method: request.method, kind: this.kind } }
  async delete (request: FastifyRequest) { return { method: request.method, kind: this.kind } }
}

/** Same as `Hello`, but answering with RFC 6750 challenges whatever the plugin says. */
class ChallengingHello extends Hello {
  override bearerChallenge = true
}

/** Same as `Hello`, but keeping DOT's bare 403 whatever the plugin says. */
class BareHello extends Hello {
  override bearerChallenge = false
}

async function helloApp (t: Test, options: BuildAppOptions = {}) {
  const app = await buildApp(t, options)
  await app.register(Hello.asView('/api/hello'))
  await app.register(Items.asView('/api/items'))
  await app.register(ChallengingHello.asView('/api/challenge'))
  await app.register(BareHello.asView('/api/bare'))
  return app
}

const HELLO = { method: 'GET', url: '/api/hello' } as const

t.test('a valid bearer token reaches the view (tutorial part 2)', async (t) => {
  const app = await helloApp(t)
  const token = await clientCredentialsToken(app)
  const res = await app.inject({ ...HELLO, headers: bearer(token) })
  t.equal(res.statusCode, 200)
  t.equal(res.body, 'Hello, OAuth2!')
})

t.test('the Bearer scheme is case-insensitive (RFC 9110 §11.1)', async (t) => {
  const app = await helloApp(t)
  const token = await clientCredentialsToken(app)
  for (const scheme of ['bearer', 'BEARER', 'BeArEr']) {
    const res = await app.inject({ ...HELLO, headers: { authorization: `${scheme} ${token}` } })
    t.equal(res.statusCode, 200, scheme)
  }
})

t.test('DOT parity: every failure is a bare 403 with an empty body and no challenge', async (t) => {
  const app = await helloApp(t)
  const token = await clientCredentialsToken(app)
  const cases: Array<[string, Record<string, string>]> = [
    ['no Authorization header', {}],
    ['unknown token', bearer('x'.repeat(43))],
    ['malformed token', { authorization: `Bearer ${token} extra` }],
    ['empty Bearer credentials', { authorization: 'Bearer' }],
    ['scheme without separator', { authorization: `Bearer${token}` }],
    ['a Basic header instead', { authorization: basicAuth('client', 'secret') }],
    ['token with a non-token68 character', { authorization: `Bearer ${token}!` }],
  ]
  for (const [name, headers] of cases) {
    const res = await app.inject({ ...HELLO, headers })
    t.equal(res.statusCode, 403, name)
    t.equal(res.body, '', `${name}: empty body`)
    t.notOk(res.headers['www-authenticate'], `${name}: no challenge`)
  }
})

t.test('an expired token fails closed, exactly at accessTokenExpireSeconds', async (t) => {
  const clock = fixedClock()
  const app = await helloApp(t, { clock, settings: { accessTokenExpireSeconds: 600 } })
  const token = await clientCredentialsToken(app)
  clock.advance(599)
  t.equal((await app.inject({ ...HELLO, headers: bearer(token) })).statusCode, 200, 'one second before expiry')
  clock.advance(1)
  t.equal((await app.inject({ ...HELLO, headers: bearer(token) })).statusCode, 403, 'at expiry')
  const challenged = await app.inject({ method: 'GET', url: '/api/challenge', headers: bearer(token) })
  t.equal(challenged.statusCode, 401)
  t.equal(challenged.headers['www-authenticate'], 'Bearer realm="api", error="invalid_token", error_description="The access token has expired."')
  t.same(challenged.json(), { error: 'invalid_token', error_description: 'The access token has expired.' })
})

t.test('a token revoked through the store fails closed', async (t) => {
  const app = await helloApp(t)
  const token = await clientCredentialsToken(app)
  const other = await clientCredentialsToken(app)
  const row = await accessTokenRow(app, token)
  await app.oauth.store.revokeAccessToken(row.id, app.oauth.clock.now())
  t.equal((await app.inject({ ...HELLO, headers: bearer(token) })).statusCode, 403)
  t.equal((await app.inject({ ...HELLO, headers: bearer(other) })).statusCode, 200, 'other tokens are untouched')
})

t.test('refresh rotation retires the old access token; refresh-token reuse revokes the new one', async (t) => {
  const app = await helloApp(t, passwordGrantOptions())
  const first = await passwordTokens(app)
  const client = { authorization: basicAuth(first.clientId, first.clientSecret) }
  const refreshed = await postToken(app, { grant_type: 'refresh_token', refresh_token: first.refreshToken }, client)
  t.equal(refreshed.statusCode, 200)
  const second = refreshed.json() as { access_token: string }
  t.equal((await app.inject({ ...HELLO, headers: bearer(first.accessToken) })).statusCode, 403, 'rotated-out access token')
  t.equal((await app.inject({ ...HELLO, headers: bearer(second.access_token) })).statusCode, 200, 'successor works')

  const replay = await postToken(app, { grant_type: 'refresh_token', refresh_token: first.refreshToken }, client)
  t.equal(replay.statusCode, 400)
  t.equal((await app.inject({ ...HELLO, headers: bearer(second.access_token) })).statusCode, 403, 'family revoked on reuse (RFC 9700 §4.14.2)')
})

t.test('a token in the query string is refused by default (RFC 6750 §2.3, RFC 9700 §4.3.2)', async (t) => {
  const app = await helloApp(t)
  const token = await clientCredentialsToken(app)
  const res = await app.inject({ method: 'GET', url: `/api/hello?access_token=${token}` })
  t.equal(res.statusCode, 403)
  t.equal((await app.inject({ method: 'GET', url: `/api/hello?access_token=${token}`, headers: bearer(token) })).statusCode, 403,
    'even alongside a valid header')
  const challenged = await app.inject({ method: 'GET', url: `/api/challenge?access_token=${token}` })
  t.equal(challenged.statusCode, 400)
  t.same(challenged.json(), { error: 'invalid_request', error_description: 'Access tokens are not accepted in the query string.' })
  t.equal(challenged.headers['www-authenticate'],
    'Bearer realm="api", error="invalid_request", error_description="Access tokens are not accepted in the query string."')
})

t.test('allowQueryStringTokens accepts ?access_token=, but not together with a header (RFC 6750 §2)', async (t) => {
  const app = await helloApp(t, { settings: { allowQueryStringTokens: true } })
  const token = await clientCredentialsToken(app)
  const res = await app.inject({ method: 'GET', url: `/api/hello?access_token=${token}` })
  t.equal(res.statusCode, 200)
  t.equal(res.body, 'Hello, OAuth2!')
  t.equal((await app.inject({ method: 'GET', url: '/api/hello?access_token=unknown' })).statusCode, 403, 'unknown query token')
  t.equal((await app.inject({ method: 'GET', url: `/api/hello?access_token=${token}&access_token=${token}` })).statusCode, 403,
    'repeated query token')
  const both = await app.inject({ method: 'GET', url: `/api/challenge?access_token=${token}`, headers: bearer(token) })
  t.equal(both.statusCode, 400)
  t.same(both.json(), { error: 'invalid_request', error_description: 'Send the access token by one method only.' })
})

t.test('methods the class does not define answer 405 with Allow, once authenticated', async (t) => {
  const app = await helloApp(t)
  const token = await clientCredentialsToken(app)
  for (const method of ['POST', 'PUT', 'PATCH', 'DELETE'] as const) {
    const res = await app.inject({ method, url: '/api/hello', headers: bearer(token) })
    t.equal(res.statusCode, 405, method)
    t.equal(res.headers.allow, 'GET, HEAD, OPTIONS', `${method}: Allow`)
  }
  for (const method of ['GET', 'HEAD'] as const) {
    const res = await app.inject({ method, url: '/api/items', headers: bearer(token) })
    t.equal(res.statusCode, 405, `${method} on a view without get`)
    t.equal(res.headers.allow, 'POST, PUT, PATCH, DELETE, OPTIONS', `${method}: Allow`)
  }
})

t.test('DOT parity: the token is checked before the method, so anonymous callers get 403, not 405', async (t) => {
  const app = await helloApp(t)
  for (const method of ['POST', 'PUT', 'PATCH', 'DELETE'] as const) {
    const res = await app.inject({ method, url: '/api/hello' })
    t.equal(res.statusCode, 403, method)
    t.notOk(res.headers.allow, `${method}: no Allow disclosed`)
  }
})

t.test('OPTIONS passes without a token and lists the methods (DOT parity)', async (t) => {
  const app = await helloApp(t)
  const hello = await app.inject({ method: 'OPTIONS', url: '/api/hello' })
  t.equal(hello.statusCode, 200)
  t.equal(hello.headers.allow, 'GET, HEAD, OPTIONS')
  const items = await app.inject({ method: 'OPTIONS', url: '/api/items', headers: bearer('not-a-token') })
  t.equal(items.statusCode, 200, 'even with a bad token')
  t.equal(items.headers.allow, 'POST, PUT, PATCH, DELETE, OPTIONS')
})

t.test('a view that defines options() serves it without a token', async (t) => {
  class Preflight extends ProtectedResourceView {
    async get () { return 'secret' }
    async options (_request: FastifyRequest, reply: FastifyReply) {
      reply.header('access-control-allow-methods', 'GET')
      return 'preflight'
    }
  }
  const app = await buildApp(t)
  await app.register(Preflight.asView('/api/preflight'))
  const res = await app.inject({ method: 'OPTIONS', url: '/api/preflight' })
  t.equal(res.statusCode, 200)
  t.equal(res.body, 'preflight')
  t.equal(res.headers['access-control-allow-methods'], 'GET')
  t.equal((await app.inject({ method: 'GET', url: '/api/preflight' })).statusCode, 403, 'get still needs a token')
})

t.test('HEAD on a GET view needs a token and sends no body', async (t) => {
  const app = await helloApp(t)
  const token = await clientCredentialsToken(app)
  const ok = await app.inject({ method: 'HEAD', url: '/api/hello', headers: bearer(token) })
  t.equal(ok.statusCode, 200)
  t.equal(ok.body, '')
  t.equal(ok.headers['content-length'], String('Hello, OAuth2!'.length))
  t.equal((await app.inject({ method: 'HEAD', url: '/api/hello' })).statusCode, 403)
})

t.test('post, put, patch and delete dispatch to the instance methods', async (t) => {
  const app = await helloApp(t)
  const token = await clientCredentialsToken(app)
  for (const [method, status] of [['POST', 201], ['PUT', 200], ['PATCH', 200], ['DELETE', 200]] as const) {
    const res = await app.inject({ method, url: '/api/items', headers: bearer(token) })
    t.equal(res.statusCode, status, method)
    t.same(res.json(), { method, kind: 'items' }, `${method} reached its method with this = the view`)
    t.equal((await app.inject({ method, url: '/api/items' })).statusCode, 403, `${method} without a token`)
  }
})

t.test('the view sets request.accessToken before its method runs', async (t) => {
  class Whoami extends ProtectedResourceView {
    async get (request: FastifyRequest) {
      const token = request.accessToken
      return { scopes: token?.scopes, client: token?.application?.clientId, userId: token?.userId, owner: request.resourceOwner }
    }
  }
  const app = await buildApp(t)
  await app.register(Whoami.asView('/api/whoami'))
  const token = await clientCredentialsToken(app, 'read')
  const res = await app.inject({ method: 'GET', url: '/api/whoami', headers: bearer(token) })
  const row = await accessTokenRow(app, token)
  const application = await app.oauth.store.findApplicationById(row.applicationId ?? -1)
  t.same(res.json(), { scopes: ['read'], client: application?.clientId, userId: null, owner: null })
})

t.test('per-view bearerChallenge: RFC 6750 challenges (401 invalid_token, no error without a token)', async (t) => {
  const app = await helloApp(t)
  const missing = await app.inject({ method: 'GET', url: '/api/challenge' })
  t.equal(missing.statusCode, 401)
  // RFC 6750 §3.1: no error code when the request carried no authentication.
  t.equal(missing.headers['www-authenticate'], 'Bearer realm="api"')
  t.equal(missing.body, '')

  const unknown = await app.inject({ method: 'GET', url: '/api/challenge', headers: bearer('unknown') })
  t.equal(unknown.statusCode, 401)
  t.equal(unknown.headers['www-authenticate'], 'Bearer realm="api", error="invalid_token", error_description="The access token is invalid."')
  t.equal(unknown.headers['cache-control'], 'no-store')
  t.same(unknown.json(), { error: 'invalid_token', error_description: 'The access token is invalid.' })

  const malformed = await app.inject({ method: 'GET', url: '/api/challenge', headers: { authorization: 'Bearer a b' } })
  t.equal(malformed.statusCode, 400, 'RFC 6750 §3.1: a malformed request is invalid_request')
  t.same(malformed.json(), { error: 'invalid_request', error_description: 'The bearer token is malformed.' })

  t.equal((await app.inject({ method: 'GET', url: '/api/hello' })).statusCode, 403, 'other views keep the plugin default')
})

t.test('per-plugin bearerChallenge and realm; a view can switch back to the bare 403', async (t) => {
  const app = await helloApp(t, { settings: { bearerChallenge: true, realm: 'example' } })
  const res = await app.inject({ method: 'GET', url: '/api/hello', headers: bearer('unknown') })
  t.equal(res.statusCode, 401)
  t.equal(res.headers['www-authenticate'], 'Bearer realm="example", error="invalid_token", error_description="The access token is invalid."')
  const bare = await app.inject({ method: 'GET', url: '/api/bare', headers: bearer('unknown') })
  t.equal(bare.statusCode, 403)
  t.equal(bare.body, '')
  t.notOk(bare.headers['www-authenticate'])
})

t.test('asView fails registration without the core plugin', async (t) => {
  const { default: Fastify } = await import('fastify')
  const app = Fastify()
  t.teardown(() => app.close())
  app.register(Hello.asView('/api/hello'))
  await t.rejects(async () => await app.ready(), { constructor: ImproperlyConfiguredError, code: 'OAT_ERR_PLUGIN_ORDER' })
})

t.test('a cached token revoked through the store is refused on the next request (the synchronous cache-hit path)', async (t) => {
  const app = await helloApp(t)
  const token = await clientCredentialsToken(app)
  t.equal((await app.inject({ ...HELLO, headers: bearer(token) })).statusCode, 200, 'verified and cached')
  t.equal((await app.inject({ ...HELLO, headers: bearer(token) })).statusCode, 200, 'served from the cache')
  const row = await accessTokenRow(app, token)
  await app.oauth.store.revokeAccessToken(row.id, app.oauth.clock.now())
  t.equal((await app.inject({ ...HELLO, headers: bearer(token) })).statusCode, 403)
})

t.test('a view overriding authenticate() is still asked (it does not take the synchronous path)', async (t) => {
  class Gate extends Hello {
    override async authenticate (request: FastifyRequest, required: readonly string[]) {
      if (request.headers['x-gate'] !== 'open') return new InvalidTokenError({ detail: 'gate closed' })
      return await super.authenticate(request, required)
    }
  }
  const app = await buildApp(t)
  await app.register(Gate.asView('/api/gate'))
  const token = await clientCredentialsToken(app)
  const gate = { method: 'GET', url: '/api/gate' } as const
  t.equal((await app.inject({ ...gate, headers: { ...bearer(token), 'x-gate': 'open' } })).statusCode, 200)
  t.equal((await app.inject({ ...gate, headers: { ...bearer(token), 'x-gate': 'open' } })).statusCode, 200, 'cached, and still through authenticate()')
  t.equal((await app.inject({ ...gate, headers: bearer(token) })).statusCode, 403, 'the override refused a cached token')
})
