// A Client ID Metadata Document client stored while `cimdEnabled` was on, met by a server that
// has turned it off (two apps on one SQLite file, the same signing key): every endpoint that
// concerns the client by its id refuses it as an unknown client (authorization, PAR, token,
// revocation, introspection, device authorization, the device verification page, RP-initiated
// logout, RFC 7592 management), while the tokens issued before keep verifying until they expire
// or are revoked (docs/cimd.md). The same probes on the server still running with it on pass,
// so each refusal is the policy's, not a broken row's. Also: a stale document whose refetch
// fails is refused at the logout and device verification pages too. No document is served: a
// fresh row is used without a fetch, and the stale one names a loopback address the safe
// outbound client refuses before connecting.
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import t, { type Test } from 'tap'
import { ALICE, basicAuth, bearerWorks, databasePath, fixedClock, form, FORM, postToken, type FixedClock } from '../helpers/index.js'
import { asUser, authorizeUrl, obtainCode, pkcePair, USER_HEADER } from '../helpers/authorize.js'
import { DEVICE_GRANT, enterCode, getPage } from '../device/support.js'
import { buildOidcApp, newRsaPem } from '../oidc/support.js'
import type { ClientAuthenticationFailedEvent } from '../../lib/event-types.js'
import type { Application } from '../../lib/store/types.js'
import type { SettingsInput } from '../../lib/settings.js'

const CLIENT = 'https://notes.example-clients.test/oauth/client.json'
const DEVICE_CLIENT = 'https://tv.example-clients.test/oauth/client.json'
const CALLBACK = 'https://client.example.net/callback'
const BYE = 'https://client.example.net/bye'

const SETTINGS: SettingsInput = { deviceFlowEnabled: true, dcrEnabled: true, dcrRegistrationPolicy: 'open', oidcRpInitiatedLogoutEnabled: true, oidcRpInitiatedLogoutAlwaysPrompt: false }
const logoutUser = (): void => {}

/** A document client's row, as the resolver stores one (public, self-registered, `cimdExpiresAt` set). */
async function storeDocumentClient (app: FastifyInstance, clientId: string, expiresAt: Date, extra: Partial<Application> = {}): Promise<Application> {
  return await app.oauth.store.createApplication({
    clientId,
    clientSecretHash: '',
    clientType: 'public',
    authorizationGrantType: 'authorization-code',
    tokenEndpointAuthMethod: 'none',
    redirectUris: [CALLBACK],
    postLogoutRedirectUris: [BYE],
    allowedOrigins: [],
    name: 'Notes for MCP',
    userId: null,
    skipAuthorization: false,
    algorithm: '',
    selfRegistered: true,
    cimdExpiresAt: expiresAt,
    now: new Date(),
    ...extra,
  })
}

interface Scene {
  /** The server with CIMD on, where the client signed Alice in. */
  readonly on: FastifyInstance
  /** The same database and key, CIMD off. */
  readonly off: FastifyInstance
  readonly clock: FixedClock
  readonly accessToken: string
  readonly refreshToken: string
  readonly idToken: string
  readonly userCode: string
  readonly deviceCode: string
}

/** Alice signs in through the document client while CIMD is on; a device authorization waits; then a second app turns CIMD off. */
async function scene (t: Test): Promise<Scene> {
  const clock = fixedClock('2026-06-01T08:00:00.000Z')
  const key = newRsaPem()
  const on = await buildOidcApp(t, { clock, logoutUser, oidc: { privateKey: key }, settings: { ...SETTINGS, cimdEnabled: true } })
  const database = databasePath(t)
  const expiresAt = new Date(clock.now().getTime() + 3600_000)
  await storeDocumentClient(on, CLIENT, expiresAt)
  await storeDocumentClient(on, DEVICE_CLIENT, expiresAt, { authorizationGrantType: DEVICE_GRANT, redirectUris: [], name: 'Living-room TV' })
  const { verifier, challenge } = pkcePair()
  const code = await obtainCode(on, { response_type: 'code', client_id: CLIENT, redirect_uri: CALLBACK, scope: 'openid read', code_challenge: challenge, code_challenge_method: 'S256' })
  const tokens = await postToken(on, { grant_type: 'authorization_code', client_id: CLIENT, code, redirect_uri: CALLBACK, code_verifier: verifier })
  t.equal(tokens.statusCode, 200, 'the document client signed Alice in while CIMD was on')
  const body = tokens.json<{ access_token: string, refresh_token: string, id_token: string }>()
  const device = await on.inject({ method: 'POST', url: '/o/device-authorization/', headers: FORM, payload: form({ client_id: DEVICE_CLIENT, scope: 'read' }) })
  t.equal(device.statusCode, 200, 'a device authorization was started while CIMD was on')
  const { user_code: userCode, device_code: deviceCode } = device.json<{ user_code: string, device_code: string }>()
  const off = await buildOidcApp(t, { clock, logoutUser, oidc: { privateKey: key }, database, settings: { ...SETTINGS, cimdEnabled: false } })
  return { on, off, clock, accessToken: body.access_token, refreshToken: body.refresh_token, idToken: body.id_token, userCode, deviceCode }
}

