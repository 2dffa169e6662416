// An MCP-style client against real ports with fetch, knowing nothing but the API's URL:
// 401 → resource_metadata (RFC 9728) → authorization server metadata (RFC 8414) → dynamic
// client registration (RFC 7591) → authorization code + PKCE with `resource` (RFC 8707, RFC
// 7636) → the API accepts the token. The authorization server and the API (the MCP server)
// are two Fastify apps on two ports sharing one SQLite database, as two processes would.
import { createHash, randomBytes } from 'node:crypto'
import { createServer } from 'node:net'
import { join } from 'node:path'
import Fastify, { type FastifyInstance } from 'fastify'
import t from 'tap'
import { fastifyOAuthToolkit, oauthMetadata, oauthProtectedResourceMetadata, oauthRoutes, RFC9700_SETTINGS } from '../../index.js'
import { LOGIN_OPTIONS, USER_HEADER } from '../helpers/authorize.js'
import { testHasher } from '../helpers/index.js'

/** A port nothing listens on right now (the settings must name the resource before listen). */
async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => { resolve(typeof address === 'object' && address !== null ? address.port : 0) })
    })
  })
}

const [asPort, apiPort] = [await freePort(), await freePort()]
const issuer = `http://127.0.0.1:${asPort}/o`
const resource = `http://127.0.0.1:${apiPort}/mcp`
const database = join(t.testdir(), 'oauth.db')
const scopes = { mcp: 'Use the MCP server', read: 'Read' }

async function start (app: FastifyInstance, port: number): Promise<void> {
  t.teardown(() => app.close())
  await app.listen({ port, host: '127.0.0.1' })
}

// The authorization server: RFC 9700 preset, open registration, the API declared as a resource it serves no document for.
const as = Fastify()
await as.register(fastifyOAuthToolkit, {
  database,
  migrate: true,
  hasher: testHasher,
  ...LOGIN_OPTIONS,
  settings: {
    ...RFC9700_SETTINGS,
    issuer,
    scopes,
    dcrEnabled: true,
    dcrRegistrationPolicy: 'open',
    protectedResources: [{ resource, metadata: false }],
  },
})
await as.register(oauthRoutes, { prefix: '/o' })
await as.register(oauthMetadata, { routesPrefix: '/o' })
await start(as, asPort)

// The MCP server: verifies tokens from the same database, answers RFC 9728 challenges and serves its metadata.
const api = Fastify()
await api.register(fastifyOAuthToolkit, {
  database,
  hasher: testHasher,
  settings: { issuer, scopes, protectedResources: [{ resource, scopesSupported: ['mcp'], authorizationServers: [issuer], resourceName: 'Test MCP server' }] },
})
await api.register(oauthProtectedResourceMetadata, { routesPrefix: '/o' })
api.post('/mcp', { onRequest: api.oauth.protect({ resource, scopes: ['mcp'], bearerChallenge: true }) }, async (request) =>
  ({ jsonrpc: '2.0', id: 1, result: { user: request.accessToken?.userId } }))
await start(api, apiPort)

const MCP_CALL = { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }) }

async function json (res: Response): Promise<Record<string, unknown>> {
  return await res.json() as Record<string, unknown>
}

