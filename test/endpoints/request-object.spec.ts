// Signed request objects (RFC 9101) from real clients: oauth4webapi's issueRequestObject at the
// authorization endpoint and pushed to par/, openid-client's buildAuthorizationUrlWithJAR, each
// through to the code and its tokens (the clients' HTTP goes through app.inject). Also: the
// login round trip (the object is used once), parameters outside the object ignored, HS256
// objects keyed with a sealed secret, the per-client and server-wide requirements, a registered
// algorithm, unsigned objects where allowed, discovery and dynamic registration.
import type { FastifyInstance } from 'fastify'
import { SignJWT, UnsecuredJWT } from 'jose'
import * as oauth from 'oauth4webapi'
import * as client from 'openid-client'
import t, { type Test } from 'tap'
import { oauthMetadata } from '../../index.js'
import { ALICE, basicAuth, fixedClock, FORM, form } from '../helpers/index.js'
import {
  asUser, assertFatalPage, assertRedirectError, buildAuthorizeApp, codeRequest, createCodeApplication, getAuthorize, parseConsent,
  pkcePair, postDecision, REDIRECT_URI, redirectParams,
} from '../helpers/authorize.js'
import { clientKey, type ClientKey } from '../helpers/client-keys.js'

const ISSUER = 'https://as.example.com/o'
const SEALING_KEY = 'c'.repeat(64)
const { verifier, challenge } = pkcePair()
/** The authorization request every object here carries (the client adds its client_id). */
const REQUEST = { response_type: 'code', redirect_uri: REDIRECT_URI, scope: 'read', state: 'st-1', code_challenge: challenge, code_challenge_method: 'S256' } as const
const AS: oauth.AuthorizationServer = {
  issuer: ISSUER,
  authorization_endpoint: `${ISSUER}/authorize/`,
  token_endpoint: `${ISSUER}/token/`,
  pushed_authorization_request_endpoint: `${ISSUER}/par/`,
}

type Key = ClientKey
const keyPair = clientKey

/** A `fetch` for the clients that answers through `app.inject` (the host part of the URL is ignored). */
function fetchVia (app: FastifyInstance) {
  return async (url: string, init: { method: string, headers: Record<string, string>, body?: unknown }): Promise<Response> => {
    const target = new URL(url)
    const res = await app.inject({
      method: init.method as 'GET' | 'POST',
      url: `${target.pathname}${target.search}`,
      headers: init.headers,
      ...(init.body == null ? {} : { payload: String(init.body) }),
    })
    const headers = new Headers()
    for (const [name, value] of Object.entries(res.headers)) {
      if (value !== undefined) for (const one of Array.isArray(value) ? value : [String(value)]) headers.append(name, one)
    }
    return new Response(res.statusCode === 204 ? null : res.body, { status: res.statusCode, headers })
  }
}

interface Fixture {
  app: FastifyInstance
  key: Key
  clientId: string
  secret: string
  fetch: ReturnType<typeof fetchVia>
}

/** An app whose clock is the real time (the clients stamp their objects with it), and a code client with an ES256 key. */
async function fixture (t: Test, settings: Record<string, unknown> = {}, overrides: Record<string, unknown> = {}): Promise<Fixture> {
  const app = await buildAuthorizeApp(t, { clock: fixedClock(new Date().toISOString()), clientSecretSealingKey: SEALING_KEY, settings: { issuer: ISSUER, ...settings } })
  await app.register(oauthMetadata, { routesPrefix: '/o' })
  const key = await keyPair('ES256', 'k1')
  const created = await createCodeApplication(app, { jwks: JSON.stringify({ keys: [key.jwk] }), ...overrides })
  return { app, key, clientId: created.application.clientId, secret: created.clientSecret ?? '', fetch: fetchVia(app) }
}

/** oauth4webapi's request object for `f`'s client. */
async function issue (f: Fixture, extra: Record<string, string> = {}): Promise<string> {
  return await oauth.issueRequestObject(AS, { client_id: f.clientId }, { ...REQUEST, ...extra }, { key: f.key.privateKey, kid: 'k1' })
}

async function push (f: Fixture, params: Record<string, string>): Promise<Response> {
  return await oauth.pushedAuthorizationRequest(AS, { client_id: f.clientId }, oauth.ClientSecretBasic(f.secret), params, { [oauth.customFetch]: f.fetch })
}

/** Approves the consent page `page` and redeems the code with oauth4webapi; resolves the token response. */
async function approveAndRedeem (t: Test, f: Fixture, page: Awaited<ReturnType<typeof getAuthorize>>): Promise<oauth.TokenEndpointResponse> {
  const approved = await postDecision(f.app, parseConsent(page))
  t.equal(approved.statusCode, 302, 'approved')
  const c: oauth.Client = { client_id: f.clientId }
  const params = oauth.validateAuthResponse(AS, c, new URL(String(approved.headers.location)), 'st-1')
  const response = await oauth.authorizationCodeGrantRequest(AS, c, oauth.ClientSecretBasic(f.secret), params, REDIRECT_URI, verifier, { [oauth.customFetch]: f.fetch })
  return await oauth.processAuthorizationCodeResponse(AS, c, response)
}

