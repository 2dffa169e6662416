// The store methods of the staff administration pages: keyset pages with filters, and the staff
// revocations of codes and device authorizations, the user sessions' page and one session's detail; run against both dialects through storeContract.
import type { Test } from 'tap'
import { MAX_PAGE_SIZE, type NewSession, type StoreInvalidation } from '../../lib/store/types.js'
import { tokenChecksum } from '../../lib/tokens/checksum.js'
import { at, issueOf, newApplication, newDeviceGrant, newGrant, T0, type OpenHarness } from './contract.js'
import { eventually } from '../helpers/wait.js'

export function adminContract (t: Test, open: OpenHarness): void {
  t.test('pageApplications: newest first, keyset pages, every filter a parameter, the source of each', async (t) => {
    const h = await open(t)
    const { store } = h
    const operator = await newApplication(store, { clientId: 'op-1', name: 'Billing 100%_done', userId: 'owner-a' })
    const selfMade = await newApplication(store, { clientId: 'self-1', name: 'Self made', clientType: 'public', selfRegistered: true, userId: 'owner-b' })
    const registered = (await store.registerClient({
      clientId: 'dyn-1',
      clientSecretHash: '',
      clientType: 'public',
      authorizationGrantType: 'authorization-code',
      redirectUris: ['https://rp.example/cb'],
      postLogoutRedirectUris: [],
      allowedOrigins: [],
      name: 'Dynamic',
      userId: null,
      skipAuthorization: false,
      algorithm: '',
      now: T0,
    }, { accessTokenChecksum: tokenChecksum('reg'), metadata: {} })).application
    const cimd = await newApplication(store, { clientId: 'https://cimd.example/client.json', name: 'Metadata doc', selfRegistered: true })
    await store.updateApplication(cimd.id, { cimdExpiresAt: at(3600) }, T0)

    const all = await store.pageApplications({ limit: 10 })
    t.same(all.map((r) => r.application.id), [cimd.id, registered.id, selfMade.id, operator.id], 'newest first')
    t.same(all.map((r) => r.source), ['cimd', 'dynamic', 'self-registered', 'operator'])

    const ids = async (query: Parameters<typeof store.pageApplications>[0]): Promise<number[]> => (await store.pageApplications(query)).map((r) => r.application.id)
    t.same(await ids({ limit: 10, source: 'operator' }), [operator.id])
    t.same(await ids({ limit: 10, source: 'self-registered' }), [selfMade.id])
    t.same(await ids({ limit: 10, source: 'dynamic' }), [registered.id])
    t.same(await ids({ limit: 10, source: 'cimd' }), [cimd.id])
    t.same(await ids({ limit: 10, clientType: 'public' }), [registered.id, selfMade.id])
    t.same(await ids({ limit: 10, grantType: 'authorization-code' }), [registered.id])
    t.same(await ids({ limit: 10, userId: 'owner-b' }), [selfMade.id])
    t.same(await ids({ limit: 10, search: 'BILLING' }), [operator.id], 'search is case-insensitive on the name')
    t.same(await ids({ limit: 10, search: 'cimd.example' }), [cimd.id], 'and matches the client id')
    t.same(await ids({ limit: 10, search: '100%_' }), [operator.id], '% and _ are plain characters')
    t.same(await ids({ limit: 10, search: '%' }), [operator.id], 'a lone % matches only a name holding one')
    t.same(await ids({ limit: 10, search: "x' OR '1'='1" }), [], 'SQL in a filter is only a value')
    t.same(await ids({ limit: 10, userId: "' OR 1=1 --" }), [])

    t.same(await ids({ limit: 2 }), [cimd.id, registered.id], 'a page of two')
    t.same(await ids({ limit: 2, before: registered.id }), [selfMade.id, operator.id], 'the next page starts below the last id')
    t.same(await ids({ limit: 2, before: operator.id }), [], 'past the end: empty')
    t.same(await ids({ limit: 2, before: Number.MAX_SAFE_INTEGER }), [cimd.id, registered.id], 'a huge cursor is just the first page')
    t.equal((await store.pageApplications({ limit: 0 })).length, 1, 'limit is clamped up to 1')
    t.equal((await store.pageApplications({ limit: 1e9 })).length, 4, 'and down to MAX_PAGE_SIZE')
  })

  t.test('token, code, device and ID token pages filter by application and user, newest first, at most MAX_PAGE_SIZE', async (t) => {
    const { store } = await open(t)
    const a = await newApplication(store, { clientId: 'page-a' })
    const b = await newApplication(store, { clientId: 'page-b' })
    for (let i = 0; i < MAX_PAGE_SIZE + 5; i++) await store.issueTokens(issueOf({ applicationId: a.id, token: `bulk-${i}`, userId: 'u1' }))
    const mine = await store.issueTokens(issueOf({ applicationId: b.id, token: 'b-a', refresh: 'b-r', userId: 'u2' }))
    const other = await store.issueTokens(issueOf({ applicationId: b.id, token: 'b2-a', refresh: 'b2-r', userId: 'u3' }))

    const first = await store.pageAccessTokens({ limit: 1000 })
    t.equal(first.length, MAX_PAGE_SIZE, 'bounded')
    t.same(first.slice(0, 2).map((r) => r.id), [other.accessToken.id, mine.accessToken.id])
    t.same((await store.pageAccessTokens({ limit: 10, applicationId: b.id, userId: 'u2' })).map((r) => r.id), [mine.accessToken.id])
    t.same((await store.pageAccessTokens({ limit: 10, applicationId: a.id, before: first[first.length - 1]?.id })).length, 7, 'the rest of the pages')
    t.same((await store.pageRefreshTokens({ limit: 10 })).map((r) => r.id), [other.refreshToken?.id, mine.refreshToken?.id])
    t.same((await store.pageRefreshTokens({ limit: 10, userId: 'u3' })).map((r) => r.id), [other.refreshToken?.id])
    t.same((await store.pageRefreshTokens({ limit: 10, applicationId: a.id })), [])
    t.same((await store.findRefreshTokenById(mine.refreshToken?.id ?? 0))?.tokenFamily, 'family-b-r')
    t.equal(await store.findRefreshTokenById(999999), null)

    const g1 = await store.createGrant(newGrant(a.id, 'code-1'), T0)
    const g2 = await store.createGrant({ ...newGrant(b.id, 'code-2'), userId: 'user-2' }, T0)
    t.same((await store.pageGrants({ limit: 10 })).map((g) => g.id), [g2.id, g1.id])
    t.same((await store.pageGrants({ limit: 10, userId: 'user-2' })).map((g) => g.id), [g2.id])
    t.same((await store.findGrantById(g1.id))?.checksum, tokenChecksum('code-1'))

    const d1 = await store.createDeviceGrant(newDeviceGrant(a.id, 'dev-1'), T0)
    const d2 = await store.createDeviceGrant(newDeviceGrant(b.id, 'dev-2'), T0)
    t.same((await store.pageDeviceGrants({ limit: 10 })).map((d) => d.id), [d2?.id, d1?.id])
    t.same((await store.pageDeviceGrants({ limit: 10, applicationId: a.id })).map((d) => d.id), [d1?.id])

    const id1 = await store.createIdToken({ jti: 'jti-1', applicationId: a.id, userId: 'u1', scope: 'openid', expiresAt: at(60) }, T0)
    t.same((await store.pageIdTokens({ limit: 10, userId: 'u1' })).map((r) => r.id), [id1.id])
    t.same((await store.pageIdTokens({ limit: 10, userId: 'nobody' })), [])
  })

  t.test('revokeGrant consumes an unused code (its exchange then fails) and revokes what a used one issued, reporting the removed tokens', async (t) => {
    const { store } = await open(t)
    const events: StoreInvalidation[] = []
    t.teardown(store.watchInvalidations((event) => { events.push(event) }))
    await eventually(() => store.invalidationsReliable())
    const app = await newApplication(store, { clientId: 'rg' })

    const unused = await store.createGrant(newGrant(app.id, 'unused'), T0)
    t.equal(await store.revokeGrant(unused.id, at(1)), true)
    t.same((await store.findGrantById(unused.id))?.consumedAt, at(1), 'consumed by the revocation')
    t.same(await store.redeemGrant(unused.id, issueOf({ applicationId: app.id, token: 'late', grantId: unused.id, now: at(2) })), { ok: false }, 'no exchange after it')

    const used = await store.createGrant(newGrant(app.id, 'used'), T0)
    await store.redeemGrant(used.id, issueOf({ applicationId: app.id, token: 'used-a', refresh: 'used-r', family: 'used-fam', grantId: used.id }))
    events.length = 0
    t.equal(await store.revokeGrant(used.id, at(3)), true)
    t.same(events, [{ kind: 'tokens', checksums: [tokenChecksum('used-a')] }], 'the removed access token is reported')
    t.equal(await store.findAccessToken(tokenChecksum('used-a')), null)
    t.not((await store.findRefreshToken(tokenChecksum('used-r')))?.revokedAt, null, 'its refresh family is revoked')
    t.same((await store.findGrantById(used.id))?.consumedAt, T0, 'the first consumption time is kept')
    t.equal(await store.revokeGrant(999999, at(4)), false, 'no such code')
  })

  t.test('denyDeviceGrant denies a pending or approved authorization once, never an exchanged one', async (t) => {
    const { store } = await open(t)
    const app = await newApplication(store, { clientId: 'dd' })
    const pending = await store.createDeviceGrant(newDeviceGrant(app.id, 'pend'), T0)
    t.equal(await store.denyDeviceGrant(pending?.id ?? 0, at(1)), true)
    t.equal((await store.findDeviceGrantById(pending?.id ?? 0))?.status, 'denied')
    t.equal(await store.denyDeviceGrant(pending?.id ?? 0, at(2)), false, 'once')

    const approved = await store.createDeviceGrant(newDeviceGrant(app.id, 'appr'), T0)
    await store.claimDeviceGrant(approved?.id ?? 0, 'u', T0)
    await store.decideDeviceGrant(approved?.id ?? 0, 'u', 'authorized', T0, T0)
    t.equal(await store.denyDeviceGrant(approved?.id ?? 0, at(1)), true)
    t.same(await store.redeemDeviceGrant(approved?.id ?? 0, issueOf({ applicationId: app.id, token: 'dev-late', now: at(2) })), { ok: false }, 'the device gets nothing')

    const used = await store.createDeviceGrant(newDeviceGrant(app.id, 'used'), T0)
    await store.claimDeviceGrant(used?.id ?? 0, 'u', T0)
    await store.decideDeviceGrant(used?.id ?? 0, 'u', 'authorized', T0, T0)
    await store.redeemDeviceGrant(used?.id ?? 0, issueOf({ applicationId: app.id, token: 'dev-a', now: at(1) }))
    t.equal(await store.denyDeviceGrant(used?.id ?? 0, at(2)), false, 'already exchanged: unchanged')
    t.equal((await store.findDeviceGrantById(used?.id ?? 0))?.status, 'authorized')
  })

  t.test('pageSessions: newest first, keyset pages, by user and state, each with its relying-party count, never the checksum', async (t) => {
    const { store } = await open(t)
    const rpA = await newApplication(store, { clientId: 'sess-a', authorizationGrantType: 'authorization-code' })
    const rpB = await newApplication(store, { clientId: 'sess-b', authorizationGrantType: 'authorization-code' })
    const session = (key: string, userId: string): NewSession => ({ sid: `sid-page-${key}`, keyChecksum: tokenChecksum(`host-page-${key}`), userId, authTime: T0, expiresAt: at(3600) })
    const s1 = await store.touchSession(session('1', 'alice'), rpA.id, T0)
    await store.touchSession(session('1', 'alice'), rpB.id, at(1))
    const s2 = await store.touchSession(session('2', 'bob'), rpA.id, at(2))
    const s3 = await store.touchSession(session('3', 'alice'), rpB.id, at(3))
    if (s1 === null || s2 === null || s3 === null) throw new Error('sessions not started')
    await store.endSessions({ id: s2.id }, at(4))

    const all = await store.pageSessions({ limit: 10 })
    t.same(all.map((r) => r.session.id), [s3.id, s2.id, s1.id], 'newest first')
    t.same(all.map((r) => r.clients), [1, 1, 2], 'relying parties per session')
    t.match(all[2]?.session, { sid: 'sid-page-1', userId: 'alice', authTime: T0, expiresAt: at(3600), endedAt: null, createdAt: T0 })
    t.same(all[1]?.session.endedAt, at(4), 'an ended one says when')
    for (const row of all) {
      t.notOk('keyChecksum' in row.session || 'sessionKeyChecksum' in row.session, 'no checksum field')
      t.notMatch(JSON.stringify(row), tokenChecksum('host-page-1'), 'nor its value')
    }

    const ids = async (query: Parameters<typeof store.pageSessions>[0]): Promise<number[]> => (await store.pageSessions(query)).map((r) => r.session.id)
    t.same(await ids({ limit: 10, userId: 'alice' }), [s3.id, s1.id])
    t.same(await ids({ limit: 10, state: 'live' }), [s3.id, s1.id])
    t.same(await ids({ limit: 10, state: 'ended' }), [s2.id])
    t.same(await ids({ limit: 10, state: 'ended', userId: 'alice' }), [])
    t.same(await ids({ limit: 10, userId: "' OR 1=1 --" }), [], 'SQL in a filter is only a value')
    t.same(await ids({ limit: 2 }), [s3.id, s2.id], 'a page of two')
    t.same(await ids({ limit: 2, before: s2.id }), [s1.id], 'the next page starts below the last id')
    t.same(await ids({ limit: 2, before: s1.id }), [], 'past the end')
    t.same(await ids({ limit: 1, userId: 'alice', before: s3.id }), [s1.id], 'filters and cursor together')
    t.equal((await store.pageSessions({ limit: 0 })).length, 1, 'limit is clamped up to 1')
    t.same(await store.pageSessions({ limit: 10, userId: 'nobody' }), [], 'an empty page (no count query to run)')

    for (let i = 0; i < MAX_PAGE_SIZE + 2; i++) await store.touchSession(session(`bulk-${i}`, 'carol'), rpA.id, at(10))
    t.equal((await store.pageSessions({ limit: 1e9 })).length, MAX_PAGE_SIZE, 'and down to MAX_PAGE_SIZE')
  })

  t.test('findSessionDetail: the session, its relying parties in the order they joined, and only its own queued logout deliveries', async (t) => {
    const { store } = await open(t)
    const told = await newApplication(store, { clientId: 'detail-told', name: 'Told', authorizationGrantType: 'authorization-code', backchannelLogoutUri: 'https://told.example/bcl' })
    const quiet = await newApplication(store, { clientId: 'detail-quiet', name: 'Quiet', authorizationGrantType: 'authorization-code' })
    const session = (key: string): NewSession => ({ sid: `sid-detail-${key}`, keyChecksum: tokenChecksum(`host-detail-${key}`), userId: 'alice', authTime: T0, expiresAt: at(3600) })
    const s1 = await store.touchSession(session('1'), told.id, T0)
    await store.touchSession(session('1'), quiet.id, at(1))
    await store.touchSession(session('1'), told.id, at(2))
    const s2 = await store.touchSession(session('2'), told.id, at(3))
    if (s1 === null || s2 === null) throw new Error('sessions not started')

    const live = await store.findSessionDetail(s1.id)
    t.match(live?.session, { id: s1.id, sid: 'sid-detail-1', userId: 'alice', authTime: T0, endedAt: null, createdAt: T0 })
    t.same(live?.clients.map((c) => [c.application.id, c.application.name, c.application.backchannelLogoutUri, c.since]),
      [[told.id, 'Told', 'https://told.example/bcl', T0], [quiet.id, 'Quiet', '', at(1)]], 'each relying party once, in the order it joined')
    t.same(live?.deliveries, [], 'nothing queued while it lasts')
    t.notMatch(JSON.stringify(live), tokenChecksum('host-detail-1'), 'never the host session id\'s checksum')

    await store.endSessions({ id: s2.id }, at(4))
    await store.endSessions({ id: s1.id }, at(5))
    const ended = await store.findSessionDetail(s1.id)
    t.same(ended?.session.endedAt, at(5))
    t.equal(ended?.clients.length, 2, 'its relying parties are still listed once it ended')
    t.match(ended?.deliveries, [{ applicationId: told.id, userId: 'alice', sid: 'sid-detail-1', attempts: 0, nextAttemptAt: at(5), lastError: '' }],
      'the logout token queued for the relying party with a logout URI; not the other session\'s')
    t.equal(ended?.deliveries.length, 1)
    t.match((await store.findSessionDetail(s2.id))?.deliveries, [{ sid: 'sid-detail-2' }])

    // The outbox works through the earlier one (the other session's) first.
    const [first] = await store.claimLogoutDeliveries(at(6), at(66), 1)
    t.equal(first?.sid, 'sid-detail-2')
    await store.rescheduleLogoutDelivery(first?.id ?? 0, at(120), 'HTTP 503')
    const [second] = await store.claimLogoutDeliveries(at(6), at(66), 1)
    t.equal(second?.sid, 'sid-detail-1')
    await store.deleteLogoutDelivery(second?.id ?? 0)
    t.match((await store.findSessionDetail(s2.id))?.deliveries, [{ id: first?.id, attempts: 1, nextAttemptAt: at(120), lastError: 'HTTP 503' }],
      'a delivery being retried shows its attempts and last error')
    t.same((await store.findSessionDetail(s1.id))?.deliveries, [], 'a delivered one is gone')

    await store.deleteApplication(quiet.id)
    t.same((await store.findSessionDetail(s1.id))?.clients.map((c) => c.application.id), [told.id], 'a deleted application is no longer one of its relying parties')
    t.equal(await store.findSessionDetail(999999), null, 'an unknown id')
    t.equal(await store.findSessionDetail(Number.MAX_SAFE_INTEGER), null, 'the largest id')
  })
}
