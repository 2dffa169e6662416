import { asc, desc, eq, getTableColumns, inArray, sql, type Placeholder, type SQL, type Table } from 'drizzle-orm'
import type { InvalidationHub } from '../invalidation.js'
import type { NewIdToken } from '../records.js'
import { conditionalIssue, devicePoll, familiesEndingWithSession, LostRace, revokedFamilyOf } from '../shared/decisions.js'
import {
  mapOrNull, matchingApplication, splitList, toAccessToken, toApplication, toDeviceGrant, toGrant, toIdToken, toLogoutDelivery, toRefreshToken, toSession, toVerifiable,
} from '../shared/mappers.js'
import type { DataMethods } from '../shared/methods.js'
import {
  ACCESS_TOKEN_UNSET, applicationChangesToRow, newAccessTokenToRow, newApplicationToRow, newDeviceGrantToRow, newGrantToRow, newIdTokenToRow,
  newRefreshTokenToRow, REFRESH_TOKEN_UNSET,
} from '../shared/rows.js'
import {
  applicationFilter, applicationPageFilter, applicationSource, backchannelClientsOf, byId, deviceGrantClaim, deviceGrantDecision, deviceGrantDenial,
  deviceGrantRedemption, dueLogoutDeliveries, expiredCimdApplication, familyRevocation, grantRedemption, grantRevocation,
  liveRefreshToken, liveSessionRefreshTokens, logoutDeliveriesOfSession, logoutDeliveryClaim, logoutDeliveryRows, mayBeListedOrigin, pageLimit, recordPageFilter,
  refreshTokenRebinding, refreshTokenRotation, sessionClientsOfPage, sessionEnding, sessionPageFilter, sessionSelection, sessionSelectionLimit, sessionTouch, singleUse, standInApplication,
} from '../shared/rules.js'
import type { EndedSession, IssuedTokenRows, IssueResult, RevokedFamily, RevokedRefreshToken, TokenIssue } from '../types.js'
import type { SqliteDb, SqliteTransaction } from './open.js'
import { accessTokens, applications, clientRegistrations, deviceGrants, grants, idTokens, logoutDeliveries, refreshTokens, sessionClients, sessions, usedJtis } from './schema.js'

// The SQLite executor of the store's queries: the rules, row builders and mappers are
// lib/store/shared/'s; here they run with `.get()`/`.run()`, writes inside the synchronous
// transactions of `tx` (group-commit.ts). Single-use artefacts are consumed with one conditional
// UPDATE whose changed-row count decides (SQLite serializes writers).

const checksumColumn = { checksum: accessTokens.tokenChecksum }

/** What a family's revocation returns of each refresh token it revoked (for a `tokenRevoked` event; never the checksum). */
const revokedRefreshColumns = {
  id: refreshTokens.id, applicationId: refreshTokens.applicationId, userId: refreshTokens.userId, accessTokenId: refreshTokens.accessTokenId,
}

/** A placeholder named after each column of `table` but `unset`: a prepared INSERT given a shared row builder's values (rows.ts). */
function placeholders<T extends Table, U extends keyof T['_']['columns'] & string> (table: T, unset: readonly U[]): Record<Exclude<keyof T['_']['columns'] & string, U>, Placeholder> {
  const values: Record<string, Placeholder> = {}
  for (const key of Object.keys(getTableColumns(table))) if (!(unset as readonly string[]).includes(key)) values[key] = sql.placeholder(key)
  return values as Record<Exclude<keyof T['_']['columns'] & string, U>, Placeholder>
}

/**
 * A placeholder for a nullable time column: the column's own encoder (Date → epoch ms) cannot
 * encode null. drizzle hands this encoder the value given for the placeholder when the statement runs.
 */
function nullableTime (name: string): SQL {
  return sql`${sql.param(sql.placeholder(name), { mapToDriverValue: (value: unknown) => value instanceof Date ? value.getTime() : null })}`
}

