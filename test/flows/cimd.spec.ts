// Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document) end to end: an
// https URL as client_id, its document served by a local HTTPS server (a self-signed certificate
// trusted through `outboundHttp.ca`, loopback allowed through `allowPrivateAddresses`), a real
// client (oauth4webapi) redeeming the code with PKCE at the listening server, caching and refetch
// by an injected clock, and every refusal at the authorization endpoint (an HTML page, never a
// redirect) and at the token endpoint (`invalid_client` JSON). SQLite and PostgreSQL.
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import * as oauth from 'oauth4webapi'
import t, { type Test } from 'tap'
import { oauthMetadata } from '../../index.js'
import { serverContext } from '../../lib/server.js'
import { ALICE, buildApp, fixedClock, form, FORM, postToken, type BuildAppOptions, type FixedClock } from '../helpers/index.js'
import { ApplicationValidationError } from '../../lib/applications.js'
import { newRsaPem } from '../oidc/support.js'
import { asUser, authorizeUrl, LOGIN_OPTIONS, parseConsent, pkcePair, postDecision, redirectParams } from '../helpers/authorize.js'
import { json, selfSignedCertificate, startDocumentServer, type DocumentServer } from '../helpers/https-server.js'
import { postgresTestDatabase } from '../helpers/postgres.js'

const CALLBACK = 'https://client.example.net/callback'
const certificate = selfSignedCertificate()

type Handler = (req: IncomingMessage, res: ServerResponse) => void

/** A document for `url` (its own client_id), public, authorization code, with `extra` merged in. */
function documentFor (url: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { client_id: url, client_name: 'Notes for MCP', redirect_uris: [CALLBACK], token_endpoint_auth_method: 'none', ...extra }
}

/** Serves `documentFor(url)` with a Cache-Control header. */
function served (server: () => DocumentServer, path: string, extra: Record<string, unknown> = {}, cacheControl = 'max-age=600'): Handler {
  return (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': cacheControl }).end(JSON.stringify(documentFor(`${server().origin}${path}`, extra)))
  }
}

interface Setup {
  readonly app: FastifyInstance
  readonly docs: DocumentServer
  readonly clock: FixedClock
  readonly base: string
}

/** The document server (its routes may refer to its own origin) and an app with CIMD on. */
async function setup (t: Test, routes: (docs: () => DocumentServer) => Record<string, Handler>, options: {
  database?: string
  settings?: Record<string, unknown>
  allowPrivateAddresses?: boolean
  listen?: boolean
  build?: BuildAppOptions
} = {}): Promise<Setup> {
  // The routes may name the server's own origin, known only once it listens: they ask for it lazily.
  const holder: { docs?: DocumentServer } = {}
  const docs = holder.docs = await startDocumentServer(t, routes(() => holder.docs as DocumentServer), certificate)
  const clock = fixedClock(new Date().toISOString())
  const app = await buildApp(t, {
    ...LOGIN_OPTIONS,
    ...options.build,
    ...(options.database === undefined ? {} : { database: options.database }),
    clock,
    outboundHttp: { ca: certificate.cert, allowPrivateAddresses: options.allowPrivateAddresses ?? true },
    settings: { cimdEnabled: true, scopes: { read: 'Read your notes' }, ...options.settings },
  })
  await app.register(oauthMetadata, { routesPrefix: '/o' })
  let base = ''
  if (options.listen === true) {
    await app.listen({ port: 0, host: '127.0.0.1' })
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
  }
  return { app, docs, clock, base }
}

function codeParams (clientId: string, challenge: string = pkcePair().challenge): Record<string, string> {
  return { response_type: 'code', client_id: clientId, redirect_uri: CALLBACK, state: 's1', scope: 'read', code_challenge: challenge, code_challenge_method: 'S256' }
}

async function authorize (app: FastifyInstance, clientId: string): Promise<LightMyRequestResponse> {
  return await app.inject({ method: 'GET', url: authorizeUrl(codeParams(clientId)), headers: asUser(ALICE.id) })
}

