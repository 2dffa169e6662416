// rateLimitTriggered: which limit refused, on which route, with the address and the client id
// claimed (log-safe), and never the account name or anything from a credential.
import Fastify from 'fastify'
import formbody from '@fastify/formbody'
import t from 'tap'
import { loginRateLimit } from '../../index.js'
import { ALICE, basicAuth, buildApp, clientCredentialsFrom, createApplication, createClient, fixedClock, FORM, form } from '../helpers/index.js'
import { passwordGrantOptions } from '../helpers/password-grant.js'
import { buildDeviceApp, enterCode } from '../device/support.js'
import { payloadsOf, recordEvents } from './support.js'

t.test('token endpoint, failures per (client, address): the limit, the route, the address and the client id', async (t) => {
  const clock = fixedClock('2026-08-01T00:00:00.000Z')
  const app = await buildApp(t, { clock, settings: { rateLimitFailures: 2, rateLimitIpFailures: 100, rateLimitWindowSeconds: 60 } })
  const client = await createClient(app)
  const seen = recordEvents(app)
  for (let i = 0; i < 2; i++) t.equal((await clientCredentialsFrom(app, client.clientId, 'bad', '10.9.0.1')).statusCode, 401)
  t.same(payloadsOf(seen, 'rateLimitTriggered'), [], 'failures below the limit trigger nothing')
  t.equal((await clientCredentialsFrom(app, client.clientId, 'bad', '10.9.0.1')).statusCode, 429)
  const [event] = payloadsOf(seen, 'rateLimitTriggered')
  t.match(event, { at: clock.now(), limit: 'failures-per-client-address', route: '/o/token/', ip: '10.9.0.1', clientId: client.clientId })
  t.ok((event?.retryAfterSeconds ?? 0) >= 1 && (event?.retryAfterSeconds ?? 0) <= 60)
})

t.test('token endpoint, failures per address whatever the client', async (t) => {
  const app = await buildApp(t, { settings: { rateLimitFailures: 50, rateLimitIpFailures: 2, rateLimitWindowSeconds: 60 } })
  const seen = recordEvents(app)
  await clientCredentialsFrom(app, 'a', 'bad', '10.9.1.1')
  await clientCredentialsFrom(app, 'b', 'bad', '10.9.1.1')
  t.equal((await clientCredentialsFrom(app, 'c', 'bad', '10.9.1.1')).statusCode, 429)
  t.match(payloadsOf(seen, 'rateLimitTriggered'), [{ limit: 'failures-per-address', ip: '10.9.1.1', clientId: 'c' }])
})

t.test('password grant, failures per (account, address): the username is never in the payload', async (t) => {
  const app = await buildApp(t, passwordGrantOptions({ settings: { rateLimitFailures: 2, rateLimitIpFailures: 100, rateLimitAccountDelaySeconds: 0, rateLimitWindowSeconds: 60 } }))
  const { application, clientSecret } = await createApplication(app, { authorizationGrantType: 'password' })
  const seen = recordEvents(app)
  const login = async () => await app.inject({
    method: 'POST',
    url: '/o/token/',
    remoteAddress: '10.9.2.1',
    headers: { ...FORM, authorization: basicAuth(application.clientId, clientSecret ?? '') },
    payload: form({ grant_type: 'password', username: ALICE.username, password: 'wrong-password' }),
  })
  for (let i = 0; i < 2; i++) t.equal((await login()).statusCode, 400)
  t.equal((await login()).statusCode, 429)
  const events = payloadsOf(seen, 'rateLimitTriggered')
  t.match(events, [{ limit: 'failures-per-account-address', ip: '10.9.2.1' }])
  t.notMatch(JSON.stringify(events), ALICE.username, 'no account name')
})

