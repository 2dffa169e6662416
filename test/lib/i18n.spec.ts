// The message catalogs and the translator (lib/i18n): every shipped language complete and
// consistent with English, French typography, escaping, plurals, formats, and the host's input
// checked at registration.
import t from 'tap'
import { SafeHtml, html } from '../../lib/html.js'
import { ImproperlyConfiguredError } from '../../lib/errors.js'
import { en } from '../../lib/i18n/en.js'
import { buildLanguages, lookupLanguage, SHIPPED_CATALOGS } from '../../lib/i18n/languages.js'
import { createTranslator, placeholdersOf, type Catalog, type Message, type MessageKey } from '../../lib/i18n/messages.js'

const KEYS = Object.keys(en) as MessageKey[]
const textsOf = (message: Message): string[] => typeof message === 'string' ? [message] : Object.values(message)

t.test('every shipped language has every key, the same placeholders and valid plural forms', async (t) => {
  t.same(Object.keys(SHIPPED_CATALOGS).sort(), ['en', 'fr'])
  for (const [tag, catalog] of Object.entries(SHIPPED_CATALOGS)) {
    t.same(Object.keys(catalog).sort(), [...KEYS].sort(), `${tag}: exactly the English keys`)
    const categories = new Intl.PluralRules(tag).resolvedOptions().pluralCategories
    for (const key of KEYS) {
      const message = catalog[key]
      t.same([...placeholdersOf(message)].sort(), [...placeholdersOf(en[key])].sort(), `${tag} ${key}: same placeholders`)
      t.equal(typeof message === 'string', typeof en[key] === 'string', `${tag} ${key}: plural where English is`)
      if (typeof message !== 'string') {
        t.type(message.other, 'string', `${tag} ${key}: has other`)
        for (const category of Object.keys(message)) t.ok(categories.includes(category as Intl.LDMLPluralRule), `${tag} ${key}: ${category} is a ${tag} plural category`)
      }
      for (const text of textsOf(message)) t.ok(text.trim() !== '' && text === text.trim(), `${tag} ${key}: not empty, no stray spaces`)
    }
  }
})

