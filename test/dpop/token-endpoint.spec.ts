// RFC 9449 at the token endpoint: bound tokens for every grant, and every refusal of a proof.
import { SignJWT, decodeJwt } from 'jose'
import t from 'tap'
import { basicAuth, createClient, postToken } from '../helpers/index.js'
import { passwordGrantOptions } from '../helpers/password-grant.js'
import { buildDpopApp, dpopKey, ISSUER, proof, TOKEN_URL, unsignedJws } from './support.js'

const INVALID_PROOF = { error: 'invalid_dpop_proof', error_description: 'The DPoP proof is invalid.' }

t.test('client_credentials with a proof: token_type DPoP, bound to the proof key', async (t) => {
  const app = await buildDpopApp(t)
  const client = await createClient(app)
  const key = await dpopKey()
  const res = await postToken(app, { grant_type: 'client_credentials' }, { authorization: client.authorization, dpop: await proof(key) })
  t.equal(res.statusCode, 200, res.body)
  const body = res.json()
  t.equal(body.token_type, 'DPoP')
  const found = await app.oauth.authenticateBearer({ authorization: `Bearer ${body.access_token as string}`, queryToken: undefined })
  t.equal(found.ok, false, 'RFC 9449 §7.2: a bound token presented as Bearer is refused')
  const introspect = await app.inject({ method: 'POST', url: '/o/introspect/', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: client.authorization }, payload: `token=${body.access_token as string}` })
  t.same(introspect.json().cnf, { jkt: key.jkt }, 'RFC 9449 §6.2: introspection names the key')
  t.equal(introspect.json().token_type, 'DPoP')
  // Without a proof the same client still gets a bearer token (dpop_bound_access_tokens is off).
  const plain = await postToken(app, { grant_type: 'client_credentials' }, { authorization: client.authorization })
  t.equal(plain.json().token_type, 'Bearer')
  const plainIntrospected = await app.inject({ method: 'POST', url: '/o/introspect/', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: client.authorization }, payload: `token=${plain.json().access_token as string}` })
  t.notOk('cnf' in plainIntrospected.json())
})

t.test('every accepted algorithm by default signs a proof that passes', async (t) => {
  const app = await buildDpopApp(t)
  const client = await createClient(app)
  for (const alg of ['ES256', 'ES384', 'ES512', 'PS256', 'RS256', 'EdDSA']) {
    const key = await dpopKey(alg)
    const res = await postToken(app, { grant_type: 'client_credentials' }, { authorization: client.authorization, dpop: await proof(key) })
    t.equal(res.json().token_type, 'DPoP', alg)
  }
})

t.test('refused proofs at the token endpoint: invalid_dpop_proof, and no token', async (t) => {
  const app = await buildDpopApp(t)
  const client = await createClient(app)
  const key = await dpopKey()
  const other = await dpopKey()
  const now = Math.floor(Date.now() / 1000)
  const hmacKey = new TextEncoder().encode('a-shared-secret-of-thirty-two-by')
  const cases: Array<[string, string | string[]]> = [
    ['bad signature (signed by another key than its jwk)', await proof({ ...key, privateKey: other.privateKey })],
    ['wrong htm', await proof(key, { htm: 'GET' })],
    ['wrong htu (another path)', await proof(key, { htu: `${ISSUER}/revoke-token/` })],
    ['wrong htu (another host)', await proof(key, { htu: 'http://evil.example/o/token/' })],
    ['wrong htu (another scheme)', await proof(key, { htu: 'https://localhost/o/token/' })],
    ['iat too old', await proof(key, { iat: now - 120 })],
    ['iat in the future', await proof(key, { iat: now + 120 })],
    ['typ missing', await proof(key, { header: { typ: undefined } })],
    ['typ JWT', await proof(key, { header: { typ: 'JWT' } })],
    ['no jwk', await proof(key, { header: { jwk: undefined } })],
    ['private key in jwk', await proof(key, { header: { jwk: { ...key.publicJwk, d: 'AAAA' } } })],
    ['jti missing', await proof(key, { claims: { jti: undefined } })],
    ['htu missing', await proof(key, { claims: { htu: undefined } })],
    ['iat missing', await proof(key, { claims: { iat: undefined } })],
    ['iat a string', await proof(key, { claims: { iat: String(now) } })],
    ['alg none', unsignedJws({ typ: 'dpop+jwt', alg: 'none', jwk: key.publicJwk }, { jti: 'x', htm: 'POST', htu: TOKEN_URL, iat: now })],
    ['alg HS256 with an oct key', await new SignJWT({ jti: 'y', htm: 'POST', htu: TOKEN_URL, iat: now })
      .setProtectedHeader({ typ: 'dpop+jwt', alg: 'HS256', jwk: { kty: 'oct', k: Buffer.from(hmacKey).toString('base64url') } } as never).sign(hmacKey)],
    ['not a JWS', 'not-a-proof'],
    ['two DPoP headers', [await proof(key), await proof(key)]],
    ['two proofs joined in one header', `${await proof(key)}, ${await proof(key)}`],
  ]
  for (const [name, dpop] of cases) {
    const res = await app.inject({ method: 'POST', url: '/o/token/', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: client.authorization, dpop }, payload: 'grant_type=client_credentials' })
    t.equal(res.statusCode, 400, name)
    t.same(res.json(), INVALID_PROOF, name)
  }
})

