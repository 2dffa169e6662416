// The example app's management commands: `npm run example -- <command>`.
import { parseArgs } from 'node:util'
import pg from 'pg'
import { openUserStore } from './users.js'
import { exampleDatabase, isPostgresUrl } from './paths.js'

const USAGE = `Usage: npm run example -- createuser <username> --password <password>

Creates a user of the example app (password hashed with scrypt) in the example database
(DATABASE_URL: a SQLite path or a postgres:// URL; default example-app/data/db.sqlite3).`

async function main (argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  if (command === undefined || command === '--help' || command === '-h') {
    process.stdout.write(`${USAGE}\n`)
    return command === undefined ? 2 : 0
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
