import type { Settings } from '../settings.js'
import { CHECKS, type CheckId, type CheckLevel } from './catalogue.js'

/** One problem a deployment check found. */
export interface DeploymentProblem {
  /** Stable id, e.g. `oauth.E002`; silence it with the `silencedChecks` setting or `--silence`. */
  readonly id: CheckId
  readonly level: CheckLevel
  /** What is wrong, with the values that make it so. */
  readonly message: string
  /** How to fix it. */
  readonly hint: string
}

/** The problem `id` with `message`, its level and hint from the catalogue. */
export function problem (id: CheckId, message: string): DeploymentProblem {
  const entry = CHECKS[id]
  return { id, level: entry.level, message, hint: entry.hint }
}

/** RFC 9700 §2: the grants and transports the BCP forbids or discourages, each with its own id (DOT W001–W004, W010). */
function bcpProblems (s: Settings): DeploymentProblem[] {
  const found: DeploymentProblem[] = []
  if (s.passwordGrantEnabled) found.push(problem('oauth.W002', 'RFC 9700 §2.4: the resource owner password credentials grant is enabled (passwordGrantEnabled); the client sees the user\'s password.'))
  if (s.implicitGrantEnabled) found.push(problem('oauth.W003', 'RFC 9700 §2.1.2: the implicit grant is enabled (implicitGrantEnabled); access tokens travel in the URL fragment.'))
  if (s.pkcePlainAllowed) found.push(problem('oauth.W004', 'RFC 9700 §2.1.1: the PKCE "plain" method is accepted (pkcePlainAllowed).'))
  if (!s.pkceRequired) found.push(problem('oauth.W005', 'RFC 9700 §2.1.1: PKCE is not required (pkceRequired is false), so authorization codes can be injected.'))
  if (s.allowQueryStringTokens) found.push(problem('oauth.W006', 'RFC 9700 §4.3.2: access tokens are accepted in the query string (allowQueryStringTokens).'))
  if (s.allowUnsignedRequestObjects) found.push(problem('oauth.W016', 'RFC 9101 §10.2: unsigned request objects (alg none) are accepted (allowUnsignedRequestObjects); they prove nothing about who made the request.'))
  if (!s.authorizationResponseIss) found.push(problem('oauth.W010', 'RFC 9700 §4.4: authorization responses carry no RFC 9207 `iss` (authorizationResponseIss is false), so clients of several servers cannot detect mix-up.'))
  return found
}

/** Refresh tokens: their lifetime and replay detection (RFC 9700 §4.14; DOT W007, W012). */
function refreshProblems (s: Settings): DeploymentProblem[] {
  const found: DeploymentProblem[] = []
  if (s.refreshTokenExpireSeconds === null) {
    found.push(problem('oauth.W007', 'Refresh tokens never expire (refreshTokenExpireSeconds is not set): a stolen one works until revoked, and cleartokens never removes them.'))
  } else if (s.refreshTokenExpireSeconds < s.accessTokenExpireSeconds) {
    found.push(problem('oauth.W009', `Refresh tokens die before the access tokens they renew: refreshTokenExpireSeconds (${s.refreshTokenExpireSeconds}) is shorter than accessTokenExpireSeconds (${s.accessTokenExpireSeconds}).`))
  }
  // FAPI 2.0 §5.3.2.1 item 10 (Note 2): no rotation for its sender-constrained confidential
  // clients, where it adds nothing; rotation there is the exception, reported as such.
  if (s.securityProfile === 'fapi2') {
    if (s.rotateRefreshToken) found.push(problem('oauth.W017', `FAPI 2.0 §5.3.2.1 item 10: refresh tokens rotate (rotateRefreshToken), which the profile allows only in extraordinary circumstances; a superseded one is retried for ${s.refreshTokenGracePeriodSeconds} s (refreshTokenGracePeriodSeconds).`))
  } else if (!s.rotateRefreshToken || !s.refreshTokenReuseProtection) {
    const off = s.rotateRefreshToken ? 'refreshTokenReuseProtection is false' : 'rotateRefreshToken is false'
    found.push(problem('oauth.W008', `RFC 9700 §4.14.2: a replayed refresh token is not detected (${off}).`))
  }
  return found
}

/** Brute-force limits and dynamic registration (RFC 6749 §4.3.2, §2.3.1; RFC 7591 §3). */
function limitProblems (s: Settings): DeploymentProblem[] {
  const found: DeploymentProblem[] = []
  const off = [
    s.rateLimitFailures === null ? 'rateLimitFailures (failed client and password logins per source)' : null,
    s.rateLimitIpFailures === null ? 'rateLimitIpFailures (failures per address)' : null,
    s.dcrEnabled && s.dcrRegistrationPolicy !== 'open' && s.dcrRegistrationRateLimit === null ? 'dcrRegistrationRateLimit (registrations per address)' : null,
  ].filter((x) => x !== null)
  if (off.length > 0) found.push(problem('oauth.W012', `Rate limits are off: ${off.join('; ')}, so online guessing goes unchecked.`))
  if (s.dcrEnabled && s.dcrRegistrationPolicy === 'open') {
    found.push(s.dcrRegistrationRateLimit === null
      ? problem('oauth.E007', 'Dynamic client registration is open to anyone (dcrRegistrationPolicy "open") and unlimited (dcrRegistrationRateLimit null): anyone can write rows without end.')
      : problem('oauth.W011', `Dynamic client registration is open to anyone (dcrRegistrationPolicy "open"), at most ${s.dcrRegistrationRateLimit} per address every ${s.rateLimitWindowSeconds} s.`))
  }
  return found
}

/** The issuer identifier (RFC 8414 §2; OpenID Connect Discovery §4.3). */
function issuerProblems (s: Settings, trustProxy: boolean): DeploymentProblem[] {
  if (s.issuer === null) {
    const headers = trustProxy ? 'Host and X-Forwarded-Host/-Proto headers' : 'Host header'
    return [problem('oauth.E002', `The issuer setting is unset, so the issuer (discovery, ID token \`iss\`, device verification_uri) is taken from each request's ${headers}: anyone can change it, and instances behind a load balancer may disagree.`)]
  }
  // The settings refuse plain http for any other host, so this is the only non-https issuer left.
  if (new URL(s.issuer).protocol === 'http:') {
    return [problem('oauth.W001', `The issuer ${s.issuer} is plain http on a loopback host: clients elsewhere cannot reach it, and nothing protects it in transit.`)]
  }
  return []
}

/** Every problem the settings alone show. */
export function settingsProblems (s: Settings, trustProxy: boolean): DeploymentProblem[] {
  return [...issuerProblems(s, trustProxy), ...bcpProblems(s), ...refreshProblems(s), ...limitProblems(s)]
}
