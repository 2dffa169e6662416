// RFC 8628 §3.3: the login-required device pages (entry, confirm), bound to the user (DEV-2).
import { join } from 'node:path'
import Fastify from 'fastify'
import t, { type Test } from 'tap'
import { fastifyOAuthToolkit, oauthRoutes } from '../../index.js'
import { FORM, testHasher } from '../helpers/index.js'
import { LOGIN_OPTIONS } from '../helpers/authorize.js'
import { buildDeviceApp, createDeviceApplication, decide, deviceCode, enterCode, getPage, pageForm, poll, postForm } from './support.js'

const app = await buildDeviceApp(t)
const tv = await createDeviceApplication(app)

/** The security headers of the consent page (UI-3, LEAK-2). */
function assertPageHeaders (t: Test, res: Awaited<ReturnType<typeof getPage>>): void {
  t.match(res.headers['content-type'], /^text\/html; charset=utf-8/)
  t.equal(res.headers['x-frame-options'], 'DENY')
  t.match(res.headers['content-security-policy'], /frame-ancestors 'none'/)
  t.equal(res.headers['referrer-policy'], 'no-referrer')
  t.equal(res.headers['cache-control'], 'no-store')
}

t.test('anonymous visitors are sent to log in and come back with the code', async (t) => {
  let res = await getPage(app, '/o/device/?user_code=BCDF-GHJK', { user: null })
  t.equal(res.statusCode, 302)
  t.equal(res.headers.location, `/accounts/login/?next=${encodeURIComponent('/o/device/?user_code=BCDF-GHJK')}`)
  res = await getPage(app, '/o/device/', { user: null })
  t.equal(res.headers.location, `/accounts/login/?next=${encodeURIComponent('/o/device/')}`)
  res = await getPage(app, '/o/device-confirm/1/', { user: null })
  t.equal(res.headers.location, `/accounts/login/?next=${encodeURIComponent('/o/device-confirm/1/')}`)
})

t.test('verification_uri_complete prefills the code, escaped, with the security headers', async (t) => {
  const res = await getPage(app, '/o/device/?user_code=BCDF-GHJK')
  t.equal(res.statusCode, 200)
  assertPageHeaders(t, res)
  t.match(res.body, 'name="user_code" value="BCDF-GHJK"')
  const evil = await getPage(app, `/o/device/?user_code=${encodeURIComponent('"><script>x</script>')}`)
  t.notMatch(evil.body, '<script>')
  t.match(evil.body, '&quot;&gt;&lt;script&gt;')
})

t.test('the code is accepted in any case, with spaces or without the dash; approve issues tokens to that user', async (t) => {
  const { device_code: code, user_code: userCode } = await deviceCode(app, tv, { scope: 'read write' })
  const typed = ` ${userCode.replace('-', ' ').toLowerCase()} `
  const entered = await enterCode(app, typed, { user: 'user-case' })
  t.equal(entered.statusCode, 302)
  t.match(String(entered.headers.location), /^\/o\/device-confirm\/\d+\/$/)
  t.notMatch(String(entered.headers.location), userCode, 'no user code in the URL')

  const confirm = await getPage(app, String(entered.headers.location), { user: 'user-case' })
  t.equal(confirm.statusCode, 200)
  assertPageHeaders(t, confirm)
  t.match(confirm.body, 'Living-room TV', 'the application')
  t.match(confirm.body, 'Reading scope')
  t.match(confirm.body, 'Writing scope')
  const done = await postForm(app, pageForm(confirm), { allow: 'Authorize' }, { user: 'user-case' })
  t.equal(done.statusCode, 200)
  assertPageHeaders(t, done)
  t.match(done.body, 'Device connected')

  const res = await poll(app, tv, code)
  t.equal(res.statusCode, 200)
  const info = await app.oauth.authenticateBearer({ authorization: `Bearer ${res.json<{ access_token: string }>().access_token}`, queryToken: undefined })
  t.equal(info.ok && info.token.userId, 'user-case')
  t.same(info.ok && info.token.scopes, ['read', 'write'])

  const again = await postForm(app, pageForm(confirm), { allow: 'Authorize' }, { user: 'user-case' })
  t.equal(again.statusCode, 404, 'decided once')
})