t.test('a proof is good once: its jti replayed is refused', async (t) => {
  const app = await buildDpopApp(t)
  const client = await createClient(app)
  const key = await dpopKey()
  const dpop = await proof(key)
  t.equal((await postToken(app, { grant_type: 'client_credentials' }, { authorization: client.authorization, dpop })).statusCode, 200)
  const replay = await postToken(app, { grant_type: 'client_credentials' }, { authorization: client.authorization, dpop })
  t.equal(replay.statusCode, 400)
  t.same(replay.json(), INVALID_PROOF)
})

t.test('the htu is checked against the issuer, never the Host header', async (t) => {
  const app = await buildDpopApp(t)
  const client = await createClient(app)
  const key = await dpopKey()
  const spoofed = await app.inject({
    method: 'POST',
    url: '/o/token/',
    payload: 'grant_type=client_credentials',
    headers: { host: 'evil.example', 'content-type': 'application/x-www-form-urlencoded', authorization: client.authorization, dpop: await proof(key, { htu: 'http://evil.example/o/token/' }) },
  })
  t.same(spoofed.json(), INVALID_PROOF, 'a proof for the forged host fails')
  const honest = await app.inject({
    method: 'POST',
    url: '/o/token/?ignored=1',
    payload: 'grant_type=client_credentials',
    headers: { host: 'evil.example', 'content-type': 'application/x-www-form-urlencoded', authorization: client.authorization, dpop: await proof(key, { htu: `${TOKEN_URL}#fragment` }) },
  })
  t.equal(honest.json().token_type, 'DPoP', 'query and fragment are ignored (RFC 9449 §4.3 step 9)')
})

t.test('dpop_bound_access_tokens: a client registered for DPoP must send a proof', async (t) => {
  const app = await buildDpopApp(t)
  const client = await createClient(app, { dpopBoundAccessTokens: true })
  const res = await postToken(app, { grant_type: 'client_credentials' }, { authorization: client.authorization })
  t.equal(res.statusCode, 400)
  t.same(res.json(), { error: 'invalid_dpop_proof', error_description: 'This client must send a DPoP proof.' })
  const key = await dpopKey()
  t.equal((await postToken(app, { grant_type: 'client_credentials' }, { authorization: client.authorization, dpop: await proof(key) })).json().token_type, 'DPoP')
})

t.test('DPoP off: a DPoP header is ignored and a bearer token issued', async (t) => {
  const app = await buildDpopApp(t, { settings: { dpopEnabled: false } })
  const client = await createClient(app)
  const res = await postToken(app, { grant_type: 'client_credentials' }, { authorization: client.authorization, dpop: 'garbage' })
  t.equal(res.json().token_type, 'Bearer')
  // A client registered for DPoP only is refused rather than downgraded to bearer tokens.
  const bound = await createClient(app, { dpopBoundAccessTokens: true })
  const refused = await postToken(app, { grant_type: 'client_credentials' }, { authorization: bound.authorization })
  t.equal(refused.statusCode, 400)
  t.same(refused.json(), { error: 'unauthorized_client', error_description: 'This client must use DPoP, which this server does not accept.' })
})

t.test('JWT access tokens carry cnf.jkt', async (t) => {
  const { generateKeyPair, exportPKCS8 } = await import('jose')
  const { privateKey } = await generateKeyPair('RS256', { extractable: true })
  const app = await buildDpopApp(t, { oidc: { privateKey: await exportPKCS8(privateKey) }, settings: { accessTokenFormat: 'jwt', accessTokenDefaultAudience: 'http://localhost/api' } })
  const client = await createClient(app)
  const key = await dpopKey()
  const res = await postToken(app, { grant_type: 'client_credentials' }, { authorization: client.authorization, dpop: await proof(key) })
  t.same(decodeJwt(res.json().access_token as string).cnf, { jkt: key.jkt })
  const bearer = await postToken(app, { grant_type: 'client_credentials' }, { authorization: client.authorization })
  t.notOk('cnf' in decodeJwt(bearer.json().access_token as string))
})

