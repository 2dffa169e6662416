// How many migrations each dialect ships, read from drizzle's journals, so tests that print or
// count them do not change whenever an issue adds one.
import { readFileSync } from 'node:fs'

function journalLength (dialect: 'sqlite' | 'pg'): number {
  const url = new URL(`../../lib/store/${dialect}/migrations/meta/_journal.json`, import.meta.url)
  return (JSON.parse(readFileSync(url, 'utf8')) as { entries: unknown[] }).entries.length
}

/** Migrations in lib/store/sqlite/migrations. */
export const SQLITE_MIGRATIONS = journalLength('sqlite')
/** Migrations in lib/store/pg/migrations. */
export const PG_MIGRATIONS = journalLength('pg')

/** What `migrate` prints after applying `n` migrations to `path`. */
export function appliedMessage (n: number, path: string): string {
  return `Applied ${n} migration${n === 1 ? '' : 's'} to ${path}.\n`
}
