// The FAPI 2.0 Security Profile preset (FAPI2_SETTINGS): oauth4webapi runs the whole profile
// in process (private_key_jwt, PAR, PKCE S256, DPoP, RFC 9207 `iss`, a DPoP-bound resource call,
// a refresh without rotation) over `app.inject`, then each rule of the preset refuses what the
// profile forbids, at registration or on the wire.
import { randomUUID } from 'node:crypto'
import Fastify, { type FastifyInstance, type LightMyRequestResponse } from 'fastify'
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose'
import * as oauth from 'oauth4webapi'
import t, { type Test } from 'tap'
import { FAPI2_SETTINGS, fastifyOAuthToolkit, oauthMetadata, oauthRoutes, type SettingsInput } from '../../index.js'
import { responseTypesSupported } from '../../lib/endpoints/metadata.js'
import { validateClientMetadata } from '../../lib/registration/metadata.js'
import { resolveSettings } from '../../lib/settings.js'
import { basicAuth, buildApp, databasePath, FORM, form, testHasher } from '../helpers/index.js'
import { fetchConsent, getAuthorize, LOGIN_OPTIONS, obtainCode, pkcePair, postDecision, REDIRECT_URI, redirectParams } from '../helpers/authorize.js'
import { dpopHeaders, dpopKey, ISSUER, ORIGIN, proof, TOKEN_URL, type DpopKey } from './support.js'

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'
const PAR_URL = `${ISSUER}/par/`

/** A clock that follows real time from an offset the test moves (proofs and assertions are signed at real time plus it). */
interface MovableClock { offset: number, now: () => Date }

function movableClock (): MovableClock {
  const clock: MovableClock = { offset: 0, now: () => new Date(Date.now() + clock.offset * 1000) }
  return clock
}

/** An app under the preset (plus `settings`), its discovery document and a DPoP-protected route. */
async function buildFapiApp (t: Test, settings: SettingsInput = {}, clock = movableClock()): Promise<FastifyInstance> {
  const app = await buildApp(t, { ...LOGIN_OPTIONS, clock, settings: { ...FAPI2_SETTINGS, issuer: ISSUER, ...settings } })
  await app.register(oauthMetadata, { routesPrefix: '/o' })
  app.get('/api/hello', { onRequest: app.oauth.protect({ scopes: ['read'] }) }, async (request) => ({ user: request.accessToken?.userId ?? null, jkt: request.accessToken?.jkt ?? null }))
  return app
}

/** A confidential `private_key_jwt` client with an ES256 key in its registered `jwks`. */
interface KeyedClient { readonly clientId: string, readonly privateKey: CryptoKey, readonly kid: string }

async function keyedClient (app: FastifyInstance, grant: 'authorization-code' | 'client-credentials' = 'authorization-code'): Promise<KeyedClient> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true })
  const kid = randomUUID()
  const jwk = { ...await exportJWK(publicKey), kid, alg: 'ES256', use: 'sig' }
  const created = await app.oauth.createApplication({
    clientType: 'confidential',
    authorizationGrantType: grant,
    name: 'FAPI client',
    redirectUris: grant === 'authorization-code' ? [REDIRECT_URI] : [],
    tokenEndpointAuthMethod: 'private_key_jwt',
    jwks: JSON.stringify({ keys: [jwk] }),
  })
  return { clientId: created.application.clientId, privateKey, kid }
}

/** `client_assertion` form fields (RFC 7523 §2.2) signed now (by `clock`), `aud` the issuer unless told. */
async function assertionFields (client: KeyedClient, clock: MovableClock, aud: string = ISSUER): Promise<Record<string, string>> {
  const now = Math.floor(clock.now().getTime() / 1000)
  const jwt = await new SignJWT({ jti: randomUUID() })
    .setProtectedHeader({ alg: 'ES256', kid: client.kid })
    .setIssuer(client.clientId).setSubject(client.clientId).setAudience(aud)
    .setIssuedAt(now).setExpirationTime(now + 60)
    .sign(client.privateKey)
  return { client_assertion_type: ASSERTION_TYPE, client_assertion: jwt }
}

