// JAR-1: request objects (RFC 9101) attacked. Every object that must not stand for a client's
// authorization request is refused with invalid_request_object: at the authorization endpoint on
// the error page (never a redirect: its redirect URI is unproven), at par/ as JSON; never a 500,
// never a consent page. Objects are made by hand with jose, so each probe changes exactly one
// thing of an otherwise valid object (the first case shows the valid one is accepted).
import { randomUUID } from 'node:crypto'
import Fastify, { type FastifyInstance, type LightMyRequestResponse } from 'fastify'
import { SignJWT, type CryptoKey, type JWTPayload } from 'jose'
import t, { type Test } from 'tap'
import { fastifyOAuthToolkit, oauthRoutes } from '../../index.js'
import { basicAuth, databasePath, fixedClock, FORM, form, testHasher } from '../helpers/index.js'
import { asUser, buildAuthorizeApp, createCodeApplication, getAuthorize, parseConsent, pkcePair, REDIRECT_URI } from '../helpers/authorize.js'
import { clientKey, type ClientKey } from '../helpers/client-keys.js'

const ISSUER = 'https://as.example.com/o'
const NOW = '2026-03-01T12:00:00.000Z'
const EPOCH = Math.floor(new Date(NOW).getTime() / 1000)
const SEALING_KEY = 'd'.repeat(64)

type Keys = ClientKey
const keyPair = clientKey

interface Fixture {
  app: FastifyInstance
  key: Keys
  clientId: string
  secret: string
  otherId: string
}

async function fixture (t: Test, settings: Record<string, unknown> = {}): Promise<Fixture> {
  const app = await buildAuthorizeApp(t, { clock: fixedClock(NOW), clientSecretSealingKey: SEALING_KEY, settings: { issuer: ISSUER, ...settings } })
  const key = await keyPair('ES256', 'k1')
  const created = await createCodeApplication(app, { jwks: JSON.stringify({ keys: [key.jwk] }) })
  const other = await createCodeApplication(app, { jwks: JSON.stringify({ keys: [key.jwk] }) })
  return { app, key, clientId: created.application.clientId, secret: created.clientSecret ?? '', otherId: other.application.clientId }
}

/** A valid object of `clientId` at `NOW`, `claims` overriding (undefined removes one), `header` too. */
async function object (key: CryptoKey | Uint8Array, clientId: string, claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}): Promise<string> {
  const payload: Record<string, unknown> = {
    response_type: 'code',
    redirect_uri: REDIRECT_URI,
    scope: 'read',
    state: 'st',
    code_challenge: pkcePair().challenge,
    code_challenge_method: 'S256',
    client_id: clientId,
    iss: clientId,
    aud: ISSUER,
    jti: randomUUID(),
    iat: EPOCH,
    exp: EPOCH + 60,
    ...claims,
  }
  for (const [k, v] of Object.entries(payload)) if (v === undefined) Reflect.deleteProperty(payload, k)
  const alg = (header.alg as string | undefined) ?? (key instanceof Uint8Array ? 'HS256' : 'ES256')
  return await new SignJWT(payload as JWTPayload).setProtectedHeader({ kid: 'k1', typ: 'oauth-authz-req+jwt', ...header, alg }).sign(key)
}

function unsigned (payload: Record<string, unknown>): string {
  const part = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url')
  return `${part({ alg: 'none' })}.${part(payload)}.`
}

function assertRefusedPage (t: Test, res: LightMyRequestResponse, message: string, error = 'invalid_request_object'): void {
  t.equal(res.statusCode, 400, `${message}: 400 (${res.statusCode})`)
  t.equal(res.headers.location, undefined, `${message}: no Location`)
  t.match(res.headers['content-type'], /^text\/html/, `${message}: the error page`)
  t.match(res.body, `<code>${error}</code>`, `${message}: ${error}`)
  t.notMatch(res.body, 'name="csrf_token"', `${message}: no consent form`)
}

async function pushObject (f: Fixture, request: string, clientId = f.clientId, secret = f.secret): Promise<LightMyRequestResponse> {
  return await f.app.inject({ method: 'POST', url: '/o/par/', headers: { ...FORM, authorization: basicAuth(clientId, secret) }, payload: form({ request }) })
}

t.test('JAR-1 the valid object is accepted (the control for every probe below)', async (t) => {
  const f = await fixture(t)
  parseConsent(await getAuthorize(f.app, { client_id: f.clientId, request: await object(f.key.privateKey, f.clientId) }))
  t.equal((await pushObject(f, await object(f.key.privateKey, f.clientId))).statusCode, 201)
})

