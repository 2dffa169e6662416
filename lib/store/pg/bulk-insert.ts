import { getTableColumns, getTableName, type Column } from 'drizzle-orm'
import type { PgTable } from 'drizzle-orm/pg-core'
import type pg from 'pg'

// Why: a group of plain issuances is one multi-row INSERT (group-commit.ts), and drizzle builds
// the text of such a statement anew for every group, walking one parameter per column and row:
// under client_credentials load that building was about a third of the server's CPU. This
// statement is written once per table from its drizzle columns, takes one array per column
// (`unnest` turns them back into rows) and is prepared once per connection by name, so a group
// of any size costs one execution with as many parameters as the table has columns.

/** A prepared `INSERT … SELECT FROM unnest(…) RETURNING *` for one table, rows in and rows out as drizzle reads them. */
export interface BulkInsert<Insert, Select> {
  /** Inserts `rows` (every column but those left to the database) in one statement; returns the stored rows, in no set order. */
  run: (client: pg.Pool | pg.PoolClient | pg.Client, rows: readonly Insert[]) => Promise<Select[]>
}

/**
 * The bulk insert of `table`, leaving the columns named in `unset` (the identity) to the database.
 * Values go through each column's own driver mapping both ways, as drizzle's inserts do.
 */
export function bulkInsert<T extends PgTable, U extends string> (table: T, unset: readonly U[]): BulkInsert<Record<Exclude<keyof T['_']['columns'] & string, U>, unknown>, T['$inferSelect']> {
  const all = Object.entries(getTableColumns(table)) as Array<[string, Column]>
  const given = all.filter(([key]) => !(unset as readonly string[]).includes(key))
  const ident = (name: string): string => `"${name.replace(/"/g, '""')}"`
  const text = `INSERT INTO ${ident(getTableName(table))} (${given.map(([, c]) => ident(c.name)).join(', ')}) ` +
    `SELECT * FROM unnest(${given.map(([, c], i) => `$${i + 1}::${c.getSQLType()}[]`).join(', ')}) ` +
    `RETURNING ${all.map(([key, c]) => `${ident(c.name)} AS ${ident(key)}`).join(', ')}`
  // One name per statement text: a connection that prepared it once reuses it for every group.
  const name = `oat_bulk_${getTableName(table)}`
  return {
    async run (client, rows) {
      const values = given.map(([key, column]) => rows.map((row) => {
        const value = (row as Record<string, unknown>)[key]
        return value === null || value === undefined ? null : column.mapToDriverValue(value)
      }))
      const result = await client.query<Record<string, unknown>>({ name, text, values })
      return result.rows.map((raw) => {
        const row: Record<string, unknown> = {}
        for (const [key, column] of all) {
          const value = raw[key]
          row[key] = value === null || value === undefined ? null : column.mapFromDriverValue(value)
        }
        return row as T['$inferSelect']
      })
    },
  }
}
