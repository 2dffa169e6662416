// The staff pages' sessions section (`/o/admin/sessions/`), through app.inject on a real SQLite
// file: the list with its filters and keyset pages, ending selected sessions (a logout with
// reason `staff`, a staffAction), ending twice, access control, CSRF, and the host session id's
// checksum never shown.
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import t from 'tap'
import type { LogoutEvent, StaffActionEvent } from '../../lib/context.js'
import type { SessionRecord } from '../../lib/store/types.js'
import { tokenChecksum } from '../../lib/tokens/checksum.js'
import { ALICE } from '../helpers/index.js'
import { asUser, createCodeApplication, unescapeHtml } from '../helpers/authorize.js'
import { buildAdminApp, formState, get, post, STAFF } from './admin-support.js'

const LIST = '/o/admin/sessions/'
const ACTION = '/o/admin/sessions/action/'

/** A session of `userId` under host session id `hostSessionId`, with `applicationIds` as its relying parties. */
async function startSession (app: FastifyInstance, hostSessionId: string, userId: string, applicationIds: readonly number[]): Promise<SessionRecord> {
  const now = app.oauth.clock.now()
  let session: SessionRecord | null = null
  for (const applicationId of applicationIds) {
    session = await app.oauth.store.touchSession({
      sid: `sid-${hostSessionId}`, keyChecksum: tokenChecksum(hostSessionId), userId, authTime: now, expiresAt: new Date(now.getTime() + 3_600_000),
    }, applicationId, now)
  }
  if (session === null) throw new Error('no session started')
  return session
}

/** The ids of the rows of a sessions list page, in order (each id links to the session's page). */
function rowIds (res: LightMyRequestResponse): number[] {
  return [...res.body.matchAll(/<tr><td>(?:<input [^>]*>)?<\/td><td><a href="\/o\/admin\/sessions\/(\d+)\/">\d+<\/a><\/td>/g)].map((m) => Number(m[1]))
}

/** The ids that have a checkbox (may be ended). */
function selectable (res: LightMyRequestResponse): number[] {
  return [...res.body.matchAll(/name="id" value="(\d+)"/g)].map((m) => Number(m[1]))
}

function recorded (app: FastifyInstance): { staff: StaffActionEvent[], logouts: LogoutEvent[] } {
  const staff: StaffActionEvent[] = []
  const logouts: LogoutEvent[] = []
  app.oauth.events.on('staffAction', (e) => { staff.push(e) })
  app.oauth.events.on('logout', (e) => { logouts.push(e) })
  return { staff, logouts }
}

/** Selects `ids`, confirms, and returns the confirmation page and the final redirect. */
async function endSelected (app: FastifyInstance, ids: readonly number[]): Promise<{ confirm: LightMyRequestResponse, done: LightMyRequestResponse }> {
  const list = await get(app, LIST)
  const state = formState(list)
  const confirm = await post(app, ACTION, { id: ids.map(String) }, state)
  const done = await post(app, ACTION, { id: ids.map(String), confirm: 'yes' }, formState(confirm, state.cookie))
  return { confirm, done }
}