t.test('the request cap: per address, then per (client, address)', async (t) => {
  const app = await buildApp(t, { settings: { rateLimitFailures: null, rateLimitRequests: 2, rateLimitWindowSeconds: 60 } })
  const client = await createClient(app)
  const seen = recordEvents(app)
  for (let i = 0; i < 2; i++) t.equal((await clientCredentialsFrom(app, client.clientId, client.secret, '10.9.3.1')).statusCode, 200)
  t.equal((await clientCredentialsFrom(app, client.clientId, client.secret, '10.9.3.1')).statusCode, 429)
  t.match(payloadsOf(seen, 'rateLimitTriggered'), [{ limit: 'requests-per-address', route: '/o/token/', clientId: client.clientId }])
})

t.test('dynamic registration per address', async (t) => {
  const app = await buildApp(t, { settings: { dcrEnabled: true, dcrRegistrationPolicy: 'open', dcrRegistrationRateLimit: 1, rateLimitWindowSeconds: 60 } })
  const seen = recordEvents(app)
  const register = async () => await app.inject({ method: 'POST', url: '/o/register/', remoteAddress: '10.9.4.1', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ redirect_uris: ['https://client.example.com/cb'] }) })
  t.equal((await register()).statusCode, 201)
  t.equal((await register()).statusCode, 429)
  t.match(payloadsOf(seen, 'rateLimitTriggered'), [{ limit: 'registrations-per-address', route: '/o/register/', ip: '10.9.4.1', clientId: null }])
})

t.test('device pages: user-code entries per address and per user', async (t) => {
  const app = await buildDeviceApp(t)
  const seen = recordEvents(app)
  const statuses: number[] = []
  for (let i = 0; i < 6; i++) statuses.push((await enterCode(app, 'BCDF-GHJK', { user: 'user-dev', ip: '10.9.5.1' })).statusCode)
  t.same(statuses, [400, 400, 400, 400, 400, 429], 'five entries per user by default')
  t.match(payloadsOf(seen, 'rateLimitTriggered'), [{ limit: 'device-entries-per-user', route: '/o/device/', ip: '10.9.5.1', clientId: null }])
  seen.length = 0
  for (let i = 0; i < 20; i++) await enterCode(app, 'BCDF-GHJK', { user: `user-ip-${i}`, ip: '10.9.5.2' })
  t.equal((await enterCode(app, 'BCDF-GHJK', { user: 'user-ip-last', ip: '10.9.5.2' })).statusCode, 429)
  t.match(payloadsOf(seen, 'rateLimitTriggered'), [{ limit: 'device-entries-per-address', ip: '10.9.5.2' }])
})

t.test('loginRateLimit: reported on the toolkit\'s events; on an instance without the toolkit it still works', async (t) => {
  const app = await buildApp(t, { prefix: false })
  await app.register(formbody)
  const limit = await loginRateLimit(app, { maxFailures: 1, windowSeconds: 60, maxDelaySeconds: 0 })
  app.post('/login', { preHandler: limit.preHandler }, async (request, reply) => {
    await limit.recordFailure(request)
    return await reply.code(401).send('no')
  })
  const seen = recordEvents(app)
  const post = async () => await app.inject({ method: 'POST', url: '/login', remoteAddress: '10.9.6.1', headers: FORM, payload: form({ username: 'alice', password: 'x' }) })
  t.equal((await post()).statusCode, 401)
  t.equal((await post()).statusCode, 429)
  t.match(payloadsOf(seen, 'rateLimitTriggered'), [{ limit: 'failures-per-account-address', route: '/login', ip: '10.9.6.1', clientId: null }])
  t.notMatch(JSON.stringify(seen), 'alice')

  const bare = Fastify()
  t.teardown(() => bare.close())
  await bare.register(formbody)
  const bareLimit = await loginRateLimit(bare, { maxFailures: 1, windowSeconds: 60, maxDelaySeconds: 0 })
  bare.post('/login', { preHandler: bareLimit.preHandler }, async (request, reply) => {
    await bareLimit.recordFailure(request)
    return await reply.code(401).send('no')
  })
  const bareCall = async () => await bare.inject({ method: 'POST', url: '/login', headers: FORM, payload: form({ username: 'alice', password: 'x' }) })
  t.equal((await bareCall()).statusCode, 401)
  t.equal((await bareCall()).statusCode, 429, 'no oauth decorator: nothing to emit, still refused')
})
