// RFC 9449 §7 at protected resources: protect(), the ProtectedResourceView family and UserInfo.
import type { FastifyInstance } from 'fastify'
import t from 'tap'
import { ProtectedResourceView } from '../../index.js'
import { createClient, postToken } from '../helpers/index.js'
import { buildDpopApp, dpopHeaders, dpopKey, ORIGIN, proof, unsignedJws, type DpopKey } from './support.js'

const ALGS = 'algs="ES256 ES384 ES512 PS256 RS256 EdDSA"'
const INVALID_PROOF_CHALLENGE = `DPoP realm="api", error="invalid_dpop_proof", error_description="The DPoP proof is invalid.", ${ALGS}`

/** A DPoP-bound client-credentials token (`scope` given) and the key it is bound to. */
async function boundToken (app: FastifyInstance, scope?: string): Promise<{ token: string, key: DpopKey }> {
  const client = await createClient(app)
  const key = await dpopKey()
  const res = await postToken(app, { grant_type: 'client_credentials', ...(scope === undefined ? {} : { scope }) }, { authorization: client.authorization, dpop: await proof(key) })
  if (res.json().token_type !== 'DPoP') throw new Error(res.body)
  return { token: res.json().access_token as string, key }
}

async function bearerToken (app: FastifyInstance): Promise<string> {
  const client = await createClient(app)
  return (await postToken(app, { grant_type: 'client_credentials' }, { authorization: client.authorization })).json().access_token as string
}

t.test('a DPoP token with its proof passes protect(); request.accessToken names the key', async (t) => {
  const app = await buildDpopApp(t)
  const { token, key } = await boundToken(app)
  const res = await app.inject({ method: 'GET', url: '/api/hello?x=1', headers: await dpopHeaders(key, token) })
  t.equal(res.statusCode, 200, res.body)
  t.same(res.json(), { jkt: key.jkt })
  // Twice over (the verification cache serves the token; the proof is new each time).
  t.equal((await app.inject({ method: 'GET', url: '/api/hello', headers: await dpopHeaders(key, token) })).statusCode, 200)
  // The bearer path is untouched.
  const bearer = await bearerToken(app)
  t.equal((await app.inject({ method: 'GET', url: '/api/hello', headers: { authorization: `Bearer ${bearer}` } })).statusCode, 200)
})

t.test('a DPoP-bound token presented as Bearer is refused (bare 403 by default, a challenge when asked)', async (t) => {
  const app = await buildDpopApp(t)
  const { token } = await boundToken(app)
  const bare = await app.inject({ method: 'GET', url: '/api/hello', headers: { authorization: `Bearer ${token}` } })
  t.equal(bare.statusCode, 403)
  t.equal(bare.body, '', 'DOT parity for bearer presentations')
  const challenged = await app.inject({ method: 'GET', url: '/api/challenge', headers: { authorization: `Bearer ${token}` } })
  t.equal(challenged.statusCode, 401)
  t.equal(challenged.headers['www-authenticate'],
    `Bearer realm="api", error="invalid_token", error_description="The access token is bound to a DPoP key; present it with the DPoP scheme.", DPoP ${ALGS}`)
})

t.test('a bearer token presented with the DPoP scheme is refused', async (t) => {
  const app = await buildDpopApp(t)
  const token = await bearerToken(app)
  const key = await dpopKey()
  const res = await app.inject({ method: 'GET', url: '/api/hello', headers: await dpopHeaders(key, token) })
  t.equal(res.statusCode, 401)
  t.equal(res.headers['www-authenticate'],
    `DPoP realm="api", error="invalid_token", error_description="The access token is not DPoP-bound; present it with the Bearer scheme.", ${ALGS}`)
})

t.test('every refused proof at a resource: 401 with a DPoP challenge, whatever bearerChallenge says', async (t) => {
  const app = await buildDpopApp(t)
  const { token, key } = await boundToken(app)
  const other = await dpopKey()
  const now = Math.floor(Date.now() / 1000)
  const htu = `${ORIGIN}/api/hello`
  const cases: Array<[string, string | undefined]> = [
    ['no proof', undefined],
    ['missing ath', await proof(key, { htm: 'GET', htu })],
    ['ath of another token', await proof(key, { htm: 'GET', htu, accessToken: 'another-token' })],
    ['wrong htm', await proof(key, { htm: 'POST', htu, accessToken: token })],
    ['wrong htu', await proof(key, { htm: 'GET', htu: `${ORIGIN}/api/other`, accessToken: token })],
    ['iat out of window', await proof(key, { htm: 'GET', htu, accessToken: token, iat: now - 600 })],
    ['bad signature', await proof({ ...key, privateKey: other.privateKey }, { htm: 'GET', htu, accessToken: token })],
    ['private key in jwk', await proof(key, { htm: 'GET', htu, accessToken: token, header: { jwk: { ...key.publicJwk, d: 'AAAA' } } })],
    ['alg none', unsignedJws({ typ: 'dpop+jwt', alg: 'none', jwk: key.publicJwk }, { jti: 'z', htm: 'GET', htu, iat: now })],
  ]
  for (const [name, dpop] of cases) {
    const res = await app.inject({ method: 'GET', url: '/api/hello', headers: { authorization: `DPoP ${token}`, ...(dpop === undefined ? {} : { dpop }) } })
    t.equal(res.statusCode, 401, name)
    t.equal(res.headers['www-authenticate'], INVALID_PROOF_CHALLENGE, name)
    t.same(res.json(), { error: 'invalid_dpop_proof', error_description: 'The DPoP proof is invalid.' }, name)
  }
})

