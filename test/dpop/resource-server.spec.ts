// RFC 9449 at a standalone resource server: `cnf` from introspection and from JWT access tokens.
import { exportPKCS8, generateKeyPair } from 'jose'
import t, { type Test } from 'tap'
import { openStore } from '../../lib/store/open.js'
import { createClient, postToken } from '../helpers/index.js'
import { buildApi, listen } from '../plugins/resource-server-support.js'
import type { ResourceServerOptions } from '../../entries/resource-server.js'
import { buildDpopApp, dpopKey, ISSUER, proof, type DpopKey } from './support.js'

const API_ORIGIN = 'https://api.example.com'

/** The authorization server, listening, and a DPoP-bound token plus a bearer token from it. */
async function authorizationServer (t: Test, jwt: boolean) {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true })
  const as = await buildDpopApp(t, jwt ? { oidc: { privateKey: await exportPKCS8(privateKey) }, settings: { accessTokenFormat: 'jwt', accessTokenDefaultAudience: API_ORIGIN } } : {})
  const origin = await listen(as)
  const introspector = await createClient(as, { allowIntrospection: true })
  const client = await createClient(as)
  const key = await dpopKey()
  const bound = (await postToken(as, { grant_type: 'client_credentials' }, { authorization: client.authorization, dpop: await proof(key) })).json().access_token as string
  const bearer = (await postToken(as, { grant_type: 'client_credentials' }, { authorization: client.authorization })).json().access_token as string
  return { origin, introspector, key, bound, bearer }
}

async function replayStore (t: Test) {
  const store = await openStore(':memory:', { migrate: true })
  t.teardown(() => store.close())
  return store
}

/** `DPoP <token>` and its proof for `GET {API_ORIGIN}/api/hello` (the API's configured origin; inject's Host is another). */
async function dpopCall (key: DpopKey, token: string, options: { htu?: string } = {}) {
  return { authorization: `DPoP ${token}`, dpop: await proof(key, { htm: 'GET', htu: options.htu ?? `${API_ORIGIN}/api/hello`, accessToken: token }) }
}

for (const mode of ['introspection', 'jwt'] as const) {
  t.test(`${mode}: a bound token passes with its proof, and is refused as Bearer or with another key`, async (t) => {
    const { origin, introspector, key, bound, bearer } = await authorizationServer(t, mode === 'jwt')
    const options: ResourceServerOptions = mode === 'introspection'
      ? { introspection: { url: `${origin}/o/introspect/`, credentials: { clientId: introspector.clientId, clientSecret: introspector.secret } } }
      : { jwt: { issuer: ISSUER, audience: API_ORIGIN, jwksUri: `${origin}/o/.well-known/jwks.json` } }
    const api = await buildApi(t, { ...options, dpop: { origin: API_ORIGIN, store: await replayStore(t) }, settings: { bearerChallenge: true } })
    const ok = await api.inject({ method: 'GET', url: '/api/hello', headers: await dpopCall(key, bound) })
    t.equal(ok.statusCode, 200, ok.body)
    const headers = await dpopCall(key, bound)
    t.equal((await api.inject({ method: 'GET', url: '/api/hello', headers })).statusCode, 200)
    const replay = await api.inject({ method: 'GET', url: '/api/hello', headers })
    t.equal(replay.statusCode, 401, 'replayed proof')
    t.match(replay.headers['www-authenticate'], /^DPoP realm="api", error="invalid_dpop_proof"/)
    const asBearer = await api.inject({ method: 'GET', url: '/api/hello', headers: { authorization: `Bearer ${bound}` } })
    t.equal(asBearer.statusCode, 401, 'bound token as Bearer')
    t.match(asBearer.headers['www-authenticate'], /^Bearer realm="api", error="invalid_token".*, DPoP algs="ES256 ES384 ES512 PS256 RS256 EdDSA"$/)
    const stolen = await api.inject({ method: 'GET', url: '/api/hello', headers: await dpopCall(await dpopKey(), bound) })
    t.equal(stolen.statusCode, 401, 'proof of another key')
    const wrongOrigin = await api.inject({ method: 'GET', url: '/api/hello', headers: await dpopCall(key, bound, { htu: 'http://localhost:80/api/hello' }) })
    t.equal(wrongOrigin.statusCode, 401, 'htu from the Host header rather than the configured origin')
    const bearerAsDpop = await api.inject({ method: 'GET', url: '/api/hello', headers: await dpopCall(key, bearer) })
    t.equal(bearerAsDpop.statusCode, 401, 'bearer token with the DPoP scheme')
    t.equal((await api.inject({ method: 'GET', url: '/api/hello', headers: { authorization: `Bearer ${bearer}` } })).statusCode, 200, 'bearer tokens still pass')
  })

  t.test(`${mode}: without the dpop option a bound token is refused whatever the scheme`, async (t) => {
    const { origin, introspector, key, bound } = await authorizationServer(t, mode === 'jwt')
    const options: ResourceServerOptions = mode === 'introspection'
      ? { introspection: { url: `${origin}/o/introspect/`, credentials: { clientId: introspector.clientId, clientSecret: introspector.secret } } }
      : { jwt: { issuer: ISSUER, audience: API_ORIGIN, jwksUri: `${origin}/o/.well-known/jwks.json` } }
    const api = await buildApi(t, options)
    t.equal((await api.inject({ method: 'GET', url: '/api/hello', headers: { authorization: `Bearer ${bound}` } })).statusCode, 403)
    t.equal((await api.inject({ method: 'GET', url: '/api/hello', headers: await dpopCall(key, bound) })).statusCode, 403)
  })
}

