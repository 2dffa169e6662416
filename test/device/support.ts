// Shared by the device flow tests. Not a test file: tap runs *.test.ts only.
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import type { Test } from 'tap'
import type { ApplicationInput, CreatedApplication } from '../../lib/applications.js'
import type { DeviceAuthorizationResponseBody } from '../../lib/endpoints/device-authorization.js'
import { asUser, buildAuthorizeApp, csrfCookieOf, unescapeHtml } from '../helpers/authorize.js'
import { ALICE, basicAuth, createApplication, FORM, form, postToken, type BuildAppOptions } from '../helpers/index.js'

/** The RFC 8628 grant type, as applications and the token endpoint spell it. */
export const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code'

/** A user code as shown: two groups of four from RFC 8628 §6.1's consonant alphabet. */
export const USER_CODE_SHAPE = /^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/

/** The RFC 8628 §3.2 body, as the endpoint declares it. */
export type DeviceAuthorizationBody = DeviceAuthorizationResponseBody

/** `buildAuthorizeApp` (x-test-user logins) with the device flow on. */
export async function buildDeviceApp (t: Test, options: BuildAppOptions = {}): Promise<FastifyInstance> {
  const { settings, ...rest } = options
  return await buildAuthorizeApp(t, { ...rest, settings: { deviceFlowEnabled: true, ...settings } })
}

/** A public device-code application (a TV or CLI holds no secret). */
export async function createDeviceApplication (app: FastifyInstance, overrides: Partial<ApplicationInput> = {}): Promise<CreatedApplication> {
  return await createApplication(app, { clientType: 'public', authorizationGrantType: DEVICE_GRANT, name: 'Living-room TV', ...overrides })
}

/** Client authentication as a form field (public) or Basic header (confidential). */
function clientAuth (created: CreatedApplication): { params: Record<string, string>, headers: Record<string, string> } {
  const { clientId } = created.application
  return created.clientSecret === null
    ? { params: { client_id: clientId }, headers: {} }
    : { params: {}, headers: { authorization: basicAuth(clientId, created.clientSecret) } }
}

/** `POST /o/device-authorization/` for `created`. */
export async function requestDeviceCode (app: FastifyInstance, created: CreatedApplication, extra: Record<string, string | readonly string[]> = {}): Promise<LightMyRequestResponse> {
  const auth = clientAuth(created)
  return await app.inject({ method: 'POST', url: '/o/device-authorization/', payload: form({ ...auth.params, ...extra }), headers: { ...FORM, ...auth.headers } })
}

/** A device authorization that must succeed. */
export async function deviceCode (app: FastifyInstance, created: CreatedApplication, extra: Record<string, string | readonly string[]> = {}): Promise<DeviceAuthorizationBody> {
  const res = await requestDeviceCode(app, created, extra)
  if (res.statusCode !== 200) throw new Error(`device authorization failed: ${res.body}`)
  return res.json<DeviceAuthorizationBody>()
}

/** The device polls the token endpoint once. */
export async function poll (app: FastifyInstance, created: CreatedApplication, code: string): Promise<LightMyRequestResponse> {
  const auth = clientAuth(created)
  return await postToken(app, { grant_type: DEVICE_GRANT, device_code: code, ...auth.params }, auth.headers)
}

/** A page's form: its action, CSRF token and the browser's CSRF cookie. */
export interface PageForm {
  readonly action: string
  readonly csrfToken: string
  readonly cookie: string
}

/** Reads the form of a device page; throws when there is none. */
export function pageForm (res: LightMyRequestResponse, cookie?: string): PageForm {
  const action = /<form method="post" action="([^"]*)">/.exec(res.body)?.[1]
  const token = /<input type="hidden" name="csrf_token" value="([^"]*)">/.exec(res.body)?.[1]
  const set = csrfCookieOf(res) ?? cookie
  if (action === undefined || token === undefined || set === undefined) throw new Error(`no form on the page (${res.statusCode}): ${res.body}`)
  return { action: unescapeHtml(action), csrfToken: unescapeHtml(token), cookie: set }
}

/** Options of the browser helpers. */
export interface BrowserOptions {
  /** Default `ALICE.id`; `null` is anonymous. */
  user?: string | null
  /** The client's IP address (the rate limits count per IP). */
  ip?: string
}

/** GETs a device page as `user`. */
export async function getPage (app: FastifyInstance, url: string, options: BrowserOptions = {}, cookie?: string): Promise<LightMyRequestResponse> {
  const user = options.user === undefined ? ALICE.id : options.user
  return await app.inject({ method: 'GET', url, headers: asUser(user, cookie === undefined ? {} : { cookie }), remoteAddress: options.ip ?? '127.0.0.1' })
}

/** POSTs `fields` (plus the form's CSRF token) to a form, as `user`. */
export async function postForm (app: FastifyInstance, pf: PageForm, fields: Record<string, string>, options: BrowserOptions = {}): Promise<LightMyRequestResponse> {
  const user = options.user === undefined ? ALICE.id : options.user
  return await app.inject({
    method: 'POST',
    url: pf.action,
    payload: form({ csrf_token: pf.csrfToken, ...fields }),
    headers: asUser(user, { ...FORM, cookie: pf.cookie }),
    remoteAddress: options.ip ?? '127.0.0.1',
  })
}

/** Opens `device/` and submits `userCode` as `user`: the response to the POST. */
export async function enterCode (app: FastifyInstance, userCode: string, options: BrowserOptions = {}): Promise<LightMyRequestResponse> {
  const page = await getPage(app, '/o/device/', options)
  return await postForm(app, pageForm(page), { user_code: userCode }, options)
}

/** Enters the code, opens the confirm page and approves (or denies); the response to the decision. */
export async function decide (app: FastifyInstance, userCode: string, allow: boolean, options: BrowserOptions = {}): Promise<LightMyRequestResponse> {
  const entered = await enterCode(app, userCode, options)
  if (entered.statusCode !== 302) throw new Error(`code entry failed (${entered.statusCode}): ${entered.body}`)
  const confirm = await getPage(app, String(entered.headers.location), options)
  return await postForm(app, pageForm(confirm), allow ? { allow: 'Authorize' } : { deny: '1' }, options)
}
