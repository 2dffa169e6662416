// When the rate-limit counters' store cannot be reached (a Redis outage, say), the limited
// endpoints answer 503 `temporarily_unavailable` with `Retry-After` in their JSON, never a 500,
// and a failure that cannot be counted after the answer is decided is logged, not thrown.
import fastifyRateLimit from '@fastify/rate-limit'
import type { FastifyRateLimitStore } from '@fastify/rate-limit'
import t from 'tap'
import { OAuthError } from '../../index.js'
import { basicAuth, buildApp, createApplication, FORM, form } from '../helpers/index.js'

/** A store whose every call fails, as a client of an unreachable Redis does. */
class UnreachableStore implements FastifyRateLimitStore {
  incr (_key: string, callback: (error: Error | null) => void): void {
    callback(new Error('connect ECONNREFUSED 127.0.0.1:6379'))
  }

  child (): FastifyRateLimitStore {
    return new UnreachableStore()
  }
}

t.test('BRUTE-1 a rate-limit store outage is a 503 in the protocol\'s format, never a 500', async (t) => {
  const app = await buildApp(t, {
    prefix: false,
    settings: { dcrEnabled: true, dcrRegistrationPolicy: 'open' },
  })
  await app.register(fastifyRateLimit, { global: false, store: UnreachableStore })
  const { oauthRoutes } = await import('../../index.js')
  await app.register(oauthRoutes, { prefix: '/o' })
  // A host route checking client credentials through the facade: its errors are the facade's.
  app.post('/host', async (request, reply) => {
    try {
      return await app.oauth.authenticateClient(request)
    } catch (err) {
      if (!(err instanceof OAuthError)) throw err
      return await reply.code(err.status).headers(err.headers).send({ error: err.error })
    }
  })
  const { application, clientSecret } = await createApplication(app, { authorizationGrantType: 'client-credentials' })
  const auth = { ...FORM, authorization: basicAuth(application.clientId, clientSecret ?? '') }
  for (const url of ['/o/token/', '/o/introspect/', '/o/revoke-token/']) {
    const res = await app.inject({ method: 'POST', url, headers: auth, payload: form({ grant_type: 'client_credentials', token: 'x' }) })
    t.equal(res.statusCode, 503, url)
    t.equal(res.headers['retry-after'], '5', `${url}: Retry-After`)
    t.equal(res.json().error, 'temporarily_unavailable', `${url}: RFC 6749 JSON`)
  }
  const host = await app.inject({ method: 'POST', url: '/host', headers: { authorization: auth.authorization } })
  t.equal(host.statusCode, 503, 'a host route on app.oauth.authenticateClient')
  t.equal(host.headers['retry-after'], '5', 'host route: Retry-After')
  t.same(host.json(), { error: 'temporarily_unavailable' })
  const register = await app.inject({ method: 'POST', url: '/o/register/', headers: { 'content-type': 'application/json' }, payload: { redirect_uris: ['https://client.example/cb'] } })
  t.equal(register.statusCode, 503, 'register/')
  t.equal(register.json().error, 'temporarily_unavailable')
})
