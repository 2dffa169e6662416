// JWT client authentication (RFC 7523 §3, OIDC Core §9) attacked: every assertion that must
// not authenticate a client gets 401 invalid_client (or 400 invalid_request for a malformed
// request), never a 500 and never a token. Assertions are made by hand with jose, so each
// probe changes exactly one thing of an otherwise valid assertion.
import { createHmac, randomUUID } from 'node:crypto'
import Fastify, { type FastifyInstance, type LightMyRequestResponse } from 'fastify'
import { SignJWT, type CryptoKey, type JWTPayload } from 'jose'
import t, { type Test } from 'tap'
import { fastifyOAuthToolkit, oauthRoutes } from '../../index.js'
import { CLIENT_ASSERTION_TYPE } from '../../lib/validator/client-assertion.js'
import { assertTokenError, basicAuth, buildApp, createApplication, databasePath, fixedClock, form, FORM, invalidRequest, testHasher, TOKEN_ERRORS } from '../helpers/index.js'
import { clientKey, type ClientKey } from '../helpers/client-keys.js'

const ISSUER = 'https://as.example.com/o'
const NOW = '2026-03-01T12:00:00.000Z'
const SEALING_KEY = 'a'.repeat(64)

type Keys = ClientKey
const keyPair = clientKey

interface Fixture {
  app: FastifyInstance
  clock: ReturnType<typeof fixedClock>
  es: Keys
  clientId: string
  /** A client_secret_jwt client and its secret. */
  hmac: { clientId: string, secret: string }
}

async function fixture (t: Test, settings: Record<string, unknown> = {}): Promise<Fixture> {
  const clock = fixedClock(NOW)
  const app = await buildApp(t, { clock, clientSecretSealingKey: SEALING_KEY, settings: { issuer: ISSUER, deviceFlowEnabled: true, rateLimitFailures: null, ...settings } })
  const es = await keyPair('ES256', 'es-1')
  const { application } = await createApplication(app, { tokenEndpointAuthMethod: 'private_key_jwt', jwks: JSON.stringify({ keys: [es.jwk] }) })
  const hmac = await createApplication(app, { tokenEndpointAuthMethod: 'client_secret_jwt' })
  return { app, clock, es, clientId: application.clientId, hmac: { clientId: hmac.application.clientId, secret: hmac.clientSecret ?? '' } }
}

/** A valid assertion for `clientId` at `NOW`, with `claims` overriding (undefined removes one). */
async function assertion (key: CryptoKey | Uint8Array, clientId: string, claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}): Promise<string> {
  const now = Math.floor(new Date(NOW).getTime() / 1000)
  const payload: Record<string, unknown> = { iss: clientId, sub: clientId, aud: ISSUER, jti: randomUUID(), iat: now, exp: now + 60, ...claims }
  for (const [k, v] of Object.entries(payload)) if (v === undefined) Reflect.deleteProperty(payload, k)
  const alg = (header.alg as string | undefined) ?? (key instanceof Uint8Array ? 'HS256' : 'ES256')
  return await new SignJWT(payload as JWTPayload).setProtectedHeader({ kid: 'es-1', ...header, alg }).sign(key)
}

async function tokenWith (app: FastifyInstance, params: Record<string, string | string[]>, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  return await app.inject({ method: 'POST', url: '/o/token/', payload: form({ grant_type: 'client_credentials', ...params }), headers: { ...FORM, ...headers } })
}

function assertionParams (jwt: string): Record<string, string> {
  return { client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: jwt }
}

t.test('a valid private_key_jwt and client_secret_jwt assertion get a token; the same assertion twice does not', async (t) => {
  const f = await fixture(t)
  const jwt = await assertion(f.es.privateKey, f.clientId)
  t.equal((await tokenWith(f.app, assertionParams(jwt))).statusCode, 200, 'private_key_jwt')
  assertTokenError(t, await tokenWith(f.app, assertionParams(jwt)), 401, TOKEN_ERRORS.invalidClient, 'the replayed jti')
  const hs = await assertion(new TextEncoder().encode(f.hmac.secret), f.hmac.clientId)
  t.equal((await tokenWith(f.app, assertionParams(hs))).statusCode, 200, 'client_secret_jwt')
  assertTokenError(t, await tokenWith(f.app, assertionParams(hs)), 401, TOKEN_ERRORS.invalidClient, 'client_secret_jwt replayed')
})

