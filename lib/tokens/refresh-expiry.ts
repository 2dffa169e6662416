import { addSeconds } from '../clock.js'
import type { Settings } from '../settings.js'
import type { RefreshTokenRecord } from '../store/types.js'

/**
 * When a refresh token stops being usable under `refreshTokenExpireSeconds` (measured from its
 * creation; rotation issues a new one), or `null` when refresh tokens do not expire. The one
 * rule the refresh grant and introspection both apply, whether or not `cleartokens` ran.
 */
export function refreshTokenExpiresAt (settings: Settings, record: RefreshTokenRecord): Date | null {
  return settings.refreshTokenExpireSeconds === null ? null : addSeconds(record.createdAt, settings.refreshTokenExpireSeconds)
}