/** The refusal at both ends: the authorization endpoint's error page (no redirect), the token endpoint's invalid_client. */
async function assertRefused (t: Test, app: FastifyInstance, clientId: string): Promise<void> {
  const page = await authorize(app, clientId)
  t.equal(page.statusCode, 400, 'authorization endpoint: 400')
  t.equal(page.headers.location, undefined, 'never redirected')
  t.match(page.headers['content-type'], /^text\/html/)
  t.match(page.body, /invalid_request|Invalid client_id/)
  const token = await postToken(app, { grant_type: 'authorization_code', code: 'x', redirect_uri: CALLBACK, code_verifier: pkcePair().verifier, client_id: clientId })
  t.equal(token.statusCode, 401, 'token endpoint: 401')
  t.same(token.json(), { error: 'invalid_client', error_description: 'Client authentication failed.' })
}

async function fullFlow (t: Test, database?: string): Promise<void> {
  const { app, docs, clock, base } = await setup(t, (d) => ({ '/oauth/client.json': served(d, '/oauth/client.json') }), { listen: true, ...(database === undefined ? {} : { database }) })
  const clientId = `${docs.origin}/oauth/client.json`
  const issuer = `${base}/o`
  const metadata = await (await fetch(`${base}/.well-known/oauth-authorization-server`)).json() as Record<string, unknown>
  t.equal(metadata.client_id_metadata_document_supported, true, 'RFC 8414 metadata advertises CIMD')

  const client: oauth.Client = { client_id: clientId }
  const verifier = oauth.generateRandomCodeVerifier()
  const challenge = await oauth.calculatePKCECodeChallenge(verifier)
  const page = await app.inject({ method: 'GET', url: authorizeUrl(codeParams(clientId, challenge)), headers: asUser(ALICE.id) })
  t.equal(page.statusCode, 200, 'the consent page')
  t.match(page.body, 'Notes for MCP', 'the document\'s client_name')
  t.match(page.body, `published by <strong>localhost:${docs.port}</strong>`, 'the publishing host, clearly')
  t.match(page.body, 'client.example.net', 'the unvetted redirect target is named')
  t.equal(docs.hits.get('/oauth/client.json'), 1, 'fetched once')

  const decision = await postDecision(app, parseConsent(page))
  t.equal(decision.statusCode, 302)
  const callback = new URL(String(decision.headers.location))
  t.equal(`${callback.origin}${callback.pathname}`, CALLBACK)
  const as: oauth.AuthorizationServer = { issuer, token_endpoint: `${issuer}/token/`, revocation_endpoint: `${issuer}/revoke-token/` }
  const params = oauth.validateAuthResponse(as, client, callback, 's1')
  const http = { [oauth.allowInsecureRequests]: true }
  const tokens = await oauth.processAuthorizationCodeResponse(as, client,
    await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, CALLBACK, verifier, http))
  t.equal(tokens.token_type, 'bearer')
  t.type(tokens.refresh_token, 'string')
  t.equal(docs.hits.get('/oauth/client.json'), 1, 'the token request used the stored client')

  const refreshed = await oauth.processRefreshTokenResponse(as, client,
    await oauth.refreshTokenGrantRequest(as, client, oauth.None(), tokens.refresh_token ?? '', http))
  await oauth.processRevocationResponse(await oauth.revocationRequest(as, client, oauth.None(), refreshed.access_token, http))

  const stored = await app.oauth.store.findApplicationByClientId(clientId)
  t.equal(stored?.clientType, 'public')
  t.equal(stored?.selfRegistered, true, 'its redirect URIs are unvetted')
  t.equal(stored?.cimdExpiresAt?.getTime(), clock.now().getTime() + 600_000, 'kept for the document\'s max-age')
}

t.test('authorization code + PKCE with oauth4webapi, SQLite', async (t) => { await fullFlow(t) })

t.test('authorization code + PKCE with oauth4webapi, PostgreSQL', async (t) => {
  const url = await postgresTestDatabase(t)
  if (url !== null) await fullFlow(t, url)
})

