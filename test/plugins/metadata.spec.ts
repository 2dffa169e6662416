// RFC 8414 authorization server metadata at the origin root.
import t from 'tap'
import { oauthMetadata, RFC9700_SETTINGS } from '../../index.js'
import { buildApp } from '../helpers/index.js'
import { passwordGrantOptions } from '../helpers/password-grant.js'

t.test('the document is served at the root with the prefix suffix, CORS * and derived values', async (t) => {
  const app = await buildApp(t)
  await app.register(oauthMetadata, { routesPrefix: '/o' })
  for (const url of ['/.well-known/oauth-authorization-server', '/.well-known/oauth-authorization-server/o']) {
    const res = await app.inject({ url, headers: { host: 'auth.example.com' } })
    t.equal(res.statusCode, 200, url)
    t.equal(res.headers['access-control-allow-origin'], '*')
    const body = res.json()
    t.equal(body.issuer, 'http://auth.example.com/o', 'derived from the request origin and the prefix')
    t.same(body.grant_types_supported, ['authorization_code', 'client_credentials', 'refresh_token'], 'no password grant while it is off')
    t.same(body.response_types_supported, ['code'])
    t.same(body.response_modes_supported, ['query', 'fragment', 'form_post'], 'every mode the authorization endpoint serves')
    t.same(body.code_challenge_methods_supported, ['S256'])
    t.equal(body.authorization_response_iss_parameter_supported, false)
    t.same(body.scopes_supported, ['read', 'write'])
  }
})

t.test('every advertised endpoint exists', async (t) => {
  const app = await buildApp(t)
  await app.register(oauthMetadata, { routesPrefix: '/o' })
  const body = (await app.inject({ url: '/.well-known/oauth-authorization-server', headers: { host: 'localhost' } })).json()
  for (const key of ['authorization_endpoint', 'token_endpoint', 'revocation_endpoint', 'introspection_endpoint']) {
    const path = new URL(body[key]).pathname
    const res = await app.inject({ method: key === 'authorization_endpoint' ? 'GET' : 'POST', url: path })
    t.not(res.statusCode, 404, `${key} ${path}`)
  }
})

t.test('a configured issuer is used as is, and the path suffix follows it', async (t) => {
  const app = await buildApp(t, { settings: { issuer: 'https://id.example.com/auth' } })
  await app.register(oauthMetadata, { routesPrefix: '/o' })
  const res = await app.inject({ url: '/.well-known/oauth-authorization-server/auth' })
  t.equal(res.statusCode, 200)
  t.equal(res.json().issuer, 'https://id.example.com/auth')
  t.equal(res.json().token_endpoint, 'https://id.example.com/auth/token/')
  t.equal((await app.inject({ url: '/.well-known/oauth-authorization-server/o' })).statusCode, 404)
})

t.test('the document follows the settings', async (t) => {
  const app = await buildApp(t, passwordGrantOptions({ settings: { pkcePlainAllowed: true, implicitGrantEnabled: true } }))
  await app.register(oauthMetadata)
  const body = (await app.inject({ url: '/.well-known/oauth-authorization-server' })).json()
  t.ok(body.grant_types_supported.includes('password'))
  t.ok(body.grant_types_supported.includes('implicit'))
  t.same(body.response_types_supported, ['code', 'token'])
  t.same(body.code_challenge_methods_supported, ['S256', 'plain'])
})

t.test('the RFC 9700 preset in one line', async (t) => {
  const app = await buildApp(t, { settings: { ...RFC9700_SETTINGS } })
  await app.register(oauthMetadata)
  const body = (await app.inject({ url: '/.well-known/oauth-authorization-server' })).json()
  t.equal(body.authorization_response_iss_parameter_supported, true)
  t.same(body.code_challenge_methods_supported, ['S256'])
  t.notOk(body.grant_types_supported.includes('password'))
  t.equal(app.oauth.settings.allowQueryStringTokens, false)
})

t.test('a bad issuer fails registration', async (t) => {
  for (const issuer of ['http://auth.example.com', 'https://auth.example.com/?x=1', 'https://auth.example.com/#f', 'auth.example.com', 'https://auth.example.com/']) {
    await t.rejects(buildApp(t, { settings: { issuer } }), { code: 'OAT_ERR_SETTINGS' }, issuer)
  }
})

t.test('without the core plugin, registration fails clearly', async (t) => {
  const { default: Fastify } = await import('fastify')
  const app = Fastify()
  t.teardown(() => app.close())
  await t.rejects(async () => { await app.register(oauthMetadata).ready() }, { code: 'OAT_ERR_PLUGIN_ORDER' })
})

t.test('RFC 9207: with authorizationResponseIss, authorization responses carry iss', async (t) => {
  const { buildAuthorizeApp, createCodeApplication, fetchConsent, postDecision, pkcePair, redirectParams, getAuthorize } = await import('../helpers/authorize.js')
  const app = await buildAuthorizeApp(t, { settings: { ...RFC9700_SETTINGS } })
  const created = await createCodeApplication(app)
  const { challenge } = pkcePair()
  const params = { response_type: 'code', client_id: created.application.clientId, redirect_uri: created.application.redirectUris[0] ?? '', code_challenge: challenge, code_challenge_method: 'S256', state: 's' }
  const host = { host: 'auth.example.com' }
  const approved = await postDecision(app, await fetchConsent(app, params))
  t.equal(redirectParams(approved).iss, 'http://localhost:80/o', 'on the code response (inject sends Host: localhost:80)')
  const error = await getAuthorize(app, { ...params, scope: 'unknown' }, undefined, host)
  t.equal(redirectParams(error).iss, 'http://auth.example.com/o', 'on error responses, from the request origin')
  const denied = await postDecision(app, await fetchConsent(app, params), { allow: false })
  t.ok(redirectParams(denied).iss !== undefined, 'on denials')

  const plain = await buildAuthorizeApp(t)
  const app2 = await createCodeApplication(plain)
  const res = await postDecision(plain, await fetchConsent(plain, { ...params, client_id: app2.application.clientId }))
  t.equal(redirectParams(res).iss, undefined, 'off by default (DOT parity)')
})

t.test('client authentication: private_key_jwt always, client_secret_jwt and HS* only with a sealing key, and the signing algorithms per endpoint', async (t) => {
  const read = async (options: Parameters<typeof buildApp>[1]): Promise<Record<string, string[]>> => {
    const app = await buildApp(t, options)
    await app.register(oauthMetadata, { routesPrefix: '/o' })
    return (await app.inject({ url: '/.well-known/oauth-authorization-server/o', headers: { host: 'localhost' } })).json()
  }
  const plain = await read({ settings: { clientAssertionSigningAlgorithms: ['ES256', 'PS256'] } })
  t.same(plain.token_endpoint_auth_methods_supported, ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'])
  t.same(plain.revocation_endpoint_auth_methods_supported, ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'])
  t.same(plain.introspection_endpoint_auth_methods_supported, ['client_secret_basic', 'client_secret_post', 'private_key_jwt'])
  for (const endpoint of ['token', 'revocation', 'introspection']) t.same(plain[`${endpoint}_endpoint_auth_signing_alg_values_supported`], ['ES256', 'PS256'], endpoint)
  const sealed = await read({ clientSecretSealingKey: 'e'.repeat(64) })
  t.same(sealed.token_endpoint_auth_methods_supported, ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'client_secret_jwt', 'none'])
  t.same(sealed.token_endpoint_auth_signing_alg_values_supported,
    ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519', 'HS256', 'HS384', 'HS512'])
  t.notOk(sealed.token_endpoint_auth_signing_alg_values_supported?.includes('none'))
})
