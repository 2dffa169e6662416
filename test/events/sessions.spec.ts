// tokenRevoked when a user's session at this server ends (Back-Channel Logout 1.0 §2.7): one per
// refresh token family revoked (those without offline_access), with the reason of the end, the
// same payload as the revocation endpoint's for a refresh token, before `logout`; for each way a
// session ends (the host's logout, host code, RP-Initiated Logout, the staff pages, expiry by
// cleartokens or at the next authorization, another user under the same host session id).
// On SQLite and PostgreSQL: what is reported comes from the store's transaction.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { decodeJwt } from 'jose'
import t, { type Test } from 'tap'
import { oauthRoutes } from '../../index.js'
import type { CreatedApplication } from '../../lib/applications.js'
import type { TokenRevokedEvent } from '../../lib/event-types.js'
import type { SettingsInput } from '../../lib/settings.js'
import type { EndSessionsStoreOptions } from '../../lib/store/types.js'
import { codeClient, exchangeCode, getAuthorize, headerUser, pkcePair, redirectParams, USER_HEADER } from '../helpers/authorize.js'
import { ALICE, basicAuth, bearerWorks, buildApp, createApplication, fixedClock, FORM, form, type FixedClock } from '../helpers/index.js'
import { testDialects } from '../helpers/postgres.js'
import { newRsaPem, oidcSettings } from '../oidc/support.js'
import { formState, post } from '../views/admin-support.js'
import { namesOf, payloadsOf, recordEvents, refreshTokenId, accessTokenId } from './support.js'

const SESSION_HEADER = 'x-test-session'
const CB = 'https://rp.example.com/cb'
const STAFF = 'staff-sam'

/** `resolveUser`: the user from `x-test-user` (staff when the id starts with `staff-`), the host session id from `x-test-session`. */
function sessionUser (request: FastifyRequest): { id: string, isStaff: boolean, sessionId?: string } | null {
  const user = headerUser(request)
  if (user === null) return null
  const sessionId = request.headers[SESSION_HEADER]
  return { ...user, isStaff: user.id.startsWith('staff-'), ...(typeof sessionId === 'string' ? { sessionId } : {}) }
}

interface Setup {
  readonly app: FastifyInstance
  readonly clock: FixedClock
  readonly one: CreatedApplication
  readonly two: CreatedApplication
}

type Database = string | null

async function setup (t: Test, database: Database, settings: SettingsInput = {}): Promise<Setup> {
  const clock = fixedClock('2026-05-01T00:00:00.000Z')
  const app = await buildApp(t, {
    ...(database === null ? {} : { database }),
    prefix: false,
    clock,
    resolveUser: sessionUser,
    secret: 'a-test-secret-of-at-least-32-characters',
    logoutUser: () => {},
    oidc: { privateKey: newRsaPem() },
    settings: oidcSettings({
      scopes: { openid: 'OpenID Connect', profile: 'Your profile', offline_access: 'Access while you are away' },
      oidcRpInitiatedLogoutEnabled: true,
      oidcRpInitiatedLogoutAlwaysPrompt: false,
      oidcRpInitiatedLogoutDeleteTokens: false,
      ...settings,
    }),
  })
  await app.register(oauthRoutes, { prefix: '/o', adminPages: true })
  const client = async (): Promise<CreatedApplication> => await createApplication(app, { authorizationGrantType: 'authorization-code', redirectUris: [CB], skipAuthorization: true })
  return { app, clock, one: await client(), two: await client() }
}

interface SignedIn {
  readonly access_token: string
  readonly refresh_token: string
  readonly id_token: string
}

/** The code flow for `created` as `user` in host session `session`. */
async function signIn (app: FastifyInstance, created: CreatedApplication, session: string, scope = 'openid', user: string = ALICE.id): Promise<SignedIn> {
  const { verifier, challenge } = pkcePair(`${session}-${scope}-${created.application.clientId}`)
  const res = await getAuthorize(app, {
    response_type: 'code', client_id: created.application.clientId, redirect_uri: CB, scope, code_challenge: challenge, code_challenge_method: 'S256',
  }, user, { [SESSION_HEADER]: session })
  const tokens = await exchangeCode(app, codeClient(created), redirectParams(res).code ?? '', { redirect_uri: CB, code_verifier: verifier })
  if (tokens.statusCode !== 200) throw new Error(`code exchange failed: ${tokens.body}`)
  return tokens.json()
}

