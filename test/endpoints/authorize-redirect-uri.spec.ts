// The authorization endpoint's fatal errors: an untrustworthy client or redirect URI gets an
// HTML 400 page, never a redirect (RFC 6749 §4.1.2.1; SECURITY-TARGETS RURI-1…6, REDIR-1).
import t from 'tap'
import {
  assertCleanHeaders, assertFatalPage, buildAuthorizeApp, codeRequest, createCodeApplication, fetchConsent, getAuthorize,
  obtainCode, pkcePair, REDIRECT_URI, setupCodeClient,
} from '../helpers/authorize.js'

const { challenge } = pkcePair()
const PKCE = { code_challenge: challenge, code_challenge_method: 'S256' } as const

t.test('missing, unknown, empty and repeated client_id render the error page', async (t) => {
  const { app, clientId } = await setupCodeClient(t)
  const base = { response_type: 'code', redirect_uri: REDIRECT_URI, state: 'xyz', ...PKCE }
  assertFatalPage(t, await getAuthorize(app, base), 'Missing client_id parameter.')
  assertFatalPage(t, await getAuthorize(app, { ...base, client_id: '' }), 'Missing client_id parameter.', 'empty client_id')
  assertFatalPage(t, await getAuthorize(app, { ...base, client_id: 'no-such-client' }), 'Invalid client_id parameter value.')
  assertFatalPage(t, await getAuthorize(app, { ...base, client_id: [clientId, clientId] }), 'Parameter repeated: client_id.')
  // REDIR-1: an unknown client cannot turn an evil redirect_uri into an open redirect.
  const evil = await getAuthorize(app, { ...base, client_id: 'no-such-client', redirect_uri: 'https://evil.example/', response_type: 'bogus' })
  assertFatalPage(t, evil, 'Invalid client_id parameter value.', 'unknown client with evil redirect_uri')
})

t.test('the fatal checks come before login: an anonymous visitor sees the page, not the login redirect', async (t) => {
  const { app } = await setupCodeClient(t)
  const res = await getAuthorize(app, { response_type: 'code', client_id: 'nope', redirect_uri: 'https://evil.example/' }, null)
  assertFatalPage(t, res, 'Invalid client_id parameter value.')
})

t.test('RURI-6 redirect_uri is required when several are registered, optional with one', async (t) => {
  const app = await buildAuthorizeApp(t)
  const two = await createCodeApplication(app, { redirectUris: [REDIRECT_URI, 'https://client.example.com/other'] })
  const res = await getAuthorize(app, { response_type: 'code', client_id: two.application.clientId, state: 's', ...PKCE })
  assertFatalPage(t, res, 'Missing redirect_uri parameter.')
  const empty = await getAuthorize(app, { response_type: 'code', client_id: two.application.clientId, redirect_uri: '', ...PKCE })
  assertFatalPage(t, empty, 'Missing redirect_uri parameter.', 'an empty redirect_uri counts as missing')

  const one = await createCodeApplication(app)
  const consent = await fetchConsent(app, { response_type: 'code', client_id: one.application.clientId, ...PKCE })
  t.equal(consent.fields.redirect_uri, undefined, 'nothing invented in the carried request')
  const code = await obtainCode(app, { response_type: 'code', client_id: one.application.clientId, ...PKCE })
  t.match(code, /^[A-Za-z0-9_-]{43}$/, 'the only registered URI receives the code')
})

t.test('a repeated redirect_uri renders the error page', async (t) => {
  const { app, clientId } = await setupCodeClient(t)
  const res = await getAuthorize(app, codeRequest(clientId, { redirect_uri: [REDIRECT_URI, REDIRECT_URI] }))
  assertFatalPage(t, res, 'Parameter repeated: redirect_uri.')
})

