// CONF-3: the issuer and the Host header. With the `issuer` setting no request header changes
// what clients are told; without it, the documents that embed the request-derived issuer say
// which headers they vary on and are never publicly cacheable, and a production start warns.
import { join } from 'node:path'
import { Writable } from 'node:stream'
import Fastify, { type FastifyInstance, type LightMyRequestResponse } from 'fastify'
import t from 'tap'
import { fastifyOAuthToolkit, oauthMetadata, oauthProtectedResourceMetadata } from '../../index.js'
import { buildApp, createApplication, form, FORM } from '../helpers/index.js'
import { buildOidcApp, ISSUER } from '../oidc/support.js'

const DEVICE = 'urn:ietf:params:oauth:grant-type:device_code'
const RESOURCE = 'https://api.example.com/mcp'
const FORGED = { host: 'evil.example', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' }

/** An OIDC server with the device flow, RFC 8414 metadata and one declared protected resource. */
async function buildServer (t: Parameters<typeof buildOidcApp>[0], issuer: string | null): Promise<FastifyInstance> {
  const app = await buildOidcApp(t, { settings: { issuer, deviceFlowEnabled: true, protectedResources: [{ resource: RESOURCE }] } })
  await app.register(oauthMetadata, { routesPrefix: '/o' })
  await app.register(oauthProtectedResourceMetadata, { routesPrefix: '/o' })
  return app
}

/** The metadata documents that embed the issuer, and where the issuer is in each. */
const DOCUMENTS: ReadonlyArray<[string, string, (body: Record<string, unknown>) => unknown]> = [
  ['OpenID Connect discovery', '/o/.well-known/openid-configuration', (b) => b.issuer],
  ['RFC 8414 metadata', '/.well-known/oauth-authorization-server/o', (b) => b.issuer],
  ['RFC 9728 protected resource metadata', '/.well-known/oauth-protected-resource/mcp', (b) => (b.authorization_servers as string[])[0]],
]

async function deviceAuthorization (app: FastifyInstance, clientId: string, headers: Record<string, string>): Promise<LightMyRequestResponse> {
  return await app.inject({ method: 'POST', url: '/o/device-authorization/', payload: form({ client_id: clientId }), headers: { ...FORM, ...headers } })
}

t.test('CONF-3: with the issuer setting, a forged Host or X-Forwarded-Host/Proto changes nothing clients are told', async (t) => {
  const app = await buildServer(t, ISSUER)
  for (const [what, url, issuerIn] of DOCUMENTS) {
    const plain = await app.inject({ url, headers: { host: 'api.example.com' } })
    const forged = await app.inject({ url, headers: { ...FORGED, host: what.includes('9728') ? 'api.example.com' : FORGED.host } })
    t.equal(forged.statusCode, 200, what)
    t.equal(issuerIn(forged.json()), ISSUER, `${what}: the configured issuer`)
    t.same(forged.json(), plain.json(), `${what}: the same document whatever the headers`)
    t.equal(forged.headers['cache-control'], 'public, max-age=3600', `${what}: the same for everyone, so cacheable`)
  }
  const tv = await createApplication(app, { clientType: 'public', authorizationGrantType: DEVICE })
  const device = await deviceAuthorization(app, tv.application.clientId, FORGED)
  t.equal(device.statusCode, 200)
  t.equal(device.json<{ verification_uri: string }>().verification_uri, `${ISSUER}/device/`, 'the device verification_uri')
})

t.test('CONF-3: without it, documents that embed the request-derived issuer vary on Host and are not publicly cacheable', async (t) => {
  const app = await buildServer(t, null)
  for (const [what, url, issuerIn] of DOCUMENTS) {
    const res = await app.inject({ url, headers: { host: 'api.example.com' } })
    t.equal(res.statusCode, 200, what)
    t.equal(issuerIn(res.json()), 'http://api.example.com/o', `${what}: the issuer follows the request`)
    t.equal(res.headers['cache-control'], 'no-store', `${what}: no cache keeps it`)
    t.notMatch(String(res.headers['cache-control']), /public/, what)
    t.equal(res.headers.vary, 'Host, X-Forwarded-Host, X-Forwarded-Proto', `${what}: Vary names every header the issuer is read from`)
  }
  const tv = await createApplication(app, { clientType: 'public', authorizationGrantType: DEVICE })
  const device = await deviceAuthorization(app, tv.application.clientId, { host: 'api.example.com' })
  t.equal(device.json<{ verification_uri: string }>().verification_uri, 'http://api.example.com/o/device/')
  t.equal(device.headers['cache-control'], 'no-store', 'the device authorization response is never stored')
})

t.test('CONF-3: two resources sharing a path are chosen by Host, and say so even with a configured issuer', async (t) => {
  const app = await buildApp(t, { settings: { issuer: ISSUER, protectedResources: [{ resource: 'https://a.example.com/mcp' }, { resource: 'https://b.example.com/mcp' }] } })
  await app.register(oauthProtectedResourceMetadata, { routesPrefix: '/o' })
  const res = await app.inject({ url: '/.well-known/oauth-protected-resource/mcp', headers: { host: 'b.example.com' } })
  t.equal(res.json<{ resource: string }>().resource, 'https://b.example.com/mcp')
  t.equal(res.headers.vary, 'Host')
  t.equal(res.headers['cache-control'], 'public, max-age=3600')
  const other = await app.inject({ url: '/.well-known/oauth-protected-resource/mcp', headers: { host: 'c.example.com' } })
  t.equal(other.statusCode, 404, 'a third host has no document')
  t.equal(other.headers.vary, 'Host', '... and its 404 is not served to the other hosts')
  t.equal(other.headers['cache-control'], 'no-store')
})

t.test('CONF-3: a production start without the issuer setting logs one warning; with it, or outside production, none', async (t) => {
  const previous = process.env.NODE_ENV
  t.teardown(() => { if (previous === undefined) delete process.env.NODE_ENV; else process.env.NODE_ENV = previous })
  const warnings = async (nodeEnv: string, issuer: string | null): Promise<string[]> => {
    process.env.NODE_ENV = nodeEnv
    const lines: string[] = []
    const stream = new Writable({ write (chunk: Buffer, _encoding, done) { lines.push(chunk.toString()); done() } })
    const app = Fastify({ logger: { level: 'warn', stream } })
    await app.register(fastifyOAuthToolkit, { database: join(t.testdir(), `${nodeEnv}-${issuer === null ? 'derived' : 'set'}.db`), migrate: true, settings: { issuer } })
    await app.ready()
    await app.close()
    return lines.map((l) => (JSON.parse(l) as { msg: string }).msg).filter((m) => m.includes('issuer'))
  }
  const produced = await warnings('production', null)
  t.equal(produced.length, 1, 'one warning')
  t.match(produced[0], /issuer setting is unset, so the issuer is taken from each request's Host header; set issuer to/)
  t.same(await warnings('production', ISSUER), [], 'configured: no warning')
  t.same(await warnings('development', null), [], 'not production: no warning')
})
