import { ImproperlyConfiguredError } from '../errors.js'
import { en } from './en.js'
import { fr } from './fr.js'
import { createTranslator, placeholdersOf, type Catalog, type CatalogOverrides, type Message, type MessageKey, type Translator } from './messages.js'

/** The languages the toolkit ships, complete: English (the keys' source) and French. */
export const SHIPPED_CATALOGS: Readonly<Record<string, Catalog>> = Object.freeze({ en, fr })

/** What the host configures about the pages' languages (the plugin's `i18n` option, minus the request hook). */
export interface LanguageInput {
  /** The languages offered, most preferred first; the first is the default. */
  readonly languages?: readonly string[]
  /** Messages by language tag: a new language, or overrides of a shipped one. */
  readonly messages?: Readonly<Record<string, CatalogOverrides>>
  /** IANA time zone of the dates the pages show (default `UTC`). */
  readonly timeZone?: string
}

/** The configured languages: one translator each, built once. */
export interface Languages {
  /** The offered tags, canonical (`fr-CA`), default first. */
  readonly tags: readonly string[]
  /** The translator of the default language. */
  readonly fallback: Translator
  /** The translator of an offered tag (exact, canonical), or the default one. */
  translator (tag: string): Translator
  /** Keys a host-added language lacks (they show in English), by tag: for a warning at start. */
  readonly incomplete: ReadonlyMap<string, readonly MessageKey[]>
}

const PLURAL_CATEGORIES: ReadonlySet<string> = new Set(['zero', 'one', 'two', 'few', 'many', 'other'])

function configError (message: string): never {
  throw new ImproperlyConfiguredError('OAT_ERR_OPTIONS', `fastify-oauth-toolkit: i18n: ${message}`)
}

/** A BCP 47 tag in its canonical form (`FR-ca` → `fr-CA`), or a configuration error. */
function canonicalTag (tag: unknown, where: string): string {
  if (typeof tag !== 'string' || tag === '' || tag === '*') configError(`${where} must be a language tag such as "fr" or "pt-BR"`)
  try {
    return Intl.getCanonicalLocales(tag)[0] ?? configError(`${where} "${tag}" is not a language tag`)
  } catch {
    return configError(`${where} "${tag}" is not a language tag`)
  }
}

/** Checks one host message against the English one: same shape, no placeholder English lacks. */
function checkMessage (tag: string, key: string, value: unknown): Message {
  if (!Object.hasOwn(en, key)) configError(`messages.${tag} has an unknown key "${key}" (the keys are those of the English catalog, see docs/i18n.md)`)
  const forms = typeof value === 'string' ? null : value
  if (forms !== null && (typeof forms !== 'object' || Array.isArray(forms) || typeof (forms as Record<string, unknown>).other !== 'string' ||
    Object.entries(forms).some(([category, text]) => !PLURAL_CATEGORIES.has(category) || typeof text !== 'string'))) {
    configError(`messages.${tag}["${key}"] must be a string, or plural forms { one?, other, … } of strings`)
  }
  const message = value as Message
  const allowed = placeholdersOf(en[key as MessageKey])
  for (const name of placeholdersOf(message)) {
    if (!allowed.has(name)) configError(`messages.${tag}["${key}"] uses {${name}}, which that message does not have (it has ${allowed.size === 0 ? 'none' : [...allowed].map((n) => `{${n}}`).join(', ')})`)
  }
  return message
}

/**
 * Builds the languages from the host's input: shipped catalogs with the host's overrides, plus
 * any language the host adds. Every mistake is an `ImproperlyConfiguredError` at registration.
 */
export function buildLanguages (input: LanguageInput = {}): Languages {
  const timeZone = input.timeZone ?? 'UTC'
  try {
    new Intl.DateTimeFormat('en', { timeZone }).format(0)
  } catch {
    configError(`timeZone "${String(timeZone)}" is not an IANA time zone`)
  }
  const catalogs = new Map<string, CatalogOverrides>(Object.entries(SHIPPED_CATALOGS))
  const messages: unknown = input.messages ?? {}
  if (messages === null || typeof messages !== 'object' || Array.isArray(messages)) configError('messages must be an object of language tag → messages')
  for (const [rawTag, overrides] of Object.entries(messages)) {
    const tag = canonicalTag(rawTag, 'a messages key')
    if (overrides === null || typeof overrides !== 'object' || Array.isArray(overrides)) configError(`messages.${tag} must be an object of message key → message`)
    const checked: Record<string, Message> = {}
    for (const [key, value] of Object.entries(overrides as Record<string, unknown>)) checked[key] = checkMessage(tag, key, value)
    catalogs.set(tag, { ...catalogs.get(tag), ...checked })
  }
  if (input.languages !== undefined && (!Array.isArray(input.languages) || input.languages.length === 0)) configError('languages must be a non-empty list of language tags')
  const tags = input.languages === undefined ? [...catalogs.keys()] : [...new Set(input.languages.map((t) => canonicalTag(t, 'languages entry')))]
  for (const tag of tags) if (!catalogs.has(tag)) configError(`languages has "${tag}", which has no messages (add them under messages.${tag})`)

  // A host-added language lacking a key falls back to English as the host configured it.
  const english: Catalog = { ...en, ...catalogs.get('en') }
  const translators = new Map<string, Translator>()
  const incomplete = new Map<string, MessageKey[]>()
  for (const tag of tags) {
    const catalog = catalogs.get(tag) ?? {}
    translators.set(tag, createTranslator(tag, catalog, english, timeZone))
    const missing = (Object.keys(en) as MessageKey[]).filter((key) => catalog[key] === undefined)
    if (missing.length > 0) incomplete.set(tag, missing)
  }
  const fallback = translators.get(tags[0] ?? 'en') ?? createTranslator('en', english, english, timeZone)
  return { tags, fallback, incomplete, translator: (tag) => translators.get(tag) ?? fallback }
}

/**
 * RFC 4647 §3.4 lookup of one tag the host chose among the offered ones: exact (case-insensitive),
 * then shorter and shorter prefixes (`fr-CA` → `fr`), skipping a dangling single-letter subtag.
 * `null` when nothing matches.
 */
export function lookupLanguage (tag: string, offered: readonly string[]): string | null {
  const byLower = new Map(offered.map((t) => [t.toLowerCase(), t]))
  const subtags = tag.trim().toLowerCase().split('-')
  while (subtags.length > 0) {
    const found = byLower.get(subtags.join('-'))
    if (found !== undefined) return found
    subtags.pop()
    if (subtags.length > 0 && (subtags[subtags.length - 1] ?? '').length === 1) subtags.pop()
  }
  return null
}

/** The shipped English messages, for pages rendered without a negotiated language (a host's own page through `pageLayout`). */
export const ENGLISH: Translator = createTranslator('en', en, en)
