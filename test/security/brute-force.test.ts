// BRUTE-1 / INTRO-1 / goal G9: failed client authentications and password-grant logins are
// refused per (client or account, address) and per address, before any hash; per account across
// addresses they only wait. Client ids and usernames are public, so failures sent from one
// address must never lock the right secret or password out of another.
import fastifyRateLimit from '@fastify/rate-limit'
import Fastify, { type FastifyInstance } from 'fastify'
import formbody from '@fastify/formbody'
import t, { type Test } from 'tap'
import { loginRateLimit } from '../../index.js'
import type { SecretHasher } from '../../lib/tokens/secret-hasher.js'
import { ALICE, basicAuth, clientCredentialsFrom, buildApp, createApplication, FORM, form, testHasher } from '../helpers/index.js'
import { passwordGrantOptions, verifyAlice } from '../helpers/password-grant.js'

/** The test hasher, counting every verification (real or dummy): a refused request must do none. */
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

/** A password-grant app whose user checks are counted; `login` posts from a given address. */
async function passwordApp (t: Test, settings: Record<string, unknown> = {}) {
  const checks = { count: 0 }
  const app = await buildApp(t, passwordGrantOptions({
    settings,
    verifyUserCredentials: async (username: string, password: string) => { checks.count++; return await verifyAlice(username, password) },
  }))
  const { application, clientSecret } = await createApplication(app, { authorizationGrantType: 'password' })
  const login = async (password: string, ip: string, username: string = ALICE.username) => await app.inject({
    method: 'POST',
    url: '/o/token/',
    remoteAddress: ip,
    headers: { ...FORM, authorization: basicAuth(application.clientId, clientSecret ?? '') },
    payload: form({ grant_type: 'password', username, password }),
  })
  return { app, login, checks }
}

t.test('BRUTE-1 client secrets: wrong secrets from address A refuse A from the 11th, never the right secret from B', async (t) => {
  const hasher = countingHasher()
  const app = await buildApp(t, { hasher })
  const { application, clientSecret } = await createApplication(app)
  const statuses: number[] = []
  for (let i = 0; i < 30; i++) {
    const res = await clientCredentialsFrom(app, application.clientId, 'wrong', '10.1.0.1')
    statuses.push(res.statusCode)
    if (i === 10) {
      t.same(res.json(), TOO_MANY, 'RFC 6749-shaped JSON body')
      t.ok(Number(res.headers['retry-after']) >= 1, 'Retry-After in seconds')
      t.equal(res.headers['cache-control'], 'no-store')
    }
  }
  t.same(statuses, [...Array(10).fill(401), ...Array(20).fill(429)], 'A: requests 11–30 are refused')
  t.equal(hasher.calls, 10, 'refused requests computed no hash')
  t.equal((await clientCredentialsFrom(app, application.clientId, clientSecret ?? '', '10.1.0.1')).statusCode, 429, 'A is refused the right secret too (no oracle)')
  t.equal((await clientCredentialsFrom(app, application.clientId, clientSecret ?? '', '10.1.0.2')).statusCode, 200, 'B gets a token with the right secret at once')
})

t.test('BRUTE-1 client secrets: a refused address works again once the window has passed', async (t) => {
  const app = await buildApp(t, { settings: { rateLimitWindowSeconds: 2 } })
  const { application, clientSecret } = await createApplication(app)
  // Fail until refused: on a slow machine a window may end before the 11th failure, and the
  // count starts again, so the number of attempts is not fixed; the refusal is.
  let refusedAt = -1
  for (let i = 0; i < 1000 && refusedAt === -1; i++) {
    if ((await clientCredentialsFrom(app, application.clientId, 'wrong', '10.1.0.1')).statusCode === 429) refusedAt = i
  }
  t.ok(refusedAt >= 10, 'refused after ten failures')
  await new Promise((resolve) => setTimeout(resolve, 2100))
  t.equal((await clientCredentialsFrom(app, application.clientId, clientSecret ?? '', '10.1.0.1')).statusCode, 200, 'A works again after the window')
})

