import { randomBytes } from 'node:crypto'
import { and, DrizzleQueryError, eq, gt, inArray, isNull, lt, or, sql, type SQL } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/node-postgres'
import type pg from 'pg'
import { ImproperlyConfiguredError } from '../../errors.js'
import type {
  AccessTokenRecord, Application, ApplicationChanges, ClearedCounts, ClearExpiredRules, DeviceGrantRecord, DevicePollResult, GrantRecord,
  IdTokenRecord, IssuedTokenRows, IssueResult, NewApplication, NewDeviceGrant, NewGrant, NewIdToken, RefreshTokenRecord, Store, StoreInvalidation,
  TokenIssue, VerifiableAccessToken,
} from '../types.js'
import { encodeInvalidation, guardUnknownMethods, InvalidationHub, INVALIDATION_CHANNEL } from '../invalidation.js'
import { PgInvalidationListener } from './listener.js'
import { applicationChangesToRow, matchingApplication, newApplicationToRow, newDeviceGrantToRow, toAccessToken, toApplication, toDeviceGrant, toGrant, toIdToken, toRefreshToken } from './mappers.js'
import { createPgPool, migratePg, pgMigrationState, redactPostgresUrl, type PgDb } from './open.js'
import { pgRegistrationMethods } from './registration.js'
import * as schema from './schema.js'

const { applications, accessTokens, refreshTokens, grants, idTokens, deviceGrants } = schema

/** A drizzle transaction on one pooled connection. */
type Tx = Parameters<Parameters<PgDb['transaction']>[0]>[0]

/** Thrown inside a transaction to roll it back when a conditional update matched nothing. */
class LostRace extends Error {}

/**
 * First key of the transaction-level advisory locks that serialize the writers of one refresh
 * token family (the second key is a hash of the family): "OATF" in ASCII.
 */
const FAMILY_LOCK = sql.raw(String(0x4f415446))

/** Options of `createPgStore`. Give exactly one of `pool` or `connectionString`. */
export interface PgStoreOptions {
  /** A pool the caller owns: `close()` leaves it open. */
  pool?: pg.Pool
  /** A `postgres://` URL: the store creates its own pool and ends it on `close()`. */
  connectionString?: string
  /** Further `pg.Pool` settings (for example `max`) when the store creates the pool. */
  poolConfig?: Omit<pg.PoolConfig, 'connectionString'>
  /** Apply pending migrations first, under an advisory lock (default false; the CLI's `migrate` does it explicitly). */
  migrate?: boolean
}

/**
 * The store on PostgreSQL through node-postgres and drizzle, for several instances sharing one
 * database. Transactions run at READ COMMITTED: a conditional `UPDATE … WHERE consumed_at IS
 * NULL` (or `revoked IS NULL`) waits for a concurrent writer's row lock and then re-checks its
 * condition on the committed row, so exactly one of any number of racing exchanges or rotations
 * changes the row, and the returned row count decides. The writers of one refresh token family
 * (rotation, replacement, family revocation) also take a transaction-level advisory lock on the
 * family, so a revocation can never miss a successor that a concurrent rotation is inserting.
 * @example
 * const store = await createPgStore({ connectionString: process.env.DATABASE_URL, migrate: true })
 * await app.register(fastifyOAuthToolkit, { store })
 */
