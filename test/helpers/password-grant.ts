// The password grant (RFC 6749 §4.3) for `ALICE`: the app options that switch it on, the form
// and the request. Tests use it to get tokens that speak for a user without driving the consent
// page; test/grants/password.spec.ts tests the grant itself.
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import type { CreatedApplication } from '../../lib/applications.js'
import { ALICE, basicAuth, createApplication, postToken, type BuildAppOptions } from './index.js'

/** A `verifyUserCredentials` option that knows `ALICE` only. */
export async function verifyAlice (username: string, password: string): Promise<string | null> {
  return username === ALICE.username && password === ALICE.password ? ALICE.id : null
}

/**
 * `buildApp` options with the password grant switched on and `verifyAlice` as the checker
 * (unless `options` names another); `options.settings` are merged in.
 */
export function passwordGrantOptions (options: BuildAppOptions = {}): BuildAppOptions {
  return { verifyUserCredentials: verifyAlice, ...options, settings: { passwordGrantEnabled: true, ...options.settings } }
}

/** The form of `ALICE`'s password-grant token request (RFC 6749 §4.3.2), before client authentication. */
export const PASSWORD_GRANT = { grant_type: 'password', username: ALICE.username, password: ALICE.password } as const

/**
 * POSTs `ALICE`'s password grant, plus `extra` parameters, to the token endpoint as `client`: an
 * application `createApplication` made (Basic for a confidential one, `client_id` for a public
 * one) or a ready `Authorization` header.
 */
export async function passwordGrant (app: FastifyInstance, client: CreatedApplication | string,
  extra: Record<string, string | readonly string[]> = {}): Promise<LightMyRequestResponse> {
  if (typeof client === 'string') return await postToken(app, { ...PASSWORD_GRANT, ...extra }, { authorization: client })
  const { application, clientSecret } = client
  if (clientSecret === null) return await postToken(app, { ...PASSWORD_GRANT, client_id: application.clientId, ...extra })
  return await postToken(app, { ...PASSWORD_GRANT, ...extra }, { authorization: basicAuth(application.clientId, clientSecret) })
}

/** Access and refresh token of `ALICE` from the password grant, and the client that got them. */
export interface UserTokens {
  accessToken: string
  refreshToken: string
  clientId: string
  clientSecret: string
}

/** Registers a confidential password-grant client and gets `ALICE`'s tokens (the app must be built with `passwordGrantOptions`). */
export async function passwordTokens (app: FastifyInstance, scope?: string): Promise<UserTokens> {
  const created = await createApplication(app, { authorizationGrantType: 'password' })
  const res = await passwordGrant(app, created, scope === undefined ? {} : { scope })
  if (res.statusCode !== 200) throw new Error(`password grant failed: ${res.body}`)
  const body = res.json() as { access_token: string, refresh_token: string }
  return { accessToken: body.access_token, refreshToken: body.refresh_token, clientId: created.application.clientId, clientSecret: created.clientSecret ?? '' }
}
