// Shared by the resource-server tests (test/views, test/plugins). Not a test file: tap runs *.test.ts only.
import type { FastifyInstance } from 'fastify'
import type { AccessTokenRecord } from '../../lib/store/types.js'
import { tokenChecksum } from '../../lib/tokens/checksum.js'
import { basicAuth, createApplication, postToken, type BuildAppOptions } from '../helpers/index.js'

/** `Authorization: Bearer <token>`. */
export function bearer (token: string): { authorization: string } {
  return { authorization: `Bearer ${token}` }
}

/** The user the password grant knows in these tests; its id is what `loadUser` receives. */
export const ALICE = { id: 'user-1', username: 'alice', password: 'correct horse' } as const

/** `buildApp` options enabling the password grant for `ALICE`. */
export function withPasswordGrant (options: BuildAppOptions = {}): BuildAppOptions {
  return {
    ...options,
    settings: { passwordGrantEnabled: true, ...options.settings },
    verifyUserCredentials: async (username, password) => username === ALICE.username && password === ALICE.password ? ALICE.id : null,
  }
}

/** Access and refresh token of `ALICE` from the password grant, and the client that got them. */
export interface UserTokens {
  accessToken: string
  refreshToken: string
  clientId: string
  clientSecret: string
}

/** Runs the password grant for `ALICE` (the app must be built with `withPasswordGrant`). */
export async function passwordTokens (app: FastifyInstance, scope?: string): Promise<UserTokens> {
  const { application, clientSecret } = await createApplication(app, { authorizationGrantType: 'password' })
  const params: Record<string, string> = { grant_type: 'password', username: ALICE.username, password: ALICE.password }
  if (scope !== undefined) params.scope = scope
  const res = await postToken(app, params, { authorization: basicAuth(application.clientId, clientSecret ?? '') })
  if (res.statusCode !== 200) throw new Error(`password grant failed: ${res.body}`)
  const body = res.json() as { access_token: string, refresh_token: string }
  return { accessToken: body.access_token, refreshToken: body.refresh_token, clientId: application.clientId, clientSecret: clientSecret ?? '' }
}

/** The stored row of a clear access token. */
export async function accessTokenRow (app: FastifyInstance, token: string): Promise<AccessTokenRecord> {
  const row = await app.oauth.store.findAccessToken(tokenChecksum(token))
  if (row === null) throw new Error('access token not stored')
  return row
}
