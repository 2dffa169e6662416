// The example app's management commands: `npm run example -- <command>`.
import { parseArgs } from 'node:util'
import { checkDeployment } from 'fastify-oauth-toolkit'
import pg from 'pg'
import { exampleSettings } from './app.js'
import { environment } from './environment.js'
import { openUserStore } from './users.js'
import { exampleDatabase, exampleOidcKey, isPostgresUrl } from './paths.js'

const USAGE = `Usage: npm run example -- createuser <username> --password <password>
       npm run example -- check [--json]

createuser creates a user of the example app (password hashed with scrypt) in the example
database (DATABASE_URL: a SQLite path or a postgres:// URL; default example-app/data/db.sqlite3).

check runs the toolkit's deployment checks on the app as npm start would run it, with the same
environment (ISSUER, SESSION_SECRET, OIDC_RSA_PRIVATE_KEY, DATABASE_URL, CIMD_ENABLED); exit status 1 on errors.`

/**
 * The toolkit's deployment checks, given what \`npm start\` gives the plugin: its settings, its
 * database (migrated at start), its signing key and its secret. A deploy script runs this
 * before starting the new version, and stops on a non-zero exit.
 */
async function check (json: boolean): Promise<number> {
  const env = environment()
  const oidcPrivateKey = exampleOidcKey()
  const result = await checkDeployment({
    settings: exampleSettings({ issuer: env.issuer, oidcPrivateKey, cimd: env.cimd }),
    database: exampleDatabase(),
    migrate: true,
    oidc: { privateKey: oidcPrivateKey },
    ...(env.secret === undefined ? {} : { secret: env.secret }),
    ...(env.trustProxy === undefined ? {} : { trustProxy: [...env.trustProxy] }),
  })
  if (json) {
    process.stdout.write(`${JSON.stringify(result)}\n`)
  } else {
    for (const p of result.problems) process.stdout.write(`${p.id} (${p.level}): ${p.message}\n  hint: ${p.hint}\n`)
    process.stdout.write(`${result.errors} error(s), ${result.warnings} warning(s), ${result.silenced.length} silenced\n`)
  }
  return result.errors > 0 ? 1 : 0
}

async function main (argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  if (command === undefined || command === '--help' || command === '-h') {
    process.stdout.write(`${USAGE}\n`)
    return command === undefined ? 2 : 0
  }
  if (command === 'check') {
    const json = rest.length === 1 && rest[0] === '--json'
    if (rest.length > 0 && !json) {
      process.stderr.write(`check takes only --json\n${USAGE}\n`)
      return 2
    }
    return await check(json)
  }
  if (command !== 'createuser') {
    process.stderr.write(`unknown command "${command}"\n${USAGE}\n`)
    return 2
  }
  let parsed
  try {
    parsed = parseArgs({ args: rest, allowPositionals: true, options: { password: { type: 'string' }, help: { type: 'boolean', short: 'h' } } })
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`)
    return 2
  }
  if (parsed.values.help === true) {
    process.stdout.write(`${USAGE}\n`)
    return 0
  }
  const [username] = parsed.positionals
  const password = parsed.values.password
  if (username === undefined || password === undefined || parsed.positionals.length !== 1) {
    process.stderr.write(`createuser needs exactly one <username> and --password\n${USAGE}\n`)
    return 2
  }
  const database = exampleDatabase()
  const pool = isPostgresUrl(database) ? new pg.Pool({ connectionString: database, max: 1 }) : null
  const users = await openUserStore(pool ?? database)
  try {
    const user = await users.create(username, password)
    process.stdout.write(`created user "${user.username}" (id ${user.id})\n`)
    return 0
  } catch (err) {
    process.stderr.write(`createuser: ${(err as Error).message}\n`)
    return 1
  } finally {
    await users.close()
    await pool?.end()
  }
}

process.exitCode = await main(process.argv.slice(2))