/** The data methods over `db`; `tx` runs the writes, and `hub` hears the applications changed here. */
export function sqliteQueries (db: SqliteDb, tx: SqliteTransaction, hub: InvalidationHub): DataMethods {
  // The verification hot path: one prepared statement on a unique index.
  const accessTokenByChecksum = db.select().from(accessTokens).where(eq(accessTokens.tokenChecksum, sql.placeholder('checksum'))).prepare()
  // Verification loads the token's application and every client authentication looks one up:
  // prepared once, as building and preparing the query per call cost ~20× the lookup (bench/README.md).
  const applicationById = db.select().from(applications).where(eq(applications.id, sql.placeholder('id'))).prepare()
  // By client_id, or else the stand-in (`matchingApplication`). `get()` steps once: a known
  // client's row comes from the first arm and the second never runs. No LIMIT: drizzle binds it
  // as a parameter, and `LIMIT ?` made SQLite run the compound 5× slower.
  const applicationByClientId = db.select().from(applications).where(eq(applications.clientId, sql.placeholder('clientId')))
    .unionAll(db.select().from(applications).where(standInApplication(applications))).prepare()
  // Verification in one statement: the token joined with its application.
  const verifiableByChecksum = db.select({ token: accessTokens, application: applications }).from(accessTokens)
    .leftJoin(applications, eq(applications.id, accessTokens.applicationId))
    .where(eq(accessTokens.tokenChecksum, sql.placeholder('checksum'))).prepare()

  // Issuance inserts, prepared once (drizzle built and prepared each INSERT per call: ~35 % of
  // an issuance's CPU, bench/README.md). drizzle maps placeholder values through the columns'
  // encoders (Dates to epoch milliseconds) and RETURNING rows back.
  const insertAccessToken = db.insert(accessTokens).values(placeholders(accessTokens, ACCESS_TOKEN_UNSET)).returning().prepare()
  const insertRefreshToken = db.insert(refreshTokens)
    .values({ ...placeholders(refreshTokens, REFRESH_TOKEN_UNSET), authTime: nullableTime('authTime') }).returning().prepare()

  function insertIdToken (t: SqliteDb, idToken: NewIdToken, now: Date): typeof idTokens.$inferSelect {
    return t.insert(idTokens).values(newIdTokenToRow(idToken, now)).returning().get()
  }

  /** Inserts the issued rows; call inside `tx` (prepared statements run on the transaction's connection). */
  function insertTokens (t: SqliteDb, issue: TokenIssue): IssuedTokenRows {
    const idTokenId = issue.idToken == null ? null : insertIdToken(t, issue.idToken, issue.now).id
    const accessRow = insertAccessToken.get(newAccessTokenToRow(issue.accessToken, idTokenId, issue.now))
    if (accessRow === undefined) throw new Error('INSERT … RETURNING returned no row')
    const rt = issue.refreshToken
    if (rt === null) return { accessToken: toAccessToken(accessRow), refreshToken: null }
    const refreshRow = insertRefreshToken.get(newRefreshTokenToRow(rt, accessRow.id, issue.now))
    if (refreshRow === undefined) throw new Error('INSERT … RETURNING returned no row')
    return { accessToken: toAccessToken(accessRow), refreshToken: toRefreshToken(refreshRow) }
  }

  /** Deletes access token `id`, noting its checksum. */
  function deleteAccessToken (t: SqliteDb, id: number, removed: string[]): void {
    const row = t.delete(accessTokens).where(byId(accessTokens, id)).returning(checksumColumn).get()
    if (row !== undefined) removed.push(row.checksum)
  }

  function revokeFamily (t: SqliteDb, family: string, now: Date, removed: string[]): RevokedRefreshToken[] {
    const { revoke, unseal, accessTokens: ofFamily } = familyRevocation(refreshTokens, accessTokens, family, now)
    const revoked = t.update(refreshTokens).set(revoke.set).where(revoke.where).returning(revokedRefreshColumns).all()
    t.update(refreshTokens).set(unseal.set).where(unseal.where).run()
    for (const r of t.delete(accessTokens).where(ofFamily).returning(checksumColumn).all()) removed.push(r.checksum)
    return revoked
  }

  /** Deletes the access tokens exchanged for code `grantId` and revokes the family it created. */
  function revokeTokensOfGrant (t: SqliteDb, grantId: number, now: Date, removed: string[]): void {
    const grant = t.select({ family: grants.tokenFamily }).from(grants).where(byId(grants, grantId)).get()
    if (grant?.family != null) revokeFamily(t, grant.family, now, removed)
    for (const r of t.delete(accessTokens).where(eq(accessTokens.grantId, grantId)).returning(checksumColumn).all()) removed.push(r.checksum)
  }

  /** A conditional issuance in one transaction, which `fn` rolls back with `LostRace`. */
  async function conditionally (fn: (t: SqliteDb, removed: string[]) => IssuedTokenRows): Promise<IssueResult> {
    return await conditionalIssue(async () => await tx(fn))
  }

  return {
    async createApplication (app) {
      return toApplication(await tx((t) => t.insert(applications).values(newApplicationToRow(app)).returning().get()))
    },

    async findApplicationByClientId (clientId) {
      return matchingApplication(applicationByClientId.get({ clientId }), clientId)
    },

    async findApplicationById (id) {
      return mapOrNull(applicationById.get({ id }), toApplication)
    },

    async listApplications (filter = {}) {
      return db.select().from(applications).where(applicationFilter(applications, filter)).orderBy(applications.id).all().map(toApplication)
    },

    async updateApplication (id, changes, now) {
      const set = applicationChangesToRow(changes, now)
      const row = await tx((t) => t.update(applications).set(set).where(byId(applications, id)).returning().get())
      hub.emit({ kind: 'application', applicationId: id })
      return mapOrNull(row, toApplication)
    },

    async deleteApplication (id) {
      // Foreign keys cascade to tokens, codes and ID tokens.
      try {
        return await tx((t) => t.delete(applications).where(byId(applications, id)).run().changes > 0)
      } finally {
        hub.emit({ kind: 'application', applicationId: id })
      }
    },

    async deleteExpiredCimdApplications (now, limit) {
      const stale = expiredCimdApplication({ applications, accessTokens, refreshTokens, grants, deviceGrants }, now)
      // One statement: the conditions are checked by the DELETE that removes the rows. Foreign keys cascade to their expired rows.
      const deleted = await tx((t) => t.delete(applications)
        .where(inArray(applications.id, t.select({ id: applications.id }).from(applications).where(stale).orderBy(applications.id).limit(limit)))
        .returning({ id: applications.id }).all())
      for (const { id } of deleted) hub.emit({ kind: 'application', applicationId: id })
      return deleted.length
    },

    async isOriginAllowed (origin) {
      if (!mayBeListedOrigin(origin)) return false
      // instr() is a plain substring test (LIKE would read `%` and `_` in the origin as
      // wildcards). It only narrows the rows; the split list decides on exact equality, so
      // `https://a.example` does not match `https://a.example.evil.net` or `https://a.example:8443`.
      const rows = db.select({ allowedOrigins: applications.allowedOrigins }).from(applications)
        .where(sql`instr(${applications.allowedOrigins}, ${origin}) > 0`).all()
      return rows.some((row) => splitList(row.allowedOrigins).includes(origin))
    },

    async findAccessToken (checksum) {
      return mapOrNull(accessTokenByChecksum.get({ checksum }), toAccessToken)
    },

    async findAccessTokenForVerification (checksum) {
      return mapOrNull(verifiableByChecksum.get({ checksum }), toVerifiable)
    },

    async findAccessTokenById (id) {
      return mapOrNull(db.select().from(accessTokens).where(byId(accessTokens, id)).get(), toAccessToken)
    },

    async listAccessTokensForUser (userId) {
      return db.select().from(accessTokens).where(eq(accessTokens.userId, userId)).orderBy(accessTokens.id).all().map(toAccessToken)
    },

    async revokeAccessToken (id, now) {
      await tx((t, removed) => {
        const row = t.select({ family: accessTokens.tokenFamily }).from(accessTokens).where(byId(accessTokens, id)).get()
        if (row === undefined) return
        if (row.family !== null) revokeFamily(t, row.family, now, removed)
        else deleteAccessToken(t, id, removed)
      })
    },

    async findRefreshToken (checksum) {
      return mapOrNull(db.select().from(refreshTokens).where(eq(refreshTokens.tokenChecksum, checksum)).get(), toRefreshToken)
    },

    async revokeTokenFamily (family, now) {
      await tx((t, removed) => { revokeFamily(t, family, now, removed) })
    },

    async issueTokens (issue) {
      return await tx((t) => insertTokens(t, issue))
    },

    async rotateRefreshToken (id, successorSealed, issue) {
      return await conditionally((t, removed) => {
        const rotation = refreshTokenRotation(refreshTokens, id, successorSealed, issue.now)
        const old = t.update(refreshTokens).set(rotation.set).where(rotation.where).returning({ accessTokenId: refreshTokens.accessTokenId }).get()
        if (old === undefined) throw new LostRace()
        if (old.accessTokenId !== null) deleteAccessToken(t, old.accessTokenId, removed)
        return insertTokens(t, issue)
      })
    },

    async replaceAccessToken (refreshTokenId, issue) {
      return await conditionally((t, removed) => {
        const live = t.select({ accessTokenId: refreshTokens.accessTokenId }).from(refreshTokens).where(liveRefreshToken(refreshTokens, refreshTokenId)).get()
        if (live === undefined) throw new LostRace()
        if (live.accessTokenId !== null) deleteAccessToken(t, live.accessTokenId, removed)
        const rows = insertTokens(t, { ...issue, refreshToken: null })
        const rebinding = refreshTokenRebinding(refreshTokens, refreshTokenId, rows.accessToken.id, issue.now)
        const rt = t.update(refreshTokens).set(rebinding.set).where(rebinding.where).returning().get()
        if (rt === undefined) throw new LostRace()
        return { accessToken: rows.accessToken, refreshToken: toRefreshToken(rt) }
      })
    },

    async createIdToken (idToken, now) {
      return toIdToken(await tx((t) => insertIdToken(t, idToken, now)))
    },

    async findIdTokenByJti (jti) {
      return mapOrNull(db.select().from(idTokens).where(eq(idTokens.jti, jti)).get(), toIdToken)
    },

    async createGrant (grant, now) {
      return toGrant(await tx((t) => t.insert(grants).values(newGrantToRow(grant, now)).returning().get()))
    },

    async useOnce (kind, key, expiresAt, now) {
      const use = singleUse(usedJtis, kind, key, expiresAt, now)
      return await tx((t) => t.insert(usedJtis).values(use.row).onConflictDoUpdate({ target: [usedJtis.kind, usedJtis.keyChecksum], set: use.set, setWhere: use.setWhere }).run().changes === 1)
    },

    async findGrant (checksum) {
      return mapOrNull(db.select().from(grants).where(eq(grants.codeChecksum, checksum)).get(), toGrant)
    },

    async redeemGrant (grantId, issue) {
      return await conditionally((t) => {
        const redemption = grantRedemption(grants, grantId, issue)
        if (t.update(grants).set(redemption.set).where(redemption.where).run().changes !== 1) throw new LostRace()
        return insertTokens(t, issue)
      })
    },

    async revokeGrantTokens (grantId, now) {
      await tx((t, removed) => { revokeTokensOfGrant(t, grantId, now, removed) })
    },

    async revokeGrant (id, now) {
      return await tx((t, removed) => {
        if (t.select({ id: grants.id }).from(grants).where(byId(grants, id)).get() === undefined) return false
        const revocation = grantRevocation(grants, id, now)
        t.update(grants).set(revocation.set).where(revocation.where).run()
        revokeTokensOfGrant(t, id, now, removed)
        return true
      })
    },

    async pageApplications (query) {
      return db.select({ application: applications, registrationId: clientRegistrations.id }).from(applications)
        .leftJoin(clientRegistrations, eq(clientRegistrations.applicationId, applications.id))
        .where(applicationPageFilter(applications, clientRegistrations.id, query)).orderBy(desc(applications.id)).limit(pageLimit(query.limit)).all()
        .map((r) => ({ application: toApplication(r.application), source: applicationSource(r.application, r.registrationId) }))
    },

    async pageAccessTokens (query) {
      return db.select().from(accessTokens).where(recordPageFilter(accessTokens, query)).orderBy(desc(accessTokens.id)).limit(pageLimit(query.limit)).all().map(toAccessToken)
    },

    async pageRefreshTokens (query) {
      return db.select().from(refreshTokens).where(recordPageFilter(refreshTokens, query)).orderBy(desc(refreshTokens.id)).limit(pageLimit(query.limit)).all().map(toRefreshToken)
    },

    async pageGrants (query) {
      return db.select().from(grants).where(recordPageFilter(grants, query)).orderBy(desc(grants.id)).limit(pageLimit(query.limit)).all().map(toGrant)
    },

    async pageDeviceGrants (query) {
      return db.select().from(deviceGrants).where(recordPageFilter(deviceGrants, query)).orderBy(desc(deviceGrants.id)).limit(pageLimit(query.limit)).all().map(toDeviceGrant)
    },

    async pageIdTokens (query) {
      return db.select().from(idTokens).where(recordPageFilter(idTokens, query)).orderBy(desc(idTokens.id)).limit(pageLimit(query.limit)).all().map(toIdToken)
    },

    async pageSessions (query) {
      const rows = db.select().from(sessions).where(sessionPageFilter(sessions, query)).orderBy(desc(sessions.id)).limit(pageLimit(query.limit)).all()
      // One grouped count for the whole page, never one query per row.
      const counts = rows.length === 0
        ? []
        : db.select({ sessionId: sessionClients.sessionId, clients: sql<number>`count(*)` }).from(sessionClients)
          .where(sessionClientsOfPage(sessionClients, rows.map((r) => r.id))).groupBy(sessionClients.sessionId).all()
      const clientsOf = new Map(counts.map((c) => [c.sessionId, Number(c.clients)]))
      return rows.map((row) => ({ session: toSession(row), clients: clientsOf.get(row.id) ?? 0 }))
    },

    async findRefreshTokenById (id) {
      return mapOrNull(db.select().from(refreshTokens).where(byId(refreshTokens, id)).get(), toRefreshToken)
    },

    async findGrantById (id) {
      return mapOrNull(db.select().from(grants).where(byId(grants, id)).get(), toGrant)
    },

    async denyDeviceGrant (id, now) {
      const denial = deviceGrantDenial(deviceGrants, id, now)
      return await tx((t) => t.update(deviceGrants).set(denial.set).where(denial.where).run().changes === 1)
    },

    async createDeviceGrant (grant, now) {
      // A taken user code inserts nothing (the caller draws another), never a constraint error.
      const row = db.insert(deviceGrants).values(newDeviceGrantToRow(grant, now)).onConflictDoNothing({ target: deviceGrants.userCodeChecksum }).returning().get()
      return mapOrNull(row, toDeviceGrant)
    },

    async findDeviceGrant (checksum) {
      return mapOrNull(db.select().from(deviceGrants).where(eq(deviceGrants.deviceCodeChecksum, checksum)).get(), toDeviceGrant)
    },

    async findDeviceGrantByUserCode (userCodeChecksum) {
      return mapOrNull(db.select().from(deviceGrants).where(eq(deviceGrants.userCodeChecksum, userCodeChecksum)).get(), toDeviceGrant)
    },

    async findDeviceGrantById (id) {
      return mapOrNull(db.select().from(deviceGrants).where(byId(deviceGrants, id)).get(), toDeviceGrant)
    },

    async claimDeviceGrant (id, userId, now) {
      const claim = deviceGrantClaim(deviceGrants, id, userId, now)
      return mapOrNull(db.update(deviceGrants).set(claim.set).where(claim.where).returning().get(), toDeviceGrant)
    },

    async decideDeviceGrant (id, userId, decision, authTime, now) {
      const decided = deviceGrantDecision(deviceGrants, id, userId, decision, authTime, now)
      return db.update(deviceGrants).set(decided.set).where(decided.where).run().changes === 1
    },

    async recordDevicePoll (id, now, slowDownSeconds) {
      return await tx((t) => {
        const polled = t.select({ interval: deviceGrants.interval, lastPolledAt: deviceGrants.lastPolledAt }).from(deviceGrants).where(byId(deviceGrants, id)).get()
        const poll = devicePoll(deviceGrants, id, polled, now, slowDownSeconds)
        if (poll !== null) t.update(deviceGrants).set(poll.record.set).where(poll.record.where).run()
        return poll?.result ?? null
      })
    },

    async redeemDeviceGrant (id, issue) {
      return await conditionally((t) => {
        const redemption = deviceGrantRedemption(deviceGrants, id, issue.now)
        if (t.update(deviceGrants).set(redemption.set).where(redemption.where).run().changes !== 1) throw new LostRace()
        return insertTokens(t, issue)
      })
    },

    async touchSession (session, applicationId, now) {
      const touch = sessionTouch(sessions, session, now)
      return await tx((t) => {
        const row = t.insert(sessions).values(touch.row)
          .onConflictDoUpdate({ target: sessions.sessionKeyChecksum, targetWhere: touch.targetWhere, set: touch.set, setWhere: touch.setWhere })
          .returning().get()
        if (row === undefined) return null
        t.insert(sessionClients).values({ sessionId: row.id, applicationId, createdAt: now })
          .onConflictDoNothing({ target: [sessionClients.sessionId, sessionClients.applicationId] }).run()
        return toSession(row)
      })
    },

    async findSessionById (id) {
      return mapOrNull(db.select().from(sessions).where(byId(sessions, id)).get(), toSession)
    },

    async findSessionDetail (id) {
      const row = db.select().from(sessions).where(byId(sessions, id)).get()
      if (row === undefined) return null
      const clients = db.select({ application: applications, since: sessionClients.createdAt }).from(sessionClients)
        .innerJoin(applications, eq(applications.id, sessionClients.applicationId))
        .where(eq(sessionClients.sessionId, row.id)).orderBy(asc(sessionClients.id)).all()
        .map((r) => ({ application: toApplication(r.application), since: r.since }))
      const deliveries = clients.length === 0
        ? []
        : db.select().from(logoutDeliveries).where(logoutDeliveriesOfSession(logoutDeliveries, clients.map((c) => c.application.id), row.sid))
          .orderBy(asc(logoutDeliveries.id)).all().map(toLogoutDelivery)
      return { session: toSession(row), clients, deliveries }
    },

    async endSessions (selector, now, options = {}) {
      return await tx((t, removed) => {
        const limit = sessionSelectionLimit(selector)
        const picked = t.select({ id: sessions.id }).from(sessions).where(sessionSelection(sessions, selector))
        const ids = (limit === undefined ? picked.all() : picked.limit(limit).all()).map((r) => r.id)
        if (ids.length === 0) return []
        const ending = sessionEnding(sessions, ids, now)
        const ended: EndedSession[] = []
        for (const row of t.update(sessions).set(ending.set).where(ending.where).returning().all()) {
          const clients = t.select({ id: applications.id }).from(sessionClients).innerJoin(applications, eq(applications.id, sessionClients.applicationId))
            .where(backchannelClientsOf(sessionClients, applications, row.id)).all().map((r) => r.id)
          const deliveries = logoutDeliveryRows(clients, row, now)
          if (deliveries.length > 0) t.insert(logoutDeliveries).values(deliveries).run()
          const live = t.select({ family: refreshTokens.tokenFamily, scope: refreshTokens.scope, clientId: applications.clientId }).from(refreshTokens)
            .innerJoin(applications, eq(applications.id, refreshTokens.applicationId)).where(liveSessionRefreshTokens(refreshTokens, row.id)).all()
          let revokedFamilies = 0
          const families: RevokedFamily[] = []
          for (const [family, clientId] of familiesEndingWithSession(live)) {
            const revoked = revokedFamilyOf(revokeFamily(t, family, now, removed), clientId)
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
      // Every instance polls: a plain read first, so an empty outbox never takes the write lock.
      if (db.select({ id: logoutDeliveries.id }).from(logoutDeliveries).where(dueLogoutDeliveries(logoutDeliveries, now)).limit(1).get() === undefined) return []
      return await tx((t) => {
        const ids = t.select({ id: logoutDeliveries.id }).from(logoutDeliveries).where(dueLogoutDeliveries(logoutDeliveries, now))
          .orderBy(asc(logoutDeliveries.nextAttemptAt)).limit(limit).all().map((r) => r.id)
        if (ids.length === 0) return []
        const claim = logoutDeliveryClaim(logoutDeliveries, ids, now, leaseUntil)
        return t.update(logoutDeliveries).set(claim.set).where(claim.where).returning().all().map(toLogoutDelivery)
      })
    },

    async rescheduleLogoutDelivery (id, nextAttemptAt, lastError) {
      await tx((t) => { t.update(logoutDeliveries).set({ nextAttemptAt, lastError }).where(byId(logoutDeliveries, id)).run() })
    },

    async deleteLogoutDelivery (id) {
      await tx((t) => { t.delete(logoutDeliveries).where(inArray(logoutDeliveries.id, [id])).run() })
    },
  }
}
