// OpenID Connect discovery and the JWKS: where they are served, what they say, and that ID
// tokens verify against the key set served (OIDC Discovery §3–4, OIDC Core §10.1.1).
import { createLocalJWKSet, jwtVerify } from 'jose'
import t from 'tap'
import { oauthMetadata } from '../../index.js'
import { serverContext } from '../../lib/server.js'
import { buildAuthorizeApp } from '../helpers/authorize.js'
import { buildOidcApp, createOidcApplication, newRsaPem, oidcCodeFlow, oidcSettings, verifyIdToken } from './support.js'

const DISCOVERY = '/o/.well-known/openid-configuration'

t.test('discovery under the routes prefix: every field, consistent with the RFC 8414 document', async (t) => {
  const app = await buildOidcApp(t)
  await app.register(oauthMetadata, { routesPrefix: '/o' })
  for (const url of [DISCOVERY, `${DISCOVERY}/`]) {
    const res = await app.inject({ url })
    t.equal(res.statusCode, 200, url)
    t.equal(res.headers['access-control-allow-origin'], '*')
    t.equal(res.headers['cache-control'], 'public, max-age=3600')
  }
  const body = (await app.inject({ url: DISCOVERY })).json()
  const rfc8414 = (await app.inject({ url: '/.well-known/oauth-authorization-server/o' })).json()
  t.match(body, rfc8414, 'every RFC 8414 field has the same value in both documents')
  t.same(body, {
    ...rfc8414,
    issuer: 'https://auth.example.com/o',
    jwks_uri: 'https://auth.example.com/o/.well-known/jwks.json',
    userinfo_endpoint: 'https://auth.example.com/o/userinfo/',
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['RS256'],
    userinfo_signing_alg_values_supported: ['RS256'],
    claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'at_hash', 'jti', 'sid'],
    claims_parameter_supported: false,
    prompt_values_supported: ['none', 'login', 'consent'],
    // OpenID Connect Back-Channel Logout 1.0 §2.1.
    backchannel_logout_supported: true,
    backchannel_logout_session_supported: true,
  })
  // The implicit grant is off by default: no response type that returns an access token (CONF-2).
  t.same(body.response_types_supported, ['code', 'code id_token'], 'only what is implemented')
  t.same(body.response_modes_supported, ['query', 'fragment', 'form_post'])
  t.same(body.scopes_supported, ['openid', 'profile', 'email', 'address', 'phone', 'read', 'write'])
  t.equal(rfc8414.jwks_uri, body.jwks_uri, 'RFC 8414 names the JWKS too')
  // RFC 9101 §10.5 / RFC 8414 §7.1.2: request objects by value, verified with the client's keys; never fetched by reference.
  t.equal(body.request_parameter_supported, true)
  t.equal(body.request_uri_parameter_supported, false)
  t.equal(body.require_signed_request_object, false)
  t.same(body.request_object_signing_alg_values_supported, body.token_endpoint_auth_signing_alg_values_supported, 'the algorithms of client assertions, no none')
})

