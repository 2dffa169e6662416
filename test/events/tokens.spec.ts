// tokenIssued and tokenRefreshed: every grant of the token endpoint, the authorization endpoint's
// implicit and hybrid tokens, the device flow, DPoP binding, and the grace-period retry that issues nothing.
import t from 'tap'
import {
  buildAuthorizeApp, codeClient, codeFlowTokens, createCodeApplication, getAuthorize, parseConsent, pkcePair, postDecision,
  redirectParams, REDIRECT_URI,
} from '../helpers/authorize.js'
import { ALICE, basicAuth, buildApp, createApplication, createClient, fixedClock, postToken } from '../helpers/index.js'
import { passwordGrantOptions, passwordTokens } from '../helpers/password-grant.js'
import { buildDeviceApp, createDeviceApplication, decide, deviceCode, poll } from '../device/support.js'
import { buildDpopApp, dpopKey, proof } from '../dpop/support.js'
import { buildOidcApp, createOidcApplication } from '../oidc/support.js'
import { exchangeCode } from '../helpers/authorize.js'
import { accessTokenId, namesOf, payloadsOf, recordEvents, refreshTokenId } from './support.js'

t.test('client_credentials: tokenIssued with the ids and facts, no user, no refresh token', async (t) => {
  const clock = fixedClock('2026-03-01T10:00:00.000Z')
  const app = await buildApp(t, { clock, settings: { scopes: { read: 'Read', write: 'Write' } } })
  const client = await createClient(app)
  const seen = recordEvents(app)
  const res = await postToken(app, { grant_type: 'client_credentials', scope: 'read' }, { authorization: client.authorization })
  t.equal(res.statusCode, 200)
  const token = res.json().access_token as string
  t.same(namesOf(seen), ['appAuthorized', 'tokenIssued'], 'appAuthorized keeps firing first (DOT parity)')
  t.same(payloadsOf(seen, 'tokenIssued'), [{
    at: clock.now(),
    grantType: 'client_credentials',
    applicationId: client.id,
    clientId: client.clientId,
    userId: null,
    accessTokenId: await accessTokenId(app, token),
    refreshTokenId: null,
    scopes: ['read'],
    resources: [],
    dpopBound: false,
    idToken: false,
    expiresAt: new Date(clock.now().getTime() + 36000 * 1000),
  }])
})

t.test('password, then refresh with rotation: tokenIssued for each, tokenRefreshed with the old and new ids', async (t) => {
  const app = await buildApp(t, passwordGrantOptions())
  const seen = recordEvents(app)
  const tokens = await passwordTokens(app)
  const [issued] = payloadsOf(seen, 'tokenIssued')
  t.match(issued, { grantType: 'password', userId: ALICE.id, accessTokenId: await accessTokenId(app, tokens.accessToken), refreshTokenId: await refreshTokenId(app, tokens.refreshToken) })
  const oldAccessId = await accessTokenId(app, tokens.accessToken)
  const oldRefreshId = await refreshTokenId(app, tokens.refreshToken)
  seen.length = 0
  const res = await postToken(app, { grant_type: 'refresh_token', refresh_token: tokens.refreshToken }, { authorization: basicAuth(tokens.clientId, tokens.clientSecret) })
  t.equal(res.statusCode, 200)
  const body = res.json() as { access_token: string, refresh_token: string }
  t.same(namesOf(seen), ['appAuthorized', 'tokenIssued', 'tokenRefreshed'])
  const newAccessId = await accessTokenId(app, body.access_token)
  const newRefreshId = await refreshTokenId(app, body.refresh_token)
  t.match(payloadsOf(seen, 'tokenIssued')[0], { grantType: 'refresh_token', userId: ALICE.id, accessTokenId: newAccessId, refreshTokenId: newRefreshId })
  const [refreshed] = payloadsOf(seen, 'tokenRefreshed')
  t.match(refreshed, {
    userId: ALICE.id,
    clientId: tokens.clientId,
    previousRefreshTokenId: oldRefreshId,
    previousAccessTokenId: oldAccessId,
    accessTokenId: newAccessId,
    refreshTokenId: newRefreshId,
    rotated: true,
    dpopBound: false,
  })
  t.not(refreshed?.refreshTokenId, oldRefreshId)
})

t.test('refresh without rotation: the refresh token id stays, rotated is false', async (t) => {
  const app = await buildApp(t, passwordGrantOptions({ settings: { rotateRefreshToken: false } }))
  const tokens = await passwordTokens(app)
  const refreshId = await refreshTokenId(app, tokens.refreshToken)
  const seen = recordEvents(app)
  const res = await postToken(app, { grant_type: 'refresh_token', refresh_token: tokens.refreshToken }, { authorization: basicAuth(tokens.clientId, tokens.clientSecret) })
  t.equal(res.statusCode, 200)
  t.match(payloadsOf(seen, 'tokenRefreshed'), [{ previousRefreshTokenId: refreshId, refreshTokenId: refreshId, rotated: false }])
})

t.test('a grace-period retry hands back the pair already issued: no tokenIssued, no tokenRefreshed', async (t) => {
  const app = await buildApp(t, passwordGrantOptions({ settings: { refreshTokenGracePeriodSeconds: 60 } }))
  const tokens = await passwordTokens(app)
  const auth = { authorization: basicAuth(tokens.clientId, tokens.clientSecret) }
  const first = await postToken(app, { grant_type: 'refresh_token', refresh_token: tokens.refreshToken }, auth)
  t.equal(first.statusCode, 200)
  const seen = recordEvents(app)
  const retry = await postToken(app, { grant_type: 'refresh_token', refresh_token: tokens.refreshToken }, auth)
  t.equal(retry.statusCode, 200)
  t.equal(retry.json().access_token, first.json().access_token, 'the same pair')
  t.same(namesOf(seen), ['appAuthorized'], 'nothing new was issued')
})

