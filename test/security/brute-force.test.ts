// BRUTE-1 / INTRO-1 / goal G9: failed client authentications and password-grant logins are
// limited per client_id, per account and per IP, and the limit is checked before any hash.
import fastifyRateLimit from '@fastify/rate-limit'
import Fastify from 'fastify'
import formbody from '@fastify/formbody'
import t from 'tap'
import { loginRateLimit } from '../../index.js'
import type { SecretHasher } from '../../lib/tokens/secret-hasher.js'
import { basicAuth, clientCredentialsFrom, buildApp, createApplication, FORM, form, passwordGrantOptions, TEST_USER, testHasher, verifyTestUser } from '../helpers/index.js'

/** The test hasher, counting every verification (real or dummy): a throttled request must do none. */
function countingHasher (): SecretHasher & { calls: number } {
  const counter = {
    calls: 0,
    hash: async (secret: string) => await testHasher.hash(secret),
    verify: async (secret: string, encoded: string) => { counter.calls++; return await testHasher.verify(secret, encoded) },
    verifyDummy: async (secret: string) => { counter.calls++; return await testHasher.verifyDummy(secret) },
  }
  return counter
}

const TOO_MANY = { error: 'temporarily_unavailable', error_description: 'Too many attempts; retry later.' }

t.test('BRUTE-1 client secrets: 10 failures per client_id, then 429 with Retry-After and no hashing, the right secret included', async (t) => {
  const hasher = countingHasher()
  const app = await buildApp(t, { hasher, settings: { rateLimitWindowSeconds: 2 } })
  const { application, clientSecret } = await createApplication(app)
  const statuses: number[] = []
  for (let i = 0; i < 30; i++) {
    // A new IP each time: the per-client limit alone must stop it.
    const res = await clientCredentialsFrom(app, application.clientId, 'wrong', `10.1.0.${i}`)
    statuses.push(res.statusCode)
    if (i === 10) {
      t.same(res.json(), TOO_MANY, 'RFC 6749-shaped JSON body')
      t.ok(Number(res.headers['retry-after']) >= 1, 'Retry-After in seconds')
      t.equal(res.headers['cache-control'], 'no-store')
    }
  }
  t.same(statuses, [...Array(10).fill(401), ...Array(20).fill(429)], 'requests 11–30 are refused')
  t.equal(hasher.calls, 10, 'throttled requests computed no hash')
  const locked = await clientCredentialsFrom(app, application.clientId, clientSecret ?? '', '10.2.0.1')
  t.equal(locked.statusCode, 429, 'the right secret is refused while locked (no oracle)')
  const other = await createApplication(app)
  t.equal((await clientCredentialsFrom(app, other.application.clientId, other.clientSecret ?? '', '10.2.0.2')).statusCode, 200, 'another client is untouched')
  await new Promise((resolve) => setTimeout(resolve, 2100))
  t.equal((await clientCredentialsFrom(app, application.clientId, clientSecret ?? '', '10.2.0.3')).statusCode, 200, 'works again after the window')
})

t.test('BRUTE-1 per IP: failures with ever-new client ids from one address are limited too; other addresses are not', async (t) => {
  const app = await buildApp(t)
  for (let i = 0; i < 10; i++) t.equal((await clientCredentialsFrom(app, `unknown-${i}`, 'x', '10.3.0.1')).statusCode, 401)
  t.equal((await clientCredentialsFrom(app, 'unknown-new', 'x', '10.3.0.1')).statusCode, 429, 'the 11th failure from that IP is throttled')
  const { application, clientSecret } = await createApplication(app)
  t.equal((await clientCredentialsFrom(app, application.clientId, clientSecret ?? '', '10.3.0.2')).statusCode, 200, 'another IP still works')
})

t.test('BRUTE-1 password grant: 10 wrong passwords per account, then 429 even for the right password', async (t) => {
  const hasher = countingHasher()
  const app = await buildApp(t, { ...passwordGrantOptions(), hasher })
  const { application, clientSecret } = await createApplication(app, { authorizationGrantType: 'password' })
  const login = async (username: string, password: string, ip: string) => await app.inject({
    method: 'POST',
    url: '/o/token/',
    remoteAddress: ip,
    headers: { ...FORM, authorization: basicAuth(application.clientId, clientSecret ?? '') },
    payload: form({ grant_type: 'password', username, password }),
  })
  for (let i = 0; i < 10; i++) t.equal((await login(TEST_USER.username, `guess-${i}`, `10.4.0.${i}`)).statusCode, 400)
  const started = process.hrtime.bigint()
  const locked = await login(TEST_USER.username, TEST_USER.password, '10.4.1.1')
  const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6
  t.equal(locked.statusCode, 429, 'the right password is refused while the account is locked')
  t.same(locked.json(), TOO_MANY)
  t.ok(elapsedMs < 100, `a throttled request is cheap (${elapsedMs.toFixed(1)} ms)`)
  const other = await login('bob', 'whatever', '10.4.1.2')
  t.equal(other.statusCode, 400, 'another account is not locked')
})

