// RFC 8707 resource indicators: `resource` at authorize and token, stored with the grant,
// narrowed only (invalid_target otherwise), returned as `aud` by introspection.
import type { FastifyInstance } from 'fastify'
import t from 'tap'
import type { CreatedApplication } from '../../lib/applications.js'
import { ALICE, basicAuth, createApplication, postToken, type TokenBody } from '../helpers/index.js'
import {
  buildAuthorizeApp, codeClient, createCodeApplication, exchangeCode, getAuthorize, pkcePair, postDecision, parseConsent,
  redirectParams, REDIRECT_URI, unescapeHtml,
} from '../helpers/authorize.js'
import { buildOidcApp } from '../oidc/support.js'

const MCP = 'https://mcp.example.com/mcp'
const API = 'https://api.example.com/'
const REMOTE = 'https://remote.example.net/api'
const INVALID_TARGET = { error: 'invalid_target', error_description: 'The requested resource is invalid, unknown, or not allowed.' }
const SETTINGS = { protectedResources: [{ resource: MCP }, { resource: API }, { resource: REMOTE, metadata: false }] }

function authorizeParams (created: CreatedApplication, resource: string | readonly string[] | undefined, challenge: string): Record<string, string | readonly string[]> {
  return {
    response_type: 'code',
    client_id: created.application.clientId,
    redirect_uri: REDIRECT_URI,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state: 'xyz',
    ...(resource === undefined ? {} : { resource }),
  }
}

/**
 * Runs authorize (with `resource`) and approves with every hidden input of the consent page,
 * repeated ones included (the shared `postDecision` keeps one value per name).
 */
async function codeFor (app: FastifyInstance, created: CreatedApplication, resource: string | readonly string[] | undefined): Promise<{ code: string, verifier: string }> {
  const { verifier, challenge } = pkcePair(String(resource))
  const page = await getAuthorize(app, authorizeParams(created, resource, challenge))
  const consent = parseConsent(page)
  const body = new URLSearchParams()
  for (const m of page.body.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)) body.append(unescapeHtml(m[1] ?? ''), unescapeHtml(m[2] ?? ''))
  body.append('allow', 'Authorize')
  const res = await app.inject({
    method: 'POST',
    url: consent.action,
    payload: body.toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: consent.cookie, 'x-test-user': ALICE.id },
  })
  return { code: redirectParams(res).code ?? '', verifier }
}

async function introspect (app: FastifyInstance, created: CreatedApplication, token: string): Promise<Record<string, unknown>> {
  const res = await app.inject({
    method: 'POST',
    url: '/o/introspect/',
    payload: `token=${encodeURIComponent(token)}`,
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basicAuth(created.application.clientId, created.clientSecret ?? '') },
  })
  return res.json()
}

t.test('authorization code flow: resources stored with the grant, narrowed at the token endpoint and on refresh', async (t) => {
  const app = await buildAuthorizeApp(t, { settings: SETTINGS })
  const created = await createCodeApplication(app)
  const client = codeClient(created)

  // Two resources (the parameter may repeat, RFC 8707 §2); upper-case scheme and host are the same resource.
  const { code, verifier } = await codeFor(app, created, [MCP, 'HTTPS://API.EXAMPLE.COM'])
  const outside = await exchangeCode(app, client, code, { redirect_uri: REDIRECT_URI, code_verifier: verifier, resource: REMOTE })
  t.equal(outside.statusCode, 400, 'a resource the grant does not hold')
  t.same(outside.json(), INVALID_TARGET)

  // The failed attempt did not consume the code: narrowing to one resource works.
  const res = await exchangeCode(app, client, code, { redirect_uri: REDIRECT_URI, code_verifier: verifier, resource: API })
  t.equal(res.statusCode, 200, res.body)
  const tokens = res.json<TokenBody>()
  t.equal((await introspect(app, created, tokens.access_token)).aud, API, 'audience-restricted to the narrowed resource, in its declared spelling')

  // The refresh token keeps the grant's two resources: it may pick the other one, never a third.
  const wider = await postToken(app, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token ?? '', resource: REMOTE },
    { authorization: basicAuth(client.clientId, client.clientSecret ?? '') })
  t.equal(wider.statusCode, 400)
  t.same(wider.json(), INVALID_TARGET)
  const invalid = await postToken(app, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token ?? '', resource: 'not a uri' },
    { authorization: basicAuth(client.clientId, client.clientSecret ?? '') })
  t.same(invalid.json(), INVALID_TARGET, 'a malformed resource on refresh')
  const narrowed = await postToken(app, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token ?? '', resource: MCP },
    { authorization: basicAuth(client.clientId, client.clientSecret ?? '') })
  t.equal(narrowed.statusCode, 200, narrowed.body)
  const second = narrowed.json<TokenBody>()
  t.equal((await introspect(app, created, second.access_token)).aud, MCP)

  const all = await postToken(app, { grant_type: 'refresh_token', refresh_token: second.refresh_token ?? '' },
    { authorization: basicAuth(client.clientId, client.clientSecret ?? '') })
  t.equal(all.statusCode, 200, all.body)
  t.same((await introspect(app, created, all.json<TokenBody>().access_token)).aud, [MCP, API], 'no resource: every resource of the grant')
})

