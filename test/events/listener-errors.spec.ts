// A listener that throws or rejects never breaks the request that fired the event, never
// silences the listeners after it, and is reported on `error` with the event's name (which the
// plugin logs with the event's name).
import { Writable } from 'node:stream'
import Fastify from 'fastify'
import t from 'tap'
import { fastifyOAuthToolkit, oauthRoutes } from '../../index.js'
import type { ToolkitEventName } from '../../lib/context.js'
import { TOOLKIT_EVENT_NAMES } from '../../lib/events.js'
import { codeFlowTokens, createCodeApplication, getAuthorize, codeRequest, LOGIN_OPTIONS } from '../helpers/authorize.js'
import { basicAuth, buildApp, createClient, FORM, form, postToken, testHasher } from '../helpers/index.js'
import { passwordGrantOptions, passwordTokens } from '../helpers/password-grant.js'

const NEW_EVENTS = TOOLKIT_EVENT_NAMES.filter((name) => !['appAuthorized', 'logout', 'backchannelLogout', 'staffAction'].includes(name))

t.test('throwing and rejecting listeners on every new event: every request still succeeds, each failure is reported with its event', async (t) => {
  const app = await buildApp(t, passwordGrantOptions({ ...LOGIN_OPTIONS, settings: { passwordGrantEnabled: true, dcrEnabled: true, dcrRegistrationPolicy: 'open' } }))
  const reported: Array<{ message: string, event: ToolkitEventName | undefined }> = []
  app.oauth.events.on('error', (err, event) => { reported.push({ message: (err as Error).message, event }) })
  const after: ToolkitEventName[] = []
  for (const name of NEW_EVENTS) {
    app.oauth.events.on(name, () => { throw new Error(`sync ${name}`) })
    app.oauth.events.on(name, async () => { throw new Error(`async ${name}`) })
    app.oauth.events.on(name, () => { after.push(name) })
  }
  const client = await createClient(app)
  t.equal((await postToken(app, { grant_type: 'client_credentials' }, { authorization: client.authorization })).statusCode, 200, 'tokenIssued')
  t.equal((await postToken(app, { grant_type: 'client_credentials' }, { authorization: basicAuth(client.clientId, 'wrong') })).statusCode, 401, 'clientAuthenticationFailed')
  const tokens = await passwordTokens(app)
  const auth = { authorization: basicAuth(tokens.clientId, tokens.clientSecret) }
  t.equal((await postToken(app, { grant_type: 'refresh_token', refresh_token: tokens.refreshToken }, auth)).statusCode, 200, 'tokenRefreshed')
  t.equal((await postToken(app, { grant_type: 'refresh_token', refresh_token: tokens.refreshToken }, auth)).statusCode, 400, 'refreshTokenReuseDetected, tokenRevoked: the ordinary invalid_grant')
  const code = await createCodeApplication(app)
  await codeFlowTokens(app, code)
  t.equal((await getAuthorize(app, codeRequest(code))).statusCode, 200, 'the consent page after an approval')
  const registered = await app.inject({ method: 'POST', url: '/o/register/', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ redirect_uris: ['https://client.example.com/cb'] }) })
  t.equal(registered.statusCode, 201, 'clientRegistered')
  t.equal(await app.oauth.deleteApplication(code.application.id), true, 'clientDeleted')
  const revoked = await app.inject({ method: 'POST', url: '/o/revoke-token/', headers: { ...FORM, ...auth }, payload: form({ token: tokens.accessToken }) })
  t.equal(revoked.statusCode, 200)
  await new Promise((resolve) => setImmediate(resolve))
  const fired = new Set(after)
  for (const name of ['tokenIssued', 'tokenRefreshed', 'tokenRevoked', 'refreshTokenReuseDetected', 'authorizationApproved', 'clientAuthenticationFailed', 'clientRegistered', 'clientDeleted'] as const) {
    t.ok(fired.has(name), `${name}: the listener after the failing ones ran`)
    t.ok(reported.some((r) => r.event === name && r.message === `sync ${name}`), `${name}: the throw was reported with the event name`)
    t.ok(reported.some((r) => r.event === name && r.message === `async ${name}`), `${name}: the rejection was reported, not left unhandled`)
  }
})

t.test('the plugin logs a failing listener with the name of its event and the error', async (t) => {
  const lines: string[] = []
  const app = Fastify({ logger: { level: 'error', stream: new Writable({ write (chunk: Buffer, _enc, done) { lines.push(chunk.toString()); done() } }) } })
  t.teardown(() => app.close())
  await app.register(fastifyOAuthToolkit, { database: ':memory:', migrate: true, hasher: testHasher })
  await app.register(oauthRoutes, { prefix: '/o' })
  app.oauth.events.on('tokenIssued', () => { throw new Error('audit sink down') })
  const client = await createClient(app)
  t.equal((await postToken(app, { grant_type: 'client_credentials' }, { authorization: client.authorization })).statusCode, 200)
  const logged = lines.map((line) => JSON.parse(line) as Record<string, unknown>)
  t.match(logged, [{ level: 50, msg: 'fastify-oauth-toolkit event listener failed', event: 'tokenIssued', err: { message: 'audit sink down' } }])
})

t.test('an error listener that throws has nowhere to report to: still no failure', async (t) => {
  const app = await buildApp(t)
  app.oauth.events.on('error', () => { throw new Error('broken error listener') })
  app.oauth.events.on('tokenIssued', () => { throw new Error('broken') })
  const client = await createClient(app)
  t.equal((await postToken(app, { grant_type: 'client_credentials' }, { authorization: client.authorization })).statusCode, 200)
})