t.test('BRUTE-1 with rateLimitFailures: null the limit is off (the opt-out position)', async (t) => {
  const app = await buildApp(t, { settings: { rateLimitFailures: null } })
  const { application } = await createApplication(app)
  const statuses = new Set<number>()
  for (let i = 0; i < 15; i++) statuses.add((await clientCredentialsFrom(app, application.clientId, 'wrong')).statusCode)
  t.same([...statuses], [401])
})

t.test('INTRO-1 revocation and introspection count failures and are throttled like the token endpoint', async (t) => {
  const app = await buildApp(t)
  for (const url of ['/o/introspect/', '/o/revoke-token/']) {
    const { application, clientSecret } = await createApplication(app)
    for (let i = 0; i < 10; i++) {
      const res = await app.inject({ method: 'POST', url, remoteAddress: `10.5.${url.length}.${i}`, headers: { ...FORM, authorization: basicAuth(application.clientId, 'bad') }, payload: form({ token: 'x' }) })
      t.equal(res.statusCode, 401)
    }
    const res = await app.inject({ method: 'POST', url, remoteAddress: '10.5.9.9', headers: { ...FORM, authorization: basicAuth(application.clientId, clientSecret ?? '') }, payload: form({ token: 'x' }) })
    t.equal(res.statusCode, 429, `${url} throttles the client`)
  }
})

t.test('rateLimitRequests caps all requests per client and IP (off by default)', async (t) => {
  const app = await buildApp(t, { settings: { rateLimitRequests: 3 } })
  const { application, clientSecret } = await createApplication(app)
  const statuses: number[] = []
  for (let i = 0; i < 5; i++) statuses.push((await clientCredentialsFrom(app, application.clientId, clientSecret ?? '', `10.6.0.${i}`)).statusCode)
  t.same(statuses, [200, 200, 200, 429, 429])
  const defaults = await buildApp(t)
  const created = await createApplication(defaults)
  for (let i = 0; i < 20; i++) {
    const res = await clientCredentialsFrom(defaults, created.application.clientId, created.clientSecret ?? '')
    if (res.statusCode !== 200) t.fail(`request ${i} got ${res.statusCode}`)
  }
})

t.test('rate limit settings are validated at registration', async (t) => {
  for (const settings of [{ rateLimitFailures: 0 }, { rateLimitWindowSeconds: -1 }, { rateLimitRequests: 1.5 }, { rateLimitFailures: '10' }]) {
    await t.rejects(buildApp(t, { settings: settings as never }), /invalid settings: rateLimit/, JSON.stringify(settings))
  }
})

t.test('a host that registered @fastify/rate-limit itself keeps it; the toolkit reuses it', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastifyRateLimit, { global: false })
  const { fastifyOAuthToolkit, oauthRoutes } = await import('../../index.js')
  await app.register(fastifyOAuthToolkit, { database: ':memory:', migrate: true, hasher: testHasher, verifyUserCredentials: verifyTestUser })
  await app.register(oauthRoutes, { prefix: '/o' })
  const { application } = await createApplication(app)
  for (let i = 0; i < 10; i++) await clientCredentialsFrom(app, application.clientId, 'bad')
  t.equal((await clientCredentialsFrom(app, application.clientId, 'bad')).statusCode, 429)
})

t.test('BRUTE-1 loginRateLimit: the host login route is limited per account and per IP, before the password check', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(formbody)
  let checks = 0
  const limit = await loginRateLimit(app, { maxFailures: 3, windowSeconds: 60 })
  app.post('/login', { preHandler: limit.preHandler }, async (request, reply) => {
    checks++
    const { username, password } = request.body as Record<string, string>
    if (username === 'alice' && password === 'right') return 'welcome'
    await limit.recordFailure(request)
    return await reply.code(401).send('no')
  })
  const post = async (username: string, password: string, ip: string) =>
    await app.inject({ method: 'POST', url: '/login', remoteAddress: ip, headers: FORM, payload: form({ username, password }) })
  for (let i = 0; i < 3; i++) t.equal((await post('alice', 'wrong', `10.7.0.${i}`)).statusCode, 401)
  const locked = await post('alice', 'right', '10.7.1.1')
  t.equal(locked.statusCode, 429, 'the right password is refused while locked')
  t.ok(Number(locked.headers['retry-after']) >= 1)
  t.equal(checks, 3, 'the throttled request never reached the password check')
  t.equal((await post('bob', 'wrong', '10.7.1.2')).statusCode, 401, 'another account on another IP is not locked')
  for (let i = 0; i < 2; i++) await post(`user${i}`, 'wrong', '10.7.1.2')
  t.equal((await post('carol', 'x', '10.7.1.2')).statusCode, 429, 'per IP: 3 failures from one address lock it')
  await t.rejects(loginRateLimit(app, { maxFailures: 0 }), /maxFailures/)
})
