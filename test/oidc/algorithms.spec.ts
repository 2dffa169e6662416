// Signing algorithms: ES256, PS256 and EdDSA ID tokens beside RS256, validated end to end by
// openid-client v6 (with its non-repudiation checks, so the signature is verified against the
// served JWKS) and oauth4webapi (code flow and hybrid `code id_token`, whose c_hash depends on the
// algorithm); the JWKS, discovery, per-application algorithms, the ID-token claims hook, JWT
// access tokens and the key options' validation. Both clients talk to the app through
// `app.inject` (their customFetch), so nothing listens on a port.
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JWK } from 'jose'
import * as oauth from 'oauth4webapi'
import * as client from 'openid-client'
import t, { type Test } from 'tap'
import { oauthRoutes } from '../../index.js'
import { serverContext } from '../../lib/server.js'
import { loadSigningKeys, type SigningKeyAlgorithm } from '../../lib/tokens/signing-keys.js'
import { cli } from '../cli/helpers.js'
import { ALICE, createApplication, type BuildAppOptions } from '../helpers/index.js'
import { registerThroughPages, submitPage } from '../helpers/management.js'
import { asUser, getAuthorize, obtainCode, parseConsent, postDecision, REDIRECT_URI } from '../helpers/authorize.js'
import { buildOidcApp, createOidcApplication, ISSUER, newRsaPem, oidcCodeFlow } from './support.js'

