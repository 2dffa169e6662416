// RFC 8707 audience checks on protected routes, and the RFC 9728 §5.1 challenge that points a
// client at the resource's metadata.
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import t, { type Test } from 'tap'
import { ImproperlyConfiguredError, oauthProtectedResourceMetadata, ProtectedResourceView, ScopedProtectedResourceView } from '../../index.js'
import type { SettingsInput } from '../../lib/settings.js'
import { basicAuth, buildApp, createApplication, postToken } from '../helpers/index.js'

const MCP = 'https://mcp.example.com/mcp'
const API = 'https://api.example.com/'
const MCP_METADATA = 'https://mcp.example.com/.well-known/oauth-protected-resource/mcp'
const WRONG_AUDIENCE = { error: 'invalid_token', error_description: 'The access token is not valid for this resource.' }

class ApiView extends ProtectedResourceView {
  override resource = API
  async get (): Promise<string> { return 'api' }
}

class ScopedMcpView extends ScopedProtectedResourceView {
  override resource = MCP
  override requiredScopes = ['write']
  override bearerChallenge = true
  async get (): Promise<string> { return 'scoped' }
}

async function buildResourceApp (t: Test, settings: SettingsInput = {}): Promise<FastifyInstance> {
  const app = await buildApp(t, { settings: { protectedResources: [{ resource: MCP }, { resource: API }], ...settings } })
  await app.register(oauthProtectedResourceMetadata)
  app.get('/mcp', { onRequest: app.oauth.protect({ resource: MCP, bearerChallenge: true }) }, async () => 'mcp')
  app.get('/plain', { onRequest: app.oauth.protect() }, async () => 'plain')
  await app.register(ApiView.asView('/api'))
  await app.register(ScopedMcpView.asView('/mcp/scoped'))
  return app
}

/** A client-credentials token bound to `resource` (none: unbound) with `scope`. */
async function tokenFor (app: FastifyInstance, resource?: string, scope = 'read write'): Promise<string> {
  const { application, clientSecret } = await createApplication(app)
  const params: Record<string, string> = { grant_type: 'client_credentials', scope }
  if (resource !== undefined) params.resource = resource
  const res = await postToken(app, params, { authorization: basicAuth(application.clientId, clientSecret ?? '') })
  if (res.statusCode !== 200) throw new Error(res.body)
  return res.json<{ access_token: string }>().access_token
}

async function call (app: FastifyInstance, url: string, token?: string): Promise<LightMyRequestResponse> {
  return await app.inject({ url, headers: token === undefined ? { host: 'mcp.example.com' } : { host: 'mcp.example.com', authorization: `Bearer ${token}` } })
}

t.test('a route declaring its resource: only tokens bound to it; 401/403 challenges carry resource_metadata (RFC 9728 §5.1)', async (t) => {
  const app = await buildResourceApp(t)
  const mcpToken = await tokenFor(app, MCP)
  const apiToken = await tokenFor(app, API)
  const unbound = await tokenFor(app)

  const anonymous = await call(app, '/mcp')
  t.equal(anonymous.statusCode, 401)
  t.equal(anonymous.headers['www-authenticate'], `Bearer realm="api", resource_metadata="${MCP_METADATA}"`, 'no error code without a token (RFC 6750 §3)')

  const ok = await call(app, '/mcp', mcpToken)
  t.equal(ok.statusCode, 200)
  t.equal(ok.body, 'mcp')

  for (const [name, token] of [['bound to another resource', apiToken], ['bound to no resource', unbound]] as const) {
    const res = await call(app, '/mcp', token)
    t.equal(res.statusCode, 401, name)
    t.same(res.json(), WRONG_AUDIENCE, name)
    t.equal(res.headers['www-authenticate'],
      `Bearer realm="api", error="invalid_token", error_description="The access token is not valid for this resource.", resource_metadata="${MCP_METADATA}"`, name)
  }

  // A view: the audience is checked before the scopes, and insufficient_scope points to the metadata too.
  const readOnly = await tokenFor(app, MCP, 'read')
  const scoped = await call(app, '/mcp/scoped', readOnly)
  t.equal(scoped.statusCode, 403)
  t.match(scoped.headers['www-authenticate'], /^Bearer realm="api", error="insufficient_scope", .*scope="write", resource_metadata="https:\/\/mcp\.example\.com\/\.well-known\/oauth-protected-resource\/mcp"$/)
  t.equal((await call(app, '/mcp/scoped', apiToken)).statusCode, 401, 'wrong audience is invalid_token, not insufficient_scope')
  t.equal((await call(app, '/mcp/scoped', mcpToken)).statusCode, 200)

  // The client follows resource_metadata and finds the same resource identifier (§3.3).
  const doc = await app.inject({ url: new URL(MCP_METADATA).pathname, headers: { host: 'mcp.example.com' } })
  t.equal(doc.json().resource, MCP)
})

