// OpenID Connect ID tokens from the token endpoint (OIDC Core §3.1.3.3, §12.2), the signing
// key option and the `generatekey` command.
import { createHash, createPrivateKey, generateKeyPairSync } from 'node:crypto'
import { decodeProtectedHeader } from 'jose'
import t from 'tap'
import { serverContext } from '../../lib/server.js'
import { loadSigningKeys } from '../../lib/tokens/signing-keys.js'
import { cli } from '../cli/helpers.js'
import { buildAuthorizeApp } from '../helpers/authorize.js'
import { ALICE, basicAuth, fixedClock, postToken } from '../helpers/index.js'
import { buildOidcApp, createOidcApplication, newRsaPem, oidcCodeFlow, oidcSettings, verifyIdToken, type OidcTokenBody } from './support.js'

const atHash = (token: string): string => createHash('sha256').update(token).digest().subarray(0, 16).toString('base64url')

t.test('openid in the code flow: an RS256 ID token with every claim, stored and linked to the access token', async (t) => {
  const clock = fixedClock('2026-03-01T10:00:00.000Z')
  const app = await buildOidcApp(t, { clock, resolveUser: () => ({ id: ALICE.id, authTime: new Date('2026-03-01T09:30:00.000Z') }) })
  const created = await createOidcApplication(app)
  const body = await oidcCodeFlow(app, created, { scope: 'openid read', nonce: 'n-0S6_WzA2Mj' })
  t.type(body.id_token, 'string')
  const keys = serverContext(app.oauth).oidc?.keys
  const { payload, protectedHeader } = await verifyIdToken({ keys: [...(keys?.publicKeys ?? [])] }, body.id_token ?? '', created.application.clientId, clock.now())
  t.equal(protectedHeader.alg, 'RS256')
  t.equal(protectedHeader.kid, keys?.kid, 'kid is the JWK thumbprint of the active key')
  t.equal(payload.iss, 'https://auth.example.com/o')
  t.equal(payload.sub, ALICE.id)
  t.equal(payload.aud, created.application.clientId)
  t.equal(payload.iat, Date.parse('2026-03-01T10:00:00.000Z') / 1000)
  t.equal(payload.exp, (payload.iat ?? 0) + 36000, 'idTokenExpireSeconds (DOT default 36000)')
  t.equal(payload.auth_time, Date.parse('2026-03-01T09:30:00.000Z') / 1000, 'auth_time from resolveUser')
  t.equal(payload.nonce, 'n-0S6_WzA2Mj', 'the nonce round-trips (NONCE-1)')
  t.equal(payload.at_hash, atHash(body.access_token))
  t.type(payload.jti, 'string')

  const record = await app.oauth.store.findIdTokenByJti(String(payload.jti))
  t.match(record, { applicationId: created.application.id, userId: ALICE.id, scope: 'openid read' })
  t.same(record?.expiresAt, new Date('2026-03-01T20:00:00.000Z'))
  const tokens = await app.oauth.store.listAccessTokensForUser(ALICE.id)
  t.equal(tokens[0]?.idTokenId, record?.id, 'the access token refers to its ID token')
})

t.test('no nonce in the request, no nonce in the token (nonce is optional for code, NONCE-1)', async (t) => {
  const app = await buildOidcApp(t)
  const created = await createOidcApplication(app)
  const body = await oidcCodeFlow(app, created)
  const keys = [...(serverContext(app.oauth).oidc?.keys.publicKeys ?? [])]
  const { payload } = await verifyIdToken({ keys }, body.id_token ?? '', created.application.clientId, new Date())
  t.equal(payload.nonce, undefined)
  t.type(payload.auth_time, 'number', 'auth_time is always there (the approval time when resolveUser gives none)')
})

t.test('without openid in the scope there is no ID token', async (t) => {
  const app = await buildOidcApp(t)
  const created = await createOidcApplication(app)
  const body = await oidcCodeFlow(app, created, { scope: 'read' })
  t.equal(body.id_token, undefined)
  t.equal(body.scope, 'read')
})

t.test('with OIDC off, openid is just a scope: no ID token', async (t) => {
  const app = await buildOidcApp(t, { settings: { oidcEnabled: false } })
  const created = await createOidcApplication(app)
  const body = await oidcCodeFlow(app, created)
  t.equal(body.id_token, undefined)
  t.equal(body.scope, 'openid')
})

t.test('a refresh brings a new ID token: new jti and at_hash, no nonce, the original auth_time (OIDC Core §12.2)', async (t) => {
  const clock = fixedClock('2026-03-01T10:00:00.000Z')
  const authTime = new Date('2026-03-01T09:30:00.000Z')
  const app = await buildOidcApp(t, { clock, resolveUser: () => ({ id: ALICE.id, authTime }) })
  const created = await createOidcApplication(app)
  const first = await oidcCodeFlow(app, created, { nonce: 'abc' })
  clock.advance(61)
  // The code is gone by now: auth_time lives with the refresh token family, not the code.
  t.equal((await app.oauth.clearExpiredTokens()).grants, 1)
  const res = await postToken(app, { grant_type: 'refresh_token', refresh_token: first.refresh_token ?? '' },
    { authorization: basicAuth(created.application.clientId, created.clientSecret ?? '') })
  t.equal(res.statusCode, 200)
  const body = res.json<OidcTokenBody>()
  const keys = [...(serverContext(app.oauth).oidc?.keys.publicKeys ?? [])]
  const before = (await verifyIdToken({ keys }, first.id_token ?? '', created.application.clientId, clock.now())).payload
  const after = (await verifyIdToken({ keys }, body.id_token ?? '', created.application.clientId, clock.now())).payload
  t.equal(after.sub, before.sub)
  t.equal(after.iss, before.iss)
  t.equal(after.aud, before.aud)
  t.not(after.jti, before.jti)
  t.equal(after.iat, (before.iat ?? 0) + 61)
  t.equal(after.nonce, undefined)
  t.equal(after.at_hash, atHash(body.access_token))
  t.equal(after.auth_time, authTime.getTime() / 1000, 'the time of the original authentication, not of the refresh')
  t.ok(await app.oauth.store.findIdTokenByJti(String(after.jti)), 'stored')
  clock.advance(60)
  const third = await postToken(app, { grant_type: 'refresh_token', refresh_token: body.refresh_token ?? '' },
    { authorization: basicAuth(created.application.clientId, created.clientSecret ?? '') })
  const again = (await verifyIdToken({ keys }, third.json<OidcTokenBody>().id_token ?? '', created.application.clientId, clock.now())).payload
  t.equal(again.auth_time, authTime.getTime() / 1000, 'carried across rotations')
})