t.test('JAR-1 refused objects: invalid_request_object on the page at authorize/, in JSON at par/, whatever is wrong', async (t) => {
  const f = await fixture(t)
  const sameKid = await keyPair('ES256', 'k1')
  const unknownKid = await keyPair('ES256', 'k9')
  const rsa = await keyPair('RS256', 'k1')
  const k = f.key.privateKey
  const cases: Array<[string, () => Promise<string>]> = [
    ['bad signature (another key under the same kid)', async () => await object(sameKid.privateKey, f.clientId)],
    ['unknown kid', async () => await object(unknownKid.privateKey, f.clientId, {}, { kid: 'k9' })],
    ['RS256 by a key the client never registered', async () => await object(rsa.privateKey, f.clientId, {}, { alg: 'RS256' })],
    ['wrong aud', async () => await object(k, f.clientId, { aud: 'https://other.example/o' })],
    ['aud: the authorization endpoint', async () => await object(k, f.clientId, { aud: `${ISSUER}/authorize/` })],
    ['no aud', async () => await object(k, f.clientId, { aud: undefined })],
    ['wrong iss', async () => await object(k, f.clientId, { iss: f.otherId })],
    ['no iss', async () => await object(k, f.clientId, { iss: undefined })],
    ['client_id claim of another client', async () => await object(k, f.clientId, { client_id: f.otherId })],
    ['no client_id claim', async () => await object(k, f.clientId, { client_id: undefined })],
    ['expired', async () => await object(k, f.clientId, { iat: EPOCH - 600, exp: EPOCH - 300 })],
    ['missing exp', async () => await object(k, f.clientId, { exp: undefined })],
    ['exp too far ahead', async () => await object(k, f.clientId, { iat: undefined, exp: EPOCH + 3600 })],
    ['lives longer than requestObjectMaxLifetimeSeconds from iat', async () => await object(k, f.clientId, { iat: EPOCH - 400, exp: EPOCH + 60 })],
    ['iat in the future', async () => await object(k, f.clientId, { iat: EPOCH + 120, exp: EPOCH + 180 })],
    ['nbf in the future', async () => await object(k, f.clientId, { nbf: EPOCH + 120 })],
    ['exp not a number', async () => await object(k, f.clientId, { exp: String(EPOCH + 60) })],
    ['empty jti', async () => await object(k, f.clientId, { jti: '' })],
    ['10,000-character jti', async () => await object(k, f.clientId, { jti: 'j'.repeat(10000) })],
    ['alg none', async () => unsigned({ client_id: f.clientId, iss: f.clientId, aud: ISSUER, exp: EPOCH + 60, response_type: 'code' })],
    ['HS256 keyed with the client\'s public key (alg confusion)', async () => await object(new TextEncoder().encode(JSON.stringify(f.key.jwk)), f.clientId)],
    ['HS256 keyed with the client secret, which the server keeps only hashed', async () => await object(new TextEncoder().encode(f.secret), f.clientId)],
    ['a DPoP proof\'s typ', async () => await object(k, f.clientId, {}, { typ: 'dpop+jwt' })],
    ['a numeric typ', async () => await object(k, f.clientId, {}, { typ: 7 })],
    ['a crit header', async () => await object(k, f.clientId, {}, { crit: ['b64'], b64: true })],
    ['a request inside the object', async () => await object(k, f.clientId, { request: 'e30.e30.' })],
    ['a request_uri inside the object', async () => await object(k, f.clientId, { request_uri: 'https://evil.example/r.jwt' })],
    ['login_after inside the object (the server\'s own marker)', async () => await object(k, f.clientId, { login_after: String(EPOCH) })],
    ['scope as an array', async () => await object(k, f.clientId, { scope: ['read', 'write'] })],
    ['state as an object', async () => await object(k, f.clientId, { state: { nested: true } })],
    ['resource as a number', async () => await object(k, f.clientId, { resource: 1 })],
    ['garbage', async () => 'garbage'],
    ['three empty parts', async () => '..'],
    ['a JWE (five parts)', async () => 'eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ.a.b.c.d'],
    ['control characters', async () => 'eyJhbGciOiJFUzI1NiJ9\u0000.\u0007.\r\n'],
    ['a header that is not JSON', async () => `${Buffer.from('{"alg":').toString('base64url')}.e30.`],
    ['oversized (40,000 characters)', async () => await object(k, f.clientId, { padding: 'p'.repeat(40000) })],
  ]
  for (const [name, make] of cases) {
    assertRefusedPage(t, await getAuthorize(f.app, { client_id: f.clientId, request: await make(), redirect_uri: REDIRECT_URI, response_type: 'code', state: 'outside' }), `authorize/: ${name}`)
    assertRefusedPage(t, await getAuthorize(f.app, { client_id: f.clientId, request: await make() }, null), `authorize/, anonymous: ${name}`)
    const pushed = await pushObject(f, await make())
    t.equal(pushed.statusCode, 400, `par/: ${name}`)
    t.same(pushed.json(), { error: 'invalid_request_object', error_description: 'The request object is invalid.' }, `par/: ${name}`)
  }
})

