import { DATABASE_OPTION, defineCommand, EXIT, HELP_OPTION } from '../command.js'
import { migrateDatabase, resolveDatabaseUrl } from '../database.js'

/** `migrate`: creates the database file if needed and applies the shipped migrations (idempotent). */
export const migrateCommand = defineCommand({
  name: 'migrate',
  summary: 'Create or update the toolkit\'s tables (safe to run again)',
  description: 'Applies the SQL migrations shipped with this version to the database, creating the\n' +
    'SQLite file if it does not exist (a PostgreSQL database must exist; concurrent runs wait\n' +
    'for each other). Run it after installing or upgrading, before starting the new version;\n' +
    'other commands refuse to work on a database that is not up to date.',
  positionals: [],
  options: { database: DATABASE_OPTION, help: HELP_OPTION },
  async run ({ values }, { io }) {
    const url = resolveDatabaseUrl(values.database, io.env, 'migrate')
    const { path, applied } = await migrateDatabase(url)
    io.stdout.write(applied === 0
      ? `No migrations to apply: ${path} is up to date.\n`
      : `Applied ${applied} migration${applied === 1 ? '' : 's'} to ${path}.\n`)
    return EXIT.ok
  },
})
