// The staff administration pages (`/o/admin/`), through app.inject on a real SQLite file:
// access control, CSRF, lists, filters, keyset pages, every action and its staffAction event,
// escaping of hostile values, and tokens never shown.
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import t from 'tap'
import type { TokenRevokedEvent } from '../../lib/event-types.js'
import type { StaffActionEvent } from '../../lib/context.js'
import { tokenChecksum } from '../../lib/tokens/checksum.js'
import { ALICE, basicAuth, bearerWorks, postToken } from '../helpers/index.js'
import {
  buildAuthorizeApp, codeClient, codeFlowTokens, createCodeApplication, exchangeCode, headerUser, obtainCode, pkcePair, REDIRECT_URI, unescapeHtml,
} from '../helpers/authorize.js'
import { buildAdminApp, formState, get, post, STAFF, staffUser } from './admin-support.js'

/** Collects the staffAction events of `app`. */
function staffEvents (app: FastifyInstance): StaffActionEvent[] {
  const events: StaffActionEvent[] = []
  app.oauth.events.on('staffAction', (event) => { events.push(event) })
  return events
}

/** Selects `ids` on list `path`, confirms, and returns the final redirect. */
async function bulk (app: FastifyInstance, path: string, ids: readonly number[]): Promise<LightMyRequestResponse> {
  const list = await get(app, `/o/admin/${path}/`)
  const confirm = await post(app, `/o/admin/${path}/action/`, { id: ids.map(String) }, formState(list))
  if (confirm.statusCode !== 200) throw new Error(`no confirmation: ${confirm.statusCode} ${confirm.body.slice(0, 300)}`)
  return await post(app, `/o/admin/${path}/action/`, { id: ids.map(String), confirm: 'yes' }, formState(confirm, formState(list).cookie))
}

const LISTS = ['/o/admin/', '/o/admin/applications/', '/o/admin/access-tokens/', '/o/admin/refresh-tokens/', '/o/admin/grants/', '/o/admin/device-grants/', '/o/admin/id-tokens/', '/o/admin/sessions/']

t.test('the pages are not mounted unless adminPages is set', async (t) => {
  const app = await buildAuthorizeApp(t, { resolveUser: staffUser })
  t.equal((await get(app, '/o/admin/')).statusCode, 404)
})

t.test('anonymous visitors go to the login page; non-staff get 403; staff get the pages with the security headers', async (t) => {
  const app = await buildAdminApp(t)
  const created = await createCodeApplication(app)
  for (const url of [...LISTS, `/o/admin/applications/${created.application.id}/`, `/o/admin/applications/${created.application.id}/update/`]) {
    const anonymous = await get(app, url, null)
    t.equal(anonymous.statusCode, 302, `${url} anonymous`)
    t.equal(anonymous.headers.location, `/accounts/login/?next=${encodeURIComponent(url)}`)
    const user = await get(app, url, ALICE.id)
    t.equal(user.statusCode, 403, `${url} non-staff`)
    t.match(user.body, /for staff only/)
    t.equal(user.headers['content-type'], 'text/html; charset=utf-8')
    const staff = await get(app, url)
    t.equal(staff.statusCode, 200, `${url} staff`)
    t.equal(staff.headers['x-frame-options'], 'DENY')
    t.equal(staff.headers['cache-control'], 'no-store')
    t.match(String(staff.headers['content-security-policy']), /default-src 'none'/)
  }
  const page = await get(app, '/o/admin/')
  for (const section of ['Applications', 'Access tokens', 'Refresh tokens', 'Authorization codes', 'Device authorizations', 'ID tokens', 'Sessions']) t.match(page.body, section)
})

t.test('a host that never sets isStaff gives nobody the pages', async (t) => {
  const app = await buildAdminApp(t, { resolveUser: headerUser })
  t.equal((await get(app, '/o/admin/')).statusCode, 403)
})

