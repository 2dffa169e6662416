// tokenRevoked on every revocation path (revocation endpoint, refresh-token reuse, code replay,
// RP-Initiated Logout, the authorized-tokens page) and refreshTokenReuseDetected.
import type { FastifyRequest } from 'fastify'
import t from 'tap'
import { oauthRoutes } from '../../index.js'
import {
  asUser, buildAuthorizeApp, codeClient, codeFlowTokens, createCodeApplication, exchangeCode, obtainCode, pkcePair, REDIRECT_URI,
} from '../helpers/authorize.js'
import { ALICE, basicAuth, buildApp, createClient, fixedClock, FORM, form, postToken } from '../helpers/index.js'
import { pageForm } from '../helpers/management.js'
import { passwordGrantOptions, passwordTokens } from '../helpers/password-grant.js'
import { buildOidcApp, createOidcApplication, oidcCodeFlow } from '../oidc/support.js'
import { accessTokenId, namesOf, payloadsOf, recordEvents, refreshTokenId } from './support.js'

async function revoke (app: Parameters<typeof postToken>[0], token: string, clientId: string, secret: string, hint?: string) {
  return await app.inject({
    method: 'POST',
    url: '/o/revoke-token/',
    headers: { ...FORM, authorization: basicAuth(clientId, secret) },
    payload: form({ token, ...(hint === undefined ? {} : { token_type_hint: hint }) }),
  })
}

t.test('revocation endpoint, access token: tokenRevoked (revocation-endpoint) with its ids and its family', async (t) => {
  const clock = fixedClock('2026-04-01T00:00:00.000Z')
  const app = await buildApp(t, passwordGrantOptions({ clock }))
  const tokens = await passwordTokens(app)
  const accessId = await accessTokenId(app, tokens.accessToken)
  const application = await app.oauth.store.findApplicationByClientId(tokens.clientId)
  const seen = recordEvents(app)
  t.equal((await revoke(app, tokens.accessToken, tokens.clientId, tokens.clientSecret)).statusCode, 200)
  t.same(payloadsOf(seen, 'tokenRevoked'), [{
    at: clock.now(),
    reason: 'revocation-endpoint',
    tokenType: 'access_token',
    applicationId: application?.id,
    clientId: tokens.clientId,
    userId: ALICE.id,
    accessTokenId: accessId,
    refreshTokenId: null,
    grantId: null,
    family: true,
  }])
})

t.test('revocation endpoint, refresh token: the family, with the refresh token id', async (t) => {
  const app = await buildApp(t, passwordGrantOptions())
  const tokens = await passwordTokens(app)
  const ids = { access: await accessTokenId(app, tokens.accessToken), refresh: await refreshTokenId(app, tokens.refreshToken) }
  const seen = recordEvents(app)
  await revoke(app, tokens.refreshToken, tokens.clientId, tokens.clientSecret, 'refresh_token')
  t.match(payloadsOf(seen, 'tokenRevoked'), [{ reason: 'revocation-endpoint', tokenType: 'refresh_token', refreshTokenId: ids.refresh, accessTokenId: ids.access, family: true }])
})

t.test('revocation endpoint: another client\'s token, an unknown token and a client-credentials token', async (t) => {
  const app = await buildApp(t, passwordGrantOptions())
  const tokens = await passwordTokens(app)
  const other = await createClient(app)
  const seen = recordEvents(app)
  await revoke(app, tokens.accessToken, other.clientId, other.secret)
  await revoke(app, 'no-such-token', other.clientId, other.secret)
  t.same(payloadsOf(seen, 'tokenRevoked'), [], 'nothing was revoked, nothing is reported')
  const machine = (await postToken(app, { grant_type: 'client_credentials' }, { authorization: other.authorization })).json().access_token as string
  await revoke(app, machine, other.clientId, other.secret)
  t.match(payloadsOf(seen, 'tokenRevoked'), [{ reason: 'revocation-endpoint', userId: null, family: false }], 'no refresh token: no family')
})

t.test('refresh-token reuse: refreshTokenReuseDetected, then tokenRevoked for the family', async (t) => {
  const app = await buildApp(t, passwordGrantOptions())
  const tokens = await passwordTokens(app)
  const auth = { authorization: basicAuth(tokens.clientId, tokens.clientSecret) }
  const oldId = await refreshTokenId(app, tokens.refreshToken)
  t.equal((await postToken(app, { grant_type: 'refresh_token', refresh_token: tokens.refreshToken }, auth)).statusCode, 200)
  const seen = recordEvents(app)
  const replay = await postToken(app, { grant_type: 'refresh_token', refresh_token: tokens.refreshToken }, auth)
  t.equal(replay.statusCode, 400)
  t.same(namesOf(seen), ['refreshTokenReuseDetected', 'tokenRevoked'])
  t.match(payloadsOf(seen, 'refreshTokenReuseDetected'), [{ clientId: tokens.clientId, userId: ALICE.id, refreshTokenId: oldId, familyRevoked: true }])
  t.match(payloadsOf(seen, 'tokenRevoked'), [{ reason: 'refresh-token-reuse', tokenType: 'refresh_token', refreshTokenId: oldId, family: true }])
})

