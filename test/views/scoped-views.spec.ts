import formbody from '@fastify/formbody'
import type { FastifyRequest } from 'fastify'
import t, { type Test } from 'tap'
import {
  ClientProtectedResourceView,
  ClientProtectedScopedResourceView,
  ImproperlyConfiguredError,
  ReadWriteScopedResourceView,
  ScopedProtectedResourceView,
} from '../../index.js'
import { basicAuth, buildApp, clientCredentialsToken, createApplication, FORM, form, type BuildAppOptions } from '../helpers/index.js'
import { bearer } from './support.js'

class ReadView extends ScopedProtectedResourceView {
  override requiredScopes = ['read']
  async get () { return 'read ok' }
}

class ReadWriteBothView extends ScopedProtectedResourceView {
  override requiredScopes = ['read', 'write']
  override bearerChallenge = true
  async get () { return 'both ok' }
}

class Notes extends ReadWriteScopedResourceView {
  async get () { return 'notes' }
  async post () { return 'created' }
  async put () { return 'replaced' }
  async patch () { return 'patched' }
  async delete () { return 'deleted' }
}

class ChallengingNotes extends Notes {
  override bearerChallenge = true
}

/** Echoes who authenticated: a client by its own credentials, or a bearer token. */
class ClientEcho extends ClientProtectedResourceView {
  async get (request: FastifyRequest) { return echo(request) }
  async post (request: FastifyRequest) { return echo(request) }
}

class ScopedClientEcho extends ClientProtectedScopedResourceView {
  override requiredScopes = ['read']
  async get (request: FastifyRequest) { return echo(request) }
}

function echo (request: FastifyRequest) {
  return { client: request.oauthClient?.clientId ?? null, tokenScopes: request.accessToken?.scopes ?? null }
}

async function viewsApp (t: Test, options: BuildAppOptions = {}) {
  const app = await buildApp(t, options)
  await app.register(ReadView.asView('/api/read'))
  await app.register(ReadWriteBothView.asView('/api/both'))
  await app.register(Notes.asView('/api/notes'))
  await app.register(ChallengingNotes.asView('/api/notes-challenge'))
  return app
}

t.test('ScopedProtectedResourceView needs every requiredScopes scope', async (t) => {
  const app = await viewsApp(t)
  const read = await clientCredentialsToken(app, 'read')
  const write = await clientCredentialsToken(app, 'write')
  const both = await clientCredentialsToken(app, 'read write')

  const ok = await app.inject({ method: 'GET', url: '/api/read', headers: bearer(read) })
  t.equal(ok.statusCode, 200)
  t.equal(ok.body, 'read ok')
  const denied = await app.inject({ method: 'GET', url: '/api/read', headers: bearer(write) })
  t.equal(denied.statusCode, 403, 'DOT parity: bare 403 for a missing scope')
  t.equal(denied.body, '')

  t.equal((await app.inject({ method: 'GET', url: '/api/both', headers: bearer(both) })).statusCode, 200)
  const partial = await app.inject({ method: 'GET', url: '/api/both', headers: bearer(read) })
  t.equal(partial.statusCode, 403)
  t.equal(partial.headers['www-authenticate'],
    'Bearer realm="api", error="insufficient_scope", error_description="The access token is valid but does not have enough scope.", scope="read write"')
  t.same(partial.json(), { error: 'insufficient_scope', error_description: 'The access token is valid but does not have enough scope.' })
  t.equal((await app.inject({ method: 'GET', url: '/api/both' })).statusCode, 401, 'no token: 401, not insufficient_scope')
})

t.test('errorResponseWithScopes puts required_scopes in the 403 body (DOT ERROR_RESPONSE_WITH_SCOPES)', async (t) => {
  const app = await viewsApp(t, { settings: { errorResponseWithScopes: true } })
  const write = await clientCredentialsToken(app, 'write')
  const bare = await app.inject({ method: 'GET', url: '/api/read', headers: bearer(write) })
  t.equal(bare.statusCode, 403)
  t.same(bare.json(), { required_scopes: ['read'] })
  const challenged = await app.inject({ method: 'GET', url: '/api/both', headers: bearer(write) })
  t.same(challenged.json(), {
    error: 'insufficient_scope',
    error_description: 'The access token is valid but does not have enough scope.',
    required_scopes: ['read', 'write'],
  })
  const invalid = await app.inject({ method: 'GET', url: '/api/read', headers: bearer('unknown') })
  t.equal(invalid.body, '', 'only insufficient_scope carries the scopes')
})