t.test('caching: fresh documents are not refetched; stale ones are, and their changes apply', async (t) => {
  let name = 'First name'
  let cacheControl = 'max-age=600'
  const { app, docs, clock } = await setup(t, (d) => ({
    '/c.json': (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': cacheControl }).end(JSON.stringify(documentFor(`${d().origin}/c.json`, { client_name: name })))
    },
  }))
  const clientId = `${docs.origin}/c.json`
  t.match((await authorize(app, clientId)).body, 'First name')
  name = 'Second name'
  clock.advance(599)
  t.match((await authorize(app, clientId)).body, 'First name', 'within max-age: the stored document')
  t.equal(docs.hits.get('/c.json'), 1)
  clock.advance(2)
  t.match((await authorize(app, clientId)).body, 'Second name', 'past max-age: fetched again')
  t.equal(docs.hits.get('/c.json'), 2)
  const apps = (await app.oauth.store.listApplications()).filter((a) => a.clientId === clientId)
  t.equal(apps.length, 1, 'updated in place, not duplicated')

  cacheControl = 'max-age=99999999'
  clock.advance(601)
  await authorize(app, clientId)
  t.equal((await app.oauth.store.findApplicationByClientId(clientId))?.cimdExpiresAt?.getTime(), clock.now().getTime() + 86400_000, 'clamped to cimdMetadataMaxAgeSeconds')
  cacheControl = 'no-store'
  clock.advance(86401)
  await authorize(app, clientId)
  t.equal((await app.oauth.store.findApplicationByClientId(clientId))?.cimdExpiresAt?.getTime(), clock.now().getTime() + 300_000, 'raised to cimdMetadataMinAgeSeconds')
})

t.test('a stale document that cannot be fetched again is refused; failures back off', async (t) => {
  let up = true
  const { app, docs, clock } = await setup(t, (d) => ({
    '/c.json': (req, res) => {
      if (!up) {
        res.writeHead(500).end()
        return
      }
      served(d, '/c.json')(req, res)
    },
  }))
  const clientId = `${docs.origin}/c.json`
  t.equal((await authorize(app, clientId)).statusCode, 200)
  up = false
  clock.advance(601)
  await assertRefused(t, app, clientId)
  t.equal(docs.hits.get('/c.json'), 2, 'one fetch for the failure; the token request within the backoff did not fetch')
  up = true
  clock.advance(59)
  t.equal((await authorize(app, clientId)).statusCode, 400, 'still within cimdFailureBackoffSeconds')
  t.equal(docs.hits.get('/c.json'), 2)
  clock.advance(2)
  t.equal((await authorize(app, clientId)).statusCode, 200, 'after the backoff: fetched and used')
  t.equal(docs.hits.get('/c.json'), 3)
})

t.test('concurrent requests for one URL share one fetch', async (t) => {
  const { app, docs } = await setup(t, (d) => ({ '/c.json': served(d, '/c.json') }))
  const clientId = `${docs.origin}/c.json`
  const pages = await Promise.all(Array.from({ length: 8 }, async () => await authorize(app, clientId)))
  t.same(pages.map((p) => p.statusCode), Array(8).fill(200))
  t.equal(docs.hits.get('/c.json'), 1)
})

t.test('a private_key_jwt document client with published keys is confidential without a secret', async (t) => {
  const { app, docs } = await setup(t, (d) => ({
    '/k.json': served(d, '/k.json', { token_endpoint_auth_method: 'private_key_jwt', jwks_uri: 'https://client.example.net/jwks.json' }),
  }))
  const clientId = `${docs.origin}/k.json`
  t.equal((await authorize(app, clientId)).statusCode, 200)
  const stored = await app.oauth.store.findApplicationByClientId(clientId)
  t.equal(stored?.clientType, 'confidential')
  t.equal(stored?.tokenEndpointAuthMethod, 'private_key_jwt')
  t.equal(stored?.clientSecretHash, '', 'no secret')
  const token = await postToken(app, { grant_type: 'authorization_code', code: 'x', redirect_uri: CALLBACK, client_id: clientId })
  t.equal(token.statusCode, 401, 'without an assertion it cannot authenticate')
})

