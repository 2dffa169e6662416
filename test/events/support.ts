// Shared by the event tests. Not a test file: tap runs *.test.ts only.
import type { FastifyInstance } from 'fastify'
import type { ToolkitEventMap, ToolkitEventName } from '../../lib/context.js'
import { TOOLKIT_EVENT_NAMES } from '../../lib/events.js'
import { tokenChecksum } from '../../lib/tokens/checksum.js'

/** One event as a listener received it. */
export interface Recorded {
  readonly name: ToolkitEventName
  readonly payload: unknown
}

/** Subscribes to every event of `app` and records each call, in order. */
export function recordEvents (app: FastifyInstance): Recorded[] {
  const seen: Recorded[] = []
  for (const name of TOOLKIT_EVENT_NAMES) {
    app.oauth.events.on(name, (payload: unknown) => { seen.push({ name, payload }) })
  }
  return seen
}

/** The payloads of the recorded `name` events. */
export function payloadsOf<K extends ToolkitEventName> (seen: readonly Recorded[], name: K): Array<ToolkitEventMap[K][0]> {
  return seen.filter((r) => r.name === name).map((r) => r.payload as ToolkitEventMap[K][0])
}

/** The names recorded, in order. */
export function namesOf (seen: readonly Recorded[]): ToolkitEventName[] {
  return seen.map((r) => r.name)
}

/** The stored row id of an access token. */
export async function accessTokenId (app: FastifyInstance, token: string): Promise<number | undefined> {
  return (await app.oauth.store.findAccessToken(tokenChecksum(token)))?.id
}

/** The stored row id of a refresh token. */
export async function refreshTokenId (app: FastifyInstance, token: string): Promise<number | undefined> {
  return (await app.oauth.store.findRefreshToken(tokenChecksum(token)))?.id
}
