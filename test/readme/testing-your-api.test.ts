// The README's "Testing your API" example, as written there (only the import points at the
// repository's sources): a newcomer who copies it gets a passing test.
import Fastify from 'fastify'
import t from 'tap'
import { fastifyOAuthToolkit, oauthRoutes } from '../../index.js'

t.test('GET /api/items needs a token with the read scope', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastifyOAuthToolkit, {
    database: `${t.testdir()}/oauth.sqlite3`,
    migrate: true,
    settings: { scopes: { read: 'Read your data', write: 'Change your data' } },
  })
  await app.register(oauthRoutes, { prefix: '/o' })
  app.get('/api/items', { onRequest: app.oauth.protect({ scopes: ['read'] }) }, async () => ['first item'])

  const { application, clientSecret } = await app.oauth.createApplication({
    clientType: 'confidential',
    authorizationGrantType: 'client-credentials',
    name: 'Test client',
  })
  const token = await app.inject({
    method: 'POST',
    url: '/o/token/',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ grant_type: 'client_credentials', scope: 'read', client_id: application.clientId, client_secret: clientSecret ?? '' }).toString(),
  })
  t.equal(token.statusCode, 200)
  const { access_token: accessToken } = token.json<{ access_token: string }>()

  t.equal((await app.inject({ url: '/api/items' })).statusCode, 403, 'no token: DOT\'s bare 403')
  const items = await app.inject({ url: '/api/items', headers: { authorization: `Bearer ${accessToken}` } })
  t.same(items.json(), ['first item'])
})
