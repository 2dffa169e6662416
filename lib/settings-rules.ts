import { isCheckId } from './check/catalogue.js'
import { describeValue } from './describe-value.js'
import { declaredResourceProblem, isWebUrl, sameResource, type ProtectedResourceSettings } from './resource/identifiers.js'
import type { Settings } from './settings.js'
import { ASYMMETRIC_JWS_ALGORITHMS, isAsymmetricAlgorithm } from './tokens/jws-algorithms.js'
import { MAX_DELAY_SECONDS } from './throttle.js'

// How settings are validated: one rule per setting in `SETTING_RULES`, whose type maps every key
// of `Settings` to a rule for exactly that key's type, so a setting added to the interface
// without a rule (or with a rule for another type) does not compile. Rules that relate two
// settings (`CONSTRAINTS`) run once every setting has passed its own rule.

/**
 * Checks one setting's value on its own: what is wrong, as the whole message after "invalid
 * settings: ", or `null`. The type parameter is the setting's type; a rule for `number` is not
 * one for `number | null`.
 */
export interface Rule<T> {
  readonly check: (value: unknown, key: string) => string | null
  /** Never set: ties the rule to `T` both ways (a function of `T` to `T`), so the table's types must match exactly. */
  readonly type?: (value: T) => T
}

function rule<T> (check: (value: unknown, key: string) => string | null): Rule<T> {
  return { check }
}

const boolean = rule<boolean>((v, key) => typeof v === 'boolean' ? null : `${key} must be a boolean; got ${describeValue(v)}`)

const string = rule<string>((v, key) => typeof v === 'string' ? null : `${key} must be a string; got ${describeValue(v)}`)

/** A further limit on a number that passed its rule's type check: a message or `null`. */
type Limit = (v: number, key: string) => string | null

const atMost = (max: number, reason: string): Limit => (v, key) => v <= max ? null : `${key} must be at most ${max} (${reason})`
const atLeast = (min: number, reason: string): Limit => (v, key) => v >= min ? null : `${key} must be at least ${min} (${reason})`
const between = (min: number, max: number): Limit => (v, key) => v >= min && v <= max ? null : `${key} must be between ${min} and ${max}`

function positiveInteger (limit?: Limit): Rule<number> {
  return rule((v, key) => typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0
    ? `${key} must be a positive integer; got ${describeValue(v)}`
    : limit?.(v, key) ?? null)
}

function nonNegativeNumber (limit?: Limit): Rule<number> {
  return rule((v, key) => typeof v !== 'number' || !Number.isFinite(v) || v < 0
    ? `${key} must be a non-negative number; got ${describeValue(v)}`
    : limit?.(v, key) ?? null)
}

/** A cache size: `0` turns the cache off. */
const cacheSize = rule<number>((v, key) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0
  ? null
  : `${key} must be a non-negative integer (0 turns the cache off); got ${describeValue(v)}`)

/** `null` (the setting's "off" or "derive it") or what `inner` accepts. */
function nullable<T> (inner: Rule<T>): Rule<T | null> {
  return rule((v, key) => v === null ? null : inner.check(v, key))
}

function oneOf<const T extends string> (...values: readonly T[]): Rule<T> {
  const quoted = values.map((x) => `"${x}"`)
  const list = quoted.length === 1 ? quoted[0] ?? '' : `${quoted.slice(0, -1).join(', ')} or ${quoted.at(-1) ?? ''}`
  return rule((v, key) => (values as readonly unknown[]).includes(v) ? null : `${key} must be ${list}; got ${describeValue(v)}`)
}

function stringList (each?: (item: string) => string | null): Rule<readonly string[]> {
  return rule((v, key) => {
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) return `${key} must be an array of strings; got ${describeValue(v)}`
    for (const item of v as string[]) {
      const problem = each?.(item) ?? null
      if (problem !== null) return problem
    }
    return null
  })
}

/** A URL string judged by `problem` (which returns the rest of the sentence after the key). */
function url (problem: (value: string) => string | null): Rule<string> {
  return rule((v, key) => {
    const wrong = typeof v === 'string' ? problem(v) : 'must be a string'
    return wrong === null ? null : `${key} ${wrong}`
  })
}

// RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/
const SCHEME = /^[a-z][a-z0-9+.-]*$/

