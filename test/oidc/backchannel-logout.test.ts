// OpenID Connect Back-Channel Logout 1.0, end to end: two relying parties (local HTTPS servers)
// take part in one user session, receive logout tokens when it ends (RP-initiated logout, the
// host's own logout, a staff end by sid), verify them with jose against the served JWKS, and see
// retries, a hanging RP and two workers on one database. On SQLite and PostgreSQL.
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { createLocalJWKSet, decodeJwt, jwtVerify, type JSONWebKeySet } from 'jose'
import t, { type Test } from 'tap'
import type { BackchannelLogoutEvent, LogoutEvent } from '../../lib/context.js'
import type { CreatedApplication } from '../../lib/applications.js'
import { codeClient, exchangeCode, getAuthorize, pkcePair, redirectParams, USER_HEADER } from '../helpers/authorize.js'
import { selfSignedCertificate, startDocumentServer, type TestCertificate } from '../helpers/https-server.js'
import { ALICE, basicAuth, bearerWorks, buildApp, createApplication, databasePath, postToken } from '../helpers/index.js'
import { testDialects } from '../helpers/postgres.js'
import { ISSUER, newRsaPem, oidcSettings } from './support.js'
import type { SettingsInput } from '../../lib/settings.js'
import { until } from '../helpers/wait.js'

const SESSION_HEADER = 'x-test-session'
const EVENT = 'http://schemas.openid.net/event/backchannel-logout'

/** `resolveUser` for these tests: the user from `x-test-user`, the host session id from `x-test-session`. */
function sessionUser (request: FastifyRequest): { id: string, sessionId?: string } | null {
  const id = request.headers[USER_HEADER]
  const sessionId = request.headers[SESSION_HEADER]
  if (typeof id !== 'string' || id === '') return null
  return typeof sessionId === 'string' ? { id, sessionId } : { id }
}

/** A relying party's back-channel logout endpoint: records each logout token; `answer` decides the status (or hangs). */
interface RelyingParty {
  readonly uri: string
  readonly tokens: string[]
  answer: (n: number) => number | 'hang'
  /** How long the endpoint takes before it answers. */
  delayMs: number
}

async function startRelyingParty (t: Test, certificate: TestCertificate): Promise<RelyingParty> {
  const rp: RelyingParty = { uri: '', tokens: [], answer: () => 200, delayMs: 0 }
  const server = await startDocumentServer(t, {
    '/backchannel-logout': (req: IncomingMessage, res: ServerResponse) => {
      let body = ''
      req.on('data', (chunk: Buffer) => { body += chunk.toString('utf8') })
      req.on('end', () => {
        const type = req.headers['content-type'] ?? ''
        const token = new URLSearchParams(body).get('logout_token')
        if (req.method !== 'POST' || !type.startsWith('application/x-www-form-urlencoded') || token === null) {
          res.writeHead(400).end()
          return
        }
        rp.tokens.push(token)
        const status = rp.answer(rp.tokens.length)
        if (status === 'hang') return
        setTimeout(() => { res.writeHead(status, { 'cache-control': 'no-store' }).end() }, rp.delayMs)
      })
    },
  }, certificate)
  return Object.assign(rp, { uri: `${server.origin}/backchannel-logout` })
}

interface Setup {
  readonly app: FastifyInstance
  readonly rp1: RelyingParty
  readonly rp2: RelyingParty
  readonly client1: CreatedApplication
  readonly client2: CreatedApplication
  readonly logouts: LogoutEvent[]
  readonly deliveries: BackchannelLogoutEvent[]
  readonly jwks: JSONWebKeySet
  readonly key: string
}

type Database = { readonly database: string } | null

