import { copyFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Fastify, { type FastifyInstance, type FastifyServerOptions, type LightMyRequestResponse } from 'fastify'
import type { Test } from 'tap'
import { fastifyOAuthToolkit, oauthRoutes, type FastifyOAuthToolkitOptions } from '../../index.js'
import type { Clock } from '../../lib/clock.js'
import { createScryptHasher } from '../../lib/tokens/secret-hasher.js'
import { migrateSqlite, openSqlite } from '../../lib/store/sqlite/open.js'
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
  /** Fastify's logger (default none): `true`, or options such as a level and a stream to read the log from. */
  logger?: FastifyServerOptions['logger']
}

/** This process's migrated template database (`migratedDatabaseFile`), made on first use. */
let template: string | null = null

/**
 * Writes a migrated SQLite database to `path`: a copy of a template this process migrated once,
 * through the production code (`openSqlite`, `migrateSqlite`). Applying every migration to each
 * test's new file costs more CPU than the rest of building an app, hundreds of times per suite;
 * the copy is byte for byte what the migration wrote. Migrations themselves are tested in
 * test/store/ against databases migrated step by step.
 */
export function migratedDatabaseFile (path: string): void {
  if (template === null) {
    const dir = mkdtempSync(join(tmpdir(), 'oat-test-template-'))
    process.once('exit', () => { rmSync(dir, { recursive: true, force: true }) })
    const file = join(dir, 'template.db')
    const db = openSqlite(file)
    migrateSqlite(db)
    // One self-contained file: closing the last connection folds the WAL into it and removes the
    // WAL file. The file stays in WAL mode, so a copy opens without switching journal modes.
    db.close()
    template = file
  }
  copyFileSync(template, path)
}

/** The SQLite file of each app `buildApp` made, by the test it was made for (the last one). */
const databases = new WeakMap<Test, string>()

/**
 * A fresh app on a real SQLite file in a folder of its own (removed when the test ends), migrated
 * by production code (a copy of this process's migrated template: `migratedDatabaseFile`), with
 * the core plugin and the routes registered. Closed when the test ends.
 * A folder per app, not `t.testdir()`: a file's top-level tests share one root test, and so do
 * the spec files of a bundle (test/helpers/specs.ts), which each build their own app.
 */