const post = async (app: FastifyInstance, url: string, params: Record<string, string>, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> =>
  await app.inject({ method: 'POST', url, headers: { ...FORM, ...headers }, payload: form(params) })

const INVALID_CLIENT = { error: 'invalid_client', error_description: 'Client authentication failed.' }

t.test('cimdEnabled off: every endpoint refuses a document client stored while it was on', async (t) => {
  const s = await scene(t)
  const { challenge } = pkcePair()
  const codeRequest = { response_type: 'code', client_id: CLIENT, redirect_uri: CALLBACK, scope: 'read', code_challenge: challenge, code_challenge_method: 'S256' }

  await t.test('authorization endpoint: the error page, never a redirect', async (t) => {
    const page = await s.off.inject({ url: authorizeUrl(codeRequest), headers: asUser(ALICE.id) })
    t.equal(page.statusCode, 400)
    t.equal(page.headers.location, undefined)
    t.match(page.body, /Invalid client_id/)
    t.equal((await s.on.inject({ url: authorizeUrl(codeRequest), headers: asUser(ALICE.id) })).statusCode, 200, 'with CIMD on: the consent page')
  })

  await t.test('PAR: invalid_client', async (t) => {
    const res = await post(s.off, '/o/par/', codeRequest)
    t.equal(res.statusCode, 401)
    t.same(res.json(), INVALID_CLIENT)
    t.equal((await post(s.on, '/o/par/', codeRequest)).statusCode, 201, 'with CIMD on: pushed')
  })

  await t.test('token endpoint: the refresh token it holds is refused with invalid_client', async (t) => {
    const res = await postToken(s.off, { grant_type: 'refresh_token', client_id: CLIENT, refresh_token: s.refreshToken })
    t.equal(res.statusCode, 401)
    t.same(res.json(), INVALID_CLIENT)
  })

  await t.test('revocation: invalid_client, and the token stays live', async (t) => {
    const res = await post(s.off, '/o/revoke-token/', { client_id: CLIENT, token: s.accessToken })
    t.equal(res.statusCode, 401)
    t.same(res.json(), INVALID_CLIENT)
    t.ok(await bearerWorks(s.off, s.accessToken), 'issued tokens keep verifying until they expire or are revoked')
  })

  await t.test('introspection: invalid_client', async (t) => {
    const res = await post(s.off, '/o/introspect/', { client_id: CLIENT, token: s.accessToken })
    t.equal(res.statusCode, 401)
    t.same(res.json(), INVALID_CLIENT)
  })

  await t.test('device authorization: invalid_client; the device cannot poll either', async (t) => {
    const res = await post(s.off, '/o/device-authorization/', { client_id: DEVICE_CLIENT, scope: 'read' })
    t.equal(res.statusCode, 401)
    t.same(res.json(), INVALID_CLIENT)
    const poll = await postToken(s.off, { grant_type: DEVICE_GRANT, client_id: DEVICE_CLIENT, device_code: s.deviceCode })
    t.equal(poll.statusCode, 401)
    t.same(poll.json(), INVALID_CLIENT)
  })

  await t.test('device verification page: the waiting authorization is not shown for a decision', async (t) => {
    const entered = await enterCode(s.off, s.userCode)
    t.equal(entered.statusCode, 302, 'the code is claimed')
    const confirm = await getPage(s.off, String(entered.headers.location))
    t.equal(confirm.statusCode, 404, 'no consent for a client the server no longer knows')
    t.notMatch(confirm.body, 'Living-room TV')
    const shown = await getPage(s.on, String(entered.headers.location))
    t.equal(shown.statusCode, 200, 'with CIMD on: the same authorization is shown')
    t.match(shown.body, 'Living-room TV')
  })

  await t.test('RP-initiated logout: the client is unknown, by client_id and by id_token_hint; nothing is redirected to it', async (t) => {
    const user = { [USER_HEADER]: ALICE.id }
    const cases: Array<Record<string, string>> = [{ client_id: CLIENT, post_logout_redirect_uri: BYE }, { id_token_hint: s.idToken, post_logout_redirect_uri: BYE }, { client_id: CLIENT }]
    for (const params of cases) {
      const res = await s.off.inject({ url: `/o/logout/?${form(params)}`, headers: user })
      t.equal(res.statusCode, 400, Object.keys(params).join(' + '))
      t.equal(res.headers.location, undefined)
      t.match(res.body, 'Invalid client_id parameter value.')
    }
    const res = await s.on.inject({ url: `/o/logout/?${form({ id_token_hint: s.idToken, post_logout_redirect_uri: BYE })}`, headers: user })
    t.equal(res.statusCode, 302, 'with CIMD on: logged out and sent back')
    t.match(res.headers.location, /^https:\/\/client\.example\.net\/bye/)
  })

  await t.test('RFC 7592 management: the same 401 as any unknown client (a document client was never registered)', async (t) => {
    for (const app of [s.off, s.on]) {
      const res = await app.inject({ url: `/o/register/${encodeURIComponent(CLIENT)}/`, headers: { authorization: 'Bearer whatever' } })
      t.equal(res.statusCode, 401)
      t.equal(res.json<{ error: string }>().error, 'invalid_token')
    }
  })
})

t.test('cimdEnabled off: a failed authentication names no application in its report', async (t) => {
  const s = await scene(t)
  const reports: Array<Pick<ClientAuthenticationFailedEvent, 'clientId' | 'applicationId'>> = []
  const record = (e: ClientAuthenticationFailedEvent): void => { reports.push({ clientId: e.clientId, applicationId: e.applicationId }) }
  s.off.oauth.events.on('clientAuthenticationFailed', record)
  s.on.oauth.events.on('clientAuthenticationFailed', record)
  await post(s.off, '/o/introspect/', { token: 'x' }, { authorization: basicAuth(CLIENT, 'nope') })
  t.same(reports, [{ clientId: CLIENT, applicationId: null }], 'an unknown client, as the endpoint said')
  reports.length = 0
  await post(s.on, '/o/introspect/', { token: 'x' }, { authorization: basicAuth(CLIENT, 'nope') })
  t.equal(reports.length, 1)
  t.type(reports[0]?.applicationId, 'number', 'with CIMD on: the stored client is named')
})

t.test('a stale document that cannot be fetched again is refused at logout and at the device verification page', async (t) => {
  const clock = fixedClock('2026-06-01T08:00:00.000Z')
  // Loopback: the outbound client refuses the address before connecting, so the refetch fails.
  const client = 'https://127.0.0.1/oauth/client.json'
  const tv = 'https://127.0.0.1/oauth/tv.json'
  const app = await buildOidcApp(t, { clock, logoutUser, settings: { ...SETTINGS, cimdEnabled: true } })
  const expiresAt = new Date(clock.now().getTime() + 600_000)
  await storeDocumentClient(app, client, expiresAt)
  await storeDocumentClient(app, tv, expiresAt, { authorizationGrantType: DEVICE_GRANT, redirectUris: [], name: 'Living-room TV' })
  const device = await post(app, '/o/device-authorization/', { client_id: tv, scope: 'read' })
  t.equal(device.statusCode, 200)
  const entered = await enterCode(app, device.json<{ user_code: string }>().user_code)
  const confirmUrl = String(entered.headers.location)
  t.equal((await getPage(app, confirmUrl)).statusCode, 200, 'fresh: shown')
  const logout = `/o/logout/?${form({ client_id: client, post_logout_redirect_uri: BYE })}`
  t.equal((await app.inject({ url: logout, headers: { [USER_HEADER]: ALICE.id } })).statusCode, 200, 'fresh: the logout confirmation page')

  clock.advance(601)
  const stale = await app.inject({ url: logout, headers: { [USER_HEADER]: ALICE.id } })
  t.equal(stale.statusCode, 400, 'stale and not fetchable: the client is unknown at logout')
  t.equal(stale.headers.location, undefined, 'never sent to a post-logout URI the publisher may have withdrawn')
  t.equal((await getPage(app, confirmUrl)).statusCode, 404, 'stale and not fetchable: no consent shown')
  t.not(await app.oauth.store.findApplicationByClientId(client), null, 'the row stays (clearcimdapplications removes it)')
})