t.test('BRUTE-1 client secrets are not locked per client: failures spread over 200 addresses leave the right secret working', async (t) => {
  const hasher = countingHasher()
  const app = await buildApp(t, { hasher })
  const { application, clientSecret } = await createApplication(app)
  const statuses = new Set<number>()
  for (let i = 0; i < 200; i++) statuses.add((await clientCredentialsFrom(app, application.clientId, `wrong-${i}`, `10.11.${i >> 8}.${i & 255}`)).statusCode)
  t.same([...statuses], [401], 'every guess from a new address is checked (and fails): generated secrets are far beyond online guessing')
  t.equal((await clientCredentialsFrom(app, application.clientId, clientSecret ?? '', '10.11.9.9')).statusCode, 200, 'the backend still gets its token')
})

t.test('BRUTE-1 per address: 100 failures with ever-new client ids from one address, then 429; other addresses are not touched', async (t) => {
  const app = await buildApp(t)
  const statuses: number[] = []
  for (let i = 0; i < 101; i++) statuses.push((await clientCredentialsFrom(app, `unknown-${i}`, 'x', '10.3.0.1')).statusCode)
  t.same(statuses, [...Array(100).fill(401), 429], 'the 101st failure from that address is refused')
  const { application, clientSecret } = await createApplication(app)
  t.equal((await clientCredentialsFrom(app, application.clientId, clientSecret ?? '', '10.3.0.1')).statusCode, 429, 'that address is refused the right secret of another client too')
  t.equal((await clientCredentialsFrom(app, application.clientId, clientSecret ?? '', '10.3.0.2')).statusCode, 200, 'another address still works')
})

t.test('BRUTE-1 IPv6: addresses of one /64 count as one address; the next /64 is another', async (t) => {
  const app = await buildApp(t)
  const { application, clientSecret } = await createApplication(app)
  for (let i = 1; i <= 10; i++) t.equal((await clientCredentialsFrom(app, application.clientId, 'wrong', `2001:db8:5:6::${i.toString(16)}`)).statusCode, 401)
  t.equal((await clientCredentialsFrom(app, application.clientId, clientSecret ?? '', '2001:db8:5:6:ffff::1')).statusCode, 429, 'a new address in the same /64 does not get a new allowance')
  t.equal((await clientCredentialsFrom(app, application.clientId, clientSecret ?? '', '2001:db8:5:7::1')).statusCode, 200, 'the neighbouring /64 is not refused')
})

t.test('BRUTE-1 password grant: 30 wrong passwords from A refuse A from the 11th; the right password from B succeeds', async (t) => {
  const { login, checks } = await passwordApp(t)
  const statuses: number[] = []
  for (let i = 0; i < 30; i++) {
    const res = await login(`guess-${i}`, '10.4.0.1')
    statuses.push(res.statusCode)
    if (res.statusCode === 429) t.same(res.json(), TOO_MANY)
  }
  t.same(statuses, [...Array(10).fill(400), ...Array(20).fill(429)], 'A: 10 wrong passwords are checked, then 429')
  t.equal(checks.count, 10, 'refused attempts never reached the password check')
  t.equal((await login(ALICE.password, '10.4.0.1')).statusCode, 429, 'A is refused the right password too (no oracle)')
  const fromB = await login(ALICE.password, '10.4.0.2')
  t.equal(fromB.statusCode, 200, 'B logs in with the right password')
  t.ok(fromB.json<{ access_token?: string }>().access_token, 'and gets a token')
  t.equal((await login('whatever', '10.4.0.1', 'bob')).statusCode, 400, 'A may still try another account (the per-address limit is 100)')
  for (const spelling of ['Alice', ' ALICE', '\uff41\uff4c\uff49\uff43\uff45']) {
    t.equal((await login('guess', '10.4.0.1', spelling)).statusCode, 429, `A gets no fresh allowance by spelling the account ${JSON.stringify(spelling)}`)
  }
})