async function setup (t: Test, db: Database, settings: SettingsInput = {}, certificate = selfSignedCertificate()): Promise<Setup> {
  const rp1 = await startRelyingParty(t, certificate)
  const rp2 = await startRelyingParty(t, certificate)
  const key = newRsaPem()
  const app = await buildApp(t, {
    ...(db === null ? {} : db),
    resolveUser: sessionUser,
    secret: 'a-test-secret-of-at-least-32-characters',
    logoutUser: () => {},
    oidc: { privateKey: key },
    // The RPs listen on loopback with a test certificate: allowed for this test only. The request
    // timeout is what the hanging RP costs a test; shorter ones expired under load before a live
    // RP had answered (a retry then delivers the token again: at least once).
    outboundHttp: { ca: certificate.cert, allowPrivateAddresses: true, timeoutMs: 5000 },
    settings: oidcSettings({
      scopes: { openid: 'OpenID Connect', offline_access: 'Access while you are away' },
      oidcRpInitiatedLogoutEnabled: true,
      oidcRpInitiatedLogoutAlwaysPrompt: false,
      backchannelLogoutPollSeconds: 0.05,
      backchannelLogoutRetrySeconds: 0,
      // Long enough for the first attempts on a busy machine (the logout returns as soon as they end);
      // the test of the bound itself sets a short one.
      backchannelLogoutWaitSeconds: 30,
      ...settings,
    }),
  })
  const client = async (uri: string, extra = {}): Promise<CreatedApplication> => await createApplication(app, {
    authorizationGrantType: 'authorization-code', redirectUris: ['https://rp.example.com/cb'], skipAuthorization: true, backchannelLogoutUri: uri, ...extra,
  })
  const client1 = await client(rp1.uri)
  const client2 = await client(rp2.uri, { backchannelLogoutSessionRequired: true })
  const logouts: LogoutEvent[] = []
  const deliveries: BackchannelLogoutEvent[] = []
  app.oauth.events.on('logout', (e) => { logouts.push(e) })
  app.oauth.events.on('backchannelLogout', (e) => { deliveries.push(e) })
  await app.ready()
  const jwks = (await app.inject({ url: '/o/.well-known/jwks.json' })).json<JSONWebKeySet>()
  return { app, rp1, rp2, client1, client2, logouts, deliveries, jwks, key }
}

/** The code flow with `openid` for `created`, as `user` in host session `session`; the token response. */
async function signIn (app: FastifyInstance, created: CreatedApplication, session: string | null, user: string = ALICE.id, scope = 'openid'): Promise<{ id_token: string, access_token: string, refresh_token: string }> {
  const { verifier, challenge } = pkcePair()
  const res = await getAuthorize(app, {
    response_type: 'code', client_id: created.application.clientId, redirect_uri: 'https://rp.example.com/cb', scope, code_challenge: challenge, code_challenge_method: 'S256', state: 's',
  }, user, session === null ? {} : { [SESSION_HEADER]: session })
  const code = redirectParams(res).code ?? ''
  const tokens = await exchangeCode(app, codeClient(created), code, { redirect_uri: 'https://rp.example.com/cb', code_verifier: verifier })
  if (tokens.statusCode !== 200) throw new Error(`code exchange failed: ${tokens.body}`)
  return tokens.json()
}

/** Verifies a logout token as an RP must (§2.6) and returns its claims. */
async function verifyLogoutToken (t: Test, s: Setup, token: string, client: CreatedApplication): Promise<Record<string, unknown>> {
  const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(s.jwks), {
    issuer: ISSUER, audience: client.application.clientId, algorithms: ['RS256'], typ: 'logout+jwt', maxTokenAge: '2 minutes',
  })
  t.equal(protectedHeader.typ, 'logout+jwt')
  t.same(payload.events, { [EVENT]: {} }, 'events names the back-channel logout event')
  t.notOk('nonce' in payload, 'no nonce (§2.4)')
  t.type(payload.jti, 'string')
  t.ok(typeof payload.exp === 'number' && typeof payload.iat === 'number' && payload.exp - payload.iat <= 300, 'short-lived')
  return payload as Record<string, unknown>
}

/** The dialects, each as a maker of a fresh database for one test (`testDialects`). */
async function dialects (t: Test): Promise<Array<[string, (t: Test) => Promise<Database>]>> {
  return await testDialects(t, (url) => ({ database: url }))
}