t.test('authorize: an invalid, fragment-bearing, undeclared or excessive resource is invalid_target at the redirect URI', async (t) => {
  const app = await buildAuthorizeApp(t, { settings: SETTINGS })
  const created = await createCodeApplication(app)
  const { challenge } = pkcePair()
  const cases: Array<[string, string | string[]]> = [
    ['relative reference', '/mcp'],
    ['no scheme', 'mcp.example.com'],
    ['fragment', `${MCP}#section`],
    ['space inside', 'https://mcp.example.com/a b'],
    ['not declared (declared policy)', 'https://evil.example/'],
    ['one good, one bad', [MCP, 'https://evil.example/']],
    ['more than ten', Array.from({ length: 11 }, () => MCP)],
  ]
  for (const [name, resource] of cases) {
    const res = await getAuthorize(app, authorizeParams(created, resource, challenge))
    t.equal(res.statusCode, 302, name)
    t.same(redirectParams(res), { ...INVALID_TARGET, state: 'xyz' }, name)
  }
})

t.test('the consent page names the resources and carries every one; the grant is bound to them', async (t) => {
  const app = await buildAuthorizeApp(t, { settings: SETTINGS })
  const created = await createCodeApplication(app)
  const { challenge } = pkcePair()
  const page = await getAuthorize(app, authorizeParams(created, [MCP, API], challenge))
  t.match(page.body, `<li>${MCP}</li>`)
  const hidden = [...page.body.matchAll(/<input type="hidden" name="resource" value="([^"]*)">/g)].map((m) => m[1])
  t.same(hidden, [MCP, API])
  const { code, verifier } = await codeFor(app, created, [MCP, API])
  const tokens = await exchangeCode(app, codeClient(created), code, { redirect_uri: REDIRECT_URI, code_verifier: verifier })
  t.equal(tokens.statusCode, 200, tokens.body)
  t.same((await introspect(app, created, tokens.json<TokenBody>().access_token)).aud, [MCP, API])

  // A single resource through the helper: the grant is bound to it; a tampered one is refused.
  const one = parseConsent(await getAuthorize(app, authorizeParams(created, MCP, challenge)))
  const tampered = await postDecision(app, one, { fields: { resource: 'https://evil.example/' } })
  t.same(redirectParams(tampered), { ...INVALID_TARGET, state: 'xyz' })
})

t.test('a grant without resource may be bound at the token endpoint; without either the token is unrestricted', async (t) => {
  const app = await buildAuthorizeApp(t, { settings: SETTINGS })
  const created = await createCodeApplication(app)
  const first = await codeFor(app, created, undefined)
  const bound = await exchangeCode(app, codeClient(created), first.code, { redirect_uri: REDIRECT_URI, code_verifier: first.verifier, resource: MCP })
  t.equal(bound.statusCode, 200, bound.body)
  t.equal((await introspect(app, created, bound.json<TokenBody>().access_token)).aud, MCP)
  const undeclared = await postToken(app, { grant_type: 'refresh_token', refresh_token: bound.json<TokenBody>().refresh_token ?? '', resource: 'https://evil.example/' },
    { authorization: basicAuth(created.application.clientId, created.clientSecret ?? '') })
  t.same(undeclared.json(), INVALID_TARGET, 'an unrestricted refresh token still only binds to allowed resources')

  const second = await codeFor(app, created, undefined)
  const plain = await exchangeCode(app, codeClient(created), second.code, { redirect_uri: REDIRECT_URI, code_verifier: second.verifier })
  const body = await introspect(app, created, plain.json<TokenBody>().access_token)
  t.equal(body.active, true)
  t.notOk('aud' in body, 'no aud for an unrestricted token')
})

