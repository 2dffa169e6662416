// Attacker probes of the browser-facing pages (consent, device, management, staff, logout), found
// by a black-box round against the running example app: ids spelled other ways in page URLs, a
// repeated CSRF field, one form's token presented to another, and the CSRF cookie's Secure flag
// behind a TLS-terminating proxy. None may reach a row, change anything or answer 500.
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import t from 'tap'
import { oauthRoutes } from '../../index.js'
import { ALICE, bearerWorks, FORM, form, type BuildAppOptions } from '../helpers/index.js'
import { asUser, buildAuthorizeApp, codeFlowTokens, codeRequest, createCodeApplication, fetchConsent } from '../helpers/authorize.js'
import { pageForm, registerThroughPages, type PageForm } from '../helpers/management.js'
import { staffUser, STAFF } from '../views/admin-support.js'
import { createDeviceApplication, deviceCode, enterCode, getPage, pageForm as deviceForm } from '../device/support.js'
import { newRsaPem, oidcSettings } from '../oidc/support.js'

/** An app with every page family: consent, device, management, staff and (with OIDC) logout. */
async function buildPagesApp (t: Parameters<typeof buildAuthorizeApp>[0], options: BuildAppOptions = {}): Promise<FastifyInstance> {
  const { settings, ...rest } = options
  const app = await buildAuthorizeApp(t, { prefix: false, resolveUser: staffUser, ...rest, settings: { deviceFlowEnabled: true, ...settings } })
  await app.register(oauthRoutes, { prefix: '/o', managementPages: true, adminPages: true })
  return app
}

async function get (app: FastifyInstance, url: string, user: string | null = ALICE.id, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  return await app.inject({ method: 'GET', url, headers: asUser(user, headers) })
}

async function post (app: FastifyInstance, url: string, payload: string, cookie: string, user: string = ALICE.id): Promise<LightMyRequestResponse> {
  return await app.inject({ method: 'POST', url, payload, headers: asUser(user, { ...FORM, cookie }) })
}

/** Ids that `Number()` reads as 1 (or another row) but that are not how the pages write an id. */
const ODD_IDS = ['0x1', '1e0', '01', '+1', '1.0', '1%20', '%201', '1.', '0b1', '0o1', '%EF%BC%91', '%D9%A1', '1_0']

t.test('ids spelled another way in page URLs: a 404 page on every management and device page, never the row, nothing changed', async (t) => {
  const app = await buildPagesApp(t)
  const registered = await registerThroughPages(app, { name: 'Mine', clientType: 'confidential', authorizationGrantType: 'authorization-code', redirectUris: 'https://client.example.com/cb' })
  t.equal(registered.id, 1, 'the application is row 1, the row every odd id would reach')
  const granted = await codeFlowTokens(app, await createCodeApplication(app, { name: 'Granted' }))
  const token = await app.oauth.store.findAccessTokenById(1)
  t.equal(token?.userId, ALICE.id, 'the access token is row 1 too')
  const device = await createDeviceApplication(app)
  const entered = await enterCode(app, (await deviceCode(app, device)).user_code)
  t.equal(entered.headers.location, '/o/device-confirm/1/', 'the device authorization is row 1 too')
  const before = JSON.stringify([await app.oauth.store.findApplicationById(1), await app.oauth.store.findAccessTokenById(1)])

  // Control: the canonical spelling reaches each page.
  for (const url of ['/o/applications/1/', '/o/applications/1/update/', '/o/applications/1/delete/', '/o/authorized-tokens/1/delete/', '/o/device-confirm/1/']) {
    t.equal((await get(app, url)).statusCode, 200, `control: ${url}`)
  }
  const state = pageForm(await get(app, '/o/applications/1/'))
  const deviceState = deviceForm(await getPage(app, '/o/device-confirm/1/'))
  for (const id of ODD_IDS) {
    for (const path of [`applications/${id}/`, `applications/${id}/update/`, `applications/${id}/delete/`, `authorized-tokens/${id}/delete/`, `device-confirm/${id}/`]) {
      const res = await get(app, `/o/${path}`)
      t.equal(res.statusCode, 404, `GET /o/${path}`)
      t.equal(res.headers['x-frame-options'], 'DENY', `GET /o/${path}: an HTML page with its headers`)
    }
    for (const path of [`applications/${id}/regenerate-secret/`, `applications/${id}/delete/`, `authorized-tokens/${id}/delete/`]) {
      t.equal((await post(app, `/o/${path}`, form({ csrf_token: state.token }), state.cookie)).statusCode, 404, `POST /o/${path}`)
    }
    const decided = await post(app, `/o/device-confirm/${id}/`, form({ csrf_token: deviceState.csrfToken, allow: 'Authorize' }), deviceState.cookie)
    t.not(decided.statusCode, 200, `POST /o/device-confirm/${id}/ decides nothing`)
  }
  t.equal(JSON.stringify([await app.oauth.store.findApplicationById(1), await app.oauth.store.findAccessTokenById(1)]), before, 'nothing changed')
  t.ok(await bearerWorks(app, granted.access_token), 'the token still works')
})

