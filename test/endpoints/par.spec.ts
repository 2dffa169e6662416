// RFC 9126 pushed authorization requests: POST {prefix}/par/, and request_uri at authorize/.
import type { FastifyInstance } from 'fastify'
import t from 'tap'
import { oauthMetadata } from '../../index.js'
import type { CreatedApplication } from '../../lib/applications.js'
import { tokenChecksum } from '../../lib/tokens/checksum.js'
import { ALICE, basicAuth, buildApp, fixedClock, FORM, form } from '../helpers/index.js'
import {
  assertFatalPage, assertRedirectError, buildAuthorizeApp, codeClient, createCodeApplication, exchangeCode, fetchConsent,
  getAuthorize, parseConsent, pkcePair, postDecision, REDIRECT_URI, redirectParams,
} from '../helpers/authorize.js'

const clock = fixedClock('2026-01-01T00:00:00.000Z')
const app = await buildAuthorizeApp(t, { clock })
await app.register(oauthMetadata, { routesPrefix: '/o' })
const { verifier, challenge } = pkcePair()

function request (created: CreatedApplication, extra: Record<string, string> = {}): Record<string, string> {
  return {
    response_type: 'code',
    redirect_uri: REDIRECT_URI,
    scope: 'read',
    state: 'xyz',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    client_id: created.application.clientId,
    ...extra,
  }
}

async function push (on: FastifyInstance, created: CreatedApplication, params: Record<string, string>, headers?: Record<string, string>) {
  const auth = headers ?? (created.clientSecret === null ? {} : { authorization: basicAuth(created.application.clientId, created.clientSecret) })
  return await on.inject({ method: 'POST', url: '/o/par/', payload: form(params), headers: { ...FORM, ...auth } })
}

async function pushedUri (on: FastifyInstance, created: CreatedApplication, extra: Record<string, string> = {}): Promise<string> {
  const res = await push(on, created, request(created, extra))
  if (res.statusCode !== 201) throw new Error(`push failed: ${res.body}`)
  return (res.json() as { request_uri: string }).request_uri
}

t.test('a pushed request answers 201 with a single-use request_uri; the code flow runs on it alone', async (t) => {
  const created = await createCodeApplication(app)
  const res = await push(app, created, request(created))
  t.equal(res.statusCode, 201)
  t.equal(res.headers['cache-control'], 'no-store')
  const body = res.json() as { request_uri: string, expires_in: number }
  t.match(body.request_uri, /^urn:ietf:params:oauth:request_uri:[A-Za-z0-9_-]{43}$/)
  t.equal(body.expires_in, 60)
  const stored = await app.oauth.store.findPushedAuthorizationRequest(tokenChecksum(body.request_uri.slice('urn:ietf:params:oauth:request_uri:'.length)))
  t.equal(stored?.applicationId, created.application.id, 'stored by checksum, bound to the client')

  // Other front-channel parameters are ignored: the pushed ones rule (§4).
  const consent = await fetchConsent(app, { client_id: created.application.clientId, request_uri: body.request_uri, scope: 'write', redirect_uri: 'https://evil.example/cb' })
  t.same(Object.keys(consent.fields).sort(), ['client_id', 'csrf_token', 'request_uri'], 'the form carries the reference, not the parameters')
  const decision = await postDecision(app, consent)
  t.equal(decision.statusCode, 302)
  const { code, state } = redirectParams(decision)
  t.equal(state, 'xyz')
  const tokens = await exchangeCode(app, codeClient(created), code ?? '', { redirect_uri: REDIRECT_URI, code_verifier: verifier })
  t.equal(tokens.statusCode, 200)
  t.equal((tokens.json() as { scope: string }).scope, 'read')

  // Single use: the decision consumed it.
  assertFatalPage(t, await getAuthorize(app, { client_id: created.application.clientId, request_uri: body.request_uri }),
    'The request_uri is invalid, expired, used or was issued to another client.', 'reuse')
  const again = await postDecision(app, consent)
  t.equal(again.statusCode, 400, 'a second decision on the same form is refused')
  t.match(again.body, 'The request_uri is invalid, expired, used or was issued to another client.')
})

t.test('public clients push with their client_id; Basic clients may omit it from the body', async (t) => {
  const pub = await createCodeApplication(app, { clientType: 'public' })
  t.equal((await push(app, pub, request(pub))).statusCode, 201)
  const conf = await createCodeApplication(app)
  const { client_id: _omitted, ...withoutId } = request(conf)
  t.equal((await push(app, conf, withoutId)).statusCode, 201)
})