t.test('sessions: listed newest first with user, sid, times, state and relying parties; filters by user and state; keyset pages; bad filters', async (t) => {
  const app = await buildAdminApp(t)
  const a = await createCodeApplication(app, { name: 'RP A' })
  const b = await createCodeApplication(app, { name: 'RP B' })
  const s1 = await startSession(app, 'host-one', 'user-1', [a.application.id, b.application.id])
  const s2 = await startSession(app, 'host-two', 'user-2', [a.application.id])
  const s3 = await startSession(app, 'host-three', 'user-1', [b.application.id])
  await app.oauth.endSessions({ id: s2.id }, { wait: false })

  const page = await get(app, LIST)
  t.equal(page.statusCode, 200)
  t.same(rowIds(page), [s3.id, s2.id, s1.id], 'newest first')
  t.same(selectable(page), [s3.id, s1.id], 'only sessions not ended can be selected')
  for (const header of ['User', 'Session id (sid)', 'Authenticated', 'Created', 'Expires', 'State', 'Relying parties']) t.match(page.body, `<th scope="col">${header}</th>`)
  const time = (date: Date): string => `<time datetime="${date.toISOString()}">[^<]+</time>`
  t.match(page.body, new RegExp(`<td><a href="${LIST}${s1.id}/">${s1.id}</a></td><td>user-1</td><td><code>sid-host-one</code></td><td>${time(s1.authTime)}</td><td>${time(s1.createdAt)}</td><td>${time(s1.expiresAt)}</td><td>live</td><td>2</td>`), 'every column of a live session, two relying parties')
  t.match(page.body, new RegExp(`<td><a href="${LIST}${s2.id}/">${s2.id}</a></td><td>user-2</td>.*<td>ended <time datetime="\\d{4}-[^"]+">[^<]+</time></td><td>1</td>`), 'an ended session says when')
  t.match(page.body, 'End selected sessions')
  t.match((await get(app, '/o/admin/')).body, /href="\/o\/admin\/sessions\/">Sessions<\/a>/, 'in the navigation and the overview')

  t.same(rowIds(await get(app, `${LIST}?user=user-1`)), [s3.id, s1.id])
  t.same(rowIds(await get(app, `${LIST}?state=live`)), [s3.id, s1.id])
  t.same(rowIds(await get(app, `${LIST}?state=ended`)), [s2.id])
  t.same(rowIds(await get(app, `${LIST}?state=ended&user=user-1`)), [])
  t.match((await get(app, `${LIST}?user=nobody`)).body, 'Nothing matches.')
  // In the user's language, like every staff page.
  const french = await app.inject({ url: LIST, headers: asUser(STAFF, { 'accept-language': 'fr' }) })
  t.equal(french.headers['content-language'], 'fr')
  t.match(french.body, '<html lang="fr">')
  t.match(french.body, 'Terminer les sessions sélectionnées')
  t.match(french.body, '<th scope="col">Identifiant de session (sid)</th>')
  t.match(french.body, /<td>terminée le <time datetime="/)

  const first = await get(app, `${LIST}?size=2&user=user-1`)
  t.same(rowIds(first), [s3.id, s1.id])
  t.notMatch(first.body, /rel="next"/, 'two of two: no next page')
  const small = await get(app, `${LIST}?size=2`)
  t.same(rowIds(small), [s3.id, s2.id])
  const next = unescapeHtml(/rel="next" href="([^"]+)"/.exec(small.body)?.[1] ?? '')
  t.equal(next, `${LIST}?size=2&before=${s2.id}`)
  const second = await get(app, next)
  t.same(rowIds(second), [s1.id])
  t.notMatch(second.body, /rel="next"/, 'the last page has no next link')
  t.match(second.body, /First page/)

  for (const bad of ['state=expired', 'state=live&state=ended', 'size=0', 'size=101', 'before=-1', 'before=1e3', `user=${'x'.repeat(201)}`]) {
    const res = await get(app, `${LIST}?${bad}`)
    t.equal(res.statusCode, 400, bad)
    t.match(res.body, /invalid_request/)
  }
})

t.test('ending a live session: confirmation first, then it is ended as a logout (reason staff, its relying parties told) and a staffAction', async (t) => {
  const app = await buildAdminApp(t)
  const withLogout = await createCodeApplication(app, { name: 'Told', backchannelLogoutUri: 'https://rp.example/bcl' })
  const without = await createCodeApplication(app, { name: 'Not told' })
  const target = await startSession(app, 'host-end', 'user-1', [withLogout.application.id, without.application.id])
  const other = await startSession(app, 'host-keep', 'user-1', [withLogout.application.id])
  const { staff, logouts } = recorded(app)

  const { confirm, done } = await endSelected(app, [target.id])
  t.equal(confirm.statusCode, 200)
  t.match(confirm.body, 'End the selected sessions?')
  t.match(confirm.body, `<input type="hidden" name="id" value="${target.id}">`)
  t.match(confirm.body, '<input type="hidden" name="confirm" value="yes">')
  t.equal(done.statusCode, 303)
  t.equal(done.headers.location, `${LIST}?done=1&of=1`)

  t.not((await app.oauth.store.findSessionById(target.id))?.endedAt, null, 'ended')
  t.equal((await app.oauth.store.findSessionById(other.id))?.endedAt, null, 'the other session lasts')
  t.match(logouts, [{ userId: 'user-1', sid: 'sid-host-end', reason: 'staff', backchannelClients: 1 }], 'a logout with reason staff, one logout token queued')
  t.equal(logouts.length, 1)
  t.match(staff, [{ staffUserId: STAFF, action: 'session.end', target: { kind: 'session', ids: [target.id] } }])
  const later = new Date(app.oauth.clock.now().getTime() + 60_000)
  const queued = await app.oauth.store.claimLogoutDeliveries(later, new Date(later.getTime() + 60_000), 10)
  t.match(queued, [{ applicationId: withLogout.application.id, userId: 'user-1', sid: 'sid-host-end' }], 'one logout token queued, for the relying party with a logout URI')
  t.equal(queued.length, 1)

  const after = await get(app, String(done.headers.location))
  t.match(after.body, '1 of 1 selected changed.')
  t.same(selectable(after), [other.id], 'the ended session can no longer be selected')
})

