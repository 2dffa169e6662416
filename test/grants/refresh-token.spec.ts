import Database from 'better-sqlite3'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import t, { type Test } from 'tap'
import type { SettingsInput } from '../../index.js'
import { tokenChecksum } from '../../lib/tokens/checksum.js'
import {
  ALICE, assertTokenError, basicAuth, bearerWorks, buildApp, createApplication, createClient, databasePath, fixedClock,
  postToken, TOKEN_ERRORS, type FixedClock, type TokenBody,
} from '../helpers/index.js'
import { passwordGrant, passwordGrantOptions } from '../helpers/password-grant.js'

interface Client {
  app: FastifyInstance
  clock: FixedClock
  authorization: string
  /** A fresh password-grant token pair for ALICE. */
  login (scope?: string): Promise<TokenBody>
  /** POSTs grant_type=refresh_token with this client's credentials. */
  refresh (refreshToken: string, extra?: Record<string, string | string[]>): Promise<LightMyRequestResponse>
}

/** An app with the password grant on (to get refresh tokens), a fixed clock and one confidential client. */
async function setup (t: Test, settings: SettingsInput = {}): Promise<Client> {
  const clock = fixedClock()
  const app = await buildApp(t, passwordGrantOptions({ settings, clock }))
  const { authorization } = await createClient(app, { authorizationGrantType: 'password' })
  return {
    app,
    clock,
    authorization,
    async login (scope) {
      const res = await passwordGrant(app, authorization, scope === undefined ? {} : { scope })
      t.equal(res.statusCode, 200, 'login')
      return res.json<TokenBody>()
    },
    async refresh (refreshToken, extra = {}) {
      return await postToken(app, { grant_type: 'refresh_token', refresh_token: refreshToken, ...extra }, { authorization })
    },
  }
}

function ok (t: Test, res: LightMyRequestResponse): TokenBody {
  t.equal(res.statusCode, 200, 'refresh succeeded')
  return res.json<TokenBody>()
}

/** Row counts straight from the SQLite file. */
function countRows (t: Test, sql: string, ...args: unknown[]): number {
  const db = new Database(databasePath(t), { readonly: true })
  try {
    return (db.prepare(sql).get(...args) as { n: number }).n
  } finally {
    db.close()
  }
}

t.test('a refresh rotates: a new pair, the old access token dies, the chain goes on', async (t) => {
  const c = await setup(t)
  const first = await c.login()
  c.clock.advance(60)
  const res = await c.refresh(first.refresh_token ?? '')
  t.equal(res.headers['cache-control'], 'no-store')
  t.equal(res.headers.pragma, 'no-cache')
  const second = ok(t, res)
  t.same(Object.keys(second).sort(), ['access_token', 'expires_in', 'refresh_token', 'scope', 'token_type'])
  t.not(second.access_token, first.access_token)
  t.not(second.refresh_token, first.refresh_token)
  t.equal(second.scope, 'read write')
  t.equal(second.expires_in, 36000)
  t.notOk(await bearerWorks(c.app, first.access_token), 'the superseded access token is revoked')
  const info = await c.app.oauth.authenticateBearer({ authorization: `Bearer ${second.access_token}`, queryToken: undefined })
  t.ok(info.ok)
  if (info.ok) t.equal(info.token.userId, ALICE.id, 'the new token keeps the user')
  const old = await c.app.oauth.store.findRefreshToken(tokenChecksum(first.refresh_token ?? ''))
  t.ok(old?.revokedAt, 'the old refresh token is marked revoked')
  const third = ok(t, await c.refresh(second.refresh_token ?? ''))
  t.ok(await bearerWorks(c.app, third.access_token))
})

