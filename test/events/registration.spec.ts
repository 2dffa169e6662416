// clientRegistered, clientUpdated and clientDeleted, with their source: dynamic registration
// (RFC 7591/7592), the management pages, the createapplication command and host code.
import t from 'tap'
import { oauthRoutes } from '../../index.js'
import { asUser, buildAuthorizeApp } from '../helpers/authorize.js'
import { ALICE, buildApp, fixedClock, FORM, form } from '../helpers/index.js'
import { pageForm, registerThroughPages, submitPage } from '../helpers/management.js'
import { runCli } from '../../lib/cli/run.js'
import type { ClientRegisteredEvent } from '../../lib/event-types.js'
import { cheapHasher, migratedDatabase } from '../cli/helpers.js'
import { namesOf, payloadsOf, recordEvents } from './support.js'

const JSON_HEADERS = { 'content-type': 'application/json' }
const CB = 'https://client.example.com/cb'

t.test('dynamic registration: registered, updated (secret or not) and deleted, source dynamic-registration', async (t) => {
  const clock = fixedClock('2026-09-01T00:00:00.000Z')
  const app = await buildApp(t, { clock, settings: { dcrEnabled: true, dcrRegistrationPolicy: 'open' } })
  const seen = recordEvents(app)
  const created = await app.inject({ method: 'POST', url: '/o/register/', headers: JSON_HEADERS, payload: JSON.stringify({ redirect_uris: [CB], token_endpoint_auth_method: 'none' }) })
  t.equal(created.statusCode, 201)
  const body = created.json() as { client_id: string, registration_access_token: string }
  const application = await app.oauth.store.findApplicationByClientId(body.client_id)
  t.same(payloadsOf(seen, 'clientRegistered'), [{
    at: clock.now(),
    source: 'dynamic-registration',
    applicationId: application?.id,
    clientId: body.client_id,
    clientType: 'public',
    authorizationGrantType: 'authorization-code',
    tokenEndpointAuthMethod: 'none',
    userId: null,
    selfRegistered: true,
  }])
  const auth = { authorization: `Bearer ${body.registration_access_token}` }
  const updated = await app.inject({ method: 'PUT', url: `/o/register/${body.client_id}/`, headers: { ...JSON_HEADERS, ...auth }, payload: JSON.stringify({ client_id: body.client_id, redirect_uris: [CB], token_endpoint_auth_method: 'client_secret_basic' }) })
  t.equal(updated.statusCode, 200, updated.body)
  t.same(payloadsOf(seen, 'clientUpdated'), [{ at: clock.now(), source: 'dynamic-registration', applicationId: application?.id, clientId: body.client_id, secretChanged: true }], 'public to confidential: a new secret')
  const token = (updated.json() as { registration_access_token: string }).registration_access_token
  t.equal((await app.inject({ method: 'DELETE', url: `/o/register/${body.client_id}/`, headers: { authorization: `Bearer ${token}` } })).statusCode, 204)
  t.same(payloadsOf(seen, 'clientDeleted'), [{ at: clock.now(), source: 'dynamic-registration', applicationId: application?.id, clientId: body.client_id }])
  t.same(namesOf(seen), ['clientRegistered', 'clientUpdated', 'clientDeleted'])
})

t.test('management pages: create, update, regenerate the secret, delete, source management', async (t) => {
  const app = await buildAuthorizeApp(t, { prefix: false })
  await app.register(oauthRoutes, { prefix: '/o', managementPages: true })
  const seen = recordEvents(app)
  const page = await registerThroughPages(app, { clientType: 'confidential', authorizationGrantType: 'client-credentials', redirectUris: '' })
  t.match(payloadsOf(seen, 'clientRegistered'), [{ source: 'management', applicationId: page.id, clientId: page.clientId, userId: ALICE.id, selfRegistered: true }])
  const base = `/o/applications/${page.id}/`
  const edit = await submitPage(app, `${base}update/`, `${base}update/`, { name: 'Renamed', clientType: 'confidential', authorizationGrantType: 'client-credentials', redirectUris: '', postLogoutRedirectUris: '', allowedOrigins: '', algorithm: '' })
  t.equal(edit.statusCode, 302)
  const regenerate = await submitPage(app, base, `${base}regenerate-secret/`, {})
  t.equal(regenerate.statusCode, 200)
  t.match(payloadsOf(seen, 'clientUpdated'), [
    { source: 'management', applicationId: page.id, secretChanged: false },
    { source: 'management', applicationId: page.id, secretChanged: true },
  ])
  const confirm = await app.inject({ url: `${base}delete/`, headers: asUser(ALICE.id) })
  const state = pageForm(confirm)
  const deleted = await app.inject({ method: 'POST', url: `${base}delete/`, payload: form({ csrf_token: state.token }), headers: asUser(ALICE.id, { ...FORM, cookie: state.cookie }) })
  t.equal(deleted.statusCode, 302)
  t.match(payloadsOf(seen, 'clientDeleted'), [{ source: 'management', applicationId: page.id, clientId: page.clientId }])
  t.equal(await app.oauth.store.findApplicationById(page.id), null)
})

t.test('host code: createApplication, updateApplication, regenerateClientSecret, deleteApplication, source api by default', async (t) => {
  const app = await buildApp(t)
  const seen = recordEvents(app)
  const { application } = await app.oauth.createApplication({ clientType: 'confidential', authorizationGrantType: 'client-credentials', name: 'Backend' })
  await app.oauth.updateApplication(application.id, { clientType: 'confidential', authorizationGrantType: 'client-credentials', name: 'Backend 2' })
  await app.oauth.regenerateClientSecret(application.id)
  t.equal(await app.oauth.deleteApplication(application.id), true)
  t.equal(await app.oauth.deleteApplication(application.id), false, 'already gone')
  t.same(namesOf(seen), ['clientRegistered', 'clientUpdated', 'clientUpdated', 'clientDeleted'], 'a deletion of nothing reports nothing')
  t.ok(seen.every((r) => (r.payload as { source: string }).source === 'api'))
  await app.oauth.createApplication({ clientType: 'public', authorizationGrantType: 'client-credentials' }).catch(() => null)
  t.equal(payloadsOf(seen, 'clientRegistered').length, 1, 'a refused application is not registered')
})

t.test('createapplication (CLI): clientRegistered with source cli, for a program that runs the CLI in-process', async (t) => {
  const path = await migratedDatabase(t.testdir())
  const events: ClientRegisteredEvent[] = []
  let out = ''
  const code = await runCli(['createapplication', 'confidential', 'client-credentials', '--name', 'Batch', '--database', path], {
    stdout: { write: (s: string) => { out += s } }, stderr: { write: () => {} }, env: {},
  }, { hasher: cheapHasher, listen: (emitter) => { emitter.on('clientRegistered', (event) => { events.push(event) }) } })
  t.equal(code, 0)
  const clientId = /^ {2}client_id: +(\S+)$/m.exec(out)?.[1]
  t.match(events, [{ source: 'cli', clientId, clientType: 'confidential', authorizationGrantType: 'client-credentials' }])
})