export async function createPgStore (options: PgStoreOptions): Promise<Store> {
  if ((options.pool === undefined) === (options.connectionString === undefined)) {
    throw new ImproperlyConfiguredError('OAT_ERR_DATABASE', 'fastify-oauth-toolkit: give exactly one of `pool` or `connectionString`')
  }
  if (options.pool !== undefined && options.poolConfig !== undefined) {
    throw new ImproperlyConfiguredError('OAT_ERR_DATABASE', 'fastify-oauth-toolkit: `poolConfig` applies to a pool the store creates; configure a given `pool` yourself')
  }
  const ownsPool = options.pool === undefined
  const pool = options.pool ?? createPgPool(options.connectionString ?? '', options.poolConfig)
  const where = options.connectionString === undefined ? 'PostgreSQL' : `PostgreSQL at ${redactPostgresUrl(options.connectionString)}`
  try {
    let pending: number
    try {
      if (options.migrate === true) await migratePg(pool)
      pending = (await pgMigrationState(pool)).pending
    } catch (err) {
      throw new ImproperlyConfiguredError('OAT_ERR_DATABASE', `fastify-oauth-toolkit: cannot prepare ${where}: ${(err as Error).message}`)
    }
    // Fail at startup with a remedy, not on the first request with "relation does not exist".
    if (pending > 0) {
      throw new ImproperlyConfiguredError('OAT_ERR_DATABASE', `fastify-oauth-toolkit: the database lacks ${pending} migration(s); run \`fastify-oauth-toolkit migrate\` or pass \`migrate: true\``)
    }
  } catch (err) {
    if (ownsPool) await pool.end()
    throw err
  }
  return withDriverErrors(pgStore(drizzle({ client: pool, schema }), pool, async () => { if (ownsPool) await pool.end() }))
}

/** Synchronous methods, passed through `withDriverErrors` as they are. */
const SYNC_METHODS: ReadonlySet<string> = new Set<keyof Store>(['watchInvalidations', 'invalidationsReliable'])

/**
 * drizzle wraps every driver error in a `DrizzleQueryError` whose message is the SQL and its
 * parameters (checksums, hashes). Callers and logs get the driver's own error instead, which
 * names the violated constraint and nothing else, as the SQLite store's errors do.
 */
function withDriverErrors (store: Store): Store {
  const wrapped: Record<string, unknown> = {}
  for (const [name, method] of Object.entries(store) as Array<[string, (...args: unknown[]) => Promise<unknown>]>) {
    if (SYNC_METHODS.has(name)) {
      wrapped[name] = method
      continue
    }
    wrapped[name] = async (...args: unknown[]) => {
      try {
        return await method(...args)
      } catch (err) {
        throw err instanceof DrizzleQueryError && err.cause instanceof Error ? err.cause : err
      }
    }
  }
  return wrapped as unknown as Store
}

