import { and, eq, gt, isNull, lt } from 'drizzle-orm'
import type { Store } from '../types.js'
import { registeredApplicationToRow, registrationChangesToRow, toApplication, toClientRegistration, toPushedAuthorizationRequest } from './mappers.js'
import type { PgDb } from './open.js'
import { applications, clientRegistrations, pushedAuthorizationRequests } from './schema.js'

/** The store methods of dynamic client registration (RFC 7591/7592) and PAR (RFC 9126), for PostgreSQL. */
export type RegistrationMethods = Pick<Store, 'registerClient' | 'findClientRegistration' | 'updateClientRegistration' |
  'createPushedAuthorizationRequest' | 'findPushedAuthorizationRequest' | 'startPushedAuthorizationRequest' | 'consumePushedAuthorizationRequest'>

function one<T> (rows: T[]): T {
  const [row] = rows
  if (row === undefined) throw new Error('INSERT … RETURNING returned no row')
  return row
}

/**
 * Registration and PAR methods over `db`. Single-use steps are one conditional UPDATE each:
 * at READ COMMITTED a racing second UPDATE waits for the first and then re-checks its
 * condition, so exactly one wins (the row count decides).
 */
export function pgRegistrationMethods (db: PgDb): RegistrationMethods {
  return {
    async registerClient (app, registration) {
      return await db.transaction(async (t) => {
        const appRow = one(await t.insert(applications).values(registeredApplicationToRow(app)).returning())
        const regRow = one(await t.insert(clientRegistrations).values({
          applicationId: appRow.id,
          accessTokenChecksum: registration.accessTokenChecksum,
          metadata: JSON.stringify(registration.metadata),
          createdAt: app.now,
          updatedAt: app.now,
        }).returning())
        return { application: toApplication(appRow), registration: toClientRegistration(regRow) }
      })
    },

    async findClientRegistration (applicationId) {
      const [row] = await db.select().from(clientRegistrations).where(eq(clientRegistrations.applicationId, applicationId))
      return row === undefined ? null : toClientRegistration(row)
    },

    async updateClientRegistration (applicationId, changes, registration, now) {
      return await db.transaction(async (t) => {
        const [row] = await t.update(applications).set(registrationChangesToRow(changes, now)).where(eq(applications.id, applicationId)).returning()
        if (row === undefined) return null
        await t.update(clientRegistrations).set({
          accessTokenChecksum: registration.accessTokenChecksum,
          metadata: JSON.stringify(registration.metadata),
          updatedAt: now,
        }).where(eq(clientRegistrations.applicationId, applicationId))
        return toApplication(row)
      })
    },

    async createPushedAuthorizationRequest (request, now) {
      // Expired ones can never be redeemed any more, so they go here, not in cleartokens.
      await db.delete(pushedAuthorizationRequests).where(lt(pushedAuthorizationRequests.expiresAt, now))
      return toPushedAuthorizationRequest(one(await db.insert(pushedAuthorizationRequests).values({
        requestChecksum: request.checksum,
        applicationId: request.applicationId,
        parameters: JSON.stringify(request.parameters),
        expiresAt: request.expiresAt,
        createdAt: now,
      }).returning()))
    },

    async findPushedAuthorizationRequest (checksum) {
      const [row] = await db.select().from(pushedAuthorizationRequests).where(eq(pushedAuthorizationRequests.requestChecksum, checksum))
      return row === undefined ? null : toPushedAuthorizationRequest(row)
    },

    async startPushedAuthorizationRequest (id, now, expiresAt) {
      const t = pushedAuthorizationRequests
      const result = await db.update(t).set({ startedAt: now, expiresAt })
        .where(and(eq(t.id, id), isNull(t.startedAt), isNull(t.consumedAt), gt(t.expiresAt, now)))
      return result.rowCount === 1
    },

    async consumePushedAuthorizationRequest (id, now) {
      const t = pushedAuthorizationRequests
      const result = await db.update(t).set({ consumedAt: now }).where(and(eq(t.id, id), isNull(t.consumedAt), gt(t.expiresAt, now)))
      return result.rowCount === 1
    },
  }
}
