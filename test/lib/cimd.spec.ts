import t from 'tap'
import { cacheMaxAge, cimdHostProblem, cimdPublisher, cimdUrlProblem, looksLikeCimdUrl, validateCimdDocument } from '../../lib/registration/cimd.js'
import { resolveSettings } from '../../lib/settings.js'

t.test('cimdUrlProblem: the draft\'s URL rules, and one spelling per client', async (t) => {
  for (const ok of ['https://example.com/client.json', 'https://example.com/a/b?x=1', 'https://example.com:8443/c', 'https://xn--bcher-kva.example/c']) {
    t.equal(cimdUrlProblem(ok), null, ok)
  }
  const cases: Array<[string, RegExp]> = [
    ['http://example.com/c', /https scheme/],
    ['HTTPS://example.com/c', /https scheme/],
    ['https://example.com/c#x', /fragment/],
    ['https://example.com/c#', /fragment/],
    ['https://u:p@example.com/c', /user information/],
    ['https://u@example.com/c', /user information/],
    ['https://@example.com/c', /user information/],
    ['https://example.com/a/../c', /path segments/],
    ['https://example.com/./c', /path segments/],
    ['https://example.com/a/%2E%2e/c', /path segments/],
    ['https://example.com/a/..', /path segments/],
    ['https://example.com/', /must have a path/],
    ['https://example.com', /must have a path/],
    ['https://example.com?x=1', /must have a path/],
    ['https://Example.com/c', /normal form/],
    ['https://example.com:443/c', /normal form/],
    ['https://example.com/a b', /normal form/],
    ['https://example.com\\c', /normal form|must have a path/],
    ['https://bücher.example/c', /normal form/],
    [`https://example.com/${'a'.repeat(250)}`, /longer than 255/],
    ['https://', /not a valid URL|must have a path/],
  ]
  for (const [url, reason] of cases) t.match(cimdUrlProblem(url), reason, url)
})

t.test('looksLikeCimdUrl: a scheme and //, which no generated or operator client id has', async (t) => {
  t.ok(looksLikeCimdUrl('https://example.com/c'))
  t.ok(looksLikeCimdUrl('http://example.com/c'))
  t.notOk(looksLikeCimdUrl('AbC123xyz'))
  t.notOk(looksLikeCimdUrl('urn:example:client'))
})

t.test('cimdHostProblem: the block list first, then the allow list; a leading dot covers subdomains', async (t) => {
  const s = { cimdAllowedHosts: ['.example.com', 'other.test'], cimdBlockedHosts: ['bad.example.com'] }
  t.equal(cimdHostProblem(s, 'example.com'), null)
  t.equal(cimdHostProblem(s, 'a.b.example.com'), null)
  t.equal(cimdHostProblem(s, 'other.test'), null)
  t.match(cimdHostProblem(s, 'sub.other.test'), /not allowed/)
  t.match(cimdHostProblem(s, 'notexample.com'), /not allowed/)
  t.match(cimdHostProblem(s, 'bad.example.com'), /blocked/)
  t.equal(cimdHostProblem({ cimdAllowedHosts: [], cimdBlockedHosts: [] }, 'anything.test'), null, 'no allow list: every host not blocked')
})

t.test('cacheMaxAge reads max-age; no-store and no-cache count as 0', async (t) => {
  t.equal(cacheMaxAge('public, max-age=600'), 600)
  t.equal(cacheMaxAge('max-age="60"'), 60)
  t.equal(cacheMaxAge('max-age=600, no-cache'), 0)
  t.equal(cacheMaxAge('no-store'), 0)
  t.equal(cacheMaxAge('max-age=-5'), null)
  t.equal(cacheMaxAge('max-age=abc'), null)
  t.equal(cacheMaxAge(undefined), null)
  t.equal(cacheMaxAge(['public', 'max-age=30']), 30)
})

t.test('cimdPublisher: the host, in its ASCII form', async (t) => {
  t.equal(cimdPublisher('https://notes.example/c.json'), 'notes.example')
  t.equal(cimdPublisher('https://notes.example:8443/c.json'), 'notes.example:8443')
  t.equal(cimdPublisher('https://xn--pypal-4ve.example/c'), 'xn--pypal-4ve.example')
})

