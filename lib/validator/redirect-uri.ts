/** Hosts that are the loopback interface (RFC 8252 §7.3, §8.3). */
const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost'])

/** Why a URI cannot be registered, or `null` when it can. */
export function redirectUriProblem (uri: string, allowedSchemes: readonly string[]): string | null {
  if (uri.length > 2000) return 'is longer than 2000 characters'
  if (hasWhiteSpaceOrControl(uri)) return 'contains white space or control characters'
  // RFC 3986 URIs are ASCII; anything else cannot go into a Location header (a 500 before this).
  if (/[^\x21-\x7e]/.test(uri)) return 'must be ASCII (percent-encode other characters; use punycode for hosts)'
  let url: URL
  try {
    url = new URL(uri)
  } catch {
    return 'is not an absolute URI'
  }
  const scheme = url.protocol.slice(0, -1)
  if (!allowedSchemes.includes(scheme)) return `uses the scheme "${scheme}", which is not allowed`
  // RFC 6749 §3.1.2: the endpoint URI MUST NOT include a fragment (a bare trailing "#" too).
  if (uri.includes('#')) return 'must not contain a fragment'
  if (url.username !== '' || url.password !== '' || /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*@/i.test(uri)) return 'must not contain user information'
  // Judged on the raw text: the URL parser reads `:08080` as 8080 and `:0` as a port, but the
  // loopback exemption (RFC 8252 §7.3) compares raw strings and is for ports a socket can use.
  if (!canonicalPort(uri)) return 'must have a port between 1 and 65535 written without leading zeros'
  if (scheme === 'http' || scheme === 'https') {
    if (url.hostname === '') return 'has no host'
    // RFC 9700 §2.6: plain http only for loopback native-app redirects.
    if (scheme === 'http' && !LOOPBACK_HOSTS.has(url.hostname)) return 'must use https unless the host is loopback (127.0.0.1, [::1] or localhost)'
  }
  return null
}

/** Why an origin cannot be registered for CORS, or `null` when it can. */
export function originProblem (origin: string): string | null {
  let url: URL
  try {
    url = new URL(origin)
  } catch {
    return 'is not an origin (scheme://host[:port])'
  }
  if (url.origin !== origin) return 'is not an origin (scheme://host[:port], no path or trailing slash)'
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname))) return 'must use https unless the host is loopback'
  return null
}

/**
 * RFC 6749 §3.1.2.3 with RFC 8252 §7.3: exact string comparison, except that a registered IP
 * loopback URI accepts any real port. Nothing is normalised beyond that (RFC 9700 §2.1: exact matching).
 */
export function redirectUriMatches (registered: string, requested: string): boolean {
  if (registered === requested) return true
  const reg = loopbackParts(registered)
  const req = loopbackParts(requested)
  return reg !== null && req !== null && reg.host === req.host && reg.rest === req.rest
}

function loopbackParts (uri: string): { host: string, rest: string } | null {
  // RFC 8252 §7.3 exempts the port a native app really listens on: 1–65535, as a socket prints
  // it (no `:0`, no leading zeros, no empty port).
  const m = /^http:\/\/(127\.0\.0\.1|\[::1\])(?::([1-9]\d{0,4}))?(\/[^?#]*)?(\?[^#]*)?$/.exec(uri)
  if (m === null || Number(m[2] ?? '80') > 65535) return null
  return { host: m[1] ?? '', rest: (m[3] ?? '') + (m[4] ?? '') }
}

/**
 * True unless the URI's authority holds a port that is empty, zero, has leading zeros or is
 * out of range. URIs without an authority (`com.example.app:/cb`) have no port to judge.
 */
function canonicalPort (uri: string): boolean {
  const authority = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(uri)?.[1]
  if (authority === undefined) return true
  const hostAndPort = authority.slice(authority.lastIndexOf('@') + 1)
  // An IPv6 literal's colons are inside the brackets.
  const afterHost = hostAndPort.startsWith('[') ? hostAndPort.slice(hostAndPort.indexOf(']') + 1) : hostAndPort.slice(hostAndPort.indexOf(':') === -1 ? hostAndPort.length : hostAndPort.indexOf(':'))
  if (afterHost === '') return true
  const m = /^:([1-9]\d{0,4})$/.exec(afterHost)
  return m !== null && Number(m[1]) <= 65535
}

/** True when `value` holds white space, a C0 control character or DEL. */
function hasWhiteSpaceOrControl (value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i)
    if (code <= 0x20 || code === 0x7f || /\s/.test(value[i] ?? '')) return true
  }
  return false
}

/**
 * The problem with an https URL this server calls (a client's `jwks_uri`, OpenID Connect
 * Back-Channel Logout 1.0 §2.2 `backchannel_logout_uri`), or `null`: absolute https, ASCII (as
 * redirect URIs: a URL is ASCII on the wire, and bidi or format characters in a stored URL would
 * mislead whoever reads it on a page or in a log), without user information or a fragment (§2.2:
 * it MUST NOT include one), at most 2000 characters. Plain http is never registered;
 * `outboundHttp.allowHttp` relaxes only the fetching, for tests. The SSRF-safe client checks the
 * address when it connects.
 */
export function calledUrlProblem (value: string): string | null {
  if (value.length > 2000) return 'must be at most 2000 characters'
  if (hasWhiteSpaceOrControl(value)) return 'must not contain white space or control characters'
  if (/[^\x21-\x7e]/.test(value)) return 'must be ASCII (percent-encode other characters; use punycode for hosts)'
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return 'must be an absolute https URL'
  }
  if (url.protocol !== 'https:') return 'must be an https URL'
  if (url.username !== '' || url.password !== '' || /^https:\/\/[^/?#]*@/i.test(value)) return 'must not have user information'
  if (url.hash !== '' || value.includes('#')) return 'must not have a fragment'
  return null
}