t.test('oauth4webapi request object at the authorization endpoint: consent, code, tokens; the object is used once', async (t) => {
  const f = await fixture(t)
  const request = await issue(f)
  const page = await getAuthorize(f.app, { client_id: f.clientId, request })
  const consent = parseConsent(page)
  t.equal(consent.fields.request, undefined, 'the consent form does not carry the object')
  t.match(consent.fields.request_uri, /^urn:ietf:params:oauth:request_uri:jar\./, 'but the reference to it, kept by the server')
  const tokens = await approveAndRedeem(t, f, page)
  t.equal(tokens.scope, 'read')
  t.type(tokens.access_token, 'string')
  assertFatalPage(t, await getAuthorize(f.app, { client_id: f.clientId, request }), 'The request object is invalid.', 'the same object again (its jti is used)', 'invalid_request_object')
})

t.test('the login round trip comes back by reference: the object is verified once, its jti not replayed', async (t) => {
  const f = await fixture(t)
  const request = await issue(f)
  const login = await getAuthorize(f.app, { client_id: f.clientId, request }, null)
  t.equal(login.statusCode, 302, 'to the login page')
  const next = new URL(String(login.headers.location), 'http://localhost').searchParams.get('next') ?? ''
  t.notMatch(next, 'request=', 'next does not replay the object')
  t.match(next, /^\/o\/authorize\/\?client_id=[^&]+&request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3Ajar\./)
  const back = await f.app.inject({ method: 'GET', url: next, headers: asUser(ALICE.id) })
  const tokens = await approveAndRedeem(t, f, back)
  t.equal(tokens.scope, 'read')
  const again = await f.app.inject({ method: 'GET', url: next, headers: asUser(ALICE.id) })
  assertFatalPage(t, again, 'The request_uri is invalid, expired, used or was issued to another client.', 'the reference after the decision')
})

t.test('RFC 9101 §6.3: parameters outside the object are ignored, client_id aside', async (t) => {
  const f = await fixture(t)
  const request = await issue(f)
  const page = await getAuthorize(f.app, {
    client_id: f.clientId, request, scope: 'write', redirect_uri: 'https://evil.example/cb', state: 'outside', response_type: 'token', prompt: 'none', code_challenge_method: 'plain',
  })
  t.match(page.body, 'Reading scope', 'the object\'s scope')
  t.notMatch(page.body, 'Writing scope', 'not the query\'s')
  const approved = await postDecision(f.app, parseConsent(page))
  t.equal(String(approved.headers.location).split('?')[0], REDIRECT_URI, 'the object\'s redirect URI')
  t.equal(redirectParams(approved).state, 'st-1', 'the object\'s state')
})

t.test('oauth4webapi pushes a request object to par/: the body outside it is ignored, the object used once', async (t) => {
  const f = await fixture(t)
  const request = await issue(f)
  const pushed = await push(f, { request, scope: 'write', redirect_uri: 'https://evil.example/cb', state: 'outside' })
  const { request_uri: requestUri } = await oauth.processPushedAuthorizationResponse(AS, { client_id: f.clientId }, pushed)
  t.match(requestUri, /^urn:ietf:params:oauth:request_uri:[A-Za-z0-9_-]+$/, 'an ordinary pushed request')
  const page = await getAuthorize(f.app, { client_id: f.clientId, request_uri: requestUri })
  t.notMatch(page.body, 'Writing scope')
  const tokens = await approveAndRedeem(t, f, page)
  t.equal(tokens.scope, 'read')
  const replayed = await push(f, { request })
  t.equal(replayed.status, 400)
  t.same(await replayed.json(), { error: 'invalid_request_object', error_description: 'The request object is invalid.' }, 'the same object pushed again')
  const bad = await push(f, { request: 'not.a.jwt' })
  t.same(await bad.json(), { error: 'invalid_request_object', error_description: 'The request object is invalid.' })
})

