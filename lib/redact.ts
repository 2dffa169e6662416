/**
 * What may reach a log. A request URL keeps its path and every parameter name, but the values
 * of credential-bearing parameters become `[redacted]` (RFC 6819 §4.6.7, token leakage through logs; DOT #1735,
 * #1736): access and refresh tokens, codes and code verifiers, client secrets, passwords,
 * device and user codes, assertions, ID token hints.
 */

/** Parameter names whose values are credentials (matched case-insensitively, anywhere in the name). */
const SENSITIVE_NAME = /token|secret|password|passwd|code|verifier|assertion|hint|credential|key|session|csrf/i

/** The placeholder written instead of a secret. */
export const REDACTED = '[redacted]'

/** True when a parameter named `name` may carry a credential. */
export function isSensitiveParameter (name: string): boolean {
  return SENSITIVE_NAME.test(name)
}

/**
 * `url` with the values of sensitive query parameters replaced. The query is split on `&` and
 * `;` only and never decoded, so malformed percent-encoding cannot make it throw, and a name
 * hidden behind encoding (`%74oken`) is matched after a lenient decode.
 */
export function redactUrl (url: string): string {
  const mark = url.indexOf('?')
  if (mark < 0) return url
  const path = url.slice(0, mark)
  const hash = url.indexOf('#', mark)
  const query = url.slice(mark + 1, hash < 0 ? undefined : hash)
  const parts = query.split(/([&;])/).map((part) => {
    if (part === '&' || part === ';') return part
    const eq = part.indexOf('=')
    const name = eq < 0 ? part : part.slice(0, eq)
    if (!isSensitiveParameter(lenientDecode(name))) return part
    return `${name}=${REDACTED}`
  })
  return `${path}?${parts.join('')}`
}

function lenientDecode (value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '))
  } catch {
    return value.replace(/%([0-9a-f]{2})/gi, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)))
  }
}

/** The longest value `logSafe` keeps, in code points, before it cuts and appends `…`. */
export const LOG_SAFE_MAX_LENGTH = 128

/**
 * Control (Cc), format (Cf: bidi overrides, zero-width characters), surrogate (Cs) characters
 * and line or paragraph separators (Zl, Zp): they forge or hide log lines (CWE-117) and
 * reorder what a reader sees (Unicode TR 36 §2).
 */
const UNSAFE_IN_LOGS = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/gu

/**
 * A value a request supplied (a `client_id` as given, say) made fit for a log line or a metric
 * label: at most `max` code points (then `…`), and every control or format character written as
 * a visible `\u{…}` escape, so a newline cannot start a forged log entry and a bidi override
 * cannot make one id read as another. Never use it on secrets: it shortens, it does not hide.
 */
export function logSafe (value: string, max = LOG_SAFE_MAX_LENGTH): string {
  // Cut first, so an attacker's megabyte costs one slice; by code points, never inside a pair.
  const long = value.length > max * 2
  const points = Array.from(long ? value.slice(0, max * 2) : value)
  const cut = long || points.length > max
  const kept = cut ? points.slice(0, max).join('') : points.join('')
  const escaped = kept.replace(UNSAFE_IN_LOGS, (ch) => `\\u{${(ch.codePointAt(0) ?? 0).toString(16).toUpperCase()}}`)
  return cut ? `${escaped}…` : escaped
}