// RURI-1, RURI-2, RURI-3: exact string comparison, no normalisation.
const MUTATIONS = [
  // path and query (RURI-1)
  'https://client.example.com/cb/x',
  'https://client.example.com/cbx',
  'https://client.example.com/cb/',
  'https://client.example.com/CB',
  'https://client.example.com/cb/../x',
  'https://client.example.com/x/../cb',
  'https://client.example.com/./cb',
  'https://client.example.com//cb',
  'https://client.example.com/cb?evil=1',
  'https://client.example.com/cb?',
  'https://client.example.com/cb;evil=1',
  'https://client.example.com/cb#x',
  'https://client.example.com/cb#',
  'https://client.example.com',
  'https://client.example.com/',
  // authority (RURI-2)
  'https://evil@client.example.com/cb',
  'https://client.example.com@evil.example/cb',
  'https://client.example.com:@evil.example/cb',
  'https://client.example.com.evil.net/cb',
  'https://other.example.com/cb',
  'https://example.com/cb',
  'https://client.example.com:8443/cb',
  'https://client.example.com:443/cb',
  'http://client.example.com/cb',
  'https://client.example.com\\@evil.example/cb',
  'https://client.example.com\\.evil.example/cb',
  '//client.example.com/cb',
  'client.example.com/cb',
  'https:client.example.com/cb',
  'javascript://client.example.com/cb%0aalert(1)',
  // encoding tricks (RURI-3)
  'https://client.example.com/%2e%2e/cb',
  'https://client.example.com/cb/%2e%2e/cb',
  'https://client.example.com/cb%252e',
  'https://client.example.com/cb%2F',
  'https://client.example.com/c%62',
  'https://client.example.com/cb%23x',
  'https://client.example.com/cb%3Fevil=1',
  'https://client.example.com/cb%00',
  'https://cl\u0456ent.example.com/cb',
  'https://xn--clent-dze.example.com/cb',
  'https://client.example.com/\uff43b',
  'https://client\uff0eexample.com/cb',
  'https://client.example.com/cb ',
  ' https://client.example.com/cb',
  'https://client.example.com/cb\t',
  'https://client.example.com/cb\r\nSet-Cookie: evil=1',
  'https://client.example.com/cb\n',
]

t.test('RURI-1 RURI-2 RURI-3 every mutation of the registered URI renders the error page and never redirects', async (t) => {
  const { app, clientId } = await setupCodeClient(t)
  for (const uri of MUTATIONS) {
    for (const user of ['user-alice', null]) {
      const res = await getAuthorize(app, codeRequest(clientId, { redirect_uri: uri }), user)
      assertFatalPage(t, res, 'Mismatching redirect URI.', `${JSON.stringify(uri)} (${user ?? 'anonymous'})`)
      assertCleanHeaders(t, res, JSON.stringify(uri))
    }
  }
})

t.test('RURI-3 an exactly registered …/cb%3F is accepted byte for byte, and only that spelling', async (t) => {
  const app = await buildAuthorizeApp(t)
  const registered = 'https://client.example.com/cb%3F'
  const { application } = await createCodeApplication(app, { redirectUris: [registered] })
  const params = codeRequest(application.clientId, { redirect_uri: registered })
  t.equal((await getAuthorize(app, params)).statusCode, 200)
  const code = await obtainCode(app, params)
  t.ok(code)
  for (const uri of ['https://client.example.com/cb%3f', 'https://client.example.com/cb?', 'https://client.example.com/cb%253F']) {
    assertFatalPage(t, await getAuthorize(app, codeRequest(application.clientId, { redirect_uri: uri })), 'Mismatching redirect URI.', uri)
  }
})

t.test('RURI-4 loopback redirect URIs accept any port for 127.0.0.1 and [::1], and nothing else', async (t) => {
  const app = await buildAuthorizeApp(t)
  const { application } = await createCodeApplication(app, { clientType: 'public', redirectUris: ['http://127.0.0.1/cb', 'http://[::1]/cb'] })
  for (const uri of ['http://127.0.0.1:49152/cb', 'http://127.0.0.1/cb', 'http://[::1]:50000/cb', 'http://[::1]/cb']) {
    const params = codeRequest(application.clientId, { redirect_uri: uri })
    const consent = await fetchConsent(app, params)
    t.equal(consent.fields.redirect_uri, uri, `${uri}: consent page`)
    const code = await obtainCode(app, params)
    t.ok(code, `${uri}: a code`)
  }
  for (const uri of [
    'http://localhost:49152/cb',
    'http://localhost/cb',
    'http://127.0.0.1:80@evil.example/cb',
    'http://evil.example@127.0.0.1:49152/cb',
    'http://127.0.0.1.evil.example/cb',
    'http://127.0.0.1:49152/cb?evil=1',
    'http://127.0.0.1:49152/cb/x',
    'http://127.0.0.1:49152/cb#x',
    'http://127.0.0.1:/cb',
    'http://127.0.0.1:99999/cb',
    'http://127.0.0.2:49152/cb',
    'http://[::1]:49152/cb/',
    'http://[0:0:0:0:0:0:0:1]:49152/cb',
    'https://127.0.0.1:49152/cb',
    'HTTP://127.0.0.1:49152/cb',
    'http://2130706433:49152/cb',
  ]) {
    assertFatalPage(t, await getAuthorize(app, codeRequest(application.clientId, { redirect_uri: uri })), 'Mismatching redirect URI.', uri)
  }
})