t.test('password grant: bound access token; a public client\'s refresh token is bound, and refreshing needs the same key', async (t) => {
  const app = await buildDpopApp(t, passwordGrantOptions())
  const pub = await createClient(app, { clientType: 'public', authorizationGrantType: 'password' })
  const key = await dpopKey()
  const other = await dpopKey()
  const { ALICE } = await import('../helpers/index.js')
  const first = await postToken(app, { grant_type: 'password', client_id: pub.clientId, username: ALICE.username, password: ALICE.password }, { dpop: await proof(key) })
  t.equal(first.statusCode, 200, first.body)
  const refreshToken = first.json().refresh_token as string
  const noProof = await postToken(app, { grant_type: 'refresh_token', client_id: pub.clientId, refresh_token: refreshToken })
  t.equal(noProof.json().error, 'invalid_grant', 'RFC 9449 §5: a bound refresh token needs a proof')
  const wrongKey = await postToken(app, { grant_type: 'refresh_token', client_id: pub.clientId, refresh_token: refreshToken }, { dpop: await proof(other) })
  t.equal(wrongKey.json().error, 'invalid_grant', 'a proof of another key is refused')
  const refreshed = await postToken(app, { grant_type: 'refresh_token', client_id: pub.clientId, refresh_token: refreshToken }, { dpop: await proof(key) })
  t.equal(refreshed.statusCode, 200, 'the failed attempts revoked nothing')
  t.equal(refreshed.json().token_type, 'DPoP')
  const again = await postToken(app, { grant_type: 'refresh_token', client_id: pub.clientId, refresh_token: refreshed.json().refresh_token as string })
  t.equal(again.json().error, 'invalid_grant', 'the rotated refresh token stays bound')
})

t.test('a confidential client\'s refresh token is not bound (RFC 9449 §5)', async (t) => {
  const app = await buildDpopApp(t, passwordGrantOptions())
  const conf = await createClient(app, { authorizationGrantType: 'password' })
  const key = await dpopKey()
  const { ALICE } = await import('../helpers/index.js')
  const first = await postToken(app, { grant_type: 'password', username: ALICE.username, password: ALICE.password }, { authorization: conf.authorization, dpop: await proof(key) })
  t.equal(first.json().token_type, 'DPoP')
  const refreshed = await postToken(app, { grant_type: 'refresh_token', refresh_token: first.json().refresh_token as string }, { authorization: basicAuth(conf.clientId, conf.secret) })
  t.equal(refreshed.statusCode, 200)
  t.equal(refreshed.json().token_type, 'Bearer', 'refreshed without a proof: a bearer token')
})

t.test('server nonces: use_dpop_nonce with DPoP-Nonce, then the nonce is accepted; a stale one is not', async (t) => {
  const { fixedClock } = await import('../helpers/index.js')
  const clock = fixedClock(new Date().toISOString())
  const app = await buildDpopApp(t, { clock, dpopNonceKey: 'a'.repeat(64), settings: { dpopNonceRequired: true } })
  const client = await createClient(app)
  const key = await dpopKey()
  const iat = (): number => Math.floor(clock.now().getTime() / 1000)
  const first = await postToken(app, { grant_type: 'client_credentials' }, { authorization: client.authorization, dpop: await proof(key, { iat: iat() }) })
  t.equal(first.statusCode, 400)
  t.same(first.json(), { error: 'use_dpop_nonce', error_description: 'The DPoP proof must carry the server-provided nonce.' })
  const nonce = first.headers['dpop-nonce'] as string
  t.match(nonce, /^[A-Za-z0-9_-]{22}$/)
  const ok = await postToken(app, { grant_type: 'client_credentials' }, { authorization: client.authorization, dpop: await proof(key, { iat: iat(), nonce }) })
  t.equal(ok.json().token_type, 'DPoP')
  t.equal(ok.headers['dpop-nonce'], nonce, 'the success also says the current nonce')
  const wrong = await postToken(app, { grant_type: 'client_credentials' }, { authorization: client.authorization, dpop: await proof(key, { iat: iat(), nonce: 'A'.repeat(22) }) })
  t.equal(wrong.json().error, 'use_dpop_nonce', 'an unknown nonce')
  clock.advance(3 * 300)
  const stale = await postToken(app, { grant_type: 'client_credentials' }, { authorization: client.authorization, dpop: await proof(key, { iat: iat(), nonce }) })
  t.equal(stale.json().error, 'use_dpop_nonce', 'a nonce from windows ago')
  t.not(stale.headers['dpop-nonce'], nonce, 'with a fresh one')
})