t.test('client authentication as at the token endpoint: 401 invalid_client', async (t) => {
  const created = await createCodeApplication(app)
  const wrong = await push(app, created, request(created), { authorization: basicAuth(created.application.clientId, 'wrong-secret') })
  t.equal(wrong.statusCode, 401)
  t.same(wrong.json(), { error: 'invalid_client', error_description: 'Client authentication failed.' })
  t.equal(wrong.headers['www-authenticate'], 'Basic realm="oauth"')
  const none = await push(app, created, request(created), {})
  t.equal(none.statusCode, 401, 'a confidential client without its secret')
  const other = await createCodeApplication(app)
  const mismatch = await push(app, created, request(other))
  t.equal(mismatch.statusCode, 401, 'client_id in the body differs from Basic')
})

t.test('the request is validated as the authorization endpoint would, with JSON errors', async (t) => {
  const created = await createCodeApplication(app)
  const cases: Array<[Record<string, string>, Record<string, string>]> = [
    [{ redirect_uri: 'https://evil.example/cb' }, { error: 'invalid_request', error_description: 'Mismatching redirect URI.' }],
    [{ code_challenge: '', code_challenge_method: '' }, { error: 'invalid_request', error_description: 'Code challenge required.' }],
    [{ code_challenge_method: 'plain' }, { error: 'invalid_request', error_description: 'Transform algorithm not supported.' }],
    [{ response_type: 'token' }, { error: 'unsupported_response_type', error_description: 'The response type is not supported by this server.' }],
    [{ scope: 'admin' }, { error: 'invalid_scope', error_description: 'The requested scope is invalid, unknown or exceeds what was granted.' }],
    [{ request_uri: 'urn:ietf:params:oauth:request_uri:x' }, { error: 'invalid_request', error_description: 'request_uri must not be pushed.' }],
  ]
  for (const [extra, expected] of cases) {
    const res = await push(app, created, request(created, extra))
    t.equal(res.statusCode, 400, JSON.stringify(extra))
    t.equal(res.headers['content-type'], 'application/json; charset=utf-8')
    t.same(res.json(), expected, JSON.stringify(extra))
  }
  const repeated = await app.inject({ method: 'POST', url: '/o/par/', headers: { ...FORM, authorization: basicAuth(created.application.clientId, created.clientSecret ?? '') }, payload: form({ ...request(created), scope: ['read', 'write'] }) })
  t.same(repeated.json(), { error: 'invalid_request', error_description: 'Parameter repeated: scope.' })
  const json = await app.inject({ method: 'POST', url: '/o/par/', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(request(created)) })
  t.same(json.json(), { error: 'invalid_request', error_description: 'The request body must be application/x-www-form-urlencoded.' })
  const get = await app.inject({ method: 'GET', url: '/o/par/' })
  t.equal(get.statusCode, 405)
  t.equal(get.headers.allow, 'POST')
})

t.test('a request_uri is bound to its client, refused when unknown, malformed or expired (before first use)', async (t) => {
  const created = await createCodeApplication(app)
  const other = await createCodeApplication(app)
  const uri = await pushedUri(app, created)
  const message = 'The request_uri is invalid, expired, used or was issued to another client.'
  assertFatalPage(t, await getAuthorize(app, { client_id: other.application.clientId, request_uri: uri }), message, 'another client')
  assertFatalPage(t, await getAuthorize(app, { client_id: created.application.clientId, request_uri: `${uri}x` }), message, 'unknown')
  assertFatalPage(t, await getAuthorize(app, { client_id: created.application.clientId, request_uri: 'https://evil.example/req' }),
    'Only request_uri values issued by the pushed authorization request endpoint are supported.', 'not ours (OIDC Core §6)', 'request_uri_not_supported')
  assertFatalPage(t, await getAuthorize(app, { client_id: created.application.clientId, request_uri: [uri, uri] }), 'Parameter repeated: request_uri.', 'repeated')
  clock.advance(60)
  assertFatalPage(t, await getAuthorize(app, { client_id: created.application.clientId, request_uri: uri }), message, 'expired')
})

t.test('once started, the user may take longer than expires_in to log in and decide', async (t) => {
  const created = await createCodeApplication(app)
  const uri = await pushedUri(app, created)
  // Anonymous: sent to log in with the reference in `next`, not consumed.
  const login = await getAuthorize(app, { client_id: created.application.clientId, request_uri: uri }, null)
  t.equal(login.statusCode, 302)
  const next = new URL(String(login.headers.location), 'http://localhost').searchParams.get('next') ?? ''
  t.match(next, /request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3A/)
  clock.advance(300)
  const page = await app.inject({ method: 'GET', url: next, headers: { 'x-test-user': ALICE.id } })
  const decision = await postDecision(app, parseConsent(page))
  t.equal(decision.statusCode, 302)
  t.ok(redirectParams(decision).code)
})

t.test('the user denying uses the request up as well', async (t) => {
  const created = await createCodeApplication(app)
  const uri = await pushedUri(app, created)
  const consent = await fetchConsent(app, { client_id: created.application.clientId, request_uri: uri })
  assertRedirectError(t, await postDecision(app, consent, { allow: false }), { error: 'access_denied', error_description: 'The resource owner denied the request.', state: 'xyz' })
  t.equal((await postDecision(app, consent)).statusCode, 400)
})

