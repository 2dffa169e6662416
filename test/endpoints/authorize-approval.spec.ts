// When the consent page may be skipped (skip_authorization, approval_prompt=auto), and the
// implicit grant's fragment response.
import type { FastifyInstance } from 'fastify'
import t, { type Test } from 'tap'
import type { CreatedApplication } from '../../lib/applications.js'
import { tokenChecksum } from '../../lib/tokens/checksum.js'
import {
  buildAuthorizeApp, codeFlowTokens, codeRequest, countRows, createCodeApplication, fetchConsent, getAuthorize, postDecision,
  REDIRECT_URI, redirectBase, redirectParams, type AuthorizeParams,
} from '../helpers/authorize.js'
import { ALICE, createApplication, fixedClock } from '../helpers/index.js'

const BOB = 'user-bob'

/** True when the request went straight to the client with a code (no consent page). */
async function skipsConsent (t: Test, app: FastifyInstance, params: AuthorizeParams, user: string = ALICE.id): Promise<boolean> {
  const res = await getAuthorize(app, params, user)
  if (res.statusCode === 200) {
    t.match(res.body, 'name="allow"', 'the consent page')
    return false
  }
  t.equal(res.statusCode, 302)
  t.equal(redirectBase(res), REDIRECT_URI)
  const params2 = redirectParams(res)
  t.match(params2.code, /^[A-Za-z0-9_-]{43}$/, 'a code')
  t.equal(params2.state, 'xyz')
  return true
}

t.test('UI-4 skip_authorization applications get a code without the consent page, others never do by default', async (t) => {
  const app = await buildAuthorizeApp(t)
  const trusted = await createCodeApplication(app, { skipAuthorization: true })
  const plain = await createCodeApplication(app)
  t.ok(await skipsConsent(t, app, codeRequest(trusted)), 'skip_authorization')
  t.ok(await skipsConsent(t, app, codeRequest(trusted, { approval_prompt: 'force' })), 'even with approval_prompt=force (DOT parity)')
  t.notOk(await skipsConsent(t, app, codeRequest(plain)), 'an ordinary application')
  // The code is as good as an approved one.
  await codeFlowTokens(app, trusted)
  t.equal(countRows(t, 'oauth2_accesstoken'), 1)
})

t.test('skip_authorization still needs a logged-in user', async (t) => {
  const app = await buildAuthorizeApp(t)
  const trusted = await createCodeApplication(app, { skipAuthorization: true })
  const res = await getAuthorize(app, codeRequest(trusted), null)
  t.equal(res.statusCode, 302)
  t.match(String(res.headers.location), /^\/accounts\/login\/\?next=/)
  t.equal(countRows(t, 'oauth2_grant'), 0)
})

t.test('approval_prompt=auto skips consent for a confidential client when the user holds a token covering the scopes', async (t) => {
  const app = await buildAuthorizeApp(t)
  const client = await createCodeApplication(app)
  t.notOk(await skipsConsent(t, app, codeRequest(client, { approval_prompt: 'auto', scope: 'read' })), 'no token yet: consent')
  await codeFlowTokens(app, client, { scope: 'read' })

  t.ok(await skipsConsent(t, app, codeRequest(client, { approval_prompt: 'auto', scope: 'read' })), 'same scope')
  t.notOk(await skipsConsent(t, app, codeRequest(client, { approval_prompt: 'auto', scope: 'read write' })), 'UI-4: a wider scope asks again')
  t.notOk(await skipsConsent(t, app, codeRequest(client, { approval_prompt: 'auto' })), 'the defaults (read write) are wider too')
  t.notOk(await skipsConsent(t, app, codeRequest(client, { scope: 'read' })), 'requestApprovalPrompt defaults to force')
  t.notOk(await skipsConsent(t, app, codeRequest(client, { approval_prompt: 'force', scope: 'read' })), 'explicit force')
  t.notOk(await skipsConsent(t, app, codeRequest(client, { approval_prompt: 'auto', scope: 'read' }), BOB), 'another user\'s token does not count')

  const other = await createCodeApplication(app)
  t.notOk(await skipsConsent(t, app, codeRequest(other, { approval_prompt: 'auto', scope: 'read' })), 'another client\'s token does not count')
})

t.test('approval_prompt=auto with a narrower scope than the token held skips consent', async (t) => {
  const app = await buildAuthorizeApp(t)
  const client = await createCodeApplication(app)
  await codeFlowTokens(app, client, { scope: 'read write' })
  t.ok(await skipsConsent(t, app, codeRequest(client, { approval_prompt: 'auto', scope: 'write' })))
})

t.test('UI-4 approval_prompt=auto never skips consent for a public client', async (t) => {
  const app = await buildAuthorizeApp(t)
  const client = await createCodeApplication(app, { clientType: 'public' })
  await codeFlowTokens(app, client, { scope: 'read' })
  t.equal(countRows(t, 'oauth2_accesstoken'), 1, 'the user approved read before')
  t.notOk(await skipsConsent(t, app, codeRequest(client, { approval_prompt: 'auto', scope: 'read' })), 'asked again (RFC 8252 §8.6)')
})

t.test('approval_prompt=auto ignores expired and revoked tokens', async (t) => {
  const clock = fixedClock()
  const app = await buildAuthorizeApp(t, { clock, settings: { accessTokenExpireSeconds: 600 } })
  const client = await createCodeApplication(app)
  const tokens = await codeFlowTokens(app, client, { scope: 'read' })
  t.ok(await skipsConsent(t, app, codeRequest(client, { approval_prompt: 'auto', scope: 'read' })), 'while valid')
  clock.advance(600)
  t.notOk(await skipsConsent(t, app, codeRequest(client, { approval_prompt: 'auto', scope: 'read' })), 'expired')

  clock.advance(-600)
  const row = await app.oauth.store.findAccessToken(tokenChecksum(tokens.access_token))
  if (row === null) throw new Error('token not stored')
  await app.oauth.store.revokeAccessToken(row.id, clock.now())
  t.notOk(await skipsConsent(t, app, codeRequest(client, { approval_prompt: 'auto', scope: 'read' })), 'revoked')
})