t.test('client_credentials: resource binds the token; repeated resource is no duplicate error; policy "declared" vs "any"', async (t) => {
  const app = await buildAuthorizeApp(t, { settings: SETTINGS })
  const { application, clientSecret } = await createApplication(app)
  const auth = { authorization: basicAuth(application.clientId, clientSecret ?? '') }
  const res = await postToken(app, { grant_type: 'client_credentials', resource: [MCP, REMOTE] }, auth)
  t.equal(res.statusCode, 200, res.body)
  t.same((await introspect(app, { application, clientSecret }, res.json<TokenBody>().access_token)).aud, [MCP, REMOTE],
    'a declared resource served elsewhere (metadata: false) is allowed too')
  for (const resource of ['urn:example:api', 'https://other.example/x', `${MCP}#f`, '']) {
    const refused = await postToken(app, { grant_type: 'client_credentials', resource }, auth)
    t.equal(refused.statusCode, 400, resource)
    t.same(refused.json(), INVALID_TARGET, resource)
  }

  const open = await buildAuthorizeApp(t, { settings: { ...SETTINGS, resourceIndicatorPolicy: 'any' } })
  const other = await createApplication(open)
  const openAuth = { authorization: basicAuth(other.application.clientId, other.clientSecret ?? '') }
  const any = await postToken(open, { grant_type: 'client_credentials', resource: ['urn:example:api', 'https://other.example/x'] }, openAuth)
  t.equal(any.statusCode, 200, any.body)
  t.same((await introspect(open, other, any.json<TokenBody>().access_token)).aud, ['urn:example:api', 'https://other.example/x'])
  const fragment = await postToken(open, { grant_type: 'client_credentials', resource: 'https://other.example/x#frag' }, openAuth)
  t.same(fragment.json(), INVALID_TARGET, 'a fragment is refused whatever the policy (RFC 8707 §2)')
})

t.test('implicit tokens are bound to the request resources; approval_prompt=auto reuses consent only for the same resources', async (t) => {
  const app = await buildAuthorizeApp(t, { settings: { ...SETTINGS, implicitGrantEnabled: true } })
  const implicit = await createCodeApplication(app, { authorizationGrantType: 'implicit' })
  const page = await getAuthorize(app, { response_type: 'token', client_id: implicit.application.clientId, redirect_uri: REDIRECT_URI, resource: MCP })
  const answer = await postDecision(app, parseConsent(page))
  const token = redirectParams(answer, 'fragment').access_token ?? ''
  t.equal((await introspect(app, implicit, token)).aud, MCP)

  const created = await createCodeApplication(app)
  await codeFor(app, created, MCP).then(async ({ code, verifier }) =>
    await exchangeCode(app, codeClient(created), code, { redirect_uri: REDIRECT_URI, code_verifier: verifier }))
  const { challenge } = pkcePair()
  const same = await getAuthorize(app, { ...authorizeParams(created, MCP, challenge), approval_prompt: 'auto' })
  t.equal(same.statusCode, 302, 'a live token for the same resource: consent skipped')
  const other = await getAuthorize(app, { ...authorizeParams(created, API, challenge), approval_prompt: 'auto' })
  t.equal(other.statusCode, 200, 'another resource: the user is asked')
  const unbound = await getAuthorize(app, { ...authorizeParams(created, undefined, challenge), approval_prompt: 'auto' })
  t.equal(unbound.statusCode, 200, 'an unrestricted request is wider than a bound token')
})

t.test('hybrid code token: the front-channel token and the code are bound to the resources; discovery lists them', async (t) => {
  // `code token` returns an access token from the authorization endpoint: implicit must be on.
  const app = await buildOidcApp(t, { settings: { ...SETTINGS, implicitGrantEnabled: true } })
  const created = await createCodeApplication(app, { authorizationGrantType: 'openid-hybrid' })
  const { verifier, challenge } = pkcePair()
  const page = await getAuthorize(app, { ...authorizeParams(created, MCP, challenge), response_type: 'code token', scope: 'openid', nonce: 'n' })
  const answer = redirectParams(await postDecision(app, parseConsent(page)), 'fragment')
  t.equal((await introspect(app, created, answer.access_token ?? '')).aud, MCP)
  const tokens = await exchangeCode(app, codeClient(created), answer.code ?? '', { redirect_uri: REDIRECT_URI, code_verifier: verifier })
  t.equal((await introspect(app, created, tokens.json<TokenBody>().access_token)).aud, MCP)
  const discovery = (await app.inject({ url: '/o/.well-known/openid-configuration' })).json()
  t.same(discovery.protected_resources, [MCP, API, REMOTE], 'OIDC discovery agrees with RFC 8414 (RFC 9728 §4)')
})