t.test('refresh-token reuse without reuse protection: detected, nothing revoked', async (t) => {
  const app = await buildApp(t, passwordGrantOptions({ settings: { refreshTokenReuseProtection: false } }))
  const tokens = await passwordTokens(app)
  const auth = { authorization: basicAuth(tokens.clientId, tokens.clientSecret) }
  await postToken(app, { grant_type: 'refresh_token', refresh_token: tokens.refreshToken }, auth)
  const seen = recordEvents(app)
  await postToken(app, { grant_type: 'refresh_token', refresh_token: tokens.refreshToken }, auth)
  t.same(namesOf(seen), ['refreshTokenReuseDetected'])
  t.match(payloadsOf(seen, 'refreshTokenReuseDetected'), [{ familyRevoked: false }])
})

t.test('code replay: tokenRevoked (code-replay) with the code\'s row id', async (t) => {
  const app = await buildAuthorizeApp(t)
  const created = await createCodeApplication(app)
  const { verifier, challenge } = pkcePair()
  const code = await obtainCode(app, { response_type: 'code', client_id: created.application.clientId, redirect_uri: REDIRECT_URI, code_challenge: challenge, code_challenge_method: 'S256' })
  const extra = { redirect_uri: REDIRECT_URI, code_verifier: verifier }
  const first = await exchangeCode(app, codeClient(created), code, extra)
  t.equal(first.statusCode, 200)
  const grantId = (await app.oauth.store.findAccessTokenById(await accessTokenId(app, first.json().access_token) ?? 0))?.grantId
  t.type(grantId, 'number')
  const seen = recordEvents(app)
  t.equal((await exchangeCode(app, codeClient(created), code, extra)).statusCode, 400)
  t.same(payloadsOf(seen, 'tokenRevoked'), [{
    at: payloadsOf(seen, 'tokenRevoked')[0]?.at,
    reason: 'code-replay',
    tokenType: 'authorization_code',
    applicationId: created.application.id,
    clientId: created.application.clientId,
    userId: ALICE.id,
    accessTokenId: null,
    refreshTokenId: null,
    grantId,
    family: true,
  }])
})

t.test('RP-Initiated Logout: tokenRevoked (logout) for each browser-flow token of the user', async (t) => {
  const app = await buildOidcApp(t, {
    settings: { oidcRpInitiatedLogoutEnabled: true, oidcRpInitiatedLogoutAlwaysPrompt: false },
    logoutUser: (_request: FastifyRequest) => {},
  })
  const created = await createOidcApplication(app)
  const body = await oidcCodeFlow(app, created)
  const id = await accessTokenId(app, body.access_token)
  const seen = recordEvents(app)
  const res = await app.inject({ url: `/o/logout/?${form({ id_token_hint: body.id_token ?? '' })}`, headers: asUser(ALICE.id) })
  t.equal(res.statusCode, 200)
  t.match(payloadsOf(seen, 'tokenRevoked'), [{ reason: 'logout', tokenType: 'access_token', accessTokenId: id, clientId: created.application.clientId, userId: ALICE.id, family: true }])
})

t.test('the authorized-tokens page: tokenRevoked (user) when the user revokes an authorization', async (t) => {
  const app = await buildAuthorizeApp(t, { prefix: false })
  await app.register(oauthRoutes, { prefix: '/o', managementPages: true })
  const created = await createCodeApplication(app)
  const body = await codeFlowTokens(app, created)
  const id = await accessTokenId(app, body.access_token) ?? 0
  const seen = recordEvents(app)
  const confirm = await app.inject({ url: `/o/authorized-tokens/${id}/delete/`, headers: asUser(ALICE.id) })
  const state = pageForm(confirm)
  const res = await app.inject({
    method: 'POST', url: `/o/authorized-tokens/${id}/delete/`, payload: form({ csrf_token: state.token }), headers: asUser(ALICE.id, { ...FORM, cookie: state.cookie }),
  })
  t.equal(res.statusCode, 302)
  t.match(payloadsOf(seen, 'tokenRevoked'), [{ reason: 'user', tokenType: 'access_token', accessTokenId: id, clientId: created.application.clientId, userId: ALICE.id, family: true }])
})