/** A P-256 private key (cheap to make, unlike RSA). */
function ecPem (curve = 'P-256'): string {
  return generateKeyPairSync('ec', { namedCurve: curve }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
}

/** An Ed25519 private key as a JWK (the other accepted form). */
function edJwk (): Record<string, unknown> {
  return generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' }) as Record<string, unknown>
}

/** `fetch` answered by `app.inject`: the relying-party libraries reach the app without a socket. */
function injectFetch (app: FastifyInstance): (url: string | URL | Request, init?: RequestInit) => Promise<Response> {
  return async (input, init = {}) => {
    const url = new URL(input instanceof Request ? input.url : input.toString())
    const headers = Object.fromEntries(new Headers(init.headers ?? (input instanceof Request ? input.headers : undefined)).entries())
    const body = init.body === undefined || init.body === null ? undefined : init.body.toString()
    const res = await app.inject({
      method: (init.method ?? 'GET') as 'GET',
      url: `${url.pathname}${url.search}`,
      headers: { ...headers, host: url.host },
      ...(body === undefined ? {} : { payload: body }),
    })
    const out = new Headers()
    for (const [name, value] of Object.entries(res.headers)) if (value !== undefined) out.set(name, String(value))
    return new Response(res.statusCode === 204 ? null : res.rawPayload, { status: res.statusCode, headers: out })
  }
}

const ALGORITHMS: readonly SigningKeyAlgorithm[] = ['ES256', 'PS256', 'EdDSA']

// RSA keys are the costly kind: two, shared by every app of this file (none compares keys
// across apps); EC and Ed25519 keys are made freely.
const RSA = newRsaPem()
const RSA_PS = newRsaPem()

/** One RSA key per RSA algorithm, an EC and an Ed25519 key, and a retired EC key: an OP that signs with all four. */
async function allAlgorithmsApp (t: Test, options: BuildAppOptions = {}): Promise<{ app: FastifyInstance, retired: string }> {
  const retired = ecPem()
  const app = await buildOidcApp(t, {
    ...options,
    oidc: {
      privateKey: RSA,
      signingKeys: [{ alg: 'PS256', privateKey: RSA_PS }, { alg: 'ES256', privateKey: ecPem() }, { alg: 'EdDSA', privateKey: edJwk() }],
      inactiveKeys: [retired],
      ...options.oidc,
    },
  })
  return { app, retired }
}

// One OP for the end-to-end tests: its keys are made once (two RSA keys come from the pool).
const shared = await allAlgorithmsApp(t)
const op = shared.app

t.test('JOSE-3 the JWKS publishes every key with kid, alg and use, public members only; discovery lists what the server signs', async (t) => {
  const jwks = (await op.inject('/o/.well-known/jwks.json')).json<{ keys: Array<Record<string, unknown>> }>()
  t.same(jwks.keys.map((k) => k.alg), ['RS256', 'PS256', 'ES256', 'EdDSA', 'ES256'], 'active keys (RS256 first), then the retired one')
  t.same(jwks.keys.map((k) => Object.keys(k).sort()), [
    ['alg', 'e', 'kid', 'kty', 'n', 'use'], ['alg', 'e', 'kid', 'kty', 'n', 'use'],
    ['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y'], ['alg', 'crv', 'kid', 'kty', 'use', 'x'], ['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y'],
  ], 'no private member (d, p, q, …) leaves the server')
  t.ok(jwks.keys.every((k) => k.use === 'sig' && typeof k.kid === 'string'))
  t.equal(new Set(jwks.keys.map((k) => k.kid)).size, 5, 'every kid differs')
  t.same(jwks.keys.slice(2).map((k) => k.crv), ['P-256', 'Ed25519', 'P-256'])
  const retiredKid = (await loadSigningKeys({ signingKeys: [{ alg: 'ES256', privateKey: shared.retired }] })).kid
  t.equal(jwks.keys[4]?.kid, retiredKid, 'the retired key keeps its thumbprint kid')

  const discovery = (await op.inject('/o/.well-known/openid-configuration')).json<Record<string, unknown>>()
  t.same(discovery.id_token_signing_alg_values_supported, ['RS256', 'PS256', 'ES256', 'EdDSA'], 'no HS256 without a sealing key')
})

t.test('openid-client v6 validates ES256, PS256 and EdDSA ID tokens (signature included) in the code flow and on refresh', async (t) => {
  const jwks = createLocalJWKSet((await op.inject('/o/.well-known/jwks.json')).json<{ keys: JWK[] }>())
  for (const alg of ALGORITHMS) {
    const created = await createOidcApplication(op, { algorithm: alg })
    const { clientId } = created.application
    const config = await client.discovery(new URL(ISSUER), clientId, { id_token_signed_response_alg: alg }, client.ClientSecretBasic(created.clientSecret ?? ''),
      { [client.customFetch]: injectFetch(op) })
    config[client.customFetch] = injectFetch(op)
    // The ID token's signature is checked too, against the JWKS the library fetches.
    client.enableNonRepudiationChecks(config)
    const verifier = client.randomPKCECodeVerifier()
    const nonce = client.randomNonce()
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT_URI, scope: 'openid', nonce, state: 'st', code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    })
    const code = await obtainCode(op, Object.fromEntries(url.searchParams))
    const tokens = await client.authorizationCodeGrant(config, new URL(`${REDIRECT_URI}?code=${code}&state=st`),
      { pkceCodeVerifier: verifier, expectedNonce: nonce, expectedState: 'st', idTokenExpected: true })
    t.match(tokens.claims(), { iss: ISSUER, aud: clientId, sub: ALICE.id, nonce }, `${alg}: claims`)
    const header = decodeProtectedHeader(tokens.id_token ?? '')
    t.equal(header.alg, alg, `${alg}: the header names it`)
    const { protectedHeader } = await jwtVerify(tokens.id_token ?? '', jwks, { algorithms: [alg], issuer: ISSUER, audience: clientId })
    t.equal(protectedHeader.kid, header.kid, `${alg}: the kid names a published key of that algorithm`)
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token ?? '')
    t.equal(decodeProtectedHeader(refreshed.id_token ?? '').alg, alg, `${alg}: the refreshed ID token too`)
  }
})

