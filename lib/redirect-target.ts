// Where a login (or any page that takes a return URL) may send the browser next. The rule is
// judged on what a browser will do with the value, not on how it looks: browsers parse a
// `Location` with the WHATWG URL parser, which drops tabs and newlines anywhere, treats `\` as
// `/` in http(s) URLs, and trims leading control characters and spaces. So `/\t/evil.example`
// looks like a path but lands on evil.example (Django's CVE-2017-7233 and its successors).

/** Where a target is resolved when the caller gives no origin: only its path is ever returned. */
const DEFAULT_ORIGIN = 'http://localhost'

/** Longest `next` accepted, in UTF-16 code units: room for an authorization request with a long `state`. */
export const MAX_REDIRECT_TARGET_LENGTH = 8192

/**
 * Characters refused anywhere in a target: C0 and C1 controls and DEL (`\p{Cc}`), Unicode
 * format characters such as bidi overrides, zero-width characters and the BOM (`\p{Cf}`),
 * every Unicode space and line or paragraph separator (`\s`, `\p{Z}`) and lone surrogates
 * (`\p{Cs}`). Browsers strip or rewrite some of these before resolving a URL, and the others
 * make `Location` an invalid header value; none belongs in a path a page of this server links to.
 */
const REFUSED = /[\p{Cc}\p{Cf}\p{Cs}\p{Z}\s]/u

/**
 * A backslash before the query: in an http(s) URL the parser reads it as `/`, which is how
 * `/\evil.example` names a host. In the query and fragment it is an ordinary character (a
 * client's raw `state` may hold one), so it is allowed there.
 */
const BACKSLASH_IN_PATH = /^[^?#]*\\/

/** Options of {@link safeRedirectTarget}. */
export interface SafeRedirectTargetOptions {
  /** Longest value accepted, in UTF-16 code units (default {@link MAX_REDIRECT_TARGET_LENGTH}). */
  maxLength?: number
}

/**
 * The same-origin path a login page may redirect to after login, or `null` when `next` is not
 * one. Only a path-absolute reference (one leading `/`) is accepted; any value that a browser's
 * URL parser (WHATWG URL) would resolve to another origin, or that holds a control, format or
 * whitespace character, or a backslash in its path, is refused, as is anything that is not a string.
 * Absolute URLs are refused even when they name this origin: a page never needs one, and
 * behind a proxy the server may not know its public origin.
 *
 * The result is the path, query and fragment as the URL parser serializes them: ASCII, with
 * everything else percent-encoded, so it is always a valid `Location` header value, and it
 * resolves to the same URL from any page of the origin.
 * @param next the untrusted value (`?next=` or a form field); `unknown` so that arrays and other
 *   shapes a query parser may produce are refused rather than coerced.
 * @param origin the origin the path belongs to (`https://auth.example.com`); only used to check
 *   that the path stays on it.
 * @example
 * const next = safeRedirectTarget(request.query.next) ?? '/'
 * return reply.redirect(next, 303)
 */
export function safeRedirectTarget (next: unknown, origin: string | URL = DEFAULT_ORIGIN, options: SafeRedirectTargetOptions = {}): string | null {
  if (typeof next !== 'string') return null
  if (next.length === 0 || next.length > (options.maxLength ?? MAX_REDIRECT_TARGET_LENGTH)) return null
  // One leading slash: `//host` and `/\host` name another host; `https:evil`, `javascript:` and
  // relative paths are not paths of this origin.
  if (next[0] !== '/' || next[1] === '/' || REFUSED.test(next) || BACKSLASH_IN_PATH.test(next)) return null
  let base: URL
  let resolved: URL
  try {
    // Only the origin counts: a path or credentials in `origin` must not bend the result.
    base = new URL(new URL(origin).origin)
    resolved = new URL(next, base)
  } catch {
    return null
  }
  if (resolved.origin !== base.origin || base.origin === 'null') return null
  // The href after the origin, not pathname + search + hash: those drop an empty `?` or `#`.
  const target = resolved.href.slice(resolved.origin.length)
  // Dot segments can leave a path that starts with `//` (`/..//evil.example` becomes
  // `//evil.example`), which a browser reads as another host: refuse, do not rewrite.
  if (target.startsWith('//')) return null
  return target
}

/**
 * What a page names as the browser's next stop off this server (a client's redirect URI): the
 * origin, or a native app's scheme; the URI itself if it does not parse.
 */
export function redirectTarget (uri: string): string {
  try {
    const url = new URL(uri)
    return url.origin === 'null' ? url.protocol : url.origin
  } catch {
    return uri
  }
}
