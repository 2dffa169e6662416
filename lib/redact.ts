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