t.test('refusals', async (t) => {
  const big = 'x'.repeat(20_000)
  const { app, docs } = await setup(t, (d) => ({
    '/wrong-id.json': json({ ...documentFor('https://elsewhere.example/c.json') }),
    '/redirect.json': (_req, res) => { res.writeHead(302, { location: `${d().origin}/ok.json` }).end() },
    '/ok.json': served(d, '/ok.json'),
    '/html.json': (_req, res) => { res.writeHead(200, { 'content-type': 'text/html' }).end('<html>hello</html>') },
    '/garbled.json': (_req, res) => { res.writeHead(200, { 'content-type': 'application/json' }).end('{"client_id":') },
    '/secret.json': served(d, '/secret.json', { client_secret: 'chosen-by-the-client' }),
    '/secret-expiry.json': served(d, '/secret-expiry.json', { client_secret_expires_at: 0 }),
    '/basic.json': served(d, '/basic.json', { token_endpoint_auth_method: 'client_secret_basic' }),
    '/no-redirects.json': served(d, '/no-redirects.json', { redirect_uris: [] }),
    '/credentials.json': served(d, '/credentials.json', { token_endpoint_auth_method: 'private_key_jwt', jwks_uri: 'https://client.example.net/jwks.json', grant_types: ['client_credentials'], response_types: [] }),
    '/big.json': served(d, '/big.json', { client_uri: `https://client.example.net/${big}` }),
    '/slow.json': () => { /* never answers */ },
    '/array.json': json([1, 2]),
  }), { settings: { cimdFetchTimeoutSeconds: 1 } })
  const cases: Array<[string, string, RegExp]> = [
    ['the document names another client_id', '/wrong-id.json', /client_id that is not its own URL/],
    ['a redirect response', '/redirect.json', /\(redirect\)/],
    ['a non-JSON document', '/html.json', /served as text\/html/],
    ['garbled JSON', '/garbled.json', /not valid JSON/],
    ['not a JSON object', '/array.json', /not a JSON object/],
    ['a client_secret in the document', '/secret.json', /holds client_secret /],
    ['a client_secret_expires_at in the document', '/secret-expiry.json', /holds client_secret_expires_at/],
    ['a shared-secret authentication method', '/basic.json', /other than none or private_key_jwt/],
    ['no redirect_uris', '/no-redirects.json', /no redirect_uris/],
    ['a grant without user consent', '/credentials.json', /without user consent/],
    ['an oversized document', '/big.json', /\(size\)/],
    ['a fetch timeout', '/slow.json', /\(timeout\)/],
  ]
  const ctx = serverContext(app.oauth)
  for (const [name, path, reason] of cases) {
    await t.test(name, async (t) => {
      const url = `${docs.origin}${path}`
      const first = await ctx.cimd?.resolve(ctx, url)
      t.match(first?.detail, reason, 'refused for this reason')
      t.equal(first?.application, null)
      await assertRefused(t, app, url)
      t.equal(await app.oauth.store.findApplicationByClientId(url), null, 'nothing stored')
    })
  }
  t.equal(docs.hits.get('/ok.json'), undefined, 'the redirect was not followed')

  await t.test('URLs that are not client ID metadata document URLs are refused without a fetch', async (t) => {
    const port = docs.port
    for (const url of [
      `http://localhost:${port}/ok.json`,
      `https://localhost:${port}/ok.json#frag`,
      `https://localhost:${port}/a/../ok.json`,
      `https://localhost:${port}/./ok.json`,
      `https://localhost:${port}/%2e%2e/ok.json`,
      `https://user:pass@localhost:${port}/ok.json`,
      `https://user@localhost:${port}/ok.json`,
      `https://localhost:${port}/`,
      `https://localhost:${port}`,
      `https://LOCALHOST:${port}/ok.json`,
      `https://localhost:${port}/${'a'.repeat(300)}`,
    ]) {
      await t.test(url.slice(0, 80), async (t) => {
        t.match((await ctx.cimd?.resolve(ctx, url))?.detail, /not a client ID metadata document URL/)
        await assertRefused(t, app, url)
      })
    }
    t.equal(docs.hits.get('/ok.json'), undefined, 'nothing was fetched')
  })
})

