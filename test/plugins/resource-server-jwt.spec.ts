// A standalone resource server verifying RFC 9068 JWT access tokens offline from the JWKS of a
// real authorization server on another port: acceptance without calling home, the revocation
// trade-off (and checkRevocation), hostile tokens, key rotation, and JWKS outages.
import { createPrivateKey, createPublicKey } from 'node:crypto'
import Fastify, { type FastifyInstance } from 'fastify'
import { importPKCS8, SignJWT, type JWTPayload } from 'jose'
import t from 'tap'
import { fastifyOAuthToolkit, oauthRoutes } from '../../index.js'
import { resourceServer, type ResourceServerOptions } from '../../entries/resource-server.js'
import { basicAuth, buildApp, createApplication, FORM, form, postToken, type TokenBody } from '../helpers/index.js'
import { newRsaPem } from '../oidc/support.js'
import { buildApi, callApi, listen, stubServer, type WhoAmI } from './resource-server-support.js'

const ISSUER = 'https://auth.example.com/o'
const API = 'https://api.example.com'
const SETTINGS = {
  accessTokenFormat: 'jwt',
  issuer: ISSUER,
  accessTokenDefaultAudience: API,
  scopes: { read: 'Reading scope', write: 'Writing scope', introspection: 'Introspect tokens' },
} as const
const keyA = newRsaPem()
const keyB = newRsaPem()

const as = await buildApp(t, { settings: SETTINGS, oidc: { privateKey: keyA } })
const calls = { jwks: 0, introspect: 0 }
as.addHook('onRequest', async (request) => {
  if (request.url.includes('jwks.json')) calls.jwks++
  if (request.url.startsWith('/o/introspect')) calls.introspect++
})
const asOrigin = await listen(as)
const port = Number(new URL(asOrigin).port)
const jwksUri = `${asOrigin}/o/.well-known/jwks.json`
const client = await createApplication(as)
const auth = basicAuth(client.application.clientId, client.clientSecret ?? '')
const rsClient = await createApplication(as, { name: 'The API', allowIntrospection: true })
const introspection = { url: `${asOrigin}/o/introspect/`, credentials: { clientId: rsClient.application.clientId, clientSecret: rsClient.clientSecret ?? '' }, cacheSeconds: 0 }

async function issue (app: FastifyInstance = as, authorization = auth, scope = 'read'): Promise<string> {
  const res = await postToken(app, { grant_type: 'client_credentials', scope }, { authorization })
  if (res.statusCode !== 200) throw new Error(res.body)
  return res.json<TokenBody>().access_token
}

function jwtOptions (extra: Partial<NonNullable<ResourceServerOptions['jwt']>> = {}): NonNullable<ResourceServerOptions['jwt']> {
  return { issuer: ISSUER, audience: API, jwksUri, jwksCooldownSeconds: 0, ...extra }
}

t.test('verified offline: accepted without an introspection call, JWKS fetched once', async (t) => {
  const api = await buildApi(t, { jwt: jwtOptions() })
  const before = { ...calls }
  const token = await issue()
  const res = await callApi(api, token)
  t.equal(res.statusCode, 200)
  t.same(res.json(), { userId: null, clientId: client.application.clientId, scopes: ['read'], verifiedBy: 'jwt', owner: null } satisfies WhoAmI,
    'sub is the client itself (client credentials), so there is no resource owner')
  t.equal((await callApi(api, token, '/api/write')).statusCode, 403, 'scopes from the `scope` claim')
  t.equal((await callApi(api, await issue(as, auth, 'read write'), '/api/write')).statusCode, 200)
  t.equal(calls.introspect, before.introspect, 'no introspection')
  t.equal(calls.jwks - before.jwks, 1, 'one JWKS fetch for every token after it')
  t.equal((await callApi(api, 'opaque-token-value')).statusCode, 403, 'an opaque token is refused when only JWTs are configured')
})

t.test('revocation: invisible offline until exp (the trade-off); checkRevocation asks the AS', async (t) => {
  const offline = await buildApi(t, { jwt: jwtOptions() })
  const checked = await buildApi(t, { jwt: jwtOptions({ checkRevocation: true }), introspection })
  const token = await issue()
  t.equal((await callApi(offline, token)).statusCode, 200)
  t.equal((await callApi(checked, token)).statusCode, 200)
  const revoked = await as.inject({ method: 'POST', url: '/o/revoke_token/', headers: { ...FORM, authorization: auth }, payload: form({ token }) })
  t.equal(revoked.statusCode, 200)
  t.equal((await callApi(offline, token)).statusCode, 200, 'offline verification cannot see a revocation')
  t.equal((await callApi(checked, token)).statusCode, 403, 'with checkRevocation the introspection answer refuses it')
  const before = calls.introspect
  t.equal((await callApi(checked, 'opaque')).statusCode, 403, 'opaque tokens go to introspection')
  t.equal(calls.introspect, before + 1)
})