t.test('RURI-4 the loopback exemption is for real ports only: no :0, no leading zeros, nothing out of range', async (t) => {
  const app = await buildAuthorizeApp(t)
  const { application } = await createCodeApplication(app, { clientType: 'public', redirectUris: ['http://127.0.0.1/cb', 'http://[::1]/cb'] })
  // The URL parser reads ':08080' as 8080 and ':0' as a port: the decision is on the raw text.
  for (const uri of [
    'http://127.0.0.1:0/cb', 'http://127.0.0.1:00/cb', 'http://127.0.0.1:08080/cb', 'http://127.0.0.1:0080/cb', 'http://127.0.0.1:000001/cb',
    'http://127.0.0.1:65536/cb', 'http://127.0.0.1:123456/cb', 'http://[::1]:0/cb', 'http://[::1]:01/cb', 'http://127.0.0.1:+80/cb', 'http://127.0.0.1:8o/cb',
  ]) {
    assertFatalPage(t, await getAuthorize(app, codeRequest(application.clientId, { redirect_uri: uri })), 'Mismatching redirect URI.', uri)
  }
  for (const uri of ['http://127.0.0.1:1/cb', 'http://127.0.0.1:65535/cb', 'http://[::1]:8080/cb']) {
    t.equal((await getAuthorize(app, codeRequest(application.clientId, { redirect_uri: uri }))).statusCode, 200, `${uri}: a real port`)
  }
  // The same rule at registration: a URI whose port is not one a socket prints cannot be registered.
  for (const uri of ['http://127.0.0.1:0/cb', 'http://127.0.0.1:08080/cb', 'https://client.example.com:0443/cb', 'https://client.example.com:/cb']) {
    await t.rejects(createCodeApplication(app, { redirectUris: [uri] }), { name: 'ApplicationValidationError' }, uri)
  }
})

t.test('a registered loopback URI with a port still accepts any port, but no other path', async (t) => {
  const app = await buildAuthorizeApp(t)
  const { application } = await createCodeApplication(app, { clientType: 'public', redirectUris: ['http://127.0.0.1:8000/cb'] })
  t.equal((await getAuthorize(app, codeRequest(application.clientId, { redirect_uri: 'http://127.0.0.1:9000/cb' }))).statusCode, 200)
  assertFatalPage(t, await getAuthorize(app, codeRequest(application.clientId, { redirect_uri: 'http://127.0.0.1:8000/cb2' })), 'Mismatching redirect URI.')
})

t.test('regression: a non-ASCII redirect URI is refused at registration (it made Location throw, a 500)', async (t) => {
  const app = await buildAuthorizeApp(t)
  for (const uri of ['https://client.example.com/\uff43b', 'https://b\u00fccher.example/cb', 'https://client.example.com/caf\u00e9']) {
    await t.rejects(createCodeApplication(app, { redirectUris: [uri] }), { name: 'ApplicationValidationError', message: /must be ASCII/ }, uri)
  }
})

t.test('regression: a stored non-ASCII redirect URI gives the error page, never a 500', async (t) => {
  const app = await buildAuthorizeApp(t)
  const { application } = await createCodeApplication(app)
  const legacy = 'https://client.example.com/\uff43b'
  // A row written before the ASCII rule (or by hand), bypassing registration's validation.
  await app.oauth.store.updateApplication(application.id, { redirectUris: [legacy] }, new Date('2026-01-01T00:00:00Z'))
  const omitted = { response_type: 'bogus', client_id: application.clientId, state: 'xyz' }
  assertFatalPage(t, await getAuthorize(app, omitted), 'Mismatching redirect URI.', 'redirect_uri omitted')
  assertFatalPage(t, await getAuthorize(app, { ...omitted, redirect_uri: legacy }), 'Mismatching redirect URI.', 'redirect_uri given')
})
