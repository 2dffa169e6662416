// RFC 8628 §3.1–3.2: the device authorization endpoint, its codes, settings and metadata.
import Database from 'better-sqlite3'
import t from 'tap'
import { formatUserCode, normalizeUserCode, USER_CODE_ALPHABET } from '../../lib/endpoints/device-user-code.js'
import { cryptoRandom, type Random } from '../../lib/random.js'
import { resolveSettings } from '../../lib/settings.js'
import { oauthMetadata } from '../../index.js'
import { createApplication, databasePath, FORM, TOKEN_ERRORS } from '../helpers/index.js'
import { buildDeviceApp, createDeviceApplication, DEVICE_GRANT, deviceCode, requestDeviceCode, USER_CODE_SHAPE, type DeviceAuthorizationBody } from './support.js'

const app = await buildDeviceApp(t)
await app.register(oauthMetadata, { routesPrefix: '/o' })
const tv = await createDeviceApplication(app)
const dbFile = databasePath(t)

t.test('a public client gets a device code, a grouped user code and the verification URIs, not cached', async (t) => {
  const res = await requestDeviceCode(app, tv, { scope: 'read' })
  t.equal(res.statusCode, 200)
  t.equal(res.headers['cache-control'], 'no-store')
  t.equal(res.headers.pragma, 'no-cache')
  const body = res.json<DeviceAuthorizationBody>()
  t.same(Object.keys(body).sort(), ['device_code', 'expires_in', 'interval', 'user_code', 'verification_uri', 'verification_uri_complete'])
  t.match(body.device_code, /^[A-Za-z0-9_-]{43}$/, '256-bit device code')
  t.match(body.user_code, USER_CODE_SHAPE)
  t.equal(body.verification_uri, 'http://localhost:80/o/device/', '{issuer}/device/')
  t.equal(body.verification_uri_complete, `http://localhost:80/o/device/?user_code=${body.user_code}`)
  t.equal(body.expires_in, 1800)
  t.equal(body.interval, 5)
})

t.test('only checksums of the device and user codes are stored', async (t) => {
  const body = await deviceCode(app, tv)
  const db = new Database(dbFile, { readonly: true })
  t.teardown(() => db.close())
  const dump = JSON.stringify(db.prepare('SELECT * FROM oauth2_devicegrant').all())
  t.notMatch(dump, body.device_code)
  t.notMatch(dump, body.user_code)
  t.notMatch(dump, body.user_code.replace('-', ''))
  t.match(dump, /"status":"authorization-pending"/)
})

t.test('user codes come from the CSPRNG over a look-alike-free alphabet; a taken code is drawn again', async (t) => {
  const codes = new Set<string>()
  for (let i = 0; i < 30; i++) codes.add((await deviceCode(app, tv)).user_code)
  t.equal(codes.size, 30, 'all distinct')
  for (const c of 'AEIOU01258') t.notOk(USER_CODE_ALPHABET.includes(c), `no ${c}`)
  t.equal(formatUserCode('BCDFGHJK'), 'BCDF-GHJK')
  t.equal(normalizeUserCode(' bcdf - ghjk ', 8), 'BCDFGHJK', 'case, dashes and spaces do not matter')
  t.equal(normalizeUserCode('BCDF-GHJ', 8), null, 'too short')
  t.equal(normalizeUserCode('ABCD-EFGH', 8), null, 'letters outside the alphabet')

  // A Random whose first two user codes collide: the second authorization draws again.
  const draws = ['BBBBBBBB', 'BBBBBBBB', 'CCCCCCCC']
  const random: Random = { ...cryptoRandom, string: (length, alphabet) => alphabet === USER_CODE_ALPHABET ? draws.shift() ?? cryptoRandom.string(length, alphabet) : cryptoRandom.string(length, alphabet) }
  const fixed = await buildDeviceApp(t, { random })
  const client = await createDeviceApplication(fixed)
  t.equal((await deviceCode(fixed, client)).user_code, 'BBBB-BBBB')
  t.equal((await deviceCode(fixed, client)).user_code, 'CCCC-CCCC', 'collision retried')
})