/** oauth4webapi's fetch, answered by `app.inject`: the whole client runs in process. */
function injectFetch (app: FastifyInstance) {
  return async (url: string, options: oauth.CustomFetchOptions<string, unknown>): Promise<Response> => {
    const target = new URL(url)
    const body = options.body
    const res = await app.inject({
      method: options.method as 'GET' | 'POST',
      url: target.pathname + target.search,
      headers: options.headers,
      ...(body === undefined || body === null ? {} : { payload: String(body) }),
    })
    const headers = new Headers()
    for (const [name, value] of Object.entries(res.headers)) {
      if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : String(value))
    }
    return new Response(res.statusCode === 204 ? null : res.body, { status: res.statusCode, headers })
  }
}

/** `POST par/` with `fields`, authenticated by `auth` (form fields or headers). */
async function pushRequest (app: FastifyInstance, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  return await app.inject({ method: 'POST', url: '/o/par/', headers: { ...FORM, ...headers }, payload: form(fields) })
}

/** A well-formed FAPI pushed request's parameters; `extra` replaces (`undefined` drops) any. */
function codeParams (clientId: string, extra: Record<string, string | undefined> = {}): Record<string, string> {
  const params: Record<string, string | undefined> = {
    client_id: clientId,
    response_type: 'code',
    redirect_uri: REDIRECT_URI,
    scope: 'read',
    state: 'st',
    code_challenge: pkcePair().challenge,
    code_challenge_method: 'S256',
    ...extra,
  }
  return Object.fromEntries(Object.entries(params).filter((entry): entry is [string, string] => entry[1] !== undefined))
}

t.test('oauth4webapi runs the FAPI 2.0 profile end to end: private_key_jwt, PAR, PKCE S256, DPoP, iss, a bound resource call', async (t) => {
  const app = await buildFapiApp(t)
  const keyed = await keyedClient(app)
  const http = { [oauth.customFetch]: injectFetch(app), [oauth.allowInsecureRequests]: true }
  const as = await oauth.processDiscoveryResponse(new URL(ISSUER), await oauth.discoveryRequest(new URL(ISSUER), { algorithm: 'oauth2', ...http }))
  t.same(as.token_endpoint_auth_methods_supported, ['private_key_jwt'], 'discovery: private_key_jwt only')
  t.same(as.token_endpoint_auth_signing_alg_values_supported, ['PS256', 'ES256', 'EdDSA'])
  t.same(as.response_types_supported, ['code'])
  t.same(as.code_challenge_methods_supported, ['S256'])
  t.equal(as.require_pushed_authorization_requests, true)
  t.equal(as.authorization_response_iss_parameter_supported, true)
  t.same(as.dpop_signing_alg_values_supported, ['PS256', 'ES256', 'EdDSA', 'Ed25519'])

  const client: oauth.Client = { client_id: keyed.clientId }
  const auth = oauth.PrivateKeyJwt({ key: keyed.privateKey, kid: keyed.kid })
  const DPoP = oauth.DPoP(client, await oauth.generateKeyPair('ES256'))
  const verifier = oauth.generateRandomCodeVerifier()
  const params = new URLSearchParams({
    response_type: 'code',
    redirect_uri: REDIRECT_URI,
    scope: 'read',
    state: 'st',
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
  })
  // PAR with a proof: the code is bound to the DPoP key (RFC 9449 §10.1, FAPI 2.0 §5.3.2.1 item 13).
  const pushed = await oauth.processPushedAuthorizationResponse(as, client,
    await oauth.pushedAuthorizationRequest(as, client, auth, params, { DPoP, ...http }))
  t.ok(pushed.expires_in < 600, 'request_uri lives less than 600 s')
  // The browser leg: only client_id and request_uri reach the authorization endpoint.
  const decision = await postDecision(app, await fetchConsent(app, { client_id: keyed.clientId, request_uri: pushed.request_uri }))
  const response = new URL(String(decision.headers.location)).searchParams
  t.equal(response.get('iss'), ISSUER, 'RFC 9207 iss in the authorization response')
  const callback = oauth.validateAuthResponse(as, client, response, 'st')
  const tokens = await oauth.processAuthorizationCodeResponse(as, client,
    await oauth.authorizationCodeGrantRequest(as, client, auth, callback, REDIRECT_URI, verifier, { DPoP, ...http }))
  t.equal(tokens.token_type, 'dpop', 'a DPoP-bound access token')
  const call = await oauth.protectedResourceRequest(tokens.access_token, 'GET', new URL(`${ORIGIN}/api/hello`), new Headers(), null, { DPoP, ...http })
  t.equal(call.status, 200)
  t.equal((await call.json() as { user: string }).user, 'user-alice')
  // The same token as a bearer token: refused (RFC 9449 §7.2).
  const bearer = await app.inject({ method: 'GET', url: '/api/hello', headers: { authorization: `Bearer ${tokens.access_token}` } })
  t.equal(bearer.statusCode, 403)

  // §5.3.2.1 item 10: no rotation; the refresh token stays the same and works again.
  const refreshToken = tokens.refresh_token ?? ''
  const first = await oauth.processRefreshTokenResponse(as, client, await oauth.refreshTokenGrantRequest(as, client, auth, refreshToken, { DPoP, ...http }))
  t.equal(first.token_type, 'dpop')
  t.ok(first.refresh_token === undefined || first.refresh_token === refreshToken, 'no new refresh token')
  const second = await oauth.processRefreshTokenResponse(as, client, await oauth.refreshTokenGrantRequest(as, client, auth, refreshToken, { DPoP, ...http }))
  t.equal(second.token_type, 'dpop', 'the refresh token is used again: a client that lost an answer simply retries')
})

