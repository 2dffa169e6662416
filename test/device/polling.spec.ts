// RFC 8628 §3.4–3.5 polling at the token endpoint, with the injected clock (DEV-1).
import t from 'tap'
import { countRows } from '../helpers/authorize.js'
import { basicAuth, bearerWorks, createApplication, databasePath, fixedClock, postToken, TOKEN_ERRORS } from '../helpers/index.js'
import { buildOidcApp, verifyIdToken } from '../oidc/support.js'
import { buildDeviceApp, createDeviceApplication, decide, DEVICE_GRANT, deviceCode, poll } from './support.js'

const clock = fixedClock()
const app = await buildDeviceApp(t, { clock })
const tv = await createDeviceApplication(app)
/** Access token rows in this file's database. */
const database = databasePath(t)
const accessTokenRows = (): number => countRows(database, 'oauth2_accesstoken')

const PENDING = { error: 'authorization_pending', error_description: 'The authorization request is still pending.' }
const SLOW_DOWN = { error: 'slow_down', error_description: 'Polling too frequently; increase the interval by 5 seconds.' }

t.test('DEV-1 polling too fast answers slow_down, and the interval grows by 5 s for later polls', async (t) => {
  const { device_code: code, interval } = await deviceCode(app, tv)
  t.equal(interval, 5)
  let res = await poll(app, tv, code)
  t.equal(res.statusCode, 400)
  t.same(res.json(), PENDING, 'first poll at 0 s: pending')
  t.equal(res.headers['cache-control'], 'no-store')
  clock.advance(1)
  t.same((await poll(app, tv, code)).json(), SLOW_DOWN, 'second poll 1 s later: slow_down (DOT never sends it)')
  clock.advance(5)
  t.same((await poll(app, tv, code)).json(), SLOW_DOWN, '5 s is now too fast: the interval became 10 s')
  clock.advance(14)
  t.same((await poll(app, tv, code)).json(), SLOW_DOWN, '14 s is too fast for the 15 s interval')
  clock.advance(20)
  res = await poll(app, tv, code)
  t.same(res.json(), PENDING, 'waiting the 20 s interval: pending again')
  clock.advance(20)
  t.same((await poll(app, tv, code)).json(), PENDING, 'the grown interval stays, it does not shrink back')
})

t.test('DEV-1 an approved device code yields one token set with a refresh token; a second poll is invalid_grant', async (t) => {
  const { device_code: code, user_code: userCode } = await deviceCode(app, tv, { scope: 'read' })
  t.equal((await decide(app, userCode, true)).statusCode, 200)
  const res = await poll(app, tv, code)
  t.equal(res.statusCode, 200, res.body)
  t.equal(res.headers['cache-control'], 'no-store')
  const body = res.json<{ access_token: string, refresh_token: string, scope: string, token_type: string, expires_in: number }>()
  t.equal(body.token_type, 'Bearer')
  t.equal(body.scope, 'read')
  t.equal(body.expires_in, 36000)
  t.ok(await bearerWorks(app, body.access_token, ['read']), 'the access token works')
  const info = await app.oauth.authenticateBearer({ authorization: `Bearer ${body.access_token}`, queryToken: undefined })
  t.equal(info.ok && info.token.userId, 'user-alice', 'the token speaks for the user who approved')

  const again = await poll(app, tv, code)
  t.equal(again.statusCode, 400)
  t.same(again.json(), TOKEN_ERRORS.invalidGrant, 'a device code yields tokens once')

  const refreshed = await postToken(app, { grant_type: 'refresh_token', refresh_token: body.refresh_token, client_id: tv.application.clientId })
  t.equal(refreshed.statusCode, 200, 'the refresh token works for the device application')
})

t.test('DEV-1 after denial access_denied; after expiry expired_token', async (t) => {
  const denied = await deviceCode(app, tv)
  t.equal((await decide(app, denied.user_code, false)).statusCode, 200)
  let res = await poll(app, tv, denied.device_code)
  t.equal(res.statusCode, 400)
  t.same(res.json(), { error: 'access_denied', error_description: 'The user denied the authorization request.' })

  const expiring = await deviceCode(app, tv)
  t.equal(expiring.expires_in, 1800)
  clock.advance(1799)
  t.same((await poll(app, tv, expiring.device_code)).json(), PENDING, 'still pending just before expiry')
  clock.advance(1)
  res = await poll(app, tv, expiring.device_code)
  t.equal(res.statusCode, 400)
  t.same(res.json(), { error: 'expired_token', error_description: 'The device code has expired.' })

  const late = await deviceCode(app, tv)
  clock.advance(1801)
  const entry = await decide(app, late.user_code, true).catch((err: Error) => err)
  t.ok(entry instanceof Error, 'an expired code cannot be approved')
  t.same((await poll(app, tv, late.device_code)).json().error, 'expired_token')
})