t.test('deny: the page says so and the device gets access_denied', async (t) => {
  const { device_code: code, user_code: userCode } = await deviceCode(app, tv)
  const done = await decide(app, userCode, false, { user: 'user-deny' })
  t.equal(done.statusCode, 200)
  t.match(done.body, 'Request denied')
  t.equal((await poll(app, tv, code)).json<{ error: string }>().error, 'access_denied')
})

t.test('a wrong code re-renders the form with an error; nothing is claimed', async (t) => {
  const res = await enterCode(app, 'BCDF-GHJK', { user: 'user-wrong' })
  t.equal(res.statusCode, 400)
  assertPageHeaders(t, res)
  t.match(res.body, 'That code is not valid')
  t.match(res.body, 'value="BCDF-GHJK"')
  t.equal((await enterCode(app, 'not a code at all', { user: 'user-wrong' })).statusCode, 400)
})

t.test('DEV-2 the authorization is bound to the user who entered the code: anyone else gets 404', async (t) => {
  const { device_code: code, user_code: userCode } = await deviceCode(app, tv)
  const entered = await enterCode(app, userCode, { user: 'user-one' })
  const confirmUrl = String(entered.headers.location)
  const mallory = await getPage(app, confirmUrl, { user: 'user-two' })
  t.equal(mallory.statusCode, 404, 'user 2 opening user 1\'s confirm URL gets 404')
  assertPageHeaders(t, mallory)
  t.notMatch(mallory.body, 'Living-room TV')
  t.equal((await enterCode(app, userCode, { user: 'user-two' })).statusCode, 400, 'nor can user 2 claim the code')

  // User 2 posts a decision with a valid CSRF token of their own (from another page): still 404.
  const own = pageForm(await getPage(app, '/o/device/', { user: 'user-two' }))
  const forged = await postForm(app, { ...own, action: confirmUrl }, { allow: 'Authorize' }, { user: 'user-two' })
  t.equal(forged.statusCode, 403, 'a token for another form fails CSRF')
  t.same((await poll(app, tv, code)).json<{ error: string }>().error, 'authorization_pending', 'nothing was decided')

  const owner = await getPage(app, confirmUrl, { user: 'user-one' })
  t.equal(owner.statusCode, 200, 'the user who entered it may still decide')
  t.equal((await enterCode(app, userCode, { user: 'user-one' })).statusCode, 302, 'and may enter it again')
  t.equal((await getPage(app, '/o/device-confirm/999999/', { user: 'user-one' })).statusCode, 404)
  t.equal((await getPage(app, '/o/device-confirm/abc/', { user: 'user-one' })).statusCode, 404)
})

t.test('DEV-2 CSRF is checked on entry and on confirm', async (t) => {
  const { device_code: code, user_code: userCode } = await deviceCode(app, tv)
  const entry = pageForm(await getPage(app, '/o/device/', { user: 'user-csrf' }))
  let res = await postForm(app, { ...entry, csrfToken: 'forged' }, { user_code: userCode }, { user: 'user-csrf' })
  t.equal(res.statusCode, 403, 'entry without the right token')
  res = await postForm(app, { ...entry, cookie: 'oat_csrf=' + 'A'.repeat(43) }, { user_code: userCode }, { user: 'user-csrf' })
  t.equal(res.statusCode, 403, 'entry from another browser')
  const entered = await postForm(app, entry, { user_code: userCode }, { user: 'user-csrf' })
  t.equal(entered.statusCode, 302)
  const confirm = pageForm(await getPage(app, String(entered.headers.location), { user: 'user-csrf' }), entry.cookie)
  res = await app.inject({ method: 'POST', url: confirm.action, payload: 'allow=Authorize', headers: { ...FORM, cookie: confirm.cookie, 'x-test-user': 'user-csrf' } })
  t.equal(res.statusCode, 403, 'confirm without a token')
  res = await postForm(app, confirm, { allow: 'Authorize', csrf_token: confirm.csrfToken + 'x' }, { user: 'user-csrf' })
  t.equal(res.statusCode, 403, 'confirm with a bad token')
  res = await app.inject({ method: 'POST', url: confirm.action, payload: `csrf_token=${encodeURIComponent(confirm.csrfToken)}&csrf_token=${encodeURIComponent(confirm.csrfToken)}&allow=1`, headers: { ...FORM, cookie: confirm.cookie, 'x-test-user': 'user-csrf' } })
  t.equal(res.statusCode, 403, 'a repeated token is no token')
  res = await postForm(app, confirm, { allow: 'Authorize' }, { user: null })
  t.equal(res.statusCode, 403, 'anonymous')
  t.equal((await poll(app, tv, code)).json<{ error: string }>().error, 'authorization_pending', 'nothing was decided')
  t.equal((await postForm(app, confirm, { allow: 'Authorize' }, { user: 'user-csrf' })).statusCode, 200)
})