const scopes = rule<Readonly<Record<string, string>>>((v) => {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return 'scopes must be an object of name → description'
  const entries = Object.entries(v)
  if (entries.length === 0) return 'scopes must not be empty'
  for (const [name, description] of entries) {
    if (!SCOPE_TOKEN.test(name)) return `scope name "${name}" is not a valid RFC 6749 scope token`
    if (name === '__all__') return '"__all__" is reserved for defaultScopes'
    if (typeof description !== 'string') return `description of scope "${name}" must be a string`
  }
  return null
})

const redirectSchemes = rule<readonly string[]>((v, key) => {
  if (Array.isArray(v) && v.length === 0) return `${key} must not be empty`
  return stringList((scheme) => {
    if (!SCHEME.test(scheme)) return `"${scheme}" is not a lower-case URI scheme`
    if (['javascript', 'data', 'vbscript', 'file'].includes(scheme)) return `the "${scheme}" scheme is never a safe redirect target`
    return null
  }).check(v, key)
})

const audience = rule<string | readonly string[] | null>((v, key) => {
  if (v === null) return null
  const list: unknown[] = Array.isArray(v) ? v : [v]
  return list.length > 0 && list.every((a) => typeof a === 'string' && a !== '') ? null : `${key} must be a non-empty string or array of strings`
})

// RFC 6750 §3: the realm is a quoted-string; printable ASCII without `"` or `\` needs no escaping.
const realm = rule<string>((v, key) => typeof v === 'string' && /^[\x20\x21\x23-\x5B\x5D-\x7E]*$/.test(v) ? null : `${key} must be printable ASCII without quotes or backslashes`)

/** A `cimdAllowedHosts` / `cimdBlockedHosts` entry: a lower-case host name, optionally with a leading dot (it and its subdomains). */
function hostPatternProblem (pattern: string): string | null {
  return /^\.?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(pattern) || /^\[[0-9a-f:.]+\]$/.test(pattern)
    ? null
    : `"${pattern}" is not a lower-case host name (with an optional leading dot for subdomains)`
}

/** RFC 8414 §2: an https URL with no query or fragment (http only for loopback, for development). */
export function issuerProblem (issuer: string): string | null {
  const problem = httpsUrlProblem(issuer)
  if (problem !== null) return problem
  if (issuer.endsWith('/')) return 'must not end with "/"'
  return null
}

/** An absolute https URL (http only for loopback) without query or fragment; RFC 8628 §3.2 appends `?user_code=` to the verification URI. */
function httpsUrlProblem (value: string): string | null {
  let parsed: URL
  try {
    parsed = new URL(value)
  } catch {
    return 'must be an absolute URL'
  }
  if (parsed.search !== '' || parsed.hash !== '' || value.includes('?') || value.includes('#')) return 'must not have a query or fragment'
  const loopback = ['127.0.0.1', '[::1]', 'localhost'].includes(parsed.hostname)
  if (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && loopback)) return 'must use https (http only for loopback hosts)'
  return null
}

const RESOURCE_KEYS = new Set(['resource', 'scopesSupported', 'authorizationServers', 'bearerMethodsSupported',
  'resourceName', 'resourceDocumentation', 'resourcePolicyUri', 'resourceTosUri', 'metadata'])

/** RFC 9728 §2: every declared resource is well-formed and unique (what it may list is in `CONSTRAINTS`). */
const protectedResources = rule<readonly ProtectedResourceSettings[]>((v, key) => {
  if (!Array.isArray(v)) return `${key} must be an array`
  const seen: string[] = []
  for (const entry of v as unknown[]) {
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) return `each ${key} entry must be an object`
    const r = entry as Record<string, unknown>
    const unknown = Object.keys(r).find((name) => !RESOURCE_KEYS.has(name))
    if (unknown !== undefined) return `unknown ${key} key "${unknown}"`
    const problem = declaredResourceProblem(r.resource)
    if (problem !== null) return `${key} resource ${String(r.resource)} ${problem}`
    const id = r.resource as string
    if (seen.some((other) => sameResource(other, id))) return `${key} declares ${id} twice`
    seen.push(id)
    for (const list of ['scopesSupported', 'bearerMethodsSupported'] as const) {
      if (r[list] !== undefined && (!Array.isArray(r[list]) || !r[list].every((x) => typeof x === 'string'))) return `${list} of ${id} must be an array of strings`
    }
    if (r.authorizationServers !== undefined && (!Array.isArray(r.authorizationServers) || r.authorizationServers.length === 0 ||
      !r.authorizationServers.every((x) => typeof x === 'string' && issuerProblem(x) === null))) {
      return `authorizationServers of ${id} must be a non-empty list of issuer identifiers (https URLs)`
    }
    if (r.resourceName !== undefined && typeof r.resourceName !== 'string') return `resourceName of ${id} must be a string`
    for (const name of ['resourceDocumentation', 'resourcePolicyUri', 'resourceTosUri'] as const) {
      if (r[name] !== undefined && !isWebUrl(r[name])) return `${name} of ${id} must be an http(s) URL`
    }
    if (r.metadata !== undefined && typeof r.metadata !== 'boolean') return `metadata of ${id} must be a boolean`
  }
  return null
})

