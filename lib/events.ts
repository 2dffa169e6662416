import type { EventEmitter } from 'node:events'
import type { Clock } from './clock.js'
import type { ToolkitEventMap, ToolkitEventName } from './context.js'
import type { AuthorizationVia, ClientAuthEndpoint, ClientAuthenticationFailedEvent, ClientChangeSource, TokenRevocationReason } from './event-types.js'
import { logSafe } from './redact.js'
import type { AccessTokenRecord, Application, IssuedTokenRows, RefreshTokenRecord, RevokedRefreshToken } from './store/types.js'
import { resourceList } from './validator/resources.js'
import { scopeList } from './validator/scopes.js'

// Emitting the toolkit's events. Two rules hold for every one of them:
// - Nothing is built when nobody listens: the token path is hot (bench/), so each notifier below
//   asks `listenerCount` first and takes plain arguments, never an options object to allocate.
// - A listener cannot fail the request that fired it: by then the token is stored, the client
//   registered, the revocation done. A throw or a rejection goes to the `error` event (which the
//   plugin logs), and the listeners after it still run.

/** Every event a listener may subscribe to (all but `error`), so a test or an exporter can listen to each. */
export const TOOLKIT_EVENT_NAMES: readonly ToolkitEventName[] = Object.freeze(Object.keys({
  appAuthorized: true,
  logout: true,
  backchannelLogout: true,
  staffAction: true,
  tokenIssued: true,
  tokenRefreshed: true,
  tokenRevoked: true,
  refreshTokenReuseDetected: true,
  authorizationApproved: true,
  authorizationDenied: true,
  clientAuthenticationFailed: true,
  rateLimitTriggered: true,
  clientRegistered: true,
  clientUpdated: true,
  clientDeleted: true,
} satisfies Record<ToolkitEventName, true>) as ToolkitEventName[])

/** What emitting needs: the emitter, and the clock that stamps `at`. `ServerContext` and `OAuthServer` both fit. */
export interface EventTarget {
  readonly events: EventEmitter<ToolkitEventMap>
  readonly clock: Clock
}

/** True when `name` has a listener: call before building a payload. */
export function listening (events: EventEmitter<ToolkitEventMap>, name: ToolkitEventName): boolean {
  return events.listenerCount(name) > 0
}

/**
 * Calls every listener of `name` with `payload`, isolated: one that throws or rejects is reported
 * on `error` (with the event's name) and the next one still runs. `rawListeners`, so that `once()`
 * wrappers still remove themselves.
 */
export function emitEvent<K extends ToolkitEventName> (events: EventEmitter<ToolkitEventMap>, name: K, ...payload: ToolkitEventMap[K]): void {
  const report = (err: unknown): void => {
    try {
      if (events.listenerCount('error') > 0) events.emit('error', err, name)
    } catch {
      // An `error` listener that throws has nowhere left to report to.
    }
  }
  for (const listener of events.rawListeners(name) as Array<(...args: unknown[]) => unknown>) {
    try {
      const result = listener.apply(events, payload)
      if (result instanceof Promise) result.catch(report)
    } catch (err) {
      report(err)
    }
  }
}

/** The toolkit's notifications: every event but `error` (the name the staff pages use). */
export type NotificationName = ToolkitEventName

/** `emitEvent`, under the name the staff pages use. */
export const notifyListeners = emitEvent

/** `tokenIssued` for the rows just stored; `responseType` for tokens the authorization endpoint returned. */
export function notifyTokenIssued (target: EventTarget, application: Application, grantType: string, rows: IssuedTokenRows,
  idToken: boolean, responseType?: string): void {
  if (!listening(target.events, 'tokenIssued')) return
  const { accessToken, refreshToken } = rows
  emitEvent(target.events, 'tokenIssued', {
    at: target.clock.now(),
    grantType,
    ...(responseType === undefined ? {} : { responseType }),
    applicationId: application.id,
    clientId: application.clientId,
    userId: accessToken.userId,
    accessTokenId: accessToken.id,
    refreshTokenId: refreshToken?.id ?? null,
    scopes: scopeList(accessToken.scope),
    resources: resourceList(accessToken.resource),
    dpopBound: accessToken.jkt !== '',
    idToken,
    expiresAt: accessToken.expiresAt,
  })
}

/** `tokenRefreshed`: `previous` was presented, `rows` were issued for it. */
export function notifyTokenRefreshed (target: EventTarget, application: Application, previous: RefreshTokenRecord, rows: IssuedTokenRows): void {
  if (!listening(target.events, 'tokenRefreshed')) return
  const refreshTokenId = rows.refreshToken?.id ?? null
  emitEvent(target.events, 'tokenRefreshed', {
    at: target.clock.now(),
    applicationId: application.id,
    clientId: application.clientId,
    userId: previous.userId,
    previousRefreshTokenId: previous.id,
    previousAccessTokenId: previous.accessTokenId,
    accessTokenId: rows.accessToken.id,
    refreshTokenId,
    rotated: refreshTokenId !== null && refreshTokenId !== previous.id,
    scopes: scopeList(rows.accessToken.scope),
    dpopBound: rows.accessToken.jkt !== '',
  })
}

/** `tokenRevoked` for an access token (and its family, when it came with a refresh token). */
export function notifyAccessTokenRevoked (target: EventTarget, reason: TokenRevocationReason, token: AccessTokenRecord, clientId: string | null): void {
  if (!listening(target.events, 'tokenRevoked')) return
  emitEvent(target.events, 'tokenRevoked', {
    at: target.clock.now(),
    reason,
    tokenType: 'access_token',
    applicationId: token.applicationId,
    clientId,
    userId: token.userId,
    accessTokenId: token.id,
    refreshTokenId: null,
    grantId: token.grantId,
    family: token.tokenFamily !== null,
  })
}