t.test('a repeated csrf_token on the management pages is no token, whichever copy is right: 403, nothing changed', async (t) => {
  const app = await buildPagesApp(t)
  const registered = await registerThroughPages(app, { name: 'Mine', clientType: 'confidential', authorizationGrantType: 'client-credentials', redirectUris: '' })
  const granted = await codeFlowTokens(app, await createCodeApplication(app))
  const state = pageForm(await get(app, `/o/applications/${registered.id}/`))
  const before = JSON.stringify(await app.oauth.store.findApplicationById(registered.id))
  const fields = { name: 'Renamed', clientType: 'confidential', authorizationGrantType: 'client-credentials', redirectUris: '', postLogoutRedirectUris: '', allowedOrigins: '', algorithm: '' }
  for (const tokens of [[state.token, 'forged'], ['forged', state.token], [state.token, state.token]]) {
    for (const [url, extra] of [
      [`/o/applications/${registered.id}/update/`, fields], [`/o/applications/${registered.id}/regenerate-secret/`, {}],
      [`/o/applications/${registered.id}/delete/`, {}], ['/o/authorized-tokens/1/delete/', {}], ['/o/applications/register/', fields],
    ] as const) {
      const res = await post(app, url, form({ ...extra, csrf_token: tokens }), state.cookie)
      t.equal(res.statusCode, 403, `${url} with csrf_token ${tokens.map((v) => v === state.token ? 'right' : v).join(', ')}`)
      t.notMatch(res.body, /id="client-secret"/, 'no secret shown')
    }
  }
  t.equal(JSON.stringify(await app.oauth.store.findApplicationById(registered.id)), before, 'the application is untouched')
  t.ok(await bearerWorks(app, granted.access_token), 'the authorization is untouched')
  t.equal((await app.oauth.store.listApplications({ userId: ALICE.id })).length, 1, 'no application registered')
  // Control: one right token still works.
  const ok = await post(app, `/o/applications/${registered.id}/regenerate-secret/`, form({ csrf_token: state.token }), state.cookie)
  t.equal(ok.statusCode, 200, 'control: one right token regenerates the secret')
})