/**
 * A non-empty list of asymmetric JWS algorithms, for what clients sign with keys they hold
 * (RFC 7523 §3 assertions, RFC 9449 §4.3 step 5 proofs): never `none`, never an HMAC keyed
 * with a shared secret.
 */
const asymmetricAlgorithms = rule<readonly string[]>((v, key) => {
  if (Array.isArray(v) && v.length === 0) return `${key} must not be empty`
  return stringList((alg) => isAsymmetricAlgorithm(alg) ? null : `${key} may list only the asymmetric JWS algorithms ${ASYMMETRIC_JWS_ALGORITHMS.join(', ')}; got "${alg}"`).check(v, key)
})

/** The client authentication method names (RFC 8414 `token_endpoint_auth_methods_supported`). */
const CLIENT_AUTH_METHODS: readonly string[] = ['client_secret_basic', 'client_secret_post', 'client_secret_jwt', 'private_key_jwt', 'none']

/** A non-empty list of client authentication method names. */
const clientAuthMethods = rule<Settings['clientAuthMethods']>((v, key) => {
  if (Array.isArray(v) && v.length === 0) return `${key} must not be empty (no client could authenticate)`
  return stringList((m) => CLIENT_AUTH_METHODS.includes(m) ? null : `${key} may list only ${CLIENT_AUTH_METHODS.join(', ')}; got "${m}"`).check(v, key)
})

