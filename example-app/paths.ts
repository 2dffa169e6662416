// Where the example app keeps its data: DATABASE_URL, or a SQLite file under example-app/data/.
import { mkdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const DEFAULT_DATABASE = join(dirname(fileURLToPath(import.meta.url)), 'data', 'db.sqlite3')

/** The SQLite path the example app and its manage script use; creates its folder. */
export function exampleDatabasePath (env: NodeJS.ProcessEnv = process.env): string {
  const url = env.DATABASE_URL
  const path = url === undefined || url === '' ? DEFAULT_DATABASE : url.replace(/^(?:sqlite|file):(?:\/\/)?/i, '')
  if (/^postgres(ql)?:/i.test(path)) throw new Error('the example app runs on SQLite; PostgreSQL support comes with the PostgreSQL store')
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
  return path
}
