import t from 'tap'
import { DEFAULT_SETTINGS, defaultScopesOf, resolveSettings } from '../../lib/settings.js'

t.test('defaults are DOT defaults, with RFC 9700 choices', async (t) => {
  const s = resolveSettings({})
  t.equal(s.accessTokenExpireSeconds, 36000)
  t.equal(s.authorizationCodeExpireSeconds, 60)
  t.equal(s.refreshTokenExpireSeconds, null)
  t.equal(s.rotateRefreshToken, true)
  t.equal(s.refreshTokenGracePeriodSeconds, 0)
  t.same(s.scopes, { read: 'Reading scope', write: 'Writing scope' })
  t.same(s.defaultScopes, ['__all__'])
  t.equal(s.pkceRequired, true)
  t.equal(s.passwordGrantEnabled, false)
  t.equal(s.implicitGrantEnabled, false)
  t.equal(s.allowQueryStringTokens, false)
  t.equal(s.clientSecretGeneratorLength, 128)
  t.equal(s.clearExpiredTokensBatchSize, 10000)
  t.same(defaultScopesOf(s), ['read', 'write'])
  t.ok(Object.isFrozen(s) && Object.isFrozen(s.scopes) && Object.isFrozen(DEFAULT_SETTINGS))
})

t.test('BRUTE-1 failure limits: 10 per (client or account, address), 100 per address, a wait of at most 5 s per account', async (t) => {
  const s = resolveSettings({})
  t.same([s.rateLimitFailures, s.rateLimitIpFailures, s.rateLimitAccountDelaySeconds, s.rateLimitWindowSeconds, s.rateLimitRequests], [10, 100, 5, 900, null])
  const off = resolveSettings({ rateLimitFailures: null, rateLimitIpFailures: null, rateLimitAccountDelaySeconds: 0 })
  t.same([off.rateLimitFailures, off.rateLimitIpFailures, off.rateLimitAccountDelaySeconds], [null, null, 0], 'each can be turned off')
  t.equal(resolveSettings({ rateLimitAccountDelaySeconds: 0.5 }).rateLimitAccountDelaySeconds, 0.5, 'fractions of a second are fine')
  t.equal(resolveSettings({ rateLimitAccountDelaySeconds: 30 }).rateLimitAccountDelaySeconds, 30, '30 s is the longest')
  t.throws(() => resolveSettings({ rateLimitAccountDelaySeconds: 31 }), /rateLimitAccountDelaySeconds must be at most 30/)
})

t.test('resolved settings are independent copies', async (t) => {
  const input = { scopes: { a: 'A' }, defaultScopes: ['a'] }
  const s = resolveSettings(input)
  input.scopes.a = 'changed'
  t.equal(s.scopes.a, 'A')
})

const bad: Array<[string, unknown]> = [
  ['not an object', 42],
  ['unknown key', { nope: 1 }],
  ['negative lifetime', { accessTokenExpireSeconds: -1 }],
  ['fractional lifetime', { accessTokenExpireSeconds: 1.5 }],
  ['code lifetime above 10 min', { authorizationCodeExpireSeconds: 601 }],
  ['string boolean', { rotateRefreshToken: 'yes' }],
  ['bad prompt', { requestApprovalPrompt: 'sometimes' }],
  ['empty scopes', { scopes: {} }],
  ['bad scope token', { scopes: { 'a b': 'x' } }],
  ['reserved scope', { scopes: { __all__: 'x' } }],
  ['unknown default scope', { defaultScopes: ['admin'] }],
  ['dangerous scheme', { allowedRedirectUriSchemes: ['https', 'javascript'] }],
  ['no schemes', { allowedRedirectUriSchemes: [] }],
  ['short secrets', { clientSecretGeneratorLength: 8 }],
  ['reuse protection without rotation', { rotateRefreshToken: false, refreshTokenReuseProtection: true }],
  ['negative grace', { refreshTokenGracePeriodSeconds: -1 }],
  ['realm with quote', { realm: 'a"b' }],
  ['zero failures per (client or account, address)', { rateLimitFailures: 0 }],
  ['fractional failures per address', { rateLimitIpFailures: 2.5 }],
  ['zero failures per address', { rateLimitIpFailures: 0 }],
  ['string failures per address', { rateLimitIpFailures: '100' }],
  ['negative account wait', { rateLimitAccountDelaySeconds: -1 }],
  ['account wait past client timeouts', { rateLimitAccountDelaySeconds: 31 }],
  ['account wait turned off with null (0 is the off position)', { rateLimitAccountDelaySeconds: null }],
  ['infinite account wait', { rateLimitAccountDelaySeconds: Number.POSITIVE_INFINITY }],
]
for (const [name, input] of bad) {
  t.test(`rejects ${name} with ImproperlyConfiguredError`, async (t) => {
    t.throws(() => resolveSettings(input), { name: 'ImproperlyConfiguredError', code: 'OAT_ERR_SETTINGS' })
  })
}

t.test('rotation can be turned off together with reuse protection', async (t) => {
  const s = resolveSettings({ rotateRefreshToken: false, refreshTokenReuseProtection: false })
  t.equal(s.rotateRefreshToken, false)
})

t.test('turning rotation off turns reuse protection off unless it is set explicitly', async (t) => {
  t.equal(resolveSettings({ rotateRefreshToken: false }).refreshTokenReuseProtection, false)
  t.throws(() => resolveSettings({ rotateRefreshToken: false, refreshTokenReuseProtection: true }), { code: 'OAT_ERR_SETTINGS' })
  t.equal(resolveSettings({}).refreshTokenReuseProtection, true)
})
