// RFC 9449 §10: `dpop_jkt` at the authorization endpoint and PAR binds the code; the device flow's tokens bind too.
import type { FastifyInstance } from 'fastify'
import t from 'tap'
import type { CreatedApplication } from '../../lib/applications.js'
import { LOGIN_OPTIONS, codeRequest, createCodeApplication, getAuthorize, obtainCode, pkcePair, redirectParams, REDIRECT_URI } from '../helpers/authorize.js'
import { basicAuth, FORM, form, postToken } from '../helpers/index.js'
import { buildDpopApp, dpopKey, ISSUER, proof, type DpopKey } from './support.js'

async function exchange (app: FastifyInstance, created: CreatedApplication, code: string, key: DpopKey | null) {
  return await postToken(app, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: pkcePair().verifier },
    { authorization: basicAuth(created.application.clientId, created.clientSecret ?? ''), ...(key === null ? {} : { dpop: await proof(key) }) })
}

t.test('dpop_jkt binds the code: only a proof of that key redeems it', async (t) => {
  const app = await buildDpopApp(t, LOGIN_OPTIONS)
  const created = await createCodeApplication(app)
  const key = await dpopKey()
  const code = await obtainCode(app, codeRequest(created, { dpop_jkt: key.jkt }))
  const noProof = await exchange(app, created, code, null)
  t.equal(noProof.json().error, 'invalid_grant', 'no proof')
  const otherKey = await exchange(app, created, code, await dpopKey())
  t.equal(otherKey.json().error, 'invalid_grant', 'a proof of another key')
  const ok = await exchange(app, created, code, key)
  t.equal(ok.statusCode, 200, 'the refusals did not consume the code')
  t.equal(ok.json().token_type, 'DPoP')
  // Confidential client: its refresh token is not bound.
  const refreshed = await postToken(app, { grant_type: 'refresh_token', refresh_token: ok.json().refresh_token as string }, { authorization: basicAuth(created.application.clientId, created.clientSecret ?? '') })
  t.equal(refreshed.json().token_type, 'Bearer')
})

t.test('a malformed dpop_jkt is refused at the authorization endpoint; it is ignored with DPoP off', async (t) => {
  const app = await buildDpopApp(t, LOGIN_OPTIONS)
  const created = await createCodeApplication(app)
  const res = await getAuthorize(app, codeRequest(created, { dpop_jkt: 'not a thumbprint' }))
  t.equal(res.statusCode, 302)
  t.same(redirectParams(res), { error: 'invalid_request', error_description: 'Invalid dpop_jkt parameter value.', state: 'xyz' })
  const off = await buildDpopApp(t, { ...LOGIN_OPTIONS, settings: { dpopEnabled: false } })
  const offApp = await createCodeApplication(off)
  const code = await obtainCode(off, codeRequest(offApp, { dpop_jkt: 'not a thumbprint' }))
  t.equal((await exchange(off, offApp, code, null)).json().token_type, 'Bearer')
})

t.test('PAR: a proof binds the pushed request\'s code to its key; dpop_jkt must agree with it', async (t) => {
  const app = await buildDpopApp(t, LOGIN_OPTIONS)
  const created = await createCodeApplication(app)
  const auth = { ...FORM, authorization: basicAuth(created.application.clientId, created.clientSecret ?? '') }
  const key = await dpopKey()
  const parUrl = `${ISSUER}/par/`
  const pushed = await app.inject({ method: 'POST', url: '/o/par/', headers: { ...auth, dpop: await proof(key, { htu: parUrl }) }, payload: form(codeRequest(created)) })
  t.equal(pushed.statusCode, 201, pushed.body)
  const code = await obtainCode(app, { client_id: created.application.clientId, request_uri: pushed.json().request_uri as string })
  t.equal((await exchange(app, created, code, await dpopKey())).json().error, 'invalid_grant', 'another key')
  t.equal((await exchange(app, created, code, key)).json().token_type, 'DPoP')

  const mismatch = await app.inject({ method: 'POST', url: '/o/par/', headers: { ...auth, dpop: await proof(key, { htu: parUrl }) }, payload: form(codeRequest(created, { dpop_jkt: (await dpopKey()).jkt })) })
  t.equal(mismatch.statusCode, 400)
  t.equal(mismatch.json().error, 'invalid_dpop_proof')
  const badProof = await app.inject({ method: 'POST', url: '/o/par/', headers: { ...auth, dpop: await proof(key, { htu: `${ISSUER}/token/` }) }, payload: form(codeRequest(created)) })
  t.equal(badProof.statusCode, 400)
  t.equal(badProof.json().error, 'invalid_dpop_proof', 'a proof made for the token endpoint')
  // dpop_jkt alone, pushed without a proof, binds as well.
  const byParam = await app.inject({ method: 'POST', url: '/o/par/', headers: auth, payload: form(codeRequest(created, { dpop_jkt: key.jkt })) })
  const code2 = await obtainCode(app, { client_id: created.application.clientId, request_uri: byParam.json().request_uri as string })
  t.equal((await exchange(app, created, code2, null)).json().error, 'invalid_grant')
})

t.test('device flow: the device_code exchange with a proof gets a bound token, and the public client\'s refresh token is bound', async (t) => {
  const { createDeviceApplication, deviceCode, decide, DEVICE_GRANT } = await import('../device/support.js')
  const app = await buildDpopApp(t, { ...LOGIN_OPTIONS, settings: { deviceFlowEnabled: true } })
  const created = await createDeviceApplication(app)
  const { device_code: code, user_code: userCode } = await deviceCode(app, created)
  const key = await dpopKey()
  const params = { grant_type: DEVICE_GRANT, device_code: code, client_id: created.application.clientId }
  const pending = await postToken(app, params, { dpop: await proof(key) })
  t.equal(pending.json().error, 'authorization_pending', 'a proof does not change the device flow\'s answers')
  t.equal((await decide(app, userCode, true)).statusCode, 200)
  const res = await postToken(app, params, { dpop: await proof(key) })
  t.equal(res.json().token_type, 'DPoP', res.body)
  const refresh = await postToken(app, { grant_type: 'refresh_token', refresh_token: res.json().refresh_token as string, client_id: created.application.clientId })
  t.equal(refresh.json().error, 'invalid_grant', 'the refresh token is bound (public client)')
})