t.test('back-channel logout', async (t) => {
  for (const [dialect, fresh] of await dialects(t)) {
    t.test(`${dialect}: RP-initiated logout tells both RPs of the session, with its sid; offline_access families survive`, async (t) => {
      const s = await setup(t, await fresh(t))
      const one = await signIn(s.app, s.client1, 'host-session-1')
      const two = await signIn(s.app, s.client2, 'host-session-1', ALICE.id, 'openid offline_access')
      const sid = decodeJwt(one.id_token).sid
      t.type(sid, 'string', 'the ID token carries sid')
      t.equal(decodeJwt(two.id_token).sid, sid, 'one session for both RPs')
      // A refresh keeps the session: the new ID token has the same sid, and rotation carries the family's session.
      const refreshed = await postToken(s.app, { grant_type: 'refresh_token', refresh_token: one.refresh_token },
        { authorization: basicAuth(s.client1.application.clientId, s.client1.clientSecret ?? '') })
      t.equal(refreshed.statusCode, 200)
      const rotated = refreshed.json<{ id_token: string, refresh_token: string, access_token: string }>()
      t.equal(decodeJwt(rotated.id_token).sid, sid, 'ID tokens from refresh carry sid')

      const res = await s.app.inject({ url: `/o/logout/?${new URLSearchParams({ id_token_hint: one.id_token })}`, headers: { [USER_HEADER]: ALICE.id, [SESSION_HEADER]: 'host-session-1' } })
      t.equal(res.statusCode, 200, 'logged out')
      await until(() => s.rp1.tokens.length === 1 && s.rp2.tokens.length === 1, 'both logout tokens')
      const claims1 = await verifyLogoutToken(t, s, s.rp1.tokens[0] ?? '', s.client1)
      const claims2 = await verifyLogoutToken(t, s, s.rp2.tokens[0] ?? '', s.client2)
      t.equal(claims1.sid, sid)
      t.equal(claims2.sid, sid, 'sid present for the RP that requires it')
      t.equal(claims1.sub, ALICE.id)
      t.match(s.logouts, [{ userId: ALICE.id, sid, reason: 'rp-initiated', backchannelClients: 2 }])
      t.notOk(await bearerWorks(s.app, rotated.access_token), 'the session\'s tokens are revoked')
      const again = await s.app.inject({ url: `/o/logout/?${new URLSearchParams({ id_token_hint: one.id_token })}`, headers: { [USER_HEADER]: ALICE.id, [SESSION_HEADER]: 'host-session-1' } })
      t.equal(again.statusCode, 200)
      t.equal(s.rp1.tokens.length + s.rp2.tokens.length, 2, 'ending twice sends nothing twice')
      t.equal(s.logouts.at(-1)?.sid, null, 'the second logout tracked no session')
    })

    t.test(`${dialect}: the host's own logout (app.oauth.endSession), refresh families without offline_access revoked, offline_access kept`, async (t) => {
      const s = await setup(t, await fresh(t), { oidcRpInitiatedLogoutDeleteTokens: false })
      const online = await signIn(s.app, s.client1, 'host-session-2')
      const offline = await signIn(s.app, s.client2, 'host-session-2', ALICE.id, 'openid offline_access')
      const other = await signIn(s.app, s.client1, 'host-session-other')
      const request = { headers: { [USER_HEADER]: ALICE.id, [SESSION_HEADER]: 'host-session-2' } } as unknown as FastifyRequest
      const result = await s.app.oauth.endSession(request)
      t.equal(result.sids.length, 1)
      t.equal(result.backchannelClients, 2)
      t.equal(result.revokedFamilies, 1)
      t.equal(s.rp1.tokens.length, 1, 'the logout waited for the first attempts')
      t.equal(s.rp2.tokens.length, 1)
      t.notOk(await bearerWorks(s.app, online.access_token), 'the family without offline_access is revoked')
      t.ok(await bearerWorks(s.app, offline.access_token), 'offline_access survives the session (§2.7)')
      t.ok(await bearerWorks(s.app, other.access_token), 'another session is untouched')
      const refresh = await postToken(s.app, { grant_type: 'refresh_token', refresh_token: offline.refresh_token },
        { authorization: basicAuth(s.client2.application.clientId, s.client2.clientSecret ?? '') })
      t.equal(refresh.statusCode, 200)
      t.notOk('sid' in decodeJwt(refresh.json<{ id_token: string }>().id_token), 'an ended session\'s sid is not put in new ID tokens')
      t.match(s.logouts, [{ reason: 'host', backchannelClients: 2 }])
      t.same((await s.app.oauth.endSession(request)).sids, [], 'idempotent')
    })

    t.test(`${dialect}: the logout waits for the timer's pass that claimed its deliveries first`, async (t) => {
      // On PostgreSQL two claims run on two connections: the worker's timer may start a pass after
      // the logout's own one and still claim the rows first. The logout's pass then finds nothing,
      // and the logout must wait for the other one's attempts. Here the logout's claim is held
      // until another claim has returned, so the timer's pass always wins.
      const s = await setup(t, await fresh(t))
      s.rp1.delayMs = 300
      s.rp2.delayMs = 300
      await signIn(s.app, s.client1, 'host-session-7')
      await signIn(s.app, s.client2, 'host-session-7')
      const store = s.app.oauth.store
      const claim = store.claimLogoutDeliveries.bind(store)
      let hold = false
      let release = (): void => {}
      const released = new Promise<void>((resolve) => { release = resolve })
      let claimedByOther = 0
      store.claimLogoutDeliveries = async (...args) => {
        if (hold) {
          hold = false
          await released
          return await claim(...args)
        }
        const rows = await claim(...args)
        claimedByOther += rows.length
        if (claimedByOther > 0) release()
        return rows
      }
      // 'logout' is told synchronously before the logout starts its pass: the next claim is that pass's.
      s.app.oauth.events.once('logout', () => { hold = true })
      const request = { headers: { [USER_HEADER]: ALICE.id, [SESSION_HEADER]: 'host-session-7' } } as unknown as FastifyRequest
      const result = await s.app.oauth.endSession(request)
      t.equal(result.backchannelClients, 2)
      t.equal(claimedByOther, 2, 'the timer\'s pass claimed both deliveries')
      t.equal(s.deliveries.filter((e) => e.outcome === 'delivered').length, 2, 'the logout returned after both were delivered')
    })

    t.test(`${dialect}: a staff end by sid; a code from an ended session is refused; a new user under the same host session id starts a new session`, async (t) => {
      const s = await setup(t, await fresh(t))
      const { challenge, verifier } = pkcePair()
      const page = await getAuthorize(s.app, {
        response_type: 'code', client_id: s.client1.application.clientId, redirect_uri: 'https://rp.example.com/cb', scope: 'openid', code_challenge: challenge, code_challenge_method: 'S256',
      }, ALICE.id, { [SESSION_HEADER]: 'host-session-3' })
      const code = redirectParams(page).code ?? ''
      const bob = await signIn(s.app, s.client2, 'host-session-3', 'user-bob')
      t.equal(s.logouts.length, 1, 'another user under the same host session id ended Alice\'s session')
      t.match(s.logouts[0], { userId: ALICE.id, reason: 'host' })
      await until(() => s.rp1.tokens.length === 1, 'the logout token for Alice\'s session')
      t.equal(s.rp2.tokens.length, 0, 'the RP outside Alice\'s session got nothing')
      const exchange = await exchangeCode(s.app, codeClient(s.client1), code, { redirect_uri: 'https://rp.example.com/cb', code_verifier: verifier })
      t.equal(exchange.statusCode, 400, 'a code of an ended session is refused')
      const bobSid = String(decodeJwt(bob.id_token).sid)
      t.not(bobSid, (await verifyLogoutToken(t, s, s.rp1.tokens[0] ?? '', s.client1)).sid, 'Bob has a session of his own')
      const staff = await s.app.oauth.endSessions({ sid: bobSid }, { reason: 'staff' })
      t.same(staff.sids, [bobSid])
      // The end waits at most backchannelLogoutWaitSeconds for the delivery; under load it may
      // come later (the worker sends it): wait for the condition rather than assume the timing.
      await until(() => s.rp2.tokens.length >= 1, 'the logout token for Bob\'s session')
      t.equal((await verifyLogoutToken(t, s, s.rp2.tokens[0] ?? '', s.client2)).sub, 'user-bob')
      t.match(s.logouts.at(-1), { reason: 'staff', sid: bobSid })
    })

    t.test(`${dialect}: an RP that fails first is retried until it answers; one that never answers does not hold the logout`, async (t) => {
      const s = await setup(t, await fresh(t), { backchannelLogoutWaitSeconds: 0.3 })
      s.rp1.answer = (n) => n < 3 ? 503 : 204
      s.rp2.answer = () => 'hang'
      await signIn(s.app, s.client1, 'host-session-4')
      await signIn(s.app, s.client2, 'host-session-4')
      const request = { headers: { [USER_HEADER]: ALICE.id, [SESSION_HEADER]: 'host-session-4' } } as unknown as FastifyRequest
      const result = await s.app.oauth.endSession(request)
      t.equal(result.backchannelClients, 2, 'the logout completed while one RP hangs')
      await until(() => s.deliveries.some((e) => e.clientId === s.client1.application.clientId && e.outcome === 'delivered'), 'the retried delivery')
      const mine = s.deliveries.filter((e) => e.clientId === s.client1.application.clientId)
      t.match(mine.map((e) => e.outcome), ['retrying', 'retrying', 'delivered'])
      t.match(mine[0], { status: 503, attempt: 1 })
      t.equal(s.rp1.tokens.length, 3)
      await until(() => s.deliveries.some((e) => e.clientId === s.client2.application.clientId && e.outcome === 'retrying'), 'the hanging RP timing out')
      t.match(s.deliveries.find((e) => e.clientId === s.client2.application.clientId), { outcome: 'retrying', error: /timeout/ })
    })

    t.test(`${dialect}: attempts run out: the token is given up, the row deleted`, async (t) => {
      const s = await setup(t, await fresh(t), { backchannelLogoutMaxAttempts: 2 })
      s.rp1.answer = () => 500
      await signIn(s.app, s.client1, 'host-session-5')
      await s.app.oauth.endSessions({ userId: ALICE.id }, { wait: false })
      await until(() => s.deliveries.some((e) => e.outcome === 'failed'), 'giving up')
      t.match(s.deliveries.map((e) => e.outcome), ['retrying', 'failed'])
      t.equal(s.rp1.tokens.length, 2)
    })
  }
})