t.test('host policy: cimdAllowedHosts and cimdBlockedHosts', async (t) => {
  await t.test('a host not on the allow list', async (t) => {
    const { app, docs } = await setup(t, (d) => ({ '/c.json': served(d, '/c.json') }), { settings: { cimdAllowedHosts: ['.example.com'] } })
    const ctx = serverContext(app.oauth)
    t.match((await ctx.cimd?.resolve(ctx, `${docs.origin}/c.json`))?.detail, /host localhost is not allowed \(cimdAllowedHosts\)/)
    await assertRefused(t, app, `${docs.origin}/c.json`)
    t.equal(docs.hits.get('/c.json'), undefined)
  })
  await t.test('a host on the allow list', async (t) => {
    const { app, docs } = await setup(t, (d) => ({ '/c.json': served(d, '/c.json') }), { settings: { cimdAllowedHosts: ['example.com', 'localhost'] } })
    t.equal((await authorize(app, `${docs.origin}/c.json`)).statusCode, 200)
  })
  await t.test('a blocked host, even when allowed', async (t) => {
    const { app, docs } = await setup(t, (d) => ({ '/c.json': served(d, '/c.json') }), { settings: { cimdAllowedHosts: ['localhost'], cimdBlockedHosts: ['localhost'] } })
    const ctx = serverContext(app.oauth)
    t.match((await ctx.cimd?.resolve(ctx, `${docs.origin}/c.json`))?.detail, /host localhost is blocked \(cimdBlockedHosts\)/)
    await assertRefused(t, app, `${docs.origin}/c.json`)
    t.equal(docs.hits.get('/c.json'), undefined)
  })
})

t.test('a private address without outboundHttp.allowPrivateAddresses is never fetched', async (t) => {
  const { app, docs } = await setup(t, (d) => ({ '/c.json': served(d, '/c.json') }), { allowPrivateAddresses: false })
  const ctx = serverContext(app.oauth)
  t.match((await ctx.cimd?.resolve(ctx, `${docs.origin}/c.json`))?.detail, /fetch refused \(address\)/)
  await assertRefused(t, app, `${docs.origin}/c.json`)
  await assertRefused(t, app, `https://127.0.0.1:${docs.port}/c.json`)
  t.equal(docs.hits.get('/c.json'), undefined)
})

t.test('cimdEnabled off: a URL client_id is an unknown client, and documents stored before are refused', async (t) => {
  const { app, docs } = await setup(t, (d) => ({ '/c.json': served(d, '/c.json') }), { settings: { cimdEnabled: false } })
  const clientId = `${docs.origin}/c.json`
  await assertRefused(t, app, clientId)
  t.equal(docs.hits.get('/c.json'), undefined, 'nothing fetched')
  const metadata = (await app.inject('/.well-known/oauth-authorization-server')).json() as Record<string, unknown>
  t.equal(metadata.client_id_metadata_document_supported, undefined, 'not advertised')
  await app.oauth.store.createApplication({
    clientId,
    clientSecretHash: '',
    clientType: 'public',
    authorizationGrantType: 'authorization-code',
    redirectUris: [CALLBACK],
    postLogoutRedirectUris: [],
    allowedOrigins: [],
    name: 'Left over',
    userId: null,
    skipAuthorization: false,
    algorithm: '',
    selfRegistered: true,
    cimdExpiresAt: new Date(Date.now() + 3600_000),
    now: new Date(),
  })
  await assertRefused(t, app, clientId)
})

t.test('every client lookup goes through the resolver: PAR, device authorization, revocation', async (t) => {
  const { app, docs } = await setup(t, (d) => ({
    '/c.json': served(d, '/c.json'),
    '/device.json': served(d, '/device.json', { grant_types: ['urn:ietf:params:oauth:grant-type:device_code'], response_types: [] }),
  }), { settings: { deviceFlowEnabled: true } })
  const par = await app.inject({ method: 'POST', url: '/o/par/', headers: FORM, payload: form(codeParams(`${docs.origin}/c.json`)) })
  t.equal(par.statusCode, 201, 'PAR accepts the document client')
  t.equal(docs.hits.get('/c.json'), 1)
  const device = await app.inject({ method: 'POST', url: '/o/device-authorization/', headers: FORM, payload: form({ client_id: `${docs.origin}/device.json`, scope: 'read' }) })
  t.equal(device.statusCode, 200, 'device authorization accepts a device document client')
  t.equal(docs.hits.get('/device.json'), 1)
  const revoke = await app.inject({ method: 'POST', url: '/o/revoke-token/', headers: FORM, payload: form({ client_id: `${docs.origin}/c.json`, token: 'nothing' }) })
  t.equal(revoke.statusCode, 200, 'revocation identifies the client')
})

