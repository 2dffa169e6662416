import { ImproperlyConfiguredError } from './errors.js'

// A misspelt option (`logingUrl`) would otherwise be ignored in silence and the default used,
// which a newcomer finds only when a page misbehaves. Every plugin of the toolkit checks the
// names it was given against the ones it knows, at registration.

/** The options Fastify itself passes to every plugin it registers (`app.register(plugin, { prefix })`). */
const FASTIFY_REGISTER_OPTIONS: readonly string[] = ['prefix', 'logLevel', 'logSerializers']

/** The known name closest to `name` (at most two edits away), to suggest in the error. */
function closest (name: string, known: readonly string[]): string | null {
  let best: string | null = null
  let bestDistance = 3
  for (const candidate of known) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase())
    if (distance < bestDistance) { best = candidate; bestDistance = distance }
  }
  return best
}

/** Levenshtein distance; names are short, so the quadratic table is fine. */
function editDistance (a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    previous = current
  }
  return previous[b.length] ?? 0
}

/**
 * Fails registration when `options` holds a name that is neither one of `known` nor one of
 * Fastify's own register options, naming it and the closest known name; a name in `renamed`
 * gets its new name instead.
 * @param what how the error names the options (`fastifyOAuthToolkit`, `oauthRoutes`, …).
 * @param renamed former option names → how to write them now.
 */
export function rejectUnknownOptions (what: string, options: object | undefined, known: readonly string[], renamed: Readonly<Record<string, string>> = {}): void {
  if (options === undefined || options === null) return
  checkKeys(what, options, known, [...known, ...FASTIFY_REGISTER_OPTIONS], renamed)
}

/**
 * Fails registration when the object `value` (a nested option such as `sqlite`) holds a key that
 * is not one of `known`, naming it and the closest known key.
 */
export function rejectUnknownKeys (what: string, value: object, known: readonly string[]): void {
  checkKeys(what, value, known, known, {})
}

function checkKeys (what: string, options: object, known: readonly string[], allowed: readonly string[], renamed: Readonly<Record<string, string>>): void {
  for (const name of Object.keys(options)) {
    if (allowed.includes(name)) continue
    const now = Object.hasOwn(renamed, name) ? renamed[name] : undefined
    if (now !== undefined) {
      throw new ImproperlyConfiguredError('OAT_ERR_OPTIONS', `fastify-oauth-toolkit: ${what} option "${name}" is now \`${now}\``)
    }
    const suggestion = closest(name, known)
    throw new ImproperlyConfiguredError('OAT_ERR_OPTIONS',
      `fastify-oauth-toolkit: ${what} has no option "${name}"${suggestion === null ? '' : ` (did you mean "${suggestion}"?)`}; it knows ${known.join(', ')}`)
  }
}

/** A record naming every option of `T` once: the compiler keeps it in step with the options' type. */
export type OptionNames<T> = { readonly [K in keyof Required<T>]: true }