t.test('an ID token is not an access token (JOSE-2)', async (t) => {
  const app = await buildOidcApp(t)
  const created = await createOidcApplication(app)
  const body = await oidcCodeFlow(app, created)
  const result = await app.oauth.authenticateBearer({ authorization: `Bearer ${body.id_token ?? ''}`, queryToken: undefined })
  t.equal(result.ok, false)
})

t.test('the key is validated at registration', async (t) => {
  const cases: Array<[string, Record<string, unknown>, string, RegExp]> = [
    ['oidcEnabled without a key', {}, 'OAT_ERR_OPTIONS', /needs `oidc: \{ privateKey \}`/],
    ['garbage', { oidc: { privateKey: 'not a key' } }, 'OAT_ERR_OPTIONS', /not a readable private key/],
    ['an EC key', { oidc: { privateKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() } }, 'OAT_ERR_OPTIONS', /but RS256 needs an RSA key/],
    ['a 1024-bit RSA key', { oidc: { privateKey: generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() } }, 'OAT_ERR_OPTIONS', /at least 2048/],
    ['a bad inactive key', { oidc: { privateKey: newRsaPem(), inactiveKeys: ['nope'] } }, 'OAT_ERR_OPTIONS', /inactiveKeys\[0\]/],
    ['getUserClaims not a function', { oidc: { privateKey: newRsaPem(), getUserClaims: 'x' } }, 'OAT_ERR_OPTIONS', /getUserClaims/],
  ]
  for (const [name, options, code, message] of cases) {
    await t.rejects(buildAuthorizeApp(t, { settings: oidcSettings(), ...options }), { code, message }, name)
  }
  await t.rejects(buildAuthorizeApp(t, { settings: { oidcEnabled: true }, oidc: { privateKey: newRsaPem() } }),
    { code: 'OAT_ERR_SETTINGS', message: /needs an "openid" entry in scopes/ }, 'openid must be a known scope')
})

t.test('PEM (PKCS#8 or PKCS#1) and JWK give the same key id; only public members are kept', async (t) => {
  const pem = newRsaPem()
  const key = createPrivateKey(pem)
  const fromPkcs8 = await loadSigningKeys({ privateKey: pem })
  const fromPkcs1 = await loadSigningKeys({ privateKey: key.export({ type: 'pkcs1', format: 'pem' }).toString() })
  const fromJwk = await loadSigningKeys({ privateKey: key.export({ format: 'jwk' }) as Record<string, unknown> })
  const fromJwkString = await loadSigningKeys({ privateKey: JSON.stringify(key.export({ format: 'jwk' })) })
  t.equal(fromPkcs1.kid, fromPkcs8.kid)
  t.equal(fromJwk.kid, fromPkcs8.kid)
  t.equal(fromJwkString.kid, fromPkcs8.kid)
  t.match(fromPkcs8.kid, /^[A-Za-z0-9_-]{43}$/, 'a SHA-256 thumbprint')
  t.same(Object.keys(fromPkcs8.publicKeys[0] ?? {}).sort(), ['alg', 'e', 'kid', 'kty', 'n', 'use'])
})

t.test('HS256 stays refused while secrets are stored hashed (JOSE-1)', async (t) => {
  const app = await buildOidcApp(t)
  await t.rejects(createOidcApplication(app, { algorithm: 'HS256' }), { name: 'ApplicationValidationError', message: /HS256 needs the client secret in clear/ })
})

t.test('generatekey prints a PEM the plugin accepts; --jwk a private JWK', async (t) => {
  const pem = await cli(['generatekey'])
  t.equal(pem.code, 0)
  t.equal(pem.stderr, '')
  t.match(pem.stdout, /^-----BEGIN PRIVATE KEY-----\n[\s\S]+-----END PRIVATE KEY-----\n$/)
  const keys = await loadSigningKeys({ privateKey: pem.stdout })
  t.equal(keys.publicKeys.length, 1)
  const jwk = await cli(['generatekey', '--jwk'])
  t.equal(jwk.code, 0)
  const parsed = JSON.parse(jwk.stdout) as Record<string, unknown>
  t.equal(parsed.kty, 'RSA')
  t.type(parsed.d, 'string')
  t.ok(await loadSigningKeys({ privateKey: parsed }))
  const app = await buildOidcApp(t, { oidc: { privateKey: pem.stdout } })
  const body = await oidcCodeFlow(app, await createOidcApplication(app))
  t.equal(decodeProtectedHeader(body.id_token ?? '').kid, keys.kid)
})
