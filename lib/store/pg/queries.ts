import { asc, desc, eq, inArray, or, sql } from 'drizzle-orm'
import type { InvalidationHub } from '../invalidation.js'
import { conditionalIssue, devicePoll, familiesEndingWithSession, LostRace, revokedFamilyOf } from '../shared/decisions.js'
import {
  mapOrNull, matchingApplication, toAccessToken, toApplication, toDeviceGrant, toGrant, toIdToken, toLogoutDelivery, toRefreshToken, toSession, toVerifiable,
} from '../shared/mappers.js'
import type { DataMethods } from '../shared/methods.js'
import { applicationChangesToRow, newApplicationToRow, newDeviceGrantToRow, newGrantToRow } from '../shared/rows.js'
import {
  applicationFilter, applicationPageFilter, applicationSource, backchannelClientsOf, byId, deviceGrantClaim, deviceGrantDecision, deviceGrantDenial,
  deviceGrantRedemption, dueLogoutDeliveries, expiredCimdApplication, familyRevocation, grantRedemption, grantRevocation,
  liveRefreshToken, liveSessionRefreshTokens, logoutDeliveriesOfSession, logoutDeliveryClaim, logoutDeliveryRows, mayBeListedOrigin, pageLimit, recordPageFilter,
  refreshTokenRebinding, refreshTokenRotation, sessionClientsOfPage, sessionEnding, sessionPageFilter, sessionSelection, sessionSelectionLimit, sessionTouch, singleUse, standInApplication,
} from '../shared/rules.js'
import type { EndedSession, IssuedTokenRows, IssueResult, RevokedFamily, RevokedRefreshToken, StoreInvalidation } from '../types.js'
import type { PgGroupCommit, PgTx, PgWork } from './group-commit.js'
import type { PgDb } from './open.js'
import { insertIdToken, insertTokens, one, tokenIssuances } from './token-inserts.js'
import { accessTokens, applications, clientRegistrations, deviceGrants, grants, idTokens, logoutDeliveries, refreshTokens, sessionClients, sessions, usedJtis } from './schema.js'

// The PostgreSQL executor of the store's queries: the rules, row builders and mappers are
// lib/store/shared/'s; here they are awaited, writes inside transactions at READ COMMITTED, and
// the writers of one refresh token family hold the family's advisory lock (see `createPgStore`).

/** What the queries need from the store: its invalidations, within and across processes. */
export interface PgQueryDeps {
  readonly db: PgDb
  readonly hub: InvalidationHub
  /** A transaction whose removed access tokens (pushed to `removed`) are notified inside it and reported locally after it. */
  readonly removingTx: <T>(fn: (t: PgTx, removed: string[]) => Promise<T>) => Promise<T>
  /** The group commit that issuances go through (group-commit.ts). */
  readonly group: PgGroupCommit
  /** NOTIFY, delivered to the other processes' listeners when `t` commits. */
  readonly notify: (t: PgTx | PgDb, event: StoreInvalidation) => Promise<void>
}

/**
 * First key of the transaction-level advisory locks that serialize the writers of one refresh
 * token family (the second key is a hash of the family): "OATF" in ASCII.
 */
const FAMILY_LOCK = sql.raw(String(0x4f415446))

const checksumColumn = { checksum: accessTokens.tokenChecksum }

/** What a family's revocation returns of each refresh token it revoked (for a `tokenRevoked` event; never the checksum). */
const revokedRefreshColumns = {
  id: refreshTokens.id, applicationId: refreshTokens.applicationId, userId: refreshTokens.userId, accessTokenId: refreshTokens.accessTokenId,
}

/** Serializes the writers of one family until the transaction ends. */
async function lockFamily (t: PgTx, family: string): Promise<void> {
  await t.execute(sql`SELECT pg_advisory_xact_lock(${FAMILY_LOCK}, hashtext(${family}))`)
}

/** The same lock, for the family of refresh token `id` (a family never changes); none when the row is gone. */
async function lockFamilyOf (t: PgTx, id: number): Promise<void> {
  await t.execute(sql`SELECT pg_advisory_xact_lock(${FAMILY_LOCK}, hashtext(${refreshTokens.tokenFamily}))
    FROM ${refreshTokens} WHERE ${refreshTokens.id} = ${id}`)
}