t.test('oauth4webapi validates them too: code flow, and the hybrid c_hash (SHA-512 for EdDSA)', async (t) => {
  const fetch = injectFetch(op)
  const as = await oauth.processDiscoveryResponse(new URL(ISSUER), await oauth.discoveryRequest(new URL(ISSUER), { [oauth.customFetch]: fetch }))
  for (const alg of ALGORITHMS) {
    // Authorization code flow, the signature checked with validateApplicationLevelSignature.
    const created = await createOidcApplication(op, { algorithm: alg })
    const rp: oauth.Client = { client_id: created.application.clientId, id_token_signed_response_alg: alg }
    const auth = oauth.ClientSecretBasic(created.clientSecret ?? '')
    const verifier = oauth.generateRandomCodeVerifier()
    const nonce = oauth.generateRandomNonce()
    const code = await obtainCode(op, {
      response_type: 'code',
      client_id: rp.client_id,
      redirect_uri: REDIRECT_URI,
      scope: 'openid',
      nonce,
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    })
    const params = oauth.validateAuthResponse(as, rp, new URL(`${REDIRECT_URI}?code=${code}`))
    const response = await oauth.authorizationCodeGrantRequest(as, rp, auth, params, REDIRECT_URI, verifier, { [oauth.customFetch]: fetch })
    const result = await oauth.processAuthorizationCodeResponse(as, rp, response, { expectedNonce: nonce, requireIdToken: true })
    await oauth.validateApplicationLevelSignature(as, response, { [oauth.customFetch]: fetch })
    t.equal(oauth.getValidatedIdTokenClaims(result)?.sub, ALICE.id, `${alg}: code flow`)

    // Hybrid `code id_token`: the front-channel ID token's signature and c_hash, by the library.
    const hybrid = await createApplication(op, { authorizationGrantType: 'openid-hybrid', redirectUris: [REDIRECT_URI], algorithm: alg })
    const hybridRp: oauth.Client = { client_id: hybrid.application.clientId, id_token_signed_response_alg: alg }
    const hybridNonce = oauth.generateRandomNonce()
    const page = await getAuthorize(op, {
      response_type: 'code id_token',
      client_id: hybridRp.client_id,
      redirect_uri: REDIRECT_URI,
      scope: 'openid',
      nonce: hybridNonce,
      state: 'hy',
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256'
    })
    const answer = await postDecision(op, parseConsent(page))
    const fragment = new URLSearchParams(new URL(String(answer.headers.location)).hash.slice(1))
    const validated = await oauth.validateCodeIdTokenResponse(as, hybridRp, fragment, hybridNonce, 'hy', undefined, { [oauth.customFetch]: fetch })
    t.equal(validated.get('code'), fragment.get('code'), `${alg}: c_hash and signature accepted`)
  }
})

t.test('an application without an algorithm gets the default: RS256, else the first of signingKeys', async (t) => {
  const created = await createOidcApplication(op)
  t.equal(decodeProtectedHeader((await oidcCodeFlow(op, created)).id_token ?? '').alg, 'RS256')

  const ecOnly = await buildOidcApp(t, { oidc: { signingKeys: [{ alg: 'ES256', privateKey: ecPem() }, { alg: 'EdDSA', privateKey: edJwk() }] } })
  const discovery = (await ecOnly.inject('/o/.well-known/openid-configuration')).json<Record<string, unknown>>()
  t.same(discovery.id_token_signing_alg_values_supported, ['ES256', 'EdDSA'])
  const plain = await createOidcApplication(ecOnly)
  const header = decodeProtectedHeader((await oidcCodeFlow(ecOnly, plain)).id_token ?? '')
  t.equal(header.alg, 'ES256')
  t.equal(header.kid, serverContext(ecOnly.oauth).oidc?.keys.kid)
  await t.rejects(createOidcApplication(ecOnly, { algorithm: 'RS256' }), { name: 'ApplicationValidationError', message: /algorithm: the server has no RS256 signing key \(it signs with ES256, EdDSA\)/ })
})

t.test('a per-application algorithm must be one the server has a key for', async (t) => {
  const rsaOnly = await buildOidcApp(t, { oidc: { privateKey: RSA } })
  for (const alg of ALGORITHMS) {
    await t.rejects(createOidcApplication(rsaOnly, { algorithm: alg }), { name: 'ApplicationValidationError', message: new RegExp(`no ${alg} signing key`) }, alg)
  }
  await t.rejects(createOidcApplication(rsaOnly, { algorithm: 'ES512' }), { message: /must be empty, "RS256", "PS256", "ES256", "EdDSA" or "HS256"/ })
  await t.rejects(createOidcApplication(rsaOnly, { algorithm: 'none' }), { message: /must be empty/ })
  // Updating to an algorithm without a key is refused the same way.
  const created = await createOidcApplication(op, { algorithm: 'ES256' })
  const fields = { clientType: 'confidential', authorizationGrantType: 'authorization-code', redirectUris: [REDIRECT_URI] }
  const updated = await op.oauth.updateApplication(created.application.id, { ...fields, algorithm: 'EdDSA' })
  t.equal(updated?.application.algorithm, 'EdDSA')
  const onRsaOnly = await createOidcApplication(rsaOnly)
  await t.rejects(rsaOnly.oauth.updateApplication(onRsaOnly.application.id, { ...fields, algorithm: 'PS256' }), { message: /no PS256 signing key/ })
})