t.test('two instances on one database deliver each logout token once', async (t) => {
  for (const [dialect, fresh] of await dialects(t)) {
    t.test(dialect, async (t) => {
      const certificate = selfSignedCertificate()
      const db = await fresh(t)
      const s = await setup(t, db, {}, certificate)
      // The second instance: the same database (SQLite file or PostgreSQL), its own worker.
      const second = await buildApp(t, {
        database: db?.database ?? databasePath(t),
        resolveUser: sessionUser,
        oidc: { privateKey: s.key },
        outboundHttp: { ca: certificate.cert, allowPrivateAddresses: true },
        settings: oidcSettings({ backchannelLogoutPollSeconds: 0.01, backchannelLogoutRetrySeconds: 0 }),
      })
      const secondDeliveries: BackchannelLogoutEvent[] = []
      second.oauth.events.on('backchannelLogout', (e) => { secondDeliveries.push(e) })
      await second.ready()
      const sessions = 12
      for (let i = 0; i < sessions; i++) {
        await signIn(s.app, s.client1, `host-session-many-${i}`)
        await signIn(s.app, s.client2, `host-session-many-${i}`)
      }
      // Queue every delivery without attempting it here: both workers race for them.
      await s.app.oauth.endSessions({ userId: ALICE.id }, { wait: false })
      const delivered = (): number => [...s.deliveries, ...secondDeliveries].filter((e) => e.outcome === 'delivered').length
      await until(() => delivered() >= sessions * 2, 'every delivery')
      t.equal(delivered(), sessions * 2, 'each delivered once, by one instance or the other')
      t.ok(secondDeliveries.length > 0 || s.deliveries.length > 0)
      const sids = (rp: RelyingParty): string[] => rp.tokens.map((token) => String(decodeJwt(token).sid))
      t.equal(new Set(sids(s.rp1)).size, sessions, 'every session reached RP 1')
      t.equal(new Set(sids(s.rp2)).size, sessions, 'and RP 2')
      // The claim is exclusive: no (client, session) row was delivered twice, by one instance or both.
      const all = [...s.deliveries, ...secondDeliveries]
      const deliveredPairs = all.filter((e) => e.outcome === 'delivered').map((e) => `${e.clientId} ${e.sid}`)
      t.equal(new Set(deliveredPairs).size, deliveredPairs.length, 'no delivery row was sent to completion twice')
      // Delivery is at least once: an attempt whose answer came too late (a busy machine) is retried,
      // so an RP may see a session twice, but never more often than there were attempts.
      t.ok(s.rp1.tokens.length + s.rp2.tokens.length <= all.length, 'every token an RP received was an attempt of one instance')
    })
  }
})