t.test('requestApprovalPrompt: auto is the default prompt, and the query can force consent', async (t) => {
  const app = await buildAuthorizeApp(t, { settings: { requestApprovalPrompt: 'auto' } })
  const client = await createCodeApplication(app)
  await codeFlowTokens(app, client, { scope: 'read' })
  t.ok(await skipsConsent(t, app, codeRequest(client, { scope: 'read' })), 'the setting applies')
  t.notOk(await skipsConsent(t, app, codeRequest(client, { scope: 'read', approval_prompt: 'force' })), 'the query overrides it')
})

t.test('a skipped consent issues a code that exchanges like an approved one', async (t) => {
  const app = await buildAuthorizeApp(t, { settings: { requestApprovalPrompt: 'auto' } })
  const client = await createCodeApplication(app)
  await codeFlowTokens(app, client, { scope: 'read' })
  const again = await codeFlowTokens(app, client, { scope: 'read' })
  t.equal(again.scope, 'read')
  t.ok(again.refresh_token)
})

async function implicitSetup (t: Test, overrides: Parameters<typeof createApplication>[1] = {}): Promise<{ app: FastifyInstance, created: CreatedApplication }> {
  const app = await buildAuthorizeApp(t, { settings: { implicitGrantEnabled: true } })
  app.get('/api/me', { onRequest: app.oauth.protect() }, async (request) => ({ user: request.accessToken?.userId, scopes: request.accessToken?.scopes }))
  const created = await createApplication(app, { clientType: 'public', authorizationGrantType: 'implicit', redirectUris: [REDIRECT_URI], ...overrides })
  return { app, created }
}

function implicitRequest (created: CreatedApplication, extra: AuthorizeParams = {}): AuthorizeParams {
  return { response_type: 'token', client_id: created.application.clientId, redirect_uri: REDIRECT_URI, state: 'xyz', ...extra }
}

t.test('implicit grant: the token comes in the fragment with token_type, expires_in, scope and state, and works', async (t) => {
  const { app, created } = await implicitSetup(t)
  const consent = await fetchConsent(app, implicitRequest(created, { scope: 'read' }))
  t.equal(consent.fields.response_type, 'token')
  const res = await postDecision(app, consent)
  t.equal(res.statusCode, 302)
  const location = String(res.headers.location)
  t.ok(location.startsWith(`${REDIRECT_URI}#`), 'nothing in the query, everything in the fragment (RFC 6749 §4.2.2)')
  const fragment = redirectParams(res, 'fragment')
  t.same(Object.keys(fragment).sort(), ['access_token', 'expires_in', 'scope', 'state', 'token_type'], 'no refresh token (§4.2.2)')
  t.match(fragment.access_token, /^[A-Za-z0-9_-]{43}$/)
  t.equal(fragment.token_type, 'Bearer')
  t.equal(fragment.expires_in, '36000')
  t.equal(fragment.scope, 'read')
  t.equal(fragment.state, 'xyz')
  t.equal(countRows(t, 'oauth2_refreshtoken'), 0, 'no refresh token stored')
  t.equal(countRows(t, 'oauth2_grant'), 0, 'no code stored')

  const me = await app.inject({ method: 'GET', url: '/api/me', headers: { authorization: `Bearer ${fragment.access_token ?? ''}` } })
  t.equal(me.statusCode, 200)
  t.same(me.json(), { user: ALICE.id, scopes: ['read'] }, 'the token speaks for the user who approved')
})

t.test('implicit grant: deny puts access_denied in the fragment; PKCE is not asked for', async (t) => {
  const { app, created } = await implicitSetup(t)
  const consent = await fetchConsent(app, implicitRequest(created))
  const res = await postDecision(app, consent, { allow: false })
  t.equal(res.statusCode, 302)
  t.ok(String(res.headers.location).startsWith(`${REDIRECT_URI}#`))
  t.same(redirectParams(res, 'fragment'), { error: 'access_denied', error_description: 'The resource owner denied the request.', state: 'xyz' })
  t.equal(countRows(t, 'oauth2_accesstoken'), 0)
})

t.test('implicit grant: errors go to the fragment, and a registered query is kept', async (t) => {
  const registered = 'https://client.example.com/cb?tenant=a'
  const { app, created } = await implicitSetup(t, { redirectUris: [registered] })
  const bad = await getAuthorize(app, { ...implicitRequest(created), redirect_uri: registered, scope: 'nope' })
  t.equal(bad.statusCode, 302)
  t.ok(String(bad.headers.location).startsWith(`${registered}#`))
  t.equal(redirectParams(bad, 'fragment').error, 'invalid_scope')

  const consent = await fetchConsent(app, { ...implicitRequest(created), redirect_uri: registered })
  const res = await postDecision(app, consent)
  t.ok(String(res.headers.location).startsWith(`${registered}#access_token=`))
  t.same(redirectParams(res), { tenant: 'a' }, 'the query is the registered one only')
})

t.test('implicit grant with skip_authorization answers the GET directly', async (t) => {
  const { app, created } = await implicitSetup(t, { skipAuthorization: true })
  const res = await getAuthorize(app, implicitRequest(created))
  t.equal(res.statusCode, 302)
  const fragment = redirectParams(res, 'fragment')
  t.equal(fragment.scope, 'read write', 'the default scopes')
  t.ok(fragment.access_token)
})
