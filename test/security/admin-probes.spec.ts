// Attacker probes of the staff administration pages: every action POSTed by someone who is not
// staff (anonymous, a logged-in user, a user carrying a staff member's form), odd ids in URLs,
// huge cursors and page sizes, SQL in filters, odd bodies and methods. None may change anything,
// none may answer 500.
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import t, { type Test } from 'tap'
import { tokenChecksum } from '../../lib/tokens/checksum.js'
import { ALICE } from '../helpers/index.js'
import { asUser, codeFlowTokens, createCodeApplication, obtainCode, pkcePair, REDIRECT_URI } from '../helpers/authorize.js'
import { buildAdminApp, formState, get, post, STAFF } from '../views/admin-support.js'

/** An app with one application, tokens, a code and a device authorization, and the ids of each. */
async function seeded (t: Test): Promise<{ app: FastifyInstance, ids: Record<string, number>, snapshot: () => Promise<string> }> {
  const app = await buildAdminApp(t)
  const created = await createCodeApplication(app, { name: 'Target' })
  const tokens = await codeFlowTokens(app, created)
  const code = await obtainCode(app, { response_type: 'code', client_id: created.application.clientId, redirect_uri: REDIRECT_URI, code_challenge: pkcePair().challenge, code_challenge_method: 'S256' })
  const now = app.oauth.clock.now()
  const device = await app.oauth.store.createDeviceGrant({
    checksum: tokenChecksum('probe-device'),
    userCodeChecksum: tokenChecksum('PROBEUSR'),
    applicationId: created.application.id,
    scope: 'read',
    resource: '',
    expiresAt: new Date(now.getTime() + 600_000),
    interval: 5,
  }, now)
  const ids = {
    application: created.application.id,
    accessToken: (await app.oauth.store.findAccessToken(tokenChecksum(tokens.access_token)))?.id ?? 0,
    refreshToken: (await app.oauth.store.findRefreshToken(tokenChecksum(tokens.refresh_token ?? '')))?.id ?? 0,
    grant: (await app.oauth.store.findGrant(tokenChecksum(code)))?.id ?? 0,
    deviceGrant: device?.id ?? 0,
    session: (await app.oauth.store.touchSession({
      sid: 'probe-sid', keyChecksum: tokenChecksum('probe-host-session'), userId: ALICE.id, authTime: now, expiresAt: new Date(now.getTime() + 600_000),
    }, created.application.id, now))?.id ?? 0,
  }
  const snapshot = async (): Promise<string> => JSON.stringify([
    await app.oauth.store.findApplicationById(ids.application),
    await app.oauth.store.findAccessTokenById(ids.accessToken),
    await app.oauth.store.findRefreshTokenById(ids.refreshToken),
    await app.oauth.store.findGrantById(ids.grant),
    await app.oauth.store.findDeviceGrantById(ids.deviceGrant),
    await app.oauth.store.findSessionById(ids.session),
  ])
  return { app, ids, snapshot }
}

function assertHtmlError (t: Test, res: LightMyRequestResponse, status: number, label: string): void {
  t.equal(res.statusCode, status, label)
  t.equal(res.headers['content-type'], 'text/html; charset=utf-8', `${label}: an HTML page`)
  t.equal(res.headers['x-frame-options'], 'DENY', `${label}: with the security headers`)
}

t.test('every action POSTed by a non-staff user, anonymous or logged in, with or without a staff form: 403, nothing changes', async (t) => {
  const { app, ids, snapshot } = await seeded(t)
  const events: unknown[] = []
  app.oauth.events.on('staffAction', (e) => { events.push(e) })
  const before = await snapshot()
  const staffForm = formState(await get(app, '/o/admin/access-tokens/'))
  const actions: Array<[string, Record<string, string>]> = [
    [`/o/admin/applications/${ids.application}/update/`, { name: 'Pwned', clientType: 'public', authorizationGrantType: 'authorization-code', redirectUris: 'https://evil.example/cb', skipAuthorization: 'yes' }],
    [`/o/admin/applications/${ids.application}/regenerate-secret/`, {}],
    [`/o/admin/applications/${ids.application}/delete/`, {}],
    ['/o/admin/access-tokens/action/', { id: String(ids.accessToken), confirm: 'yes' }],
    ['/o/admin/refresh-tokens/action/', { id: String(ids.refreshToken), confirm: 'yes' }],
    ['/o/admin/grants/action/', { id: String(ids.grant), confirm: 'yes' }],
    ['/o/admin/device-grants/action/', { id: String(ids.deviceGrant), confirm: 'yes' }],
    ['/o/admin/sessions/action/', { id: String(ids.session), confirm: 'yes' }],
  ]
  for (const [url, fields] of actions) {
    for (const [who, user, state] of [
      ['anonymous', null, null], ['anonymous with a staff form', null, staffForm],
      ['a user', ALICE.id, null], ['a user with a staff form', ALICE.id, staffForm],
      ['staff without a token', STAFF, null],
    ] as const) {
      const res = await post(app, url, fields, state, user)
      assertHtmlError(t, res, 403, `${who}: ${url}`)
      t.notMatch(res.body, /client-secret/, 'no secret on the refusal')
    }
  }
  t.equal(await snapshot(), before, 'nothing changed')
  t.same(events, [], 'no staffAction')
})