/**
 * `tokenRevoked` for a refresh token's whole family, reported at `token` (the one presented,
 * selected, or found live when the family's session ended); its access tokens went with it.
 */
export function notifyRefreshFamilyRevoked (target: EventTarget, reason: TokenRevocationReason, token: RevokedRefreshToken, clientId: string | null): void {
  if (!listening(target.events, 'tokenRevoked')) return
  emitEvent(target.events, 'tokenRevoked', {
    at: target.clock.now(),
    reason,
    tokenType: 'refresh_token',
    applicationId: token.applicationId,
    clientId,
    userId: token.userId,
    accessTokenId: token.accessTokenId,
    refreshTokenId: token.id,
    grantId: null,
    family: true,
  })
}

/** `tokenRevoked` for what an authorization code issued (code replay). */
export function notifyCodeTokensRevoked (target: EventTarget, application: Application, grantId: number, userId: string): void {
  if (!listening(target.events, 'tokenRevoked')) return
  emitEvent(target.events, 'tokenRevoked', {
    at: target.clock.now(),
    reason: 'code-replay',
    tokenType: 'authorization_code',
    applicationId: application.id,
    clientId: application.clientId,
    userId,
    accessTokenId: null,
    refreshTokenId: null,
    grantId,
    family: true,
  })
}

/** `refreshTokenReuseDetected`. */
export function notifyRefreshTokenReuse (target: EventTarget, application: Application, token: RefreshTokenRecord, familyRevoked: boolean): void {
  if (!listening(target.events, 'refreshTokenReuseDetected')) return
  emitEvent(target.events, 'refreshTokenReuseDetected', {
    at: target.clock.now(),
    applicationId: application.id,
    clientId: application.clientId,
    userId: token.userId,
    refreshTokenId: token.id,
    familyRevoked,
  })
}

/** The facts of an authorization request the decision events report. */
export interface DecidedRequest {
  readonly application: Application
  readonly scopes: readonly string[]
  readonly resources: readonly string[]
  readonly responseType?: string
  readonly deviceGrantId?: number
}

/** `authorizationApproved`. */
export function notifyAuthorizationApproved (target: EventTarget, request: DecidedRequest, userId: string, via: AuthorizationVia): void {
  if (!listening(target.events, 'authorizationApproved')) return
  emitEvent(target.events, 'authorizationApproved', {
    at: target.clock.now(),
    applicationId: request.application.id,
    clientId: request.application.clientId,
    userId,
    scopes: [...request.scopes],
    resources: [...request.resources],
    via,
    ...(request.responseType === undefined ? {} : { responseType: request.responseType }),
    ...(request.deviceGrantId === undefined ? {} : { deviceGrantId: request.deviceGrantId }),
  })
}

/** `authorizationDenied`. */
export function notifyAuthorizationDenied (target: EventTarget, request: DecidedRequest, userId: string | null, via: 'consent' | 'device'): void {
  if (!listening(target.events, 'authorizationDenied')) return
  emitEvent(target.events, 'authorizationDenied', {
    at: target.clock.now(),
    applicationId: request.application.id,
    clientId: request.application.clientId,
    userId,
    scopes: [...request.scopes],
    via,
    ...(request.deviceGrantId === undefined ? {} : { deviceGrantId: request.deviceGrantId }),
  })
}

/** `clientAuthenticationFailed`; the presented client id and the reason are made log-safe here. */
export function notifyClientAuthenticationFailed (target: EventTarget, endpoint: ClientAuthEndpoint, method: ClientAuthenticationFailedEvent['method'],
  clientId: string | null, applicationId: number | null, reason: string): void {
  if (!listening(target.events, 'clientAuthenticationFailed')) return
  emitEvent(target.events, 'clientAuthenticationFailed', {
    at: target.clock.now(),
    endpoint,
    method,
    clientId: clientId === null ? null : logSafe(clientId),
    applicationId,
    reason: logSafe(reason, 200),
  })
}

/** `clientRegistered`. */
export function notifyClientRegistered (target: EventTarget, application: Application, source: ClientChangeSource): void {
  if (!listening(target.events, 'clientRegistered')) return
  emitEvent(target.events, 'clientRegistered', {
    at: target.clock.now(),
    source,
    applicationId: application.id,
    clientId: application.clientId,
    clientType: application.clientType,
    authorizationGrantType: application.authorizationGrantType,
    tokenEndpointAuthMethod: application.tokenEndpointAuthMethod,
    userId: application.userId,
    selfRegistered: application.selfRegistered,
  })
}

/** `clientUpdated`. */
export function notifyClientUpdated (target: EventTarget, application: Application, source: ClientChangeSource, secretChanged: boolean): void {
  if (!listening(target.events, 'clientUpdated')) return
  emitEvent(target.events, 'clientUpdated', { at: target.clock.now(), source, applicationId: application.id, clientId: application.clientId, secretChanged })
}

/** `clientDeleted`. */
export function notifyClientDeleted (target: EventTarget, application: Application, source: ClientChangeSource): void {
  if (!listening(target.events, 'clientDeleted')) return
  emitEvent(target.events, 'clientDeleted', { at: target.clock.now(), source, applicationId: application.id, clientId: application.clientId })
}