/** The `tokenRevoked` payload a session end owes for the family of `tokens`, issued to `created`. */
async function expectedFor (s: Setup, created: CreatedApplication, tokens: SignedIn, reason: TokenRevokedEvent['reason'], userId: string = ALICE.id): Promise<TokenRevokedEvent> {
  return {
    at: s.clock.now(),
    reason,
    tokenType: 'refresh_token',
    applicationId: created.application.id,
    clientId: created.application.clientId,
    userId,
    accessTokenId: await accessTokenId(s.app, tokens.access_token) ?? -1,
    refreshTokenId: await refreshTokenId(s.app, tokens.refresh_token) ?? -1,
    grantId: null,
    family: true,
  }
}

const byRefreshTokenId = (events: readonly TokenRevokedEvent[]): TokenRevokedEvent[] => [...events].sort((a, b) => (a.refreshTokenId ?? 0) - (b.refreshTokenId ?? 0))

/** Records the options each `endSessions` call gives the store (the real store still does the work). */
function watchStoreEnds (app: FastifyInstance): Array<EndSessionsStoreOptions | undefined> {
  const store = app.oauth.store
  const real = store.endSessions.bind(store)
  const calls: Array<EndSessionsStoreOptions | undefined> = []
  store.endSessions = async (selector, now, options) => {
    calls.push(options)
    return await real(selector, now, options)
  }
  return calls
}

/** The dialects, each as a maker of a fresh database for one test (`testDialects`). */
async function dialects (t: Test): Promise<Array<[string, (t: Test) => Promise<Database>]>> {
  return await testDialects(t, (url) => url)
}

