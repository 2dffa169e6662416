import fastifyAccepts from '@fastify/accepts'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { lookupLanguage, type Languages } from '../lib/i18n/languages.js'
import type { CatalogOverrides, Translator } from '../lib/i18n/messages.js'
import type { PageContext } from './templates/layout.js'

/**
 * The host's choice of a page's language (a user preference, a cookie, a path segment): a BCP 47
 * tag, matched against the offered languages like `fr-CA` → `fr`; `null` or no match leaves
 * the choice to the browser's `Accept-Language`.
 */
export type ResolveLocale = (request: FastifyRequest) => Promise<string | null | undefined> | string | null | undefined

/** The plugin's `i18n` option: the languages of the toolkit's pages. */
export interface I18nOptions {
  /**
   * The languages offered, most preferred first; the first is the default (when the browser
   * accepts none of them). Default: English, French, then each language added under `messages`.
   * @example ['en'] // English only, even for browsers that prefer French
   */
  readonly languages?: readonly string[]
  /**
   * Messages by language tag: overrides of shipped ones (`{ en: { 'consent.intro': '…' } }`), or
   * a new language (`{ de: { … } }`; a key it lacks shows in English, and a warning at start lists
   * them). The keys are those of the English catalog (docs/i18n.md); an unknown key, or a
   * `{placeholder}` the English message lacks, fails registration.
   */
  readonly messages?: Readonly<Record<string, CatalogOverrides>>
  /** The host's choice of language, before `Accept-Language` (see `ResolveLocale`). */
  readonly resolveLocale?: ResolveLocale
  /** IANA time zone of the dates the pages show (default `UTC`; the zone is always printed). */
  readonly timeZone?: string
}

/**
 * Content negotiation for the pages' context: @fastify/accepts (negotiator's RFC 9110 §12.5.4
 * Accept-Language matching), unless the host registered it already.
 */
export async function registerLanguageNegotiation (pages: FastifyInstance): Promise<void> {
  if (!pages.hasRequestDecorator('languages')) await pages.register(fastifyAccepts)
}

/** Appends a field name to `Vary`, keeping what another hook put there. */
function addVary (reply: FastifyReply, field: string): void {
  const current = reply.getHeader('vary')
  const fields = (Array.isArray(current) ? current.join(',') : String(current ?? '')).split(',').map((f) => f.trim()).filter((f) => f !== '')
  if (fields.some((f) => f === '*' || f.toLowerCase() === field.toLowerCase())) return
  reply.header('vary', [...fields, field].join(', '))
}

/**
 * The language of a page: the host's `resolveLocale` if it names an offered language, else the
 * best offered one the browser accepts (q-values, `*`, `fr-CA` matching `fr`, `q=0` refusing),
 * else the default. Sets `Content-Language` and `Vary: Accept-Language` on the reply.
 */
export async function pageMessages (request: FastifyRequest, reply: FastifyReply): Promise<Translator> {
  const { languages, resolveLocale } = request.server.oauth
  const chosen = await hostChoice(request, languages, resolveLocale) ?? browserChoice(request, languages)
  const translator = languages.translator(chosen ?? languages.fallback.locale)
  reply.header('content-language', translator.locale)
  addVary(reply, 'Accept-Language')
  return translator
}

async function hostChoice (request: FastifyRequest, languages: Languages, resolveLocale: ResolveLocale | null): Promise<string | null> {
  if (resolveLocale === null) return null
  const tag = await resolveLocale(request)
  return typeof tag === 'string' ? lookupLanguage(tag, languages.tags) : null
}

function browserChoice (request: FastifyRequest, languages: Languages): string | null {
  // Outside the pages' context (no decorator) there is no negotiation: the default language.
  if (typeof request.languages !== 'function') return null
  const found = request.languages([...languages.tags])
  return typeof found === 'string' ? found : null
}

/** The page context of a request: the stylesheet and the negotiated messages (headers set). */
export async function pageContext (request: FastifyRequest, reply: FastifyReply, stylesheet: string): Promise<PageContext> {
  return { stylesheet, messages: await pageMessages(request, reply) }
}

/**
 * The page context of an error page, never failing: a `resolveLocale` that throws (perhaps the
 * very error being shown) gives the default language instead of a second error.
 */
export async function errorPageContext (request: FastifyRequest, reply: FastifyReply, stylesheet: string): Promise<PageContext> {
  try {
    return await pageContext(request, reply, stylesheet)
  } catch (err) {
    request.log.warn({ err }, 'resolveLocale failed; the error page is in the default language')
    const messages = request.server.oauth.languages.fallback
    reply.header('content-language', messages.locale)
    return { stylesheet, messages }
  }
}
