import { booleanOption, CliUsageError, stringOption } from '../args.js'
import { DATABASE_OPTION, defineCommand, EXIT, HELP_OPTION, SETTINGS_OPTION } from '../command.js'
import { adminServer, loadSettings } from '../config.js'
import { openMigratedStore, resolveDatabaseUrl } from '../database.js'

/** The `--batch-size` value: a positive integer, or the settings' `clearExpiredTokensBatchSize` when absent. */
function batchSize (value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback
  if (!/^[1-9][0-9]{0,8}$/.test(value)) throw new CliUsageError(`--batch-size must be a positive integer; got "${value}"`, 'clearcimdapplications')
  return Number(value)
}

/** `clearcimdapplications`: DOT 3.4's removal of stale Client ID Metadata Document clients. */
export const clearCimdApplicationsCommand = defineCommand({
  name: 'clearcimdapplications',
  summary: 'Delete stale client ID metadata document clients that hold no live tokens',
  description: 'Deletes the applications that client ID metadata documents (cimdEnabled) created\n' +
    'whose document went stale (cimdExpiresAt passed) and that hold no live access token,\n' +
    'unrevoked refresh token, live authorization code or device code. Their expired rows go\n' +
    'with them. A client that comes back is fetched anew. Runs in batches of --batch-size\n' +
    '(default: clearExpiredTokensBatchSize).',
  positionals: [],
  options: {
    'batch-size': stringOption('n', 'Applications deleted per statement'),
    json: booleanOption('Print the count as one JSON object on stdout'),
    database: DATABASE_OPTION,
    settings: SETTINGS_OPTION,
    help: HELP_OPTION,
  },
  async run ({ values }, { io, deps }) {
    const url = resolveDatabaseUrl(values.database, io.env, 'clearcimdapplications')
    const settings = loadSettings(values.settings)
    const size = batchSize(values['batch-size'], settings.clearExpiredTokensBatchSize)
    const opened = await openMigratedStore(url)
    try {
      const deleted = await adminServer(opened.store, settings, deps).clearExpiredCimdApplications({ batchSize: size })
      io.stdout.write(values.json === true
        ? JSON.stringify({ applications: deleted }) + '\n'
        : `Deleted ${deleted} stale client ID metadata document application${deleted === 1 ? '' : 's'} from ${opened.path}.\n`)
    } finally {
      await opened.close()
    }
    return EXIT.ok
  },
})