t.test('the management pages offer the algorithms the server signs with, and refuse one it cannot', async (t) => {
  const pagesApp = async (oidc: NonNullable<BuildAppOptions['oidc']>): Promise<FastifyInstance> => {
    const app = await buildOidcApp(t, { oidc, prefix: false })
    await app.register(oauthRoutes, { prefix: '/o', managementPages: true })
    return app
  }
  const app = await pagesApp({ privateKey: RSA, signingKeys: [{ alg: 'ES256', privateKey: ecPem() }, { alg: 'EdDSA', privateKey: edJwk() }] })
  const page = await app.inject({ url: '/o/applications/register/', headers: asUser(ALICE.id) })
  const options = [.../<select id="algorithm"[^>]*>([\s\S]*?)<\/select>/.exec(page.body)?.[1]?.matchAll(/<option value="([^"]*)"/g) ?? []].map((m) => m[1])
  t.same(options, ['', 'RS256', 'ES256', 'EdDSA'])
  const fields = { name: 'RP', clientType: 'confidential', authorizationGrantType: 'authorization-code', redirectUris: REDIRECT_URI }
  const made = await registerThroughPages(app, { ...fields, algorithm: 'EdDSA' })
  t.equal((await app.oauth.store.findApplicationByClientId(made.clientId))?.algorithm, 'EdDSA')
  const refused = await submitPage(app, '/o/applications/register/', '/o/applications/register/', { ...fields, postLogoutRedirectUris: '', allowedOrigins: '', algorithm: 'PS256' })
  t.equal(refused.statusCode, 400)
  t.match(refused.body, 'the server has no PS256 signing key (it signs with RS256, ES256, EdDSA)')
})

t.test('an application whose key was removed fails loudly rather than sign with another algorithm', async (t) => {
  const app = await buildOidcApp(t, { oidc: { privateKey: RSA } })
  const created = await createOidcApplication(app)
  // As if it had been registered while the server still had an ES256 key.
  await app.oauth.store.updateApplication(created.application.id, { algorithm: 'ES256' }, new Date())
  await t.rejects(oidcCodeFlow(app, created), /code exchange failed: .*server_error/)
})

t.test('getIdTokenClaims adds the host\'s claims; the protocol claims are the server\'s; standard claims follow the scopes', async (t) => {
  const calls: unknown[] = []
  const app = await buildOidcApp(t, {
    oidc: {
      privateKey: RSA,
      getIdTokenClaims: async (userId, scopes, context) => {
        calls.push({ userId, scopes: [...scopes], context })
        return {
          roles: ['admin'],
          'https://example.com/tenant': 't-1',
          email: 'alice@example.com',
          name: 'Alice',
          iss: 'https://evil.example',
          sub: 'mallory',
          aud: 'other',
          exp: 9999999999,
          iat: 1,
          nbf: 1,
          nonce: 'forged',
          at_hash: 'x',
          c_hash: 'x',
          auth_time: 1,
          acr: 'gold',
          amr: ['pwd'],
          azp: 'other',
          sid: 's',
          jti: 'j',
          cnf: { jkt: 'x' },
        }
      },
    },
  })
  const created = await createOidcApplication(app)
  const body = await oidcCodeFlow(app, created, { scope: 'openid email', nonce: 'n-1' })
  const jwks = createLocalJWKSet((await app.inject('/o/.well-known/jwks.json')).json<{ keys: JWK[] }>())
  const { payload } = await jwtVerify(body.id_token ?? '', jwks, { issuer: ISSUER, audience: created.application.clientId })
  t.match(payload, { iss: ISSUER, sub: ALICE.id, aud: created.application.clientId, nonce: 'n-1', roles: ['admin'], 'https://example.com/tenant': 't-1', email: 'alice@example.com' })
  t.notOk('name' in payload, 'name needs the profile scope')
  for (const reserved of ['nbf', 'acr', 'amr', 'azp', 'sid', 'cnf', 'c_hash']) t.notOk(reserved in payload, `${reserved} is not the hook's`)
  t.not(payload.auth_time, 1, 'auth_time is the server\'s')
  t.not(payload.at_hash, 'x')
  t.not(payload.jti, 'j')
  t.ok((payload.exp ?? 0) < 9999999999)
  t.same(calls, [{ userId: ALICE.id, scopes: ['openid', 'email'], context: { clientId: created.application.clientId } }])
  // UserInfo is unchanged: it has its own source (getUserClaims, absent here).
  const info = await app.inject({ method: 'GET', url: '/o/userinfo/', headers: { authorization: `Bearer ${body.access_token}` } })
  t.same(info.json(), { sub: ALICE.id })

  await t.rejects(buildOidcApp(t, { oidc: { privateKey: RSA, getIdTokenClaims: 'roles' as never } }), { code: 'OAT_ERR_OPTIONS', message: /`oidc.getIdTokenClaims` must be a function/ })
})