t.test('a consent token is no management, staff or device token, even for a client whose id names that form', async (t) => {
  const app = await buildPagesApp(t)
  const mine = await registerThroughPages(app, { name: 'Mine', clientType: 'confidential', authorizationGrantType: 'client-credentials', redirectUris: '' }, STAFF)
  const before = JSON.stringify(await app.oauth.store.findApplicationById(mine.id))
  const consentToken = async (clientId: string): Promise<PageForm> => {
    const created = await createCodeApplication(app, { clientId })
    const consent = await fetchConsent(app, codeRequest(created), STAFF)
    return { token: consent.fields.csrf_token ?? '', cookie: consent.cookie }
  }
  const manage = await consentToken('manage')
  t.equal((await post(app, `/o/applications/${mine.id}/regenerate-secret/`, form({ csrf_token: manage.token }), manage.cookie, STAFF)).statusCode, 403, 'management: regenerate refused')
  t.equal((await post(app, `/o/applications/${mine.id}/delete/`, form({ csrf_token: manage.token }), manage.cookie, STAFF)).statusCode, 403, 'management: delete refused')
  const admin = await consentToken('admin')
  t.equal((await post(app, `/o/admin/applications/${mine.id}/delete/`, form({ csrf_token: admin.token, confirm: 'yes' }), admin.cookie, STAFF)).statusCode, 403, 'staff: delete refused')
  t.equal((await post(app, `/o/admin/applications/${mine.id}/regenerate-secret/`, form({ csrf_token: admin.token, confirm: 'yes' }), admin.cookie, STAFF)).statusCode, 403, 'staff: regenerate refused')
  t.equal(JSON.stringify(await app.oauth.store.findApplicationById(mine.id)), before, 'the application is untouched')

  const device = await createDeviceApplication(app)
  const { user_code: userCode } = await deviceCode(app, device)
  const entry = await consentToken('device')
  t.equal((await post(app, '/o/device/', form({ csrf_token: entry.token, user_code: userCode }), entry.cookie, STAFF)).statusCode, 403, 'device entry refused')
  t.equal((await post(app, '/o/device/', form({ csrf_token: deviceForm(await getPage(app, '/o/device/', { user: STAFF }, entry.cookie), entry.cookie).csrfToken, user_code: userCode }), entry.cookie, STAFF)).statusCode, 302, 'control: the entry form\'s own token')
})

t.test('behind a TLS-terminating proxy without trustProxy, an https issuer makes the CSRF cookie Secure on every page family', async (t) => {
  const pages = async (app: FastifyInstance, clientId: string): Promise<Array<[string, LightMyRequestResponse]>> => [
    ['consent', await get(app, `/o/authorize/?${form(codeRequest(clientId, { scope: 'openid' }))}`)],
    ['device', await get(app, '/o/device/')],
    ['management', await get(app, '/o/applications/register/')],
    ['staff', await get(app, '/o/admin/access-tokens/', STAFF)],
    ['logout', await get(app, '/o/logout/')],
  ]
  const cookieOf = (res: LightMyRequestResponse): string => {
    const header = res.headers['set-cookie']
    return (Array.isArray(header) ? header : [String(header)]).find((c) => c.startsWith('oat_csrf=')) ?? ''
  }
  const https = await buildPagesApp(t, { oidc: { privateKey: newRsaPem() }, logoutUser: async () => {}, settings: oidcSettings({ deviceFlowEnabled: true, oidcRpInitiatedLogoutEnabled: true }) })
  t.match(https.oauth.settings.issuer, /^https:/)
  const secured = await createCodeApplication(https)
  for (const [name, res] of await pages(https, secured.application.clientId)) {
    t.equal(res.statusCode, 200, `${name}: the page`)
    t.match(cookieOf(res), /^oat_csrf=[A-Za-z0-9_-]{43}; Path=\/o; HttpOnly; SameSite=Lax; Secure$/, `${name}: Secure over a request that arrived as http`)
  }
  // Control: a loopback development issuer over http keeps the cookie usable there.
  const local = await buildPagesApp(t, { oidc: { privateKey: newRsaPem() }, logoutUser: async () => {}, settings: oidcSettings({ deviceFlowEnabled: true, oidcRpInitiatedLogoutEnabled: true, issuer: 'http://127.0.0.1:8000/o' }) })
  const plain = await createCodeApplication(local)
  for (const [name, res] of await pages(local, plain.application.clientId)) {
    t.match(cookieOf(res), /^oat_csrf=[A-Za-z0-9_-]{43}; Path=\/o; HttpOnly; SameSite=Lax$/, `control: ${name} over http with an http issuer`)
  }
})