t.test('JAR-1 a replayed jti: refused at authorize/ and par/, across the two, and on a second instance sharing the database', async (t) => {
  const f = await fixture(t)
  const jti = randomUUID()
  const first = await object(f.key.privateKey, f.clientId, { jti })
  parseConsent(await getAuthorize(f.app, { client_id: f.clientId, request: first }))
  assertRefusedPage(t, await getAuthorize(f.app, { client_id: f.clientId, request: first }), 'the same object')
  t.equal((await pushObject(f, first)).statusCode, 400, 'the same object at par/')
  assertRefusedPage(t, await getAuthorize(f.app, { client_id: f.clientId, request: await object(f.key.privateKey, f.clientId, { jti, state: 'changed' }) }), 'another object with the same jti')
  const pushedFirst = await object(f.key.privateKey, f.clientId)
  t.equal((await pushObject(f, pushedFirst)).statusCode, 201)
  assertRefusedPage(t, await getAuthorize(f.app, { client_id: f.clientId, request: pushedFirst }), 'pushed, then sent by value')

  const second = Fastify()
  t.teardown(() => second.close())
  await second.register(fastifyOAuthToolkit, { database: databasePath(t), hasher: testHasher, clock: fixedClock(NOW), clientSecretSealingKey: SEALING_KEY, settings: { issuer: ISSUER } })
  await second.register(oauthRoutes, { prefix: '/o' })
  const shared = await object(f.key.privateKey, f.clientId)
  const push = async (app: FastifyInstance): Promise<number> => (await app.inject({ method: 'POST', url: '/o/par/', headers: { ...FORM, authorization: basicAuth(f.clientId, f.secret) }, payload: form({ request: shared }) })).statusCode
  const one = f.app
  const two = second
  t.equal(await push(one), 201, 'first instance')
  t.equal(await push(two), 400, 'the second instance knows the jti')
})

t.test('JAR-1 a client that requires signed objects, or registered an algorithm: no way around it', async (t) => {
  const f = await fixture(t, { allowUnsignedRequestObjects: true })
  const strict = await createCodeApplication(f.app, { jwks: JSON.stringify({ keys: [f.key.jwk] }), requireSignedRequestObject: true, requestObjectSigningAlg: 'ES256' })
  const id = strict.application.clientId
  const secret = strict.clientSecret ?? ''
  const plainUnsigned = unsigned({ client_id: id, aud: ISSUER, exp: EPOCH + 60, response_type: 'code', redirect_uri: REDIRECT_URI, code_challenge: pkcePair().challenge, code_challenge_method: 'S256' })
  assertRefusedPage(t, await getAuthorize(f.app, { client_id: id, request: plainUnsigned }), 'alg none')
  assertRefusedPage(t, await getAuthorize(f.app, { client_id: id, request: await object(new TextEncoder().encode(secret), id) }), 'HS256 for an ES256 client')
  const plainPar = await f.app.inject({ method: 'POST', url: '/o/par/', headers: { ...FORM, authorization: basicAuth(id, secret) }, payload: form({ response_type: 'code', redirect_uri: REDIRECT_URI, code_challenge: pkcePair().challenge, code_challenge_method: 'S256' }) })
  t.same(plainPar.json(), { error: 'invalid_request', error_description: 'A signed request object is required.' }, 'a plain push')
  const plain = await getAuthorize(f.app, { client_id: id, response_type: 'code', redirect_uri: REDIRECT_URI, code_challenge: pkcePair().challenge, code_challenge_method: 'S256' })
  t.equal(plain.statusCode, 302, 'a plain request: refused, redirected to the registered URI as other errors of an operator\'s client')
  t.match(String(plain.headers.location), 'error=invalid_request')
  parseConsent(await getAuthorize(f.app, { client_id: id, request: await object(f.key.privateKey, id) }))
  const otherObject = await object(f.key.privateKey, f.clientId)
  assertRefusedPage(t, await getAuthorize(f.app, { client_id: id, request: otherObject }), 'another client\'s object under this client_id')
  t.equal((await f.app.inject({ method: 'GET', url: `/o/authorize/?client_id=${id}&request=${otherObject}`, headers: asUser('user-alice') })).statusCode, 400)
})

t.test('JAR-1 an internal request_uri is bound to its client and cannot pass for a pushed one', async (t) => {
  const f = await fixture(t, { requirePushedAuthorizationRequests: false })
  const login = await getAuthorize(f.app, { client_id: f.clientId, request: await object(f.key.privateKey, f.clientId) }, null)
  const next = new URL(String(login.headers.location), 'http://localhost').searchParams.get('next') ?? ''
  const requestUri = new URL(next, 'http://localhost').searchParams.get('request_uri') ?? ''
  t.match(requestUri, /^urn:ietf:params:oauth:request_uri:jar\./)
  assertRefusedPage(t, await getAuthorize(f.app, { client_id: f.otherId, request_uri: requestUri }), 'another client', 'invalid_request')
  const relabelled = requestUri.replace(':jar.', ':')
  assertRefusedPage(t, await getAuthorize(f.app, { client_id: f.clientId, request_uri: relabelled }), 'without its mark', 'invalid_request')
  parseConsent(await getAuthorize(f.app, { client_id: f.clientId, request_uri: requestUri }))
})