t.test('validateCimdDocument: registration rules plus the draft\'s', async (t) => {
  const settings = resolveSettings({ scopes: { read: 'Read' } })
  const url = 'https://example.com/c.json'
  const base = { client_id: url, redirect_uris: ['https://example.com/cb'] }
  const ok = validateCimdDocument(settings, url, base)
  t.equal(ok.clientType, 'public', 'token_endpoint_auth_method defaults to none')
  t.equal(ok.authorizationGrantType, 'authorization-code')
  const keyed = validateCimdDocument(settings, url, { ...base, token_endpoint_auth_method: 'private_key_jwt', jwks_uri: 'https://example.com/jwks.json' })
  t.equal(keyed.clientType, 'confidential')
  const cases: Array<[string, unknown, RegExp]> = [
    ['not an object', 'x', /not a JSON object/],
    ['null', null, /not a JSON object/],
    ['another client_id', { ...base, client_id: 'https://example.com/other.json' }, /not its own URL/],
    ['a client_id differing in case', { ...base, client_id: 'https://EXAMPLE.com/c.json' }, /not its own URL/],
    ['no client_id', { redirect_uris: base.redirect_uris }, /not its own URL/],
    ['client_secret', { ...base, client_secret: 's' }, /client_secret/],
    ['client_secret null', { ...base, client_secret: null }, /client_secret/],
    ['client_secret_post', { ...base, token_endpoint_auth_method: 'client_secret_post' }, /none or private_key_jwt/],
    ['client_secret_jwt', { ...base, token_endpoint_auth_method: 'client_secret_jwt' }, /none or private_key_jwt/],
    ['private_key_jwt without keys', { ...base, token_endpoint_auth_method: 'private_key_jwt' }, /needs jwks or jwks_uri/],
    ['no redirect_uris', { client_id: url }, /no redirect_uris/],
    ['a javascript: redirect URI', { ...base, redirect_uris: ['javascript:alert(1)'] }, /not acceptable client metadata/],
    ['an unknown scope', { ...base, scope: 'admin' }, /scope/],
    ['the password grant', { ...base, token_endpoint_auth_method: 'private_key_jwt', jwks_uri: 'https://example.com/j', grant_types: ['password'], response_types: [] }, /grant/],
  ]
  for (const [name, doc, reason] of cases) t.throws(() => validateCimdDocument(settings, url, doc), reason, name)
})

t.test('settings: defaults as DOT 3.4, and validated', async (t) => {
  const s = resolveSettings({})
  t.same([s.cimdEnabled, s.cimdAllowedHosts, s.cimdBlockedHosts, s.cimdFetchTimeoutSeconds, s.cimdMaxDocumentSize, s.cimdMetadataMinAgeSeconds,
    s.cimdMetadataMaxAgeSeconds, s.cimdFailureBackoffSeconds, s.cimdMaxConcurrentFetches], [false, [], [], 5, 16384, 300, 86400, 60, 10])
  t.throws(() => resolveSettings({ cimdEnabled: 'yes' as unknown as boolean }), /cimdEnabled must be a boolean/)
  t.throws(() => resolveSettings({ cimdAllowedHosts: ['Example.com'] }), /"Example.com" is not a lower-case host name/)
  t.throws(() => resolveSettings({ cimdBlockedHosts: ['https://example.com'] }), /not a lower-case host name/)
  t.throws(() => resolveSettings({ cimdFetchTimeoutSeconds: 0 }), /cimdFetchTimeoutSeconds must be a positive integer/)
  t.throws(() => resolveSettings({ cimdFetchTimeoutSeconds: 120 }), /cimdFetchTimeoutSeconds must be at most 60/)
  t.throws(() => resolveSettings({ cimdMaxDocumentSize: 10 }), /cimdMaxDocumentSize must be between 256 and 1048576/)
  t.throws(() => resolveSettings({ cimdMaxConcurrentFetches: 0 }), /cimdMaxConcurrentFetches must be a positive integer/)
  t.throws(() => resolveSettings({ cimdMetadataMinAgeSeconds: 1000, cimdMetadataMaxAgeSeconds: 500 }), /cimdMetadataMinAgeSeconds must not exceed cimdMetadataMaxAgeSeconds/)
  t.same(resolveSettings({ cimdAllowedHosts: ['.example.com', 'a-b.test', '10.0.0.1'] }).cimdAllowedHosts, ['.example.com', 'a-b.test', '10.0.0.1'])
})