t.test('claims_supported lists the standard claims of the known scopes once the host gives getUserClaims', async (t) => {
  const app = await buildOidcApp(t, { oidc: { privateKey: newRsaPem(), getUserClaims: () => ({}) }, settings: { scopes: { openid: 'o', email: 'e' } } })
  const body = (await app.inject({ url: DISCOVERY })).json()
  t.same(body.claims_supported, ['sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'at_hash', 'jti', 'sid', 'email', 'email_verified'])
})

t.test('every advertised OIDC endpoint exists', async (t) => {
  const app = await buildOidcApp(t, { settings: { issuer: null } })
  const body = (await app.inject({ url: DISCOVERY, headers: { host: 'localhost' } })).json()
  t.equal(body.issuer, 'http://localhost/o', 'derived from the request and the prefix')
  for (const key of ['jwks_uri', 'userinfo_endpoint', 'authorization_endpoint', 'token_endpoint']) {
    const res = await app.inject({ url: new URL(body[key]).pathname })
    t.not(res.statusCode, 404, key)
  }
})

t.test('a configured issuer with another path: discovery at {issuer}/.well-known/openid-configuration too', async (t) => {
  const app = await buildOidcApp(t, { settings: { issuer: 'https://id.example.com/auth' } })
  await app.register(oauthMetadata, { routesPrefix: '/o' })
  for (const url of ['/auth/.well-known/openid-configuration', DISCOVERY]) {
    const res = await app.inject({ url })
    t.equal(res.statusCode, 200, url)
    t.equal(res.json().issuer, 'https://id.example.com/auth')
  }
})

t.test('with OIDC off: discovery, JWKS and UserInfo are 404 (DOT parity), the RFC 8414 document has no jwks_uri', async (t) => {
  const app = await buildAuthorizeApp(t)
  await app.register(oauthMetadata)
  for (const url of [DISCOVERY, '/o/.well-known/jwks.json', '/o/userinfo/']) t.equal((await app.inject({ url })).statusCode, 404, url)
  t.equal((await app.inject({ url: '/.well-known/oauth-authorization-server' })).json().jwks_uri, undefined)
})

t.test('the JWKS: active and inactive public keys, cacheable, CORS *; tokens verify against it across a rotation (JOSE-3)', async (t) => {
  const oldKey = newRsaPem()
  const newKey = newRsaPem()
  const before = await buildOidcApp(t, { oidc: { privateKey: oldKey } })
  const created = await createOidcApplication(before)
  const tokenA = (await oidcCodeFlow(before, created)).id_token ?? ''
  await before.close()

  // The same database, the key rotated: the old one is now inactive.
  const app = await buildOidcApp(t, { oidc: { privateKey: newKey, inactiveKeys: [oldKey] } })
  const again = await app.oauth.createApplication({ clientType: 'confidential', authorizationGrantType: 'authorization-code', redirectUris: [created.application.redirectUris[0] ?? ''] })
  const tokenB = (await oidcCodeFlow(app, again)).id_token ?? ''
  const res = await app.inject({ url: '/o/.well-known/jwks.json' })
  t.equal(res.statusCode, 200)
  t.equal(res.headers['cache-control'], 'public, max-age=3600')
  t.equal(res.headers['access-control-allow-origin'], '*')
  t.match(res.headers['content-type'], /^application\/json/)
  const jwks = res.json<{ keys: Array<Record<string, unknown>> }>()
  t.equal(jwks.keys.length, 2)
  t.equal(jwks.keys[0]?.kid, serverContext(app.oauth).oidc?.keys.kid, 'the active key first')
  for (const key of jwks.keys) {
    t.same(Object.keys(key).sort(), ['alg', 'e', 'kid', 'kty', 'n', 'use'], 'no private members (d, p, q, …)')
    t.match(key, { kty: 'RSA', alg: 'RS256', use: 'sig' })
  }
  const a = await verifyIdToken(jwks, tokenA, created.application.clientId, new Date())
  const b = await verifyIdToken(jwks, tokenB, again.application.clientId, new Date())
  t.not(a.protectedHeader.kid, b.protectedHeader.kid, 'new tokens use the new kid')
  t.equal(b.protectedHeader.kid, jwks.keys[0]?.kid)
  await t.rejects(jwtVerify(tokenA, createLocalJWKSet({ keys: [jwks.keys[0] as never] }), { currentDate: new Date() }), 'the old token needs the old key')
})

t.test('discovery and JWKS are refused without OIDC scopes config: oidcEnabled needs openid', async (t) => {
  await t.rejects(buildAuthorizeApp(t, { settings: { ...oidcSettings(), scopes: { read: 'r' } }, oidc: { privateKey: newRsaPem() } }), { code: 'OAT_ERR_SETTINGS' })
})
