// Black-box probes of the authorization endpoint over HTTP, against the example app with OPEN
// dynamic client registration (one server process for the file, authorize-redirects-server.ts):
// REDIR-4 (no open redirector through clients registered anonymously, or by any logged-in user
// on the management pages), CONF-2 (no access token in the front channel with implicit off),
// RURI-4 (real loopback ports only), and form_post with a real relying party (openid-client).
// See test/security/README.md.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { join } from 'node:path'
import * as client from 'openid-client'
import t, { type Test } from 'tap'
import { cli } from '../cli/helpers.js'
import { Browser, parseForm } from '../example-app/support.js'
import { TS_LOADER_ARGS } from '../helpers/loader.js'

const HARNESS = join(import.meta.dirname, 'authorize-redirects-server.ts')
const EVIL = 'https://evil.example/cb'
const RP = 'http://127.0.0.1:8400/callback'

const database = join(t.testdir(), 'probe.sqlite3')
const server = spawn(process.execPath, [...TS_LOADER_ARGS, '--conditions=oauth-toolkit-source', HARNESS, database], { stdio: ['ignore', 'pipe', 'pipe'] })
t.teardown(async () => {
  if (server.exitCode !== null || server.signalCode !== null) return
  const exited = once(server, 'exit')
  server.kill('SIGTERM')
  await exited
})
const base = await new Promise<string>((resolve, reject) => {
  let output = ''
  const timer = setTimeout(() => reject(new Error(`the probe server did not start:\n${output}`)), 90_000)
  server.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString()
    const port = /\{"port":(\d+)\}/.exec(output)?.[1]
    if (port !== undefined) { clearTimeout(timer); resolve(`http://127.0.0.1:${port}`) }
  })
  server.stderr.on('data', (chunk: Buffer) => { output += chunk.toString() })
  server.once('exit', (code) => { clearTimeout(timer); reject(new Error(`the probe server exited with ${code}:\n${output}`)) })
})
const origin = new URL(base).origin