t.test('ending an already ended or unknown session is harmless: nothing changes, no logout, no staffAction', async (t) => {
  const app = await buildAdminApp(t)
  const rp = await createCodeApplication(app)
  const ended = await startSession(app, 'host-ended', 'user-1', [rp.application.id])
  await app.oauth.endSessions({ id: ended.id }, { wait: false })
  const endedAt = (await app.oauth.store.findSessionById(ended.id))?.endedAt
  const { staff, logouts } = recorded(app)

  const { done } = await endSelected(app, [ended.id, 999999])
  t.equal(done.statusCode, 303)
  t.equal(done.headers.location, `${LIST}?done=0&of=2`)
  t.same((await app.oauth.store.findSessionById(ended.id))?.endedAt, endedAt, 'its end time is kept')
  t.same(logouts, [])
  t.same(staff, [])
})

t.test('non-staff are refused, a POST needs the staff member\'s CSRF token; nothing ends', async (t) => {
  const app = await buildAdminApp(t)
  const rp = await createCodeApplication(app)
  const session = await startSession(app, 'host-guarded', 'user-1', [rp.application.id])
  const { staff, logouts } = recorded(app)
  t.equal((await get(app, LIST, null)).statusCode, 302, 'anonymous: to the login page')
  const refused = await get(app, LIST, ALICE.id)
  t.equal(refused.statusCode, 403)
  t.notMatch(refused.body, /sid-host-guarded/)

  const state = formState(await get(app, LIST))
  const fields = { id: String(session.id), confirm: 'yes' }
  t.equal((await post(app, ACTION, fields, state, null)).statusCode, 403, 'anonymous')
  t.equal((await post(app, ACTION, fields, state, ALICE.id)).statusCode, 403, 'a user with a staff form')
  t.equal((await post(app, ACTION, fields, null)).statusCode, 403, 'staff without a token')
  t.equal((await post(app, ACTION, fields, { ...state, token: 'x'.repeat(43) })).statusCode, 403, 'a wrong token')
  const foreign = formState(await get(app, LIST, 'staff-other'))
  t.equal((await post(app, ACTION, fields, foreign)).statusCode, 403, 'another staff member\'s token')
  t.equal((await app.oauth.store.findSessionById(session.id))?.endedAt, null, 'still live')
  t.same(logouts, [])
  t.same(staff, [])
})

t.test('the host session id and its checksum never reach the page', async (t) => {
  const app = await buildAdminApp(t)
  const rp = await createCodeApplication(app)
  const host = 'hostSessionSecret-Zq81kLmN2pX7vB4cR9sT'
  await startSession(app, host, 'user-1', [rp.application.id])
  const page = await get(app, LIST)
  t.match(page.body, 'sid-hostSessionSecret', 'the session is listed (by its public sid)')
  t.notMatch(page.body, tokenChecksum(host), 'never the checksum')
  t.notMatch(page.body, /session_key_checksum|keyChecksum/)
})

t.test('a hostile user id is escaped and its invisible characters shown', async (t) => {
  const app = await buildAdminApp(t)
  const rp = await createCodeApplication(app)
  await startSession(app, 'host-xss', '<script>alert(1)</script>\u202e', [rp.application.id])
  const page = await get(app, LIST)
  t.notMatch(page.body, '<script>alert(1)')
  t.match(page.body, '&lt;script&gt;alert(1)&lt;/script&gt;')
  t.notMatch(page.body, '\u202e')
})

