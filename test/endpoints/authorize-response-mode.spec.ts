// response_mode at the authorization endpoint (OAuth 2.0 Multiple Response Type Encoding
// Practices §2.1, OAuth 2.0 Form Post Response Mode) and request objects (OIDC Core §6).
import { createHash } from 'node:crypto'
import type { LightMyRequestResponse } from 'fastify'
import t, { type Test } from 'tap'
import { oauthMetadata } from '../../index.js'
import { basicAuth, FORM, form } from '../helpers/index.js'
import {
  assertFatalPage, assertRedirectError, buildAuthorizeApp, codeRequest, createCodeApplication, fetchConsent, getAuthorize,
  pkcePair, postDecision, REDIRECT_URI, redirectParams, unescapeHtml,
} from '../helpers/authorize.js'
import { buildOidcApp } from '../oidc/support.js'

const ISSUER = 'https://auth.example.com/o'

/** The form_post page's form: where it posts and every hidden field, unescaped. */
function formPost (t: Test, res: LightMyRequestResponse): { action: string, fields: Record<string, string> } {
  t.equal(res.statusCode, 200, 'form_post: a 200 page, not a redirect')
  t.equal(res.headers.location, undefined, 'form_post: no Location')
  t.match(res.headers['content-type'], /^text\/html; charset=utf-8/)
  t.equal(res.headers['cache-control'], 'no-store', 'the page holds a code or a token: never cached')
  t.equal(res.headers['x-frame-options'], 'DENY')
  t.equal(res.headers['referrer-policy'], 'no-referrer')
  const csp = String(res.headers['content-security-policy'])
  t.match(csp, /default-src 'none'/)
  t.match(csp, /frame-ancestors 'none'/)
  // The one inline script is allowed by its hash, and only it.
  const script = /<script>([^<]*)<\/script>/.exec(res.body)?.[1] ?? ''
  t.equal(script, 'document.forms[0].submit();')
  t.match(csp, `script-src 'sha256-${createHash('sha256').update(script).digest('base64')}'`)
  t.notMatch(csp, /unsafe-inline/)
  t.equal([...res.body.matchAll(/<script/g)].length, 1, 'no other script')
  t.match(res.body, /<button type="submit"[^>]*>Continue<\/button>/, 'a visible button where scripts do not run')
  const action = /<form method="post" action="([^"]*)">/.exec(res.body)?.[1]
  if (action === undefined) throw new Error(`no form: ${res.body}`)
  const fields: Record<string, string> = {}
  for (const m of res.body.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)) fields[unescapeHtml(m[1] ?? '')] = unescapeHtml(m[2] ?? '')
  return { action: unescapeHtml(action), fields }
}

const app = await buildAuthorizeApp(t, { settings: { issuer: ISSUER, authorizationResponseIss: true, allowedRedirectUriSchemes: ['http', 'https', 'com.example.app'] } })
await app.register(oauthMetadata)
const created = await createCodeApplication(app)
const clientId = created.application.clientId

t.test('form_post: the code, state and iss are POSTed to the redirect URI by a page that works under the strict CSP', async (t) => {
  const state = '"><script>alert(1)</script>&amp;'
  const consent = await fetchConsent(app, codeRequest(clientId, { response_mode: 'form_post', state }))
  t.equal(consent.fields.response_mode, 'form_post', 'the consent form carries the response mode')
  const res = await postDecision(app, consent)
  t.notOk(res.body.includes(state), 'the hostile state never appears raw')
  const { action, fields } = formPost(t, res)
  t.equal(action, REDIRECT_URI)
  t.same(Object.keys(fields), ['code', 'state', 'iss'])
  t.equal(fields.state, state, 'state byte for byte')
  t.equal(fields.iss, ISSUER, 'RFC 9207 iss')
  const token = await app.inject({
    method: 'POST',
    url: '/o/token/',
    headers: { ...FORM, authorization: basicAuth(clientId, created.clientSecret ?? '') },
    payload: form({ grant_type: 'authorization_code', code: fields.code ?? '', redirect_uri: REDIRECT_URI, code_verifier: pkcePair().verifier }),
  })
  t.equal(token.statusCode, 200, 'the posted code redeems')
})

t.test('form_post: redirected errors and the denial go by form_post too', async (t) => {
  const scope = formPost(t, await getAuthorize(app, codeRequest(clientId, { response_mode: 'form_post', scope: 'nonexistent' })))
  t.same(scope.fields, { error: 'invalid_scope', error_description: 'The requested scope is invalid, unknown or exceeds what was granted.', state: 'xyz', iss: ISSUER })
  const denied = formPost(t, await postDecision(app, await fetchConsent(app, codeRequest(clientId, { response_mode: 'form_post' })), { allow: false }))
  t.equal(denied.fields.error, 'access_denied')
  t.equal(denied.action, REDIRECT_URI)
  // The fatal ones stay on the error page: the redirect URI is not trusted.
  assertFatalPage(t, await getAuthorize(app, codeRequest(clientId, { response_mode: 'form_post', redirect_uri: 'https://evil.example/cb' })), 'Mismatching redirect URI.')
})

t.test('response_mode=fragment puts the code in the fragment', async (t) => {
  const res = await postDecision(app, await fetchConsent(app, codeRequest(clientId, { response_mode: 'fragment' })))
  t.equal(res.statusCode, 302)
  t.equal(new URL(String(res.headers.location)).search, '')
  t.type(redirectParams(res, 'fragment').code, 'string')
  t.equal((await getAuthorize(app, codeRequest(clientId, { response_mode: 'query' }))).statusCode, 200, 'query, the default, said explicitly')
})