t.test('openid-client buildAuthorizationUrlWithJAR, then authorizationCodeGrant', async (t) => {
  const f = await fixture(t)
  const config = new client.Configuration({ issuer: ISSUER, authorization_endpoint: `${ISSUER}/authorize/`, token_endpoint: `${ISSUER}/token/` }, f.clientId, f.secret)
  config[client.customFetch] = f.fetch
  const url = await client.buildAuthorizationUrlWithJAR(config, { ...REQUEST }, { key: f.key.privateKey, kid: 'k1' })
  t.same([...url.searchParams.keys()].sort(), ['client_id', 'request'], 'the object by value')
  const page = await f.app.inject({ method: 'GET', url: `${url.pathname}${url.search}`, headers: asUser(ALICE.id) })
  const approved = await postDecision(f.app, parseConsent(page))
  const tokens = await client.authorizationCodeGrant(config, new URL(String(approved.headers.location)), { pkceCodeVerifier: verifier, expectedState: 'st-1' })
  t.equal(tokens.scope, 'read')
})

t.test('HS256 request objects: keyed with the client secret where the server keeps it sealed, refused otherwise', async (t) => {
  const f = await fixture(t)
  const sealed = await createCodeApplication(f.app, { tokenEndpointAuthMethod: 'client_secret_jwt' })
  const now = Math.floor(Date.now() / 1000)
  const object = async (clientId: string, secret: string, alg = 'HS256'): Promise<string> =>
    await new SignJWT({ ...REQUEST, client_id: clientId, iss: clientId, aud: ISSUER, iat: now, exp: now + 60 })
      .setProtectedHeader({ alg, typ: 'oauth-authz-req+jwt' }).sign(new TextEncoder().encode(secret))
  const sealedId = sealed.application.clientId
  parseConsent(await getAuthorize(f.app, { client_id: sealedId, request: await object(sealedId, sealed.clientSecret ?? '') }))
  parseConsent(await getAuthorize(f.app, { client_id: sealedId, request: await object(sealedId, sealed.clientSecret ?? '', 'HS512') }))
  assertFatalPage(t, await getAuthorize(f.app, { client_id: f.clientId, request: await object(f.clientId, f.secret) }),
    'The request object is invalid.', 'a client whose secret is only hashed', 'invalid_request_object')
})

t.test('a client that requires signed request objects: plain requests refused, at authorize/ and par/; objects accepted', async (t) => {
  const f = await fixture(t, {}, { requireSignedRequestObject: true })
  assertRedirectError(t, await getAuthorize(f.app, codeRequest(f.clientId)), { error: 'invalid_request', error_description: 'A signed request object is required.', state: 'xyz' })
  const plain = await push(f, { ...REQUEST })
  t.equal(plain.status, 400)
  t.same(await plain.json(), { error: 'invalid_request', error_description: 'A signed request object is required.' })
  parseConsent(await getAuthorize(f.app, { client_id: f.clientId, request: await issue(f) }))
  const pushed = await push(f, { request: await issue(f) })
  t.equal(pushed.status, 201, 'a pushed object')
  const other = await createCodeApplication(f.app)
  parseConsent(await getAuthorize(f.app, codeRequest(other)))
})

t.test('requireSignedRequestObject (server-wide): every client, and discovery says so', async (t) => {
  const f = await fixture(t, { requireSignedRequestObject: true })
  const other = await createCodeApplication(f.app)
  assertRedirectError(t, await getAuthorize(f.app, codeRequest(other)), { error: 'invalid_request', error_description: 'A signed request object is required.', state: 'xyz' })
  parseConsent(await getAuthorize(f.app, { client_id: f.clientId, request: await issue(f) }))
  const doc = (await f.app.inject('/.well-known/oauth-authorization-server/o')).json<Record<string, unknown>>()
  t.equal(doc.require_signed_request_object, true)
})

t.test('a registered request_object_signing_alg is the only one', async (t) => {
  const f = await fixture(t, {}, { requestObjectSigningAlg: 'ES384' })
  assertFatalPage(t, await getAuthorize(f.app, { client_id: f.clientId, request: await issue(f) }), 'The request object is invalid.', 'ES256 for an ES384 client', 'invalid_request_object')
})

t.test('unsigned request objects: refused by default; accepted with allowUnsignedRequestObjects, except from clients that require signed ones', async (t) => {
  const now = Math.floor(Date.now() / 1000)
  const unsigned = (clientId: string): string => new UnsecuredJWT({ ...REQUEST, client_id: clientId, aud: ISSUER, exp: now + 60 }).encode()
  const strict = await fixture(t)
  assertFatalPage(t, await getAuthorize(strict.app, { client_id: strict.clientId, request: unsigned(strict.clientId) }), 'The request object is invalid.', 'by default', 'invalid_request_object')
  const f = await fixture(t, { allowUnsignedRequestObjects: true })
  parseConsent(await getAuthorize(f.app, { client_id: f.clientId, request: unsigned(f.clientId) }))
  const signing = await createCodeApplication(f.app, { jwks: JSON.stringify({ keys: [f.key.jwk] }), requireSignedRequestObject: true })
  const id = signing.application.clientId
  assertFatalPage(t, await getAuthorize(f.app, { client_id: id, request: unsigned(id) }), 'The request object is invalid.', 'a client that must sign', 'invalid_request_object')
  const doc = (await f.app.inject('/.well-known/oauth-authorization-server/o')).json<{ request_object_signing_alg_values_supported: string[] }>()
  t.ok(doc.request_object_signing_alg_values_supported.includes('none'), 'discovery lists none when allowed')
})

