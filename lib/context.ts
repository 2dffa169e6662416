import type { EventEmitter } from 'node:events'
import type { Clock } from './clock.js'
import type { Random } from './random.js'
import type { Settings } from './settings.js'
import type { AccessTokenRecord, Application, RefreshTokenRecord, Store } from './store/types.js'
import type { SecretHasher } from './tokens/secret-hasher.js'

/** Checks a username and password for the password grant; resolves the user's id, or null. */
export type VerifyUserCredentials = (username: string, password: string) => Promise<string | null>

/** Payload of the `appAuthorized` event (DOT's `app_authorized` signal). */
export interface AppAuthorizedEvent {
  /** The application the token was issued to. */
  readonly application: Application
  /** The access token row (its checksum, never the token). */
  readonly accessToken: AccessTokenRecord
  readonly refreshToken: RefreshTokenRecord | null
  /** The wire grant type that issued it. */
  readonly grantType: string
}

/** The events the toolkit emits. */
export interface ToolkitEventMap {
  /** Fired after every token issued by the token endpoint. */
  appAuthorized: [AppAuthorizedEvent]
  /**
   * An `appAuthorized` listener threw or rejected. The token was issued all the same; the
   * plugin logs these. With no `error` listener they are dropped (never re-thrown).
   */
  error: [unknown]
}

/** Everything the core needs, injected once and passed down; there is no global state. */
export interface ServerContext {
  readonly settings: Settings
  readonly store: Store
  readonly clock: Clock
  readonly random: Random
  readonly hasher: SecretHasher
  readonly events: EventEmitter<ToolkitEventMap>
  readonly verifyUserCredentials: VerifyUserCredentials | null
}
