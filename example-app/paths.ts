// Where the example app keeps its data: DATABASE_URL (a SQLite path or URL, or a postgres:// URL),
// or a SQLite file under example-app/data/.
import { mkdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const DEFAULT_DATABASE = join(dirname(fileURLToPath(import.meta.url)), 'data', 'db.sqlite3')

/** Whether the example database is PostgreSQL (several instances can share it). */
export function isPostgresUrl (database: string): boolean {
  return /^postgres(ql)?:\/\//i.test(database)
}

/** The database the example app and its manage script use: a postgres:// URL as given, else a SQLite path (its folder created). */
export function exampleDatabase (env: NodeJS.ProcessEnv = process.env): string {
  const url = env.DATABASE_URL
  if (url !== undefined && isPostgresUrl(url)) return url
  const path = url === undefined || url === '' ? DEFAULT_DATABASE : url.replace(/^(?:sqlite|file):(?:\/\/)?/i, '')
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
  return path
}
