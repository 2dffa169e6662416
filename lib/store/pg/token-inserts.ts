import type { NewIdToken } from '../records.js'
import { toAccessToken, toRefreshToken } from '../shared/mappers.js'
import { ACCESS_TOKEN_UNSET, newAccessTokenToRow, newIdTokenToRow, newRefreshTokenToRow } from '../shared/rows.js'
import type { IssuedTokenRows, TokenIssue } from '../types.js'
import { bulkInsert } from './bulk-insert.js'
import type { PgBulkWrite, PgTx } from './group-commit.js'
import type { PgDb } from './open.js'
import { accessTokens, idTokens, refreshTokens } from './schema.js'

// The inserts of an issuance (ID token, access token, refresh token bound to it), alone or for a
// group of issuances at once: one multi-row INSERT per table, the rows matched back to their
// issuance by their unique keys (jti, token checksum), not by the order RETURNING gives them.

/** The row of an `INSERT … RETURNING`. */
export function one<T> (rows: T[]): T {
  const [row] = rows
  if (row === undefined) throw new Error('INSERT … RETURNING returned no row')
  return row
}

/** Inserts an ID token. */
export async function insertIdToken (t: PgTx | PgDb, idToken: NewIdToken, now: Date): Promise<typeof idTokens.$inferSelect> {
  return one(await t.insert(idTokens).values(newIdTokenToRow(idToken, now)).returning())
}

/** Inserts the tokens of one issuance, in `t`. */
export async function insertTokens (t: PgTx, issue: TokenIssue): Promise<IssuedTokenRows> {
  const idTokenId = issue.idToken == null ? null : (await insertIdToken(t, issue.idToken, issue.now)).id
  const accessToken = toAccessToken(one(await t.insert(accessTokens).values(newAccessTokenToRow(issue.accessToken, idTokenId, issue.now)).returning()))
  if (issue.refreshToken === null) return { accessToken, refreshToken: null }
  const refreshRow = one(await t.insert(refreshTokens).values(newRefreshTokenToRow(issue.refreshToken, accessToken.id, issue.now)).returning())
  return { accessToken, refreshToken: toRefreshToken(refreshRow) }
}

/** `rows` by `key`; a row missing for a key is a bug of the insert, not data. */
function byKey<T> (rows: readonly T[], key: (row: T) => string): (k: string) => T {
  const map = new Map(rows.map((r) => [key(r), r]))
  return (k) => {
    const row = map.get(k)
    if (row === undefined) throw new Error('a multi-row INSERT … RETURNING lacks a row')
    return row
  }
}

/** Inserts the tokens of several issuances, all or none: at most one statement per table. */
export async function insertManyTokens (t: PgTx, issues: readonly TokenIssue[]): Promise<IssuedTokenRows[]> {
  const idTokenRows = issues.flatMap((i) => i.idToken == null ? [] : [newIdTokenToRow(i.idToken, i.now)])
  const idTokenOf = idTokenRows.length === 0
    ? null
    : byKey(await t.insert(idTokens).values(idTokenRows).returning({ id: idTokens.id, jti: idTokens.jti }), (r) => r.jti)
  const accessRows = await t.insert(accessTokens)
    .values(issues.map((i) => newAccessTokenToRow(i.accessToken, i.idToken == null || idTokenOf === null ? null : idTokenOf(i.idToken.jti).id, i.now)))
    .returning()
  const accessOf = byKey(accessRows, (r) => r.tokenChecksum)
  const refreshRows = issues.flatMap((i) => i.refreshToken === null ? [] : [newRefreshTokenToRow(i.refreshToken, accessOf(i.accessToken.checksum).id, i.now)])
  const refreshOf = refreshRows.length === 0 ? null : byKey(await t.insert(refreshTokens).values(refreshRows).returning(), (r) => r.tokenChecksum)
  return issues.map((i) => ({
    accessToken: toAccessToken(accessOf(i.accessToken.checksum)),
    refreshToken: i.refreshToken === null || refreshOf === null ? null : toRefreshToken(refreshOf(i.refreshToken.checksum)),
  }))
}

/**
 * The issuances of a group, in autocommit when one statement writes them all (access tokens
 * only, as client_credentials issues), else in a transaction of their own.
 */
export async function insertManyTokensAlone (db: PgDb, issues: readonly TokenIssue[]): Promise<IssuedTokenRows[]> {
  if (issues.some((i) => i.idToken != null || i.refreshToken !== null)) return await db.transaction(async (t) => await insertManyTokens(t, issues))
  const rows = await accessTokenRows.run(db.$client, issues.map((i) => newAccessTokenToRow(i.accessToken, null, i.now)))
  const accessOf = byKey(rows, (r) => r.tokenChecksum)
  return issues.map((i) => ({ accessToken: toAccessToken(accessOf(i.accessToken.checksum)), refreshToken: null }))
}

/** Access tokens alone, however many, in one prepared statement (bulk-insert.ts). */
const accessTokenRows = bulkInsert(accessTokens, ACCESS_TOKEN_UNSET)

/** Plain issuances (`issueTokens`) for the group commit: a group's are written together. */
export const tokenIssuances: PgBulkWrite<TokenIssue, IssuedTokenRows> = { many: insertManyTokens, one: insertTokens, alone: insertManyTokensAlone }
