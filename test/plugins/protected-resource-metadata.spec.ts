// RFC 9728 protected resource metadata: the documents, the path-suffix rule, truthful values,
// and the settings that declare resources.
import t from 'tap'
import { ImproperlyConfiguredError, oauthMetadata, oauthProtectedResourceMetadata } from '../../index.js'
import { resolveSettings } from '../../entries/core.js'
import { buildApp } from '../helpers/index.js'

const MCP = 'https://mcp.example.com/mcp'

t.test('a resource with a path: its document at /.well-known/oauth-protected-resource/<path>, CORS *, truthful defaults', async (t) => {
  const app = await buildApp(t, { settings: { protectedResources: [{ resource: MCP }] } })
  await app.register(oauthProtectedResourceMetadata, { routesPrefix: '/o' })
  const res = await app.inject({ url: '/.well-known/oauth-protected-resource/mcp', headers: { host: 'mcp.example.com' } })
  t.equal(res.statusCode, 200)
  t.equal(res.headers['access-control-allow-origin'], '*')
  // CONF-3: the issuer comes from the request, so no cache may keep the document for others.
  t.equal(res.headers['cache-control'], 'no-store')
  t.equal(res.headers.vary, 'Host, X-Forwarded-Host, X-Forwarded-Proto')
  t.same(res.json(), {
    resource: MCP,
    authorization_servers: ['http://mcp.example.com/o'],
    bearer_methods_supported: ['header'],
  }, 'the issuer derived from the request; header only while query-string tokens are refused')
  t.equal((await app.inject({ url: '/.well-known/oauth-protected-resource' })).statusCode, 404, 'no document for the origin itself')
  t.equal((await app.inject({ url: '/.well-known/oauth-protected-resource/other' })).statusCode, 404)
})

t.test('a resource at the origin drops the terminating slash (§3.1); every optional field is served as declared', async (t) => {
  const app = await buildApp(t, {
    settings: {
      issuer: 'https://auth.example.com/o',
      allowQueryStringTokens: true,
      scopes: { read: 'Read', write: 'Write', mcp: 'Use the MCP server' },
      protectedResources: [{
        resource: 'https://api.example.com/',
        scopesSupported: ['mcp', 'read'],
        resourceName: 'Example API',
        resourceDocumentation: 'https://api.example.com/docs',
        resourcePolicyUri: 'https://api.example.com/policy',
        resourceTosUri: 'https://api.example.com/tos',
      }],
    },
  })
  await app.register(oauthProtectedResourceMetadata)
  const res = await app.inject({ url: '/.well-known/oauth-protected-resource', headers: { host: 'api.example.com' } })
  t.equal(res.statusCode, 200)
  t.same(res.json(), {
    resource: 'https://api.example.com/',
    authorization_servers: ['https://auth.example.com/o'],
    bearer_methods_supported: ['header', 'query'],
    scopes_supported: ['mcp', 'read'],
    resource_name: 'Example API',
    resource_documentation: 'https://api.example.com/docs',
    resource_policy_uri: 'https://api.example.com/policy',
    resource_tos_uri: 'https://api.example.com/tos',
  })
})

t.test('resources sharing a path on two hosts are told apart by Host; metadata: false is not served; authorization_servers as given', async (t) => {
  const app = await buildApp(t, {
    settings: {
      protectedResources: [
        { resource: 'https://one.example.com/api', authorizationServers: ['https://as1.example.com', 'https://as2.example.com/tenant'] },
        { resource: 'https://two.example.com/api' },
        { resource: 'https://three.example.com/remote', metadata: false },
      ],
    },
  })
  await app.register(oauthProtectedResourceMetadata)
  const one = await app.inject({ url: '/.well-known/oauth-protected-resource/api', headers: { host: 'ONE.example.com' } })
  t.equal(one.json().resource, 'https://one.example.com/api')
  t.same(one.json().authorization_servers, ['https://as1.example.com', 'https://as2.example.com/tenant'])
  const two = await app.inject({ url: '/.well-known/oauth-protected-resource/api', headers: { host: 'two.example.com' } })
  t.equal(two.json().resource, 'https://two.example.com/api')
  const neither = await app.inject({ url: '/.well-known/oauth-protected-resource/api', headers: { host: 'three.example.com' } })
  t.equal(neither.statusCode, 404, 'a host matching neither of two gets no document (§3.3: it would not match)')
  t.equal((await app.inject({ url: '/.well-known/oauth-protected-resource/remote', headers: { host: 'three.example.com' } })).statusCode, 404)
})

t.test('RFC 8414 metadata lists the declared resources (RFC 9728 §4), and only when there are some', async (t) => {
  const app = await buildApp(t, { settings: { protectedResources: [{ resource: MCP }, { resource: 'https://x.example.net/', metadata: false }] } })
  await app.register(oauthMetadata)
  const body = (await app.inject({ url: '/.well-known/oauth-authorization-server' })).json()
  t.same(body.protected_resources, [MCP, 'https://x.example.net/'])
  const plain = await buildApp(t, { settings: {} })
  await plain.register(oauthMetadata)
  t.notOk('protected_resources' in (await plain.inject({ url: '/.well-known/oauth-authorization-server' })).json())
})

t.test('the plugin needs the core plugin', async (t) => {
  const { default: Fastify } = await import('fastify')
  const app = Fastify()
  t.teardown(() => app.close())
  await t.rejects(async () => { await app.register(oauthProtectedResourceMetadata).ready() }, { code: 'OAT_ERR_PLUGIN_ORDER' })
})

t.test('settings refuse resources that would make the documents or the audience check untrue', async (t) => {
  const bad: Array<[string, unknown]> = [
    ['not a URL', [{ resource: 'mcp' }]],
    ['plain http on a public host', [{ resource: 'http://mcp.example.com/mcp' }]],
    ['fragment', [{ resource: `${MCP}#x` }]],
    ['query', [{ resource: `${MCP}?tenant=1` }]],
    ['router syntax in the path', [{ resource: 'https://mcp.example.com/:id' }]],
    ['declared twice (same after normalisation)', [{ resource: MCP }, { resource: 'HTTPS://MCP.EXAMPLE.COM:443/mcp' }]],
    ['unknown scope', [{ resource: MCP, scopesSupported: ['admin'] }]],
    ['query bearer method while query tokens are refused', [{ resource: MCP, bearerMethodsSupported: ['header', 'query'] }]],
    ['body bearer method (never accepted)', [{ resource: MCP, bearerMethodsSupported: ['body'] }]],
    ['authorization server that is no issuer', [{ resource: MCP, authorizationServers: ['https://as.example.com/?x'] }]],
    ['empty authorization servers', [{ resource: MCP, authorizationServers: [] }]],
    ['documentation that is no URL', [{ resource: MCP, resourceDocumentation: 'javascript:alert(1)' }]],
    ['unknown key', [{ resource: MCP, audience: 'x' }]],
    ['not an array', { resource: MCP }],
  ]
  for (const [name, protectedResources] of bad) {
    t.throws(() => resolveSettings({ protectedResources }), ImproperlyConfiguredError, name)
  }
  t.throws(() => resolveSettings({ resourceIndicatorPolicy: 'all' }), ImproperlyConfiguredError)
  t.throws(() => resolveSettings({ acceptTokensWithoutResource: 'yes' }), ImproperlyConfiguredError)
  const ok = resolveSettings({ protectedResources: [{ resource: 'http://localhost:3000/mcp' }] })
  t.ok(Object.isFrozen(ok.protectedResources[0]), 'declared resources are frozen with the settings')
})