t.test('refused assertions: 401 invalid_client, whatever is wrong', async (t) => {
  const f = await fixture(t)
  const now = Math.floor(new Date(NOW).getTime() / 1000)
  const other = await keyPair('ES256', 'es-1')
  const rsa = await keyPair('RS256', 'es-1')
  const secret = new TextEncoder().encode(f.hmac.secret)
  const cases: Array<[string, Promise<string>]> = [
    ['expired', assertion(f.es.privateKey, f.clientId, { iat: now - 600, exp: now - 300 })],
    ['missing exp', assertion(f.es.privateKey, f.clientId, { exp: undefined })],
    ['exp too far ahead (longer than clientAssertionMaxLifetimeSeconds)', assertion(f.es.privateKey, f.clientId, { iat: undefined, exp: now + 3600 })],
    ['lives too long from iat', assertion(f.es.privateKey, f.clientId, { iat: now - 400, exp: now + 60 })],
    ['iat in the future', assertion(f.es.privateKey, f.clientId, { iat: now + 120, exp: now + 180 })],
    ['nbf in the future', assertion(f.es.privateKey, f.clientId, { nbf: now + 120 })],
    ['missing jti', assertion(f.es.privateKey, f.clientId, { jti: undefined })],
    ['wrong audience (another server)', assertion(f.es.privateKey, f.clientId, { aud: 'https://other.example.com/o' })],
    ['token endpoint URL as audience (legacy setting off)', assertion(f.es.privateKey, f.clientId, { aud: `${ISSUER}/token/` })],
    ['issuer among other audiences (legacy setting off)', assertion(f.es.privateKey, f.clientId, { aud: [ISSUER, 'https://other.example.com'] })],
    ['missing aud', assertion(f.es.privateKey, f.clientId, { aud: undefined })],
    ['iss is not the client', assertion(f.es.privateKey, f.clientId, { iss: 'someone-else' })],
    ['missing iss', assertion(f.es.privateKey, f.clientId, { iss: undefined })],
    ['sub names an unknown client', assertion(f.es.privateKey, 'no-such-client')],
    ['signed by another key under the same kid', assertion(other.privateKey, f.clientId)],
    ['unknown kid', assertion(f.es.privateKey, f.clientId, {}, { kid: 'rotated-away' })],
    ['RS256 where the client registered an ES256 key only', assertion(rsa.privateKey, f.clientId, {}, { alg: 'RS256' })],
    ['HS256 by a private_key_jwt client (its public key as the MAC key)', assertion(new TextEncoder().encode(JSON.stringify(f.es.jwk)), f.clientId)],
    ['typ of another kind of JWT', assertion(f.es.privateKey, f.clientId, {}, { typ: 'at+jwt' })],
    ['a numeric typ', assertion(f.es.privateKey, f.clientId, {}, { typ: 7 })],
    ['client_secret_jwt MACed with a wrong secret', assertion(new TextEncoder().encode('x'.repeat(64)), f.hmac.clientId)],
    ['client_secret_jwt with an asymmetric alg', assertion(f.es.privateKey, f.hmac.clientId)],
    ['client_secret_jwt client signs HS256 but says it is someone else', assertion(secret, f.hmac.clientId, { sub: f.clientId })],
  ]
  for (const [what, made] of cases) assertTokenError(t, await tokenWith(f.app, assertionParams(await made)), 401, TOKEN_ERRORS.invalidClient, what)

  // alg "none": an unsigned JWT.
  const unsigned = [
    Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url'),
    Buffer.from(JSON.stringify({ iss: f.clientId, sub: f.clientId, aud: ISSUER, jti: 'n1', exp: now + 60 })).toString('base64url'),
    '',
  ].join('.')
  assertTokenError(t, await tokenWith(f.app, assertionParams(unsigned)), 401, TOKEN_ERRORS.invalidClient, 'alg none')
  // A critical header parameter this server does not understand (jose will not sign one, so the MAC is made here).
  const critInput = [
    Buffer.from(JSON.stringify({ alg: 'HS256', crit: ['exp2'], exp2: 1 })).toString('base64url'),
    Buffer.from(JSON.stringify({ iss: f.hmac.clientId, sub: f.hmac.clientId, aud: ISSUER, jti: 'c1', iat: now, exp: now + 60 })).toString('base64url'),
  ].join('.')
  const crit = `${critInput}.${createHmac('sha256', f.hmac.secret).update(critInput).digest('base64url')}`
  assertTokenError(t, await tokenWith(f.app, assertionParams(crit)), 401, TOKEN_ERRORS.invalidClient, 'crit header')
  for (const garbage of ['not-a-jwt', 'a.b.c', 'x'.repeat(20000), 'eyJhbGciOiJFUzI1NiJ9.\u0000\u0001.sig', '..']) {
    assertTokenError(t, await tokenWith(f.app, assertionParams(garbage)), 401, TOKEN_ERRORS.invalidClient, `garbage ${garbage.slice(0, 12)}`)
  }
})