t.test('POSTs: anonymous and non-staff get 403; a missing or foreign CSRF token gets 403; nothing changes', async (t) => {
  const app = await buildAdminApp(t)
  const events = staffEvents(app)
  const created = await createCodeApplication(app)
  const id = created.application.id
  const staffPage = formState(await get(app, `/o/admin/applications/${id}/delete/`))
  t.equal((await post(app, `/o/admin/applications/${id}/delete/`, {}, staffPage, null)).statusCode, 403, 'anonymous')
  t.equal((await post(app, `/o/admin/applications/${id}/delete/`, {}, staffPage, ALICE.id)).statusCode, 403, 'non-staff, even with a staff token')
  t.equal((await post(app, `/o/admin/applications/${id}/delete/`, {}, null)).statusCode, 403, 'no token')
  t.equal((await post(app, `/o/admin/applications/${id}/delete/`, {}, { ...staffPage, token: 'x'.repeat(43) })).statusCode, 403, 'wrong token')
  const other = formState(await get(app, `/o/admin/applications/${id}/delete/`, 'staff-other'))
  t.equal((await post(app, `/o/admin/applications/${id}/delete/`, {}, other)).statusCode, 403, 'another staff member\'s token')
  const res = await post(app, `/o/admin/applications/${id}/delete/`, {}, { ...staffPage, cookie: 'oat_csrf=' + 'A'.repeat(43) })
  t.equal(res.statusCode, 403, 'the token of another browser')
  t.match(res.body, /did not come from this site/)
  t.not(await app.oauth.store.findApplicationById(id), null, 'still there')
  t.same(events, [])
})

t.test('applications: search, filters, keyset pages and bad filters', async (t) => {
  const app = await buildAdminApp(t)
  const a = await createCodeApplication(app, { name: 'Billing portal', userId: 'owner-1' })
  const b = await createCodeApplication(app, { name: 'Mobile app', clientType: 'public', selfRegistered: true })
  const c = await app.oauth.createApplication({ name: 'Batch job', clientType: 'confidential', authorizationGrantType: 'client-credentials' })
  const rowIds = (res: LightMyRequestResponse): number[] => [...res.body.matchAll(/<td><a href="\/o\/admin\/applications\/(\d+)\/">/g)].map((m) => Number(m[1]))
  t.same(rowIds(await get(app, '/o/admin/applications/')), [c.application.id, b.application.id, a.application.id], 'newest first')
  t.same(rowIds(await get(app, '/o/admin/applications/?q=billing')), [a.application.id])
  t.same(rowIds(await get(app, `/o/admin/applications/?q=${encodeURIComponent(c.application.clientId.slice(3, 20))}`)), [c.application.id], 'by client id')
  t.same(rowIds(await get(app, '/o/admin/applications/?clientType=public')), [b.application.id])
  t.same(rowIds(await get(app, '/o/admin/applications/?grantType=client-credentials')), [c.application.id])
  t.same(rowIds(await get(app, '/o/admin/applications/?user=owner-1')), [a.application.id])
  t.same(rowIds(await get(app, '/o/admin/applications/?source=self-registered')), [b.application.id])
  t.same(rowIds(await get(app, '/o/admin/applications/?source=operator')), [c.application.id, a.application.id])
  t.same(rowIds(await get(app, '/o/admin/applications/?q=%25')), [], 'a % is a plain character')

  const first = await get(app, '/o/admin/applications/?size=2')
  t.same(rowIds(first), [c.application.id, b.application.id])
  const next = /rel="next" href="([^"]+)"/.exec(first.body)?.[1]
  t.equal(unescapeHtml(next ?? ''), `/o/admin/applications/?size=2&before=${b.application.id}`)
  const second = await get(app, unescapeHtml(next ?? ''))
  t.same(rowIds(second), [a.application.id])
  t.notMatch(second.body, /rel="next"/, 'the last page has no next link')
  t.match(second.body, /First page/)
  t.same(rowIds(await get(app, '/o/admin/applications/?source=operator&size=1&before=' + String(c.application.id))), [a.application.id], 'filters and pages together')

  for (const bad of ['size=0', 'size=101', 'size=abc', 'before=-1', 'before=1e3', 'before=99999999999999999999', 'clientType=root', 'grantType=x',
    'source=%27%20OR%201%3D1', 'q=a&q=b', `q=${'x'.repeat(201)}`]) {
    const res = await get(app, `/o/admin/applications/?${bad}`)
    t.equal(res.statusCode, 400, bad)
    t.match(res.body, /invalid_request/)
    t.equal(res.headers['content-type'], 'text/html; charset=utf-8')
  }
})

