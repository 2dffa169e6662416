import { eq } from 'drizzle-orm'
import { mapOrNull, toApplication, toClientRegistration, toPushedAuthorizationRequest } from '../shared/mappers.js'
import type { RegistrationMethods } from '../shared/methods.js'
import {
  clientRegistrationChanges, newClientRegistrationToRow, newPushedAuthorizationRequestToRow, registeredApplicationToRow, registrationChangesToRow,
} from '../shared/rows.js'
import { byId, expiredPushedRequests, pushedRequestConsumption, pushedRequestStart, registrationHolding } from '../shared/rules.js'
import type { PgDb } from './open.js'
import { one } from './token-inserts.js'
import { applications, clientRegistrations, pushedAuthorizationRequests } from './schema.js'

/**
 * Registration and PAR methods over `db`, for PostgreSQL. Single-use steps are one conditional
 * UPDATE each (shared/rules.ts): at READ COMMITTED a racing second UPDATE waits for the first and
 * then re-checks its condition, so exactly one wins (the row count decides).
 */
export function pgRegistrationMethods (db: PgDb): RegistrationMethods {
  return {
    async registerClient (app, registration) {
      return await db.transaction(async (t) => {
        const appRow = one(await t.insert(applications).values(registeredApplicationToRow(app)).returning())
        const regRow = one(await t.insert(clientRegistrations).values(newClientRegistrationToRow(appRow.id, registration, app.now)).returning())
        return { application: toApplication(appRow), registration: toClientRegistration(regRow) }
      })
    },

    async findClientRegistration (applicationId) {
      return mapOrNull((await db.select().from(clientRegistrations).where(eq(clientRegistrations.applicationId, applicationId)))[0], toClientRegistration)
    },

    async updateClientRegistration (applicationId, changes, registration, now, presentedChecksum) {
      return await db.transaction(async (t) => {
        // The token is checked and replaced first: a racing update presenting the same token waits
        // for this row lock, re-checks the condition on the new checksum and changes nothing.
        const swapped = (await t.update(clientRegistrations).set(clientRegistrationChanges(registration, now))
          .where(registrationHolding(clientRegistrations, applicationId, presentedChecksum))).rowCount === 1
        if (!swapped) return null
        const [row] = await t.update(applications).set(registrationChangesToRow(changes, now)).where(byId(applications, applicationId)).returning()
        return row === undefined ? null : toApplication(row)
      })
    },

    async createPushedAuthorizationRequest (request, now) {
      await db.delete(pushedAuthorizationRequests).where(expiredPushedRequests(pushedAuthorizationRequests, now))
      return toPushedAuthorizationRequest(one(await db.insert(pushedAuthorizationRequests).values(newPushedAuthorizationRequestToRow(request, now)).returning()))
    },

    async findPushedAuthorizationRequest (checksum) {
      const [row] = await db.select().from(pushedAuthorizationRequests).where(eq(pushedAuthorizationRequests.requestChecksum, checksum))
      return mapOrNull(row, toPushedAuthorizationRequest)
    },

    async startPushedAuthorizationRequest (id, now, expiresAt) {
      const start = pushedRequestStart(pushedAuthorizationRequests, id, now, expiresAt)
      return (await db.update(pushedAuthorizationRequests).set(start.set).where(start.where)).rowCount === 1
    },

    async consumePushedAuthorizationRequest (id, now) {
      const consumption = pushedRequestConsumption(pushedAuthorizationRequests, id, now)
      return (await db.update(pushedAuthorizationRequests).set(consumption.set).where(consumption.where)).rowCount === 1
    },
  }
}