t.test('BRUTE-1 password grant, distributed: failures from 22 addresses make the account wait, never refuse a new address', async (t) => {
  const { login } = await passwordApp(t, { rateLimitAccountDelaySeconds: 1 })
  const statuses = new Set<number>()
  for (let i = 0; i < 22; i++) statuses.add((await login(`guess-${i}`, `10.12.0.${i}`)).statusCode)
  t.same([...statuses], [400], 'one guess per address is always checked')
  const started = process.hrtime.bigint()
  const res = await login(ALICE.password, '10.12.1.1')
  const waitedMs = Number(process.hrtime.bigint() - started) / 1e6
  t.equal(res.statusCode, 200, 'the right password from an address that has not failed succeeds')
  t.ok(waitedMs >= 900, `after the wait (${Math.round(waitedMs)} ms, cap 1 s)`)
  t.equal((await login(ALICE.password, '10.12.0.0')).statusCode, 200, 'an address with one failure (under its limit) succeeds too')
})

t.test('BRUTE-1 password grant: the waiting room holds two attempts per account; failed addresses beyond it get 429, a clean one goes on', async (t) => {
  const { login, checks } = await passwordApp(t, { rateLimitAccountDelaySeconds: 3 })
  for (let i = 0; i < 22; i++) t.equal((await login(`guess-${i}`, `10.13.0.${i}`)).statusCode, 400)
  checks.count = 0
  // Six addresses that have failed once each send another guess at once, and a new address the right password.
  const guesses = Array.from({ length: 6 }, async (_, i) => await login(`again-${i}`, `10.13.0.${i}`))
  const clean = login(ALICE.password, '10.13.2.1')
  const answers = await Promise.all(guesses)
  const statuses = answers.map((r) => r.statusCode).sort()
  t.same(statuses, [400, 400, 429, 429, 429, 429], 'two waited and were checked; four were refused at once')
  for (const refused of answers.filter((r) => r.statusCode === 429)) t.ok(Number(refused.headers['retry-after']) >= 1, 'with Retry-After')
  t.equal((await clean).statusCode, 200, 'the right password from a clean address is never refused')
  t.equal(checks.count, 3, 'the refused attempts never reached the password check')
})

t.test('BRUTE-1 password grant: 20 wrong passwords sent at once from one address get at most 10 checks', async (t) => {
  const { login, checks } = await passwordApp(t, { rateLimitAccountDelaySeconds: 0 })
  const statuses = (await Promise.all(Array.from({ length: 20 }, async (_, i) => await login(`guess-${i}`, '10.14.0.1')))).map((r) => r.statusCode)
  t.ok(checks.count <= 10, `attempts still running count against the limit (${checks.count} checks)`)
  t.equal(statuses.filter((s) => s === 429).length, 20 - checks.count, 'the others were refused')
  t.equal((await login(ALICE.password, '10.14.0.2')).statusCode, 200, 'another address logs in')
})

t.test('BRUTE-1 a NAT\'d office behind one address stays under the default limits: 200 people, one in four mistyping once', async (t) => {
  const users = new Map(Array.from({ length: 200 }, (_, i) => [`user${i}`, `password-${i}`]))
  const app = await buildApp(t, {
    settings: { passwordGrantEnabled: true },
    verifyUserCredentials: async (username: string, password: string) => users.get(username) === password ? username : null,
  })
  const { application, clientSecret } = await createApplication(app, { authorizationGrantType: 'password' })
  const backend = await createApplication(app)
  const office = '198.51.100.7'
  const statuses = new Map<number, number>()
  const count = (status: number): void => { statuses.set(status, (statuses.get(status) ?? 0) + 1) }
  for (const [username, password] of users) {
    const attempt = async (pw: string) => await app.inject({
      method: 'POST',
      url: '/o/token/',
      remoteAddress: office,
      headers: { ...FORM, authorization: basicAuth(application.clientId, clientSecret ?? '') },
      payload: form({ grant_type: 'password', username, password: pw }),
    })
    if (Number(username.slice(4)) % 4 === 0) count((await attempt(`${password}x`)).statusCode)
    count((await attempt(password)).statusCode)
    // A backend in the same office asks for tokens all along, and its developer mistypes its secret now and then.
    count((await clientCredentialsFrom(app, backend.application.clientId, backend.clientSecret ?? '', office)).statusCode)
    if (Number(username.slice(4)) % 50 === 0) count((await clientCredentialsFrom(app, backend.application.clientId, 'typo', office)).statusCode)
  }
  t.same(Object.fromEntries(statuses), { 200: 400, 400: 50, 401: 4 }, 'every right password and secret succeeded; 54 failures, no 429')
})