t.test('ReadWriteScopedResourceView: GET and HEAD need the read scope, other methods the write scope', async (t) => {
  const app = await viewsApp(t)
  const read = await clientCredentialsToken(app, 'read')
  const write = await clientCredentialsToken(app, 'write')
  for (const method of ['GET', 'HEAD'] as const) {
    t.equal((await app.inject({ method, url: '/api/notes', headers: bearer(read) })).statusCode, 200, `${method} with read`)
    t.equal((await app.inject({ method, url: '/api/notes', headers: bearer(write) })).statusCode, 403, `${method} with write only`)
  }
  for (const method of ['POST', 'PUT', 'PATCH', 'DELETE'] as const) {
    t.equal((await app.inject({ method, url: '/api/notes', headers: bearer(write) })).statusCode, 200, `${method} with write`)
    t.equal((await app.inject({ method, url: '/api/notes', headers: bearer(read) })).statusCode, 403, `${method} with read only`)
  }
  t.equal((await app.inject({ method: 'OPTIONS', url: '/api/notes' })).statusCode, 200, 'OPTIONS needs nothing')
  const challenged = await app.inject({ method: 'DELETE', url: '/api/notes-challenge', headers: bearer(read) })
  t.equal(challenged.statusCode, 403)
  t.match(challenged.headers['www-authenticate'], /, scope="write"$/)
})

t.test('read/write scopes do not pile up across requests (DOT #1738)', async (t) => {
  const app = await viewsApp(t)
  const read = await clientCredentialsToken(app, 'read')
  const write = await clientCredentialsToken(app, 'write')
  for (let i = 0; i < 3; i++) {
    t.equal((await app.inject({ method: 'GET', url: '/api/notes', headers: bearer(read) })).statusCode, 200, `GET #${i}`)
    t.equal((await app.inject({ method: 'POST', url: '/api/notes', headers: bearer(write) })).statusCode, 200, `POST #${i}`)
  }
})

t.test('ReadWriteScopedResourceView follows the readScope and writeScope settings, plus requiredScopes', async (t) => {
  class Admin extends ReadWriteScopedResourceView {
    override requiredScopes = ['admin']
    async get () { return 'admin view' }
    async post () { return 'admin edit' }
  }
  const app = await buildApp(t, {
    settings: { scopes: { view: 'View', edit: 'Edit', admin: 'Admin' }, readScope: 'view', writeScope: 'edit' },
  })
  await app.register(Admin.asView('/api/admin'))
  const view = await clientCredentialsToken(app, 'view')
  const adminView = await clientCredentialsToken(app, 'admin view')
  const adminEdit = await clientCredentialsToken(app, 'admin edit')
  t.equal((await app.inject({ method: 'GET', url: '/api/admin', headers: bearer(view) })).statusCode, 403, 'requiredScopes still apply')
  t.equal((await app.inject({ method: 'GET', url: '/api/admin', headers: bearer(adminView) })).statusCode, 200)
  t.equal((await app.inject({ method: 'POST', url: '/api/admin', headers: bearer(adminView) })).statusCode, 403)
  t.equal((await app.inject({ method: 'POST', url: '/api/admin', headers: bearer(adminEdit) })).statusCode, 200)
})

t.test('misconfigured scoped views fail registration with OAT_ERR_VIEW', async (t) => {
  class NoScopes extends ScopedProtectedResourceView {
    async get () { return 'never' }
  }
  class UnknownScope extends ScopedProtectedResourceView {
    override requiredScopes = ['admin']
    async get () { return 'never' }
  }
  class RW extends ReadWriteScopedResourceView {
    async get () { return 'never' }
  }
  class ClientNoScopes extends ClientProtectedScopedResourceView {
    async get () { return 'never' }
  }
  const cases: Array<[string, ReturnType<typeof NoScopes.asView>, BuildAppOptions, RegExp]> = [
    ['no requiredScopes', NoScopes.asView('/x'), {}, /NoScopes must set requiredScopes/],
    ['unknown required scope', UnknownScope.asView('/x'), {}, /UnknownScope requires scopes not declared in settings\.scopes \(read, write\): admin/],
    ['readScope not in scopes', RW.asView('/x'), { settings: { readScope: 'view' } }, /needs the scope "view"/],
    ['client-protected scoped view without scopes', ClientNoScopes.asView('/x'), {}, /ClientNoScopes must set requiredScopes/],
  ]
  for (const [name, plugin, options, message] of cases) {
    await t.test(name, async (t) => {
      const app = await buildApp(t, options)
      app.register(plugin)
      await t.rejects(async () => await app.ready(), { constructor: ImproperlyConfiguredError, code: 'OAT_ERR_VIEW', message })
    })
  }
})