t.test('a proof replayed at a resource is refused', async (t) => {
  const app = await buildDpopApp(t)
  const { token, key } = await boundToken(app)
  const headers = await dpopHeaders(key, token)
  t.equal((await app.inject({ method: 'GET', url: '/api/hello', headers })).statusCode, 200)
  const replay = await app.inject({ method: 'GET', url: '/api/hello', headers })
  t.equal(replay.statusCode, 401)
  t.equal(replay.headers['www-authenticate'], INVALID_PROOF_CHALLENGE)
})

t.test('a proof of another key than the token\'s binding is refused (invalid_token)', async (t) => {
  const app = await buildDpopApp(t)
  const { token } = await boundToken(app)
  const thief = await dpopKey()
  const res = await app.inject({ method: 'GET', url: '/api/hello', headers: await dpopHeaders(thief, token) })
  t.equal(res.statusCode, 401)
  t.match(res.headers['www-authenticate'], /^DPoP realm="api", error="invalid_token"/)
})

t.test('the resource URL comes from the issuer, not the Host header', async (t) => {
  const app = await buildDpopApp(t)
  const { token, key } = await boundToken(app)
  const forged = await app.inject({ method: 'GET', url: '/api/hello', headers: { host: 'evil.example', authorization: `DPoP ${token}`, dpop: await proof(key, { htm: 'GET', htu: 'http://evil.example/api/hello', accessToken: token }) } })
  t.equal(forged.statusCode, 401)
  const honest = await app.inject({ method: 'GET', url: '/api/hello', headers: { host: 'evil.example', ...await dpopHeaders(key, token) } })
  t.equal(honest.statusCode, 200)
  // A request target that is not a path (an absolute-form or `//` target) names no URL of this server.
  const slashes = await app.inject({ method: 'GET', url: '//evil.example/api/hello', headers: await dpopHeaders(key, token, '//evil.example/api/hello') })
  t.not(slashes.statusCode, 200)
})

t.test('missing token and scope challenges offer DPoP beside Bearer', async (t) => {
  const app = await buildDpopApp(t)
  const none = await app.inject({ method: 'GET', url: '/api/challenge' })
  t.equal(none.statusCode, 401)
  t.equal(none.headers['www-authenticate'], `Bearer realm="api", DPoP ${ALGS}`)
  const { token, key } = await boundToken(app, 'write')
  const scope = await app.inject({ method: 'GET', url: '/api/read', headers: await dpopHeaders(key, token, '/api/read') })
  t.equal(scope.statusCode, 403)
  t.equal(scope.headers['www-authenticate'], `DPoP realm="api", error="insufficient_scope", error_description="The access token is valid but does not have enough scope.", scope="read", ${ALGS}`)
  const bare = await app.inject({ method: 'GET', url: '/api/hello' })
  t.equal(bare.statusCode, 403, 'bare 403 stays the default without a token')
  t.equal(bare.headers['www-authenticate'], undefined)
})

t.test('DPoP tokens never come in the query string, and the DPoP scheme needs a token', async (t) => {
  const app = await buildDpopApp(t, { settings: { allowQueryStringTokens: true } })
  const { token, key } = await boundToken(app)
  const both = await app.inject({ method: 'GET', url: `/api/hello?access_token=${token}`, headers: await dpopHeaders(key, token) })
  t.equal(both.statusCode, 400)
  const query = await app.inject({ method: 'GET', url: `/api/hello?access_token=${token}` })
  t.equal(query.statusCode, 403, 'a bound token in the query is a bearer presentation: refused')
  const empty = await app.inject({ method: 'GET', url: '/api/hello', headers: { authorization: 'DPoP', dpop: await proof(key, { htm: 'GET', htu: `${ORIGIN}/api/hello` }) } })
  t.equal(empty.statusCode, 400)
  t.match(empty.headers['www-authenticate'], /^DPoP realm="api", error="invalid_request"/)
})

