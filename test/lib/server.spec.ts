// The authorization server without Fastify: every endpoint the views serve is a method of
// `OAuthServer`, from a plain `OAuthRequest` to an `OAuthResponse`, and its context is on no
// public property.
import t, { type Test } from 'tap'
import type { OAuthRequest } from '../../lib/request.js'
import { createOAuthServer, serverContext, type OAuthServer } from '../../lib/server.js'
import { openStore } from '../../lib/store/open.js'
import { testHasher } from '../helpers/index.js'

/** A form POST as the views build it. */
function post (body: Record<string, string>, headers: Record<string, string> = {}): OAuthRequest {
  return { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, query: {}, body, duplicated: new Set(), unsupportedBody: false }
}

function basic (id: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`
}

async function server (t: Test, settings = {}): Promise<OAuthServer> {
  const store = await openStore(':memory:', { migrate: true })
  const built = createOAuthServer({ store, hasher: testHasher, settings })
  t.teardown(async () => { built.close(); await store.close() })
  return built
}

t.test('token, introspection and revocation through the server alone', async (t) => {
  const oauth = await server(t)
  const { application, clientSecret } = await oauth.createApplication({ clientType: 'confidential', authorizationGrantType: 'client-credentials', allowIntrospection: true })
  const authorization = basic(application.clientId, clientSecret ?? '')
  const issued = await oauth.token(post({ grant_type: 'client_credentials', scope: 'read' }, { authorization }))
  t.equal(issued.status, 200)
  const token = (issued.body as { access_token: string }).access_token
  const active = async (): Promise<unknown> => (await oauth.introspect(post({ token }, { authorization }))).body
  t.match(await active(), { active: true, scope: 'read', client_id: application.clientId })
  t.equal((await oauth.revoke(post({ token }, { authorization }))).status, 200)
  t.same(await active(), { active: false })
  // OAuth failures of the token endpoint resolve as RFC 6749 §5.2 answers.
  const refused = await oauth.token(post({ grant_type: 'client_credentials' }, { authorization: basic(application.clientId, 'wrong') }))
  t.equal(refused.status, 401)
  t.match(refused.body, { error: 'invalid_client' })
})

t.test('the context is on no public property, and the server carries it for the toolkit\'s tests', async (t) => {
  const oauth = await server(t)
  t.notOk('context' in oauth, 'no context property')
  t.notOk(Object.keys(oauth).some((key) => /context/i.test(key)), 'no property names one')
  t.equal(serverContext(oauth).store, oauth.store)
  t.equal(serverContext({ ...oauth }).store, oauth.store, 'a spread copy (the Fastify toolkit) keeps it')
  const lookalike = Object.fromEntries(Object.entries(oauth)) as unknown as OAuthServer
  t.throws(() => serverContext(lookalike), TypeError, 'an object that only looks like a server has none')
})

t.test('endpoints that must name the issuer need one: the request\'s, else the setting', async (t) => {
  const oauth = await server(t, { deviceFlowEnabled: true })
  const noIssuer = { name: 'ImproperlyConfiguredError', code: 'OAT_ERR_OPTIONS', message: /deviceAuthorization\(\) needs an issuer/ }
  await t.rejects(oauth.deviceAuthorization(post({ client_id: 'x' })), noIssuer)
  const { application } = await oauth.createApplication({ clientType: 'public', authorizationGrantType: 'urn:ietf:params:oauth:grant-type:device_code' })
  const answered = await oauth.deviceAuthorization(post({ client_id: application.clientId }), { issuer: 'https://auth.example.com/o' })
  t.match(answered.body, { verification_uri: 'https://auth.example.com/o/device/' })
  const configured = await server(t, { deviceFlowEnabled: true, issuer: 'https://issuer.example.com/o' })
  const other = await configured.createApplication({ clientType: 'public', authorizationGrantType: 'urn:ietf:params:oauth:grant-type:device_code' })
  t.match((await configured.deviceAuthorization(post({ client_id: other.application.clientId }))).body, { verification_uri: 'https://issuer.example.com/o/device/' })
})