t.test('confidential clients authenticate as at the token endpoint; other application types are refused', async (t) => {
  const confidential = await createDeviceApplication(app, { clientType: 'confidential' })
  t.equal((await requestDeviceCode(app, confidential)).statusCode, 200, 'Basic authentication')
  let res = await app.inject({ method: 'POST', url: '/o/device-authorization/', payload: `client_id=${confidential.application.clientId}`, headers: FORM })
  t.equal(res.statusCode, 401)
  t.same(res.json(), TOKEN_ERRORS.invalidClient, 'no secret')
  res = await app.inject({ method: 'POST', url: '/o/device-authorization/', payload: 'client_id=nobody', headers: FORM })
  t.same(res.json(), TOKEN_ERRORS.invalidClient, 'unknown client')
  res = await app.inject({ method: 'POST', url: '/o/device-authorization/', payload: '', headers: FORM })
  t.same(res.json(), TOKEN_ERRORS.invalidClient, 'no client at all')

  const service = await createApplication(app)
  res = await requestDeviceCode(app, service)
  t.equal(res.statusCode, 400)
  t.same(res.json(), TOKEN_ERRORS.unauthorizedClient, 'a client-credentials application may not start the device flow')
})

t.test('scopes: the defaults when none is asked, invalid_scope for unknown ones', async (t) => {
  let res = await requestDeviceCode(app, tv, { scope: 'admin' })
  t.equal(res.statusCode, 400)
  t.same(res.json(), TOKEN_ERRORS.invalidScope)
  res = await requestDeviceCode(app, tv, { scope: 'read read' })
  t.equal(res.statusCode, 200)
})

t.test('malformed requests get RFC 6749 JSON errors, never a 500', async (t) => {
  let res = await app.inject({ method: 'POST', url: '/o/device-authorization/', payload: { client_id: tv.application.clientId } })
  t.equal(res.statusCode, 400)
  t.same(res.json(), TOKEN_ERRORS.notForm)
  res = await app.inject({ method: 'POST', url: '/o/device-authorization/', payload: `client_id=${tv.application.clientId}&client_id=x`, headers: FORM })
  t.same(res.json(), { error: 'invalid_request', error_description: 'Parameter repeated: client_id.' })
  res = await app.inject({ method: 'POST', url: '/o/device-authorization/', payload: 'client_id=%zz', headers: FORM })
  t.ok(res.statusCode >= 400 && res.statusCode < 500)
  res = await app.inject({ method: 'GET', url: '/o/device-authorization/' })
  t.equal(res.statusCode, 405)
  t.equal(res.headers.allow, 'POST')
  res = await app.inject({ method: 'POST', url: '/o/device-authorization', payload: `client_id=${tv.application.clientId}`, headers: FORM })
  t.equal(res.statusCode, 200, 'the trailing slash is optional')
})

t.test('metadata advertises the endpoint and the grant type only with the device flow on', async (t) => {
  const meta = (await app.inject({ method: 'GET', url: '/.well-known/oauth-authorization-server' })).json<Record<string, unknown>>()
  t.equal(meta.device_authorization_endpoint, 'http://localhost:80/o/device-authorization/')
  t.ok((meta.grant_types_supported as string[]).includes(DEVICE_GRANT))

  const off = await buildDeviceApp(t, { settings: { deviceFlowEnabled: false } })
  await off.register(oauthMetadata, { routesPrefix: '/o' })
  const offMeta = (await off.inject({ method: 'GET', url: '/.well-known/oauth-authorization-server' })).json<Record<string, unknown>>()
  t.equal(offMeta.device_authorization_endpoint, undefined)
  t.notOk((offMeta.grant_types_supported as string[]).includes(DEVICE_GRANT))
  t.equal((await off.inject({ method: 'POST', url: '/o/device-authorization/', payload: 'client_id=x', headers: FORM })).statusCode, 404, 'endpoint off')
  t.equal((await off.inject({ method: 'GET', url: '/o/device/' })).statusCode, 404, 'pages off')
})

t.test('settings: lifetime, interval, user code length and verification URI are validated and used', async (t) => {
  for (const bad of [{ deviceCodeExpireSeconds: 0 }, { deviceFlowInterval: 1.5 }, { deviceUserCodeLength: 6 }, { deviceUserCodeLength: 21 },
    { deviceVerificationUri: 'http://tv.example/activate' }, { deviceVerificationUri: 'https://tv.example/activate?x=1' }, { deviceFlowEnabled: 'yes' }]) {
    t.throws(() => resolveSettings(bad), { code: 'OAT_ERR_SETTINGS' }, JSON.stringify(bad))
  }
  const custom = await buildDeviceApp(t, {
    settings: { deviceCodeExpireSeconds: 300, deviceFlowInterval: 3, deviceUserCodeLength: 12, deviceVerificationUri: 'https://auth.example.com/activate' },
  })
  const body = await deviceCode(custom, await createDeviceApplication(custom))
  t.equal(body.expires_in, 300)
  t.equal(body.interval, 3)
  t.match(body.user_code, /^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/)
  t.equal(body.verification_uri, 'https://auth.example.com/activate')
  t.equal(body.verification_uri_complete, `https://auth.example.com/activate?user_code=${body.user_code}`)
})