t.test('DEV-2 20 wrong codes from one user: throttled after 5, with Retry-After', async (t) => {
  const statuses: number[] = []
  let last = await getPage(app, '/o/device/', { user: 'user-brute', ip: '10.0.0.1' })
  for (let i = 0; i < 20; i++) {
    last = await postForm(app, pageForm(await getPage(app, '/o/device/', { user: 'user-brute', ip: '10.0.0.1' })), { user_code: 'BCDF-GHJK' }, { user: 'user-brute', ip: '10.0.0.1' })
    statuses.push(last.statusCode)
  }
  t.same(statuses, [...Array(5).fill(400), ...Array(15).fill(429)])
  assertPageHeaders(t, last)
  t.match(last.body, 'Too many attempts')
  t.ok(Number(last.headers['retry-after']) > 0, 'Retry-After')
  const { user_code: userCode } = await deviceCode(app, tv)
  const blocked = await enterCode(app, userCode, { user: 'user-brute', ip: '10.0.0.2' })
  t.equal(blocked.statusCode, 429, 'even a right code waits: the limit is per account, from any address')
  t.equal((await enterCode(app, userCode, { user: 'user-other', ip: '10.0.0.1' })).statusCode, 302, 'another user on that address is not blocked by the per-user limit')
})

t.test('DEV-2 per-IP limit across accounts; limits are configurable; a host registration of @fastify/rate-limit is reused', async (t) => {
  const host = Fastify()
  t.teardown(() => host.close())
  await host.register(import('@fastify/rate-limit'), { global: false })
  await host.register(fastifyOAuthToolkit, {
    database: join(t.testdir(), 'oauth.db'),
    migrate: true,
    hasher: testHasher,
    ...LOGIN_OPTIONS,
    settings: { deviceFlowEnabled: true },
  })
  await host.register(oauthRoutes, { prefix: '/o', deviceRateLimit: { perUser: 100, perIp: 3, timeWindow: '1 minute' } })
  const statuses: number[] = []
  for (let i = 0; i < 5; i++) statuses.push((await enterCode(host, 'BCDF-GHJK', { user: `user-ip-${i}`, ip: '10.1.1.1' })).statusCode)
  t.same(statuses, [400, 400, 400, 429, 429], 'one address, five accounts: throttled after 3')
  t.equal((await enterCode(host, 'BCDF-GHJK', { user: 'user-ip-9', ip: '10.1.1.2' })).statusCode, 400, 'another address is not')
  // IPv6: one subscriber holds a whole /64, so its addresses count as one (as everywhere else).
  const v6: number[] = []
  for (let i = 0; i < 5; i++) v6.push((await enterCode(host, 'BCDF-GHJK', { user: `user-v6-${i}`, ip: `2001:db8:1:2::${i + 1}` })).statusCode)
  t.same(v6, [400, 400, 400, 429, 429], 'five addresses of one /64: throttled after 3')
  t.equal((await enterCode(host, 'BCDF-GHJK', { user: 'user-v6-9', ip: '2001:db8:1:3::1' })).statusCode, 400, 'the next /64 is another address')
})

t.test('the device pages can be replaced through the templates option', async (t) => {
  const custom = await buildDeviceApp(t, { templates: { deviceCode: (data) => `<p>Type it: ${data.userCode.length}</p><form method="post" action="${data.action}"><input type="hidden" name="csrf_token" value="${data.csrfToken}"></form>` } })
  const res = await getPage(custom, '/o/device/?user_code=BCDF')
  t.equal(res.statusCode, 200)
  t.match(res.body, '<p>Type it: 4</p>')
  t.equal(res.headers['x-frame-options'], 'DENY', 'with the same headers')
})
