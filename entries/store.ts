// `fastify-oauth-toolkit/store`: the storage interface and its records, for code that works with
// a store directly (a custom store, maintenance scripts, tests), and the helpers that open one.
// The concrete stores are in `fastify-oauth-toolkit/sqlite` and `fastify-oauth-toolkit/pg`.

export { openStore, type OpenStoreOptions, type SqliteOptions } from '../lib/store/open.js'
export type { DatabaseOption, SqliteDatabase, PgPool } from '../lib/store/connection.js'
export { parseDatabaseUrl, type ParsedDatabaseUrl } from '../lib/store/database-url.js'
export type { ClearExpiredOptions } from '../lib/maintenance.js'
export type { ClearCimdOptions } from '../lib/registration/cimd.js'
export {
  APPLICATION_GRANT_TYPES,
  type Store,
  type Application,
  type ApplicationGrantType,
  type ClientType,
  type SigningAlgorithm,
  type AccessTokenRecord,
  type RefreshTokenRecord,
  type GrantRecord,
  type IdTokenRecord,
  type DeviceGrantRecord,
  type DeviceGrantStatus,
  type ClearedBatch,
  type ClearedCounts,
  type VerifiableAccessToken,
  type StoreInvalidation,
  type InvalidationListener,
  type ClientRegistrationRecord,
  type NewClientRegistration,
  type PushedAuthorizationRequestRecord,
  type NewPushedAuthorizationRequest,
} from '../lib/store/types.js'
