import { readFileSync } from 'node:fs'
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

t.test('every setting is validated: a function where a value belongs is refused, naming the setting', async (t) => {
  for (const key of Object.keys(DEFAULT_SETTINGS)) {
    t.throws(() => resolveSettings({ [key]: () => 1 }), { code: 'OAT_ERR_SETTINGS', message: new RegExp(`invalid settings: .*\\b${key}\\b`) }, key)
  }
})

t.test('names of Object.prototype members are unknown settings, not inherited defaults', async (t) => {
  for (const input of [{ toString: 'x' }, { constructor: 1 }, JSON.parse('{"__proto__": {"accessTokenExpireSeconds": 0}}') as unknown]) {
    t.throws(() => resolveSettings(input), { code: 'OAT_ERR_SETTINGS', message: /unknown setting "(toString|constructor|__proto__)"/ }, JSON.stringify(input))
  }
})

t.test('messages name the setting, the rule and the value refused', async (t) => {
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ requestApprovalPrompt: 'sometimes' }, 'requestApprovalPrompt must be "force" or "auto"; got "sometimes" (a string)'],
    [{ dcrRegistrationPolicy: 'anyone' }, 'dcrRegistrationPolicy must be "user", "initial-access-token" or "open"; got "anyone" (a string)'],
    [{ readScope: 7 }, 'readScope must be a string; got 7 (a number)'],
    [{ verificationCacheSize: -1 }, 'verificationCacheSize must be a non-negative integer (0 turns the cache off); got -1 (a number)'],
    [{ deviceUserCodeLength: 6 }, 'deviceUserCodeLength must be between 8 and 20'],
    [{ clientSecretGeneratorLength: 31 }, 'clientSecretGeneratorLength must be at least 32 (≥ 190 bits of entropy)'],
    [{ parRequestUriLifetimeSeconds: 601 }, 'parRequestUriLifetimeSeconds must be at most 600 (RFC 9126 §2.2)'],
    [{ issuer: 'https://auth.example.com/o/' }, 'issuer must not end with "/"'],
    [{ deviceVerificationUri: 42 }, 'deviceVerificationUri must be a string'],
    [{ protectedResources: [{ resource: 'https://api.example.com', scopesSupported: ['admin'] }] }, 'scopesSupported of https://api.example.com must list scopes from settings.scopes'],
  ]
  for (const [input, message] of cases) {
    t.throws(() => resolveSettings(input), { code: 'OAT_ERR_SETTINGS', message: `fastify-oauth-toolkit: invalid settings: ${message}` }, JSON.stringify(input))
  }
})

t.test('client assertion settings: short lives, small skew, asymmetric algorithms only', async (t) => {
  const s = resolveSettings({})
  t.same([s.clientAssertionMaxLifetimeSeconds, s.clientAssertionClockSkewSeconds, s.clientAssertionLegacyAudience, s.jwksUriCacheSeconds, s.jwksUriRefetchSeconds],
    [300, 10, false, 300, 60])
  t.notOk(s.clientAssertionSigningAlgorithms.some((alg) => alg === 'none' || alg.startsWith('HS')))
  t.throws(() => resolveSettings({ clientAssertionSigningAlgorithms: ['RS256', 'HS256'] }), /clientAssertionSigningAlgorithms may list only the asymmetric JWS algorithms RS256, .+; got "HS256"/)
  t.throws(() => resolveSettings({ clientAssertionSigningAlgorithms: ['none'] }), /got "none"/)
  t.throws(() => resolveSettings({ clientAssertionSigningAlgorithms: [] }), /clientAssertionSigningAlgorithms must not be empty/)
  t.throws(() => resolveSettings({ clientAssertionMaxLifetimeSeconds: 86400 }), /clientAssertionMaxLifetimeSeconds must be at most 3600/)
  t.throws(() => resolveSettings({ clientAssertionClockSkewSeconds: 600 }), /clientAssertionClockSkewSeconds must be at most 300/)
})

t.test('the README settings table has a row for every setting', async (t) => {
  // A setting missing there is one a newcomer never learns of (the table is what they read).
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
  const table = readme.slice(readme.indexOf('\n### Settings\n'), readme.indexOf('\n### PostgreSQL'))
  // A row names its settings first: `a` / `b`, or `backchannelLogoutWaitSeconds` / `…MaxAttempts`
  // (the rest shares the first one's prefix).
  const named = new Set<string>()
  const shortened: Array<{ first: string, suffix: string }> = []
  for (const [, cell] of table.matchAll(/^\| ([^|]+) \|/gm)) {
    const names = [...(cell ?? '').matchAll(/`([^`]+)`/g)].map((m) => m[1] ?? '')
    for (const name of names) {
      if (name.startsWith('…')) shortened.push({ first: names[0] ?? '', suffix: name.slice(1) })
      else named.add(name)
    }
  }
  const inTable = (key: string): boolean => named.has(key) ||
    shortened.some(({ first, suffix }) => key.endsWith(suffix) && first.startsWith(key.slice(0, key.length - suffix.length)))
  t.same(Object.keys(DEFAULT_SETTINGS).filter((key) => !inTable(key)), [])
})