t.test('an MCP client discovers, registers, authorizes with PKCE and resource, and calls the server', async (t) => {
  // 1. No token: 401 with resource_metadata (RFC 9728 §5.1).
  const denied = await fetch(resource, MCP_CALL)
  t.equal(denied.status, 401)
  const challenge = denied.headers.get('www-authenticate') ?? ''
  t.match(challenge, /^Bearer /)
  const metadataUrl = /resource_metadata="([^"]+)"/.exec(challenge)?.[1] ?? ''
  t.equal(metadataUrl, `http://127.0.0.1:${apiPort}/.well-known/oauth-protected-resource/mcp`)

  // 2. Protected resource metadata names the authorization server.
  const prm = await json(await fetch(metadataUrl))
  t.equal(prm.resource, resource, 'RFC 9728 §3.3: the resource is the one the client called')
  t.same(prm.scopes_supported, ['mcp'])
  const [authorizationServer] = prm.authorization_servers as string[]
  t.equal(authorizationServer, issuer)

  // 3. RFC 8414 §3: the well-known segment goes between the host and the issuer's path.
  const asUrl = new URL(authorizationServer ?? '')
  const meta = await json(await fetch(`${asUrl.origin}/.well-known/oauth-authorization-server${asUrl.pathname}`))
  t.equal(meta.issuer, issuer, 'RFC 8414 §3.3: issuer matches')
  t.ok((meta.code_challenge_methods_supported as string[]).includes('S256'))
  t.equal(meta.registration_endpoint, `${issuer}/register/`)
  t.equal(meta.authorization_response_iss_parameter_supported, true)

  // 4. Dynamic client registration (RFC 7591) as a public native client with a loopback redirect.
  const redirectUri = 'http://127.0.0.1/callback'
  const registered = await fetch(meta.registration_endpoint as string, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_name: 'MCP Inspector', redirect_uris: [redirectUri], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none', scope: 'mcp' }),
  })
  t.equal(registered.status, 201)
  const client = await json(registered)
  const clientId = client.client_id as string
  t.notOk('client_secret' in client, 'a public client gets no secret')

  // 5. Authorization code + PKCE (S256) + resource. The user is logged in (x-test-user stands for the session cookie).
  const verifier = randomBytes(32).toString('base64url')
  const challengeS256 = createHash('sha256').update(verifier).digest('base64url')
  const state = randomBytes(16).toString('base64url')
  const authorizeUrl = new URL(meta.authorization_endpoint as string)
  for (const [k, v] of Object.entries({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: 'http://127.0.0.1:53817/callback',
    scope: 'mcp',
    state,
    code_challenge: challengeS256,
    code_challenge_method: 'S256',
    resource,
  })) authorizeUrl.searchParams.set(k, v)
  const page = await fetch(authorizeUrl, { headers: { [USER_HEADER]: 'user-alice' }, redirect: 'manual' })
  t.equal(page.status, 200, 'the consent page')
  const html = await page.text()
  t.match(html, 'MCP Inspector')
  t.match(html, resource, 'the consent page names the resource')
  const action = /<form method="post" action="([^"]*)">/.exec(html)?.[1] ?? ''
  const fields = new URLSearchParams()
  for (const m of html.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)) fields.append(m[1] ?? '', (m[2] ?? '').replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>'))
  fields.set('allow', 'Authorize')
  const cookie = (page.headers.get('set-cookie') ?? '').split(';')[0] ?? ''
  const decision = await fetch(new URL(action, asUrl.origin), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie, [USER_HEADER]: 'user-alice' },
    body: fields.toString(),
    redirect: 'manual',
  })
  t.equal(decision.status, 302)
  const callback = new URL(decision.headers.get('location') ?? '')
  t.equal(`${callback.origin}${callback.pathname}`, 'http://127.0.0.1:53817/callback', 'RFC 8252 §7.3: any loopback port')
  t.equal(callback.searchParams.get('state'), state)
  t.equal(callback.searchParams.get('iss'), issuer, 'RFC 9207')
  const code = callback.searchParams.get('code') ?? ''

  // 6. Token request with the verifier and the resource.
  const tokenRes = await fetch(meta.token_endpoint as string, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: 'http://127.0.0.1:53817/callback', client_id: clientId, code_verifier: verifier, resource }).toString(),
  })
  t.equal(tokenRes.status, 200)
  const tokens = await json(tokenRes)
  t.equal(tokens.token_type, 'Bearer')
  t.equal(tokens.scope, 'mcp')

  // 7. The MCP server accepts the token.
  const ok = await fetch(resource, { ...MCP_CALL, headers: { ...MCP_CALL.headers, authorization: `Bearer ${tokens.access_token as string}` } })
  t.equal(ok.status, 200)
  t.same(await ok.json(), { jsonrpc: '2.0', id: 1, result: { user: 'user-alice' } })

  // And a refreshed token still works for it (the refresh token keeps the grant's resource).
  const refreshed = await json(await fetch(meta.token_endpoint as string, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token as string, client_id: clientId }).toString(),
  }))
  const again = await fetch(resource, { ...MCP_CALL, headers: { ...MCP_CALL.headers, authorization: `Bearer ${refreshed.access_token as string}` } })
  t.equal(again.status, 200)
})

t.test('open registration refuses client_credentials; a token not issued for the MCP server is refused with resource_metadata', async (t) => {
  const refused = await fetch(`${issuer}/register/`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ grant_types: ['client_credentials'], scope: 'mcp' }),
  })
  t.equal(refused.status, 400)
  t.equal((await json(refused)).error, 'invalid_client_metadata')
  // A host-created backend client gets a token bound to no resource: the MCP server wants its own audience.
  const { application, clientSecret } = await as.oauth.createApplication({ clientType: 'confidential', authorizationGrantType: 'client-credentials' })
  const tokenRes = await json(await fetch(`${issuer}/token/`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${application.clientId}:${clientSecret ?? ''}`).toString('base64')}` },
    body: 'grant_type=client_credentials&scope=mcp',
  }))
  const res = await fetch(resource, { ...MCP_CALL, headers: { ...MCP_CALL.headers, authorization: `Bearer ${tokenRes.access_token as string}` } })
  t.equal(res.status, 401)
  t.match(res.headers.get('www-authenticate') ?? '', /error="invalid_token".*resource_metadata="/)
})