t.test('clearExpiredCimdApplications removes stale document clients without live tokens', async (t) => {
  const { app, docs, clock } = await setup(t, (d) => ({ '/a.json': served(d, '/a.json'), '/b.json': served(d, '/b.json') }))
  const a = `${docs.origin}/a.json`
  const b = `${docs.origin}/b.json`
  t.equal((await authorize(app, a)).statusCode, 200)
  const { verifier, challenge } = pkcePair()
  const page = await app.inject({ method: 'GET', url: authorizeUrl(codeParams(b, challenge)), headers: asUser(ALICE.id) })
  const code = redirectParams(await postDecision(app, parseConsent(page))).code ?? ''
  const token = await postToken(app, { grant_type: 'authorization_code', code, redirect_uri: CALLBACK, code_verifier: verifier, client_id: b })
  t.equal(token.statusCode, 200)
  t.equal(await app.oauth.clearExpiredCimdApplications(), 0, 'nothing is stale yet')
  clock.advance(601)
  t.equal(await app.oauth.clearExpiredCimdApplications({ batchSize: 1 }), 1, 'the stale client without tokens')
  t.equal(await app.oauth.store.findApplicationByClientId(a), null)
  t.not(await app.oauth.store.findApplicationByClientId(b), null, 'the one holding a live refresh token stays')
  t.equal(serverContext(app.oauth).settings.cimdEnabled, true)
  t.equal((await authorize(app, a)).statusCode, 200, 'a deleted client that comes back is fetched anew')
  t.equal(docs.hits.get('/a.json'), 2)
})

async function refetchKeepsStaffSettings (t: Test, database?: string): Promise<void> {
  let extra: Record<string, unknown> = {}
  const { app, docs, clock } = await setup(t, (d) => ({
    '/c.json': (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=600' }).end(JSON.stringify(documentFor(`${d().origin}/c.json`, extra)))
    },
  }), database === undefined ? {} : { database })
  const clientId = `${docs.origin}/c.json`
  t.equal((await authorize(app, clientId)).statusCode, 200)
  const stored = await app.oauth.store.findApplicationByClientId(clientId)
  if (stored === null) throw new Error('not stored')
  const current = {
    clientType: stored.clientType,
    authorizationGrantType: stored.authorizationGrantType,
    name: stored.name,
    redirectUris: stored.redirectUris,
    postLogoutRedirectUris: stored.postLogoutRedirectUris,
    algorithm: stored.algorithm,
  }

  // What the staff pages send (views/admin.ts): the form as shown, plus the administrator-only settings.
  const staff = await app.oauth.updateApplication(stored.id, {
    ...current,
    requirePushedAuthorizationRequests: true,
    skipAuthorization: true,
    allowedOrigins: ['https://client.example.net'],
    backchannelLogoutUri: 'https://client.example.net/backchannel',
  })
  t.equal(staff?.application.requirePushedAuthorizationRequests, true, 'staff made the client push its requests (RFC 9126)')

  await t.test('staff cannot edit what the document says: the next fetch would undo it', async (t) => {
    for (const change of [{ name: 'Renamed by staff' }, { redirectUris: ['https://evil.example/cb'] }, { authorizationGrantType: 'openid-hybrid' }, { algorithm: 'RS256' }]) {
      const err = await app.oauth.updateApplication(stored.id, { ...current, ...change }).catch((e: unknown) => e)
      t.ok(err instanceof ApplicationValidationError, Object.keys(change).join())
      t.match((err as ApplicationValidationError).fields, { [Object.keys(change)[0] ?? '']: /metadata document/ })
    }
  })

  extra = { client_name: 'Renamed by its publisher', redirect_uris: [CALLBACK, 'https://client.example.net/other'] }
  clock.advance(601)
  const page = await authorize(app, clientId)
  t.equal(docs.hits.get('/c.json'), 2, 'the stale document was fetched again')
  t.equal(page.statusCode, 400, 'the staff requirement holds: a request not pushed through par/ is refused')
  const after = await app.oauth.store.findApplicationByClientId(clientId)
  t.equal(after?.name, 'Renamed by its publisher', 'the document\'s name applies')
  t.same(after?.redirectUris, [CALLBACK, 'https://client.example.net/other'], 'the document\'s redirect URIs apply')
  t.equal(after?.cimdExpiresAt?.getTime(), clock.now().getTime() + 600_000, 'kept for the new max-age')
  t.equal(after?.requirePushedAuthorizationRequests, true, 'a staff requirement survives the refetch')
  t.equal(after?.skipAuthorization, true, 'staff settings survive the refetch')
  t.same(after?.allowedOrigins, ['https://client.example.net'])
  t.equal(after?.backchannelLogoutUri, 'https://client.example.net/backchannel')

  extra = { ...extra, require_pushed_authorization_requests: false }
  clock.advance(601)
  await authorize(app, clientId)
  t.equal(docs.hits.get('/c.json'), 3)
  t.equal((await app.oauth.store.findApplicationByClientId(clientId))?.requirePushedAuthorizationRequests, true, 'a document cannot lift a staff requirement')

  await app.oauth.updateApplication(stored.id, { ...current, name: 'Renamed by its publisher', redirectUris: [CALLBACK, 'https://client.example.net/other'], requirePushedAuthorizationRequests: false })
  extra = { ...extra, require_pushed_authorization_requests: true }
  clock.advance(601)
  await authorize(app, clientId)
  t.equal((await app.oauth.store.findApplicationByClientId(clientId))?.requirePushedAuthorizationRequests, true, 'a document can add a requirement')
}

