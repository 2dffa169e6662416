// safeRedirectTarget against the WHATWG URL parser (the one browsers use): every accepted value
// stays on the origin however it is resolved, and is a valid header value.
import { validateHeaderValue } from 'node:http'
import fc from 'fast-check'
import t from 'tap'
import { MAX_REDIRECT_TARGET_LENGTH, safeRedirectTarget } from '../../lib/redirect-target.js'

const ORIGIN = 'https://auth.example.com'

/** Characters that matter to URL parsers, plus whole hostnames, biased so that near-misses are common. */
const PIECES = ['/', '/', '/', '\\', '.', '..', ':', '@', '%', '%2f', '%5c', '%09', '%2e', '?', '#', '\t', '\n', '\r', ' ', '\0', '\x7f',
  '\x85', '\u00a0', '\u2028', '\u2029', '\u200b', '\u200d', '\u202e', '\u2066', '\ufeff', '\u3000', '\uff0f', '\uff3c', '\ud800', '\udc00',
  'evil.example', 'javascript:', 'https:', 'http:', 'data:', 'a', 'é', '😀', '&', '=', '|', '^', '`', '"', '<', '>', '{', '}']

const urlish = fc.array(fc.constantFrom(...PIECES), { maxLength: 12 }).map((parts) => parts.join(''))
const candidates = fc.oneof(urlish, urlish.map((s) => `/${s}`), fc.string({ unit: 'grapheme-composite', maxLength: 30 }), fc.string({ unit: 'binary', maxLength: 30 }))

/** A value as an ASCII-only test name (a raw U+2028 would break the TAP stream). */
function show (value: string): string {
  return JSON.stringify(value).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

/** What a browser does with a `Location` header value sent by a page at `page`. */
function browserResolves (location: string, page: string): URL {
  return new URL(location, page)
}

t.test('REDIR-2 fuzz: an accepted target stays on the origin from any page, is a valid header value, and is stable', async (t) => {
  let accepted = 0
  fc.assert(fc.property(candidates, (next) => {
    const target = safeRedirectTarget(next, ORIGIN)
    if (target === null) return
    accepted++
    validateHeaderValue('location', target)
    if (!/^[\x21-\x7e]+$/.test(target)) throw new Error(`${JSON.stringify(next)} -> ${target} is not printable ASCII`)
    for (const page of [`${ORIGIN}/`, `${ORIGIN}/accounts/login/?next=x`, `${ORIGIN}/a/b/c`]) {
      if (browserResolves(target, page).origin !== ORIGIN) throw new Error(`${JSON.stringify(next)} -> ${target} leaves the origin from ${page}`)
      // The raw input too, as a careless caller would use it after the check.
      if (browserResolves(next, page).origin !== ORIGIN) throw new Error(`${JSON.stringify(next)} leaves the origin from ${page}`)
    }
    if (safeRedirectTarget(target, ORIGIN) !== target) throw new Error(`${JSON.stringify(next)} -> ${target} is not stable`)
    if (browserResolves(target, ORIGIN).href !== browserResolves(next, ORIGIN).href) throw new Error(`${JSON.stringify(next)} -> ${target} names another URL`)
  }), { numRuns: 20_000, seed: Number(process.env.OAT_FUZZ_SEED ?? 424242) })
  t.ok(accepted > 1000, `many candidates were accepted (${accepted}), so the property was exercised`)
})

t.test('REDIR-2 fuzz: any string with a control, format or space character anywhere is refused', async () => {
  const bad = fc.constantFrom('\t', '\n', '\r', '\0', '\x1b', '\x7f', '\x85', '\x9f', '\u00a0', '\u00ad', '\u1680', '\u2000', '\u200b', '\u200e',
    '\u2028', '\u2029', '\u202a', '\u202e', '\u2060', '\u2066', '\u2069', '\u3000', '\ufeff')
  fc.assert(fc.property(urlish, bad, urlish, (before, c, after) => {
    if (safeRedirectTarget(`/${before}${c}${after}`, ORIGIN) !== null) throw new Error(`accepted ${JSON.stringify(`/${before}${c}${after}`)}`)
  }), { numRuns: 5_000 })
})

t.test('REDIR-2: known open-redirect tricks are refused', async (t) => {
  const evil = [
    '//evil.example', '//evil.example/', '///evil.example', '/\\evil.example', '\\\\evil.example', '\\/evil.example',
    '/\t/evil.example/', '/\n/evil.example', '/\r\n/evil.example', '\t//evil.example', ' //evil.example', '/ /evil.example',
    'https://evil.example/', 'https:evil.example', 'http:/evil.example', 'javascript:alert(1)', 'JaVaScRiPt:alert(1)',
    'data:text/html,x', '/..//evil.example', '/a/../..//evil.example', '/./..//evil.example', '/%2e%2e//evil.example',
    '/.%2E//evil.example', '\uff0f\uff0fevil.example', '/\u0000', '/\x7f', '/\u2028//evil.example', '/\ufeff/evil.example',
    '/\u202e', 'evil.example', 'relative/path', '', '/'.repeat(2), `/${'a'.repeat(MAX_REDIRECT_TARGET_LENGTH)}`,
  ]
  for (const next of evil) t.equal(safeRedirectTarget(next, ORIGIN), null, show(next))
  for (const next of [undefined, null, 1, ['/ok'], { toString: () => '/ok' }]) t.equal(safeRedirectTarget(next, ORIGIN), null, `not a string: ${String(next)}`)
})

t.test('REDIR-2: a backslash is refused in the path, where a browser reads it as "/", and kept in the query', async (t) => {
  for (const next of ['/\\evil.example', '/a\\b', '/a/..\\/evil.example', '/a\\?q']) t.equal(safeRedirectTarget(next, ORIGIN), null, show(next))
  t.equal(safeRedirectTarget('/o/authorize/?state=a\\b#c\\d', ORIGIN), '/o/authorize/?state=a\\b#c\\d')
})

t.test('same-origin paths pass, normalized as a browser would send them', async (t) => {
  t.equal(safeRedirectTarget('/', ORIGIN), '/')
  t.equal(safeRedirectTarget('/o/authorize/?client_id=a&scope=read%20write#frag', ORIGIN), '/o/authorize/?client_id=a&scope=read%20write#frag')
  t.equal(safeRedirectTarget('/%09/evil.example', ORIGIN), '/%09/evil.example', 'an escaped tab is a path segment, not a stripped one')
  t.equal(safeRedirectTarget('/a/../b', ORIGIN), '/b')
  t.equal(safeRedirectTarget('/café?q=ü', ORIGIN), '/caf%C3%A9?q=%C3%BC')
  t.equal(safeRedirectTarget('/\uff0fevil.example', ORIGIN), '/%EF%BC%8Fevil.example', 'a full-width solidus is only a character of the path')
  t.equal(safeRedirectTarget('/ok'), '/ok', 'the origin is optional')
  t.equal(safeRedirectTarget(`/${'a'.repeat(99)}`, ORIGIN, { maxLength: 50 }), null, 'maxLength')
  t.equal(safeRedirectTarget('/ok', 'not a url'), null, 'a bad origin accepts nothing')
})