t.test('ClientProtectedResourceView: a confidential client authenticates with its own credentials', async (t) => {
  const app = await buildApp(t)
  await app.register(formbody)
  await app.register(ClientEcho.asView('/api/client'))
  const { application, clientSecret } = await createApplication(app)
  const secret = clientSecret ?? ''

  const basic = await app.inject({ method: 'GET', url: '/api/client', headers: { authorization: basicAuth(application.clientId, secret) } })
  t.equal(basic.statusCode, 200)
  t.same(basic.json(), { client: application.clientId, tokenScopes: null }, 'request.oauthClient is the client; no token')

  const body = await app.inject({ method: 'POST', url: '/api/client', headers: FORM, payload: form({ client_id: application.clientId, client_secret: secret }) })
  t.equal(body.statusCode, 200, 'client_id + client_secret in the form body')
  t.same(body.json(), { client: application.clientId, tokenScopes: null })

  const token = await clientCredentialsToken(app, 'read')
  const viaToken = await app.inject({ method: 'GET', url: '/api/client', headers: bearer(token) })
  t.equal(viaToken.statusCode, 200, 'else a bearer token')
  t.same(viaToken.json(), { client: null, tokenScopes: ['read'] })
})

t.test('ClientProtectedResourceView refuses bad client credentials with a bare 403, never a 500', async (t) => {
  const app = await buildApp(t)
  await app.register(formbody)
  await app.register(ClientEcho.asView('/api/client'))
  const { application } = await createApplication(app)
  const pub = await createApplication(app, {
    clientType: 'public', authorizationGrantType: 'authorization-code', redirectUris: ['https://app.example/cb'],
  })
  const cases: Array<[string, Record<string, string>, string | undefined]> = [
    ['wrong secret', { authorization: basicAuth(application.clientId, 'wrong-secret') }, undefined],
    ['unknown client', { authorization: basicAuth('nobody', 'secret') }, undefined],
    ['garbled Basic header', { authorization: 'Basic %%%' }, undefined],
    ['Basic without a colon', { authorization: `Basic ${Buffer.from('no-colon').toString('base64')}` }, undefined],
    ['public client by client_id only', { authorization: basicAuth(pub.application.clientId, '') }, undefined],
    ['wrong secret in the body', FORM, form({ client_id: application.clientId, client_secret: 'wrong-secret' })],
    ['nothing at all', {}, undefined],
  ]
  for (const [name, headers, payload] of cases) {
    const res = await app.inject({ method: payload === undefined ? 'GET' : 'POST', url: '/api/client', headers, payload })
    t.equal(res.statusCode, 403, name)
    t.equal(res.body, '', `${name}: empty body`)
  }
})

t.test('ClientProtectedResourceView with bearerChallenge: failed client authentication is a 401 invalid_client challenged with Basic, not Bearer', async (t) => {
  const app = await buildApp(t, { settings: { bearerChallenge: true } })
  await app.register(formbody)
  await app.register(ClientEcho.asView('/api/client'))
  const { application } = await createApplication(app)
  const pub = await createApplication(app, {
    clientType: 'public', authorizationGrantType: 'authorization-code', redirectUris: ['https://app.example/cb'],
  })
  const INVALID_CLIENT = { error: 'invalid_client', error_description: 'Client authentication failed.' }
  const basicCases: Array<[string, string]> = [
    ['wrong secret', basicAuth(application.clientId, 'wrong-secret')],
    ['garbled Basic header', 'Basic %%%'],
    ['public client by client_id only', basicAuth(pub.application.clientId, '')],
  ]
  for (const [name, authorization] of basicCases) {
    const res = await app.inject({ method: 'GET', url: '/api/client', headers: { authorization } })
    t.equal(res.statusCode, 401, name)
    t.equal(res.headers['www-authenticate'], 'Basic realm="oauth"', `${name}: the scheme the client used`)
    t.same(res.json(), INVALID_CLIENT, name)
  }
  const body = await app.inject({ method: 'POST', url: '/api/client', headers: FORM, payload: form({ client_id: application.clientId, client_secret: 'wrong-secret' }) })
  t.equal(body.statusCode, 401, 'credentials in the body')
  t.equal(body.headers['www-authenticate'], undefined, 'no Authorization header was used: no challenge (RFC 6749 §5.2)')
  t.same(body.json(), INVALID_CLIENT)
  const none = await app.inject({ method: 'GET', url: '/api/client' })
  t.equal(none.statusCode, 401, 'no credentials at all: the bearer challenge as before')
  t.match(none.headers['www-authenticate'], /^Bearer realm=/)
})

t.test('ClientProtectedScopedResourceView: scopes bind bearer tokens, not client credentials', async (t) => {
  const app = await buildApp(t)
  await app.register(ScopedClientEcho.asView('/api/scoped-client'))
  const { application, clientSecret } = await createApplication(app)
  const read = await clientCredentialsToken(app, 'read')
  const write = await clientCredentialsToken(app, 'write')
  t.equal((await app.inject({ method: 'GET', url: '/api/scoped-client', headers: bearer(read) })).statusCode, 200)
  t.equal((await app.inject({ method: 'GET', url: '/api/scoped-client', headers: bearer(write) })).statusCode, 403)
  const client = await app.inject({ method: 'GET', url: '/api/scoped-client', headers: { authorization: basicAuth(application.clientId, clientSecret ?? '') } })
  t.equal(client.statusCode, 200)
  t.same(client.json(), { client: application.clientId, tokenScopes: null })
})
