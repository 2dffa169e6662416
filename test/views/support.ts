// Shared by the resource-server tests (test/views, test/plugins). Not a test file: tap runs *.test.ts only.
import type { FastifyInstance } from 'fastify'
import type { AccessTokenRecord } from '../../lib/store/types.js'
import { tokenChecksum } from '../../lib/tokens/checksum.js'

/** `Authorization: Bearer <token>`. */
export function bearer (token: string): { authorization: string } {
  return { authorization: `Bearer ${token}` }
}

/** The stored row of a clear access token. */
export async function accessTokenRow (app: FastifyInstance, token: string): Promise<AccessTokenRecord> {
  const row = await app.oauth.store.findAccessToken(tokenChecksum(token))
  if (row === null) throw new Error('access token not stored')
  return row
}
