import { and, eq, isNotNull, lt, or, sql, type SQL } from 'drizzle-orm'
import type { ClearedCounts, ClearExpiredRules, DevicePollResult, IssuedTokenRows, IssueResult, RevokedFamily, RevokedRefreshToken } from '../types.js'
import { endsWithSession, type ConditionalUpdate } from './rules.js'
import type { AnyTable, DialectTables } from './tables.js'

// Pure decisions of the store, for both dialects: they read what a dialect fetched and say what
// to write, or drive a dialect's statements in the one order the rule needs.

/** Thrown inside a transaction to roll it back when a conditional update matched nothing. */
export class LostRace extends Error {}

/**
 * A conditional issuance (code or device-code redemption, rotation, replacement): `{ ok: false }`
 * when the transaction `run` rolled back because its conditional update lost (`LostRace`): a
 * concurrent request or a replay got there first.
 */
export async function conditionalIssue (run: () => Promise<IssuedTokenRows>): Promise<IssueResult> {
  try {
    return { ok: true, rows: await run() }
  } catch (err) {
    if (err instanceof LostRace) return { ok: false }
    throw err
  }
}

/**
 * RFC 8628 §3.5: a poll of device authorization `id` sooner than the interval after the previous
 * one is too fast, and the interval then grows by `slowDownSeconds`. `polled` is the row as read
 * in the poll's transaction (locked against concurrent polls of the same device code), or
 * `undefined` when it is gone (`null`: nothing to record). `record` writes the poll and the
 * interval now in force.
 */
export function devicePoll (deviceGrants: AnyTable<'deviceGrants'>, id: number, polled: { readonly interval: number, readonly lastPolledAt: Date | null } | undefined,
  now: Date, slowDownSeconds: number): { readonly result: DevicePollResult, readonly record: ConditionalUpdate<'deviceGrants'> } | null {
  if (polled === undefined) return null
  const tooFast = polled.lastPolledAt !== null && now.getTime() - polled.lastPolledAt.getTime() < polled.interval * 1000
  const interval = tooFast ? polled.interval + slowDownSeconds : polled.interval
  return { result: { tooFast, interval }, record: { set: { lastPolledAt: now, interval, updatedAt: now }, where: eq(deviceGrants.id, id) } }
}

/** The tables `clearExpired` deletes from, by their schema export name. */
export type ClearedTable = 'refreshTokens' | 'accessTokens' | 'idTokens' | 'grants' | 'deviceGrants' | 'usedJtis' | 'sessions'

/** How one dialect deletes the rows of a `clearExpired` step and reports expired access tokens. */
export interface ClearExpiredSteps {
  /**
   * Deletes the rows of the dialect's `table` that `where` matches, in batches; returns how many.
   * `expiredBefore` is set for access tokens, all of which expired before it.
   */
  readonly deleteInBatches: (table: ClearedTable, where: SQL | undefined, expiredBefore?: Date) => Promise<number>
  /** The expired access tokens are gone: caches must not serve tokens expired before `before` (the invalidation rule). */
  readonly tokensExpired: (before: Date) => Promise<void>
}

/**
 * `clearExpired` (DOT's `cleartokens`), in its order: refresh tokens revoked or idle past the
 * cut-offs (none when both are `null`, kept for reuse detection), expired access tokens, then
 * expired ID tokens no access token refers to any more, expired codes, device
 * authorizations and single-use values. Every access token deleted had expired at `rules.now`, so caches hear `expired`
 * (a cache refuses such tokens anyway, unless its clock is behind), not `all`.
 */
export async function clearExpired (s: DialectTables, rules: ClearExpiredRules, steps: ClearExpiredSteps): Promise<ClearedCounts> {
  const { refreshTokens, accessTokens, idTokens, grants, deviceGrants, usedJtis, sessions } = s
  const idle: SQL[] = []
  if (rules.revokedBefore !== null) idle.push(lt(refreshTokens.revokedAt, rules.revokedBefore))
  if (rules.refreshCreatedBefore !== null) idle.push(lt(refreshTokens.createdAt, rules.refreshCreatedBefore))
  const refreshCount = idle.length === 0 ? 0 : await steps.deleteInBatches('refreshTokens', or(...idle))
  const accessCount = await steps.deleteInBatches('accessTokens', lt(accessTokens.expiresAt, rules.now), rules.now)
  await steps.tokensExpired(rules.now)
  const idTokenCount = await steps.deleteInBatches('idTokens', and(lt(idTokens.expiresAt, rules.now),
    sql`NOT EXISTS (SELECT 1 FROM ${accessTokens} WHERE ${accessTokens.idTokenId} = ${idTokens.id})`))
  const grantCount = await steps.deleteInBatches('grants', lt(grants.expiresAt, rules.now))
  const deviceCount = await steps.deleteInBatches('deviceGrants', lt(deviceGrants.expiresAt, rules.now))
  const usedJtiCount = await steps.deleteInBatches('usedJtis', lt(usedJtis.expiresAt, rules.now))
  // Ended sessions (their logout tokens are queued in rows of their own) and expired ones.
  // `clearExpiredTokens` ends the expired ones first, so their relying parties are told; a
  // session deleted here unended is one whose clients are told nothing.
  const sessionCount = await steps.deleteInBatches('sessions', or(isNotNull(sessions.endedAt), lt(sessions.expiresAt, rules.now)))
  return {
    accessTokens: accessCount, refreshTokens: refreshCount, grants: grantCount, idTokens: idTokenCount, deviceGrants: deviceCount, usedJtis: usedJtiCount, sessions: sessionCount,
  }
}

/** A live refresh token of a session, as the transaction that ends the session reads it. */
export interface SessionRefreshToken {
  readonly family: string
  readonly scope: string
  /** The client id of its application (joined in the same read). */
  readonly clientId: string
}

/**
 * The refresh token families a session's end revokes (Back-Channel Logout 1.0 §2.7: those
 * without `offline_access`), each once, with its application's client id.
 */
export function familiesEndingWithSession (live: readonly SessionRefreshToken[]): Map<string, string> {
  const families = new Map<string, string>()
  for (const token of live) if (endsWithSession(token.scope)) families.set(token.family, token.clientId)
  return families
}

/**
 * What one family's revocation reports, from the rows its conditional UPDATE returned: `null`
 * when it revoked nothing (another transaction revoked the family first, and reports it itself),
 * else the newest refresh token it revoked (the one the client holds).
 */
export function revokedFamilyOf (revoked: readonly RevokedRefreshToken[], clientId: string): RevokedFamily | null {
  let newest: RevokedRefreshToken | undefined
  for (const token of revoked) if (newest === undefined || token.id > newest.id) newest = token
  return newest === undefined ? null : { refreshToken: newest, clientId }
}