t.test('each rule of the preset refuses what FAPI 2.0 forbids', async (t) => {
  const clock = movableClock()
  const app = await buildFapiApp(t, {}, clock)
  const keyed = await keyedClient(app)
  const dpop = await dpopKey()
  const jwtAuth = async (aud?: string): Promise<Record<string, string>> => await assertionFields(keyed, clock, aud)
  const tokenProof = async (key: DpopKey = dpop): Promise<string> => await proof(key, { iat: Math.floor(clock.now().getTime() / 1000) })

  await t.test('authorization requests that did not come through par/ (§5.3.2.2 item 3)', async (t) => {
    const res = await getAuthorize(app, codeParams(keyed.clientId))
    const said = res.headers.location === undefined ? res.body : redirectParams(res).error_description
    t.match(said, /Pushed authorization request required/)
  })

  await t.test('plain PKCE, or none (§5.3.2.2 item 5)', async (t) => {
    const plain = await pushRequest(app, { ...codeParams(keyed.clientId, { code_challenge: 'a'.repeat(43), code_challenge_method: 'plain' }), ...await jwtAuth() })
    t.equal(plain.statusCode, 400)
    t.match(plain.json(), { error: 'invalid_request', error_description: 'Transform algorithm not supported.' })
    const none = await pushRequest(app, { ...codeParams(keyed.clientId, { code_challenge: undefined, code_challenge_method: undefined }), ...await jwtAuth() })
    t.match(none.json(), { error: 'invalid_request', error_description: 'Code challenge required.' })
  })

  await t.test('a pushed request without redirect_uri, though the client registered only one (§5.3.2.2 item 6)', async (t) => {
    const res = await pushRequest(app, { ...codeParams(keyed.clientId, { redirect_uri: undefined }), ...await jwtAuth() })
    t.equal(res.statusCode, 400)
    t.match(res.json(), { error: 'invalid_request', error_description: 'Missing redirect_uri parameter.' })
  })

  await t.test('client_secret_basic and client_secret_post, from a client that holds a secret (§5.3.2.1 item 6)', async (t) => {
    const created = await app.oauth.createApplication({ clientType: 'confidential', authorizationGrantType: 'authorization-code', name: 'secret client', redirectUris: [REDIRECT_URI] })
    const secret = created.clientSecret ?? ''
    const basic = await pushRequest(app, codeParams(created.application.clientId), { authorization: basicAuth(created.application.clientId, secret) })
    t.equal(basic.statusCode, 401)
    t.match(basic.json(), { error: 'invalid_client' })
    const post = await pushRequest(app, { ...codeParams(created.application.clientId), client_secret: secret })
    t.equal(post.statusCode, 401)
    const token = await app.inject({ method: 'POST', url: '/o/token/', headers: { ...FORM, authorization: basicAuth(created.application.clientId, secret) }, payload: form({ grant_type: 'refresh_token', refresh_token: 'x' }) })
    t.equal(token.statusCode, 401, 'at the token endpoint too')
  })

  await t.test('public clients: at par/ and at the authorization endpoint (§5.3.2.1 item 3)', async (t) => {
    const created = await app.oauth.createApplication({ clientType: 'public', authorizationGrantType: 'authorization-code', name: 'SPA', redirectUris: [REDIRECT_URI] })
    const pushed = await pushRequest(app, codeParams(created.application.clientId))
    t.equal(pushed.statusCode, 401)
    t.match(pushed.json(), { error: 'invalid_client' })
    const front = await getAuthorize(app, codeParams(created.application.clientId))
    t.notMatch(String(front.headers.location ?? ''), /code=/)
    t.match(front.headers.location === undefined ? front.body : redirectParams(front).error, /unauthorized_client|does not accept public clients/)
  })

  await t.test('a client assertion whose aud is the token endpoint, not the issuer (§5.3.3.1 item 5)', async (t) => {
    const res = await pushRequest(app, { ...codeParams(keyed.clientId), ...await jwtAuth(TOKEN_URL) })
    t.equal(res.statusCode, 401)
    t.match(res.json(), { error: 'invalid_client' })
  })

  await t.test('assertions refused before any key work: HS256 (client_secret_jwt), alg none, another algorithm (§5.3.2.1 item 6, §5.4.1)', async (t) => {
    const now = Math.floor(clock.now().getTime() / 1000)
    const claims = { iss: keyed.clientId, sub: keyed.clientId, aud: ISSUER, iat: now, exp: now + 60 }
    const hs256 = await new SignJWT({ ...claims, jti: randomUUID() }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode('s'.repeat(64)))
    const part = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url')
    const none = `${part({ alg: 'none' })}.${part({ ...claims, jti: randomUUID() })}.`
    const { privateKey } = await generateKeyPair('ES384')
    const es384 = await new SignJWT({ ...claims, jti: randomUUID() }).setProtectedHeader({ alg: 'ES384', kid: keyed.kid }).sign(privateKey)
    for (const [name, assertion] of [['HS256', hs256], ['none', none], ['ES384', es384]] as const) {
      const res = await pushRequest(app, { ...codeParams(keyed.clientId), client_assertion_type: ASSERTION_TYPE, client_assertion: assertion })
      t.equal(res.statusCode, 401, name)
      t.match(res.json(), { error: 'invalid_client' }, name)
    }
  })

  await t.test('a DPoP proof signed with an algorithm outside the FAPI list (§5.4.1 item 1)', async (t) => {
    const es384 = await dpopKey('ES384')
    const res = await pushRequest(app, { ...codeParams(keyed.clientId), ...await jwtAuth() }, { dpop: await proof(es384, { htu: PAR_URL, iat: Math.floor(clock.now().getTime() / 1000) }) })
    t.equal(res.statusCode, 400)
    t.match(res.json(), { error: 'invalid_dpop_proof' })
  })

  await t.test('a token request without a DPoP proof (§5.3.2.1 item 4)', async (t) => {
    const pushed = await pushRequest(app, { ...codeParams(keyed.clientId), ...await jwtAuth() })
    t.equal(pushed.statusCode, 201)
    const code = await obtainCode(app, { client_id: keyed.clientId, request_uri: (pushed.json() as { request_uri: string }).request_uri })
    const exchange = async (headers: Record<string, string>): Promise<LightMyRequestResponse> => await app.inject({
      method: 'POST',
      url: '/o/token/',
      headers: { ...FORM, ...headers },
      payload: form({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: pkcePair().verifier, ...await jwtAuth() }),
    })
    const bare = await exchange({})
    t.equal(bare.statusCode, 400)
    t.match(bare.json(), { error: 'invalid_dpop_proof', error_description: 'A DPoP proof is required.' })
    const bound = await exchange({ dpop: await tokenProof() })
    t.equal(bound.statusCode, 200, 'the code was not used up by the refused request')
    t.equal((bound.json() as { token_type: string }).token_type, 'DPoP')
  })

  await t.test('the password grant (§5.3.2.1 item 2)', async (t) => {
    const res = await app.inject({ method: 'POST', url: '/o/token/', headers: { ...FORM, dpop: await tokenProof() }, payload: form({ grant_type: 'password', username: 'alice', password: 'x', ...await jwtAuth() }) })
    t.equal(res.statusCode, 400)
    t.match(res.json(), { error: 'unsupported_grant_type' })
  })

  await t.test('a code older than 60 seconds (§5.3.2.1 item 12)', async (t) => {
    const pushed = await pushRequest(app, { ...codeParams(keyed.clientId), ...await jwtAuth() })
    const code = await obtainCode(app, { client_id: keyed.clientId, request_uri: (pushed.json() as { request_uri: string }).request_uri })
    clock.offset += 61
    t.teardown(() => { clock.offset -= 61 })
    const res = await app.inject({
      method: 'POST',
      url: '/o/token/',
      headers: { ...FORM, dpop: await tokenProof() },
      payload: form({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: pkcePair().verifier, ...await jwtAuth() }),
    })
    t.equal(res.statusCode, 400)
    t.match(res.json(), { error: 'invalid_grant' })
  })
})