t.test('PAR can be required per application (require_pushed_authorization_requests)', async (t) => {
  const created = await createCodeApplication(app, { requirePushedAuthorizationRequests: true })
  assertRedirectError(t, await getAuthorize(app, request(created)), { error: 'invalid_request', error_description: 'Pushed authorization request required.', state: 'xyz' })
  const consent = await fetchConsent(app, { client_id: created.application.clientId, request_uri: await pushedUri(app, created) })
  t.equal((await postDecision(app, consent)).statusCode, 302)
  // The consent form of a plain request cannot be replayed to bypass it either.
  const res = await postDecision(app, { ...consent, fields: { ...request(created), csrf_token: consent.fields.csrf_token ?? '' } })
  assertRedirectError(t, res, { error: 'invalid_request', error_description: 'Pushed authorization request required.', state: 'xyz' })
})

t.test('PAR required server-wide; the metadata says so; settings are validated', async (t) => {
  const strict = await buildAuthorizeApp(t, { settings: { requirePushedAuthorizationRequests: true, issuer: 'https://auth.example/o' } })
  await strict.register(oauthMetadata, { routesPrefix: '/o' })
  const meta = (await strict.inject('/.well-known/oauth-authorization-server/o')).json() as Record<string, unknown>
  t.equal(meta.pushed_authorization_request_endpoint, 'https://auth.example/o/par/')
  t.equal(meta.require_pushed_authorization_requests, true)
  const created = await createCodeApplication(strict)
  assertRedirectError(t, await getAuthorize(strict, request(created)), { error: 'invalid_request', error_description: 'Pushed authorization request required.', state: 'xyz' })
  const consent = await fetchConsent(strict, { client_id: created.application.clientId, request_uri: await pushedUri(strict, created) })
  t.equal((await postDecision(strict, consent)).statusCode, 302)

  await t.rejects(buildApp(t, { settings: { requirePushedAuthorizationRequests: true, parEnabled: false } }), { code: 'OAT_ERR_SETTINGS' })
  await t.rejects(buildApp(t, { settings: { parRequestUriLifetimeSeconds: 601 } }), { code: 'OAT_ERR_SETTINGS' })
})

t.test('parEnabled false: par/ is 404 and request_uri is refused; the lifetime is a setting', async (t) => {
  const off = await buildAuthorizeApp(t, { settings: { parEnabled: false } })
  const created = await createCodeApplication(off)
  t.equal((await push(off, created, request(created))).statusCode, 404)
  assertFatalPage(t, await getAuthorize(off, { client_id: created.application.clientId, request_uri: 'urn:ietf:params:oauth:request_uri:x' }),
    'Only request_uri values issued by the pushed authorization request endpoint are supported.', 'PAR off', 'request_uri_not_supported')
  const short = await buildAuthorizeApp(t, { settings: { parRequestUriLifetimeSeconds: 5 } })
  const c2 = await createCodeApplication(short)
  t.equal(((await push(short, c2, request(c2))).json() as { expires_in: number }).expires_in, 5)
})

t.test('pushed resource indicators (RFC 8707) bind the code and the token, and bad ones are refused at par/', async (t) => {
  const resources = ['https://api.example/mcp', 'https://api.example/files']
  const rs = await buildAuthorizeApp(t, { settings: { protectedResources: resources.map((resource) => ({ resource })) } })
  const created = await createCodeApplication(rs)
  const res = await rs.inject({ method: 'POST', url: '/o/par/', headers: { ...FORM, authorization: basicAuth(created.application.clientId, created.clientSecret ?? '') }, payload: form({ ...request(created), resource: resources }) })
  t.equal(res.statusCode, 201)
  const uri = (res.json() as { request_uri: string }).request_uri
  const consent = await fetchConsent(rs, { client_id: created.application.clientId, request_uri: uri, resource: 'https://evil.example/' })
  const { code } = redirectParams(await postDecision(rs, { ...consent, fields: { ...consent.fields, resource: 'https://evil.example/' } }))
  const tokens = await exchangeCode(rs, codeClient(created), code ?? '', { redirect_uri: REDIRECT_URI, code_verifier: verifier })
  t.equal(tokens.statusCode, 200)
  const record = await rs.oauth.store.findAccessToken(tokenChecksum((tokens.json() as { access_token: string }).access_token))
  t.equal(record?.resource, resources.join(' '), 'both pushed resources, none from the front channel')

  const bad = await rs.inject({ method: 'POST', url: '/o/par/', headers: { ...FORM, authorization: basicAuth(created.application.clientId, created.clientSecret ?? '') }, payload: form({ ...request(created), resource: 'https://undeclared.example/' }) })
  t.equal(bad.statusCode, 400)
  t.equal((bad.json() as { error: string }).error, 'invalid_target')
})