t.test('BRUTE-1 with rateLimitFailures: null every failure limit is off (the opt-out position)', async (t) => {
  const { app, login } = await passwordApp(t, { rateLimitFailures: null })
  const { application } = await createApplication(app)
  const statuses = new Set<number>()
  for (let i = 0; i < 120; i++) statuses.add((await clientCredentialsFrom(app, application.clientId, 'wrong')).statusCode)
  t.same([...statuses], [401], 'no per-pair and no per-address refusal')
  const started = process.hrtime.bigint()
  for (let i = 0; i < 20; i++) await login(`guess-${i}`, `10.15.0.${i}`)
  t.equal((await login(ALICE.password, '10.15.1.1')).statusCode, 200)
  t.ok(Number(process.hrtime.bigint() - started) / 1e9 < 30, 'and no waits (well under 20 waits of 5 s)')
})

t.test('INTRO-1 revocation and introspection count failures and refuse the failing address like the token endpoint', async (t) => {
  const app = await buildApp(t)
  for (const [n, url] of ['/o/introspect/', '/o/revoke-token/'].entries()) {
    const { application, clientSecret } = await createApplication(app)
    const post = async (secret: string, ip: string) => await app.inject({ method: 'POST', url, remoteAddress: ip, headers: { ...FORM, authorization: basicAuth(application.clientId, secret) }, payload: form({ token: 'x' }) })
    for (let i = 0; i < 10; i++) t.equal((await post('bad', `10.5.${n}.1`)).statusCode, 401)
    t.equal((await post(clientSecret ?? '', `10.5.${n}.1`)).statusCode, 429, `${url} refuses the failing address`)
    t.equal((await post(clientSecret ?? '', `10.5.${n}.2`)).statusCode, 200, `${url} answers the client from another address`)
  }
})

t.test('rateLimitRequests caps all requests per address and per (client, address), never per client alone (off by default)', async (t) => {
  const app = await buildApp(t, { settings: { rateLimitRequests: 3 } })
  const { application, clientSecret } = await createApplication(app)
  const statuses: number[] = []
  for (let i = 0; i < 5; i++) statuses.push((await clientCredentialsFrom(app, application.clientId, clientSecret ?? '', '10.6.0.1')).statusCode)
  t.same(statuses, [200, 200, 200, 429, 429])
  t.equal((await clientCredentialsFrom(app, application.clientId, clientSecret ?? '', '10.6.0.2')).statusCode, 200, 'the same client from another address is not capped')
  const defaults = await buildApp(t)
  const created = await createApplication(defaults)
  for (let i = 0; i < 20; i++) {
    const res = await clientCredentialsFrom(defaults, created.application.clientId, created.clientSecret ?? '')
    if (res.statusCode !== 200) t.fail(`request ${i} got ${res.statusCode}`)
  }
})

t.test('rate limit settings are validated at registration', async (t) => {
  for (const settings of [{ rateLimitFailures: 0 }, { rateLimitWindowSeconds: -1 }, { rateLimitRequests: 1.5 }, { rateLimitFailures: '10' }, { rateLimitIpFailures: 0 }, { rateLimitAccountDelaySeconds: 60 }]) {
    await t.rejects(buildApp(t, { settings: settings as never }), /invalid settings: rateLimit/, JSON.stringify(settings))
  }
})