t.test('French typography: typographic apostrophe, no-break spaces before ; ? ! and :', async (t) => {
  const fr = SHIPPED_CATALOGS.fr as Catalog
  for (const key of KEYS) {
    for (const text of textsOf(fr[key])) {
      t.notMatch(text, /'/, `${key}: ’, not '`)
      t.notMatch(text, /[ \u00a0][;?!]|[^\u202f][;?!]/, `${key}: a narrow no-break space before ; ? !`)
      // A colon inside a URL or a bracketed port is not punctuation.
      t.notMatch(text.replace(/https?:\/\/|\[::1\]|\[:/g, ''), /[^\u00a0]:/, `${key}: a no-break space before :`)
    }
  }
  t.not(fr['consent.intro'], en['consent.intro'], 'translated, not copied')
})

t.test('a message is text: the message and every text value are escaped; HTML values go in as built', async (t) => {
  const tr = createTranslator('en', { 'consent.intro': 'Fish & <chips>:' }, en)
  t.equal(tr.html('consent.intro').value, 'Fish &amp; &lt;chips&gt;:')
  t.equal(tr.text('consent.intro'), 'Fish & <chips>:', 'text() leaves escaping to the template')
  const heading = tr.html('consent.heading', { app: '<script>alert(1)</script>' })
  t.ok(heading instanceof SafeHtml)
  t.equal(heading.value, 'Authorize &lt;script&gt;alert(1)&lt;/script&gt;?')
  t.equal(tr.html('consent.heading', { app: html`<span class="oat-app">${'<b>'}</span>` }).value, 'Authorize <span class="oat-app">&lt;b&gt;</span>?')
  t.equal(String(html`<h1>${tr.html('consent.heading', { app: '"x"' })}</h1>`), '<h1>Authorize &quot;x&quot;?</h1>', 'the result goes into html`` as is')
  // A placeholder the caller did not fill stays visible instead of vanishing.
  t.equal(tr.text('apps.form.editTitle', {} as { name: string }), 'Edit {name}')
})

t.test('plurals follow Intl.PluralRules; numbers and dates follow the language', async (t) => {
  const fr = createTranslator('fr', SHIPPED_CATALOGS.fr as Catalog, en)
  const english = createTranslator('en', en, en)
  t.equal(english.text('apps.list.count', { count: 1 }), '1 application')
  t.equal(english.text('apps.list.count', { count: 0 }), '0 applications')
  t.equal(fr.text('apps.list.count', { count: 0 }), '0 application', 'French: zero is singular')
  t.equal(fr.text('apps.list.count', { count: 1 }), '1 application')
  t.equal(fr.text('tokens.count', { count: 2 }), '2 autorisations actives')
  t.equal(fr.text('apps.list.count', { count: 1234 }), '1\u202f234 applications', 'French digit grouping')
  t.equal(english.text('apps.list.count', { count: 1234 }), '1,234 applications')
  const date = new Date('2026-12-07T21:05:00Z')
  t.match(fr.dateTime(date), /^7 décembre 2026 à 21:05 UTC$/)
  t.match(english.dateTime(date), /^December 7, 2026 at 09:05\sPM UTC$/)
  t.match(createTranslator('fr', {}, en, 'Europe/Paris').dateTime(date), /22:05 UTC\+1/, 'the configured time zone, named')
})

t.test('the host adds a language and overrides messages; partial languages fall back to English', async (t) => {
  const languages = buildLanguages({ messages: { en: { 'consent.allow': 'Let it in' }, 'DE-de': { 'consent.intro': 'Diese Anwendung möchte:' } } })
  t.same(languages.tags, ['en', 'fr', 'de-DE'], 'shipped first, then added ones, canonical')
  t.equal(languages.fallback.locale, 'en')
  const de = languages.translator('de-DE')
  t.equal(de.text('consent.intro'), 'Diese Anwendung möchte:')
  t.equal(de.text('consent.allow'), 'Let it in', 'a missing key shows the English the host configured')
  t.equal(languages.translator('en').text('consent.allow'), 'Let it in')
  t.equal(languages.translator('fr').text('consent.allow'), 'Autoriser', 'other languages keep theirs')
  t.equal(languages.incomplete.get('de-DE')?.length, KEYS.length - 1)
  t.notOk(languages.incomplete.has('fr'))
  t.equal(languages.translator('xx').locale, 'en', 'an unknown tag gives the default')
  const only = buildLanguages({ languages: ['fr', 'en'] })
  t.same(only.tags, ['fr', 'en'])
  t.equal(only.fallback.locale, 'fr', 'the first language is the default')
})

t.test('mistakes in the host\'s messages fail at registration, one line each', async (t) => {
  const cases: Array<[string, Parameters<typeof buildLanguages>[0], RegExp]> = [
    ['unknown key', { messages: { en: { 'consent.titel': 'x' } as never } }, /unknown key "consent\.titel"/],
    ['unknown placeholder', { messages: { fr: { 'consent.heading': 'Autoriser {application} ?' } } }, /uses \{application\}.*it has \{app\}/],
    ['placeholder in a message without any', { messages: { fr: { 'consent.intro': 'Bonjour {name}' } } }, /uses \{name\}.*it has none/],
    ['not a string', { messages: { fr: { 'consent.intro': 42 as never } } }, /must be a string, or plural forms/],
    ['plural without other', { messages: { fr: { 'apps.list.count': { one: '{count} appli' } as never } } }, /plural forms/],
    ['plural with an unknown category', { messages: { fr: { 'apps.list.count': { other: 'x', several: 'y' } as never } } }, /plural forms/],
    ['bad tag', { messages: { 'not a tag!': {} } }, /is not a language tag/],
    ['wildcard tag', { messages: { '*': {} } }, /must be a language tag/],
    ['messages not an object', { messages: 'fr' as never }, /messages must be an object/],
    ['language without messages', { languages: ['en', 'de'] }, /languages has "de", which has no messages/],
    ['empty languages', { languages: [] }, /non-empty list/],
    ['bad time zone', { timeZone: 'Mars/Olympus' }, /not an IANA time zone/],
  ]
  for (const [name, input, message] of cases) {
    let thrown: unknown = null
    try {
      buildLanguages(input)
    } catch (err) {
      thrown = err
    }
    t.ok(thrown instanceof ImproperlyConfiguredError && thrown.code === 'OAT_ERR_OPTIONS', `${name}: ImproperlyConfiguredError`)
    t.match(String((thrown as Error | null)?.message), message, name)
    t.notMatch(String((thrown as Error | null)?.message), /\n/, `${name}: one line`)
  }
})

t.test('RFC 4647 lookup of a tag the host chose', async (t) => {
  const offered = ['en', 'fr', 'zh-Hant', 'pt-BR']
  t.equal(lookupLanguage('fr-CA', offered), 'fr')
  t.equal(lookupLanguage('FR', offered), 'fr', 'case-insensitive')
  t.equal(lookupLanguage('zh-Hant-TW', offered), 'zh-Hant', 'subtags dropped one by one')
  t.equal(lookupLanguage('en-a-bbb', offered), 'en', 'a dangling single-letter subtag is dropped with its extension')
  t.equal(lookupLanguage('pt', offered), null, 'lookup never widens: pt does not pick pt-BR')
  t.equal(lookupLanguage('de', offered), null)
  t.equal(lookupLanguage('', offered), null)
})

t.test('docs/i18n.md lists every key with its English text', async (t) => {
  const { readFile } = await import('node:fs/promises')
  const doc = await readFile(new URL('../../docs/i18n.md', import.meta.url), 'utf8')
  const listed = [...doc.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1])
  t.same(listed, KEYS, 'the table has exactly the keys, in the catalog\'s order')
  for (const key of KEYS) {
    const message = en[key]
    const shown = typeof message === 'string' ? message : Object.entries(message).map(([c, text]) => `${c}: ${text}`).join(' / ')
    t.ok(doc.includes(`| \`${key}\` | ${shown} |`), `${key}: its English text`)
  }
})