t.test('replaying a rotated refresh token is invalid_grant and revokes the whole family (RT-1)', async (t) => {
  const c = await setup(t)
  // The same check through a protected route, as a resource server would see it.
  c.app.get('/api/hello', { onRequest: c.app.oauth.protect() }, async () => 'Hello, OAuth2!')
  const hello = async (token: string): Promise<number> =>
    (await c.app.inject({ method: 'GET', url: '/api/hello', headers: { authorization: `Bearer ${token}` } })).statusCode

  const rt0 = await c.login()
  const other = await c.login() // a second family of the same user and client
  const rt1 = ok(t, await c.refresh(rt0.refresh_token ?? ''))
  const rt2 = ok(t, await c.refresh(rt1.refresh_token ?? ''))
  t.equal(await hello(rt2.access_token), 200)

  assertTokenError(t, await c.refresh(rt0.refresh_token ?? ''), 400, TOKEN_ERRORS.invalidGrant)
  t.equal(await hello(rt2.access_token), 403, 'the newest access token stops working')
  t.notOk(await bearerWorks(c.app, rt2.access_token))
  assertTokenError(t, await c.refresh(rt2.refresh_token ?? ''), 400, TOKEN_ERRORS.invalidGrant)

  t.ok(await bearerWorks(c.app, other.access_token), 'another family is untouched')
  ok(t, await c.refresh(other.refresh_token ?? ''))
})

t.test('replaying the token just rotated, with no grace period, also revokes the family', async (t) => {
  const c = await setup(t)
  const rt0 = await c.login()
  const rt1 = ok(t, await c.refresh(rt0.refresh_token ?? ''))
  assertTokenError(t, await c.refresh(rt0.refresh_token ?? ''), 400, TOKEN_ERRORS.invalidGrant)
  t.notOk(await bearerWorks(c.app, rt1.access_token))
  assertTokenError(t, await c.refresh(rt1.refresh_token ?? ''), 400, TOKEN_ERRORS.invalidGrant)
})

t.test('with reuse protection off, a replay is refused but the family lives on', async (t) => {
  const c = await setup(t, { refreshTokenReuseProtection: false })
  const rt0 = await c.login()
  const rt1 = ok(t, await c.refresh(rt0.refresh_token ?? ''))
  assertTokenError(t, await c.refresh(rt0.refresh_token ?? ''), 400, TOKEN_ERRORS.invalidGrant)
  t.ok(await bearerWorks(c.app, rt1.access_token))
  ok(t, await c.refresh(rt1.refresh_token ?? ''))
})

t.test('rotateRefreshToken false keeps the refresh token and replaces the access token', async (t) => {
  const c = await setup(t, { rotateRefreshToken: false, refreshTokenReuseProtection: false })
  const first = await c.login()
  const second = ok(t, await c.refresh(first.refresh_token ?? ''))
  t.equal(second.refresh_token, first.refresh_token, 'the same refresh token comes back')
  t.not(second.access_token, first.access_token)
  t.notOk(await bearerWorks(c.app, first.access_token), 'the previous access token is replaced')
  t.ok(await bearerWorks(c.app, second.access_token))
  const third = ok(t, await c.refresh(first.refresh_token ?? ''))
  t.equal(third.refresh_token, first.refresh_token)
  t.notOk(await bearerWorks(c.app, second.access_token))
  t.ok(await bearerWorks(c.app, third.access_token))
  t.equal(countRows(t, 'SELECT count(*) AS n FROM oauth2_refreshtoken'), 1)
  t.equal(countRows(t, 'SELECT count(*) AS n FROM oauth2_accesstoken'), 1)
})

t.test('inside the grace period the superseded token gets the same pair back', async (t) => {
  const c = await setup(t, { refreshTokenGracePeriodSeconds: 10 })
  const rt0 = await c.login()
  const pair = ok(t, await c.refresh(rt0.refresh_token ?? ''))
  c.clock.advance(10)
  const retry = ok(t, await c.refresh(rt0.refresh_token ?? ''))
  t.equal(retry.access_token, pair.access_token)
  t.equal(retry.refresh_token, pair.refresh_token)
  t.equal(retry.expires_in, 36000 - 10)
  t.ok(await bearerWorks(c.app, pair.access_token))
  t.equal(countRows(t, 'SELECT count(*) AS n FROM oauth2_refreshtoken'), 2, 'the retry created no rows')
  t.equal(countRows(t, 'SELECT count(*) AS n FROM oauth2_accesstoken'), 1)
  ok(t, await c.refresh(pair.refresh_token ?? ''))
})