t.test('resourceServer dpop.required: only DPoP-bound tokens pass (FAPI 2.0 §5.3.3)', async (t) => {
  const { origin, key, bound, bearer } = await authorizationServer(t, true)
  const api = await buildApi(t, {
    jwt: { issuer: ISSUER, audience: API_ORIGIN, jwksUri: `${origin}/o/.well-known/jwks.json` },
    dpop: { origin: API_ORIGIN, store: await replayStore(t), required: true },
    settings: { bearerChallenge: true },
  })
  const ok = await api.inject({ method: 'GET', url: '/api/hello', headers: await dpopCall(key, bound) })
  t.equal(ok.statusCode, 200, ok.body)
  const unbound = await api.inject({ method: 'GET', url: '/api/hello', headers: { authorization: `Bearer ${bearer}` } })
  t.equal(unbound.statusCode, 401, 'a bearer token is refused')
  t.match(unbound.headers['www-authenticate'], /error="invalid_token"/)
  t.equal((await api.inject({ method: 'GET', url: '/api/hello', headers: await dpopCall(key, bearer) })).statusCode, 401, 'and with the DPoP scheme too')
  await t.rejects(buildApi(t, { jwt: { issuer: ISSUER, audience: API_ORIGIN, jwksUri: `${origin}/o/.well-known/jwks.json` }, dpop: { origin: API_ORIGIN, store: await replayStore(t), required: 'yes' as never } }),
    /dpop.required must be true or false/)
})

t.test('resourceServer dpop.nonceKey: proofs need the API\'s nonce (use_dpop_nonce, DPoP-Nonce)', async (t) => {
  const { origin, key, bound } = await authorizationServer(t, true)
  const api = await buildApi(t, { jwt: { issuer: ISSUER, audience: API_ORIGIN, jwksUri: `${origin}/o/.well-known/jwks.json` }, dpop: { origin: API_ORIGIN, store: await replayStore(t), nonceKey: 'e'.repeat(64) } })
  const first = await api.inject({ method: 'GET', url: '/api/hello', headers: await dpopCall(key, bound) })
  t.equal(first.statusCode, 401)
  t.match(first.headers['www-authenticate'], /^DPoP realm="api", error="use_dpop_nonce"/)
  const nonce = first.headers['dpop-nonce'] as string
  const ok = await api.inject({ method: 'GET', url: '/api/hello', headers: { authorization: `DPoP ${bound}`, dpop: await proof(key, { htm: 'GET', htu: `${API_ORIGIN}/api/hello`, accessToken: bound, nonce }) } })
  t.equal(ok.statusCode, 200, ok.body)
})

t.test('resourceServer dpop option: mistakes fail at registration', async (t) => {
  const store = await replayStore(t)
  const jwt = { issuer: ISSUER, audience: API_ORIGIN, jwksUri: 'https://auth.example.com/jwks.json' }
  await t.rejects(buildApi(t, { jwt, dpop: { origin: 'https://api.example.com/path', store } }), /dpop.origin must be this server's public origin/)
  await t.rejects(buildApi(t, { jwt, dpop: { origin: 'http://api.example.com', store } }), /dpop.origin must be/)
  await t.rejects(buildApi(t, { jwt, dpop: { origin: API_ORIGIN, store: {} as never } }), /dpop.store must be the toolkit's store/)
  await t.rejects(buildApi(t, { jwt, dpop: { origin: API_ORIGIN, store, algorithms: ['HS256'] } }), /dpop.algorithms must be/)
  await t.rejects(buildApi(t, { jwt, dpop: { origin: API_ORIGIN, store, proofMaxAgeSeconds: 0 } }), /proofMaxAgeSeconds/)
})