t.test('JWT access tokens are signed with the accessTokenSigningAlgorithm key', async (t) => {
  const settings = { accessTokenFormat: 'jwt', accessTokenDefaultAudience: 'https://api.example.com', accessTokenSigningAlgorithm: 'EdDSA' } as const
  const { app } = await allAlgorithmsApp(t, { settings })
  const created = await createOidcApplication(app)
  const body = await oidcCodeFlow(app, created)
  const header = decodeProtectedHeader(body.access_token)
  t.match(header, { alg: 'EdDSA', typ: 'at+jwt' })
  const jwks = createLocalJWKSet((await app.inject('/o/.well-known/jwks.json')).json<{ keys: JWK[] }>())
  t.ok(await jwtVerify(body.access_token, jwks, { issuer: ISSUER, audience: 'https://api.example.com', algorithms: ['EdDSA'], typ: 'at+jwt' }))
  t.equal(decodeProtectedHeader(body.id_token ?? '').alg, 'RS256', 'the ID token keeps the application\'s default')

  await t.rejects(buildOidcApp(t, { settings, oidc: { privateKey: RSA } }), { code: 'OAT_ERR_OPTIONS', message: /accessTokenSigningAlgorithm is EdDSA, but the oidc option has no active EdDSA key/ })
  await t.rejects(buildOidcApp(t, { settings: { accessTokenSigningAlgorithm: 'HS256' as never }, oidc: { privateKey: RSA } }), { code: 'OAT_ERR_SETTINGS', message: /accessTokenSigningAlgorithm must be "RS256", "PS256", "ES256" or "EdDSA"/ })
})

t.test('idTokenSigningAlgorithm: the algorithm of applications that name none, with a key for it required at startup', async (t) => {
  const { app } = await allAlgorithmsApp(t, { settings: { idTokenSigningAlgorithm: 'ES256' } })
  const body = await oidcCodeFlow(app, await createOidcApplication(app))
  t.equal(decodeProtectedHeader(body.id_token ?? '').alg, 'ES256', 'not the RS256 default key')
  const pinned = await oidcCodeFlow(app, await createOidcApplication(app, { algorithm: 'PS256' }))
  t.equal(decodeProtectedHeader(pinned.id_token ?? '').alg, 'PS256', 'an application\'s own algorithm still wins')
  await t.rejects(buildOidcApp(t, { settings: { idTokenSigningAlgorithm: 'EdDSA' }, oidc: { privateKey: RSA } }), { code: 'OAT_ERR_OPTIONS', message: /idTokenSigningAlgorithm is EdDSA, but the oidc option has no active EdDSA key/ })
})

