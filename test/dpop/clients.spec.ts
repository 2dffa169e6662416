// End to end over HTTP: oauth4webapi (a certified client library) speaks DPoP to the toolkit:
// client credentials, the authorization code flow through PAR with server nonces (and `dpop_jkt`),
// a bound refresh, and protected resource requests; openid-client does the client-credentials
// grant and a resource request.
import { createServer } from 'node:net'
import Fastify from 'fastify'
import * as oauth from 'oauth4webapi'
import * as openid from 'openid-client'
import { calculateJwkThumbprint, exportJWK } from 'jose'
import t, { type Test } from 'tap'
import { fastifyOAuthToolkit, oauthMetadata, oauthRoutes } from '../../index.js'
import { ALICE, testHasher } from '../helpers/index.js'
import { LOGIN_OPTIONS, REDIRECT_URI, obtainCode } from '../helpers/authorize.js'

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

/** A toolkit on a port of its own (a fresh one per test: the client's pooled connections to the last one are closed). */
async function startServer (t: Test, settings: Record<string, unknown> = {}) {
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  const issuer = `${base}/o`
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastifyOAuthToolkit, {
    database: ':memory:',
    migrate: true,
    hasher: testHasher,
    ...LOGIN_OPTIONS,
    dpopNonceKey: 'd'.repeat(64),
    settings: { issuer, dpopEnabled: true, ...settings },
  })
  await app.register(oauthRoutes, { prefix: '/o' })
  await app.register(oauthMetadata, { routesPrefix: '/o' })
  app.get('/api/hello', { onRequest: app.oauth.protect({ scopes: ['read'] }) }, async (request) => ({ hello: request.accessToken?.userId ?? 'client', jkt: request.accessToken?.jkt }))
  await app.listen({ port, host: '127.0.0.1' })
  return { app, base, issuer }
}

const http = { [oauth.allowInsecureRequests]: true }

/** Runs `request` and, on a `use_dpop_nonce` answer (the handle has kept the nonce), once more: what RFC 9449 §8 asks of clients. */
async function withNonceRetry<T> (request: () => Promise<T>): Promise<T> {
  try {
    return await request()
  } catch (err) {
    if (oauth.isDPoPNonceError(err)) return await request()
    throw err
  }
}

t.test('oauth4webapi: client credentials with DPoP, then a protected resource request', async (t) => {
  const { app, base, issuer } = await startServer(t)
  const created = await app.oauth.createApplication({ clientType: 'confidential', authorizationGrantType: 'client-credentials', name: 'DPoP service' })
  const as = await oauth.processDiscoveryResponse(new URL(issuer), await oauth.discoveryRequest(new URL(issuer), { algorithm: 'oauth2', ...http }))
  t.ok(as.dpop_signing_alg_values_supported?.includes('ES256'), 'discovery advertises DPoP')
  const client: oauth.Client = { client_id: created.application.clientId }
  const auth = oauth.ClientSecretBasic(created.clientSecret ?? '')
  const keyPair = await oauth.generateKeyPair('ES256')
  const DPoP = oauth.DPoP(client, keyPair)
  const tokens = await oauth.processClientCredentialsResponse(as, client,
    await oauth.clientCredentialsGrantRequest(as, client, auth, { scope: 'read' }, { DPoP, ...http }))
  t.equal(tokens.token_type, 'dpop')
  const res = await oauth.protectedResourceRequest(tokens.access_token, 'GET', new URL(`${base}/api/hello`), new Headers(), null, { DPoP, ...http })
  t.equal(res.status, 200)
  t.same(await res.json(), { hello: 'client', jkt: await calculateJwkThumbprint(await exportJWK(keyPair.publicKey), 'sha256') })
  // The same token as Bearer: refused (RFC 9449 §7.2).
  const bearer = await fetch(`${base}/api/hello`, { headers: { authorization: `Bearer ${tokens.access_token}` } })
  t.equal(bearer.status, 403)
})

