import * as shared from '../sqlite/mappers.js'
import type { AccessTokenRecord, Application, ApplicationChanges, ClientRegistrationRecord, DeviceGrantRecord, GrantRecord, IdTokenRecord, NewApplication, NewDeviceGrant, PushedAuthorizationRequestRecord, RefreshTokenRecord } from '../types.js'
import type * as schema from './schema.js'

// Row → domain mapping. A PostgreSQL row has the same keys and JS types as its SQLite
// counterpart (numbers, strings, booleans, Dates), so the mapping is shared. The typed
// assignments below make tsc check that claim: a column that diverges breaks the build here.
// drizzle row types never leave lib/store/.

export const splitList: (value: string) => string[] = shared.splitList
export const joinList: (values: readonly string[]) => string = shared.joinList
export const toApplication: (row: typeof schema.applications.$inferSelect) => Application = shared.toApplication
export const matchingApplication: (row: typeof schema.applications.$inferSelect | undefined, clientId: string) => Application | null = shared.matchingApplication
export const toAccessToken: (row: typeof schema.accessTokens.$inferSelect) => AccessTokenRecord = shared.toAccessToken
export const toRefreshToken: (row: typeof schema.refreshTokens.$inferSelect) => RefreshTokenRecord = shared.toRefreshToken
export const toGrant: (row: typeof schema.grants.$inferSelect) => GrantRecord = shared.toGrant
export const applicationChangesToRow: (changes: ApplicationChanges, now: Date) => Partial<typeof schema.applications.$inferInsert> = shared.applicationChangesToRow
export const toIdToken: (row: typeof schema.idTokens.$inferSelect) => IdTokenRecord = shared.toIdToken
export const toDeviceGrant: (row: typeof schema.deviceGrants.$inferSelect) => DeviceGrantRecord = shared.toDeviceGrant
export const newDeviceGrantToRow: (grant: NewDeviceGrant, now: Date) => typeof schema.deviceGrants.$inferInsert = shared.newDeviceGrantToRow
export const newApplicationToRow: (app: NewApplication) => typeof schema.applications.$inferInsert = shared.newApplicationToRow
export const registrationChangesToRow: (changes: ApplicationChanges, now: Date) => Partial<typeof schema.applications.$inferInsert> = shared.registrationChangesToRow
export const registeredApplicationToRow: (app: NewApplication) => typeof schema.applications.$inferInsert = shared.registeredApplicationToRow
export const toClientRegistration: (row: typeof schema.clientRegistrations.$inferSelect) => ClientRegistrationRecord = shared.toClientRegistration
export const toPushedAuthorizationRequest: (row: typeof schema.pushedAuthorizationRequests.$inferSelect) => PushedAuthorizationRequestRecord = shared.toPushedAuthorizationRequest