t.test('a bearer token issued before the preset was turned on is refused at resources (§5.3.2.1 item 4)', async (t) => {
  // The same database first served without dpopRequired: a client-credentials bearer token.
  const before = await buildApp(t, { settings: { ...FAPI2_SETTINGS, securityProfile: null, dpopRequired: false, issuer: ISSUER } })
  const clock = movableClock()
  const service = await keyedClient(before, 'client-credentials')
  const issued = await before.inject({ method: 'POST', url: '/o/token/', headers: FORM, payload: form({ grant_type: 'client_credentials', scope: 'read', ...await assertionFields(service, clock) }) })
  t.equal(issued.statusCode, 200)
  const { access_token: token, token_type: type } = issued.json() as { access_token: string, token_type: string }
  t.equal(type, 'Bearer')

  const after = Fastify()
  t.teardown(() => after.close())
  await after.register(fastifyOAuthToolkit, { database: databasePath(t), hasher: testHasher, settings: { ...FAPI2_SETTINGS, issuer: ISSUER } })
  await after.register(oauthRoutes, { prefix: '/o' })
  after.get('/api/hello', { onRequest: after.oauth.protect({ scopes: ['read'], bearerChallenge: true }) }, async () => 'ok')
  const asBearer = await after.inject({ method: 'GET', url: '/api/hello', headers: { authorization: `Bearer ${token}` } })
  t.equal(asBearer.statusCode, 401)
  t.match(asBearer.headers['www-authenticate'], /error="invalid_token", error_description="This server accepts DPoP-bound access tokens only."/)
  // Nor with the DPoP scheme and a proof: the token is bound to no key.
  const asDpop = await after.inject({ method: 'GET', url: '/api/hello', headers: await dpopHeaders(await dpopKey(), token) })
  t.equal(asDpop.statusCode, 401)
})

