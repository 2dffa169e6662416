import { and, eq, gt, inArray, isNull, lt, or, sql } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/better-sqlite3'
import { ImproperlyConfiguredError } from '../../errors.js'
import type { SqliteDatabase } from '../connection.js'
import type {
  AccessTokenRecord, Application, ApplicationChanges, ClearedCounts, ClearExpiredRules, DeviceGrantRecord, DevicePollResult, GrantRecord,
  IdTokenRecord, IssuedTokenRows, IssueResult, NewApplication, NewDeviceGrant, NewGrant, NewIdToken, RefreshTokenRecord, Store, TokenIssue,
  VerifiableAccessToken,
} from '../types.js'
import { guardUnknownMethods, InvalidationHub } from '../invalidation.js'
import { applicationChangesToRow, matchingApplication, newApplicationToRow, newDeviceGrantToRow, splitList, toAccessToken, toApplication, toDeviceGrant, toGrant, toIdToken, toRefreshToken } from './mappers.js'
import { createGroupCommit } from './group-commit.js'
import { sqliteRegistrationMethods } from './registration.js'
import { checkWritable, migrateSqlite, openSqlite, pendingMigrations, sqliteOpenError, type SqliteDb } from './open.js'
import { cacheStateReader, stateChange, type CacheState } from './cache-state.js'
import { startCheckpointer, type Checkpointer } from './checkpointer.js'
import { watchWalIndex } from './wal-index.js'
import * as schema from './schema.js'

const { applications, accessTokens, refreshTokens, grants, idTokens, deviceGrants } = schema

/** Thrown inside a transaction to roll it back when a conditional update matched nothing. */
class LostRace extends Error {}

/**
 * `clearExpired`: rows in the first batch, and the time one batch aims to hold the write lock
 * (select, delete and commit; verification may wait 50 ms at most, and a loaded machine stretches a batch).
 */
const FIRST_BATCH = 500
const BATCH_TARGET_MS = 20
/** `clearExpired` checkpoints the WAL after this much batch time (the automatic checkpoints are off meanwhile). */
const CHECKPOINT_EVERY_MS = 100

/** Options of `createSqliteStore`. */
export interface SqliteStoreOptions {
  /** A file path, `':memory:'`, or an open better-sqlite3 database. */
  database: string | SqliteDatabase
  /** Apply pending migrations first (default false; the CLI's `migrate` does it explicitly). */
  migrate?: boolean
  /**
   * Bytes of the file to memory-map (`PRAGMA mmap_size`; default none). Keeps verification
   * flat on large token tables; see `SqliteTuning.mmapSize` for the trade-offs (RSS, SIGBUS on I/O errors).
   */
  mmapSize?: number
  /**
   * Milliseconds for which one look for other connections' commits (other processes, the CLI,
   * host SQL) stays good while verifications are served from the cache (default
   * {@link DEFAULT_CROSS_PROCESS_CHECK_MS}). A look costs a system call (a `pread` of the WAL-index
   * header), the largest part of a cache hit: it runs before the
   * first hit of an event-loop iteration once the period has passed, so another process's
   * revocation is refused from that long after its commit. `0` looks at every iteration: the
   * next request read after the commit sees it, at one system call per iteration (under load an
   * iteration reads many requests). Revocations through this store are seen at once either way.
   */
  crossProcessCheckMs?: number
  /**
   * Checkpoint the WAL from a worker thread with its own connection (default `true`;
   * checkpointer.ts), started once this store's commits have filled half of `wal_autocheckpoint`
   * (a file database in WAL mode only). SQLite otherwise checkpoints inside the commit that
   * pushed the WAL past 1,000 pages, fsyncs included, which stalls the event loop (mostly an
   * fsync, again and again under token-issuance load; bench/README.md). `false`
   * keeps SQLite's automatic checkpoints on this connection; so does a worker that fails.
   */
  backgroundCheckpoint?: boolean
}

/**
 * The default `crossProcessCheckMs`: another process's revocation reaches this one's cache within
 * 5 ms (SECURITY.md's revocation-visibility target allows 1 s across processes on one SQLite file), at most 200 system calls a second.
 */
export const DEFAULT_CROSS_PROCESS_CHECK_MS = 5

/**
 * The embedded default store: SQLite through better-sqlite3 and drizzle. Transactions are
 * synchronous (better-sqlite3 does not await async callbacks) and begin IMMEDIATE, so a lock
 * upgrade never bypasses the busy handler. Single-use artefacts are consumed with one
 * conditional UPDATE whose changed-row count decides.
 */