t.test('after the grace period a retry is a replay: invalid_grant and the family revoked', async (t) => {
  const c = await setup(t, { refreshTokenGracePeriodSeconds: 10 })
  const rt0 = await c.login()
  const pair = ok(t, await c.refresh(rt0.refresh_token ?? ''))
  c.clock.advance(11)
  assertTokenError(t, await c.refresh(rt0.refresh_token ?? ''), 400, TOKEN_ERRORS.invalidGrant)
  t.notOk(await bearerWorks(c.app, pair.access_token))
  assertTokenError(t, await c.refresh(pair.refresh_token ?? ''), 400, TOKEN_ERRORS.invalidGrant)
})

t.test('the grace period covers only the token immediately superseded (RT-3)', async (t) => {
  const c = await setup(t, { refreshTokenGracePeriodSeconds: 10 })
  const rt0 = await c.login()
  const rt1 = ok(t, await c.refresh(rt0.refresh_token ?? ''))
  const rt2 = ok(t, await c.refresh(rt1.refresh_token ?? ''))
  assertTokenError(t, await c.refresh(rt0.refresh_token ?? ''), 400, TOKEN_ERRORS.invalidGrant)
  t.notOk(await bearerWorks(c.app, rt2.access_token), 'an older generation counts as a replay')
  assertTokenError(t, await c.refresh(rt2.refresh_token ?? ''), 400, TOKEN_ERRORS.invalidGrant)
})

t.test('a deliberately revoked family is never honoured inside the grace period (RT-3, DOT #1816)', async (t) => {
  const c = await setup(t, { refreshTokenGracePeriodSeconds: 10 })
  const rt0 = await c.login()
  const rt1 = ok(t, await c.refresh(rt0.refresh_token ?? ''))
  const record = await c.app.oauth.store.findRefreshToken(tokenChecksum(rt1.refresh_token ?? ''))
  t.ok(record)
  await c.app.oauth.store.revokeTokenFamily(record?.tokenFamily ?? '', c.clock.now())
  assertTokenError(t, await c.refresh(rt0.refresh_token ?? ''), 400, TOKEN_ERRORS.invalidGrant)
  assertTokenError(t, await c.refresh(rt1.refresh_token ?? ''), 400, TOKEN_ERRORS.invalidGrant)
  t.notOk(await bearerWorks(c.app, rt1.access_token))
})

t.test('refreshTokenExpireSeconds is enforced when the token is presented (RT-6)', async (t) => {
  const c = await setup(t, { refreshTokenExpireSeconds: 3600 })
  const rt0 = await c.login()
  c.clock.advance(3000)
  const rt1 = ok(t, await c.refresh(rt0.refresh_token ?? ''))
  c.clock.advance(3000)
  const rt2 = ok(t, await c.refresh(rt1.refresh_token ?? ''))
  t.pass('a rotated token gets a fresh lifetime, so an active client never expires')
  c.clock.advance(3599)
  const rt3 = ok(t, await c.refresh(rt2.refresh_token ?? ''))
  c.clock.advance(3600)
  assertTokenError(t, await c.refresh(rt3.refresh_token ?? ''), 400, TOKEN_ERRORS.invalidGrant)
  t.equal(countRows(t, 'SELECT count(*) AS n FROM oauth2_accesstoken'), 1, 'nothing was issued for the expired token')
})

t.test('without refreshTokenExpireSeconds a refresh token does not expire', async (t) => {
  const c = await setup(t)
  const rt0 = await c.login()
  c.clock.advance(10 * 365 * 24 * 3600)
  ok(t, await c.refresh(rt0.refresh_token ?? ''))
})

