// G9 across instances: with @fastify/rate-limit registered on a shared Redis store by the host,
// the failure limits count every instance's failures (BRUTE-1 behind a load balancer): the
// refusals per (client or account, address) and per address, and the count behind an account's wait.
import fastifyRateLimit from '@fastify/rate-limit'
import Fastify, { type FastifyInstance } from 'fastify'
import { join } from 'node:path'
import t from 'tap'
import { fastifyOAuthToolkit, OAuthError, oauthRoutes } from '../../index.js'
import { ALICE, basicAuth, clientCredentialsFrom, createApplication, FORM, form, testHasher } from '../helpers/index.js'
import { verifyAlice } from '../helpers/password-grant.js'
import { redisForTest } from '../helpers/redis.js'

const shared = await redisForTest(t)

/** One instance: the host registers @fastify/rate-limit on the shared Redis first; the toolkit reuses it. */
async function instance (database: string): Promise<FastifyInstance> {
  if (shared === null) throw new Error('unreachable: the file is skipped without Redis')
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastifyRateLimit, { global: false, redis: shared.redis, nameSpace: shared.nameSpace })
  await app.register(fastifyOAuthToolkit, { database, migrate: true, hasher: testHasher, verifyUserCredentials: verifyAlice, settings: { passwordGrantEnabled: true, rateLimitAccountDelaySeconds: 1 } })
  await app.register(oauthRoutes, { prefix: '/o' })
  // A host route checking client credentials through the facade: it counts in the same Redis keys.
  app.post('/host/client', async (request, reply) => {
    try {
      return { client: (await app.oauth.authenticateClient(request)).application.clientId }
    } catch (err) {
      if (!(err instanceof OAuthError)) throw err
      return await reply.code(err.status).headers(err.headers).send({ error: err.error })
    }
  })
  return app
}

if (shared !== null) {
  // Two instances over one database, as behind a load balancer.
  const database = join(t.testdir(), 'oauth.db')
  const a = await instance(database)
  const b = await instance(database)

  t.test('BRUTE-1 G9 failures of one (client, address) on two instances add up: the 11th is refused on either, another address is not', async (t) => {
    const { application, clientSecret } = await createApplication(a)
    const statuses: number[] = []
    for (let i = 0; i < 10; i++) {
      // Alternating instances from one address: only a shared counter sees 10.
      const res = await clientCredentialsFrom(i % 2 === 0 ? a : b, application.clientId, 'wrong', '10.20.0.1')
      statuses.push(res.statusCode)
    }
    t.same(statuses, Array(10).fill(401), '5 failures on each instance')
    for (const [name, app] of [['a', a], ['b', b]] as const) {
      const res = await clientCredentialsFrom(app, application.clientId, clientSecret ?? '', '10.20.0.1')
      t.equal(res.statusCode, 429, `instance ${name} refuses that address the right secret too: the counter is shared`)
      t.equal(res.json<{ error: string }>().error, 'temporarily_unavailable')
      t.equal((await clientCredentialsFrom(app, application.clientId, clientSecret ?? '', '10.20.1.1')).statusCode, 200, `instance ${name} answers the client from another address`)
    }
  })

  t.test('BRUTE-1 G9 a host route on app.oauth.authenticateClient shares the token endpoint\'s counters across instances', async (t) => {
    const { application, clientSecret } = await createApplication(a)
    const host = async (app: FastifyInstance, secret: string, ip: string) => (await app.inject({
      method: 'POST', url: '/host/client', remoteAddress: ip, headers: { authorization: basicAuth(application.clientId, secret) },
    })).statusCode
    const statuses: number[] = []
    for (let i = 0; i < 5; i++) statuses.push(await host(a, `guess-${i}`, '10.23.0.1'))
    for (let i = 0; i < 5; i++) statuses.push((await clientCredentialsFrom(b, application.clientId, `guess-t${i}`, '10.23.0.1')).statusCode)
    t.same(statuses, Array(10).fill(401), 'five at a\'s host route, five at b\'s token endpoint')
    t.equal(await host(b, clientSecret ?? '', '10.23.0.1'), 429, 'b\'s host route refuses the right secret from that address')
    t.equal((await clientCredentialsFrom(a, application.clientId, clientSecret ?? '', '10.23.0.1')).statusCode, 429, 'so does a\'s token endpoint')
    t.equal(await host(a, clientSecret ?? '', '10.23.1.1'), 200, 'another address is answered')
  })

  t.test('BRUTE-1 G9 per-address failures are shared too (100 by default)', async (t) => {
    for (let i = 0; i < 100; i++) await clientCredentialsFrom(i % 2 === 0 ? a : b, `unknown-${i}`, 'x', '10.21.0.1')
    t.equal((await clientCredentialsFrom(b, 'unknown-new', 'x', '10.21.0.1')).statusCode, 429, 'the 101st failure from that address, on either instance')
    const { application, clientSecret } = await createApplication(a)
    t.equal((await clientCredentialsFrom(a, application.clientId, clientSecret ?? '', '10.21.0.2')).statusCode, 200, 'another address still works')
  })

  t.test('BRUTE-1 password logins: the (account, address) refusal and the account\'s wait count every instance\'s failures', async (t) => {
    const { application, clientSecret } = await createApplication(a, { authorizationGrantType: 'password' })
    const login = async (app: FastifyInstance, password: string, ip: string) => await app.inject({
      method: 'POST',
      url: '/o/token/',
      remoteAddress: ip,
      headers: { ...FORM, authorization: basicAuth(application.clientId, clientSecret ?? '') },
      payload: form({ grant_type: 'password', username: ALICE.username, password }),
    })
    for (let i = 0; i < 10; i++) t.equal((await login(i % 2 === 0 ? a : b, `guess-${i}`, '10.22.0.1')).statusCode, 400)
    t.equal((await login(a, ALICE.password, '10.22.0.1')).statusCode, 429, 'the address that failed 10 times across both is refused')
    // Twelve more failures from other addresses, on instance a: 22 in all, the account now waits a full second on b.
    for (let i = 0; i < 12; i++) t.equal((await login(a, `guess-${i}`, `10.22.1.${i}`)).statusCode, 400)
    const started = process.hrtime.bigint()
    t.equal((await login(b, ALICE.password, '10.22.2.1')).statusCode, 200, 'the right password from a clean address succeeds on b')
    t.ok(Number(process.hrtime.bigint() - started) / 1e6 >= 900, 'after the wait b computed from the shared count')
  })

  t.test('the counters live in Redis under the host\'s namespace', async (t) => {
    const keys = await shared.redis.keys(`${shared.nameSpace}*`)
    t.ok(keys.some((key) => key.includes('oat:')), `toolkit keys in Redis (${keys.length})`)
  })
}
