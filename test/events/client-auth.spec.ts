// clientAuthenticationFailed at every endpoint that authenticates clients: the method tried, the
// endpoint, the reason, and the client id as given, made safe for logs.
import t from 'tap'
import { CLIENT_ASSERTION_TYPE } from '../../lib/validator/client-assertion.js'
import { basicAuth, buildApp, createClient, fixedClock, FORM, form } from '../helpers/index.js'
import { payloadsOf, recordEvents } from './support.js'

t.test('token endpoint: wrong secret, unknown client, no credentials, garbled Basic, a bad assertion', async (t) => {
  const clock = fixedClock('2026-02-01T00:00:00.000Z')
  const app = await buildApp(t, { clock })
  const client = await createClient(app)
  const seen = recordEvents(app)
  const post = async (params: Record<string, string>, headers: Record<string, string> = {}) =>
    await app.inject({ method: 'POST', url: '/o/token/', headers: { ...FORM, ...headers }, payload: form({ grant_type: 'client_credentials', ...params }) })
  t.equal((await post({}, { authorization: basicAuth(client.clientId, 'wrong') })).statusCode, 401)
  t.equal((await post({ client_id: 'nobody', client_secret: 'x' })).statusCode, 401)
  t.equal((await post({})).statusCode, 401)
  t.equal((await post({}, { authorization: 'Basic !!!' })).statusCode, 401)
  t.equal((await post({ client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: 'not.a.jwt' })).statusCode, 401)
  t.same(payloadsOf(seen, 'clientAuthenticationFailed'), [
    { at: clock.now(), endpoint: 'token', method: 'client_secret_basic', clientId: client.clientId, applicationId: client.id, reason: 'client secret mismatch' },
    { at: clock.now(), endpoint: 'token', method: 'client_secret_post', clientId: 'nobody', applicationId: null, reason: 'unknown client_id' },
    { at: clock.now(), endpoint: 'token', method: null, clientId: null, applicationId: null, reason: 'no client credentials' },
    { at: clock.now(), endpoint: 'token', method: 'client_secret_basic', clientId: null, applicationId: null, reason: 'malformed Basic authorization header' },
    { at: clock.now(), endpoint: 'token', method: 'client_assertion', clientId: null, applicationId: null, reason: 'client assertion: not a JWT' },
  ])
})

t.test('revocation, introspection, PAR, device authorization and app.oauth.authenticateClient report their endpoint', async (t) => {
  const app = await buildApp(t, { settings: { parEnabled: true, deviceFlowEnabled: true, issuer: 'http://localhost/o' } })
  app.post('/api', async (request) => await app.oauth.authenticateClient(request))
  const client = await createClient(app)
  const seen = recordEvents(app)
  const wrong = { ...FORM, authorization: basicAuth(client.clientId, 'wrong') }
  for (const url of ['/o/revoke-token/', '/o/introspect/', '/o/par/', '/o/device-authorization/']) {
    const res = await app.inject({ method: 'POST', url, headers: wrong, payload: form({ token: 'x', response_type: 'code', client_id: client.clientId }) })
    t.equal(res.statusCode, 401, url)
  }
  t.equal((await app.inject({ method: 'POST', url: '/api', headers: { authorization: basicAuth(client.clientId, 'wrong') } })).statusCode, 401)
  t.same(payloadsOf(seen, 'clientAuthenticationFailed').map((e) => e.endpoint), ['revocation', 'introspection', 'par', 'device-authorization', 'authenticate-client'])
  t.ok(payloadsOf(seen, 'clientAuthenticationFailed').every((e) => e.applicationId === client.id && e.reason === 'client secret mismatch'))
})

t.test('a hostile client_id is bounded and its control and format characters are escaped', async (t) => {
  const app = await buildApp(t)
  const seen = recordEvents(app)
  const forged = 'evil\nlevel=info msg="login ok"\u202Eesrever\u0000' + 'x'.repeat(5000)
  await app.inject({ method: 'POST', url: '/o/token/', headers: FORM, payload: form({ grant_type: 'client_credentials', client_id: forged, client_secret: 's' }) })
  const [event] = payloadsOf(seen, 'clientAuthenticationFailed')
  const clientId = event?.clientId ?? ''
  t.notOk(['\n', '\u0000', '\u202E'].some((ch) => clientId.includes(ch)), 'no raw control or bidi characters')
  t.match(clientId, /^evil\\u\{A\}level=info msg="login ok"\\u\{202E\}esrever\\u\{0\}x+…$/)
  t.ok(clientId.length <= 160, `bounded (${clientId.length})`)
})

t.test('a successful authentication reports nothing', async (t) => {
  const app = await buildApp(t)
  const client = await createClient(app)
  const seen = recordEvents(app)
  const res = await app.inject({ method: 'POST', url: '/o/token/', headers: { ...FORM, authorization: client.authorization }, payload: form({ grant_type: 'client_credentials' }) })
  t.equal(res.statusCode, 200)
  t.same(payloadsOf(seen, 'clientAuthenticationFailed'), [])
})