/** Every setting's rule, in the interface's (DOT's) order. */
export const SETTING_RULES: { readonly [K in keyof Settings]-?: Rule<Settings[K]> } = {
  authorizationCodeExpireSeconds: positiveInteger(atMost(600, 'RFC 6749 §4.1.2')),
  passwordGrantEnabled: boolean,
  implicitGrantEnabled: boolean,
  pkceRequired: boolean,
  pkcePlainAllowed: boolean,
  allowedRedirectUriSchemes: redirectSchemes,
  requestApprovalPrompt: oneOf('force', 'auto'),
  redirectUriRequired: boolean,
  hybridFlowEnabled: boolean,
  allowQueryStringTokens: boolean,
  accessTokenExpireSeconds: positiveInteger(),
  refreshTokenExpireSeconds: nullable(positiveInteger()),
  rotateRefreshToken: boolean,
  refreshTokenGracePeriodSeconds: nonNegativeNumber(),
  refreshTokenReuseProtection: boolean,
  accessTokenFormat: oneOf('opaque', 'jwt'),
  accessTokenSigningAlgorithm: oneOf('RS256', 'PS256', 'ES256', 'EdDSA'),
  accessTokenDefaultAudience: audience,
  scopes,
  defaultScopes: stringList(),
  readScope: string,
  writeScope: string,
  errorResponseWithScopes: boolean,
  clientIdGeneratorLength: positiveInteger(),
  // 32 characters of the generator's 62 letters (CLIENT_ID_ALPHABET) are ≥ 190 bits: beyond online guessing.
  clientSecretGeneratorLength: positiveInteger(atLeast(32, '≥ 190 bits of entropy')),
  clientAssertionMaxLifetimeSeconds: positiveInteger(atMost(3600, 'each jti is remembered that long')),
  clientAssertionClockSkewSeconds: nonNegativeNumber(atMost(300, 'a small skew, not a longer life')),
  clientAssertionLegacyAudience: boolean,
  clientAssertionSigningAlgorithms: asymmetricAlgorithms,
  clientAuthMethods,
  jwksUriCacheSeconds: positiveInteger(),
  jwksUriRefetchSeconds: nonNegativeNumber(),
  clearExpiredTokensBatchSize: positiveInteger(),
  clearExpiredTokensBatchInterval: nonNegativeNumber(),
  issuer: nullable(url(issuerProblem)),
  authorizationResponseIss: boolean,
  dcrEnabled: boolean,
  dcrRegistrationPolicy: oneOf('user', 'initial-access-token', 'open'),
  dcrRotateRegistrationTokenOnUpdate: boolean,
  dcrRegistrationRateLimit: nullable(positiveInteger()),
  parEnabled: boolean,
  cimdEnabled: boolean,
  cimdAllowedHosts: stringList(hostPatternProblem),
  cimdBlockedHosts: stringList(hostPatternProblem),
  cimdFetchTimeoutSeconds: positiveInteger(atMost(60, 'a request waits for the fetch')),
  // The draft (§6.6) suggests 5 KB; 1 MiB is far past any real client's metadata.
  cimdMaxDocumentSize: positiveInteger(between(256, 1024 * 1024)),
  cimdMetadataMinAgeSeconds: nonNegativeNumber(),
  cimdMetadataMaxAgeSeconds: positiveInteger(),
  cimdFailureBackoffSeconds: nonNegativeNumber(),
  cimdMaxConcurrentFetches: positiveInteger(),
  // RFC 9126 §2.2: short-lived; past 600 s a pushed request is no safer than a front-channel one.
  parRequestUriLifetimeSeconds: positiveInteger(atMost(600, 'RFC 9126 §2.2')),
  requirePushedAuthorizationRequests: boolean,
  requireSignedRequestObject: boolean,
  requestObjectMaxLifetimeSeconds: positiveInteger(atMost(3600, 'each jti is remembered that long')),
  allowUnsignedRequestObjects: boolean,
  bearerChallenge: boolean,
  realm,
  verificationCacheSize: cacheSize,
  verificationCacheSeconds: positiveInteger(),
  clientCacheSize: cacheSize,
  protectedResources,
  resourceIndicatorPolicy: oneOf('declared', 'any'),
  acceptTokensWithoutResource: boolean,
  dpopEnabled: boolean,
  dpopSigningAlgValues: asymmetricAlgorithms,
  // RFC 9449 §11.1: a short window; beyond ten minutes a captured proof is as good as a token.
  dpopProofMaxAgeSeconds: positiveInteger(atMost(600, 'RFC 9449 §11.1')),
  dpopNonceRequired: boolean,
  dpopRequired: boolean,
  rateLimitFailures: nullable(positiveInteger()),
  rateLimitIpFailures: nullable(positiveInteger()),
  rateLimitAccountDelaySeconds: nonNegativeNumber(atMost(MAX_DELAY_SECONDS, 'clients and proxies time out beyond')),
  rateLimitWindowSeconds: positiveInteger(),
  rateLimitRequests: nullable(positiveInteger()),
  deviceFlowEnabled: boolean,
  deviceFlowInterval: positiveInteger(),
  deviceCodeExpireSeconds: positiveInteger(),
  // 8 letters of 20 are ~34.6 bits: enough with rate-limited entry and a short lifetime (RFC 8628 §5.1), not fewer.
  deviceUserCodeLength: positiveInteger(between(8, 20)),
  deviceVerificationUri: nullable(url(httpsUrlProblem)),
  oidcEnabled: boolean,
  idTokenSigningAlgorithm: nullable(oneOf('RS256', 'PS256', 'ES256', 'EdDSA')),
  idTokenExpireSeconds: positiveInteger(),
  oidcRpInitiatedLogoutEnabled: boolean,
  oidcRpInitiatedLogoutAlwaysPrompt: boolean,
  oidcRpInitiatedLogoutAcceptExpiredTokens: boolean,
  oidcRpInitiatedLogoutDeleteTokens: boolean,
  oidcSessionExpireSeconds: positiveInteger(),
  backchannelLogoutWaitSeconds: nonNegativeNumber(atMost(30, 'a user\'s logout must not wait on relying parties for long')),
  backchannelLogoutMaxAttempts: positiveInteger(atMost(20, 'retries past a day help no one')),
  backchannelLogoutRetrySeconds: nonNegativeNumber(atMost(3600, 'the longest wait between retries')),
  backchannelLogoutPollSeconds: nonNegativeNumber(atLeast(0.01, 'a poll loop needs a pause')),
  silencedChecks: stringList((id) => isCheckId(id) ? null : `silencedChecks: "${id}" is not a deployment check id (e.g. "oauth.W007")`),
  securityProfile: nullable(oneOf('fapi2')),
}