t.test('pushed authorization requests required: a front-channel object is refused, a pushed one accepted', async (t) => {
  const f = await fixture(t, { requirePushedAuthorizationRequests: true })
  assertFatalPage(t, await getAuthorize(f.app, { client_id: f.clientId, request: await issue(f) }), 'Pushed authorization request required.')
  const pushed = await push(f, { request: await issue(f) })
  const { request_uri: requestUri } = await oauth.processPushedAuthorizationResponse(AS, { client_id: f.clientId }, pushed)
  parseConsent(await getAuthorize(f.app, { client_id: f.clientId, request_uri: requestUri }))
})

t.test('discovery: request objects by value, the algorithms verified (HS256/384/512 with a sealing key), no request_uri fetching', async (t) => {
  const f = await fixture(t)
  const doc = (await f.app.inject('/.well-known/oauth-authorization-server/o')).json<Record<string, unknown>>()
  t.equal(doc.request_parameter_supported, true)
  t.equal(doc.request_uri_parameter_supported, false)
  t.equal(doc.require_signed_request_object, false)
  t.same(doc.request_object_signing_alg_values_supported, [...doc.token_endpoint_auth_signing_alg_values_supported as string[]])
  t.ok((doc.request_object_signing_alg_values_supported as string[]).includes('HS256'))
  t.notOk((doc.request_object_signing_alg_values_supported as string[]).includes('none'))
})

t.test('dynamic registration: require_signed_request_object and request_object_signing_alg, stored, echoed and checked', async (t) => {
  const f = await fixture(t, { dcrEnabled: true, dcrRegistrationPolicy: 'open' })
  const register = async (body: Record<string, unknown>): Promise<Record<string, unknown>> => {
    const res = await f.app.inject({ method: 'POST', url: '/o/register/', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ redirect_uris: [REDIRECT_URI], ...body }) })
    return { status: res.statusCode, ...res.json<Record<string, unknown>>() }
  }
  const ok = await register({ jwks: { keys: [f.key.jwk] }, require_signed_request_object: true, request_object_signing_alg: 'ES256' })
  t.equal(ok.status, 201)
  t.equal(ok.require_signed_request_object, true)
  t.equal(ok.request_object_signing_alg, 'ES256')
  const stored = await f.app.oauth.store.findApplicationByClientId(String(ok.client_id))
  t.equal(stored?.requireSignedRequestObject, true)
  t.equal(stored?.requestObjectSigningAlg, 'ES256')
  const plain = await register({})
  t.equal(plain.require_signed_request_object, false, 'said explicitly')
  t.equal(plain.request_object_signing_alg, undefined)
  for (const [body, why] of [
    [{ request_object_signing_alg: 'ES256' }, 'an asymmetric algorithm without keys'],
    [{ request_object_signing_alg: 'none' }, 'none without allowUnsignedRequestObjects'],
    [{ request_object_signing_alg: 'HS256' }, 'HS256 with a secret kept only hashed'],
    [{ request_object_signing_alg: 'XS1' }, 'an unknown algorithm'],
    [{ require_signed_request_object: true }, 'required, with nothing to verify them'],
    [{ require_signed_request_object: 'yes' }, 'not a boolean'],
  ] as const) {
    const res = await register(body)
    t.equal(res.status, 400, why)
    t.equal(res.error, 'invalid_client_metadata', why)
  }
  const hs = await register({ token_endpoint_auth_method: 'client_secret_jwt', request_object_signing_alg: 'HS256', require_signed_request_object: true })
  t.equal(hs.status, 201, 'HS256 for a client_secret_jwt client (its secret is sealed)')
})

t.test('request and request_uri together, or request repeated: the error page', async (t) => {
  const f = await fixture(t)
  const request = await issue(f)
  assertFatalPage(t, await getAuthorize(f.app, { client_id: f.clientId, request, request_uri: 'urn:ietf:params:oauth:request_uri:x' }), 'Use request or request_uri, not both.')
  assertFatalPage(t, await getAuthorize(f.app, { client_id: f.clientId, request: [request, request] }), 'Parameter repeated: request.')
  const pushed = await f.app.inject({ method: 'POST', url: '/o/par/', headers: { ...FORM, authorization: basicAuth(f.clientId, f.secret) }, payload: form({ request: [request, request] }) })
  t.same(pushed.json(), { error: 'invalid_request', error_description: 'Parameter repeated: request.' })
})