t.test('a session end: one tokenRevoked per family it revoked, then logout', async (t) => {
  for (const [dialect, fresh] of await dialects(t)) {
    t.test(`${dialect}: the host's logout (app.oauth.endSession): reason logout, the revocation endpoint's payload for a refresh token; offline_access and other sessions untouched`, async (t) => {
      const s = await setup(t, await fresh(t))
      const online = await signIn(s.app, s.one, 'host-1')
      const second = await signIn(s.app, s.two, 'host-1', 'openid profile')
      const offline = await signIn(s.app, s.one, 'host-1', 'openid offline_access')
      const elsewhere = await signIn(s.app, s.one, 'host-2')
      const expected = byRefreshTokenId([await expectedFor(s, s.one, online, 'logout'), await expectedFor(s, s.two, second, 'logout')])
      const seen = recordEvents(s.app)
      const request = { headers: { [USER_HEADER]: ALICE.id, [SESSION_HEADER]: 'host-1' } } as unknown as FastifyRequest
      const result = await s.app.oauth.endSession(request)
      t.equal(result.revokedFamilies, 2)
      t.same(namesOf(seen), ['tokenRevoked', 'tokenRevoked', 'logout'], 'the revocations, then the logout that caused them')
      t.same(byRefreshTokenId(payloadsOf(seen, 'tokenRevoked')), expected, 'one per family without offline_access, exactly these fields')
      t.notOk(await bearerWorks(s.app, online.access_token), 'the family\'s access token went with it (as the event says: family)')
      t.notOk(await bearerWorks(s.app, second.access_token))
      t.ok(await bearerWorks(s.app, offline.access_token), 'offline_access survives, and no event says otherwise')
      t.same((await s.app.oauth.endSession(request)).revokedFamilies, 0)
      t.same(namesOf(seen).filter((n) => n === 'tokenRevoked').length, 2, 'ending twice revokes and reports nothing twice')

      // The revocation endpoint, for a refresh token of another session: the same payload but for the reason and the ids.
      const byEndpoint = await expectedFor(s, s.one, elsewhere, 'revocation-endpoint')
      const before = seen.length
      const endpoint = await s.app.inject({
        method: 'POST',
        url: '/o/revoke-token/',
        headers: { ...FORM, authorization: basicAuth(s.one.application.clientId, s.one.clientSecret ?? '') },
        payload: form({ token: elsewhere.refresh_token, token_type_hint: 'refresh_token' }),
      })
      t.equal(endpoint.statusCode, 200)
      t.same(seen.slice(before).map((r) => r.payload), [byEndpoint])
    })

    t.test(`${dialect}: host code ends every session of a user (endSessions({ userId })): reason logout, per session, per family`, async (t) => {
      const s = await setup(t, await fresh(t))
      const a = await signIn(s.app, s.one, 'host-a')
      const b = await signIn(s.app, s.two, 'host-b')
      const expected = byRefreshTokenId([await expectedFor(s, s.one, a, 'logout'), await expectedFor(s, s.two, b, 'logout')])
      const seen = recordEvents(s.app)
      const result = await s.app.oauth.endSessions({ userId: ALICE.id }, { wait: false })
      t.equal(result.sids.length, 2)
      t.same(byRefreshTokenId(payloadsOf(seen, 'tokenRevoked')), expected)
      t.same(namesOf(seen).filter((n) => n !== 'tokenRevoked'), ['logout', 'logout'])
    })

    t.test(`${dialect}: RP-Initiated Logout: reason logout; with oidcRpInitiatedLogoutDeleteTokens, one event per family all the same`, async (t) => {
      const s = await setup(t, await fresh(t))
      const online = await signIn(s.app, s.one, 'host-rp')
      await signIn(s.app, s.two, 'host-rp', 'openid offline_access')
      const expected = await expectedFor(s, s.one, online, 'logout')
      const seen = recordEvents(s.app)
      const res = await s.app.inject({ url: `/o/logout/?${form({ id_token_hint: online.id_token })}`, headers: { [USER_HEADER]: ALICE.id, [SESSION_HEADER]: 'host-rp' } })
      t.equal(res.statusCode, 200)
      t.same(payloadsOf(seen, 'tokenRevoked'), [expected], 'the session\'s family without offline_access')
      t.match(payloadsOf(seen, 'logout'), [{ reason: 'rp-initiated', sid: decodeJwt(online.id_token).sid }])

      // DOT's token deletion runs first and reports each browser-flow token (offline_access
      // included); the session's end then finds those families revoked and reports none twice.
      const d = await setup(t, await fresh(t), { oidcRpInitiatedLogoutDeleteTokens: true })
      const first = await signIn(d.app, d.one, 'host-rp')
      const kept = await signIn(d.app, d.two, 'host-rp', 'openid offline_access')
      const heard = recordEvents(d.app)
      await d.app.inject({ url: `/o/logout/?${form({ id_token_hint: first.id_token })}`, headers: { [USER_HEADER]: ALICE.id, [SESSION_HEADER]: 'host-rp' } })
      const revoked = payloadsOf(heard, 'tokenRevoked')
      t.equal(revoked.length, 2, 'one per family, not one per family and per way it went')
      t.same(new Set(revoked.map((e) => e.clientId)), new Set([d.one.application.clientId, d.two.application.clientId]))
      t.ok(revoked.every((e) => e.reason === 'logout' && e.family))
      t.notOk(await bearerWorks(d.app, kept.access_token))
    })

    t.test(`${dialect}: the staff pages end a session: reason staff, with the staffAction`, async (t) => {
      const s = await setup(t, await fresh(t))
      const online = await signIn(s.app, s.one, 'host-staff')
      const expected = await expectedFor(s, s.one, online, 'staff')
      const [listed] = await s.app.oauth.store.pageSessions({ limit: 10 })
      const seen = recordEvents(s.app)
      const list = await s.app.inject({ url: '/o/admin/sessions/', headers: { [USER_HEADER]: STAFF } })
      const state = formState(list)
      const confirm = await post(s.app, '/o/admin/sessions/action/', { id: String(listed?.session.id) }, state)
      const done = await post(s.app, '/o/admin/sessions/action/', { id: String(listed?.session.id), confirm: 'yes' }, formState(confirm, state.cookie))
      t.equal(done.statusCode, 303)
      t.same(payloadsOf(seen, 'tokenRevoked'), [expected])
      t.same(namesOf(seen), ['tokenRevoked', 'logout', 'staffAction'])
      t.match(payloadsOf(seen, 'logout'), [{ reason: 'staff' }])
    })

    t.test(`${dialect}: expiry: cleartokens in batches (reason session-expired); nobody listening, the store lists nothing`, async (t) => {
      const s = await setup(t, await fresh(t), { oidcSessionExpireSeconds: 60, clearExpiredTokensBatchSize: 2 })
      const ends = watchStoreEnds(s.app)
      const signed = [await signIn(s.app, s.one, 'host-x1'), await signIn(s.app, s.two, 'host-x2'), await signIn(s.app, s.one, 'host-x3')]
      s.clock.advance(120)
      const expected = byRefreshTokenId(await Promise.all(signed.map(async (tokens, i) => await expectedFor(s, i === 1 ? s.two : s.one, tokens, 'session-expired'))))
      const seen = recordEvents(s.app)
      t.match(await s.app.oauth.clearExpiredTokens(), { sessions: 3 })
      t.same(byRefreshTokenId(payloadsOf(seen, 'tokenRevoked')), expected, 'each family of the three sessions, across two batches')
      t.match(payloadsOf(seen, 'logout'), [{ reason: 'expired' }, { reason: 'expired' }, { reason: 'expired' }])
      t.ok(ends.length >= 2 && ends.every((o) => o?.listFamilies === true), 'a listener: each batch lists its families')

      // No tokenRevoked listener (a logout one only): the batches count the families, and hold none.
      const q = await setup(t, await fresh(t), { oidcSessionExpireSeconds: 60, clearExpiredTokensBatchSize: 2 })
      const quiet = watchStoreEnds(q.app)
      const quietTokens = [await signIn(q.app, q.one, 'host-q1'), await signIn(q.app, q.two, 'host-q2'), await signIn(q.app, q.one, 'host-q3')]
      q.clock.advance(120)
      let logouts = 0
      q.app.oauth.events.on('logout', () => { logouts++ })
      t.match(await q.app.oauth.clearExpiredTokens(), { sessions: 3 })
      t.equal(logouts, 3)
      t.ok(quiet.length >= 2 && quiet.every((o) => o?.listFamilies === false), 'nobody listens to tokenRevoked: no family is listed')
      for (const tokens of quietTokens) t.notOk(await bearerWorks(q.app, tokens.access_token), 'revoked all the same')
    })

    t.test(`${dialect}: at the next authorization: the user's expired session (session-expired), another user's under the same host session id (logout)`, async (t) => {
      const s = await setup(t, await fresh(t), { oidcSessionExpireSeconds: 60 })
      const old = await signIn(s.app, s.one, 'host-y')
      s.clock.advance(120)
      const expired = await expectedFor(s, s.one, old, 'session-expired')
      const seen = recordEvents(s.app)
      const renewed = await signIn(s.app, s.one, 'host-y')
      t.same(payloadsOf(seen, 'tokenRevoked'), [expired], 'the expired session ended first')
      t.match(payloadsOf(seen, 'logout'), [{ reason: 'expired', userId: ALICE.id }])

      const replaced = await expectedFor(s, s.one, renewed, 'logout')
      seen.length = 0
      await signIn(s.app, s.two, 'host-y', 'openid', 'user-bob')
      t.same(payloadsOf(seen, 'tokenRevoked'), [replaced], 'the host reused its session id for another user: Alice logged out')
      t.match(payloadsOf(seen, 'logout'), [{ reason: 'host', userId: ALICE.id }])
    })
  }
})