t.test('nonces are stateless: another instance with the same key accepts them', async (t) => {
  const a = await buildDpopApp(t, { dpopNonceKey: 'b'.repeat(64), settings: { dpopNonceRequired: true } })
  const b = await buildDpopApp(t, { dpopNonceKey: 'b'.repeat(64), settings: { dpopNonceRequired: true } })
  const client = await createClient(b)
  const clientOfA = await createClient(a)
  const key = await dpopKey()
  const first = await postToken(a, { grant_type: 'client_credentials' }, { authorization: clientOfA.authorization, dpop: await proof(key) })
  const nonce = first.headers['dpop-nonce'] as string
  const res = await postToken(b, { grant_type: 'client_credentials' }, { authorization: client.authorization, dpop: await proof(key, { nonce }) })
  t.equal(res.json().token_type, 'DPoP')
})

t.test('configuration: DPoP needs the issuer; nonces need a key', async (t) => {
  const { buildApp } = await import('../helpers/index.js')
  await t.rejects(buildApp(t, { settings: { dpopEnabled: true } }), /dpopEnabled needs the issuer setting/)
  await t.rejects(buildApp(t, { settings: { issuer: ISSUER, dpopEnabled: true, dpopNonceRequired: true } }), /dpopNonceRequired needs a dpopNonceKey option/)
  await t.rejects(buildApp(t, { settings: { issuer: ISSUER, dpopEnabled: true, dpopSigningAlgValues: ['HS256'] } }), /dpopSigningAlgValues may list only the asymmetric JWS algorithms .+; got "HS256"/)
  await t.rejects(buildApp(t, { settings: { issuer: ISSUER, dpopEnabled: true, dpopSigningAlgValues: ['none'] } }), /dpopSigningAlgValues may list only the asymmetric JWS algorithms .+; got "none"/)
  await t.rejects(buildApp(t, { dpopNonceKey: 'short', settings: { issuer: ISSUER, dpopEnabled: true, dpopNonceRequired: true } }), /dpopNonceKey must be 32 random bytes/)
})

t.test('metadata advertises dpop_signing_alg_values_supported only with DPoP on', async (t) => {
  const { oauthMetadata } = await import('../../index.js')
  const app = await buildDpopApp(t)
  await app.register(oauthMetadata, { routesPrefix: '/o' })
  const meta = (await app.inject('/.well-known/oauth-authorization-server/o')).json()
  t.same(meta.dpop_signing_alg_values_supported, ['ES256', 'ES384', 'ES512', 'PS256', 'RS256', 'EdDSA'])
  const off = await buildDpopApp(t, { settings: { dpopEnabled: false } })
  await off.register(oauthMetadata, { routesPrefix: '/o' })
  t.notOk('dpop_signing_alg_values_supported' in (await off.inject('/.well-known/oauth-authorization-server/o')).json())
})

t.test('dynamic registration: dpop_bound_access_tokens is registered, returned, enforced and validated', async (t) => {
  const app = await buildDpopApp(t, { settings: { dcrEnabled: true, dcrRegistrationPolicy: 'open', dcrRegistrationRateLimit: null } })
  const register = async (on: typeof app, body: object) => await on.inject({ method: 'POST', url: '/o/register/', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) })
  const base = { redirect_uris: ['https://client.example/cb'], grant_types: ['authorization_code'], token_endpoint_auth_method: 'none' }
  const res = await register(app, { ...base, dpop_bound_access_tokens: true })
  t.equal(res.statusCode, 201, res.body)
  t.equal(res.json().dpop_bound_access_tokens, true)
  const application = await app.oauth.store.findApplicationByClientId(res.json().client_id as string)
  t.equal(application?.dpopBoundAccessTokens, true)
  const read = await app.inject({ method: 'GET', url: `/o/register/${encodeURIComponent(res.json().client_id as string)}/`, headers: { authorization: `Bearer ${res.json().registration_access_token as string}` } })
  t.equal(read.json().dpop_bound_access_tokens, true, 'RFC 7592 read')
  t.equal((await register(app, base)).json().dpop_bound_access_tokens, false, 'default false')
  const wrong = await register(app, { ...base, dpop_bound_access_tokens: 'yes' })
  t.equal(wrong.statusCode, 400)
  t.same(wrong.json(), { error: 'invalid_client_metadata', error_description: 'dpop_bound_access_tokens must be a boolean.' })
  const off = await buildDpopApp(t, { settings: { dpopEnabled: false, dcrEnabled: true, dcrRegistrationPolicy: 'open', dcrRegistrationRateLimit: null } })
  const refused = await register(off, { ...base, dpop_bound_access_tokens: true })
  t.equal(refused.statusCode, 400)
  t.equal(refused.json().error, 'invalid_client_metadata')
  t.notOk('dpop_bound_access_tokens' in (await register(off, base)).json(), 'not said while DPoP is off')
})
