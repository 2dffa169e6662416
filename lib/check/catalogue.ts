// The deployment checks' ids, in the manner of Django's system checks (DOT 3.4's `check --deploy`
// registers `oauth2_provider.W001`…): each id is stable, names one problem, has one level and one
// fix. An id is never reused for another problem; `silencedChecks` and `--silence` name them.
// The numbers are this toolkit's own, not DOT's (its W001 is the implicit grant, ours W003):
// DOT's ids follow its settings, which differ.

/** How serious a problem is: an `error` fails `fastify-oauth-toolkit check` (exit 1), a `warning` only with `--fail-level warning`. */
export type CheckLevel = 'error' | 'warning'

interface CheckEntry {
  readonly level: CheckLevel
  /** The fix, shown after the message. */
  readonly hint: string
}

/** Every check: its level and its hint. The messages, which carry values, are built by the checks. */
export const CHECKS = {
  'oauth.E001': {
    level: 'error',
    hint: 'Correct the setting named in the message: the plugin refuses to start with it.',
  },
  'oauth.E002': {
    level: 'error',
    hint: 'Set the issuer setting to the public https URL of the routes, e.g. "https://auth.example.com/o" (RFC 8414 §2).',
  },
  'oauth.E003': {
    level: 'error',
    hint: 'Run `fastify-oauth-toolkit migrate` against this database before starting this version (or pass `migrate: true` to the plugin).',
  },
  'oauth.E004': {
    level: 'error',
    hint: 'Check the database URL or path, that the server is reachable and that this user may read it.',
  },
  'oauth.E005': {
    level: 'error',
    hint: 'Give the plugin `oidc: { privateKey }` (`fastify-oauth-toolkit generatekey` prints one), and the check the same key (`--oidc-key <file>`), or turn oidcEnabled off.',
  },
  'oauth.E006': {
    level: 'error',
    hint: 'Give each algorithm a key of its kind: RSA of at least 2048 bits for RS256 and PS256, P-256 for ES256, Ed25519 for EdDSA, as PEM or JWK (`fastify-oauth-toolkit generatekey --alg <alg>` prints one).',
  },
  'oauth.E007': {
    level: 'error',
    hint: 'Set dcrRegistrationRateLimit (default 20 per address and window), or use the "initial-access-token" or "user" policy.',
  },
  'oauth.W001': {
    level: 'warning',
    hint: 'Plain http is for development on this machine only: set issuer to the https URL clients reach in production.',
  },
  'oauth.W002': {
    level: 'warning',
    hint: 'Set passwordGrantEnabled to false and move its clients to the authorization code flow with PKCE (or the device flow).',
  },
  'oauth.W003': {
    level: 'warning',
    hint: 'Set implicitGrantEnabled to false; browser clients use the authorization code flow with PKCE.',
  },
  'oauth.W004': {
    level: 'warning',
    hint: 'Set pkcePlainAllowed to false: only S256 keeps the verifier secret when the authorization request leaks.',
  },
  'oauth.W005': {
    level: 'warning',
    hint: 'Set pkceRequired to true (the default).',
  },
  'oauth.W006': {
    level: 'warning',
    hint: 'Set allowQueryStringTokens to false: URLs end up in logs, browser history and Referer headers.',
  },
  'oauth.W007': {
    level: 'warning',
    hint: 'Set refreshTokenExpireSeconds (e.g. 2592000, 30 days idle) so that idle refresh tokens die and cleartokens removes them.',
  },
  'oauth.W008': {
    level: 'warning',
    hint: 'Set rotateRefreshToken and refreshTokenReuseProtection to true (the defaults).',
  },
  'oauth.W009': {
    level: 'warning',
    hint: 'Set refreshTokenExpireSeconds to at least accessTokenExpireSeconds.',
  },
  'oauth.W010': {
    level: 'warning',
    hint: 'Set authorizationResponseIss to true (RFC9700_SETTINGS does).',
  },
  'oauth.W011': {
    level: 'warning',
    hint: 'Keep "open" only for clients that must register themselves (MCP); otherwise use "initial-access-token" or "user".',
  },
  'oauth.W012': {
    level: 'warning',
    hint: 'Set the limit named in the message (the defaults: rateLimitFailures 10, rateLimitIpFailures 100, dcrRegistrationRateLimit 20).',
  },
  'oauth.W013': {
    level: 'warning',
    hint: 'Run `fastify-oauth-toolkit cleartokens` regularly (cron, a scheduled job), e.g. daily.',
  },
  'oauth.W014': {
    level: 'warning',
    hint: 'Give the plugin a `secret` of at least 32 random characters, the same on every instance.',
  },
  'oauth.W015': {
    level: 'warning',
    hint: 'Set Fastify\'s trustProxy to your proxy\'s address(es) or hop count instead of true, unless only the proxy can reach the app.',
  },
  'oauth.W016': {
    level: 'warning',
    hint: 'Turn allowUnsignedRequestObjects off and have clients sign their request objects with their registered keys (RFC 9101 §10.2).',
  },
  'oauth.W017': {
    level: 'warning',
    hint: 'Turn rotateRefreshToken off once the migration that needed it is over (FAPI2_SETTINGS does); until then keep refreshTokenGracePeriodSeconds long enough for a client to retry.',
  },
} as const satisfies Readonly<Record<string, CheckEntry>>

/** A check's id, e.g. `oauth.E002`. */
export type CheckId = keyof typeof CHECKS

/** Whether `id` names a check. */
export function isCheckId (id: string): id is CheckId {
  return Object.hasOwn(CHECKS, id)
}