export async function buildApp (t: Test, options: BuildAppOptions = {}): Promise<FastifyInstance> {
  const { prefix = '/o', logger = false, ...pluginOptions } = options
  const dir = mkdtempSync(join(tmpdir(), 'oat-test-app-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  // avvio's default of 10 s for a plugin to load is a start-up deadline for production; a fresh
  // PostgreSQL database migrated on a machine at load 10 can take longer, and tap's own timeout
  // still ends a test whose plugin never loads.
  const app = Fastify({ logger, pluginTimeout: 120_000 })
  t.teardown(() => app.close())
  const database = join(dir, 'oauth.db')
  // A given store or database replaces the file.
  const own = pluginOptions.store === undefined && pluginOptions.database === undefined
  if (own) {
    migratedDatabaseFile(database)
    databases.set(t, database)
  }
  await app.register(fastifyOAuthToolkit, {
    ...(own ? { database } : {}),
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

/** A registered client as requests use it: its row id, client id, secret ('' for a public client) and Basic header. */
export interface TestClient {
  readonly id: number
  readonly clientId: string
  readonly secret: string
  readonly authorization: string
}

/** `createApplication`, returning what a request needs to authenticate as the new client. */
export async function createClient (app: FastifyInstance, overrides: Partial<ApplicationInput> = {}): Promise<TestClient> {
  const { application, clientSecret } = await createApplication(app, overrides)
  const secret = clientSecret ?? ''
  return { id: application.id, clientId: application.clientId, secret, authorization: basicAuth(application.clientId, secret) }
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

/** A client_credentials token request with Basic authentication, from the client address `ip`. */
export async function clientCredentialsFrom (app: FastifyInstance, clientId: string, secret: string, ip = '10.0.0.1') {
  return await app.inject({
    method: 'POST',
    url: '/o/token/',
    remoteAddress: ip,
    headers: { ...FORM, authorization: basicAuth(clientId, secret) },
    payload: form({ grant_type: 'client_credentials' }),
  })
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

/** The RFC 6749 §5.1 success body of the token endpoint. */
export interface TokenBody {
  access_token: string
  token_type: string
  expires_in: number
  scope: string
  refresh_token?: string
}

/** True when the server accepts `token` as a bearer access token holding `scopes`. */
export async function bearerWorks (app: FastifyInstance, token: string, scopes: readonly string[] = []): Promise<boolean> {
  const result = await app.oauth.authenticateBearer({ authorization: `Bearer ${token}`, queryToken: undefined }, scopes)
  return result.ok
}

/**
 * The test user. The authorization tests log in as `ALICE.id` (test/helpers/authorize.ts); the
 * password grant knows her by `username` and `password` (test/helpers/password-grant.ts), whose
 * characters need form encoding.
 */
export const ALICE = { id: 'user-alice', username: 'alice', password: 'wonder land+%:' } as const

/** A `loadUser` option that knows `ALICE` only. */
export async function loadAlice (id: string): Promise<{ id: string, username: string } | null> {
  return id === ALICE.id ? { id, username: ALICE.username } : null
}

/** The SQLite file of the app `buildApp` last made for test `t`. */
export function databasePath (t: Test): string {
  const database = databases.get(t)
  if (database === undefined) throw new Error('databasePath: buildApp has not made an app for this test')
  return database
}

/** Exact RFC 6749 §5.2 error bodies of the token endpoint, for `t.same`. */
export const TOKEN_ERRORS = {
  invalidClient: { error: 'invalid_client', error_description: 'Client authentication failed.' },
  invalidGrant: { error: 'invalid_grant', error_description: 'The provided authorization grant is invalid, expired, revoked or was issued to another client.' },
  unauthorizedClient: { error: 'unauthorized_client', error_description: 'The client is not authorized to use this grant type.' },
  unsupportedGrantType: { error: 'unsupported_grant_type', error_description: 'The grant type is not supported by this server.' },
  invalidScope: { error: 'invalid_scope', error_description: 'The requested scope is invalid, unknown or exceeds what was granted.' },
  notForm: { error: 'invalid_request', error_description: 'The request body must be application/x-www-form-urlencoded.' },
  unparsable: { error: 'invalid_request', error_description: 'The request could not be parsed.' },
} as const

/** An `invalid_request` error body with this description. */
export function invalidRequest (description: string): { error: 'invalid_request', error_description: string } {
  return { error: 'invalid_request', error_description: description }
}

/** An RFC 6749 §5.2 error answer: `status`, exactly `body`, never cached. */
export function assertTokenError (t: Test, res: LightMyRequestResponse, status: number, body: object, message = `status ${status}`): void {
  t.equal(res.statusCode, status, message)
  t.same(res.json(), body, message)
  t.equal(res.headers['cache-control'], 'no-store')
}

/** `assertTokenError`, and the answer is JSON: the RFC 7009 and RFC 7662 endpoints answer errors in the same format. */
export function assertJsonError (t: Test, res: LightMyRequestResponse, status: number, body: object): void {
  assertTokenError(t, res, status, body)
  t.match(res.headers['content-type'], /^application\/json/)
}

/** An RFC 6749 §5.1 answer with an access and a refresh token, at the default lifetime; returns its body. */
export function assertTokenPair (t: Test, res: LightMyRequestResponse): TokenBody {
  t.equal(res.statusCode, 200)
  t.equal(res.headers['cache-control'], 'no-store')
  t.equal(res.headers.pragma, 'no-cache')
  const body = res.json<TokenBody>()
  t.same(Object.keys(body).sort(), ['access_token', 'expires_in', 'refresh_token', 'scope', 'token_type'])
  t.equal(body.token_type, 'Bearer')
  t.equal(body.expires_in, 36000)
  return body
}