/** Rules between settings, checked on settings that each passed their own rule: a message or `null`. */
export const CONSTRAINTS: ReadonlyArray<(s: Settings) => string | null> = [
  (s) => s.requirePushedAuthorizationRequests && !s.parEnabled ? 'requirePushedAuthorizationRequests needs parEnabled' : null,
  (s) => s.cimdMetadataMinAgeSeconds > s.cimdMetadataMaxAgeSeconds ? 'cimdMetadataMinAgeSeconds must not exceed cimdMetadataMaxAgeSeconds' : null,
  (s) => s.refreshTokenReuseProtection && !s.rotateRefreshToken ? 'refreshTokenReuseProtection needs rotateRefreshToken (DOT check W012)' : null,
  (s) => {
    const missing = s.defaultScopes.find((scope) => scope !== '__all__' && !Object.hasOwn(s.scopes, scope))
    return missing === undefined ? null : `default scope "${missing}" is not in scopes`
  },
  // OIDC Core §3.1.2.1: requests carry `openid`, so the server must know it (DOT's SCOPES needs it too).
  (s) => s.oidcEnabled && !Object.hasOwn(s.scopes, 'openid') ? 'oidcEnabled needs an "openid" entry in scopes' : null,
  // RFC 9068: resource servers pin `iss`, which must not follow each request's Host header, and need a default `aud`.
  (s) => s.accessTokenFormat === 'jwt' && s.issuer === null ? 'accessTokenFormat "jwt" needs the issuer setting (the `iss` resource servers check)' : null,
  (s) => s.accessTokenFormat === 'jwt' && s.accessTokenDefaultAudience === null ? 'accessTokenFormat "jwt" needs accessTokenDefaultAudience (RFC 9068 §3: the `aud` when no resource is requested)' : null,
  // RFC 9449 §4.3 step 9: `htu` is compared with this server's URL, which must not follow the Host header.
  (s) => s.dpopEnabled && s.issuer === null ? 'dpopEnabled needs the issuer setting (DPoP proofs name the server\'s URL, taken from the issuer, never from the Host header)' : null,
  (s) => s.dpopNonceRequired && !s.dpopEnabled ? 'dpopNonceRequired needs dpopEnabled' : null,
  (s) => s.dpopRequired && !s.dpopEnabled ? 'dpopRequired needs dpopEnabled' : null,
  (s) => s.securityProfile === 'fapi2' ? fapi2Problem(s) : null,
  // RFC 9728 §2: a resource's metadata says nothing this server would not honour.
  (s) => {
    const wrong = s.protectedResources.find((r) => r.scopesSupported?.some((x) => !Object.hasOwn(s.scopes, x)) === true)
    return wrong === undefined ? null : `scopesSupported of ${wrong.resource} must list scopes from settings.scopes`
  },
  (s) => {
    const offered: readonly string[] = s.allowQueryStringTokens ? ['header', 'query'] : ['header']
    const wrong = s.protectedResources.find((r) => r.bearerMethodsSupported?.some((x) => !offered.includes(x)) === true)
    return wrong === undefined ? null : `bearerMethodsSupported of ${wrong.resource} may only list ${offered.join(' and ')} (what the resource server accepts)`
  },
]

/** FAPI 2.0 Security Profile §5.4.1 item 1: the JWS algorithms of every JWT (and, per its Note, the registered fully-specified Ed25519). */
const FAPI2_ALGORITHMS: readonly string[] = Object.freeze(['PS256', 'ES256', 'EdDSA', 'Ed25519'])

/**
 * What the FAPI 2.0 Security Profile (final) forbids, one rule per setting, each with its clause:
 * `[what must hold, the setting and its requirement, the clause]`. Checked only under
 * `securityProfile: 'fapi2'`, after every setting passed its own rule.
 */
