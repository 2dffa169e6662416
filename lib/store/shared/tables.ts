import type * as pg from '../pg/schema.js'
import type * as sqlite from '../sqlite/schema.js'

// The types that let one piece of store logic serve both dialects. The two schemas declare the
// same tables with the same keys, and drizzle reads them into the same JS types (numbers,
// strings, booleans, Dates), so a mapper or row builder typed against both is checked against
// both: a column that diverges breaks the build in lib/store/shared/. Type-only imports: the
// SQLite store never loads the PostgreSQL schema, nor the reverse.

/** The tables both dialects have, by their schema export name. */
export type TableName = 'applications' | 'grants' | 'idTokens' | 'accessTokens' | 'refreshTokens' | 'deviceGrants' |
  'clientRegistrations' | 'pushedAuthorizationRequests' | 'usedJtis' | 'sessions' | 'sessionClients' | 'logoutDeliveries'

/** One table of either dialect: what a shared `WHERE` predicate is written against. */
export type AnyTable<K extends TableName> = (typeof sqlite)[K] | (typeof pg)[K]

/** The tables of one dialect (its schema module). */
export type DialectTables = Pick<typeof sqlite, TableName> | Pick<typeof pg, TableName>

/** A row as either dialect reads it. */
export type Row<K extends TableName> = AnyTable<K>['$inferSelect']

/** Insert values both dialects accept. */
export type InsertRow<K extends TableName> = (typeof sqlite)[K]['$inferInsert'] & (typeof pg)[K]['$inferInsert']

/** `UPDATE … SET` values both dialects accept. */
export type RowChanges<K extends TableName> = Partial<InsertRow<K>>
