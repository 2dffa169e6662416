import type { FastifyInstance } from 'fastify'
import t, { type Test } from 'tap'
import type { ResourceOwner } from '../../index.js'
import { ALICE, buildApp, clientCredentialsToken, fixedClock, type BuildAppOptions } from '../helpers/index.js'
import { passwordGrantOptions, passwordTokens } from '../helpers/password-grant.js'
import { accessTokenRow, bearer } from '../views/support.js'

/** Plain routes protected by `app.oauth.protect()`, DOT's `protected_resource` / `rw_protected_resource`. */
function protectedRoutes (app: FastifyInstance): void {
  app.get('/open', async (request) => ({ token: request.accessToken, owner: request.resourceOwner }))
  app.get('/any', { onRequest: app.oauth.protect() }, async () => 'any')
  app.get('/read', { onRequest: app.oauth.protect({ scopes: ['read'] }) }, async () => 'read')
  app.get('/challenge', { onRequest: app.oauth.protect({ scopes: ['read'], bearerChallenge: true }) }, async () => 'challenge')
  app.get('/bare', { onRequest: app.oauth.protect({ bearerChallenge: false }) }, async () => 'bare')
  const rw = app.oauth.protect({ readWrite: true })
  app.route({ method: ['GET', 'POST', 'DELETE', 'OPTIONS'], url: '/rw', onRequest: rw, handler: async (request) => request.method })
  app.get('/me', { onRequest: app.oauth.protect() }, async (request) => {
    const token = request.accessToken
    return {
      scopes: token?.scopes,
      expiresAt: token?.expiresAt.toISOString(),
      userId: token?.userId,
      clientId: token?.application?.clientId,
      owner: request.resourceOwner,
    }
  })
}

async function protectApp (t: Test, options: BuildAppOptions = {}) {
  const app = await buildApp(t, options)
  protectedRoutes(app)
  return app
}

t.test('protect() lets through only a valid bearer token', async (t) => {
  const app = await protectApp(t)
  const token = await clientCredentialsToken(app)
  const ok = await app.inject({ method: 'GET', url: '/any', headers: bearer(token) })
  t.equal(ok.statusCode, 200)
  t.equal(ok.body, 'any')
  for (const headers of [{}, bearer('unknown'), { authorization: 'Bearer' }]) {
    const res = await app.inject({ method: 'GET', url: '/any', headers })
    t.equal(res.statusCode, 403, 'DOT parity: bare 403')
    t.equal(res.body, '')
  }
})

t.test('protect({ scopes }) needs every scope', async (t) => {
  const app = await protectApp(t)
  t.equal((await app.inject({ method: 'GET', url: '/read', headers: bearer(await clientCredentialsToken(app, 'read')) })).statusCode, 200)
  t.equal((await app.inject({ method: 'GET', url: '/read', headers: bearer(await clientCredentialsToken(app, 'write')) })).statusCode, 403)
})

t.test('protect({ bearerChallenge: true }) answers RFC 6750 challenges on its routes', async (t) => {
  const app = await protectApp(t)
  const write = await clientCredentialsToken(app, 'write')
  const scope = await app.inject({ method: 'GET', url: '/challenge', headers: bearer(write) })
  t.equal(scope.statusCode, 403)
  t.equal(scope.headers['www-authenticate'],
    'Bearer realm="api", error="insufficient_scope", error_description="The access token is valid but does not have enough scope.", scope="read"')
  const missing = await app.inject({ method: 'GET', url: '/challenge' })
  t.equal(missing.statusCode, 401)
  t.equal(missing.headers['www-authenticate'], 'Bearer realm="api"', 'RFC 6750 §3.1: no error attribute without a token')
})

t.test('protect({ bearerChallenge: false }) keeps the bare 403 when the plugin challenges', async (t) => {
  const app = await protectApp(t, { settings: { bearerChallenge: true } })
  t.equal((await app.inject({ method: 'GET', url: '/any' })).statusCode, 401, 'plugin-wide challenges')
  const bare = await app.inject({ method: 'GET', url: '/bare', headers: bearer('unknown') })
  t.equal(bare.statusCode, 403, 'route switched back to DOT\'s bare 403')
  t.equal(bare.body, '')
  t.notOk(bare.headers['www-authenticate'])
})