t.test("DOT's bare 403 stays the default; routes declaring no resource refuse resource-bound tokens", async (t) => {
  const app = await buildResourceApp(t)
  const apiToken = await tokenFor(app, API)
  const mcpToken = await tokenFor(app, MCP)
  const unbound = await tokenFor(app)
  t.equal((await call(app, '/api', apiToken)).statusCode, 200)
  const wrong = await call(app, '/api', mcpToken)
  t.equal(wrong.statusCode, 403)
  t.equal(wrong.body, '')
  t.notOk('www-authenticate' in wrong.headers)
  t.equal((await call(app, '/api', unbound)).statusCode, 403, 'an unbound token on a resource view')

  t.equal((await call(app, '/plain', unbound)).statusCode, 200, 'unbound tokens keep working where no resource is declared')
  t.equal((await call(app, '/plain', mcpToken)).statusCode, 403, 'a token for the MCP server is no token for the rest of the app')
  t.notOk(await app.oauth.authenticateBearer({ authorization: `Bearer ${mcpToken}`, queryToken: undefined }).then((r) => r.ok))
  t.ok(await app.oauth.authenticateBearer({ authorization: `Bearer ${mcpToken}`, queryToken: undefined }, [], 'HTTPS://MCP.EXAMPLE.COM/mcp').then((r) => r.ok),
    'the audience compares scheme and host case-insensitively')
})

t.test('acceptTokensWithoutResource lets unbound tokens through on resource routes; bound ones stay checked', async (t) => {
  const app = await buildResourceApp(t, { acceptTokensWithoutResource: true })
  t.equal((await call(app, '/mcp', await tokenFor(app))).statusCode, 200)
  t.equal((await call(app, '/mcp', await tokenFor(app, API))).statusCode, 401)
})

t.test('an undeclared resource fails at startup, on protect() and on a view', async (t) => {
  const app = await buildApp(t, { settings: { protectedResources: [{ resource: MCP }] } })
  t.throws(() => app.oauth.protect({ resource: 'https://elsewhere.example/' }), ImproperlyConfiguredError)
  class Stray extends ProtectedResourceView {
    override resource = 'https://elsewhere.example/'
    async get (): Promise<string> { return 'x' }
  }
  await t.rejects(async () => { await app.register(Stray.asView('/stray')).ready() }, { code: 'OAT_ERR_OPTIONS' })
})

t.test('a declared resource served elsewhere (metadata: false) has no resource_metadata in challenges', async (t) => {
  const app = await buildApp(t, { settings: { protectedResources: [{ resource: MCP, metadata: false }] } })
  app.get('/mcp', { onRequest: app.oauth.protect({ resource: MCP, bearerChallenge: true }) }, async () => 'mcp')
  const res = await call(app, '/mcp')
  t.equal(res.statusCode, 401)
  t.equal(res.headers['www-authenticate'], 'Bearer realm="api"')
})