t.test('odd ids in URLs: a 404 page, never a 500 nor another row', async (t) => {
  const { app } = await seeded(t)
  for (const id of ['0', '-1', '1e0', '01', '1.0', '0x1', 'abc', '99999999999999999999', '9007199254740993', '%20', '1%00', "1'%20OR%20'1'='1"]) {
    for (const suffix of ['', 'update/', 'delete/', 'regenerate-secret/']) {
      const res = await get(app, `/o/admin/applications/${id}/${suffix}`)
      assertHtmlError(t, res, 404, `GET ${id}/${suffix}`)
    }
    const state = formState(await get(app, '/o/admin/access-tokens/'))
    assertHtmlError(t, await post(app, `/o/admin/applications/${id}/delete/`, {}, state), 404, `POST ${id}/delete/`)
  }
})

t.test('huge cursors and page sizes, SQL in filters: 200 with the right rows, or a 400 page', async (t) => {
  const { app } = await seeded(t)
  const ok = ['before=9007199254740991', 'user=%27%20OR%201%3D1%20--', 'q=%27)%3B%20DROP%20TABLE%20oauth2_application%3B%20--', 'q=%25%25%25', 'q=_', 'user=%00', 'q=%F0%9F%98%80']
  for (const query of ok) {
    for (const list of ['applications', 'access-tokens', 'refresh-tokens', 'grants', 'device-grants', 'id-tokens', 'sessions']) {
      const res = await get(app, `/o/admin/${list}/?${query}`)
      t.equal(res.statusCode, 200, `${list}?${query}`)
      if (query.startsWith('user=') || (query.startsWith('q=') && list === 'applications')) t.notMatch(res.body, /name="id" value=|<td><a href="\/o\/admin\/applications\/\d+\/">/, `${list}?${query}: matches nothing`)
    }
  }
  t.not(await app.oauth.store.findApplicationById(1), null, 'the table is still there')
  for (const query of ['before=9007199254740992', 'before=1e308', 'size=100000000', 'size=-5', 'application=1%20OR%201%3D1', 'application=1;2', `user=${'a'.repeat(5000)}`, 'size=1&size=2']) {
    assertHtmlError(t, await get(app, `/o/admin/access-tokens/?${query}`), 400, query)
  }
})

t.test('odd bodies and methods: 4xx, never a 500', async (t) => {
  const { app, ids, snapshot } = await seeded(t)
  const before = await snapshot()
  const cookie = formState(await get(app, '/o/admin/access-tokens/')).cookie
  const staffHeaders = { 'x-test-user': STAFF, cookie }
  const json = await app.inject({ method: 'POST', url: '/o/admin/access-tokens/action/', headers: { ...staffHeaders, 'content-type': 'application/json' }, payload: JSON.stringify({ id: { $gt: 0 }, confirm: 'yes', csrf_token: ['a', 'b'] }) })
  t.equal(json.statusCode, 403, 'a JSON body has no valid CSRF token')
  const tokenTwice = formState(await get(app, '/o/admin/access-tokens/'))
  const twice = await app.inject({
    method: 'POST',
    url: '/o/admin/access-tokens/action/',
    headers: { 'x-test-user': STAFF, cookie: tokenTwice.cookie, 'content-type': 'application/x-www-form-urlencoded' },
    payload: `csrf_token=${encodeURIComponent(tokenTwice.token)}&csrf_token=x&id=${ids.accessToken}&confirm=yes`,
  })
  t.equal(twice.statusCode, 403, 'a repeated CSRF field is refused, even when its first value is valid')
  t.match(twice.body, /did not come from this site/)
  const garbage = await app.inject({ method: 'POST', url: '/o/admin/grants/action/', headers: { ...staffHeaders, 'content-type': 'application/x-www-form-urlencoded' }, payload: '%%%=&&&' })
  t.ok(garbage.statusCode >= 400 && garbage.statusCode < 500, `an unreadable form: ${garbage.statusCode}`)
  for (const method of ['PUT', 'DELETE', 'PATCH'] as const) {
    const res = await app.inject({ method, url: `/o/admin/applications/${ids.application}/delete/`, headers: staffHeaders })
    t.ok(res.statusCode >= 400 && res.statusCode < 500, `${method}: ${res.statusCode}`)
  }
  t.equal(await snapshot(), before, 'nothing changed')
  const next = await get(app, '/o/admin//evil.example/', null)
  t.ok(next.statusCode === 404 || !String(next.headers.location).includes('//evil.example'), 'no open redirect through next')
})

