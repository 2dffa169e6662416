// authorizationApproved and authorizationDenied: the consent page, skipped consent
// (skipAuthorization, approval_prompt=auto) and the device flow's confirmation page.
import t from 'tap'
import { buildAuthorizeApp, codeFlowTokens, codeRequest, createCodeApplication, getAuthorize, obtainCode, parseConsent, postDecision } from '../helpers/authorize.js'
import { ALICE, fixedClock } from '../helpers/index.js'
import { buildDeviceApp, createDeviceApplication, decide, deviceCode } from '../device/support.js'
import { namesOf, payloadsOf, recordEvents } from './support.js'

const SCOPES = { read: 'Read', write: 'Write' }

t.test('consent page, approve: authorizationApproved via consent with scopes and response type', async (t) => {
  const clock = fixedClock('2026-05-01T00:00:00.000Z')
  const app = await buildAuthorizeApp(t, { clock, settings: { scopes: SCOPES } })
  const created = await createCodeApplication(app)
  const seen = recordEvents(app)
  await obtainCode(app, codeRequest(created, { scope: 'read write' }))
  t.same(payloadsOf(seen, 'authorizationApproved'), [{
    at: clock.now(),
    applicationId: created.application.id,
    clientId: created.application.clientId,
    userId: ALICE.id,
    scopes: ['read', 'write'],
    resources: [],
    via: 'consent',
    responseType: 'code',
  }])
})

t.test('consent page, deny: authorizationDenied via consent, nothing approved', async (t) => {
  const app = await buildAuthorizeApp(t, { settings: { scopes: SCOPES } })
  const created = await createCodeApplication(app)
  const seen = recordEvents(app)
  const res = await postDecision(app, parseConsent(await getAuthorize(app, codeRequest(created, { scope: 'read' }))), { allow: false })
  t.equal(res.statusCode, 302)
  t.same(namesOf(seen), ['authorizationDenied'])
  t.match(payloadsOf(seen, 'authorizationDenied'), [{ applicationId: created.application.id, clientId: created.application.clientId, userId: ALICE.id, scopes: ['read'], via: 'consent' }])
})

t.test('showing the consent page decides nothing', async (t) => {
  const app = await buildAuthorizeApp(t)
  const created = await createCodeApplication(app)
  const seen = recordEvents(app)
  t.equal((await getAuthorize(app, codeRequest(created))).statusCode, 200)
  t.same(seen, [])
})

t.test('skipAuthorization: approved via skip-authorization, no page shown', async (t) => {
  const app = await buildAuthorizeApp(t)
  const created = await createCodeApplication(app, { skipAuthorization: true })
  const seen = recordEvents(app)
  t.equal((await getAuthorize(app, codeRequest(created))).statusCode, 302)
  t.match(payloadsOf(seen, 'authorizationApproved'), [{ via: 'skip-authorization', userId: ALICE.id }])
})

t.test('approval_prompt=auto with an earlier token: approved via previous-consent', async (t) => {
  const app = await buildAuthorizeApp(t, { settings: { scopes: SCOPES } })
  const created = await createCodeApplication(app)
  await codeFlowTokens(app, created, { scope: 'read' })
  const seen = recordEvents(app)
  t.equal((await getAuthorize(app, codeRequest(created, { scope: 'read', approval_prompt: 'auto' }))).statusCode, 302)
  t.match(payloadsOf(seen, 'authorizationApproved'), [{ via: 'previous-consent', scopes: ['read'] }])
})

t.test('device flow: approve and deny on the confirmation page', async (t) => {
  const app = await buildDeviceApp(t)
  const created = await createDeviceApplication(app)
  const seen = recordEvents(app)
  const approved = await deviceCode(app, created)
  t.equal((await decide(app, approved.user_code, true)).statusCode, 200)
  const denied = await deviceCode(app, created)
  t.equal((await decide(app, denied.user_code, false)).statusCode, 200)
  t.same(namesOf(seen), ['authorizationApproved', 'authorizationDenied'])
  const [yes] = payloadsOf(seen, 'authorizationApproved')
  const [no] = payloadsOf(seen, 'authorizationDenied')
  t.match(yes, { via: 'device', applicationId: created.application.id, clientId: created.application.clientId, userId: ALICE.id, deviceGrantId: Number })
  t.notOk('responseType' in (yes ?? {}))
  t.match(no, { via: 'device', userId: ALICE.id, deviceGrantId: Number })
  t.not(yes?.deviceGrantId, no?.deviceGrantId)
})
