// G9 across instances: with @fastify/rate-limit registered on a shared Redis store by the host,
// the failure limits count every instance's failures (BRUTE-1 behind a load balancer).
import fastifyRateLimit from '@fastify/rate-limit'
import Fastify, { type FastifyInstance } from 'fastify'
import { join } from 'node:path'
import t from 'tap'
import { fastifyOAuthToolkit, oauthRoutes } from '../../index.js'
import { clientCredentialsFrom, createApplication, testHasher } from '../helpers/index.js'
import { redisForTest } from '../helpers/redis.js'

const shared = await redisForTest(t)

/** One instance: the host registers @fastify/rate-limit on the shared Redis first; the toolkit reuses it. */
async function instance (database: string): Promise<FastifyInstance> {
  if (shared === null) throw new Error('unreachable: the file is skipped without Redis')
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastifyRateLimit, { global: false, redis: shared.redis, nameSpace: shared.nameSpace })
  await app.register(fastifyOAuthToolkit, { database, migrate: true, hasher: testHasher })
  await app.register(oauthRoutes, { prefix: '/o' })
  return app
}

if (shared !== null) {
  // Two instances over one database, as behind a load balancer.
  const database = join(t.testdir(), 'oauth.db')
  const a = await instance(database)
  const b = await instance(database)

  t.test('G9 failures on two instances add up: the 11th failure for a client_id is throttled on either', async (t) => {
    const { application, clientSecret } = await createApplication(a)
    const statuses: number[] = []
    for (let i = 0; i < 10; i++) {
      // Alternating instances, a new IP each time: only the shared per-client counter can stop it.
      const res = await clientCredentialsFrom(i % 2 === 0 ? a : b, application.clientId, 'wrong', `10.20.0.${i}`)
      statuses.push(res.statusCode)
    }
    t.same(statuses, Array(10).fill(401), '5 failures on each instance')
    for (const [name, app] of [['a', a], ['b', b]] as const) {
      const res = await clientCredentialsFrom(app, application.clientId, clientSecret ?? '', '10.20.1.1')
      t.equal(res.statusCode, 429, `instance ${name} refuses the right secret too: the counter is shared`)
      t.equal(res.json<{ error: string }>().error, 'temporarily_unavailable')
    }
    const other = await createApplication(b)
    t.equal((await clientCredentialsFrom(a, other.application.clientId, other.clientSecret ?? '', '10.20.1.2')).statusCode, 200, 'another client is untouched')
  })

  t.test('G9 per-IP failures are shared too', async (t) => {
    for (let i = 0; i < 10; i++) await clientCredentialsFrom(i % 2 === 0 ? a : b, `unknown-${i}`, 'x', '10.21.0.1')
    t.equal((await clientCredentialsFrom(b, 'unknown-new', 'x', '10.21.0.1')).statusCode, 429, 'the 11th failure from that IP, on either instance')
    const { application, clientSecret } = await createApplication(a)
    t.equal((await clientCredentialsFrom(a, application.clientId, clientSecret ?? '', '10.21.0.2')).statusCode, 200, 'another IP still works')
  })

  t.test('the counters live in Redis under the host\'s namespace', async (t) => {
    const keys = await shared.redis.keys(`${shared.nameSpace}*`)
    t.ok(keys.some((key) => key.includes('oat:')), `toolkit keys in Redis (${keys.length})`)
  })
}