const FAPI2_RULES: ReadonlyArray<readonly [(s: Settings) => boolean, string, string]> = [
  [(s) => !s.passwordGrantEnabled, 'passwordGrantEnabled must be false', '§5.3.2.1 item 2'],
  [(s) => !s.clientAuthMethods.includes('none'), 'clientAuthMethods must not list "none" (confidential clients only)', '§5.3.2.1 item 3'],
  [(s) => s.dpopEnabled && s.dpopRequired, 'dpopEnabled and dpopRequired must be true (sender-constrained access tokens only)', '§5.3.2.1 items 4 and 5'],
  [(s) => s.clientAuthMethods.every((m) => m === 'private_key_jwt'), 'clientAuthMethods may list only "private_key_jwt"', '§5.3.2.1 item 6'],
  [(s) => !s.rotateRefreshToken || s.refreshTokenGracePeriodSeconds > 0,
    'rotateRefreshToken needs refreshTokenGracePeriodSeconds > 0 (a client that lost the new refresh token must be able to retry with the old one)', '§5.3.2.1 item 10, Note 2'],
  [(s) => s.authorizationCodeExpireSeconds <= 60, 'authorizationCodeExpireSeconds must be at most 60', '§5.3.2.1 item 12'],
  [(s) => s.clientAssertionClockSkewSeconds >= 10 && s.clientAssertionClockSkewSeconds <= 60,
    'clientAssertionClockSkewSeconds must be between 10 and 60 (iat/nbf up to 10 s ahead accepted, beyond 60 s refused)', '§5.3.2.1 item 14'],
  [(s) => s.dpopProofMaxAgeSeconds >= 10 && s.dpopProofMaxAgeSeconds <= 60,
    'dpopProofMaxAgeSeconds must be between 10 and 60 (iat up to 10 s ahead accepted, beyond 60 s refused)', '§5.3.2.1 item 14'],
  [(s) => !s.implicitGrantEnabled && !s.hybridFlowEnabled, 'implicitGrantEnabled and hybridFlowEnabled must be false (response_type=code only)', '§5.3.2.2 item 1'],
  [(s) => s.parEnabled && s.requirePushedAuthorizationRequests, 'parEnabled and requirePushedAuthorizationRequests must be true', '§5.3.2.2 items 2 and 3'],
  [(s) => s.pkceRequired && !s.pkcePlainAllowed, 'pkceRequired must be true and pkcePlainAllowed false (S256 only)', '§5.3.2.2 item 5'],
  [(s) => s.redirectUriRequired, 'redirectUriRequired must be true', '§5.3.2.2 item 6'],
  [(s) => s.authorizationResponseIss, 'authorizationResponseIss must be true', '§5.3.2.2 item 7'],
  [(s) => s.parRequestUriLifetimeSeconds < 600, 'parRequestUriLifetimeSeconds must be less than 600', '§5.3.2.2 item 12'],
  [(s) => !s.allowQueryStringTokens, 'allowQueryStringTokens must be false', '§5.3.4 item 2'],
  [(s) => s.clientAssertionSigningAlgorithms.every((a) => FAPI2_ALGORITHMS.includes(a)), 'clientAssertionSigningAlgorithms may list only PS256, ES256 and EdDSA', '§5.4.1 item 1'],
  [(s) => s.dpopSigningAlgValues.every((a) => FAPI2_ALGORITHMS.includes(a)), 'dpopSigningAlgValues may list only PS256, ES256, EdDSA and Ed25519', '§5.4.1 item 1'],
  [(s) => s.accessTokenSigningAlgorithm !== 'RS256', 'accessTokenSigningAlgorithm must be PS256, ES256 or EdDSA', '§5.4.1 item 1'],
  [(s) => s.idTokenSigningAlgorithm !== null && s.idTokenSigningAlgorithm !== 'RS256', 'idTokenSigningAlgorithm must be PS256, ES256 or EdDSA', '§5.4.1 item 1'],
]

/** The first FAPI 2.0 rule `s` breaks, as one line that names the way out, or `null`. */
function fapi2Problem (s: Settings): string | null {
  const broken = FAPI2_RULES.find(([holds]) => !holds(s))
  if (broken === undefined) return null
  const [, requirement, clause] = broken
  return `securityProfile "fapi2": ${requirement} (FAPI 2.0 Security Profile ${clause}); set securityProfile to null to leave the profile`
}
