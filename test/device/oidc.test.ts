// OpenID Connect on the device flow: `openid` in the scope yields an ID token with the tokens.
import t from 'tap'
import { buildOidcApp, verifyIdToken } from '../oidc/support.js'
import { fixedClock } from '../helpers/index.js'
import { createDeviceApplication, decide, deviceCode, poll } from './support.js'

t.test('with openid, the device gets an ID token for the approving user, with auth_time; without it, none', async (t) => {
  const clock = fixedClock()
  const app = await buildOidcApp(t, { clock, settings: { deviceFlowEnabled: true } })
  const tv = await createDeviceApplication(app)
  const jwks = (await app.inject({ method: 'GET', url: '/o/.well-known/jwks.json' })).json<{ keys: unknown[] }>()

  const signIn = await deviceCode(app, tv, { scope: 'openid read' })
  await decide(app, signIn.user_code, true, { user: 'user-oidc' })
  const res = await poll(app, tv, signIn.device_code)
  t.equal(res.statusCode, 200)
  const body = res.json<{ id_token?: string, scope: string }>()
  t.equal(body.scope, 'openid read')
  t.ok(body.id_token, 'an ID token')
  const { payload } = await verifyIdToken(jwks, body.id_token ?? '', tv.application.clientId, clock.now())
  t.equal(payload.sub, 'user-oidc')
  t.equal(payload.auth_time, Math.floor(clock.now().getTime() / 1000), 'auth_time: when the user approved (no authTime from resolveUser)')
  t.ok(typeof payload.at_hash === 'string')
  t.equal(payload.nonce, undefined)

  const plain = await deviceCode(app, tv, { scope: 'read' })
  await decide(app, plain.user_code, true, { user: 'user-oidc' })
  t.equal((await poll(app, tv, plain.device_code)).json<{ id_token?: string }>().id_token, undefined, 'no openid, no ID token')
})
