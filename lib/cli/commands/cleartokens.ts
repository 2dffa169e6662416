import type { Settings } from '../../settings.js'
import type { ClearedCounts } from '../../store/types.js'
import { booleanOption } from '../args.js'
import { DATABASE_OPTION, defineCommand, EXIT, HELP_OPTION, PROGRAM, SETTINGS_OPTION, table } from '../command.js'
import { adminServer, loadSettings } from '../config.js'
import { openMigratedStore, resolveDatabaseUrl } from '../database.js'

/**
 * DOT warns when REFRESH_TOKEN_EXPIRE_SECONDS is unset and then clears the rest anyway; so do
 * we. The wording says what that means under the reuse-protection setting.
 */
function refreshExpiryWarning (settings: Settings): string | null {
  if (settings.refreshTokenExpireSeconds !== null) return null
  const consequence = settings.refreshTokenReuseProtection
    ? 'no refresh token is removed (revoked ones are kept for reuse detection until they expire)'
    : `only refresh tokens revoked more than ${settings.refreshTokenGracePeriodSeconds} s ago are removed`
  return `${PROGRAM} cleartokens: warning: refreshTokenExpireSeconds is not set, so refresh tokens never expire and ${consequence}. ` +
    'Set it in a --settings file to clear idle refresh tokens.\n'
}

function summary (counts: ClearedCounts, path: string): string {
  return [`Cleared expired tokens from ${path}:`, ...table([
    ['access tokens:', String(counts.accessTokens)],
    ['refresh tokens:', String(counts.refreshTokens)],
    ['authorization codes:', String(counts.grants)],
    ['ID tokens:', String(counts.idTokens)],
    ['device codes:', String(counts.deviceGrants)],
    ['single-use ids:', String(counts.usedJtis)],
    ['user sessions:', String(counts.sessions)],
  ]), ''].join('\n')
}

/** `cleartokens`: DOT's expired-token cleanup, in batches, printing what it removed. */
export const clearTokensCommand = defineCommand({
  name: 'cleartokens',
  summary: 'Delete expired tokens and authorization codes (run it from cron)',
  description: 'Deletes, in batches of clearExpiredTokensBatchSize with clearExpiredTokensBatchInterval\n' +
    'seconds between them (DOT\'s cleartokens rules): expired access tokens; refresh tokens idle\n' +
    'past refreshTokenExpireSeconds; refresh tokens revoked longer ago than\n' +
    'refreshTokenGracePeriodSeconds (kept until idle expiry when refreshTokenReuseProtection is\n' +
    'on); expired ID tokens no access token refers to; expired authorization codes and\n' +
    'device codes; expired records of used DPoP proof, client assertion and request object ids;\n' +
    'user sessions that ended, and those past oidcSessionExpireSeconds, which are first ended like a\n' +
    'logout (back-channel logout tokens queued for the running servers to deliver).\n' +
    'Warns on stderr when refreshTokenExpireSeconds is not set.',
  positionals: [],
  options: {
    json: booleanOption('Print the counts as one JSON object on stdout'),
    database: DATABASE_OPTION,
    settings: SETTINGS_OPTION,
    help: HELP_OPTION,
  },
  async run ({ values }, { io, deps }) {
    const url = resolveDatabaseUrl(values.database, io.env, 'cleartokens')
    const settings = loadSettings(values.settings)
    const opened = await openMigratedStore(url)
    const warning = refreshExpiryWarning(settings)
    if (warning !== null) io.stderr.write(warning)
    try {
      const counts = await adminServer(opened.store, settings, deps).clearExpiredTokens()
      io.stdout.write(values.json === true
        ? JSON.stringify({ access_tokens: counts.accessTokens, refresh_tokens: counts.refreshTokens, grants: counts.grants, id_tokens: counts.idTokens, device_grants: counts.deviceGrants, used_jtis: counts.usedJtis, sessions: counts.sessions }) + '\n'
        : summary(counts, opened.path))
    } finally {
      await opened.close()
    }
    return EXIT.ok
  },
})