/** The URL of session `id`'s page. */
const detailOf = (id: number | string): string => `${LIST}${id}/`

t.test('a session\'s page: user, sid, times and status; its relying parties linked, with client id and whether they have a logout URI; in French too', async (t) => {
  const app = await buildAdminApp(t)
  const told = await createCodeApplication(app, { name: 'Told <b>RP</b>', backchannelLogoutUri: 'https://rp.example/bcl' })
  const quiet = await createCodeApplication(app, { name: 'Not told' })
  const host = 'hostSessionSecret-detail-Qw12'
  const session = await startSession(app, host, 'user-1', [told.application.id, quiet.application.id])

  t.match((await get(app, LIST)).body, `<a href="${detailOf(session.id)}">${session.id}</a>`, 'the list links each id to its page')
  const page = await get(app, detailOf(session.id))
  t.equal(page.statusCode, 200)
  t.equal(page.headers['x-frame-options'], 'DENY')
  t.equal(page.headers['cache-control'], 'no-store')
  t.match(page.body, `<title>Session ${session.id} · `)
  t.match(page.body, `<h1>Session ${session.id}</h1>`)
  t.match(page.body, '<dd id="user">user-1</dd>')
  t.match(page.body, '<dd id="sid"><code>sid-hostSessionSecret-detail-Qw12</code></dd>')
  t.match(page.body, '<dd id="status">live</dd>')
  t.match(page.body, `<time datetime="${session.authTime.toISOString()}">`)
  t.match(page.body, `<time datetime="${session.expiresAt.toISOString()}">`)
  t.match(page.body, new RegExp(`<tr><td><a href="/o/admin/applications/${told.application.id}/">Told &lt;b&gt;RP&lt;/b&gt;</a></td><td><code>${told.application.clientId}</code></td><td>yes</td><td><time `),
    'a relying party with a logout URI, its name escaped and linked to its page')
  t.match(page.body, new RegExp(`<tr><td><a href="/o/admin/applications/${quiet.application.id}/">Not told</a></td><td><code>${quiet.application.clientId}</code></td><td>no</td>`))
  t.match(page.body, 'None: they are queued when the session ends', 'nothing queued while it lasts')
  t.match(page.body, /<form method="post" action="\/o\/admin\/sessions\/action\/">\s*<input type="hidden" name="csrf_token" value="[^"]+">\s*<input type="hidden" name="id" value="(\d+)">/)
  t.match(page.body, '>End this session</button>')
  t.notMatch(page.body, '<b>RP', 'never raw')
  t.notMatch(page.body, tokenChecksum(host), 'never the host session id\'s checksum')

  const french = await app.inject({ url: detailOf(session.id), headers: asUser(STAFF, { 'accept-language': 'fr' }) })
  t.equal(french.headers['content-language'], 'fr')
  for (const text of [`<h1>Session ${session.id}</h1>`, 'URI de déconnexion par canal arrière', '>Depuis<', '<td>oui</td>', 'Jetons de déconnexion encore à remettre',
    'Aucun\u00a0: ils sont mis en file', '>Terminer cette session</button>', '>Toutes les sessions</a>', '<dd id="status">active</dd>']) t.match(french.body, text)
})

t.test('a session\'s page: anonymous visitors go to log in, non-staff get the staff pages\' 403', async (t) => {
  const app = await buildAdminApp(t)
  const rp = await createCodeApplication(app)
  const session = await startSession(app, 'host-private', 'user-1', [rp.application.id])
  // The staff check comes first: an odd id tells a non-staff visitor nothing either.
  for (const url of [detailOf(session.id), detailOf('nope'), detailOf(999999)]) {
    const [anonymous, user] = await Promise.all([get(app, url, null), get(app, url, ALICE.id)])
    t.match({ status: anonymous.statusCode, location: anonymous.headers.location }, { status: 302, location: `/accounts/login/?next=${encodeURIComponent(url)}` }, `${url}: anonymous, to log in`)
    t.match({ status: user.statusCode, body: user.body }, { status: 403, body: /for staff only/ }, `${url}: non-staff, refused`)
    t.notMatch(user.body, /sid-host-private|user-1/, 'nothing of the session shown')
  }
})