t.test('request-level mistakes: two methods at once, a wrong or missing assertion type, repeated parameters', async (t) => {
  const f = await fixture(t)
  const jwt = await assertion(f.es.privateKey, f.clientId)
  const twoMethods = invalidRequest('Use only one client authentication method.')
  assertTokenError(t, await tokenWith(f.app, assertionParams(jwt), { authorization: basicAuth(f.hmac.clientId, f.hmac.secret) }), 400, twoMethods, 'assertion and Basic')
  assertTokenError(t, await tokenWith(f.app, { ...assertionParams(jwt), client_secret: 'anything' }), 400, twoMethods, 'assertion and client_secret')
  assertTokenError(t, await tokenWith(f.app, { client_assertion: jwt }), 400, invalidRequest('client_assertion and client_assertion_type go together.'), 'no type')
  assertTokenError(t, await tokenWith(f.app, { client_assertion_type: CLIENT_ASSERTION_TYPE }), 400, invalidRequest('client_assertion and client_assertion_type go together.'), 'no assertion')
  assertTokenError(t, await tokenWith(f.app, { client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:saml2-bearer', client_assertion: jwt }),
    401, TOKEN_ERRORS.invalidClient, 'SAML assertion type')
  assertTokenError(t, await tokenWith(f.app, { client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: [jwt, jwt] }), 400,
    invalidRequest('Parameter repeated: client_assertion.'), 'repeated assertion')
  assertTokenError(t, await tokenWith(f.app, { ...assertionParams(jwt), client_id: f.hmac.clientId }), 401, TOKEN_ERRORS.invalidClient, 'client_id of another client')
  t.equal((await tokenWith(f.app, { ...assertionParams(jwt), client_id: f.clientId })).statusCode, 200, 'client_id of the same client is fine (RFC 7521 §4.2)')
})

t.test('the registered method is the only one', async (t) => {
  const f = await fixture(t)
  // A private_key_jwt client has no secret: Basic with anything fails.
  assertTokenError(t, await tokenWith(f.app, {}, { authorization: basicAuth(f.clientId, 'guess') }), 401, TOKEN_ERRORS.invalidClient, 'private_key_jwt client with Basic')
  // A client_secret_jwt client may not send its secret itself.
  const basic = await tokenWith(f.app, {}, { authorization: basicAuth(f.hmac.clientId, f.hmac.secret) })
  t.equal(basic.statusCode, 401, 'client_secret_jwt client with Basic')
  // A client_secret_basic client cannot switch to assertions, even with a key it registered.
  const es = await keyPair('ES256', 'es-1')
  const { application } = await createApplication(f.app, { tokenEndpointAuthMethod: 'client_secret_basic' })
  assertTokenError(t, await tokenWith(f.app, assertionParams(await assertion(es.privateKey, application.clientId))), 401, TOKEN_ERRORS.invalidClient, 'client_secret_basic client with an assertion')
  // An application with no registered method but a sealed secret (HS256 ID tokens) may use client_secret_jwt; without keys, never private_key_jwt.
  const open = await createApplication(f.app, {})
  assertTokenError(t, await tokenWith(f.app, assertionParams(await assertion(es.privateKey, open.application.clientId))), 401, TOKEN_ERRORS.invalidClient, 'no keys registered')
  // A public client proves nothing with an assertion.
  const pub = await createApplication(f.app, { clientType: 'public', authorizationGrantType: 'authorization-code', redirectUris: 'https://app.example.com/cb' })
  assertTokenError(t, await tokenWith(f.app, assertionParams(await assertion(es.privateKey, pub.application.clientId))), 401, TOKEN_ERRORS.invalidClient, 'public client')
})

t.test('token_endpoint_auth_signing_alg narrows the algorithms to one', async (t) => {
  const f = await fixture(t)
  const rsa = await keyPair('PS256', 'ps-1')
  const es = await keyPair('ES256', 'es-2')
  const { application } = await createApplication(f.app, {
    tokenEndpointAuthMethod: 'private_key_jwt', jwks: JSON.stringify({ keys: [rsa.jwk, es.jwk] }), tokenEndpointAuthSigningAlg: 'PS256',
  })
  assertTokenError(t, await tokenWith(f.app, assertionParams(await assertion(es.privateKey, application.clientId, {}, { kid: 'es-2' }))), 401, TOKEN_ERRORS.invalidClient, 'ES256 refused')
  t.equal((await tokenWith(f.app, assertionParams(await assertion(rsa.privateKey, application.clientId, {}, { alg: 'PS256', kid: 'ps-1' })))).statusCode, 200, 'PS256 accepted')
})

t.test('clientAssertionLegacyAudience accepts the token endpoint URL and the issuer among others', async (t) => {
  const f = await fixture(t, { clientAssertionLegacyAudience: true })
  for (const aud of [`${ISSUER}/token/`, [ISSUER, `${ISSUER}/token/`]]) {
    t.equal((await tokenWith(f.app, assertionParams(await assertion(f.es.privateKey, f.clientId, { aud })))).statusCode, 200, JSON.stringify(aud))
  }
  assertTokenError(t, await tokenWith(f.app, assertionParams(await assertion(f.es.privateKey, f.clientId, { aud: 'https://other.example.com/o/token/' }))),
    401, TOKEN_ERRORS.invalidClient, 'still not another server')
})

t.test('clock skew: a few seconds either way pass, more do not', async (t) => {
  const f = await fixture(t)
  const now = Math.floor(new Date(NOW).getTime() / 1000)
  t.equal((await tokenWith(f.app, assertionParams(await assertion(f.es.privateKey, f.clientId, { iat: now + 5, nbf: now + 5, exp: now + 65 })))).statusCode, 200, 'iat 5 s ahead')
  t.equal((await tokenWith(f.app, assertionParams(await assertion(f.es.privateKey, f.clientId, { iat: now - 60, exp: now - 5 })))).statusCode, 200, 'exp 5 s ago')
  assertTokenError(t, await tokenWith(f.app, assertionParams(await assertion(f.es.privateKey, f.clientId, { iat: now - 60, exp: now - 30 }))), 401, TOKEN_ERRORS.invalidClient, 'exp 30 s ago')
})

t.test('a jti is single use across instances sharing the database', async (t) => {
  const f = await fixture(t)
  const second = Fastify()
  t.teardown(() => second.close())
  await second.register(fastifyOAuthToolkit, { database: databasePath(t), hasher: testHasher, clock: f.clock, clientSecretSealingKey: SEALING_KEY, settings: { issuer: ISSUER } })
  await second.register(oauthRoutes, { prefix: '/o' })
  const jwt = await assertion(f.es.privateKey, f.clientId)
  t.equal((await tokenWith(f.app, assertionParams(jwt))).statusCode, 200, 'first instance')
  assertTokenError(t, await tokenWith(second, assertionParams(jwt)), 401, TOKEN_ERRORS.invalidClient, 'second instance refuses the replay')
})

t.test('every endpoint that authenticates clients takes assertions: revocation, introspection, PAR, device authorization', async (t) => {
  const f = await fixture(t)
  const token = (await tokenWith(f.app, assertionParams(await assertion(f.es.privateKey, f.clientId)))).json<{ access_token: string }>().access_token
  const post = async (url: string, params: Record<string, string>, clientId = f.clientId): Promise<LightMyRequestResponse> =>
    await f.app.inject({ method: 'POST', url, headers: FORM, payload: form({ ...params, ...assertionParams(await assertion(f.es.privateKey, clientId)) }) })
  const introspected = await post('/o/introspect/', { token })
  t.equal(introspected.statusCode, 200)
  t.equal(introspected.json<{ active: boolean }>().active, true, 'introspection')
  const inUri = await f.app.inject({ method: 'GET', url: `/o/introspect/?${form({ token, ...assertionParams(await assertion(f.es.privateKey, f.clientId)) })}` })
  assertTokenError(t, inUri, 400, invalidRequest('Client credentials must not be sent in the URI.'), 'an assertion in the URI')
  t.equal((await post('/o/revoke-token/', { token })).statusCode, 200, 'revocation')
  t.equal((await post('/o/introspect/', { token })).json<{ active: boolean }>().active, false, 'revoked')

  const es = await keyPair('ES256', 'es-1')
  const web = await createApplication(f.app, {
    authorizationGrantType: 'authorization-code', redirectUris: 'https://app.example.com/cb', tokenEndpointAuthMethod: 'private_key_jwt', jwks: JSON.stringify({ keys: [es.jwk] }),
  })
  const pushed = await f.app.inject({
    method: 'POST',
    url: '/o/par/',
    headers: FORM,
    payload: form({
      response_type: 'code',
      redirect_uri: 'https://app.example.com/cb',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
      ...assertionParams(await assertion(es.privateKey, web.application.clientId)),
    }),
  })
  t.equal(pushed.statusCode, 201, 'PAR')
  const stored = await f.app.oauth.store.findApplicationByClientId(web.application.clientId)
  t.ok(stored !== null)

  const device = await createApplication(f.app, {
    authorizationGrantType: 'urn:ietf:params:oauth:grant-type:device_code', tokenEndpointAuthMethod: 'private_key_jwt', jwks: JSON.stringify({ keys: [es.jwk] }),
  })
  t.equal((await post('/o/device-authorization/', {}, device.application.clientId)).statusCode, 401, 'a different key than the device client registered')
  const deviceOk = await f.app.inject({
    method: 'POST', url: '/o/device-authorization/', headers: FORM, payload: form(assertionParams(await assertion(es.privateKey, device.application.clientId))),
  })
  t.equal(deviceOk.statusCode, 200, 'device authorization')
})

t.test('without the issuer setting the audience is the issuer derived for the request', async (t) => {
  const clock = fixedClock(NOW)
  const app = await buildApp(t, { clock })
  const es = await keyPair('ES256', 'es-1')
  const { application } = await createApplication(app, { tokenEndpointAuthMethod: 'private_key_jwt', jwks: JSON.stringify({ keys: [es.jwk] }) })
  const ok = await tokenWith(app, assertionParams(await assertion(es.privateKey, application.clientId, { aud: 'http://as.test/o' })), { host: 'as.test' })
  t.equal(ok.statusCode, 200)
  const other = await tokenWith(app, assertionParams(await assertion(es.privateKey, application.clientId, { aud: 'http://as.test/o' })), { host: 'other.test' })
  t.equal(other.statusCode, 401, 'another host is another issuer')
})

t.test('BRUTE-1: failed assertions count against the (client, address) pair the assertion names', async (t) => {
  const f = await fixture(t, { rateLimitFailures: 3 })
  const now = Math.floor(new Date(NOW).getTime() / 1000)
  const from = async (ip: string, jwt: string): Promise<LightMyRequestResponse> => await f.app.inject({
    method: 'POST', url: '/o/token/', remoteAddress: ip, headers: FORM, payload: form({ grant_type: 'client_credentials', ...assertionParams(jwt) }),
  })
  for (let i = 0; i < 3; i++) t.equal((await from('10.0.0.9', await assertion(f.es.privateKey, f.clientId, { exp: now - 100, iat: now - 200 }))).statusCode, 401)
  t.equal((await from('10.0.0.9', await assertion(f.es.privateKey, f.clientId))).statusCode, 429, 'the pair is refused, a valid assertion included')
  t.equal((await from('10.0.0.10', await assertion(f.es.privateKey, f.clientId))).statusCode, 200, 'the same client from another address is not')
})

t.test('a stored key set the rules now refuse (an RSA key too short, an EC point off the curve) gives 401, never a 500', async (t) => {
  const f = await fixture(t)
  const stored = await f.app.oauth.store.findApplicationByClientId(f.clientId)
  for (const key of [{ kty: 'EC', crv: 'P-256', x: 'x', y: 'y', kid: 'es-1' }, { kty: 'RSA', n: 'sXch', e: 'AQAB', kid: 'es-1', alg: 'RS256' }]) {
    // Written past the validation, as a row stored before today's rules would be.
    await f.app.oauth.store.updateApplication(stored?.id ?? 0, { jwks: JSON.stringify({ keys: [key] }) }, f.clock.now())
    const rsa = await keyPair('RS256', 'es-1')
    for (const jwt of [await assertion(f.es.privateKey, f.clientId), await assertion(rsa.privateKey, f.clientId, {}, { alg: 'RS256' })]) {
      assertTokenError(t, await tokenWith(f.app, assertionParams(jwt)), 401, TOKEN_ERRORS.invalidClient, key.kty)
    }
  }
})