t.test('registration refuses an override the profile forbids, naming the setting and the clause', async (t) => {
  const refused: Array<[SettingsInput, string]> = [
    [{ passwordGrantEnabled: true }, 'passwordGrantEnabled must be false (FAPI 2.0 Security Profile §5.3.2.1 item 2)'],
    [{ clientAuthMethods: ['private_key_jwt', 'none'] }, 'clientAuthMethods must not list "none" (confidential clients only) (FAPI 2.0 Security Profile §5.3.2.1 item 3)'],
    [{ dpopRequired: false }, 'dpopEnabled and dpopRequired must be true (sender-constrained access tokens only) (FAPI 2.0 Security Profile §5.3.2.1 items 4 and 5)'],
    [{ clientAuthMethods: ['private_key_jwt', 'client_secret_basic'] }, 'clientAuthMethods may list only "private_key_jwt" (FAPI 2.0 Security Profile §5.3.2.1 item 6)'],
    [{ rotateRefreshToken: true }, 'rotateRefreshToken needs refreshTokenGracePeriodSeconds > 0'],
    [{ authorizationCodeExpireSeconds: 61 }, 'authorizationCodeExpireSeconds must be at most 60 (FAPI 2.0 Security Profile §5.3.2.1 item 12)'],
    [{ clientAssertionClockSkewSeconds: 5 }, 'clientAssertionClockSkewSeconds must be between 10 and 60'],
    [{ dpopProofMaxAgeSeconds: 120 }, 'dpopProofMaxAgeSeconds must be between 10 and 60'],
    [{ implicitGrantEnabled: true }, 'implicitGrantEnabled and hybridFlowEnabled must be false (response_type=code only) (FAPI 2.0 Security Profile §5.3.2.2 item 1)'],
    [{ hybridFlowEnabled: true }, 'implicitGrantEnabled and hybridFlowEnabled must be false'],
    [{ requirePushedAuthorizationRequests: false }, 'parEnabled and requirePushedAuthorizationRequests must be true (FAPI 2.0 Security Profile §5.3.2.2 items 2 and 3)'],
    [{ pkcePlainAllowed: true }, 'pkceRequired must be true and pkcePlainAllowed false (S256 only) (FAPI 2.0 Security Profile §5.3.2.2 item 5)'],
    [{ redirectUriRequired: false }, 'redirectUriRequired must be true (FAPI 2.0 Security Profile §5.3.2.2 item 6)'],
    [{ authorizationResponseIss: false }, 'authorizationResponseIss must be true (FAPI 2.0 Security Profile §5.3.2.2 item 7)'],
    [{ parRequestUriLifetimeSeconds: 600 }, 'parRequestUriLifetimeSeconds must be less than 600 (FAPI 2.0 Security Profile §5.3.2.2 item 12)'],
    [{ allowQueryStringTokens: true }, 'allowQueryStringTokens must be false (FAPI 2.0 Security Profile §5.3.4 item 2)'],
    [{ clientAssertionSigningAlgorithms: ['PS256', 'RS256'] }, 'clientAssertionSigningAlgorithms may list only PS256, ES256 and EdDSA (FAPI 2.0 Security Profile §5.4.1 item 1)'],
    [{ dpopSigningAlgValues: ['ES256', 'RS256'] }, 'dpopSigningAlgValues may list only PS256, ES256, EdDSA and Ed25519'],
    [{ accessTokenSigningAlgorithm: 'RS256' }, 'accessTokenSigningAlgorithm must be PS256, ES256 or EdDSA'],
    [{ idTokenSigningAlgorithm: null }, 'idTokenSigningAlgorithm must be PS256, ES256 or EdDSA'],
  ]
  for (const [override, message] of refused) {
    const settings = { ...FAPI2_SETTINGS, issuer: ISSUER, ...override }
    t.throws(() => resolveSettings(settings), { code: 'OAT_ERR_SETTINGS', message: new RegExp(`securityProfile "fapi2": ${message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.*set securityProfile to null to leave the profile$`) }, JSON.stringify(override))
    t.doesNotThrow(() => resolveSettings({ ...settings, securityProfile: null }), `leaving the profile allows ${JSON.stringify(override)}`)
  }
  t.doesNotThrow(() => resolveSettings({ ...FAPI2_SETTINGS, issuer: ISSUER, rotateRefreshToken: true, refreshTokenGracePeriodSeconds: 30 }), 'rotation with a retry window: the profile\'s exception (check reports it)')
  t.doesNotThrow(() => resolveSettings({ ...FAPI2_SETTINGS, issuer: ISSUER, authorizationCodeExpireSeconds: 30, dpopNonceRequired: true, accessTokenSigningAlgorithm: 'ES256', idTokenSigningAlgorithm: 'EdDSA' }), 'stricter or equally allowed choices pass')
  t.throws(() => resolveSettings({ ...FAPI2_SETTINGS }), /dpopEnabled needs the issuer setting/, 'the host still names its issuer')
  await t.rejects(buildFapiApp(t, { passwordGrantEnabled: true }), { code: 'OAT_ERR_SETTINGS', message: /passwordGrantEnabled must be false/ }, 'register fails, never a request')
})