t.test('a refetch rewrites what the document says and keeps what staff set, SQLite', async (t) => { await refetchKeepsStaffSettings(t) })

t.test('a refetch rewrites what the document says and keeps what staff set, PostgreSQL', async (t) => {
  const url = await postgresTestDatabase(t)
  if (url !== null) await refetchKeepsStaffSettings(t, url)
})

t.test('RP-initiated logout fetches no document for a URL no flow has used, and refetches a stale one', async (t) => {
  const { app, docs, clock } = await setup(t, (d) => ({ '/c.json': served(d, '/c.json', { post_logout_redirect_uris: ['https://client.example.net/bye'] }) }), {
    settings: { oidcEnabled: true, oidcRpInitiatedLogoutEnabled: true, scopes: { openid: 'OpenID', read: 'Read your notes' } },
    build: { oidc: { privateKey: newRsaPem() }, logoutUser: () => {} },
  })
  const clientId = `${docs.origin}/c.json`
  const logout = `/o/logout/?${form({ client_id: clientId, post_logout_redirect_uri: 'https://client.example.net/bye' })}`
  const unseen = await app.inject(logout)
  t.equal(unseen.statusCode, 400, 'an unknown client')
  t.equal(docs.hits.get('/c.json'), undefined, 'nothing fetched')
  t.equal(await app.oauth.store.findApplicationByClientId(clientId), null, 'nothing stored')
  t.equal((await authorize(app, clientId)).statusCode, 200)
  t.equal((await app.inject(logout)).statusCode, 200, 'a stored client: the confirmation page')
  t.equal(docs.hits.get('/c.json'), 1)
  clock.advance(601)
  t.equal((await app.inject(logout)).statusCode, 200)
  t.equal(docs.hits.get('/c.json'), 2, 'a stale document is fetched again at logout')
})

t.test('staff\'s introspection permission survives a refetch while the client stays confidential, and goes when its document makes it public', async (t) => {
  let extra: Record<string, unknown> = { token_endpoint_auth_method: 'private_key_jwt', jwks_uri: 'https://client.example.net/jwks.json' }
  const { app, docs, clock } = await setup(t, (d) => ({
    '/k.json': (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=600' }).end(JSON.stringify(documentFor(`${d().origin}/k.json`, extra)))
    },
  }))
  const clientId = `${docs.origin}/k.json`
  t.equal((await authorize(app, clientId)).statusCode, 200)
  const stored = await app.oauth.store.findApplicationByClientId(clientId)
  if (stored === null) throw new Error('not stored')
  const { clientType, authorizationGrantType, name, redirectUris, postLogoutRedirectUris, algorithm } = stored
  await app.oauth.updateApplication(stored.id, { clientType, authorizationGrantType, name, redirectUris, postLogoutRedirectUris, algorithm, allowIntrospection: true })
  clock.advance(601)
  await authorize(app, clientId)
  t.equal(docs.hits.get('/k.json'), 2)
  t.equal((await app.oauth.store.findApplicationByClientId(clientId))?.allowIntrospection, true, 'kept')
  extra = {}
  clock.advance(601)
  await authorize(app, clientId)
  const after = await app.oauth.store.findApplicationByClientId(clientId)
  t.equal(after?.clientType, 'public', 'the document\'s new authentication method applies')
  t.equal(after?.allowIntrospection, false, 'a public client cannot keep the permission')
})
