// Real clients authenticating with JWTs (RFC 7523, OIDC Core §9): oauth4webapi's PrivateKeyJwt
// with keys the server fetches from a jwks_uri on a local HTTPS server (a self-signed
// certificate trusted through `outboundHttp.ca`), key rotation and its refetch limit, and
// openid-client's ClientSecretJwt and PrivateKeyJwt, the latter for a dynamically registered
// client.
import type { AddressInfo } from 'node:net'
import { exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose'
import * as oauth from 'oauth4webapi'
import * as client from 'openid-client'
import t from 'tap'
import { oauthMetadata } from '../../index.js'
import { buildApp, createApplication } from '../helpers/index.js'
import { startDocumentServer } from '../helpers/https-server.js'

const SEALING_KEY = 'b'.repeat(64)
const INITIAL_ACCESS_TOKEN = 'initial-access-token-for-the-jwt-client-test-0123456789'

interface Key { privateKey: CryptoKey, jwk: JWK, kid: string }

async function es256 (kid: string): Promise<Key> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true })
  return { privateKey, kid, jwk: { ...await exportJWK(publicKey), kid, alg: 'ES256', use: 'sig' } }
}

t.test('JWT client authentication with real clients', async (t) => {
  const first = await es256('k1')
  const second = await es256('k2')
  let published: JWK[] = [first.jwk]
  const documents = await startDocumentServer(t, {
    '/jwks.json': (_req, res) => { res.writeHead(200, { 'content-type': 'application/jwk-set+json' }).end(JSON.stringify({ keys: published })) },
  })
  // The server's clock runs with the real one, shifted on demand: the refetch window is waited
  // out by moving the clock, never by sleeping, so the test does not depend on how fast a loaded
  // machine runs it.
  let offsetMs = 0
  const clock = { now: () => new Date(Date.now() + offsetMs) }
  const app = await buildApp(t, {
    clock,
    clientSecretSealingKey: SEALING_KEY,
    initialAccessTokens: [INITIAL_ACCESS_TOKEN],
    outboundHttp: { ca: documents.certificate.cert, allowPrivateAddresses: true },
    settings: { dcrEnabled: true, dcrRegistrationPolicy: 'initial-access-token', jwksUriRefetchSeconds: 60 },
  })
  await app.register(oauthMetadata, { routesPrefix: '/o' })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
  const issuer = `${base}/o`
  const as: oauth.AuthorizationServer = {
    issuer,
    token_endpoint: `${issuer}/token/`,
    introspection_endpoint: `${issuer}/introspect/`,
    revocation_endpoint: `${issuer}/revoke-token/`,
  }
  const http = { [oauth.allowInsecureRequests]: true }

  const { application } = await createApplication(app, { tokenEndpointAuthMethod: 'private_key_jwt', jwksUri: `${documents.origin}/jwks.json` })
  const keyed: oauth.Client = { client_id: application.clientId }
  const tokenWith = async (key: Key): Promise<Response> =>
    await oauth.clientCredentialsGrantRequest(as, keyed, oauth.PrivateKeyJwt({ key: key.privateKey, kid: key.kid }), new URLSearchParams(), http)

  await t.test('oauth4webapi PrivateKeyJwt, keys from the jwks_uri: token, introspection, revocation', async (t) => {
    const response = await tokenWith(first)
    const tokens = await oauth.processClientCredentialsResponse(as, keyed, response)
    t.equal(tokens.token_type, 'bearer')
    t.equal(documents.hits.get('/jwks.json'), 1, 'the JWK Set was fetched once')
    const auth = oauth.PrivateKeyJwt({ key: first.privateKey, kid: first.kid })
    const introspection = await oauth.processIntrospectionResponse(as, keyed,
      await oauth.introspectionRequest(as, keyed, auth, tokens.access_token, http))
    t.equal(introspection.active, true)
    t.equal(introspection.client_id, application.clientId)
    await oauth.processRevocationResponse(await oauth.revocationRequest(as, keyed, auth, tokens.access_token, http))
    const after = await oauth.processIntrospectionResponse(as, keyed, await oauth.introspectionRequest(as, keyed, auth, tokens.access_token, http))
    t.equal(after.active, false, 'revoked')
    t.equal(documents.hits.get('/jwks.json'), 1, 'later requests used the cached JWK Set')
  })

  await t.test('key rotation: an unknown kid refetches the jwks_uri, at most once per jwksUriRefetchSeconds', async (t) => {
    published = [second.jwk]
    const tooSoon = await tokenWith(second)
    t.equal(tooSoon.status, 401, 'within jwksUriRefetchSeconds of the last fetch the cached keys stand')
    t.equal(documents.hits.get('/jwks.json'), 1, 'no fetch')
    // 61 s later, for the server and for the client's assertions (oauth4webapi's clock skew).
    offsetMs = 61_000
    keyed[oauth.clockSkew] = 61
    t.teardown(() => { offsetMs = 0; keyed[oauth.clockSkew] = 0 })
    const rotated = await tokenWith(second)
    t.equal(rotated.status, 200, 'the new key is fetched and accepted')
    t.equal(documents.hits.get('/jwks.json'), 2)
    const stranger = await es256('k3')
    for (let i = 0; i < 5; i++) t.equal((await tokenWith(stranger)).status, 401, 'a key that does not exist')
    t.equal(documents.hits.get('/jwks.json'), 2, 'unknown kids did not make the server fetch on every request')
    t.equal((await tokenWith(first)).status, 401, 'the retired key no longer works')
    offsetMs = 0
    keyed[oauth.clockSkew] = 0
  })

  await t.test('openid-client ClientSecretJwt', async (t) => {
    const created = await createApplication(app, { tokenEndpointAuthMethod: 'client_secret_jwt', tokenEndpointAuthSigningAlg: 'HS256' })
    const config = new client.Configuration({ issuer, token_endpoint: `${issuer}/token/` }, created.application.clientId, {},
      client.ClientSecretJwt(created.clientSecret ?? ''))
    client.allowInsecureRequests(config)
    const tokens = await client.clientCredentialsGrant(config)
    t.type(tokens.access_token, 'string')
    const wrong = new client.Configuration({ issuer, token_endpoint: `${issuer}/token/` }, created.application.clientId, {},
      client.ClientSecretJwt('not-the-secret-not-the-secret-not-the-secret'))
    client.allowInsecureRequests(wrong)
    const refused = await client.clientCredentialsGrant(wrong).then(() => null, (err: unknown) => err)
    t.ok(refused instanceof client.ResponseBodyError, 'an RFC 6749 §5.2 error body')
    t.equal((refused as client.ResponseBodyError).error, 'invalid_client')
  })

  await t.test('openid-client registers a private_key_jwt client dynamically, then authenticates with its key', async (t) => {
    const key = await es256('reg-1')
    const config = await client.dynamicClientRegistration(new URL(issuer), {
      grant_types: ['client_credentials'],
      response_types: [],
      token_endpoint_auth_method: 'private_key_jwt',
      token_endpoint_auth_signing_alg: 'ES256',
      jwks: { keys: [key.jwk] },
    }, client.PrivateKeyJwt({ key: key.privateKey, kid: key.kid }), {
      algorithm: 'oauth2', initialAccessToken: INITIAL_ACCESS_TOKEN, execute: [client.allowInsecureRequests],
    })
    const metadata = config.clientMetadata()
    t.equal(metadata.token_endpoint_auth_method, 'private_key_jwt')
    t.equal(metadata.client_secret, undefined, 'no secret for a client that signs with its key')
    t.same(metadata.jwks, { keys: [key.jwk] })
    const discovered = config.serverMetadata()
    t.ok(discovered.token_endpoint_auth_methods_supported?.includes('private_key_jwt'))
    t.ok(discovered.token_endpoint_auth_methods_supported?.includes('client_secret_jwt'))
    t.ok(discovered.token_endpoint_auth_signing_alg_values_supported?.includes('ES256'))
    const tokens = await client.clientCredentialsGrant(config)
    t.type(tokens.access_token, 'string')
  })
})