t.test('a host that registered @fastify/rate-limit itself keeps it; the toolkit reuses it', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastifyRateLimit, { global: false })
  const { fastifyOAuthToolkit, oauthRoutes } = await import('../../index.js')
  await app.register(fastifyOAuthToolkit, { database: ':memory:', migrate: true, hasher: testHasher, verifyUserCredentials: verifyAlice })
  await app.register(oauthRoutes, { prefix: '/o' })
  const { application } = await createApplication(app)
  for (let i = 0; i < 10; i++) await clientCredentialsFrom(app, application.clientId, 'bad')
  t.equal((await clientCredentialsFrom(app, application.clientId, 'bad')).statusCode, 429)
})

/** A host login route on `loginRateLimit`, counting the password checks. */
async function loginApp (t: Test, options: Parameters<typeof loginRateLimit>[1]): Promise<{ app: FastifyInstance, post: (username: string, password: string, ip: string) => Promise<{ statusCode: number, headers: Record<string, unknown> }>, checks: { count: number } }> {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(formbody)
  const checks = { count: 0 }
  const limit = await loginRateLimit(app, options)
  app.post('/login', { preHandler: limit.preHandler }, async (request, reply) => {
    checks.count++
    const { username, password } = request.body as Record<string, string>
    if (username === 'alice' && password === 'right') return 'welcome'
    await limit.recordFailure(request)
    return await reply.code(401).send('no')
  })
  const post = async (username: string, password: string, ip: string) =>
    await app.inject({ method: 'POST', url: '/login', remoteAddress: ip, headers: FORM, payload: form({ username, password }) })
  return { app, post, checks }
}

t.test('BRUTE-1 loginRateLimit: wrong passwords from A refuse A, before the check; the right password from B logs in', async (t) => {
  const { post, checks } = await loginApp(t, { maxFailures: 3, windowSeconds: 60, maxDelaySeconds: 0.5 })
  for (let i = 0; i < 3; i++) t.equal((await post('alice', 'wrong', '10.7.0.1')).statusCode, 401)
  const refused = await post('alice', 'right', '10.7.0.1')
  t.equal(refused.statusCode, 429, 'A is refused the right password too')
  t.ok(Number(refused.headers['retry-after']) >= 1)
  t.equal(checks.count, 3, 'the refused request never reached the password check')
  t.equal((await post('alice', 'right', '10.7.0.2')).statusCode, 200, 'B logs in as alice')
  t.equal((await post('bob', 'wrong', '10.7.0.1')).statusCode, 401, 'A may still fail for another account')
})

t.test('BRUTE-1 loginRateLimit: failures spread over many addresses only slow the account down', async (t) => {
  const { post } = await loginApp(t, { maxFailures: 3, windowSeconds: 60, maxDelaySeconds: 1 })
  const statuses = new Set<number>()
  for (let i = 0; i < 8; i++) statuses.add((await post('alice', `guess-${i}`, `10.8.0.${i}`)).statusCode)
  t.same([...statuses], [401], 'no address that has not reached its own limit is refused')
  const started = process.hrtime.bigint()
  t.equal((await post('alice', 'right', '10.8.1.1')).statusCode, 200, 'the right password from a clean address')
  t.ok(Number(process.hrtime.bigint() - started) / 1e6 >= 900, 'after the wait')
})

t.test('BRUTE-1 loginRateLimit: per address, whatever the account (password spraying), and the options are checked', async (t) => {
  const { app, post } = await loginApp(t, { maxFailures: 3, maxFailuresPerIp: 5, windowSeconds: 60 })
  for (let i = 0; i < 5; i++) t.equal((await post(`user${i}`, 'Summer2026!', '10.9.0.1')).statusCode, 401)
  t.equal((await post('carol', 'Summer2026!', '10.9.0.1')).statusCode, 429, 'the 6th failure from the address, for a 6th account, is refused')
  t.equal((await post('alice', 'right', '10.9.0.2')).statusCode, 200, 'another address is not')
  await t.rejects(loginRateLimit(app, { maxFailures: 0 }), /maxFailures/)
  await t.rejects(loginRateLimit(app, { maxFailuresPerIp: 0 }), /maxFailuresPerIp/)
  await t.rejects(loginRateLimit(app, { maxDelaySeconds: 31 }), /maxDelaySeconds/)
})