t.test('an unknown, repeated or unsafe response_mode is refused with invalid_request in the default mode, never ignored', async (t) => {
  for (const mode of ['jwt', 'query.jwt', 'form_post.jwt', 'FORM_POST', 'web_message', ' query']) {
    assertRedirectError(t, await getAuthorize(app, codeRequest(clientId, { response_mode: mode })),
      { error: 'invalid_request', error_description: 'Unsupported response_mode parameter value.', state: 'xyz', iss: ISSUER })
  }
  assertRedirectError(t, await getAuthorize(app, codeRequest(clientId, { response_mode: ['form_post', 'query'] })),
    { error: 'invalid_request', error_description: 'Parameter repeated: response_mode.', state: 'xyz', iss: ISSUER })
  // A native app's custom scheme cannot receive a POST.
  const native = await createCodeApplication(app, { clientType: 'public', redirectUris: ['com.example.app:/cb'] })
  assertRedirectError(t, await getAuthorize(app, codeRequest(native.application.clientId, { redirect_uri: 'com.example.app:/cb', response_mode: 'form_post' })),
    { error: 'invalid_request', error_description: 'response_mode=form_post needs an http or https redirect URI.', state: 'xyz', iss: ISSUER }, { base: 'com.example.app:/cb' })
})

t.test('metadata lists the three response modes', async (t) => {
  const body = (await app.inject('/.well-known/oauth-authorization-server')).json<{ response_modes_supported: string[] }>()
  t.same(body.response_modes_supported, ['query', 'fragment', 'form_post'])
})

t.test('request objects: a bad one is invalid_request_object on the error page (its redirect URI is unproven), at par/ in JSON; a foreign request_uri is refused on the page', async (t) => {
  assertFatalPage(t, await getAuthorize(app, codeRequest(clientId, { request: 'eyJhbGciOiJub25lIn0.e30.' })),
    'The request object is invalid.', 'an unsigned request object', 'invalid_request_object')
  assertFatalPage(t, await getAuthorize(app, codeRequest(clientId, { request: ['a', 'b'] })), 'Parameter repeated: request.')
  const pushed = await app.inject({
    method: 'POST',
    url: '/o/par/',
    headers: { ...FORM, authorization: basicAuth(clientId, created.clientSecret ?? '') },
    payload: form({ ...codeRequest(clientId), request: 'eyJhbGciOiJub25lIn0.e30.' } as Record<string, string>),
  })
  t.equal(pushed.statusCode, 400)
  t.equal(pushed.headers['content-type'], 'application/json; charset=utf-8')
  t.same(pushed.json(), { error: 'invalid_request_object', error_description: 'The request object is invalid.' })
  assertFatalPage(t, await getAuthorize(app, { client_id: clientId, request_uri: 'https://client.example.com/request.jwt', redirect_uri: REDIRECT_URI, response_type: 'code' }),
    'Only request_uri values issued by the pushed authorization request endpoint are supported.', 'request_uri by reference', 'request_uri_not_supported')
  assertFatalPage(t, await getAuthorize(app, { client_id: clientId, request_uri: 'urn:ietf:params:oauth:request_uri:x', request: 'e30' }),
    'Use request or request_uri, not both.', 'request beside request_uri')
})

t.test('with OpenID Connect: query never carries an ID token or access token; form_post does, for the hybrid flows', async (t) => {
  const oidc = await buildOidcApp(t, { settings: { implicitGrantEnabled: true } })
  const hybrid = await createCodeApplication(oidc, { authorizationGrantType: 'openid-hybrid' })
  const base = codeRequest(hybrid.application.clientId, { scope: 'openid', nonce: 'n1' })
  for (const responseType of ['code id_token', 'code token', 'code id_token token']) {
    assertRedirectError(t, await getAuthorize(oidc, { ...base, response_type: responseType, response_mode: 'query' }),
      { error: 'invalid_request', error_description: 'This response type cannot be returned in the query.', state: 'xyz' }, { part: 'fragment' })
  }
  const res = await postDecision(oidc, await fetchConsent(oidc, { ...base, response_type: 'code id_token token', response_mode: 'form_post' }))
  const { action, fields } = formPost(t, res)
  t.equal(action, REDIRECT_URI)
  t.same(Object.keys(fields).sort(), ['access_token', 'code', 'expires_in', 'id_token', 'scope', 'state', 'token_type'])
})

t.test('implicit on: response_type=token refuses the query and is answered in the fragment or by form_post', async (t) => {
  const implicit = await buildAuthorizeApp(t, { settings: { implicitGrantEnabled: true } })
  const client = await createCodeApplication(implicit, { clientType: 'public', authorizationGrantType: 'implicit' })
  const base = { response_type: 'token', client_id: client.application.clientId, redirect_uri: REDIRECT_URI, state: 'xyz' }
  assertRedirectError(t, await getAuthorize(implicit, { ...base, response_mode: 'query' }),
    { error: 'invalid_request', error_description: 'This response type cannot be returned in the query.', state: 'xyz' }, { part: 'fragment' })
  const fragment = await postDecision(implicit, await fetchConsent(implicit, base))
  t.type(redirectParams(fragment, 'fragment').access_token, 'string')
  const posted = formPost(t, await postDecision(implicit, await fetchConsent(implicit, { ...base, response_mode: 'form_post' })))
  t.same(Object.keys(posted.fields), ['access_token', 'token_type', 'expires_in', 'scope', 'state'])
})