t.test('applications: edit (with the staff-only settings), regenerate the secret, delete; each a staffAction', async (t) => {
  const app = await buildAdminApp(t)
  const events = staffEvents(app)
  const created = await createCodeApplication(app, { name: 'Partner', userId: 'owner-1' })
  const id = created.application.id
  const base = `/o/admin/applications/${id}/`

  const edit = await get(app, `${base}update/`)
  t.equal(edit.statusCode, 200)
  t.match(edit.body, /<label for="allowIntrospection">/)
  const fields = {
    name: 'Partner (renamed)',
    clientType: 'confidential',
    authorizationGrantType: 'authorization-code',
    redirectUris: REDIRECT_URI,
    postLogoutRedirectUris: '',
    allowedOrigins: '',
    algorithm: '',
    skipAuthorization: 'yes',
    allowIntrospection: 'yes',
  }
  const saved = await post(app, `${base}update/`, fields, formState(edit))
  t.equal(saved.statusCode, 303)
  t.equal(saved.headers.location, `${base}?saved=1`)
  const stored = await app.oauth.store.findApplicationById(id)
  t.equal(stored?.name, 'Partner (renamed)')
  t.equal(stored?.skipAuthorization, true)
  t.equal(stored?.allowIntrospection, true)
  t.equal(stored?.selfRegistered, false, 'a staff edit does not mark it self-registered')
  t.equal(stored?.userId, 'owner-1', 'the owner stays')
  t.match((await get(app, `${base}?saved=1`)).body, /Saved\./)

  const invalid = await post(app, `${base}update/`, { ...fields, redirectUris: 'http://evil.example/cb' }, formState(edit))
  t.equal(invalid.statusCode, 400)
  t.match(invalid.body, /id="redirectUris-error" role="alert">/)
  const badFlag = await post(app, `${base}update/`, { ...fields, skipAuthorization: 'maybe' }, formState(edit))
  t.equal(badFlag.statusCode, 400)
  t.match(badFlag.body, /id="skipAuthorization-error" role="alert">must be yes or no/)

  const confirm = await get(app, `${base}regenerate-secret/`)
  t.match(confirm.body, /stops working at once/)
  const regenerated = await post(app, `${base}regenerate-secret/`, {}, formState(confirm))
  t.equal(regenerated.statusCode, 200)
  const secret = /id="client-secret">([^<]*)</.exec(regenerated.body)?.[1] ?? ''
  t.match(secret, /^\w{128}$/)
  t.match((await app.oauth.store.findApplicationById(id))?.clientSecretHash, /^scrypt\$/)
  t.notMatch((await get(app, base)).body, secret, 'shown once')
  const oldSecret = await exchangeCode(app, codeClient(created), 'nope')
  t.equal(oldSecret.statusCode, 401, 'the old secret no longer authenticates')
  const newSecret = await postToken(app, { grant_type: 'authorization_code', code: 'nope' }, { authorization: basicAuth(created.application.clientId, secret) })
  t.equal(newSecret.statusCode, 400, 'the new one does (the code is what fails)')

  const del = await get(app, `${base}delete/`)
  t.match(del.body, /This cannot be undone/)
  const deleted = await post(app, `${base}delete/`, {}, formState(del))
  t.equal(deleted.statusCode, 303)
  t.equal(deleted.headers.location, '/o/admin/applications/')
  t.equal(await app.oauth.store.findApplicationById(id), null)
  t.equal((await get(app, base)).statusCode, 404)

  t.same(events.map((e) => [e.action, e.staffUserId, e.target.kind, e.target.ids]), [
    ['application.update', STAFF, 'application', [id]],
    ['application.regenerateSecret', STAFF, 'application', [id]],
    ['application.delete', STAFF, 'application', [id]],
  ])
  t.ok(events.every((e) => e.at instanceof Date))
})

