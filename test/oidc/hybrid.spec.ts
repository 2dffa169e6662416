// OpenID Connect hybrid flows (OIDC Core §3.3) for openid-hybrid applications.
import { createHash } from 'node:crypto'
import t from 'tap'
import { serverContext } from '../../lib/server.js'
import {
  assertRedirectError, codeClient, exchangeCode, getAuthorize, parseConsent, pkcePair, postDecision, redirectParams,
  REDIRECT_URI,
} from '../helpers/authorize.js'
import { ALICE, bearerWorks, fixedClock } from '../helpers/index.js'
import { buildOidcApp, createOidcApplication, verifyIdToken } from './support.js'

const half = (value: string): string => createHash('sha256').update(value).digest().subarray(0, 16).toString('base64url')

// The types that return an access token need the implicit grant on (RFC 9700 §2.1.2); the
// last test shows they are refused without it.
async function setup (t: Parameters<typeof buildOidcApp>[0], implicitGrantEnabled = true, hybridFlowEnabled = true) {
  const clock = fixedClock('2026-07-01T00:00:00.000Z')
  const app = await buildOidcApp(t, { clock, settings: { implicitGrantEnabled, hybridFlowEnabled } })
  const created = await createOidcApplication(app, { authorizationGrantType: 'openid-hybrid' })
  const { verifier, challenge } = pkcePair()
  const params = { client_id: created.application.clientId, redirect_uri: REDIRECT_URI, scope: 'openid', state: 'st', nonce: 'n1', code_challenge: challenge, code_challenge_method: 'S256' }
  const keys = () => ({ keys: [...(serverContext(app.oauth).oidc?.keys.publicKeys ?? [])] })
  return { app, clock, created, verifier, params, keys }
}

for (const responseType of ['code id_token', 'code token', 'code id_token token', 'id_token token code'] as const) {
  t.test(`response_type=${responseType}: the answer is in the fragment, with c_hash and at_hash`, async (t) => {
    const { app, clock, created, verifier, params, keys } = await setup(t)
    const page = await getAuthorize(app, { ...params, response_type: responseType })
    const res = await postDecision(app, parseConsent(page))
    t.equal(res.statusCode, 302)
    t.equal(new URL(String(res.headers.location)).search, '', 'nothing in the query')
    const answer = redirectParams(res, 'fragment')
    t.type(answer.code, 'string')
    t.equal(answer.state, 'st')
    const types = responseType.split(' ')
    if (types.includes('token')) {
      t.match(answer, { token_type: 'Bearer', expires_in: '36000', scope: 'openid' })
      t.ok(await bearerWorks(app, answer.access_token ?? ''))
      t.equal(answer.refresh_token, undefined, 'no refresh token in the front channel')
    } else {
      t.equal(answer.access_token, undefined)
    }
    if (types.includes('id_token')) {
      const { payload } = await verifyIdToken(keys(), answer.id_token ?? '', created.application.clientId, clock.now())
      t.equal(payload.nonce, 'n1')
      t.equal(payload.c_hash, half(answer.code ?? ''))
      t.equal(payload.at_hash, answer.access_token === undefined ? undefined : half(answer.access_token))
      t.equal(payload.sub, ALICE.id)
      t.ok(await app.oauth.store.findIdTokenByJti(String(payload.jti)), 'recorded')
    } else {
      t.equal(answer.id_token, undefined)
    }
    const token = await exchangeCode(app, codeClient(created), answer.code ?? '', { redirect_uri: REDIRECT_URI, code_verifier: verifier })
    t.equal(token.statusCode, 200, 'the code is exchanged as usual')
    const { payload } = await verifyIdToken(keys(), token.json().id_token, created.application.clientId, clock.now())
    t.equal(payload.nonce, 'n1')
  })
}

t.test('nonce is required when an ID token comes from the authorization endpoint (NONCE-1)', async (t) => {
  const { app, params } = await setup(t)
  const { nonce, ...withoutNonce } = params
  t.equal(nonce, 'n1')
  assertRedirectError(t, await getAuthorize(app, { ...withoutNonce, response_type: 'code id_token' }),
    { error: 'invalid_request', error_description: 'Missing nonce parameter.', state: 'st' }, { part: 'fragment' })
  const ok = await getAuthorize(app, { ...withoutNonce, response_type: 'code token' })
  t.equal(ok.statusCode, 200, 'code token needs no nonce')
})

t.test('hybrid is for openid-hybrid applications, with openid, while OIDC is on', async (t) => {
  const { app, params } = await setup(t)
  const plain = await createOidcApplication(app)
  assertRedirectError(t, await getAuthorize(app, { ...params, client_id: plain.application.clientId, response_type: 'code id_token' }),
    { error: 'unauthorized_client', error_description: 'The client is not authorized to use this response type.', state: 'st' }, { part: 'fragment' })
  assertRedirectError(t, await getAuthorize(app, { ...params, scope: 'read', response_type: 'code id_token' }),
    { error: 'invalid_request', error_description: 'The hybrid flow needs the openid scope.', state: 'st' }, { part: 'fragment' })
  assertRedirectError(t, await getAuthorize(app, { ...params, response_type: 'code code id_token' }),
    { error: 'unsupported_response_type', error_description: 'The response type is not supported by this server.', state: 'st' }, { part: 'fragment' })
  const code = await getAuthorize(app, { ...params, response_type: 'code' })
  t.equal(code.statusCode, 200, 'an openid-hybrid application may still use plain code')
  const denied = await postDecision(app, parseConsent(await getAuthorize(app, { ...params, response_type: 'code token' })), { allow: false })
  t.equal(redirectParams(denied, 'fragment').error, 'access_denied', 'a denial goes to the fragment too')
})

t.test('CONF-2 with the implicit grant off (the default) no access token leaves the authorization endpoint; code id_token stays', async (t) => {
  const { app, params } = await setup(t, false)
  for (const responseType of ['code token', 'code id_token token', 'token code', 'id_token token', 'token']) {
    assertRedirectError(t, await getAuthorize(app, { ...params, response_type: responseType }),
      { error: 'unsupported_response_type', error_description: 'The response type is not supported by this server.', state: 'st' },
      { part: 'fragment' })
  }
  const page = await getAuthorize(app, { ...params, response_type: 'code id_token' })
  const answer = redirectParams(await postDecision(app, parseConsent(page)), 'fragment')
  t.type(answer.id_token, 'string', 'code id_token still works')
  t.equal(answer.access_token, undefined)
  const discovery = (await app.inject({ url: '/o/.well-known/openid-configuration' })).json<{ response_types_supported: string[] }>()
  t.same(discovery.response_types_supported, ['code', 'code id_token'], 'discovery lists no response type with token')
})

t.test('hybridFlowEnabled off (FAPI 2.0 §5.3.2.2 item 1): response_type=code only, even for openid-hybrid applications', async (t) => {
  const { app, params } = await setup(t, false, false)
  for (const responseType of ['code id_token', 'id_token code', 'code id_token token']) {
    assertRedirectError(t, await getAuthorize(app, { ...params, response_type: responseType }),
      { error: 'unsupported_response_type', error_description: 'The response type is not supported by this server.', state: 'st' },
      { part: 'fragment' })
  }
  t.equal((await getAuthorize(app, { ...params, response_type: 'code' })).statusCode, 200, 'plain code still works')
  const discovery = (await app.inject({ url: '/o/.well-known/openid-configuration' })).json<{ response_types_supported: string[] }>()
  t.same(discovery.response_types_supported, ['code'])
})
