import { join } from 'node:path'
import Fastify, { type FastifyInstance } from 'fastify'
import type { Test } from 'tap'
import { fastifyOAuthToolkit, oauthRoutes, type FastifyOAuthToolkitOptions } from '../../index.js'
import type { Clock } from '../../lib/clock.js'
import { createScryptHasher } from '../../lib/tokens/secret-hasher.js'
import type { ApplicationInput, CreatedApplication } from '../../lib/applications.js'
import type { SettingsInput } from '../../lib/settings.js'

/** A clock that stands still until told to move. */
export interface FixedClock extends Clock {
  advance (seconds: number): void
  set (iso: string): void
}

/** A controllable clock starting at `iso`. */
export function fixedClock (iso = '2026-01-01T00:00:00.000Z'): FixedClock {
  let current = new Date(iso).getTime()
  return {
    now: () => new Date(current),
    advance: (seconds) => { current += seconds * 1000 },
    set: (value) => { current = new Date(value).getTime() },
  }
}

/** A real scrypt hasher with a low cost, so tests stay fast (the code path is the production one). */
export const testHasher = createScryptHasher({ N: 1024 })

/** Options of `buildApp`. */
export interface BuildAppOptions extends Partial<FastifyOAuthToolkitOptions> {
  settings?: SettingsInput
  /** Register `oauthRoutes` under this prefix (default '/o'); `false` skips it. */
  prefix?: string | false
  logger?: boolean
}

/**
 * A fresh app on a real SQLite file under the test's own directory, migrated by production
 * code, with the core plugin and the routes registered. Closed when the test ends.
 */
export async function buildApp (t: Test, options: BuildAppOptions = {}): Promise<FastifyInstance> {
  const { prefix = '/o', logger = false, ...pluginOptions } = options
  const app = Fastify({ logger })
  t.teardown(() => app.close())
  await app.register(fastifyOAuthToolkit, {
    database: join(t.testdir(), 'oauth.db'),
    migrate: true,
    hasher: testHasher,
    ...pluginOptions,
  })
  if (prefix !== false) await app.register(oauthRoutes, { prefix })
  return app
}

/** Registers an application with sensible defaults for tests. */
export async function createApplication (app: FastifyInstance, overrides: Partial<ApplicationInput> = {}): Promise<CreatedApplication> {
  return await app.oauth.createApplication({
    clientType: 'confidential',
    authorizationGrantType: 'client-credentials',
    name: 'Test application',
    ...overrides,
  })
}

/** `Authorization: Basic` for a client id and secret, form-encoded first (RFC 6749 §2.3.1). */
export function basicAuth (clientId: string, secret: string): string {
  const enc = (s: string): string => encodeURIComponent(s).replace(/%20/g, '+')
  return `Basic ${Buffer.from(`${enc(clientId)}:${enc(secret)}`).toString('base64')}`
}

/** A form-urlencoded body. Arrays repeat the parameter. */
export function form (params: Record<string, string | readonly string[]>): string {
  const body = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) {
    for (const value of typeof v === 'string' ? [v] : v) body.append(k, value)
  }
  return body.toString()
}

/** Headers of a form POST. */
export const FORM = { 'content-type': 'application/x-www-form-urlencoded' } as const

/** POSTs a form to the token endpoint. */
export async function postToken (app: FastifyInstance, params: Record<string, string | readonly string[]>, headers: Record<string, string> = {}, url = '/o/token/') {
  return await app.inject({ method: 'POST', url, payload: form(params), headers: { ...FORM, ...headers } })
}

/** A client-credentials token for a fresh confidential application. */
export async function clientCredentialsToken (app: FastifyInstance, scope?: string): Promise<string> {
  const { application, clientSecret } = await createApplication(app)
  const params: Record<string, string> = { grant_type: 'client_credentials' }
  if (scope !== undefined) params.scope = scope
  const res = await postToken(app, params, { authorization: basicAuth(application.clientId, clientSecret ?? '') })
  if (res.statusCode !== 200) throw new Error(`token request failed: ${res.body}`)
  return (res.json() as { access_token: string }).access_token
}