t.test('bad key options fail registration with one line naming the key', async (t) => {
  const rsa = RSA
  const edPublic = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' })
  const smallRsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['no key at all', {}, /give `privateKey` \(an RSA key for RS256\) or `signingKeys/],
    ['an EC key for PS256', { signingKeys: [{ alg: 'PS256', privateKey: ecPem() }] }, /signingKeys\[0\] is an EC key on P-256, but PS256 needs an RSA key/],
    ['a P-384 key for ES256', { signingKeys: [{ alg: 'ES256', privateKey: ecPem('P-384') }] }, /signingKeys\[0\] is an EC key on P-384, but ES256 needs an EC key on P-256/],
    ['an RSA key for EdDSA', { signingKeys: [{ alg: 'EdDSA', privateKey: rsa }] }, /is a 2048-bit RSA key, but EdDSA needs an Ed25519 key/],
    ['a 1024-bit key for PS256', { signingKeys: [{ alg: 'PS256', privateKey: smallRsa }] }, /1024-bit RSA key, but PS256 needs at least 2048 bits/],
    ['a public key', { signingKeys: [{ alg: 'EdDSA', privateKey: edPublic }] }, /signingKeys\[0\] is a public key; signing needs the private key/],
    ['two active keys for one algorithm', { signingKeys: [{ alg: 'ES256', privateKey: ecPem() }, { alg: 'ES256', privateKey: ecPem() }] }, /signingKeys\[0\] and signingKeys\[1\] are both active ES256 keys/],
    ['privateKey and an RS256 signingKey', { privateKey: rsa, signingKeys: [{ alg: 'RS256', privateKey: RSA_PS }] }, /privateKey and signingKeys\[0\] are both active RS256 keys/],
    ['one key for two algorithms', { privateKey: rsa, signingKeys: [{ alg: 'PS256', privateKey: rsa }] }, /privateKey and signingKeys\[0\] are the same key, for RS256 and PS256/],
    ['an unknown algorithm', { signingKeys: [{ alg: 'ES384', privateKey: ecPem('P-384') }] }, /signingKeys\[0\]\.alg must be RS256, PS256, ES256, EdDSA; got "ES384"/],
    ['a misspelt field', { signingKeys: [{ alg: 'ES256', privateKey: ecPem(), kid: 'mine' }] }, /signingKeys\[0\] has no field "kid"/],
    ['a bare key in signingKeys', { signingKeys: [ecPem()] }, /signingKeys\[0\] must be \{ alg, privateKey \}/],
    // `privateKey: process.env.OIDC_ES256_PRIVATE_KEY` with the variable unset names the field and the likely cause.
    ['an unset signingKeys privateKey', { signingKeys: [{ alg: 'ES256', privateKey: undefined }] }, /signingKeys\[0\]\.privateKey is undefined \(an unset environment variable\?\)/],
    ['an unset inactive key', { privateKey: rsa, inactiveKeys: [undefined] }, /inactiveKeys\[0\] is undefined \(an unset environment variable\?\)/],
    ['a JWK whose alg disagrees', { signingKeys: [{ alg: 'EdDSA', privateKey: { ...edJwk(), alg: 'Ed448' } }] }, /signingKeys\[0\] is a JWK for Ed448, but it is given for EdDSA/],
    ['an inactive key of no usable kind', { privateKey: rsa, inactiveKeys: [ecPem('P-384')] }, /inactiveKeys\[0\] is an EC key on P-384, but ES256 needs/],
    ['a misspelt oidc option', { privateKey: rsa, signingKey: [] }, /`oidc` has no option "signingKey" \(did you mean "signingKeys"\?\)/],
  ]
  for (const [name, oidc, message] of cases) {
    const err = await buildOidcApp(t, { oidc: oidc as never }).then(() => null, (e: unknown) => e as Error)
    t.match(err, { code: 'OAT_ERR_OPTIONS', message }, name)
    t.notMatch(err?.message ?? '', /\n/, `${name}: one line`)
  }
})

t.test('inactive keys: a bare key is taken for its kind, a JWK for its alg; public keys are enough', async (t) => {
  const rsaA = createPrivateKey(RSA)
  const rsaB = createPrivateKey(RSA_PS)
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const ed = generateKeyPairSync('ed25519')
  const active = ecPem()
  const keys = await loadSigningKeys({
    signingKeys: [{ alg: 'ES256', privateKey: active }],
    inactiveKeys: [
      createPublicKey(rsaA).export({ type: 'spki', format: 'pem' }).toString(),
      { ...rsaB.export({ format: 'jwk' }), alg: 'PS256' },
      ec.privateKey.export({ type: 'sec1', format: 'pem' }).toString(),
      ed.publicKey.export({ format: 'jwk' }),
      active,
    ],
  })
  t.same(keys.publicKeys.map((k) => k.alg), ['ES256', 'RS256', 'PS256', 'ES256', 'EdDSA'], 'the active key listed again is published once')
  t.same(keys.active.map((k) => k.alg), ['ES256'])
  t.equal(keys.alg, 'ES256')
  const asOption = await loadSigningKeys({ signingKeys: [{ alg: 'ES256', privateKey: active }], inactiveKeys: [{ alg: 'PS256', privateKey: createPublicKey(rsaB).export({ format: 'jwk' }) }] })
  t.equal(asOption.publicKeys[1]?.alg, 'PS256')
  t.equal(asOption.publicKeys[1]?.kid, keys.publicKeys[2]?.kid, 'a kid does not depend on the form the key came in')
  await t.rejects(loadSigningKeys({ signingKeys: [{ alg: 'ES256', privateKey: active }], inactiveKeys: [rsaA.export({ type: 'pkcs8', format: 'pem' }).toString(), { alg: 'PS256', privateKey: createPublicKey(rsaA).export({ format: 'jwk' }) }] }),
    { message: /inactiveKeys\[0\] and inactiveKeys\[1\] are the same key, for RS256 and PS256/ })
})

t.test('generatekey makes a key of each kind, as PEM or JWK, that the plugin takes for its algorithm', async (t) => {
  for (const [alg, kty] of [['ES256', 'EC'], ['EdDSA', 'OKP'], ['PS256', 'RSA']] as const) {
    const pem = await cli(['generatekey', '--alg', alg])
    t.equal(pem.code, 0, `${alg}: PEM`)
    t.match(pem.stdout, /^-----BEGIN PRIVATE KEY-----\n[\s\S]+-----END PRIVATE KEY-----\n$/)
    t.equal((await loadSigningKeys({ signingKeys: [{ alg, privateKey: pem.stdout }] })).alg, alg)
    if (alg === 'PS256') continue // one RSA key is enough: RSA generation is the costly kind
    const jwk = await cli(['generatekey', '--alg', alg, '--jwk'])
    const parsed = JSON.parse(jwk.stdout) as Record<string, unknown>
    t.match(parsed, { kty, alg, d: String }, `${alg}: a private JWK naming its alg`)
    t.equal((await loadSigningKeys({ signingKeys: [{ alg, privateKey: parsed }] })).publicKeys[0]?.alg, alg)
    t.equal((await loadSigningKeys({ signingKeys: [{ alg: 'ES256', privateKey: ecPem() }], inactiveKeys: [parsed] })).publicKeys.at(-1)?.alg, alg, `${alg}: a retired JWK keeps its algorithm`)
  }
  const bad = await cli(['generatekey', '--alg', 'HS256'])
  t.equal(bad.code, 2)
  t.match(bad.stderr, /option '--alg' must be one of RS256, PS256, ES256, EdDSA/)
  t.equal((await cli(['generatekey', '--sealing', '--alg', 'ES256'])).code, 2)
})

t.test('signed UserInfo (OIDC Core §5.3.2): openid-client verifies ES256 and EdDSA responses against the JWKS, bearer and DPoP-bound', async (t) => {
  const { app } = await allAlgorithmsApp(t, {
    settings: { dpopEnabled: true },
    oidc: { getUserClaims: async () => ({ name: 'Alice', email: 'alice@example.com', email_verified: true }) },
  })
  const discovery = (await app.inject('/o/.well-known/openid-configuration')).json<Record<string, unknown>>()
  t.same(discovery.userinfo_signing_alg_values_supported, ['RS256', 'PS256', 'ES256', 'EdDSA'], 'the active keys\' algorithms, no none')
  const jwks = createLocalJWKSet((await app.inject('/o/.well-known/jwks.json')).json<{ keys: JWK[] }>())
  for (const alg of ['ES256', 'EdDSA'] as const) {
    const created = await createOidcApplication(app, { userinfoSignedResponseAlg: alg })
    const { clientId } = created.application
    const config = await client.discovery(new URL(ISSUER), clientId, { userinfo_signed_response_alg: alg }, client.ClientSecretBasic(created.clientSecret ?? ''),
      { [client.customFetch]: injectFetch(app) })
    config[client.customFetch] = injectFetch(app)
    const body = await oidcCodeFlow(app, created, { scope: 'openid email' })
    // openid-client refuses anything but a JWT signed with `alg` by a key of the JWKS.
    const info = await client.fetchUserInfo(config, body.access_token, ALICE.id)
    t.match(info, { sub: ALICE.id, email: 'alice@example.com', email_verified: true, iss: ISSUER, aud: clientId }, `${alg}: the claims, iss and aud`)
    t.notOk('name' in info, `${alg}: still only the claims of the granted scopes`)
    const raw = await app.inject({ url: '/o/userinfo/', headers: { authorization: `Bearer ${body.access_token}` } })
    t.equal(raw.headers['content-type'], 'application/jwt')
    t.equal(raw.headers['cache-control'], 'no-store')
    const { protectedHeader } = await jwtVerify(raw.body, jwks, { algorithms: [alg], issuer: ISSUER, audience: clientId })
    t.equal(typeof protectedHeader.kid, 'string', `${alg}: kid in the header`)

    // A DPoP-bound token: the proof is checked first, then the answer is signed the same way.
    const dpop = client.getDPoPHandle(config, await client.randomDPoPKeyPair('ES256'))
    const verifier = client.randomPKCECodeVerifier()
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT_URI, scope: 'openid email', state: 'st', code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    })
    const code = await obtainCode(app, Object.fromEntries(url.searchParams))
    const tokens = await client.authorizationCodeGrant(config, new URL(`${REDIRECT_URI}?code=${code}&state=st`),
      { pkceCodeVerifier: verifier, expectedState: 'st' }, undefined, { DPoP: dpop })
    t.equal(tokens.token_type.toLowerCase(), 'dpop')
    t.match(await client.fetchUserInfo(config, tokens.access_token, ALICE.id, { DPoP: dpop }), { sub: ALICE.id, aud: clientId }, `${alg}: DPoP-bound`)
    const noProof = await app.inject({ url: '/o/userinfo/', headers: { authorization: `DPoP ${tokens.access_token}` } })
    t.equal(noProof.statusCode, 401, `${alg}: no proof, no answer (signed or not)`)
  }

  // Without the setting: plain JSON, as before.
  const plain = await createOidcApplication(app)
  const body = await oidcCodeFlow(app, plain, { scope: 'openid email' })
  const res = await app.inject({ url: '/o/userinfo/', headers: { authorization: `Bearer ${body.access_token}` } })
  t.match(res.headers['content-type'], /^application\/json/)
  t.same(res.json(), { sub: ALICE.id, email: 'alice@example.com', email_verified: true })
})

t.test('userinfo_signed_response_alg must name an algorithm the server holds a key for', async (t) => {
  const rsaOnly = await buildOidcApp(t, { oidc: { privateKey: RSA } })
  await t.rejects(createOidcApplication(rsaOnly, { userinfoSignedResponseAlg: 'ES256' }), { name: 'ApplicationValidationError', message: /userinfoSignedResponseAlg: the server has no ES256 signing key \(it signs with RS256\)/ })
  for (const bad of ['none', 'HS256', 'ES512']) {
    await t.rejects(createOidcApplication(rsaOnly, { userinfoSignedResponseAlg: bad }), { message: /userinfoSignedResponseAlg: must be empty, "RS256", "PS256", "ES256" or "EdDSA"/ }, bad)
  }
  const created = await createOidcApplication(rsaOnly, { userinfoSignedResponseAlg: 'RS256' })
  const fields = { clientType: 'confidential', authorizationGrantType: 'authorization-code', redirectUris: [REDIRECT_URI] }
  await t.rejects(rsaOnly.oauth.updateApplication(created.application.id, { ...fields, userinfoSignedResponseAlg: 'PS256' }), { message: /no PS256 signing key/ })
  const kept = await rsaOnly.oauth.updateApplication(created.application.id, fields)
  t.equal(kept?.application.userinfoSignedResponseAlg, 'RS256', 'left out of an update, it stays')

  // A key removed after the client registered: a loud server error, never an unsigned or other-algorithm answer.
  await rsaOnly.oauth.store.updateApplication(created.application.id, { userinfoSignedResponseAlg: 'EdDSA' }, new Date())
  const body = await oidcCodeFlow(rsaOnly, created)
  const res = await rsaOnly.inject({ url: '/o/userinfo/', headers: { authorization: `Bearer ${body.access_token}` } })
  t.equal(res.statusCode, 500)
  t.notMatch(res.body, /eyJ/, 'no token of any kind')
})