/** The data methods over `db`. */
export function pgQueries ({ db, hub, removingTx, group, notify }: PgQueryDeps): DataMethods {
  const accessTokenByChecksum = db.select().from(accessTokens)
    .where(eq(accessTokens.tokenChecksum, sql.placeholder('checksum'))).prepare('oat_access_token_by_checksum')
  // The verification hot path: one named prepared statement, the token joined with its application.
  const verifiableByChecksum = db.select({ token: accessTokens, application: applications }).from(accessTokens)
    .leftJoin(applications, eq(applications.id, accessTokens.applicationId))
    .where(eq(accessTokens.tokenChecksum, sql.placeholder('checksum'))).prepare('oat_verifiable_access_token')

  // Every client authentication looks its application up: named prepared statements too.
  // By client_id, or else the stand-in (`matchingApplication`): the matching row sorts first.
  const clientIdParam = sql.placeholder('clientId')
  const applicationByClientId = db.select().from(applications)
    .where(or(eq(applications.clientId, clientIdParam), standInApplication(applications)))
    .orderBy(sql`${applications.clientId} = ${clientIdParam} DESC`).limit(1).prepare('oat_application_by_client_id')
  const applicationById = db.select().from(applications).where(eq(applications.id, sql.placeholder('id'))).prepare('oat_application_by_id')

  /** Deletes access token `id`, noting its checksum. */
  async function deleteAccessToken (t: PgTx, id: number, removed: string[]): Promise<void> {
    for (const r of await t.delete(accessTokens).where(byId(accessTokens, id)).returning(checksumColumn)) removed.push(r.checksum)
  }

  async function revokeFamily (t: PgTx, family: string, now: Date, removed: string[]): Promise<RevokedRefreshToken[]> {
    await lockFamily(t, family)
    const { revoke, unseal, accessTokens: ofFamily } = familyRevocation(refreshTokens, accessTokens, family, now)
    const revoked = await t.update(refreshTokens).set(revoke.set).where(revoke.where).returning(revokedRefreshColumns)
    await t.update(refreshTokens).set(unseal.set).where(unseal.where)
    for (const r of await t.delete(accessTokens).where(ofFamily).returning(checksumColumn)) removed.push(r.checksum)
    return revoked
  }

  /** Deletes the access tokens exchanged for code `grantId` and revokes the family it created. */
  async function revokeTokensOfGrant (t: PgTx, grantId: number, now: Date, removed: string[]): Promise<void> {
    const [grant] = await t.select({ family: grants.tokenFamily }).from(grants).where(byId(grants, grantId))
    if (grant?.family != null) await revokeFamily(t, grant.family, now, removed)
    for (const r of await t.delete(accessTokens).where(eq(accessTokens.grantId, grantId)).returning(checksumColumn)) removed.push(r.checksum)
  }

  /**
   * A conditional issuance, in a savepoint of a group commit's transaction, which `fn` rolls
   * back with `LostRace`; it settles after the group's COMMIT.
   */
  async function conditionally (fn: PgWork<IssuedTokenRows>): Promise<IssueResult> {
    return await conditionalIssue(async () => await group.run(fn))
  }

  /** An application change: NOTIFY inside its transaction, reported here after it, whatever the outcome. */
  async function changingApplication<T> (id: number, fn: (t: PgTx) => Promise<T>): Promise<T> {
    const event: StoreInvalidation = { kind: 'application', applicationId: id }
    try {
      return await db.transaction(async (t) => {
        await notify(t, event)
        return await fn(t)
      })
    } finally {
      hub.emit(event)
    }
  }

  return {
    async createApplication (app) {
      return toApplication(one(await db.insert(applications).values(newApplicationToRow(app)).returning()))
    },

    async findApplicationByClientId (clientId) {
      return matchingApplication((await applicationByClientId.execute({ clientId }))[0], clientId)
    },

    async findApplicationById (id) {
      return mapOrNull((await applicationById.execute({ id }))[0], toApplication)
    },

    async listApplications (filter = {}) {
      return (await db.select().from(applications).where(applicationFilter(applications, filter)).orderBy(applications.id)).map(toApplication)
    },

    async updateApplication (id, changes, now) {
      const set = applicationChangesToRow(changes, now)
      return mapOrNull((await changingApplication(id, async (t) => await t.update(applications).set(set).where(byId(applications, id)).returning()))[0], toApplication)
    },

    async deleteApplication (id) {
      // Foreign keys cascade to tokens, codes and ID tokens, in this one statement.
      return ((await changingApplication(id, async (t) => await t.delete(applications).where(byId(applications, id)))).rowCount ?? 0) > 0
    },

    async deleteExpiredCimdApplications (now, limit) {
      const stale = expiredCimdApplication({ applications, accessTokens, refreshTokens, grants, deviceGrants }, now)
      // One DELETE decides (its conditions are re-read on the rows it removes); foreign keys
      // cascade to their expired rows, and each deletion is announced in the same transaction.
      const deleted: Array<{ id: number }> = []
      try {
        await db.transaction(async (t) => {
          const rows = await t.delete(applications)
            .where(inArray(applications.id, t.select({ id: applications.id }).from(applications).where(stale).orderBy(applications.id).limit(limit)))
            .returning({ id: applications.id })
          for (const row of rows) await notify(t, { kind: 'application', applicationId: row.id })
          deleted.push(...rows)
        })
      } finally {
        for (const { id } of deleted) hub.emit({ kind: 'application', applicationId: id })
      }
      return deleted.length
    },

    async isOriginAllowed (origin) {
      if (!mayBeListedOrigin(origin)) return false
      // Exact equality with one element of the split list: no LIKE, so `%` and `_` are plain
      // characters, and `https://a.example` does not match `https://a.example.evil.net`.
      const rows = await db.select({ id: applications.id }).from(applications)
        .where(sql`${origin}::text = ANY (regexp_split_to_array(${applications.allowedOrigins}, '[[:space:]]+'))`).limit(1)
      return rows.length > 0
    },

    async findAccessToken (checksum) {
      return mapOrNull((await accessTokenByChecksum.execute({ checksum }))[0], toAccessToken)
    },

    async findAccessTokenForVerification (checksum) {
      return mapOrNull((await verifiableByChecksum.execute({ checksum }))[0], toVerifiable)
    },

    async findAccessTokenById (id) {
      return mapOrNull((await db.select().from(accessTokens).where(byId(accessTokens, id)))[0], toAccessToken)
    },

    async listAccessTokensForUser (userId) {
      return (await db.select().from(accessTokens).where(eq(accessTokens.userId, userId)).orderBy(accessTokens.id)).map(toAccessToken)
    },

    async revokeAccessToken (id, now) {
      await removingTx(async (t, removed) => {
        const [row] = await t.select({ family: accessTokens.tokenFamily }).from(accessTokens).where(byId(accessTokens, id))
        if (row === undefined) return
        if (row.family !== null) await revokeFamily(t, row.family, now, removed)
        else await deleteAccessToken(t, id, removed)
      })
    },

    async findRefreshToken (checksum) {
      return mapOrNull((await db.select().from(refreshTokens).where(eq(refreshTokens.tokenChecksum, checksum)))[0], toRefreshToken)
    },

    async revokeTokenFamily (family, now) {
      await removingTx(async (t, removed) => { await revokeFamily(t, family, now, removed) })
    },

    async issueTokens (issue) {
      return await group.write(tokenIssuances, issue)
    },

    async rotateRefreshToken (id, successorSealed, issue) {
      return await conditionally(async (t, removed) => {
        await lockFamilyOf(t, id)
        const rotation = refreshTokenRotation(refreshTokens, id, successorSealed, issue.now)
        const [old] = await t.update(refreshTokens).set(rotation.set).where(rotation.where).returning({ accessTokenId: refreshTokens.accessTokenId })
        if (old === undefined) throw new LostRace()
        if (old.accessTokenId !== null) await deleteAccessToken(t, old.accessTokenId, removed)
        return await insertTokens(t, issue)
      })
    },

    async replaceAccessToken (refreshTokenId, issue) {
      return await conditionally(async (t, removed) => {
        await lockFamilyOf(t, refreshTokenId)
        const [live] = await t.select({ accessTokenId: refreshTokens.accessTokenId }).from(refreshTokens)
          .where(liveRefreshToken(refreshTokens, refreshTokenId)).for('update')
        if (live === undefined) throw new LostRace()
        if (live.accessTokenId !== null) await deleteAccessToken(t, live.accessTokenId, removed)
        const rows = await insertTokens(t, { ...issue, refreshToken: null })
        const rebinding = refreshTokenRebinding(refreshTokens, refreshTokenId, rows.accessToken.id, issue.now)
        const [rt] = await t.update(refreshTokens).set(rebinding.set).where(rebinding.where).returning()
        if (rt === undefined) throw new LostRace()
        return { accessToken: rows.accessToken, refreshToken: toRefreshToken(rt) }
      })
    },

    async createIdToken (idToken, now) {
      return toIdToken(await insertIdToken(db, idToken, now))
    },

    async findIdTokenByJti (jti) {
      return mapOrNull((await db.select().from(idTokens).where(eq(idTokens.jti, jti)))[0], toIdToken)
    },

    async createGrant (grant, now) {
      return toGrant(one(await db.insert(grants).values(newGrantToRow(grant, now)).returning()))
    },

    async useOnce (kind, key, expiresAt, now) {
      const use = singleUse(usedJtis, kind, key, expiresAt, now)
      const rows = await db.insert(usedJtis).values(use.row)
        .onConflictDoUpdate({ target: [usedJtis.kind, usedJtis.keyChecksum], set: use.set, setWhere: use.setWhere }).returning({ id: usedJtis.id })
      return rows.length === 1
    },

    async findGrant (checksum) {
      return mapOrNull((await db.select().from(grants).where(eq(grants.codeChecksum, checksum)))[0], toGrant)
    },

    async redeemGrant (grantId, issue) {
      return await conditionally(async (t) => {
        const redemption = grantRedemption(grants, grantId, issue)
        const won = await t.update(grants).set(redemption.set).where(redemption.where).returning({ id: grants.id })
        if (won.length !== 1) throw new LostRace()
        return await insertTokens(t, issue)
      })
    },

    async revokeGrantTokens (grantId, now) {
      await removingTx(async (t, removed) => { await revokeTokensOfGrant(t, grantId, now, removed) })
    },

    async revokeGrant (id, now) {
      return await removingTx(async (t, removed) => {
        // The row lock first: a racing exchange either committed (its family is then read below)
        // or waits and finds the code consumed (READ COMMITTED re-checks its condition).
        const [row] = await t.select({ id: grants.id }).from(grants).where(byId(grants, id)).for('update')
        if (row === undefined) return false
        const revocation = grantRevocation(grants, id, now)
        await t.update(grants).set(revocation.set).where(revocation.where)
        await revokeTokensOfGrant(t, id, now, removed)
        return true
      })
    },

    async pageApplications (query) {
      const rows = await db.select({ application: applications, registrationId: clientRegistrations.id }).from(applications)
        .leftJoin(clientRegistrations, eq(clientRegistrations.applicationId, applications.id))
        .where(applicationPageFilter(applications, clientRegistrations.id, query)).orderBy(desc(applications.id)).limit(pageLimit(query.limit))
      return rows.map((r) => ({ application: toApplication(r.application), source: applicationSource(r.application, r.registrationId) }))
    },

    async pageAccessTokens (query) {
      return (await db.select().from(accessTokens).where(recordPageFilter(accessTokens, query)).orderBy(desc(accessTokens.id)).limit(pageLimit(query.limit))).map(toAccessToken)
    },

    async pageRefreshTokens (query) {
      return (await db.select().from(refreshTokens).where(recordPageFilter(refreshTokens, query)).orderBy(desc(refreshTokens.id)).limit(pageLimit(query.limit))).map(toRefreshToken)
    },

    async pageGrants (query) {
      return (await db.select().from(grants).where(recordPageFilter(grants, query)).orderBy(desc(grants.id)).limit(pageLimit(query.limit))).map(toGrant)
    },

    async pageDeviceGrants (query) {
      return (await db.select().from(deviceGrants).where(recordPageFilter(deviceGrants, query)).orderBy(desc(deviceGrants.id)).limit(pageLimit(query.limit))).map(toDeviceGrant)
    },

    async pageIdTokens (query) {
      return (await db.select().from(idTokens).where(recordPageFilter(idTokens, query)).orderBy(desc(idTokens.id)).limit(pageLimit(query.limit))).map(toIdToken)
    },

    async pageSessions (query) {
      const rows = await db.select().from(sessions).where(sessionPageFilter(sessions, query)).orderBy(desc(sessions.id)).limit(pageLimit(query.limit))
      // One grouped count for the whole page, never one query per row (count(*) is a bigint: a string from the driver).
      const counts = rows.length === 0
        ? []
        : await db.select({ sessionId: sessionClients.sessionId, clients: sql<string>`count(*)` }).from(sessionClients)
          .where(sessionClientsOfPage(sessionClients, rows.map((r) => r.id))).groupBy(sessionClients.sessionId)
      const clientsOf = new Map(counts.map((c) => [c.sessionId, Number(c.clients)]))
      return rows.map((row) => ({ session: toSession(row), clients: clientsOf.get(row.id) ?? 0 }))
    },

    async findRefreshTokenById (id) {
      return mapOrNull((await db.select().from(refreshTokens).where(byId(refreshTokens, id)))[0], toRefreshToken)
    },

    async findGrantById (id) {
      return mapOrNull((await db.select().from(grants).where(byId(grants, id)))[0], toGrant)
    },

    async denyDeviceGrant (id, now) {
      const denial = deviceGrantDenial(deviceGrants, id, now)
      return (await db.update(deviceGrants).set(denial.set).where(denial.where).returning({ id: deviceGrants.id })).length === 1
    },

    async createDeviceGrant (grant, now) {
      // A taken user code inserts nothing (the caller draws another), never a constraint error.
      const [row] = await db.insert(deviceGrants).values(newDeviceGrantToRow(grant, now)).onConflictDoNothing({ target: deviceGrants.userCodeChecksum }).returning()
      return mapOrNull(row, toDeviceGrant)
    },

    async findDeviceGrant (checksum) {
      return mapOrNull((await db.select().from(deviceGrants).where(eq(deviceGrants.deviceCodeChecksum, checksum)))[0], toDeviceGrant)
    },

    async findDeviceGrantByUserCode (userCodeChecksum) {
      return mapOrNull((await db.select().from(deviceGrants).where(eq(deviceGrants.userCodeChecksum, userCodeChecksum)))[0], toDeviceGrant)
    },

    async findDeviceGrantById (id) {
      return mapOrNull((await db.select().from(deviceGrants).where(byId(deviceGrants, id)))[0], toDeviceGrant)
    },

    async claimDeviceGrant (id, userId, now) {
      // READ COMMITTED: a racing claim waits for the row lock and re-checks `user_id` on the committed row.
      const claim = deviceGrantClaim(deviceGrants, id, userId, now)
      return mapOrNull((await db.update(deviceGrants).set(claim.set).where(claim.where).returning())[0], toDeviceGrant)
    },

    async decideDeviceGrant (id, userId, decision, authTime, now) {
      const decided = deviceGrantDecision(deviceGrants, id, userId, decision, authTime, now)
      return (await db.update(deviceGrants).set(decided.set).where(decided.where).returning({ id: deviceGrants.id })).length === 1
    },

    async recordDevicePoll (id, now, slowDownSeconds) {
      return await db.transaction(async (t) => {
        // FOR UPDATE: concurrent polls of one device code are judged one after the other.
        const [polled] = await t.select({ interval: deviceGrants.interval, lastPolledAt: deviceGrants.lastPolledAt }).from(deviceGrants)
          .where(byId(deviceGrants, id)).for('update')
        const poll = devicePoll(deviceGrants, id, polled, now, slowDownSeconds)
        if (poll !== null) await t.update(deviceGrants).set(poll.record.set).where(poll.record.where)
        return poll?.result ?? null
      })
    },

    async redeemDeviceGrant (id, issue) {
      return await conditionally(async (t) => {
        const redemption = deviceGrantRedemption(deviceGrants, id, issue.now)
        const won = await t.update(deviceGrants).set(redemption.set).where(redemption.where).returning({ id: deviceGrants.id })
        if (won.length !== 1) throw new LostRace()
        return await insertTokens(t, issue)
      })
    },

    async touchSession (session, applicationId, now) {
      const touch = sessionTouch(sessions, session, now)
      return await db.transaction(async (t) => {
        // Racing touches of one new session: the unique index makes the second wait and then
        // take the conflict branch, as `useOnce` does.
        const [row] = await t.insert(sessions).values(touch.row)
          .onConflictDoUpdate({ target: sessions.sessionKeyChecksum, targetWhere: touch.targetWhere, set: touch.set, setWhere: touch.setWhere })
          .returning()
        if (row === undefined) return null
        await t.insert(sessionClients).values({ sessionId: row.id, applicationId, createdAt: now })
          .onConflictDoNothing({ target: [sessionClients.sessionId, sessionClients.applicationId] })
        return toSession(row)
      })
    },

    async findSessionById (id) {
      return mapOrNull((await db.select().from(sessions).where(byId(sessions, id)))[0], toSession)
    },

    async findSessionDetail (id) {
      const row = (await db.select().from(sessions).where(byId(sessions, id)))[0]
      if (row === undefined) return null
      const clients = (await db.select({ application: applications, since: sessionClients.createdAt }).from(sessionClients)
        .innerJoin(applications, eq(applications.id, sessionClients.applicationId))
        .where(eq(sessionClients.sessionId, row.id)).orderBy(asc(sessionClients.id)))
        .map((r) => ({ application: toApplication(r.application), since: r.since }))
      const deliveries = clients.length === 0
        ? []
        : (await db.select().from(logoutDeliveries).where(logoutDeliveriesOfSession(logoutDeliveries, clients.map((c) => c.application.id), row.sid))
            .orderBy(asc(logoutDeliveries.id))).map(toLogoutDelivery)
      return { session: toSession(row), clients, deliveries }
    },

    async endSessions (selector, now, options = {}) {
      return await removingTx(async (t, removed) => {
        const limit = sessionSelectionLimit(selector)
        const picked = t.select({ id: sessions.id }).from(sessions).where(sessionSelection(sessions, selector))
        const ids = (limit === undefined ? await picked : await picked.limit(limit)).map((r) => r.id)
        if (ids.length === 0) return []
        // READ COMMITTED: a racing end waits for the row lock, re-checks `ended IS NULL`, and skips the row.
        const ending = sessionEnding(sessions, ids, now)
        const ended: EndedSession[] = []
        for (const row of await t.update(sessions).set(ending.set).where(ending.where).returning()) {
          const clients = (await t.select({ id: applications.id }).from(sessionClients).innerJoin(applications, eq(applications.id, sessionClients.applicationId))
            .where(backchannelClientsOf(sessionClients, applications, row.id))).map((r) => r.id)
          const deliveries = logoutDeliveryRows(clients, row, now)
          if (deliveries.length > 0) await t.insert(logoutDeliveries).values(deliveries)
          const live = await t.select({ family: refreshTokens.tokenFamily, scope: refreshTokens.scope, clientId: applications.clientId }).from(refreshTokens)
            .innerJoin(applications, eq(applications.id, refreshTokens.applicationId)).where(liveSessionRefreshTokens(refreshTokens, row.id))
          let revokedFamilies = 0
          const families: RevokedFamily[] = []
          for (const [family, clientId] of familiesEndingWithSession(live)) {
            // The family lock, then an UPDATE that re-reads the committed rows: a family the
            // revocation endpoint revoked meanwhile returns nothing here, and is reported by it alone.
            const revoked = revokedFamilyOf(await revokeFamily(t, family, now, removed), clientId)
            if (revoked === null) continue
            revokedFamilies++
            if (options.listFamilies === true) families.push(revoked)
          }
          ended.push({ session: toSession(row), deliveries: deliveries.length, revokedFamilies, families })
        }
        return ended
      })
    },

    async claimLogoutDeliveries (now, leaseUntil, limit) {
      // SKIP LOCKED: instances claiming at once take different rows instead of queueing on the same ones;
      // the UPDATE re-checks that each row is still due, so a row is claimed once either way.
      const due = db.select({ id: logoutDeliveries.id }).from(logoutDeliveries).where(dueLogoutDeliveries(logoutDeliveries, now))
        .orderBy(asc(logoutDeliveries.nextAttemptAt)).limit(limit).for('update', { skipLocked: true })
      const claim = logoutDeliveryClaim(logoutDeliveries, due, now, leaseUntil)
      return (await db.update(logoutDeliveries).set(claim.set).where(claim.where).returning()).map(toLogoutDelivery)
    },

    async rescheduleLogoutDelivery (id, nextAttemptAt, lastError) {
      await db.update(logoutDeliveries).set({ nextAttemptAt, lastError }).where(byId(logoutDeliveries, id))
    },

    async deleteLogoutDelivery (id) {
      await db.delete(logoutDeliveries).where(inArray(logoutDeliveries.id, [id]))
    },
  }
}