t.test('the general settings the preset is made of', async (t) => {
  t.throws(() => resolveSettings({ clientAuthMethods: [] }), /clientAuthMethods must not be empty/)
  t.throws(() => resolveSettings({ clientAuthMethods: ['tls_client_auth'] }), /clientAuthMethods may list only client_secret_basic, .+; got "tls_client_auth"/)
  t.throws(() => resolveSettings({ dpopRequired: true }), /dpopRequired needs dpopEnabled/)
  t.throws(() => resolveSettings({ idTokenSigningAlgorithm: 'HS256' }), /idTokenSigningAlgorithm must be/)
  t.throws(() => resolveSettings({ securityProfile: 'fapi1' }), /securityProfile must be "fapi2"/)
  const oidc = { oidcEnabled: true, scopes: { openid: 'OpenID', read: 'Read' } }
  t.same(responseTypesSupported(resolveSettings(oidc)), ['code', 'code id_token'])
  t.same(responseTypesSupported(resolveSettings({ ...oidc, hybridFlowEnabled: false })), ['code'], 'hybridFlowEnabled off: code only')
  const s = resolveSettings({ ...FAPI2_SETTINGS, issuer: ISSUER })
  t.ok(Object.isFrozen(s.clientAuthMethods) && Object.isFrozen(FAPI2_SETTINGS) && Object.isFrozen(FAPI2_SETTINGS.clientAuthMethods))
  // Dynamic registration offers only the accepted methods (RFC 7591 §2 token_endpoint_auth_method).
  const jwk = { ...await exportJWK((await generateKeyPair('ES256', { extractable: true })).publicKey), kid: 'k1' }
  for (const method of ['none', 'client_secret_basic', 'client_secret_post', undefined]) {
    t.throws(() => validateClientMetadata(s, { redirect_uris: [REDIRECT_URI], ...(method === undefined ? {} : { token_endpoint_auth_method: method }) }),
      { name: 'OAuthError', error: 'invalid_client_metadata', description: 'Unsupported token_endpoint_auth_method.' }, String(method))
  }
  t.match(validateClientMetadata(s, { redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [jwk] } }), { metadata: { token_endpoint_auth_method: 'private_key_jwt' }, clientType: 'confidential' })
  t.throws(() => validateClientMetadata(resolveSettings({ ...oidc, hybridFlowEnabled: false }), { redirect_uris: [REDIRECT_URI], response_types: ['code id_token'] }),
    { name: 'OAuthError', error: 'invalid_client_metadata' }, 'no hybrid response types to register')
})