t.test('oauth4webapi: authorization code through PAR with server nonces, dpop_jkt, and a bound refresh', async (t) => {
  const { app, base, issuer } = await startServer(t, { dpopNonceRequired: true })
  const created = await app.oauth.createApplication({ clientType: 'public', authorizationGrantType: 'authorization-code', name: 'DPoP SPA', redirectUris: [REDIRECT_URI], dpopBoundAccessTokens: true })
  const as = await oauth.processDiscoveryResponse(new URL(issuer), await oauth.discoveryRequest(new URL(issuer), { algorithm: 'oauth2', ...http }))
  const client: oauth.Client = { client_id: created.application.clientId }
  const auth = oauth.None()
  const keyPair = await oauth.generateKeyPair('ES256')
  const DPoP = oauth.DPoP(client, keyPair)
  const codeVerifier = oauth.generateRandomCodeVerifier()
  const params = new URLSearchParams({
    client_id: client.client_id,
    response_type: 'code',
    redirect_uri: REDIRECT_URI,
    scope: 'read',
    state: 'xyz',
    code_challenge: await oauth.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    dpop_jkt: await DPoP.calculateThumbprint(),
  })
  // PAR with a proof: the first answer asks for the nonce, the retry carries it.
  const pushed = await withNonceRetry(async () => await oauth.processPushedAuthorizationResponse(as, client,
    await oauth.pushedAuthorizationRequest(as, client, auth, params, { DPoP, ...http })))
  // The browser leg through the consent page (in process; the client library has no part in it).
  const code = await obtainCode(app, { client_id: client.client_id, request_uri: pushed.request_uri })
  const callback = oauth.validateAuthResponse(as, client, new URLSearchParams({ code, state: 'xyz' }), 'xyz')
  const tokens = await withNonceRetry(async () => await oauth.processAuthorizationCodeResponse(as, client,
    await oauth.authorizationCodeGrantRequest(as, client, auth, callback, REDIRECT_URI, codeVerifier, { DPoP, ...http })))
  t.equal(tokens.token_type, 'dpop')
  t.ok(tokens.refresh_token)
  const call = async (token: string): Promise<Response> => await withNonceRetry(async () => {
    const res = await oauth.protectedResourceRequest(token, 'GET', new URL(`${base}/api/hello`), new Headers(), null, { DPoP, ...http })
    return res
  })
  const res = await call(tokens.access_token)
  t.equal(res.status, 200)
  t.equal((await res.json() as { hello: string }).hello, ALICE.id)
  // RFC 9449 §5: the public client's refresh token is bound; the same key refreshes it.
  const refreshed = await withNonceRetry(async () => await oauth.processRefreshTokenResponse(as, client,
    await oauth.refreshTokenGrantRequest(as, client, auth, tokens.refresh_token ?? '', { DPoP, ...http })))
  t.equal(refreshed.token_type, 'dpop')
  t.equal((await call(refreshed.access_token)).status, 200)
  // Another key (a thief holding the refresh token) cannot refresh.
  const thief = oauth.DPoP(client, await oauth.generateKeyPair('ES256'))
  const stolen = await withNonceRetry(async () => await oauth.processRefreshTokenResponse(as, client,
    await oauth.refreshTokenGrantRequest(as, client, auth, refreshed.refresh_token ?? '', { DPoP: thief, ...http }))).catch((err: unknown) => err)
  t.match(stolen, { error: 'invalid_grant' })
  // Without a proof the client registered for DPoP gets nothing (dpop_bound_access_tokens).
  const noProof = await oauth.processRefreshTokenResponse(as, client,
    await oauth.refreshTokenGrantRequest(as, client, auth, refreshed.refresh_token ?? '', http)).catch((err: unknown) => err)
  t.match(noProof, { error: 'invalid_dpop_proof' })
})

t.test('openid-client: client credentials with DPoP and a resource request', async (t) => {
  const { app, base, issuer } = await startServer(t)
  const created = await app.oauth.createApplication({ clientType: 'confidential', authorizationGrantType: 'client-credentials', name: 'openid-client' })
  const config = await openid.discovery(new URL(issuer), created.application.clientId, created.clientSecret ?? '', undefined, { execute: [openid.allowInsecureRequests], algorithm: 'oauth2' })
  const DPoP = openid.getDPoPHandle(config, await openid.randomDPoPKeyPair())
  const tokens = await openid.clientCredentialsGrant(config, { scope: 'read' }, { DPoP })
  t.equal(tokens.token_type, 'dpop')
  const res = await openid.fetchProtectedResource(config, tokens.access_token, new URL(`${base}/api/hello`), 'GET', undefined, undefined, { DPoP })
  t.equal(res.status, 200)
})