function pgStore (db: PgDb, pool: pg.Pool, endPool: () => Promise<void>): Store {
  let closed = false

  const accessTokenByChecksum = db.select().from(accessTokens)
    .where(eq(accessTokens.tokenChecksum, sql.placeholder('checksum'))).prepare('oat_access_token_by_checksum')
  // The verification hot path: one named prepared statement, the token joined with its application.
  const verifiableByChecksum = db.select({ token: accessTokens, application: applications }).from(accessTokens)
    .leftJoin(applications, eq(applications.id, accessTokens.applicationId))
    .where(eq(accessTokens.tokenChecksum, sql.placeholder('checksum'))).prepare('oat_verifiable_access_token')

  // Every client authentication looks its application up: named prepared statements too.
  // By client_id, or else a stand-in (the lowest id): an unknown client_id reads, sends and maps a
  // row like a known one (no timing side channel, see the SQLite store).
  const clientIdParam = sql.placeholder('clientId')
  const applicationByClientId = db.select().from(applications)
    .where(or(eq(applications.clientId, clientIdParam), eq(applications.id, sql`(SELECT min(${applications.id}) FROM ${applications})`)))
    .orderBy(sql`${applications.clientId} = ${clientIdParam} DESC`).limit(1).prepare('oat_application_by_client_id')
  const applicationById = db.select().from(applications).where(eq(applications.id, sql.placeholder('id'))).prepare('oat_application_by_id')

  // Verification caches (Store TSDoc, invalidation rule): removals are reported to this
  // process's subscribers after the commit, and to every other process by NOTIFY inside the
  // removing transaction; the listener (started by the first subscriber) hears the others'.
  const hub = new InvalidationHub()
  const origin = randomBytes(6).toString('base64url')
  const listener = new PgInvalidationListener(pool, hub, origin)
  const checksumColumn = { checksum: accessTokens.tokenChecksum }

  /** NOTIFY, delivered to the other processes' listeners when `t` commits. */
  async function notify (t: Tx | PgDb, event: StoreInvalidation): Promise<void> {
    for (const payload of encodeInvalidation(event, origin)) await t.execute(sql`SELECT pg_notify(${INVALIDATION_CHANNEL}, ${payload})`)
  }

  /** A transaction whose removed access tokens (pushed to `removed`) are notified inside it and reported locally after it. */
  async function removingTx<T> (fn: (t: Tx, removed: string[]) => Promise<T>): Promise<T> {
    const removed: string[] = []
    try {
      return await db.transaction(async (t) => {
        const result = await fn(t, removed)
        if (removed.length > 0) await notify(t, { kind: 'tokens', checksums: removed })
        return result
      })
    } finally {
      hub.tokens(removed)
    }
  }

  /** Deletes access token `id`, noting its checksum. */
  async function deleteAccessToken (t: Tx, id: number, removed: string[]): Promise<void> {
    for (const r of await t.delete(accessTokens).where(eq(accessTokens.id, id)).returning(checksumColumn)) removed.push(r.checksum)
  }

  /** Serializes the writers of one family until the transaction ends. */
  async function lockFamily (t: Tx, family: string): Promise<void> {
    await t.execute(sql`SELECT pg_advisory_xact_lock(${FAMILY_LOCK}, hashtext(${family}))`)
  }

  /** The same lock, for the family of refresh token `id` (a family never changes); none when the row is gone. */
  async function lockFamilyOf (t: Tx, id: number): Promise<void> {
    await t.execute(sql`SELECT pg_advisory_xact_lock(${FAMILY_LOCK}, hashtext(${refreshTokens.tokenFamily}))
      FROM ${refreshTokens} WHERE ${refreshTokens.id} = ${id}`)
  }

  async function insertIdToken (t: Tx | PgDb, idToken: NewIdToken, now: Date): Promise<typeof idTokens.$inferSelect> {
    const [row] = await t.insert(idTokens).values({ ...idToken, createdAt: now, updatedAt: now }).returning()
    if (row === undefined) throw new Error('INSERT … RETURNING returned no row')
    return row
  }

  async function insertTokens (t: Tx, issue: TokenIssue): Promise<IssuedTokenRows> {
    const at = issue.accessToken
    const idTokenId = issue.idToken == null ? null : (await insertIdToken(t, issue.idToken, issue.now)).id
    const [accessRow] = await t.insert(accessTokens).values({
      tokenChecksum: at.checksum,
      applicationId: at.applicationId,
      userId: at.userId,
      scope: at.scope,
      expiresAt: at.expiresAt,
      tokenFamily: at.tokenFamily,
      grantId: at.grantId,
      idTokenId,
      resource: at.resource,
      createdAt: issue.now,
      updatedAt: issue.now,
    }).returning()
    if (accessRow === undefined) throw new Error('INSERT … RETURNING returned no row')
    const rt = issue.refreshToken
    if (rt === null) return { accessToken: toAccessToken(accessRow), refreshToken: null }
    const [refreshRow] = await t.insert(refreshTokens).values({
      tokenChecksum: rt.checksum,
      applicationId: rt.applicationId,
      userId: rt.userId,
      scope: rt.scope,
      accessTokenId: accessRow.id,
      tokenFamily: rt.tokenFamily,
      resource: rt.resource,
      authTime: rt.authTime ?? null,
      createdAt: issue.now,
      updatedAt: issue.now,
    }).returning()
    if (refreshRow === undefined) throw new Error('INSERT … RETURNING returned no row')
    return { accessToken: toAccessToken(accessRow), refreshToken: toRefreshToken(refreshRow) }
  }

  async function revokeFamily (t: Tx, family: string, now: Date, removed: string[]): Promise<void> {
    await lockFamily(t, family)
    // Set-based, so a reuse replay costs the same however long the family (DOT #1809).
    await t.update(refreshTokens).set({ revokedAt: now, updatedAt: now })
      .where(and(eq(refreshTokens.tokenFamily, family), isNull(refreshTokens.revokedAt)))
    // A deliberately revoked family never hands out its sealed successors again, not even inside the grace period.
    await t.update(refreshTokens).set({ successorSealed: null })
      .where(and(eq(refreshTokens.tokenFamily, family), sql`${refreshTokens.successorSealed} IS NOT NULL`))
    for (const r of await t.delete(accessTokens).where(eq(accessTokens.tokenFamily, family)).returning(checksumColumn)) removed.push(r.checksum)
  }

  async function conditionalIssue (fn: (t: Tx, removed: string[]) => Promise<IssuedTokenRows>): Promise<IssueResult> {
    try {
      return { ok: true, rows: await removingTx(fn) }
    } catch (err) {
      if (err instanceof LostRace) return { ok: false }
      throw err
    }
  }

  async function deleteInBatches (table: typeof accessTokens | typeof refreshTokens | typeof grants | typeof idTokens | typeof deviceGrants,
    condition: SQL | undefined, rules: ClearExpiredRules): Promise<number> {
    let total = 0
    for (;;) {
      // SKIP LOCKED: two `cleartokens` runs take disjoint batches, and a row a request is
      // writing right now waits for the next run instead of stalling this one.
      const batch = db.select({ id: table.id }).from(table).where(condition).limit(rules.batchSize).for('update', { skipLocked: true })
      const started = performance.now()
      const deleted = (await db.delete(table).where(inArray(table.id, batch))).rowCount ?? 0
      if (deleted > 0) rules.onBatchDone?.({ rows: deleted, lockMs: performance.now() - started })
      total += deleted
      if (deleted < rules.batchSize) return total
      if (rules.betweenBatches !== undefined) await rules.betweenBatches()
    }
  }

  const store: Store = {
    ...pgRegistrationMethods(db),

    async createApplication (app: NewApplication): Promise<Application> {
      const [row] = await db.insert(applications).values(newApplicationToRow(app)).returning()
      if (row === undefined) throw new Error('INSERT … RETURNING returned no row')
      return toApplication(row)
    },

    async findApplicationByClientId (clientId: string): Promise<Application | null> {
      const [row] = await applicationByClientId.execute({ clientId })
      return matchingApplication(row, clientId)
    },

    async findApplicationById (id: number): Promise<Application | null> {
      const [row] = await applicationById.execute({ id })
      return row === undefined ? null : toApplication(row)
    },

    async listApplications (filter = {}): Promise<Application[]> {
      const query = db.select().from(applications)
      const rows = filter.userId === undefined
        ? await query.orderBy(applications.id)
        : await query.where(filter.userId === null ? isNull(applications.userId) : eq(applications.userId, filter.userId)).orderBy(applications.id)
      return rows.map(toApplication)
    },

    async updateApplication (id: number, changes: ApplicationChanges, now: Date): Promise<Application | null> {
      const set = applicationChangesToRow(changes, now)
      try {
        const [row] = await db.transaction(async (t) => {
          await notify(t, { kind: 'application', applicationId: id })
          return await t.update(applications).set(set).where(eq(applications.id, id)).returning()
        })
        return row === undefined ? null : toApplication(row)
      } finally {
        hub.emit({ kind: 'application', applicationId: id })
      }
    },

    async deleteApplication (id: number): Promise<boolean> {
      // Foreign keys cascade to tokens, codes and ID tokens, in this one statement.
      try {
        return await db.transaction(async (t) => {
          await notify(t, { kind: 'application', applicationId: id })
          return ((await t.delete(applications).where(eq(applications.id, id))).rowCount ?? 0) > 0
        })
      } finally {
        hub.emit({ kind: 'application', applicationId: id })
      }
    },

    async isOriginAllowed (origin: string): Promise<boolean> {
      // A list entry never holds white space, so such an origin cannot match one exactly.
      if (origin === '' || /\s/.test(origin)) return false
      // Exact equality with one element of the split list: no LIKE, so `%` and `_` are plain
      // characters, and `https://a.example` does not match `https://a.example.evil.net`.
      const rows = await db.select({ id: applications.id }).from(applications)
        .where(sql`${origin}::text = ANY (regexp_split_to_array(${applications.allowedOrigins}, '[[:space:]]+'))`).limit(1)
      return rows.length > 0
    },

    async findAccessToken (checksum: string): Promise<AccessTokenRecord | null> {
      const [row] = await accessTokenByChecksum.execute({ checksum })
      return row === undefined ? null : toAccessToken(row)
    },

    async findAccessTokenForVerification (checksum: string): Promise<VerifiableAccessToken | null> {
      const [row] = await verifiableByChecksum.execute({ checksum })
      return row === undefined ? null : { token: toAccessToken(row.token), application: row.application === null ? null : toApplication(row.application) }
    },

    async findAccessTokenById (id: number): Promise<AccessTokenRecord | null> {
      const [row] = await db.select().from(accessTokens).where(eq(accessTokens.id, id))
      return row === undefined ? null : toAccessToken(row)
    },

    async listAccessTokensForUser (userId: string): Promise<AccessTokenRecord[]> {
      return (await db.select().from(accessTokens).where(eq(accessTokens.userId, userId)).orderBy(accessTokens.id)).map(toAccessToken)
    },

    async revokeAccessToken (id: number, now: Date): Promise<void> {
      await removingTx(async (t, removed) => {
        const [row] = await t.select({ family: accessTokens.tokenFamily }).from(accessTokens).where(eq(accessTokens.id, id))
        if (row === undefined) return
        if (row.family !== null) await revokeFamily(t, row.family, now, removed)
        else await deleteAccessToken(t, id, removed)
      })
    },

    async findRefreshToken (checksum: string): Promise<RefreshTokenRecord | null> {
      const [row] = await db.select().from(refreshTokens).where(eq(refreshTokens.tokenChecksum, checksum))
      return row === undefined ? null : toRefreshToken(row)
    },

    async revokeTokenFamily (family: string, now: Date): Promise<void> {
      await removingTx(async (t, removed) => { await revokeFamily(t, family, now, removed) })
    },

    async issueTokens (issue: TokenIssue): Promise<IssuedTokenRows> {
      return await db.transaction(async (t) => await insertTokens(t, issue))
    },

    async rotateRefreshToken (id: number, successorSealed: string | null, issue: TokenIssue): Promise<IssueResult> {
      return await conditionalIssue(async (t, removed) => {
        await lockFamilyOf(t, id)
        const [old] = await t.update(refreshTokens).set({ revokedAt: issue.now, successorSealed, updatedAt: issue.now })
          .where(and(eq(refreshTokens.id, id), isNull(refreshTokens.revokedAt)))
          .returning({ accessTokenId: refreshTokens.accessTokenId })
        if (old === undefined) throw new LostRace()
        if (old.accessTokenId !== null) await deleteAccessToken(t, old.accessTokenId, removed)
        return await insertTokens(t, issue)
      })
    },

    async replaceAccessToken (refreshTokenId: number, issue: TokenIssue): Promise<IssueResult> {
      return await conditionalIssue(async (t, removed) => {
        await lockFamilyOf(t, refreshTokenId)
        const [live] = await t.select({ accessTokenId: refreshTokens.accessTokenId }).from(refreshTokens)
          .where(and(eq(refreshTokens.id, refreshTokenId), isNull(refreshTokens.revokedAt))).for('update')
        if (live === undefined) throw new LostRace()
        if (live.accessTokenId !== null) await deleteAccessToken(t, live.accessTokenId, removed)
        const rows = await insertTokens(t, { ...issue, refreshToken: null })
        const [rt] = await t.update(refreshTokens).set({ accessTokenId: rows.accessToken.id, updatedAt: issue.now })
          .where(eq(refreshTokens.id, refreshTokenId)).returning()
        if (rt === undefined) throw new LostRace()
        return { accessToken: rows.accessToken, refreshToken: toRefreshToken(rt) }
      })
    },

    async createIdToken (idToken: NewIdToken, now: Date): Promise<IdTokenRecord> {
      return toIdToken(await insertIdToken(db, idToken, now))
    },

    async findIdTokenByJti (jti: string): Promise<IdTokenRecord | null> {
      const [row] = await db.select().from(idTokens).where(eq(idTokens.jti, jti))
      return row === undefined ? null : toIdToken(row)
    },

    async createGrant (grant: NewGrant, now: Date): Promise<GrantRecord> {
      const [row] = await db.insert(grants).values({
        codeChecksum: grant.checksum,
        applicationId: grant.applicationId,
        userId: grant.userId,
        expiresAt: grant.expiresAt,
        redirectUri: grant.redirectUri,
        scope: grant.scope,
        codeChallenge: grant.codeChallenge,
        codeChallengeMethod: grant.codeChallengeMethod,
        nonce: grant.nonce,
        claims: grant.claims,
        resource: grant.resource,
        authTime: grant.authTime,
        createdAt: now,
        updatedAt: now,
      }).returning()
      if (row === undefined) throw new Error('INSERT … RETURNING returned no row')
      return toGrant(row)
    },

    async findGrant (checksum: string): Promise<GrantRecord | null> {
      const [row] = await db.select().from(grants).where(eq(grants.codeChecksum, checksum))
      return row === undefined ? null : toGrant(row)
    },

    async redeemGrant (grantId: number, issue: TokenIssue): Promise<IssueResult> {
      return await conditionalIssue(async (t) => {
        // RFC 6749 §4.1.2: single use. A racing exchange waits for this row lock, re-checks
        // `consumed_at IS NULL` on the committed row and matches nothing: the row count decides.
        const family = issue.refreshToken?.tokenFamily ?? issue.accessToken.tokenFamily
        const won = await t.update(grants).set({ consumedAt: issue.now, tokenFamily: family, updatedAt: issue.now })
          .where(and(eq(grants.id, grantId), isNull(grants.consumedAt), gt(grants.expiresAt, issue.now)))
          .returning({ id: grants.id })
        if (won.length !== 1) throw new LostRace()
        return await insertTokens(t, issue)
      })
    },

    async revokeGrantTokens (grantId: number, now: Date): Promise<void> {
      await removingTx(async (t, removed) => {
        const [grant] = await t.select({ family: grants.tokenFamily }).from(grants).where(eq(grants.id, grantId))
        if (grant?.family != null) await revokeFamily(t, grant.family, now, removed)
        for (const r of await t.delete(accessTokens).where(eq(accessTokens.grantId, grantId)).returning(checksumColumn)) removed.push(r.checksum)
      })
    },

    async createDeviceGrant (grant: NewDeviceGrant, now: Date): Promise<DeviceGrantRecord | null> {
      // A taken user code inserts nothing (the caller draws another), never a constraint error.
      const [row] = await db.insert(deviceGrants).values(newDeviceGrantToRow(grant, now)).onConflictDoNothing({ target: deviceGrants.userCodeChecksum }).returning()
      return row === undefined ? null : toDeviceGrant(row)
    },

    async findDeviceGrant (checksum: string): Promise<DeviceGrantRecord | null> {
      const [row] = await db.select().from(deviceGrants).where(eq(deviceGrants.deviceCodeChecksum, checksum))
      return row === undefined ? null : toDeviceGrant(row)
    },

    async findDeviceGrantByUserCode (userCodeChecksum: string): Promise<DeviceGrantRecord | null> {
      const [row] = await db.select().from(deviceGrants).where(eq(deviceGrants.userCodeChecksum, userCodeChecksum))
      return row === undefined ? null : toDeviceGrant(row)
    },

    async findDeviceGrantById (id: number): Promise<DeviceGrantRecord | null> {
      const [row] = await db.select().from(deviceGrants).where(eq(deviceGrants.id, id))
      return row === undefined ? null : toDeviceGrant(row)
    },

    async claimDeviceGrant (id: number, userId: string, now: Date): Promise<DeviceGrantRecord | null> {
      // READ COMMITTED: a racing claim waits for the row lock and re-checks `user_id` on the committed row.
      const [row] = await db.update(deviceGrants).set({ userId, updatedAt: now })
        .where(and(eq(deviceGrants.id, id), eq(deviceGrants.status, 'authorization-pending'), gt(deviceGrants.expiresAt, now),
          or(isNull(deviceGrants.userId), eq(deviceGrants.userId, userId))))
        .returning()
      return row === undefined ? null : toDeviceGrant(row)
    },

    async decideDeviceGrant (id: number, userId: string, decision: 'authorized' | 'denied', authTime: Date, now: Date): Promise<boolean> {
      const changed = await db.update(deviceGrants).set({ status: decision, authTime, updatedAt: now })
        .where(and(eq(deviceGrants.id, id), eq(deviceGrants.userId, userId), eq(deviceGrants.status, 'authorization-pending'), gt(deviceGrants.expiresAt, now)))
        .returning({ id: deviceGrants.id })
      return changed.length === 1
    },

    async recordDevicePoll (id: number, now: Date, slowDownSeconds: number): Promise<DevicePollResult | null> {
      return await db.transaction(async (t) => {
        // FOR UPDATE: concurrent polls of one device code are judged one after the other.
        const [row] = await t.select({ interval: deviceGrants.interval, lastPolledAt: deviceGrants.lastPolledAt }).from(deviceGrants)
          .where(eq(deviceGrants.id, id)).for('update')
        if (row === undefined) return null
        const tooFast = row.lastPolledAt !== null && now.getTime() - row.lastPolledAt.getTime() < row.interval * 1000
        const interval = tooFast ? row.interval + slowDownSeconds : row.interval
        await t.update(deviceGrants).set({ lastPolledAt: now, interval, updatedAt: now }).where(eq(deviceGrants.id, id))
        return { tooFast, interval }
      })
    },

    async redeemDeviceGrant (id: number, issue: TokenIssue): Promise<IssueResult> {
      return await conditionalIssue(async (t) => {
        // One token set per approval: a racing poll waits for this row lock, re-checks
        // `consumed_at IS NULL` on the committed row and matches nothing.
        const won = await t.update(deviceGrants).set({ consumedAt: issue.now, updatedAt: issue.now })
          .where(and(eq(deviceGrants.id, id), eq(deviceGrants.status, 'authorized'), isNull(deviceGrants.consumedAt), gt(deviceGrants.expiresAt, issue.now)))
          .returning({ id: deviceGrants.id })
        if (won.length !== 1) throw new LostRace()
        return await insertTokens(t, issue)
      })
    },

    async clearExpired (rules: ClearExpiredRules): Promise<ClearedCounts> {
      const refreshConditions = []
      if (rules.revokedBefore !== null) refreshConditions.push(lt(refreshTokens.revokedAt, rules.revokedBefore))
      if (rules.refreshCreatedBefore !== null) refreshConditions.push(lt(refreshTokens.createdAt, rules.refreshCreatedBefore))
      const refresh = refreshConditions.length === 0 ? 0 : await deleteInBatches(refreshTokens, or(...refreshConditions), rules)
      const access = await deleteInBatches(accessTokens, lt(accessTokens.expiresAt, rules.now), rules)
      // Only tokens expired at `rules.now` went; a cache refuses those anyway, unless its clock is behind.
      const expired: StoreInvalidation = { kind: 'expired', before: rules.now }
      hub.emit(expired)
      await notify(db, expired)
      const idTokenCount = await deleteInBatches(idTokens, and(lt(idTokens.expiresAt, rules.now),
        sql`NOT EXISTS (SELECT 1 FROM ${accessTokens} WHERE ${accessTokens.idTokenId} = ${idTokens.id})`), rules)
      const grantCount = await deleteInBatches(grants, lt(grants.expiresAt, rules.now), rules)
      const deviceCount = await deleteInBatches(deviceGrants, lt(deviceGrants.expiresAt, rules.now), rules)
      return { accessTokens: access, refreshTokens: refresh, grants: grantCount, idTokens: idTokenCount, deviceGrants: deviceCount }
    },

    async close (): Promise<void> {
      if (closed) return
      closed = true
      await listener.stop(true)
      await endPool()
    },

    watchInvalidations (subscriber) {
      const unsubscribe = hub.subscribe(subscriber)
      if (!closed) listener.start()
      return () => {
        unsubscribe()
        // The last cache gone (a given store outlives the apps using it): stop listening.
        if (hub.size === 0) listener.stop().catch(() => {})
      }
    },

    invalidationsReliable: () => listener.listening,
  }
  return guardUnknownMethods(store, async () => {
    hub.emit({ kind: 'all' })
    await notify(db, { kind: 'all' })
  })
}
