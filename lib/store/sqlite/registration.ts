import { eq } from 'drizzle-orm'
import { mapOrNull, toApplication, toClientRegistration, toPushedAuthorizationRequest } from '../shared/mappers.js'
import type { RegistrationMethods } from '../shared/methods.js'
import {
  clientRegistrationChanges, newClientRegistrationToRow, newPushedAuthorizationRequestToRow, registeredApplicationToRow, registrationChangesToRow,
} from '../shared/rows.js'
import { byId, expiredPushedRequests, pushedRequestConsumption, pushedRequestStart, registrationHolding } from '../shared/rules.js'
import type { SqliteDb, SqliteTransaction } from './open.js'
import { applications, clientRegistrations, pushedAuthorizationRequests } from './schema.js'

/**
 * Registration and PAR methods over `db`, for SQLite; `tx` runs an IMMEDIATE transaction
 * (waiting for the lock asynchronously). Single-use steps are one conditional UPDATE each
 * (shared/rules.ts), decided by its changed-row count.
 */
export function sqliteRegistrationMethods (db: SqliteDb, tx: SqliteTransaction): RegistrationMethods {
  return {
    async registerClient (app, registration) {
      return await tx((t) => {
        const appRow = t.insert(applications).values(registeredApplicationToRow(app)).returning().get()
        const regRow = t.insert(clientRegistrations).values(newClientRegistrationToRow(appRow.id, registration, app.now)).returning().get()
        return { application: toApplication(appRow), registration: toClientRegistration(regRow) }
      })
    },

    async findClientRegistration (applicationId) {
      return mapOrNull(db.select().from(clientRegistrations).where(eq(clientRegistrations.applicationId, applicationId)).get(), toClientRegistration)
    },

    async updateClientRegistration (applicationId, changes, registration, now, presentedChecksum) {
      return await tx((t) => {
        // The token is checked and replaced first, in the same IMMEDIATE transaction: a second
        // update presenting the token this one replaced changes nothing.
        const swapped = t.update(clientRegistrations).set(clientRegistrationChanges(registration, now))
          .where(registrationHolding(clientRegistrations, applicationId, presentedChecksum)).run().changes === 1
        if (!swapped) return null
        const row = t.update(applications).set(registrationChangesToRow(changes, now)).where(byId(applications, applicationId)).returning().get()
        return row === undefined ? null : toApplication(row)
      })
    },

    async createPushedAuthorizationRequest (request, now) {
      return await tx((t) => {
        t.delete(pushedAuthorizationRequests).where(expiredPushedRequests(pushedAuthorizationRequests, now)).run()
        const row = t.insert(pushedAuthorizationRequests).values(newPushedAuthorizationRequestToRow(request, now)).returning().get()
        return toPushedAuthorizationRequest(row)
      })
    },

    async findPushedAuthorizationRequest (checksum) {
      const row = db.select().from(pushedAuthorizationRequests).where(eq(pushedAuthorizationRequests.requestChecksum, checksum)).get()
      return mapOrNull(row, toPushedAuthorizationRequest)
    },

    async startPushedAuthorizationRequest (id, now, expiresAt) {
      const start = pushedRequestStart(pushedAuthorizationRequests, id, now, expiresAt)
      return db.update(pushedAuthorizationRequests).set(start.set).where(start.where).run().changes === 1
    },

    async consumePushedAuthorizationRequest (id, now) {
      const consumption = pushedRequestConsumption(pushedAuthorizationRequests, id, now)
      return db.update(pushedAuthorizationRequests).set(consumption.set).where(consumption.where).run().changes === 1
    },
  }
}