t.test('a metadata document client: staff set the staff-only settings; the document\'s fields are refused, not silently undone later', async (t) => {
  const app = await buildAdminApp(t, { settings: { cimdEnabled: true } })
  const clientId = 'https://notes.example-clients.test/client.json'
  const application = await app.oauth.store.createApplication({
    clientId,
    clientSecretHash: '',
    clientType: 'public',
    authorizationGrantType: 'authorization-code',
    tokenEndpointAuthMethod: 'none',
    redirectUris: [REDIRECT_URI],
    postLogoutRedirectUris: [],
    allowedOrigins: [],
    name: 'Notes for MCP',
    userId: null,
    skipAuthorization: false,
    algorithm: '',
    selfRegistered: true,
    cimdExpiresAt: new Date(Date.now() + 3600_000),
    now: new Date(),
  })
  const base = `/o/admin/applications/${application.id}/`
  const edit = await get(app, `${base}update/`)
  t.equal(edit.statusCode, 200)
  const fields = {
    name: 'Notes for MCP',
    clientType: 'public',
    authorizationGrantType: 'authorization-code',
    redirectUris: REDIRECT_URI,
    postLogoutRedirectUris: '',
    allowedOrigins: 'https://client.example.com',
    algorithm: '',
    requirePushedAuthorizationRequests: 'yes',
  }
  const saved = await post(app, `${base}update/`, fields, formState(edit))
  t.equal(saved.statusCode, 303, 'the operator\'s settings are saved')
  const stored = await app.oauth.store.findApplicationById(application.id)
  t.equal(stored?.requirePushedAuthorizationRequests, true)
  t.same(stored?.allowedOrigins, ['https://client.example.com'])
  const renamed = await post(app, `${base}update/`, { ...fields, name: 'Renamed by staff' }, formState(edit))
  t.equal(renamed.statusCode, 400)
  t.match(renamed.body, /id="name-error" role="alert">comes from the client(&#39;|&#x27;|')s metadata document/)
  t.equal((await app.oauth.store.findApplicationById(application.id))?.name, 'Notes for MCP')
})

t.test('tokens are listed, never shown: no token, no checksum, not searchable by value', async (t) => {
  const app = await buildAdminApp(t)
  const created = await createCodeApplication(app, { name: 'Reader' })
  const tokens = await codeFlowTokens(app, created, { scope: 'read' })
  const secrets = [tokens.access_token, tokens.refresh_token ?? '', tokenChecksum(tokens.access_token), tokenChecksum(tokens.refresh_token ?? '')]
  const code = await obtainCode(app, { response_type: 'code', client_id: created.application.clientId, redirect_uri: REDIRECT_URI, code_challenge: pkcePair().challenge, code_challenge_method: 'S256' })
  secrets.push(code, tokenChecksum(code))
  for (const url of LISTS) {
    const body = (await get(app, url)).body
    for (const secret of secrets) {
      t.notOk(body.includes(secret), `${url} does not show ${secret.slice(0, 6)}…`)
      t.notOk(body.includes(secret.slice(0, 12)), `${url} nor a prefix of it`)
    }
  }
  const listed = await get(app, '/o/admin/access-tokens/')
  t.match(listed.body, /Reader/)
  t.match(listed.body, ALICE.id)
  for (const url of ['/o/admin/access-tokens/', '/o/admin/refresh-tokens/']) {
    const search = await get(app, `${url}?token=${encodeURIComponent(tokens.access_token)}&q=${encodeURIComponent(tokens.access_token)}`)
    t.equal(search.statusCode, 200, 'unknown parameters are ignored')
    t.same([...search.body.matchAll(/name="id"/g)].length, [...listed.body.matchAll(/name="id"/g)].length, 'and filter nothing')
  }
})

t.test('token lists filter by application and user, and page', async (t) => {
  const app = await buildAdminApp(t)
  const one = await createCodeApplication(app, { name: 'One' })
  const two = await createCodeApplication(app, { name: 'Two' })
  await codeFlowTokens(app, one, { user: 'user-a' })
  await codeFlowTokens(app, two, { user: 'user-a' })
  await codeFlowTokens(app, two, { user: 'user-b' })
  const ids = (res: LightMyRequestResponse): number[] => [...res.body.matchAll(/name="id" value="(\d+)"/g)].map((m) => Number(m[1]))
  const all = ids(await get(app, '/o/admin/access-tokens/'))
  t.equal(all.length, 3)
  t.same(all, [...all].sort((x, y) => y - x), 'newest first')
  t.equal(ids(await get(app, `/o/admin/access-tokens/?application=${two.application.id}`)).length, 2)
  t.equal(ids(await get(app, `/o/admin/refresh-tokens/?application=${two.application.id}&user=user-b`)).length, 1)
  t.equal(ids(await get(app, '/o/admin/grants/?user=user-a')).length, 2)
  t.equal(ids(await get(app, '/o/admin/access-tokens/?user=nobody')).length, 0)
  const page = await get(app, '/o/admin/access-tokens/?size=2')
  t.same(ids(page), all.slice(0, 2))
  const next = unescapeHtml(/rel="next" href="([^"]+)"/.exec(page.body)?.[1] ?? '')
  t.same(ids(await get(app, next)), all.slice(2))
  for (const bad of ['application=x', 'application=0', 'before=1.5', 'size=1000', 'user=a&user=b']) {
    t.equal((await get(app, `/o/admin/access-tokens/?${bad}`)).statusCode, 400, bad)
  }
  t.equal((await get(app, '/o/admin/access-tokens/?before=9007199254740991')).statusCode, 200, 'the largest id is a cursor like any other')
})

t.test('revoking access tokens, refresh token families and codes, denying device authorizations: confirmed, then done, each a staffAction', async (t) => {
  const app = await buildAdminApp(t, { settings: { deviceFlowEnabled: true } })
  const events = staffEvents(app)
  const revoked: TokenRevokedEvent[] = []
  app.oauth.events.on('tokenRevoked', (e) => { revoked.push(e) })
  const created = await createCodeApplication(app)

  await t.test('access tokens', async (t) => {
    const tokens = await codeFlowTokens(app, created)
    const row = await app.oauth.store.findAccessToken(tokenChecksum(tokens.access_token))
    const list = await get(app, '/o/admin/access-tokens/')
    const confirm = await post(app, '/o/admin/access-tokens/action/', { id: String(row?.id) }, formState(list))
    t.equal(confirm.statusCode, 200)
    t.match(confirm.body, /Revoke the selected access tokens\?/)
    t.match(confirm.body, new RegExp(`name="id" value="${String(row?.id)}"`))
    t.ok(await bearerWorks(app, tokens.access_token), 'nothing happens before the confirmation')
    const done = await bulk(app, 'access-tokens', [row?.id ?? 0])
    t.equal(done.statusCode, 303)
    t.equal(done.headers.location, '/o/admin/access-tokens/?done=1&of=1')
    t.notOk(await bearerWorks(app, tokens.access_token), 'revoked')
    const refreshed = await postToken(app, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token ?? '' }, { authorization: basicAuth(created.application.clientId, created.clientSecret ?? '') })
    t.equal(refreshed.statusCode, 400, 'with its refresh token family, as RFC 7009 revocation does')
    t.match((await get(app, done.headers.location ?? '')).body, /1 of 1 selected changed/)
  })

  await t.test('refresh token families', async (t) => {
    const tokens = await codeFlowTokens(app, created)
    const rt = await app.oauth.store.findRefreshToken(tokenChecksum(tokens.refresh_token ?? ''))
    const done = await bulk(app, 'refresh-tokens', [rt?.id ?? 0, 999999])
    t.equal(done.headers.location, '/o/admin/refresh-tokens/?done=1&of=2', 'an unknown id changes nothing')
    t.notOk(await bearerWorks(app, tokens.access_token), 'the family\'s access token is gone')
    const refreshed = await postToken(app, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token ?? '' }, { authorization: basicAuth(created.application.clientId, created.clientSecret ?? '') })
    t.equal(refreshed.statusCode, 400)
    t.notMatch((await get(app, '/o/admin/refresh-tokens/')).body, new RegExp(`name="id" value="${String(rt?.id)}"`), 'a revoked family offers no checkbox')
  })

  await t.test('authorization codes', async (t) => {
    const { verifier, challenge } = pkcePair()
    const code = await obtainCode(app, { response_type: 'code', client_id: created.application.clientId, redirect_uri: REDIRECT_URI, code_challenge: challenge, code_challenge_method: 'S256' })
    const grant = await app.oauth.store.findGrant(tokenChecksum(code))
    await bulk(app, 'grants', [grant?.id ?? 0])
    const exchanged = await exchangeCode(app, codeClient(created), code, { redirect_uri: REDIRECT_URI, code_verifier: verifier })
    t.equal(exchanged.statusCode, 400, 'a revoked code cannot be exchanged')
    t.equal(exchanged.json().error, 'invalid_grant')
  })

  await t.test('device authorizations', async (t) => {
    const now = app.oauth.clock.now()
    const device = await app.oauth.store.createDeviceGrant({
      checksum: tokenChecksum('device-code'),
      userCodeChecksum: tokenChecksum('USERCODE'),
      applicationId: created.application.id,
      scope: 'read',
      resource: '',
      expiresAt: new Date(now.getTime() + 600_000),
      interval: 5,
    }, now)
    await bulk(app, 'device-grants', [device?.id ?? 0])
    t.equal((await app.oauth.store.findDeviceGrantById(device?.id ?? 0))?.status, 'denied')
  })

  t.same(events.map((e) => [e.action, e.target.kind, e.target.ids.length]), [
    ['accessToken.revoke', 'accessToken', 1],
    ['refreshToken.revoke', 'refreshToken', 1],
    ['grant.revoke', 'grant', 1],
    ['deviceGrant.deny', 'deviceGrant', 1],
  ])
  // The revocations are also tokenRevoked events, with reason `staff`, for audit logs that follow tokens.
  // (The test's own refreshes with revoked tokens add refresh-token-reuse events.)
  const byStaff = revoked.filter((e) => e.reason === 'staff')
  t.match(byStaff, [
    { tokenType: 'access_token', clientId: created.application.clientId, family: true },
    { tokenType: 'refresh_token', clientId: created.application.clientId, family: true },
  ])
  t.equal(byStaff.length, 2, 'one per revoked selection; codes and device denials are staffAction only')
})