t.test('DEV-1 a device code polled by another client, or an unknown one, is invalid_grant', async (t) => {
  const other = await createDeviceApplication(app, { name: 'Other TV' })
  const { device_code: code, user_code: userCode } = await deviceCode(app, tv)
  await decide(app, userCode, true)
  let res = await poll(app, other, code)
  t.equal(res.statusCode, 400)
  t.same(res.json(), TOKEN_ERRORS.invalidGrant, 'bound to the client it was issued to')
  t.same((await poll(app, other, 'no-such-device-code')).json(), TOKEN_ERRORS.invalidGrant)
  res = await poll(app, tv, code)
  t.equal(res.statusCode, 200, 'the rightful client still gets its tokens')
})

t.test('DEV-1 20 concurrent polls after approval: exactly one token set', async (t) => {
  const before = accessTokenRows()
  const { device_code: code, user_code: userCode } = await deviceCode(app, tv)
  await decide(app, userCode, true)
  const results = await Promise.all(Array.from({ length: 20 }, async () => await poll(app, tv, code)))
  const statuses = results.map((r) => r.statusCode)
  t.equal(statuses.filter((s) => s === 200).length, 1, 'one 200')
  t.equal(statuses.filter((s) => s === 400).length, 19, 'the rest are refused')
  t.ok(results.filter((r) => r.statusCode === 400).every((r) => r.json<{ error: string }>().error === 'invalid_grant'))
  t.equal(accessTokenRows() - before, 1, 'one access token row')
})

t.test('polling errors: missing device_code, wrong application type, confidential client authentication', async (t) => {
  let res = await postToken(app, { grant_type: DEVICE_GRANT, client_id: tv.application.clientId })
  t.same(res.json(), { error: 'invalid_request', error_description: 'Request is missing device_code parameter.' })
  res = await postToken(app, { grant_type: DEVICE_GRANT, client_id: tv.application.clientId, device_code: ['a', 'b'] })
  t.same(res.json(), { error: 'invalid_request', error_description: 'Parameter repeated: device_code.' })

  const service = await createApplication(app)
  res = await postToken(app, { grant_type: DEVICE_GRANT, device_code: 'x' }, { authorization: basicAuth(service.application.clientId, service.clientSecret ?? '') })
  t.equal(res.statusCode, 400)
  t.same(res.json(), TOKEN_ERRORS.unauthorizedClient, 'a client-credentials application may not use the device grant')

  const confidential = await createDeviceApplication(app, { clientType: 'confidential' })
  const { device_code: code } = await deviceCode(app, confidential)
  res = await postToken(app, { grant_type: DEVICE_GRANT, device_code: code, client_id: confidential.application.clientId })
  t.equal(res.statusCode, 401)
  t.same(res.json(), TOKEN_ERRORS.invalidClient, 'a confidential device client must authenticate when polling')
  res = await poll(app, confidential, code)
  t.same(res.json(), PENDING, 'with its secret it polls')
})

t.test('the device flow is off by default: the grant type is unsupported', async (t) => {
  const off = await buildDeviceApp(t, { settings: { deviceFlowEnabled: false } })
  const res = await postToken(off, { grant_type: DEVICE_GRANT, device_code: 'x', client_id: 'x' })
  t.same(res.json(), TOKEN_ERRORS.unsupportedGrantType)
})

t.test('OpenID Connect: with openid, the device gets an ID token for the approving user, with auth_time; without it, none', async (t) => {
  const oidcClock = fixedClock()
  const app = await buildOidcApp(t, { clock: oidcClock, settings: { deviceFlowEnabled: true } })
  const tv = await createDeviceApplication(app)
  const jwks = (await app.inject({ method: 'GET', url: '/o/.well-known/jwks.json' })).json<{ keys: unknown[] }>()

  const signIn = await deviceCode(app, tv, { scope: 'openid read' })
  await decide(app, signIn.user_code, true, { user: 'user-oidc' })
  const res = await poll(app, tv, signIn.device_code)
  t.equal(res.statusCode, 200)
  const body = res.json<{ id_token?: string, scope: string }>()
  t.equal(body.scope, 'openid read')
  t.ok(body.id_token, 'an ID token')
  const { payload } = await verifyIdToken(jwks, body.id_token ?? '', tv.application.clientId, oidcClock.now())
  t.equal(payload.sub, 'user-oidc')
  t.equal(payload.auth_time, Math.floor(oidcClock.now().getTime() / 1000), 'auth_time: when the user approved (no authTime from resolveUser)')
  t.ok(typeof payload.at_hash === 'string')
  t.equal(payload.nonce, undefined)
  oidcClock.advance(120)
  const refreshed = await postToken(app, { grant_type: 'refresh_token', refresh_token: res.json<{ refresh_token: string }>().refresh_token, client_id: tv.application.clientId })
  const again = await verifyIdToken(jwks, refreshed.json<{ id_token?: string }>().id_token ?? '', tv.application.clientId, oidcClock.now())
  t.equal(again.payload.auth_time, payload.auth_time, 'a refresh keeps the approval\'s auth_time (OIDC Core §12.2)')

  const plain = await deviceCode(app, tv, { scope: 'read' })
  await decide(app, plain.user_code, true, { user: 'user-oidc' })
  t.equal((await poll(app, tv, plain.device_code)).json<{ id_token?: string }>().id_token, undefined, 'no openid, no ID token')
})