t.test('the staff pages in any language: hostile Accept-Language, markup in host messages and names; never a 500, never raw markup', async (t) => {
  const marker = '<svg/onload=alert(1)>'
  const app = await buildAdminApp(t, {
    i18n: { messages: { fr: { 'admin.shell.signedIn': `${marker} {user}`, 'admin.apps.label': marker }, en: { 'admin.list.filter': marker } } },
  })
  const created = await createCodeApplication(app, { name: `${marker}"'` })
  await codeFlowTokens(app, created)
  const urls = ['/o/admin/', '/o/admin/applications/', `/o/admin/applications/${created.application.id}/`, `/o/admin/applications/${created.application.id}/update/`,
    `/o/admin/applications/${created.application.id}/delete/`, '/o/admin/access-tokens/', '/o/admin/applications/?size=0', '/o/admin/applications/?source=x']
  for (const language of ['fr', 'en', `fr;q=1, ${marker}`, 'fr-CA;q=0.9, en;q=0.1', ';;;q=x', 'x'.repeat(5000), '*']) {
    for (const url of urls) {
      const res = await app.inject({ url, headers: asUser(STAFF, { 'accept-language': language }) })
      const label = `${url} with Accept-Language ${language.slice(0, 30)}`
      t.ok(res.statusCode === 200 || res.statusCode === 400, `${label}: ${res.statusCode}`)
      t.ok(['en', 'fr'].includes(String(res.headers['content-language'])), `${label}: an offered language`)
      t.ok(res.body.includes(`<html lang="${String(res.headers['content-language'])}">`), `${label}: lang matches`)
      t.notOk(res.body.includes(marker), `${label}: no raw markup from the catalog, the name or the header`)
    }
  }
  // The host's French messages were used, as text.
  const overview = await app.inject({ url: '/o/admin/', headers: asUser(STAFF, { 'accept-language': 'fr' }) })
  t.match(overview.body, `&lt;svg/onload=alert(1)&gt; ${STAFF}`)
})

t.test('ending sessions with odd ids and selections: a 400 page or nothing ended, never a 500 nor another session', async (t) => {
  const { app, ids, snapshot } = await seeded(t)
  const events: unknown[] = []
  app.oauth.events.on('staffAction', (e) => { events.push(e) })
  app.oauth.events.on('logout', (e) => { events.push(e) })
  const before = await snapshot()
  const session = ids.session ?? 0
  const state = formState(await get(app, '/o/admin/sessions/'))
  for (const id of ['0', '-1', '1e0', '01', '1.0', '0x1', 'abc', '', '99999999999999999999', '9007199254740993', "1' OR '1'='1", `${session} `, `${session},${session}`]) {
    for (const confirm of [{}, { confirm: 'yes' }] as Array<Record<string, string>>) {
      assertHtmlError(t, await post(app, '/o/admin/sessions/action/', { id, ...confirm }, state), 400, `id=${JSON.stringify(id)} ${JSON.stringify(confirm)}`)
    }
  }
  assertHtmlError(t, await post(app, '/o/admin/sessions/action/', { confirm: 'yes' }, state), 400, 'no selection')
  assertHtmlError(t, await post(app, '/o/admin/sessions/action/', { id: Array.from({ length: 101 }, (_, i) => String(i + 1)), confirm: 'yes' }, state), 400, 'more than a page')
  t.equal(await snapshot(), before, 'nothing changed')
  t.same(events, [], 'no logout, no staffAction')
  const unknown = await post(app, '/o/admin/sessions/action/', { id: String(session + 1000), confirm: 'yes' }, state)
  t.equal(unknown.statusCode, 303, 'an unknown id: nothing to end')
  t.equal(await snapshot(), before, 'still nothing changed')
  t.same(events, [])
  for (const query of ['state=%27%20OR%201%3D1', 'state=LIVE', 'before=9007199254740992', 'size=100000000', 'user=a&user=b']) {
    assertHtmlError(t, await get(app, `/o/admin/sessions/?${query}`), 400, query)
  }
})