t.test('authorization_code: tokenIssued with the user, and authorizationApproved before it', async (t) => {
  const app = await buildAuthorizeApp(t)
  const created = await createCodeApplication(app)
  const seen = recordEvents(app)
  const body = await codeFlowTokens(app, created)
  t.same(namesOf(seen), ['authorizationApproved', 'appAuthorized', 'tokenIssued'])
  t.match(payloadsOf(seen, 'tokenIssued')[0], {
    grantType: 'authorization_code',
    userId: ALICE.id,
    clientId: created.application.clientId,
    accessTokenId: await accessTokenId(app, body.access_token),
    refreshTokenId: await refreshTokenId(app, body.refresh_token ?? ''),
    idToken: false,
  })
})

t.test('implicit: the authorization endpoint\'s token fires tokenIssued (grantType implicit, responseType token)', async (t) => {
  const app = await buildAuthorizeApp(t, { settings: { implicitGrantEnabled: true } })
  const { application } = await createApplication(app, { clientType: 'public', authorizationGrantType: 'implicit', redirectUris: [REDIRECT_URI] })
  const seen = recordEvents(app)
  const page = await getAuthorize(app, { response_type: 'token', client_id: application.clientId, redirect_uri: REDIRECT_URI, state: 's' })
  const res = await postDecision(app, parseConsent(page))
  const token = redirectParams(res, 'fragment').access_token ?? ''
  t.same(namesOf(seen), ['tokenIssued', 'authorizationApproved'])
  t.match(payloadsOf(seen, 'tokenIssued')[0], { grantType: 'implicit', responseType: 'token', userId: ALICE.id, accessTokenId: await accessTokenId(app, token), refreshTokenId: null })
})

t.test('hybrid: code token and code id_token token fire tokenIssued (grantType hybrid); code id_token issues no access token', async (t) => {
  const app = await buildOidcApp(t, { settings: { implicitGrantEnabled: true, hybridFlowEnabled: true } })
  const created = await createOidcApplication(app, { authorizationGrantType: 'openid-hybrid' })
  const { challenge } = pkcePair()
  const params = { client_id: created.application.clientId, redirect_uri: REDIRECT_URI, scope: 'openid', nonce: 'n', code_challenge: challenge, code_challenge_method: 'S256' }
  const seen = recordEvents(app)
  for (const [responseType, idToken] of [['code token', false], ['code id_token token', true]] as const) {
    seen.length = 0
    const res = await postDecision(app, parseConsent(await getAuthorize(app, { ...params, response_type: responseType })))
    const token = redirectParams(res, 'fragment').access_token ?? ''
    t.match(payloadsOf(seen, 'tokenIssued'), [{ grantType: 'hybrid', responseType, idToken, accessTokenId: await accessTokenId(app, token) }], responseType)
  }
  seen.length = 0
  await postDecision(app, parseConsent(await getAuthorize(app, { ...params, response_type: 'code id_token' })))
  t.same(payloadsOf(seen, 'tokenIssued'), [], 'code id_token: no access token yet')
  t.same(namesOf(seen), ['authorizationApproved'])
})

t.test('ID tokens from the code exchange are reported as idToken: true', async (t) => {
  const app = await buildOidcApp(t)
  const created = await createOidcApplication(app)
  const { verifier, challenge } = pkcePair()
  const page = await getAuthorize(app, { response_type: 'code', client_id: created.application.clientId, redirect_uri: REDIRECT_URI, scope: 'openid', code_challenge: challenge, code_challenge_method: 'S256' })
  const code = redirectParams(await postDecision(app, parseConsent(page))).code ?? ''
  const seen = recordEvents(app)
  const res = await exchangeCode(app, codeClient(created), code, { redirect_uri: REDIRECT_URI, code_verifier: verifier })
  t.equal(res.statusCode, 200)
  t.match(payloadsOf(seen, 'tokenIssued'), [{ grantType: 'authorization_code', idToken: true }])
})

t.test('device flow: the polling client\'s token fires tokenIssued with the device grant type', async (t) => {
  const app = await buildDeviceApp(t)
  const created = await createDeviceApplication(app)
  const codes = await deviceCode(app, created)
  t.equal((await decide(app, codes.user_code, true)).statusCode, 200)
  const seen = recordEvents(app)
  const res = await poll(app, created, codes.device_code)
  t.equal(res.statusCode, 200)
  t.match(payloadsOf(seen, 'tokenIssued'), [{
    grantType: 'urn:ietf:params:oauth:grant-type:device_code',
    userId: ALICE.id,
    clientId: created.application.clientId,
    accessTokenId: await accessTokenId(app, res.json().access_token),
  }])
})

t.test('a DPoP-bound token is reported as dpopBound', async (t) => {
  const app = await buildDpopApp(t)
  const client = await createClient(app)
  const seen = recordEvents(app)
  const res = await postToken(app, { grant_type: 'client_credentials' }, { authorization: client.authorization, dpop: await proof(await dpopKey()) })
  t.equal(res.json().token_type, 'DPoP')
  t.match(payloadsOf(seen, 'tokenIssued'), [{ dpopBound: true }])
})

t.test('a refused token request fires no tokenIssued', async (t) => {
  const app = await buildApp(t)
  const client = await createClient(app)
  const seen = recordEvents(app)
  const res = await postToken(app, { grant_type: 'client_credentials', scope: 'nope' }, { authorization: client.authorization })
  t.equal(res.statusCode, 400)
  t.same(payloadsOf(seen, 'tokenIssued'), [])
})