t.test('a refresh may narrow the scope; the refresh token keeps the original grant (RT-4)', async (t) => {
  const c = await setup(t)
  const first = await c.login('read write')
  const narrow = ok(t, await c.refresh(first.refresh_token ?? '', { scope: 'read' }))
  t.equal(narrow.scope, 'read')
  t.ok(await bearerWorks(c.app, narrow.access_token, ['read']))
  t.notOk(await bearerWorks(c.app, narrow.access_token, ['write']))
  const full = ok(t, await c.refresh(narrow.refresh_token ?? ''))
  t.equal(full.scope, 'read write', 'the next refresh can get the whole original scope back')
  const other = ok(t, await c.refresh(full.refresh_token ?? '', { scope: 'write' }))
  t.equal(other.scope, 'write')
})

t.test('a refresh may not widen the scope: invalid_scope, and the token stays usable', async (t) => {
  const c = await setup(t)
  const first = await c.login('read')
  for (const scope of ['read write', 'write', 'admin', 'read admin']) {
    assertTokenError(t, await c.refresh(first.refresh_token ?? '', { scope }), 400, TOKEN_ERRORS.invalidScope)
  }
  t.ok(await bearerWorks(c.app, first.access_token), 'a refused refresh revokes nothing')
  const same = ok(t, await c.refresh(first.refresh_token ?? '', { scope: 'read' }))
  t.equal(same.scope, 'read')
})

t.test('another client\'s refresh token is invalid_grant and stays valid for its owner (RT-5)', async (t) => {
  const c = await setup(t)
  const mine = await c.login()
  const thief = await createApplication(c.app, { authorizationGrantType: 'password' })
  const res = await postToken(c.app, { grant_type: 'refresh_token', refresh_token: mine.refresh_token ?? '' },
    { authorization: basicAuth(thief.application.clientId, thief.clientSecret ?? '') })
  assertTokenError(t, res, 400, TOKEN_ERRORS.invalidGrant)
  t.ok(await bearerWorks(c.app, mine.access_token), 'the owner\'s access token still works')
  ok(t, await c.refresh(mine.refresh_token ?? ''))
})

t.test('a missing, repeated, unknown or wrong-kind refresh_token is refused', async (t) => {
  const c = await setup(t)
  const pair = await c.login()
  const missing = { error: 'invalid_request', error_description: 'Request is missing refresh_token parameter.' }
  assertTokenError(t, await postToken(c.app, { grant_type: 'refresh_token' }, { authorization: c.authorization }), 400, missing)
  assertTokenError(t, await c.refresh(''), 400, missing)
  const repeated = await c.refresh('', { refresh_token: [pair.refresh_token ?? '', pair.refresh_token ?? ''] })
  assertTokenError(t, repeated, 400, { error: 'invalid_request', error_description: 'Parameter repeated: refresh_token.' })
  assertTokenError(t, await c.refresh('no-such-token'), 400, TOKEN_ERRORS.invalidGrant)
  assertTokenError(t, await c.refresh(pair.access_token), 400, TOKEN_ERRORS.invalidGrant)
  assertTokenError(t, await c.refresh(tokenChecksum(pair.refresh_token ?? '')), 400, TOKEN_ERRORS.invalidGrant)
  assertTokenError(t, await c.refresh(`${pair.refresh_token ?? ''}' OR '1'='1`), 400, TOKEN_ERRORS.invalidGrant)
  ok(t, await c.refresh(pair.refresh_token ?? ''))
})

t.test('the refresh grant still authenticates the client', async (t) => {
  const c = await setup(t)
  const pair = await c.login()
  const app = c.app
  const params = { grant_type: 'refresh_token', refresh_token: pair.refresh_token ?? '' }
  assertTokenError(t, await postToken(app, params), 401, TOKEN_ERRORS.invalidClient)
  const wrong = await postToken(app, params, { authorization: c.authorization.slice(0, -4) + 'AAAA' })
  t.equal(wrong.statusCode, 401)
  ok(t, await c.refresh(pair.refresh_token ?? ''))
})