t.test('bulk actions: bad selections are a 400 page, never a 500', async (t) => {
  const app = await buildAdminApp(t)
  await codeFlowTokens(app, await createCodeApplication(app))
  const state = formState(await get(app, '/o/admin/access-tokens/'))
  for (const [label, fields] of [
    ['nothing selected', {}],
    ['a word', { id: 'abc' }],
    ['a negative id', { id: '-1' }],
    ['SQL', { id: '1 OR 1=1' }],
    ['a huge id', { id: '9'.repeat(40) }],
    ['too many', { id: Array.from({ length: 101 }, (_, i) => String(i + 1)) }],
  ] as const) {
    const res = await post(app, '/o/admin/access-tokens/action/', fields, state)
    t.equal(res.statusCode, 400, label)
    t.match(res.body, /invalid_request/)
  }
  t.equal((await post(app, '/o/admin/id-tokens/action/', { id: '1' }, state)).statusCode, 404, 'ID tokens have no action')
})

t.test('hostile values are escaped, and control and bidi characters shown as code points', async (t) => {
  const app = await buildAdminApp(t)
  const created = await createCodeApplication(app, { name: '<script>alert(1)</script>', userId: 'evil\u202Eresu\u0007"><img src=x>' })
  const rows = await app.oauth.store.issueTokens({
    accessToken: { checksum: tokenChecksum('hostile'), applicationId: created.application.id, userId: 'u\u200Bser\u2066x', scope: 'read <b>write</b>', expiresAt: new Date(Date.now() + 3600_000), tokenFamily: null, grantId: null, resource: '' },
    refreshToken: null,
    now: new Date(),
  })
  for (const url of ['/o/admin/applications/', `/o/admin/applications/${created.application.id}/`, '/o/admin/access-tokens/']) {
    const body = (await get(app, url)).body
    t.notMatch(body, /<script>|<img|<b>/, `${url}: no markup from values`)
    for (const char of ['\u202E', '\u0007', '\u200B', '\u2066']) t.notOk(body.includes(char), `${url}: no raw U+${char.codePointAt(0)?.toString(16) ?? ''}`)
  }
  const list = (await get(app, '/o/admin/applications/')).body
  t.match(list, '&lt;script&gt;alert(1)&lt;/script&gt;')
  t.match(list, '<span class="oat-codepoint">U+202E</span>')
  t.match(list, '<span class="oat-codepoint">U+0007</span>')
  const tokens = (await get(app, '/o/admin/access-tokens/')).body
  t.match(tokens, '<span class="oat-codepoint">U+200B</span>')
  t.match(tokens, 'read &lt;b&gt;write&lt;/b&gt;')
  t.ok(rows.accessToken.id > 0)
  const filtered = await get(app, `/o/admin/applications/?q=${encodeURIComponent('"><script>')}`)
  t.equal(filtered.statusCode, 200)
  t.match(filtered.body, 'value="&quot;&gt;&lt;script&gt;"', 'a filter value is echoed escaped')
})

t.test('a staffAction listener that throws or rejects never breaks the page; the failure goes to the error event', async (t) => {
  const app = await buildAdminApp(t)
  const errors: unknown[] = []
  app.oauth.events.on('error', (err) => { errors.push(err) })
  app.oauth.events.on('staffAction', () => { throw new Error('listener bug') })
  app.oauth.events.on('staffAction', async () => { throw new Error('async listener bug') })
  const after: StaffActionEvent[] = []
  app.oauth.events.on('staffAction', (event) => { after.push(event) })
  const created = await createCodeApplication(app)
  const del = await get(app, `/o/admin/applications/${created.application.id}/delete/`)
  const res = await post(app, `/o/admin/applications/${created.application.id}/delete/`, {}, formState(del))
  t.equal(res.statusCode, 303)
  t.equal(after.length, 1, 'the listeners after the failing ones still ran')
  for (let i = 0; i < 100 && errors.length < 2; i++) await new Promise((resolve) => setImmediate(resolve))
  t.same(errors.map((e) => (e as Error).message).sort(), ['async listener bug', 'listener bug'])
})