t.test('server nonces at a resource: use_dpop_nonce with DPoP-Nonce, then accepted', async (t) => {
  const app = await buildDpopApp(t, { dpopNonceKey: 'c'.repeat(64), settings: { dpopNonceRequired: true } })
  const client = await createClient(app)
  const key = await dpopKey()
  const first = await postToken(app, { grant_type: 'client_credentials' }, { authorization: client.authorization, dpop: await proof(key) })
  const nonce = first.headers['dpop-nonce'] as string
  const token = (await postToken(app, { grant_type: 'client_credentials' }, { authorization: client.authorization, dpop: await proof(key, { nonce }) })).json().access_token as string
  const without = await app.inject({ method: 'GET', url: '/api/hello', headers: await dpopHeaders(key, token) })
  t.equal(without.statusCode, 401)
  t.equal(without.headers['www-authenticate'], `DPoP realm="api", error="use_dpop_nonce", error_description="The DPoP proof must carry the server-provided nonce.", ${ALGS}`)
  t.equal(without.headers['dpop-nonce'], nonce)
  const ok = await app.inject({ method: 'GET', url: '/api/hello', headers: await dpopHeaders(key, token, '/api/hello', { nonce }) })
  t.equal(ok.statusCode, 200)
})

t.test('ProtectedResourceView checks DPoP tokens the same way', async (t) => {
  const app = await buildDpopApp(t)
  class HelloView extends ProtectedResourceView {
    async get (): Promise<string> { return 'hello' }
  }
  await app.register(HelloView.asView('/api/view'))
  const { token, key } = await boundToken(app)
  t.equal((await app.inject({ method: 'GET', url: '/api/view', headers: await dpopHeaders(key, token, '/api/view') })).statusCode, 200)
  t.equal((await app.inject({ method: 'GET', url: '/api/view', headers: { authorization: `Bearer ${token}` } })).statusCode, 403)
  const stolen = await app.inject({ method: 'GET', url: '/api/view', headers: await dpopHeaders(await dpopKey(), token, '/api/view') })
  t.equal(stolen.statusCode, 401)
})

t.test('UserInfo takes DPoP tokens with proofs and refuses them as Bearer', async (t) => {
  const { buildOidcApp, createOidcApplication } = await import('../oidc/support.js')
  const app = await buildOidcApp(t, { settings: { issuer: 'http://localhost/o', dpopEnabled: true } })
  const created = await createOidcApplication(app)
  const key = await dpopKey()
  // The code exchange with a proof: oidcCodeFlow posts through exchangeCode, so drive it by hand.
  const { obtainCode, pkcePair } = await import('../helpers/authorize.js')
  const { verifier, challenge } = pkcePair()
  const redirectUri = created.application.redirectUris[0] ?? ''
  const code = await obtainCode(app, { response_type: 'code', client_id: created.application.clientId, redirect_uri: redirectUri, code_challenge: challenge, code_challenge_method: 'S256', scope: 'openid' })
  const { basicAuth } = await import('../helpers/index.js')
  const res = await postToken(app, { grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier },
    { authorization: basicAuth(created.application.clientId, created.clientSecret ?? ''), dpop: await proof(key) })
  t.equal(res.json().token_type, 'DPoP', res.body)
  const token = res.json().access_token as string
  const info = await app.inject({ method: 'GET', url: '/o/userinfo/', headers: await dpopHeaders(key, token, '/o/userinfo/') })
  t.equal(info.statusCode, 200, info.body)
  const asBearer = await app.inject({ method: 'GET', url: '/o/userinfo/', headers: { authorization: `Bearer ${token}` } })
  t.equal(asBearer.statusCode, 401)
  t.match(asBearer.headers['www-authenticate'], /^Bearer realm="api", error="invalid_token".*, DPoP algs=/)
  const noProof = await app.inject({ method: 'GET', url: '/o/userinfo/', headers: { authorization: `DPoP ${token}` } })
  t.equal(noProof.statusCode, 401)
  t.match(noProof.headers['www-authenticate'], /^DPoP realm="api", error="invalid_dpop_proof"/)
})

t.test('a route declaring a resource names its RFC 9728 metadata in DPoP challenges too', async (t) => {
  const resource = 'http://localhost/api/mcp'
  const app = await buildDpopApp(t, { settings: { protectedResources: [{ resource }] } })
  app.get('/api/mcp', { onRequest: app.oauth.protect({ resource }) }, async () => 'ok')
  const client = await createClient(app)
  const key = await dpopKey()
  const res = await postToken(app, { grant_type: 'client_credentials', resource }, { authorization: client.authorization, dpop: await proof(key) })
  const token = res.json().access_token as string
  t.equal((await app.inject({ method: 'GET', url: '/api/mcp', headers: await dpopHeaders(key, token, '/api/mcp') })).statusCode, 200)
  const noProof = await app.inject({ method: 'GET', url: '/api/mcp', headers: { authorization: `DPoP ${token}` } })
  t.equal(noProof.statusCode, 401)
  t.equal(noProof.headers['www-authenticate'],
    `DPoP realm="api", error="invalid_dpop_proof", error_description="The DPoP proof is invalid.", resource_metadata="http://localhost/.well-known/oauth-protected-resource/api/mcp", ${ALGS}`)
})