t.test('a session\'s page: unknown, odd and huge ids are a 404 page, never a 500', async (t) => {
  const app = await buildAdminApp(t)
  const rp = await createCodeApplication(app)
  const session = await startSession(app, 'host-odd', 'user-1', [rp.application.id])
  const odd = ['999999', '0', '-1', '01', 'abc', '1e3', '1.5', '0x10', '%20', `${session.id}abc`, 'action', '9007199254740993', '9'.repeat(16), '9'.repeat(40),
    encodeURIComponent('١'), encodeURIComponent(`${session.id}\u0000`)]
  for (const id of odd) {
    const res = await get(app, detailOf(id))
    t.equal(res.statusCode, 404, id)
    t.equal(res.headers['content-type'], 'text/html; charset=utf-8', `${id}: an HTML page`)
    t.match(res.body, 'No such session.', id)
    t.notMatch(res.body, /sid-host-odd/)
  }
  const french = await app.inject({ url: detailOf(999999), headers: asUser(STAFF, { 'accept-language': 'fr' }) })
  t.equal(french.statusCode, 404)
  t.match(french.body, 'Session introuvable.')
})

t.test('ending from a session\'s page: confirmed like the list\'s action; then the page shows it ended and the logout token queued for it', async (t) => {
  const app = await buildAdminApp(t)
  const told = await createCodeApplication(app, { name: 'Told', backchannelLogoutUri: 'https://rp.example/bcl' })
  const quiet = await createCodeApplication(app, { name: 'Not told' })
  const session = await startSession(app, 'host-detail-end', 'user-1', [told.application.id, quiet.application.id])
  const { staff, logouts } = recorded(app)

  const page = await get(app, detailOf(session.id))
  const state = formState(page)
  const confirm = await post(app, ACTION, { id: String(session.id) }, state)
  t.equal(confirm.statusCode, 200)
  t.match(confirm.body, 'End the selected sessions?')
  t.match(confirm.body, `<input type="hidden" name="id" value="${session.id}">`)
  t.equal((await app.oauth.store.findSessionById(session.id))?.endedAt, null, 'nothing ends before it is confirmed')
  const done = await post(app, ACTION, { id: String(session.id), confirm: 'yes' }, formState(confirm, state.cookie))
  t.equal(done.statusCode, 303)
  t.equal(done.headers.location, `${LIST}?done=1&of=1`)
  t.match(logouts, [{ userId: 'user-1', sid: 'sid-host-detail-end', reason: 'staff', backchannelClients: 1 }])
  t.match(staff, [{ staffUserId: STAFF, action: 'session.end', target: { kind: 'session', ids: [session.id] } }])

  const ended = await get(app, detailOf(session.id))
  t.equal(ended.statusCode, 200, 'an ended session still has its page')
  t.match(ended.body, /<dd id="status">ended <time datetime="/)
  t.notMatch(ended.body, 'End this session', 'nothing left to end')
  t.notMatch(ended.body, /name="csrf_token"/)
  const [delivery] = (await app.oauth.store.findSessionDetail(session.id))?.deliveries ?? []
  if (delivery === undefined) throw new Error('no delivery queued')
  t.match(ended.body, new RegExp(`<table class="oat-table" id="deliveries">[\\s\\S]*<tr><td>${delivery.id}</td><td><a href="/o/admin/applications/${told.application.id}/">Told</a></td><td>0</td><td><time `),
    'the logout token queued for the relying party with a logout URI, not yet attempted')
  t.equal([...ended.body.matchAll(/<tr><td>\d+<\/td><td><a href="\/o\/admin\/applications\//g)].length, 1, 'only that one')

  // A failed attempt: its count and its error (escaped) show.
  await app.oauth.store.claimLogoutDeliveries(new Date(app.oauth.clock.now().getTime() + 1000), new Date(app.oauth.clock.now().getTime() + 60_000), 10)
  await app.oauth.store.rescheduleLogoutDelivery(delivery.id, new Date(app.oauth.clock.now().getTime() + 120_000), 'HTTP 503 <html>')
  const retrying = await get(app, detailOf(session.id))
  t.match(retrying.body, new RegExp(`<tr><td>${delivery.id}</td><td><a [^>]+>Told</a></td><td>1</td><td><time [^>]+>[^<]+</time></td><td>HTTP 503 &lt;html&gt;</td>`))
})
