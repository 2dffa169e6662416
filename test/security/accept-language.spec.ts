// Attacker-style probes of the pages' language selection: any Accept-Language (random bytes,
// huge lists, odd q-values) gives a page in an offered language, never a 500, never the header
// echoed; a host's message is text, so a catalog cannot inject markup; an app name with markup is
// escaped in every language.
import fc from 'fast-check'
import t from 'tap'
import { buildAuthorizeApp, codeRequest, createCodeApplication, getAuthorize } from '../helpers/authorize.js'
import { ALICE } from '../helpers/index.js'

const MARKER = '<svg/onload=alert(1)>'

t.test('random Accept-Language headers: always a page in en or fr, never a 500, never echoed', async (t) => {
  const app = await buildAuthorizeApp(t)
  const created = await createCodeApplication(app)
  // Header values are visible Latin-1 bytes, tabs and spaces (RFC 9110 §5.5), built from the grammar's pieces and noise.
  const piece = fc.oneof(
    fc.constantFrom('fr', 'FR', 'fr-CA', 'en', 'en-US', '*', 'de', 'zh-Hant-TW', 'i-klingon', 'x-private', 'fr-', '-', ';', ',', 'q=', 'q=0', 'q=1', 'q=0.5', 'q=1.0001', 'q=-1', 'q=NaN', 'q=1e9', ' ', '\t', MARKER),
    fc.string({ unit: fc.integer({ min: 0x21, max: 0xff }).filter((c) => c !== 0x7f).map((c) => String.fromCharCode(c)), maxLength: 12 })
  )
  const header = fc.array(piece, { maxLength: 40 }).map((parts) => parts.join('').trim())
  await fc.assert(fc.asyncProperty(header, async (value) => {
    const res = await getAuthorize(app, codeRequest(created), ALICE.id, { 'accept-language': value })
    const lang = res.headers['content-language']
    return res.statusCode === 200 && (lang === 'en' || lang === 'fr') && res.body.includes(`<html lang="${String(lang)}">`) && !res.body.includes(MARKER)
  }), { numRuns: 150 })
})

t.test('a host message is text: markup in a catalog is escaped, in every language', async (t) => {
  const app = await buildAuthorizeApp(t, { i18n: { messages: { fr: { 'consent.intro': `${MARKER} souhaite :` }, en: { 'consent.allow': MARKER } } } })
  const created = await createCodeApplication(app, { name: `${MARKER}"'` })
  for (const lang of ['en', 'fr']) {
    const res = await getAuthorize(app, codeRequest(created), ALICE.id, { 'accept-language': lang })
    t.equal(res.statusCode, 200)
    t.notMatch(res.body, MARKER, `${lang}: no markup from the catalog or the app name`)
    t.match(res.body, '&lt;svg/onload=alert(1)&gt;&quot;&#39;', `${lang}: the app name is escaped`)
  }
})

t.test('a resolveLocale answer is matched, never reflected', async (t) => {
  const app = await buildAuthorizeApp(t, { i18n: { resolveLocale: () => 'fr"><script>x</script>' } })
  const created = await createCodeApplication(app)
  const res = await getAuthorize(app, codeRequest(created), ALICE.id, { 'accept-language': 'en' })
  t.equal(res.statusCode, 200)
  t.equal(res.headers['content-language'], 'en', 'not an offered language: Accept-Language decides')
  t.notMatch(res.body, '<script>x')
})