async function register (body: Record<string, unknown>): Promise<Response> {
  return await fetch(`${base}/o/register/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
}

async function registered (body: Record<string, unknown>): Promise<{ client_id: string, client_secret?: string }> {
  const res = await register(body)
  if (res.status !== 201) throw new Error(`registration failed: ${res.status} ${await res.text()}`)
  return await res.json() as { client_id: string, client_secret?: string }
}

// Anonymous registrations, as anyone on the Internet can make them here.
const attacker = await registered({ redirect_uris: [EVIL, 'http://127.0.0.1/cb'], token_endpoint_auth_method: 'none', client_name: 'Attacker' })
const confidential = await registered({ redirect_uris: [EVIL], client_name: 'Attacker (confidential)' })
const hybrid = await registered({ redirect_uris: [EVIL], token_endpoint_auth_method: 'none', grant_types: ['authorization_code'], response_types: ['code id_token'] })

const S256 = { code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' }

function authorizeUrl (params: Record<string, string | readonly string[]>): string {
  const query = new URLSearchParams()
  for (const [name, value] of Object.entries(params)) for (const v of typeof value === 'string' ? [value] : value) query.append(name, v)
  return `/o/authorize/?${query.toString()}`
}

/** Nothing in the answer sends the browser off this origin: no Location elsewhere, no form posting elsewhere. */
async function assertStaysHere (t: Test, res: Response, message: string): Promise<string> {
  const body = await res.text()
  const location = res.headers.get('location')
  if (location !== null) t.equal(new URL(location, base).origin, origin, `${message}: Location stays on the server (${res.status})`)
  t.notOk(/<form[^>]*action="(?!\/)[^"]*"/i.test(body), `${message}: no form posting off-site`)
  t.notMatch(body, 'evil.example/cb?', `${message}: no redirect URL with parameters in the page`)
  return body
}

/** The toolkit's error page: 4xx, no Location, the error code. */
async function assertErrorPage (t: Test, res: Response, error: string, message: string): Promise<void> {
  const body = await assertStaysHere(t, res, message)
  t.ok(res.status >= 400 && res.status < 500, `${message}: 4xx (${res.status})`)
  t.equal(res.headers.get('location'), null, `${message}: no Location`)
  t.match(body, `<code>${error}</code>`, `${message}: ${error}`)
}

function variants (clientId: string, redirectUri = EVIL): ReadonlyArray<readonly [string, Record<string, string | readonly string[]>, string]> {
  const code = { response_type: 'code', client_id: clientId, redirect_uri: redirectUri, state: 'probe', ...S256 }
  return [
    ['response_type=token', { ...code, response_type: 'token' }, 'unsupported_response_type'],
    ['response_type=code token', { ...code, response_type: 'code token', scope: 'openid', nonce: 'n' }, 'unsupported_response_type'],
    ['response_type=code id_token token', { ...code, response_type: 'code id_token token', scope: 'openid', nonce: 'n' }, 'unsupported_response_type'],
    ['response_type=id_token token', { ...code, response_type: 'id_token token', scope: 'openid', nonce: 'n' }, 'unsupported_response_type'],
    ['response_type=nonsense', { ...code, response_type: 'nonsense' }, 'unsupported_response_type'],
    ['no response_type', { client_id: clientId, redirect_uri: redirectUri, state: 'probe', ...S256 }, 'invalid_request'],
    ['scope=admin', { ...code, scope: 'admin' }, 'invalid_scope'],
    ['no PKCE', { response_type: 'code', client_id: clientId, redirect_uri: redirectUri, state: 'probe' }, 'invalid_request'],
    ['plain PKCE', { ...code, code_challenge_method: 'plain' }, 'invalid_request'],
    ['unknown PKCE method', { ...code, code_challenge_method: 'S512' }, 'invalid_request'],
    ['resource not declared', { ...code, resource: 'https://elsewhere.example/' }, 'invalid_target'],
    ['response_mode=jwt', { ...code, response_mode: 'jwt' }, 'invalid_request'],
    ['response_mode=form_post + bad scope', { ...code, response_mode: 'form_post', scope: 'admin' }, 'invalid_scope'],
    ['response_mode=fragment + bad scope', { ...code, response_mode: 'fragment', scope: 'admin' }, 'invalid_scope'],
    // A code-only client is refused the hybrid type first; the hybrid client gets invalid_request for the mode.
    ['response_mode=query with an ID token', { ...code, response_type: 'code id_token', response_mode: 'query', scope: 'openid', nonce: 'n' }, 'unauthorized_client'],
    ['unsigned request object', { ...code, request: 'eyJhbGciOiJub25lIn0.eyJyZWRpcmVjdF91cmkiOiJodHRwczovL2V2aWwuZXhhbXBsZS9jYiJ9.' }, 'invalid_request_object'],
    ['garbage request object', { ...code, request: 'e30.e30.e30' }, 'invalid_request_object'],
    ['duplicated scope', { ...code, scope: ['read', 'write'] }, 'invalid_request'],
    ['duplicated response_type', { ...code, response_type: ['code', 'token'] }, 'invalid_request'],
    ['duplicated response_mode', { ...code, response_mode: ['form_post', 'query'] }, 'invalid_request'],
    ['prompt=none', { ...code, scope: 'openid', prompt: 'none' }, 'login_required'],
    ['prompt=none login', { ...code, scope: 'openid', prompt: 'none login' }, 'invalid_request'],
    ['max_age=abc', { ...code, scope: 'openid', max_age: 'abc' }, 'invalid_request'],
  ]
}

t.test('REDIR-4 CONF-2 anonymous requests for an anonymously registered client: the error page every time, nothing off-site', async (t) => {
  const browser = new Browser(base)
  for (const [name, params, error] of variants(attacker.client_id)) {
    await assertErrorPage(t, await browser.get(authorizeUrl(params)), error, name)
  }
  for (const [name, params, error] of variants(attacker.client_id)) {
    const posted = await fetch(`${base}/o/authorize/`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: authorizeUrl(params).split('?')[1] })
    t.equal(posted.headers.get('location'), null, `POST ${name} (${error}): no Location`)
    await assertStaysHere(t, posted, `POST ${name}`)
  }
})

const browser = new Browser(base)
await t.test('login through the example app', async (t) => {
  const toLogin = await browser.get(authorizeUrl({ response_type: 'code', client_id: attacker.client_id, redirect_uri: EVIL, ...S256 }))
  t.equal(toLogin.status, 302)
  t.equal(new URL(toLogin.headers.get('location') ?? '', base).origin, origin, 'a valid request from a logged-out user goes to the login page, here')
  const login = parseForm(await (await browser.get(toLogin.headers.get('location') ?? '')).text(), /^\/accounts\/login\/$/)
  const back = await browser.submit(login.action, { ...login.hidden, username: 'alice', password: 'wonderland' })
  t.equal(back.status, 302)
})

t.test('REDIR-4 CONF-2 the same with a logged-in user who never approved the client, prompt=none included', async (t) => {
  for (const [name, params, error] of variants(attacker.client_id)) {
    await assertErrorPage(t, await browser.get(authorizeUrl(params)), error === 'login_required' ? 'consent_required' : error, `logged in: ${name}`)
  }
  for (const client of [confidential, hybrid]) {
    for (const [name, params, error] of variants(client.client_id)) {
      const expected = error === 'login_required' ? 'consent_required' : client === hybrid && error === 'unauthorized_client' ? 'invalid_request' : error
      const res = await browser.get(authorizeUrl({ ...params, ...(client === confidential ? { approval_prompt: 'auto' } : {}) }))
      await assertErrorPage(t, res, expected, `${client.client_id}: ${name}`)
    }
  }
})

t.test('REDIR-4 a client any logged-in user creates on the management pages: the error page every time, anonymous or logged in', async (t) => {
  // alice is an ordinary user of the site: the management pages are open to anyone who can log in.
  const page = await browser.get('/o/applications/register/')
  t.equal(page.status, 200)
  const form = parseForm(await page.text(), /\/o\/applications\/register\/$/)
  const created = await browser.submit(form.action, {
    ...form.hidden, name: 'Looks legit', clientType: 'public', authorizationGrantType: 'authorization-code', redirectUris: EVIL, postLogoutRedirectUris: '', allowedOrigins: '', algorithm: '',
  })
  const body = await created.text()
  t.equal(created.status, 200, 'created')
  const clientId = /id="client-id">([^<]*)</.exec(body)?.[1] ?? ''
  t.not(clientId, '')
  t.match(body, 'id="self-registered">no: its URIs come from a user', 'the detail page says its redirect URIs are unvetted')
  const anonymous = new Browser(base)
  for (const [name, params, error] of variants(clientId)) {
    await assertErrorPage(t, await anonymous.get(authorizeUrl(params)), error, `anonymous: ${name}`)
    await assertErrorPage(t, await browser.get(authorizeUrl(params)), error === 'login_required' ? 'consent_required' : error, `its owner, logged in: ${name}`)
  }
  const consent = await (await browser.get(authorizeUrl({ response_type: 'code', client_id: clientId, redirect_uri: EVIL, state: 'probe', ...S256 }))).text()
  t.match(consent, /not registered by the operator[^<]*<strong>https:\/\/evil\.example<\/strong>/, 'the consent page names where the browser will go')
})

t.test('REDIR-4 the consent form posted back with tampered fields is the error page too', async (t) => {
  const page = await browser.get(authorizeUrl({ response_type: 'code', client_id: attacker.client_id, redirect_uri: EVIL, state: 'probe', ...S256 }))
  const html = await page.text()
  t.match(html, 'https://evil.example', 'the consent page names where the browser will go')
  const consent = parseForm(html, /\/o\/authorize\/$/)
  for (const [field, value, error] of [['scope', 'admin', 'invalid_scope'], ['response_mode', 'jwt', 'invalid_request'], ['response_type', 'code token', 'unsupported_response_type'], ['code_challenge_method', 'plain', 'invalid_request']] as const) {
    await assertErrorPage(t, await browser.submit(consent.action, { ...consent.hidden, [field]: value, allow: 'Authorize' }), error, `tampered ${field}`)
  }
})

t.test('REDIR-4 pushed requests: errors at par/ are JSON, and a pushed prompt=none is the error page', async (t) => {
  const push = async (params: Record<string, string>): Promise<Response> => await fetch(`${base}/o/par/`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${confidential.client_id}:${encodeURIComponent(confidential.client_secret ?? '')}`).toString('base64')}` },
    body: new URLSearchParams(params).toString(),
    redirect: 'manual',
  })
  const base_ = { response_type: 'code', redirect_uri: EVIL, state: 'probe', ...S256 }
  for (const [extra, error] of [[{ scope: 'admin' }, 'invalid_scope'], [{ response_type: 'code token' }, 'unsupported_response_type'], [{ request: 'e30.e30.' }, 'invalid_request_object'], [{ response_mode: 'jwt' }, 'invalid_request']] as const) {
    const res = await push({ ...base_, ...extra })
    t.equal(res.status, 400, error)
    t.equal(res.headers.get('location'), null)
    t.equal((await res.json() as { error: string }).error, error)
  }
  const pushed = await push({ ...base_, scope: 'openid', prompt: 'none' })
  t.equal(pushed.status, 201)
  const { request_uri: requestUri } = await pushed.json() as { request_uri: string }
  await assertErrorPage(t, await new Browser(base).get(authorizeUrl({ client_id: confidential.client_id, request_uri: requestUri })), 'login_required', 'pushed prompt=none, logged out')
  await assertErrorPage(t, await browser.get(authorizeUrl({ client_id: confidential.client_id, request_uri: requestUri })), 'consent_required', 'pushed prompt=none, no consent')
  await assertErrorPage(t, await browser.get(authorizeUrl({ client_id: confidential.client_id, request_uri: 'https://evil.example/request.jwt', redirect_uri: EVIL, response_type: 'code' })),
    'request_uri_not_supported', 'a request_uri by reference')
})

t.test('CONF-2 registration refuses implicit in any combination and token response types; discovery lists none of them', async (t) => {
  for (const body of [
    { redirect_uris: [EVIL], grant_types: ['authorization_code', 'implicit'] },
    { redirect_uris: [EVIL], grant_types: ['implicit'], response_types: ['token'] },
    { redirect_uris: [EVIL], grant_types: ['authorization_code', 'implicit'], response_types: ['code id_token'] },
    { redirect_uris: [EVIL], grant_types: ['authorization_code', 'implicit', 'refresh_token'], response_types: ['code token'] },
    { redirect_uris: [EVIL], grant_types: ['authorization_code'], response_types: ['code id_token token'] },
    { redirect_uris: [EVIL], grant_types: ['authorization_code'], response_types: ['code', 'token'] },
  ]) {
    const res = await register(body)
    t.equal(res.status, 400, JSON.stringify(body))
    t.equal((await res.json() as { error: string }).error, 'invalid_client_metadata')
  }
  const doc = await (await fetch(`${base}/o/.well-known/openid-configuration`)).json() as Record<string, string[]>
  t.same(doc.response_types_supported, ['code', 'code id_token'], 'no response type with token')
  t.notOk(doc.grant_types_supported?.includes('implicit'), 'no implicit grant')
  t.same(doc.response_modes_supported, ['query', 'fragment', 'form_post'], 'the modes served')
  t.equal(doc.request_parameter_supported, true, 'signed request objects are accepted')
  t.equal(doc.request_uri_parameter_supported, false, 'but never fetched from a URL')
})

t.test('RURI-4 a self-registered loopback URI: a real port gets the consent page, :0 and leading zeros get the error page', async (t) => {
  const request = (uri: string): string => authorizeUrl({ response_type: 'code', client_id: attacker.client_id, redirect_uri: uri, ...S256 })
  t.equal((await browser.get(request('http://127.0.0.1:49152/cb'))).status, 200)
  for (const uri of ['http://127.0.0.1:0/cb', 'http://127.0.0.1:00/cb', 'http://127.0.0.1:08080/cb', 'http://127.0.0.1:65536/cb', 'http://127.0.0.1:/cb']) {
    await assertErrorPage(t, await browser.get(request(uri)), 'invalid_request', uri)
  }
  const res = await register({ redirect_uris: ['http://127.0.0.1:0/cb'], token_endpoint_auth_method: 'none' })
  t.equal(res.status, 400, 'registration refuses a port no socket has')
})

t.test('host-made clients keep RFC 6749 redirects; form_post works with a real relying party (openid-client)', async (t) => {
  const create = async (...args: string[]): Promise<string> => {
    const r = await cli(['createapplication', ...args, '--database', database, '--json'])
    if (r.code !== 0) throw new Error(r.stderr)
    return (JSON.parse(r.stdout) as { client_id: string }).client_id
  }
  const [codeClientId, hybridClientId] = [await create('public', 'authorization-code', '--name', 'RP', '--redirect-uris', RP), await create('public', 'openid-hybrid', '--name', 'Hybrid RP', '--redirect-uris', RP)]
  const badScope = await browser.get(authorizeUrl({ response_type: 'code', client_id: codeClientId, redirect_uri: RP, state: 'probe', scope: 'admin', ...S256 }))
  t.equal(badScope.status, 302, 'the host vouched for this redirect URI: errors are redirected')
  t.equal(new URL(badScope.headers.get('location') ?? '').searchParams.get('error'), 'invalid_scope')
  const conf2 = await browser.get(authorizeUrl({ response_type: 'code id_token token', client_id: hybridClientId, redirect_uri: RP, state: 'probe', scope: 'openid', nonce: 'n', ...S256 }))
  t.equal(new URLSearchParams(new URL(conf2.headers.get('location') ?? '').hash.slice(1)).get('error'), 'unsupported_response_type', 'CONF-2 for a host-made hybrid client')

  for (const [clientId, hybridFlow] of [[codeClientId, false], [hybridClientId, true]] as const) {
    const config = await client.discovery(new URL(`${base}/o`), clientId, undefined, client.None(), { execute: [client.allowInsecureRequests] })
    if (hybridFlow) client.useCodeIdTokenResponseType(config)
    const verifier = client.randomPKCECodeVerifier()
    const nonce = client.randomNonce()
    const state = client.randomState()
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: RP,
      scope: 'openid profile',
      state,
      nonce,
      response_mode: 'form_post',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    })
    const consent = parseForm(await (await browser.get(url.href)).text(), /\/o\/authorize\/$/)
    const answer = await browser.submit(consent.action, { ...consent.hidden, allow: 'Authorize' })
    t.equal(answer.status, 200, 'form_post: a page')
    t.equal(answer.headers.get('cache-control'), 'no-store')
    t.match(answer.headers.get('content-security-policy') ?? '', /script-src 'sha256-[A-Za-z0-9+/]+='/)
    const posted = parseForm(await answer.text())
    t.equal(posted.action, RP)
    // What the browser does with the page: POST the hidden fields to the redirect URI.
    const request = new Request(posted.action, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(posted.hidden).toString() })
    const tokens = await client.authorizationCodeGrant(config, request, { pkceCodeVerifier: verifier, expectedNonce: nonce, expectedState: state, idTokenExpected: true })
    t.equal(tokens.claims()?.nonce, nonce, `${hybridFlow ? 'code id_token' : 'code'} by form_post: openid-client validates and redeems it`)
  }
})