t.test('hostile tokens are refused: wrong typ, aud, iss, expired, unsigned, HS256 key confusion, unknown key', async (t) => {
  const api = await buildApi(t, { jwt: jwtOptions() })
  const signingKey = await importPKCS8(keyA, 'RS256')
  const kid = ((await (await fetch(jwksUri)).json()) as { keys: Array<{ kid: string }> }).keys[0]?.kid ?? ''
  const now = Math.floor(Date.now() / 1000)
  const good: JWTPayload = { iss: ISSUER, aud: API, sub: 'user-1', client_id: 'c1', scope: 'read', iat: now, exp: now + 600, jti: 'j1' }
  const sign = async (claims: JWTPayload, header: Record<string, unknown> = {}, key: Parameters<SignJWT['sign']>[0] = signingKey) =>
    await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid, typ: 'at+jwt', ...header } as { alg: string }).sign(key)

  const ok = await callApi(api, await sign(good))
  t.equal(ok.statusCode, 200, 'the control token passes')
  t.equal(ok.json<WhoAmI>().userId, 'user-1')
  t.equal((await callApi(api, await sign(good, { typ: 'application/at+jwt' }))).statusCode, 200, 'application/at+jwt is the same type (RFC 9068 §4)')

  const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt' })).toString('base64url')}.${Buffer.from(JSON.stringify(good)).toString('base64url')}.`
  const publicPem = createPublicKey(createPrivateKey(keyA)).export({ type: 'spki', format: 'pem' }).toString()
  const hs = await new SignJWT(good).setProtectedHeader({ alg: 'HS256', kid, typ: 'at+jwt' }).sign(new TextEncoder().encode(publicPem))
  const { iss: _iss, ...noIss } = good
  const { client_id: _cid, ...noClientId } = good
  const hostile: Array<[string, string]> = [
    ['typ JWT (an ID token, JOSE-2)', await sign(good, { typ: 'JWT' })],
    ['no typ', await sign(good, { typ: undefined })],
    ['another audience', await sign({ ...good, aud: 'https://other.example.com' })],
    ['another issuer', await sign({ ...good, iss: 'https://evil.example.com' })],
    ['no issuer', await sign(noIss)],
    ['expired', await sign({ ...good, iat: now - 1200, exp: now - 600 })],
    ['no client_id', await sign(noClientId)],
    ['alg none', unsigned],
    ['HS256 keyed with the public key (JOSE-1)', hs],
    ['signed by an unknown key', await sign(good, {}, await importPKCS8(keyB, 'RS256'))],
    ['three parts of garbage', 'aaa.bbb.ccc'],
    ['a tampered payload', (await sign(good)).replace(/\.[^.]+\./, `.${Buffer.from(JSON.stringify({ ...good, scope: 'read write' })).toString('base64url')}.`)],
  ]
  for (const [name, token] of hostile) {
    t.equal((await callApi(api, token)).statusCode, 403, name)
  }
})

t.test('key rotation: a new kid is fetched, tokens of the retired key still verify; JWKS outages', async (t) => {
  const api = await buildApi(t, { jwt: jwtOptions() })
  const old = await issue()
  t.equal((await callApi(api, old)).statusCode, 200, 'the JWKS (key A) is now cached')

  // The AS restarts on the same port with key B active and key A retired but published (JOSE-3).
  await as.close()
  const rotated = Fastify()
  t.teardown(() => rotated.close())
  await rotated.register(fastifyOAuthToolkit, { database: ':memory:', migrate: true, settings: SETTINGS, oidc: { privateKey: keyB, inactiveKeys: [keyA] } })
  await rotated.register(oauthRoutes, { prefix: '/o' })
  let jwksFetches = 0
  rotated.addHook('onRequest', async (request) => { if (request.url.includes('jwks.json')) jwksFetches++ })
  await listen(rotated, port)
  const created = await createApplication(rotated)
  const fresh = await issue(rotated, basicAuth(created.application.clientId, created.clientSecret ?? ''))

  t.equal((await callApi(api, fresh)).statusCode, 200, 'the unknown kid made the API refetch the JWKS')
  t.equal(jwksFetches, 1)
  t.equal((await callApi(api, old)).statusCode, 200, 'the retired key still verifies its tokens')

  // The AS goes down: cached keys keep working offline; an API without them fails closed.
  await rotated.close()
  t.equal((await callApi(api, fresh)).statusCode, 200, 'offline: no call home needed')
  const cold = await buildApi(t, { jwt: jwtOptions() })
  const res = await callApi(cold, fresh)
  t.equal(res.statusCode, 503, 'no keys and no JWKS: unavailable, not invalid')
  t.equal(res.headers['retry-after'], '5')

  const hanging = await stubServer(t, () => {})
  const slow = await buildApi(t, { jwt: jwtOptions({ jwksUri: `${hanging.origin}/jwks.json`, timeoutSeconds: 0.3 }) })
  const started = Date.now()
  t.equal((await callApi(slow, fresh)).statusCode, 503, 'a hanging JWKS times out and fails closed')
  t.ok(Date.now() - started < 3000)
  const garbage = await stubServer(t, (_req, res) => { res.writeHead(200, { 'content-type': 'application/json' }).end('{"keys":"no"}') })
  t.equal((await callApi(await buildApi(t, { jwt: jwtOptions({ jwksUri: `${garbage.origin}/jwks.json` }) }), fresh)).statusCode, 503, 'a garbled JWKS too')
})

t.test('registration checks the jwt options', async (t) => {
  const bad: Array<[ResourceServerOptions, RegExp]> = [
    [{ jwt: jwtOptions({ algorithms: ['HS256'] }) }, /never none or HS/],
    [{ jwt: jwtOptions({ algorithms: ['none'] }) }, /never none or HS/],
    [{ jwt: jwtOptions({ jwksUri: 'http://auth.example.com/jwks.json' }) }, /jwksUri must use https/],
    [{ jwt: jwtOptions({ audience: [] }) }, /audience must be/],
    [{ jwt: jwtOptions({ issuer: '' }) }, /issuer must be/],
    [{ jwt: jwtOptions({ checkRevocation: true }) }, /checkRevocation needs the `introspection` option/],
  ]
  for (const [options, message] of bad) {
    const app = Fastify()
    t.teardown(() => app.close())
    await t.rejects(async () => { await app.register(resourceServer, options) }, message)
  }
})