t.test('protect({ readWrite }) needs readScope for GET and OPTIONS passes; writeScope for the rest', async (t) => {
  const app = await protectApp(t)
  const read = await clientCredentialsToken(app, 'read')
  const write = await clientCredentialsToken(app, 'write')
  // DOT #1738 regression: the same hook serves many requests without its scope list growing.
  for (let i = 0; i < 2; i++) {
    t.equal((await app.inject({ method: 'GET', url: '/rw', headers: bearer(read) })).statusCode, 200, 'GET with read')
    t.equal((await app.inject({ method: 'HEAD', url: '/rw', headers: bearer(read) })).statusCode, 200, 'HEAD with read')
    t.equal((await app.inject({ method: 'GET', url: '/rw', headers: bearer(write) })).statusCode, 403, 'GET with write only')
    t.equal((await app.inject({ method: 'POST', url: '/rw', headers: bearer(write) })).statusCode, 200, 'POST with write')
    t.equal((await app.inject({ method: 'DELETE', url: '/rw', headers: bearer(read) })).statusCode, 403, 'DELETE with read only')
  }
  const preflight = await app.inject({ method: 'OPTIONS', url: '/rw' })
  t.equal(preflight.statusCode, 200, 'OPTIONS passes without a token (DOT parity)')
  t.equal(preflight.body, 'OPTIONS')
})

t.test('routes without protect() see request.accessToken and request.resourceOwner as null', async (t) => {
  const app = await protectApp(t)
  const token = await clientCredentialsToken(app)
  const res = await app.inject({ method: 'GET', url: '/open', headers: bearer(token) })
  t.same(res.json(), { token: null, owner: null })
})

t.test('request.accessToken carries scopes, expiry, application and user id', async (t) => {
  const clock = fixedClock('2026-03-01T12:00:00.000Z')
  const app = await protectApp(t, { clock, settings: { accessTokenExpireSeconds: 3600 } })
  const token = await clientCredentialsToken(app, 'read write')
  const row = await accessTokenRow(app, token)
  const application = await app.oauth.store.findApplicationById(row.applicationId ?? -1)
  const res = await app.inject({ method: 'GET', url: '/me', headers: bearer(token) })
  t.same(res.json(), {
    scopes: ['read', 'write'],
    expiresAt: '2026-03-01T13:00:00.000Z',
    userId: null,
    clientId: application?.clientId,
    owner: null,
  }, 'a client-credentials token speaks for no user')
})

t.test('loadUser resolves request.resourceOwner for user tokens only', async (t) => {
  const calls: string[] = []
  const users = new Map<string, ResourceOwner>([[ALICE.id, { id: ALICE.id, username: ALICE.username }]])
  const app = await protectApp(t, passwordGrantOptions({
    loadUser: async (userId) => { calls.push(userId); return users.get(userId) ?? null },
  }))
  const { accessToken } = await passwordTokens(app, 'read')
  const res = await app.inject({ method: 'GET', url: '/me', headers: bearer(accessToken) })
  t.equal(res.statusCode, 200)
  t.match(res.json(), { scopes: ['read'], userId: ALICE.id, owner: { id: ALICE.id, username: ALICE.username } })
  t.same(calls, [ALICE.id])

  const cc = await clientCredentialsToken(app)
  const client = await app.inject({ method: 'GET', url: '/me', headers: bearer(cc) })
  t.equal(client.json().owner, null)
  t.same(calls, [ALICE.id], 'loadUser is not called for client-credentials tokens')

  await app.inject({ method: 'GET', url: '/read', headers: bearer(await clientCredentialsToken(app, 'write')) })
  t.same(calls, [ALICE.id], 'nor when the token is refused')

  // The user is deleted: the token it left behind must not keep working.
  users.delete(ALICE.id)
  const gone = await app.inject({ method: 'GET', url: '/me', headers: bearer(accessToken) })
  t.equal(gone.statusCode, 403, 'loadUser resolving null fails closed')
  const challenged = await app.inject({ method: 'GET', url: '/challenge', headers: bearer(accessToken) })
  t.equal(challenged.statusCode, 401)
  t.same(challenged.json(), { error: 'invalid_token', error_description: 'The access token is invalid.' })
})

t.test('without loadUser, a user token passes and request.resourceOwner stays null', async (t) => {
  const app = await protectApp(t, passwordGrantOptions())
  const { accessToken } = await passwordTokens(app)
  const res = await app.inject({ method: 'GET', url: '/me', headers: bearer(accessToken) })
  t.equal(res.statusCode, 200)
  t.match(res.json(), { userId: ALICE.id, owner: null })
})

t.test('a throwing loadUser never reaches the handler; the error goes to the app error handler', async (t) => {
  let reached = false
  const app = await buildApp(t, passwordGrantOptions({ loadUser: async () => { throw new Error('user database down') } }))
  app.setErrorHandler(async (error, _request, reply) => reply.code(503).send({ handled: (error as Error).message }))
  app.get('/me', { onRequest: app.oauth.protect() }, async () => { reached = true; return 'me' })
  const { accessToken } = await passwordTokens(app)
  const res = await app.inject({ method: 'GET', url: '/me', headers: bearer(accessToken) })
  t.equal(res.statusCode, 503)
  t.same(res.json(), { handled: 'user database down' })
  t.equal(reached, false)
})
