import { and, eq, gt, isNull, lt } from 'drizzle-orm'
import type { Store } from '../types.js'
import { registeredApplicationToRow, registrationChangesToRow, toApplication, toClientRegistration, toPushedAuthorizationRequest } from './mappers.js'
import type { SqliteDb } from './open.js'
import { applications, clientRegistrations, pushedAuthorizationRequests } from './schema.js'

/** The store methods of dynamic client registration (RFC 7591/7592) and PAR (RFC 9126), for SQLite. */
export type RegistrationMethods = Pick<Store, 'registerClient' | 'findClientRegistration' | 'updateClientRegistration' |
  'createPushedAuthorizationRequest' | 'findPushedAuthorizationRequest' | 'startPushedAuthorizationRequest' | 'consumePushedAuthorizationRequest'>

/**
 * Registration and PAR methods over `db`; `tx` runs an IMMEDIATE transaction (waiting for the lock asynchronously).
 * Single-use steps are one conditional UPDATE each, decided by its changed-row count.
 */
export function sqliteRegistrationMethods (db: SqliteDb, tx: <T>(fn: (t: SqliteDb) => T) => Promise<T>): RegistrationMethods {
  return {
    async registerClient (app, registration) {
      return tx((t) => {
        const appRow = t.insert(applications).values(registeredApplicationToRow(app)).returning().get()
        const regRow = t.insert(clientRegistrations).values({
          applicationId: appRow.id,
          accessTokenChecksum: registration.accessTokenChecksum,
          metadata: JSON.stringify(registration.metadata),
          createdAt: app.now,
          updatedAt: app.now,
        }).returning().get()
        return { application: toApplication(appRow), registration: toClientRegistration(regRow) }
      })
    },

    async findClientRegistration (applicationId) {
      const row = db.select().from(clientRegistrations).where(eq(clientRegistrations.applicationId, applicationId)).get()
      return row === undefined ? null : toClientRegistration(row)
    },

    async updateClientRegistration (applicationId, changes, registration, now) {
      return tx((t) => {
        const row = t.update(applications).set(registrationChangesToRow(changes, now)).where(eq(applications.id, applicationId)).returning().get()
        if (row === undefined) return null
        t.update(clientRegistrations).set({
          accessTokenChecksum: registration.accessTokenChecksum,
          metadata: JSON.stringify(registration.metadata),
          updatedAt: now,
        }).where(eq(clientRegistrations.applicationId, applicationId)).run()
        return toApplication(row)
      })
    },

    async createPushedAuthorizationRequest (request, now) {
      return tx((t) => {
        // Expired and never used: nothing can redeem them any more, so they go here, not in cleartokens.
        t.delete(pushedAuthorizationRequests).where(lt(pushedAuthorizationRequests.expiresAt, now)).run()
        const row = t.insert(pushedAuthorizationRequests).values({
          requestChecksum: request.checksum,
          applicationId: request.applicationId,
          parameters: JSON.stringify(request.parameters),
          expiresAt: request.expiresAt,
          createdAt: now,
        }).returning().get()
        return toPushedAuthorizationRequest(row)
      })
    },

    async findPushedAuthorizationRequest (checksum) {
      const row = db.select().from(pushedAuthorizationRequests).where(eq(pushedAuthorizationRequests.requestChecksum, checksum)).get()
      return row === undefined ? null : toPushedAuthorizationRequest(row)
    },

    async startPushedAuthorizationRequest (id, now, expiresAt) {
      const t = pushedAuthorizationRequests
      return db.update(t).set({ startedAt: now, expiresAt })
        .where(and(eq(t.id, id), isNull(t.startedAt), isNull(t.consumedAt), gt(t.expiresAt, now))).run().changes === 1
    },

    async consumePushedAuthorizationRequest (id, now) {
      const t = pushedAuthorizationRequests
      return db.update(t).set({ consumedAt: now })
        .where(and(eq(t.id, id), isNull(t.consumedAt), gt(t.expiresAt, now))).run().changes === 1
    },
  }
}
