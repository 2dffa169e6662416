import { escapeHtml, SafeHtml } from '../html.js'
import type { en } from './en.js'

/** A message: plain text with `{name}` placeholders, or plural forms chosen by `{count}` (Intl.PluralRules categories). */
export type Message = string | PluralMessage

/** The forms of a message that depends on a number; `other` is required, as in every language's rules. */
export type PluralMessage = { readonly other: string } & Readonly<Partial<Record<Intl.LDMLPluralRule, string>>>

/** Every message key of the toolkit's pages (the keys of the English catalog). */
export type MessageKey = keyof typeof en

/** A complete catalog: one message for every key. A shipped language typed `Catalog` fails `tsc` when a key is missing. */
export type Catalog = { readonly [K in MessageKey]: Message }

/** Messages a host adds or overrides for one language: any subset of the keys. */
export type CatalogOverrides = { readonly [K in MessageKey]?: Message }

/** The `{name}` placeholders of a message text, as a union of names. */
type NamesIn<S> = S extends `${string}{${infer Name}}${infer Rest}` ? Name | NamesIn<Rest> : never

/** The placeholders of a key, from its English message (every form of a plural one). */
export type MessagePlaceholder<K extends MessageKey> = (typeof en)[K] extends string ? NamesIn<(typeof en)[K]> : NamesIn<(typeof en)[K][keyof (typeof en)[K]]>

/** The keys whose messages take no placeholder (a view can pass one around, e.g. an error description). */
export type PlainMessageKey = { [K in MessageKey]: [MessagePlaceholder<K>] extends [never] ? K : never }[MessageKey]

/** A placeholder value: text (escaped), a number (formatted for the language) or HTML a template built. */
export type MessageValue = string | number | SafeHtml

/** The values of a key's placeholders; keys without placeholders take none. */
export type MessageParams<K extends MessageKey> = [MessagePlaceholder<K>] extends [never]
  ? [params?: Readonly<Record<string, never>>]
  : [params: { readonly [P in MessagePlaceholder<K>]: MessageValue }]

/** The messages and formats of one language, as the pages receive them (`page.messages`). */
export interface Translator {
  /** The BCP 47 tag of the language, for `<html lang>` and `Content-Language`. */
  readonly locale: string
  /** A message as HTML: its text escaped, each placeholder escaped unless it is `SafeHtml`. */
  html<K extends MessageKey>(key: K, ...params: MessageParams<K>): SafeHtml
  /** A message as plain text, for a value the template escapes later (a title, a data field); give it text values, not HTML. */
  text<K extends MessageKey>(key: K, ...params: MessageParams<K>): string
  /** A date and time in the language, in the configured time zone (default UTC), zone shown. */
  dateTime (date: Date): string
  /** A number in the language. */
  number (value: number): string
}

const PLACEHOLDER = /\{([A-Za-z][A-Za-z0-9_]*)\}/g

/** The placeholder names a message text uses (every form of a plural message). */
export function placeholdersOf (message: Message): Set<string> {
  const texts = typeof message === 'string' ? [message] : Object.values(message)
  const names = new Set<string>()
  for (const text of texts) for (const match of text.matchAll(PLACEHOLDER)) names.add(match[1] ?? '')
  return names
}

/**
 * The translator of one language: `catalog` first, then `fallback` (English) for a key the
 * catalog lacks (a host's partial language). Formats are built once: a translator is shared
 * by every request in that language.
 */
export function createTranslator (locale: string, catalog: CatalogOverrides, fallback: Catalog, timeZone = 'UTC'): Translator {
  const plurals = new Intl.PluralRules(locale)
  const numbers = new Intl.NumberFormat(locale)
  const dates = new Intl.DateTimeFormat(locale, {
    year: 'numeric', month: 'long', day: 'numeric', hour: '2-digit', minute: '2-digit', timeZone, timeZoneName: 'short',
  })

  function pick (key: MessageKey, params: Readonly<Record<string, MessageValue>>): string {
    const message: Message = catalog[key] ?? fallback[key]
    if (typeof message === 'string') return message
    const count = params.count
    const category = typeof count === 'number' ? plurals.select(count) : 'other'
    return message[category] ?? message.other
  }

  /** Fills the placeholders; `escape` turns text into HTML (or leaves it as text). An unknown placeholder stays visible. */
  function fill (key: MessageKey, params: Readonly<Record<string, MessageValue>>, escape: (text: string) => string): string {
    const text = pick(key, params)
    let out = ''
    let last = 0
    for (const match of text.matchAll(PLACEHOLDER)) {
      const value = params[match[1] ?? '']
      out += escape(text.slice(last, match.index))
      out += value === undefined
        ? escape(match[0])
        : value instanceof SafeHtml ? value.value : escape(typeof value === 'number' ? numbers.format(value) : value)
      last = match.index + match[0].length
    }
    return out + escape(text.slice(last))
  }

  const none: Readonly<Record<string, MessageValue>> = {}
  return {
    locale,
    html: (key, ...params) => new SafeHtml(fill(key, params[0] ?? none, escapeHtml)),
    text: (key, ...params) => fill(key, params[0] ?? none, (s) => s),
    dateTime: (date) => dates.format(date),
    number: (value) => numbers.format(value),
  }
}