export function createSqliteStore (options: SqliteStoreOptions): Store {
  const checkMs = options.crossProcessCheckMs
  if (checkMs !== undefined && !(Number.isFinite(checkMs) && checkMs >= 0)) {
    throw new ImproperlyConfiguredError('OAT_ERR_OPTIONS', `fastify-oauth-toolkit: crossProcessCheckMs must be a non-negative number of milliseconds; got ${String(checkMs)}`)
  }
  const raw = openSqlite(options.database, options.mmapSize === undefined ? {} : { mmapSize: options.mmapSize })
  const ownsConnection = typeof options.database === 'string'
  try {
    if (ownsConnection) checkWritable(raw.name)
    if (options.migrate === true) {
      try {
        migrateSqlite(raw)
      } catch (err) {
        // A read-only file or folder opens, then fails at the first write: the migration.
        const code = (err as { code?: unknown }).code
        throw typeof code === 'string' && code.startsWith('SQLITE_') ? sqliteOpenError(raw.name, err) : err
      }
    }
    const pending = pendingMigrations(raw)
    // Fail at startup with a remedy, not on the first request with "no such table".
    if (pending > 0) {
      throw new ImproperlyConfiguredError('OAT_ERR_DATABASE', `fastify-oauth-toolkit: the database lacks ${pending} migration(s); run \`fastify-oauth-toolkit migrate\` or pass \`migrate: true\``)
    }
  } catch (err) {
    if (ownsConnection) raw.close()
    throw err
  }
  const db: SqliteDb = drizzle(raw, { schema })

  // The verification hot path: one prepared statement on a unique index.
  const accessTokenByChecksum = db.select().from(accessTokens)
    .where(eq(accessTokens.tokenChecksum, sql.placeholder('checksum'))).prepare()
  // Verification loads the token's application and every client authentication looks one up:
  // prepared once, as building and preparing the query per call cost ~20× the lookup (bench/README.md).
  const applicationById = db.select().from(applications).where(eq(applications.id, sql.placeholder('id'))).prepare()
  // By client_id, or else a stand-in (the lowest id), so an unknown client_id reads and maps a row
  // like a known one (it cost less otherwise: a timing signal telling which client_ids exist).
  // `get()` steps once: a known client's row comes from the first arm and the second never runs.
  // No LIMIT: drizzle binds it as a parameter, and `LIMIT ?` made SQLite run the compound 5× slower.
  const standIn = db.select().from(applications).where(eq(applications.id, sql`(SELECT min(${applications.id}) FROM ${applications})`))
  const applicationByClientId = db.select().from(applications).where(eq(applications.clientId, sql.placeholder('clientId')))
    .unionAll(standIn).prepare()
  // Verification in one statement: the token joined with its application.
  const verifiableByChecksum = db.select({ token: accessTokens, application: applications }).from(accessTokens)
    .leftJoin(applications, eq(applications.id, accessTokens.applicationId))
    .where(eq(accessTokens.tokenChecksum, sql.placeholder('checksum'))).prepare()

  // Verification caches (Store TSDoc, invalidation rule). Our own removals are reported by the
  // methods below. Another connection's commits (a second process on the file, cleartokens, a
  // host's own SQL) show as a new `PRAGMA data_version`; then the state row of migration 0007 and
  // the log of 0008 (schema.ts `cacheState`, `cacheLog`), which triggers keep whoever writes, tell
  // what they changed: the log entries since our last read (access tokens deleted or changed)
  // report `tokens` with their checksums, a new generation (an application changed) or entries
  // pruned before we read them `all`, new clearExpired batches (which delete only tokens expired
  // before `cleared_before`) `expired`, and nothing else (tokens issued, grants or refresh tokens
  // changed) keeps the caches. A look costs at least a system call, the largest part of a cache
  // hit, so it runs at most once per event-loop iteration and once per `crossProcessCheckMs`
  // (default 5 ms; with 0, every request read from a socket after another connection's commit
  // comes in a later iteration and sees the commit; bench/README.md). The pragma is
  // skipped while the WAL-index header shows no commit (wal-index.ts), and the state row is read
  // only when the pragma changed, and in our own transactions.
  const hub = new InvalidationHub()
  const dataVersion = raw.prepare('PRAGMA data_version').pluck()
  const state = cacheStateReader(raw)
  let lastDataVersion = dataVersion.get()
  let lastState = state.read(null)
  // Skips the pragma while the WAL index shows no commit by anyone (wal-index.ts): one system call instead of three.
  const mainFile = (raw.pragma('database_list') as Array<{ name: string, file: string }>).find((d) => d.name === 'main')?.file ?? ''
  const walIndex = watchWalIndex(mainFile, String(raw.pragma('journal_mode', { simple: true })))

  // WAL checkpoints (checkpointer.ts). SQLite's automatic ones, in the commit that fills the WAL
  // to `wal_autocheckpoint` pages, until this store's own commits have filled half of that: a
  // store that writes so much gets a worker thread (~8 MB) that checkpoints instead, with this
  // connection's automatic ones off; one that hardly writes (a resource server) never starts it.
  // Never with `backgroundCheckpoint: false`, nor when the host turned automatic checkpoints off
  // on a connection it gave; automatic ones again if the worker fails (after a running
  // clearExpired, which turns them off meanwhile).
  const automaticPages = Number(raw.pragma('wal_autocheckpoint', { simple: true }))
  let checkpointer: Checkpointer | null = null
  let mayStartCheckpointer = options.backgroundCheckpoint !== false && walIndex !== null && automaticPages > 0
  /** After each of this store's commits until the worker starts: one `pread` of the WAL-index header. */
  function startCheckpointerOnceBusy (): void {
    if (!mayStartCheckpointer || walIndex === null || walIndex.lastFrame() < automaticPages / 2) return
    mayStartCheckpointer = false
    raw.pragma('wal_autocheckpoint = 0')
    checkpointer = startCheckpointer(mainFile, () => {
      checkpointer = null
      if (raw.open && clearing === 0) raw.pragma(`wal_autocheckpoint = ${automaticPages}`)
    }, { pages: automaticPages })
  }
  // A look stays good for the rest of its event-loop iteration (under load one iteration reads
  // many requests) and, with a `crossProcessCheckMs` period, for that long after it
  // (performance.now(), monotonic).
  const checkEvery = checkMs ?? DEFAULT_CROSS_PROCESS_CHECK_MS
  let lookGoodUntil = -Infinity
  let lookedThisIteration = false
  const nextIteration = (): void => { lookedThisIteration = false }
  /** Whether it is time for another look, and if so starts the period the look will cover. */
  function lookDue (): boolean {
    if (lookedThisIteration) return false
    if (checkEvery > 0) {
      const now = performance.now()
      if (now < lookGoodUntil) return false
      lookGoodUntil = now + checkEvery
    }
    lookedThisIteration = true
    setImmediate(nextIteration)
    return true
  }

  /** Reports what other connections changed, from the state row and log entries read now (`all` when they cannot tell). */
  function otherConnectionsCommitted (current: CacheState | null): void {
    const previous = lastState
    lastState = current
    for (const event of stateChange(previous, current)) hub.emit(event)
  }

  /** The state row and the log entries after our last position, read now. */
  const readSinceLast = (): CacheState | null => state.read(lastState?.logSeq ?? null)

  /**
   * In each of our transactions, before COMMIT (we hold the write lock): our own changes move
   * the state row and the log too, and are already reported precisely, so when no other
   * connection committed since we last looked (data_version) we adopt the row and the log
   * position as they are after them; otherwise we report what changed since our last position,
   * which then includes ours (evicting our own removals twice, harmless). Then the log is pruned
   * if it grew long (after the read: our position is never behind our own pruning).
   */
  function beforeCommit (): () => void {
    const version = dataVersion.get()
    const onlyOurs = version === lastDataVersion
    const current = onlyOurs ? state.read(null) : readSinceLast()
    state.prune(current)
    return () => {
      if (onlyOurs) lastState = current
      else otherConnectionsCommitted(current)
      lastDataVersion = version
      startCheckpointerOnceBusy()
    }
  }

  // Writes go through group commit (group-commit.ts): the transactions requested during one
  // event-loop turn share one BEGIN IMMEDIATE … COMMIT, each in its own savepoint, and waiting
  // for the write lock is asynchronous. The access tokens a transaction removes are reported
  // once its outcome is known (even on rollback: an eviction is never wrong), before it resolves.
  const group = createGroupCommit(raw, { onRemoved: (removed) => { hub.tokens(removed) }, beforeCommit })

  /** Runs `fn` in an IMMEDIATE transaction (shared with concurrent ones, all-or-nothing per call). */
  async function tx<T> (fn: (t: SqliteDb, removed: string[]) => T): Promise<T> {
    return await group((removed) => fn(db, removed))
  }

  const checksumColumn = { checksum: accessTokens.tokenChecksum }

  function insertIdToken (t: SqliteDb, idToken: NewIdToken, now: Date): typeof idTokens.$inferSelect {
    return t.insert(idTokens).values({ ...idToken, createdAt: now, updatedAt: now }).returning().get()
  }

  // Issuance inserts, prepared once (drizzle built and prepared each INSERT per call: ~35 % of
  // an issuance's CPU, bench/README.md). drizzle maps placeholder values through the columns'
  // encoders (Dates to epoch milliseconds) and RETURNING rows back.
  const p = (name: string): ReturnType<typeof sql.placeholder> => sql.placeholder(name)
  const insertAccessToken = db.insert(accessTokens).values({
    tokenChecksum: p('checksum'),
    applicationId: p('applicationId'),
    userId: p('userId'),
    scope: p('scope'),
    expiresAt: p('expiresAt'),
    tokenFamily: p('tokenFamily'),
    grantId: p('grantId'),
    idTokenId: p('idTokenId'),
    resource: p('resource'),
    createdAt: p('now'),
    updatedAt: p('now'),
  }).returning().prepare()
  const insertRefreshToken = db.insert(refreshTokens).values({
    tokenChecksum: p('checksum'),
    applicationId: p('applicationId'),
    userId: p('userId'),
    scope: p('scope'),
    accessTokenId: p('accessTokenId'),
    tokenFamily: p('tokenFamily'),
    resource: p('resource'),
    // Nullable: bypasses the column's Date encoder (it cannot encode null); epoch ms or null.
    authTime: sql`${p('authTime')}`,
    createdAt: p('now'),
    updatedAt: p('now'),
  }).returning().prepare()

  /** Inserts the issued rows; call inside `tx` (prepared statements run on the transaction's connection). */
  function insertTokens (t: SqliteDb, issue: TokenIssue): IssuedTokenRows {
    const at = issue.accessToken
    const now = issue.now
    const idTokenId = issue.idToken == null ? null : insertIdToken(t, issue.idToken, issue.now).id
    const accessRow = insertAccessToken.get({
      checksum: at.checksum,
      applicationId: at.applicationId,
      userId: at.userId,
      scope: at.scope,
      expiresAt: at.expiresAt,
      tokenFamily: at.tokenFamily,
      grantId: at.grantId,
      idTokenId,
      resource: at.resource,
      now,
    })
    if (accessRow === undefined) throw new Error('INSERT … RETURNING returned no row')
    const rt = issue.refreshToken
    if (rt === null) return { accessToken: toAccessToken(accessRow), refreshToken: null }
    const refreshRow = insertRefreshToken.get({
      checksum: rt.checksum,
      applicationId: rt.applicationId,
      userId: rt.userId,
      scope: rt.scope,
      accessTokenId: accessRow.id,
      tokenFamily: rt.tokenFamily,
      resource: rt.resource,
      authTime: rt.authTime?.getTime() ?? null,
      now,
    })
    if (refreshRow === undefined) throw new Error('INSERT … RETURNING returned no row')
    return { accessToken: toAccessToken(accessRow), refreshToken: toRefreshToken(refreshRow) }
  }

  function revokeFamily (t: SqliteDb, family: string, now: Date, removed: string[]): void {
    // Set-based, so a reuse replay costs the same however long the family (DOT #1809).
    t.update(refreshTokens).set({ revokedAt: now, updatedAt: now })
      .where(and(eq(refreshTokens.tokenFamily, family), isNull(refreshTokens.revokedAt))).run()
    // A deliberately revoked family never hands out its sealed successors again, not even inside the grace period.
    t.update(refreshTokens).set({ successorSealed: null })
      .where(and(eq(refreshTokens.tokenFamily, family), sql`${refreshTokens.successorSealed} IS NOT NULL`)).run()
    for (const r of t.delete(accessTokens).where(eq(accessTokens.tokenFamily, family)).returning(checksumColumn).all()) removed.push(r.checksum)
  }

  async function conditionalIssue (fn: (t: SqliteDb, removed: string[]) => IssuedTokenRows): Promise<IssueResult> {
    try {
      return { ok: true, rows: await tx(fn) }
    } catch (err) {
      if (err instanceof LostRace) return { ok: false }
      throw err
    }
  }

  /**
   * Deletes the rows matching `where`, in transactions that each hold the write lock (and, in
   * process, the event loop) for about `BATCH_TARGET_MS`, commit included: the batch size adapts
   * to the measured time per row, up to `rules.batchSize` (bench/README.md, scenario 6). Every
   * `CHECKPOINT_EVERY_MS` of batches the WAL is checkpointed (see `withoutAutoCheckpoint`).
   * `expiredBefore` (access tokens, whose `where` must select only rows expiring before it): each
   * batch tells other connections so through the state row (`cacheStateReader`), instead of
   * making them drop their caches.
   */
  async function deleteInBatches (table: typeof accessTokens | typeof refreshTokens | typeof grants | typeof idTokens | typeof deviceGrants,
    where: ReturnType<typeof and>, rules: ClearExpiredRules, expiredBefore?: Date): Promise<number> {
    let total = 0
    let size = Math.min(rules.batchSize, FIRST_BATCH)
    for (;;) {
      let started = 0
      const deleted = await tx((t) => {
        started = performance.now()
        const ids = t.select({ id: table.id }).from(table).where(where).limit(size).all().map((r) => r.id)
        if (ids.length === 0) return { found: 0, changes: 0 }
        // Expired access tokens: the triggers let them go unreported; `clear_batches` and `cleared_before` report them.
        if (expiredBefore !== undefined) state.startClearing(expiredBefore.getTime())
        const changes = t.delete(table).where(inArray(table.id, ids)).run().changes
        if (expiredBefore !== undefined) state.endClearing(expiredBefore.getTime())
        return { found: ids.length, changes }
      })
      const ms = performance.now() - started
      total += deleted.changes
      if (deleted.changes > 0) {
        rules.onBatchDone?.({ rows: deleted.changes, lockMs: ms })
        lockMsSinceCheckpoint += ms
        // Outside the write lock, every ~100 ms of deleting (a few batches; one per batch cost
        // an fsync each and halved the rate): the WAL stays a few MB.
        if (lockMsSinceCheckpoint >= CHECKPOINT_EVERY_MS) checkpoint()
      }
      if (deleted.found < size) return total
      // Towards the target duration, at most doubling or halving per batch, within [50, batchSize].
      const ideal = Math.round(size * BATCH_TARGET_MS / Math.max(ms, 0.1))
      size = Math.min(rules.batchSize, Math.max(Math.min(50, rules.batchSize), Math.ceil(size / 2), Math.min(ideal, size * 2)))
      if (rules.betweenBatches !== undefined) await rules.betweenBatches()
    }
  }

  const walCheckpoint = raw.prepare('PRAGMA wal_checkpoint(PASSIVE)')
  let lockMsSinceCheckpoint = 0
  /**
   * Copies the WAL into the file as far as readers allow; never waits for a lock, never blocks
   * readers or writers. Nothing to do while the checkpointer runs: it checkpoints meanwhile.
   */
  function checkpoint (): void {
    lockMsSinceCheckpoint = 0
    if (checkpointer === null && raw.open && !raw.inTransaction) walCheckpoint.run()
  }

  /**
   * Runs a `clearExpired` with SQLite's automatic checkpoints off, so that none lands in the
   * commit of a batch (where it lengthened the batch many times over): the cleaner
   * checkpoints between batches instead (PASSIVE, outside the write lock), which also keeps the
   * WAL short enough that another connection's commit does not run a large checkpoint meanwhile,
   * and the setting is restored at the end. (With the checkpointer they are off already, and it
   * checkpoints while the batches run.)
   */
  let clearing = 0
  let pagesBeforeClearing = 0
  async function withoutAutoCheckpoint<T> (fn: () => Promise<T>): Promise<T> {
    // Overlapping runs on one connection: the first saves the setting (the host's, which it may
    // have changed since) and turns them off, the last restores it; off while the worker runs.
    if (clearing++ === 0) {
      pagesBeforeClearing = checkpointer === null ? Number(raw.pragma('wal_autocheckpoint', { simple: true })) : automaticPages
      raw.pragma('wal_autocheckpoint = 0')
    }
    try {
      return await fn()
    } finally {
      if (--clearing === 0 && raw.open) {
        raw.pragma(`wal_autocheckpoint = ${checkpointer === null ? pagesBeforeClearing : 0}`)
        checkpoint()
      }
    }
  }

  /** `clearExpired`'s deletions, in batches (see `deleteInBatches`). */
  async function clearExpiredRows (rules: ClearExpiredRules): Promise<ClearedCounts> {
    const refreshConditions = []
    if (rules.revokedBefore !== null) refreshConditions.push(lt(refreshTokens.revokedAt, rules.revokedBefore))
    if (rules.refreshCreatedBefore !== null) refreshConditions.push(lt(refreshTokens.createdAt, rules.refreshCreatedBefore))
    const refresh = refreshConditions.length === 0 ? 0 : await deleteInBatches(refreshTokens, or(...refreshConditions), rules)
    const access = await deleteInBatches(accessTokens, and(lt(accessTokens.expiresAt, rules.now)), rules, rules.now)
    // Only tokens expired at `rules.now` went; a cache refuses those anyway, unless its clock is behind.
    hub.emit({ kind: 'expired', before: rules.now })
    const idTokenCount = await deleteInBatches(idTokens, and(lt(idTokens.expiresAt, rules.now),
      sql`NOT EXISTS (SELECT 1 FROM ${accessTokens} WHERE ${accessTokens.idTokenId} = ${idTokens.id})`), rules)
    const grantCount = await deleteInBatches(grants, and(lt(grants.expiresAt, rules.now)), rules)
    const deviceCount = await deleteInBatches(deviceGrants, and(lt(deviceGrants.expiresAt, rules.now)), rules)
    return { accessTokens: access, refreshTokens: refresh, grants: grantCount, idTokens: idTokenCount, deviceGrants: deviceCount }
  }

  /** Deletes access token `id`, noting its checksum. */
  function deleteAccessToken (t: SqliteDb, id: number, removed: string[]): void {
    const row = t.delete(accessTokens).where(eq(accessTokens.id, id)).returning(checksumColumn).get()
    if (row !== undefined) removed.push(row.checksum)
  }

  const store: Store = {
    ...sqliteRegistrationMethods(db, tx),

    async createApplication (app: NewApplication): Promise<Application> {
      const row = await tx((t) => t.insert(applications).values(newApplicationToRow(app)).returning().get())
      return toApplication(row)
    },

    async findApplicationByClientId (clientId: string): Promise<Application | null> {
      return matchingApplication(applicationByClientId.get({ clientId }), clientId)
    },

    async findApplicationById (id: number): Promise<Application | null> {
      const row = applicationById.get({ id })
      return row === undefined ? null : toApplication(row)
    },

    async listApplications (filter = {}): Promise<Application[]> {
      const query = db.select().from(applications)
      const rows = filter.userId === undefined
        ? query.orderBy(applications.id).all()
        : query.where(filter.userId === null ? isNull(applications.userId) : eq(applications.userId, filter.userId)).orderBy(applications.id).all()
      return rows.map(toApplication)
    },

    async updateApplication (id: number, changes: ApplicationChanges, now: Date): Promise<Application | null> {
      const set = applicationChangesToRow(changes, now)
      const row = await tx((t) => t.update(applications).set(set).where(eq(applications.id, id)).returning().get())
      hub.emit({ kind: 'application', applicationId: id })
      return row === undefined ? null : toApplication(row)
    },

    async deleteApplication (id: number): Promise<boolean> {
      // Foreign keys cascade to tokens, codes and ID tokens.
      try {
        return await tx((t) => t.delete(applications).where(eq(applications.id, id)).run().changes > 0)
      } finally {
        hub.emit({ kind: 'application', applicationId: id })
      }
    },

    async isOriginAllowed (origin: string): Promise<boolean> {
      // A list entry never holds white space, so such an origin cannot match one exactly.
      if (origin === '' || /\s/.test(origin)) return false
      // instr() is a plain substring test (LIKE would read `%` and `_` in the origin as
      // wildcards). It only narrows the rows; the split list decides on exact equality, so
      // `https://a.example` does not match `https://a.example.evil.net` or `https://a.example:8443`.
      const rows = db.select({ allowedOrigins: applications.allowedOrigins }).from(applications)
        .where(sql`instr(${applications.allowedOrigins}, ${origin}) > 0`).all()
      return rows.some((row) => splitList(row.allowedOrigins).includes(origin))
    },

    async findAccessToken (checksum: string): Promise<AccessTokenRecord | null> {
      const row = accessTokenByChecksum.get({ checksum })
      return row === undefined ? null : toAccessToken(row)
    },

    async findAccessTokenForVerification (checksum: string): Promise<VerifiableAccessToken | null> {
      const row = verifiableByChecksum.get({ checksum })
      return row === undefined ? null : { token: toAccessToken(row.token), application: row.application === null ? null : toApplication(row.application) }
    },

    async findAccessTokenById (id: number): Promise<AccessTokenRecord | null> {
      const row = db.select().from(accessTokens).where(eq(accessTokens.id, id)).get()
      return row === undefined ? null : toAccessToken(row)
    },

    async listAccessTokensForUser (userId: string): Promise<AccessTokenRecord[]> {
      return db.select().from(accessTokens).where(eq(accessTokens.userId, userId)).orderBy(accessTokens.id).all().map(toAccessToken)
    },

    async revokeAccessToken (id: number, now: Date): Promise<void> {
      await tx((t, removed) => {
        const row = t.select({ family: accessTokens.tokenFamily }).from(accessTokens).where(eq(accessTokens.id, id)).get()
        if (row === undefined) return
        if (row.family !== null) revokeFamily(t, row.family, now, removed)
        else deleteAccessToken(t, id, removed)
      })
    },

    async findRefreshToken (checksum: string): Promise<RefreshTokenRecord | null> {
      const row = db.select().from(refreshTokens).where(eq(refreshTokens.tokenChecksum, checksum)).get()
      return row === undefined ? null : toRefreshToken(row)
    },

    async revokeTokenFamily (family: string, now: Date): Promise<void> {
      await tx((t, removed) => { revokeFamily(t, family, now, removed) })
    },

    async issueTokens (issue: TokenIssue): Promise<IssuedTokenRows> {
      return await tx((t) => insertTokens(t, issue))
    },

    async rotateRefreshToken (id: number, successorSealed: string | null, issue: TokenIssue): Promise<IssueResult> {
      return await conditionalIssue((t, removed) => {
        const old = t.update(refreshTokens).set({ revokedAt: issue.now, successorSealed, updatedAt: issue.now })
          .where(and(eq(refreshTokens.id, id), isNull(refreshTokens.revokedAt)))
          .returning({ accessTokenId: refreshTokens.accessTokenId }).get()
        if (old === undefined) throw new LostRace()
        if (old.accessTokenId !== null) deleteAccessToken(t, old.accessTokenId, removed)
        return insertTokens(t, issue)
      })
    },

    async replaceAccessToken (refreshTokenId: number, issue: TokenIssue): Promise<IssueResult> {
      return await conditionalIssue((t, removed) => {
        const live = t.select({ accessTokenId: refreshTokens.accessTokenId }).from(refreshTokens)
          .where(and(eq(refreshTokens.id, refreshTokenId), isNull(refreshTokens.revokedAt))).get()
        if (live === undefined) throw new LostRace()
        if (live.accessTokenId !== null) deleteAccessToken(t, live.accessTokenId, removed)
        const rows = insertTokens(t, { ...issue, refreshToken: null })
        const rt = t.update(refreshTokens).set({ accessTokenId: rows.accessToken.id, updatedAt: issue.now })
          .where(eq(refreshTokens.id, refreshTokenId)).returning().get()
        if (rt === undefined) throw new LostRace()
        return { accessToken: rows.accessToken, refreshToken: toRefreshToken(rt) }
      })
    },

    async createIdToken (idToken: NewIdToken, now: Date): Promise<IdTokenRecord> {
      return toIdToken(await tx((t) => insertIdToken(t, idToken, now)))
    },

    async findIdTokenByJti (jti: string): Promise<IdTokenRecord | null> {
      const row = db.select().from(idTokens).where(eq(idTokens.jti, jti)).get()
      return row === undefined ? null : toIdToken(row)
    },

    async createGrant (grant: NewGrant, now: Date): Promise<GrantRecord> {
      const row = await tx((t) => t.insert(grants).values({
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
      }).returning().get())
      return toGrant(row)
    },

    async findGrant (checksum: string): Promise<GrantRecord | null> {
      const row = db.select().from(grants).where(eq(grants.codeChecksum, checksum)).get()
      return row === undefined ? null : toGrant(row)
    },

    async redeemGrant (grantId: number, issue: TokenIssue): Promise<IssueResult> {
      return await conditionalIssue((t) => {
        // RFC 6749 §4.1.2: single use. The changed-row count decides who won.
        const family = issue.refreshToken?.tokenFamily ?? issue.accessToken.tokenFamily
        const changes = t.update(grants).set({ consumedAt: issue.now, tokenFamily: family, updatedAt: issue.now })
          .where(and(eq(grants.id, grantId), isNull(grants.consumedAt), gt(grants.expiresAt, issue.now))).run().changes
        if (changes !== 1) throw new LostRace()
        return insertTokens(t, issue)
      })
    },

    async revokeGrantTokens (grantId: number, now: Date): Promise<void> {
      await tx((t, removed) => {
        const grant = t.select({ family: grants.tokenFamily }).from(grants).where(eq(grants.id, grantId)).get()
        if (grant?.family != null) revokeFamily(t, grant.family, now, removed)
        for (const r of t.delete(accessTokens).where(eq(accessTokens.grantId, grantId)).returning(checksumColumn).all()) removed.push(r.checksum)
      })
    },

    async createDeviceGrant (grant: NewDeviceGrant, now: Date): Promise<DeviceGrantRecord | null> {
      // A taken user code inserts nothing (the caller draws another), never a constraint error.
      const row = db.insert(deviceGrants).values(newDeviceGrantToRow(grant, now)).onConflictDoNothing({ target: deviceGrants.userCodeChecksum }).returning().get()
      return row === undefined ? null : toDeviceGrant(row)
    },

    async findDeviceGrant (checksum: string): Promise<DeviceGrantRecord | null> {
      const row = db.select().from(deviceGrants).where(eq(deviceGrants.deviceCodeChecksum, checksum)).get()
      return row === undefined ? null : toDeviceGrant(row)
    },

    async findDeviceGrantByUserCode (userCodeChecksum: string): Promise<DeviceGrantRecord | null> {
      const row = db.select().from(deviceGrants).where(eq(deviceGrants.userCodeChecksum, userCodeChecksum)).get()
      return row === undefined ? null : toDeviceGrant(row)
    },

    async findDeviceGrantById (id: number): Promise<DeviceGrantRecord | null> {
      const row = db.select().from(deviceGrants).where(eq(deviceGrants.id, id)).get()
      return row === undefined ? null : toDeviceGrant(row)
    },

    async claimDeviceGrant (id: number, userId: string, now: Date): Promise<DeviceGrantRecord | null> {
      const row = db.update(deviceGrants).set({ userId, updatedAt: now })
        .where(and(eq(deviceGrants.id, id), eq(deviceGrants.status, 'authorization-pending'), gt(deviceGrants.expiresAt, now),
          or(isNull(deviceGrants.userId), eq(deviceGrants.userId, userId))))
        .returning().get()
      return row === undefined ? null : toDeviceGrant(row)
    },

    async decideDeviceGrant (id: number, userId: string, decision: 'authorized' | 'denied', authTime: Date, now: Date): Promise<boolean> {
      return db.update(deviceGrants).set({ status: decision, authTime, updatedAt: now })
        .where(and(eq(deviceGrants.id, id), eq(deviceGrants.userId, userId), eq(deviceGrants.status, 'authorization-pending'), gt(deviceGrants.expiresAt, now)))
        .run().changes === 1
    },

    async recordDevicePoll (id: number, now: Date, slowDownSeconds: number): Promise<DevicePollResult | null> {
      return tx((t) => {
        const row = t.select({ interval: deviceGrants.interval, lastPolledAt: deviceGrants.lastPolledAt }).from(deviceGrants).where(eq(deviceGrants.id, id)).get()
        if (row === undefined) return null
        const tooFast = row.lastPolledAt !== null && now.getTime() - row.lastPolledAt.getTime() < row.interval * 1000
        const interval = tooFast ? row.interval + slowDownSeconds : row.interval
        t.update(deviceGrants).set({ lastPolledAt: now, interval, updatedAt: now }).where(eq(deviceGrants.id, id)).run()
        return { tooFast, interval }
      })
    },

    async redeemDeviceGrant (id: number, issue: TokenIssue): Promise<IssueResult> {
      return conditionalIssue((t) => {
        // RFC 8628 §3.5 with RFC 6749 §4.1.2's spirit: one token set per approval. The changed-row count decides.
        const changes = t.update(deviceGrants).set({ consumedAt: issue.now, updatedAt: issue.now })
          .where(and(eq(deviceGrants.id, id), eq(deviceGrants.status, 'authorized'), isNull(deviceGrants.consumedAt), gt(deviceGrants.expiresAt, issue.now)))
          .run().changes
        if (changes !== 1) throw new LostRace()
        return insertTokens(t, issue)
      })
    },

    async clearExpired (rules: ClearExpiredRules): Promise<ClearedCounts> {
      return await withoutAutoCheckpoint(async () => await clearExpiredRows(rules))
    },

    async close (): Promise<void> {
      await checkpointer?.close()
      walIndex?.close()
      if (ownsConnection && raw.open) raw.close()
    },

    watchInvalidations: (listener) => hub.subscribe(listener),

    invalidationsReliable (): boolean {
      if (!raw.open) return false
      if (!lookDue()) return true
      if (walIndex !== null && !walIndex.changed()) return true
      const version = dataVersion.get()
      if (version !== lastDataVersion) {
        lastDataVersion = version
        otherConnectionsCommitted(readSinceLast())
      }
      return true
    },
  }
  return guardUnknownMethods(store, async () => { hub.emit({ kind: 'all' }) })
}