t.test('a public client refreshes with its client_id only', async (t) => {
  const app = await buildApp(t, passwordGrantOptions())
  const created = await createApplication(app, { clientType: 'public', authorizationGrantType: 'password' })
  const { application } = created
  const login = await passwordGrant(app, created)
  const rt = login.json<TokenBody>().refresh_token ?? ''
  const res = await postToken(app, { grant_type: 'refresh_token', refresh_token: rt, client_id: application.clientId })
  t.equal(res.statusCode, 200)
  assertTokenError(t, await postToken(app, { grant_type: 'refresh_token', refresh_token: res.json<TokenBody>().refresh_token ?? '' }), 401, TOKEN_ERRORS.invalidClient)
})

/** Fires `n` refreshes of one token at once and sorts the answers. */
async function race (t: Test, c: Client, refreshToken: string, n = 20): Promise<{ wins: TokenBody[], losses: LightMyRequestResponse[] }> {
  const all = await Promise.all(Array.from({ length: n }, async () => await c.refresh(refreshToken)))
  t.equal(all.filter((r) => r.statusCode >= 500).length, 0, 'never a 5xx')
  return { wins: all.filter((r) => r.statusCode === 200).map((r) => r.json<TokenBody>()), losses: all.filter((r) => r.statusCode !== 200) }
}

t.test('20 concurrent refreshes of one token: one winner, and the losers count as replays (RT-2)', async (t) => {
  const c = await setup(t)
  const pair = await c.login()
  const { wins, losses } = await race(t, c, pair.refresh_token ?? '')
  t.equal(wins.length, 1, 'exactly one success')
  t.equal(losses.length, 19)
  for (const res of losses) t.same(res.json(), TOKEN_ERRORS.invalidGrant)
  t.notOk(await bearerWorks(c.app, wins[0]?.access_token ?? ''), 'reuse protection revoked the family')
  t.equal(countRows(t, 'SELECT count(*) AS n FROM oauth2_refreshtoken WHERE revoked IS NULL'), 0)
})

t.test('20 concurrent refreshes without reuse protection: one winner whose pair stays live', async (t) => {
  const c = await setup(t, { refreshTokenReuseProtection: false })
  const pair = await c.login()
  const { wins, losses } = await race(t, c, pair.refresh_token ?? '')
  t.equal(wins.length, 1, 'exactly one success')
  for (const res of losses) t.same(res.json(), TOKEN_ERRORS.invalidGrant)
  t.ok(await bearerWorks(c.app, wins[0]?.access_token ?? ''))
  t.equal(countRows(t, 'SELECT count(*) AS n FROM oauth2_refreshtoken WHERE revoked IS NULL'), 1, 'exactly one live refresh token')
  t.equal(countRows(t, 'SELECT count(*) AS n FROM oauth2_accesstoken'), 1, 'exactly one live access token')
  ok(t, await c.refresh(wins[0]?.refresh_token ?? ''))
})

t.test('20 concurrent refreshes inside a grace period all get the same pair', async (t) => {
  const c = await setup(t, { refreshTokenGracePeriodSeconds: 30 })
  const pair = await c.login()
  const { wins, losses } = await race(t, c, pair.refresh_token ?? '')
  t.equal(losses.length, 0)
  t.equal(new Set(wins.map((w) => `${w.access_token} ${w.refresh_token ?? ''}`)).size, 1, 'one pair for everyone')
  t.ok(await bearerWorks(c.app, wins[0]?.access_token ?? ''))
  t.equal(countRows(t, 'SELECT count(*) AS n FROM oauth2_refreshtoken'), 2, 'no extra rows')
  t.equal(countRows(t, 'SELECT count(*) AS n FROM oauth2_accesstoken'), 1)
})

t.test('an expired refresh token is refused even inside the grace period (RT-3)', async (t) => {
  const c = await setup(t, { refreshTokenExpireSeconds: 100, refreshTokenGracePeriodSeconds: 10 })
  const rt0 = await c.login()
  c.clock.advance(95)
  const rt1 = ok(t, await c.refresh(rt0.refresh_token ?? ''))
  c.clock.advance(5)
  assertTokenError(t, await c.refresh(rt0.refresh_token ?? ''), 400, TOKEN_ERRORS.invalidGrant)
  t.notOk(await bearerWorks(c.app, rt1.access_token), 'an expired rotated token coming back is a replay')
})
