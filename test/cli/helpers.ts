import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { readMigrationFiles } from 'drizzle-orm/migrator'
import type { Clock } from '../../lib/clock.js'
import { runCli } from '../../lib/cli/run.js'
import { openStore } from '../../lib/store/open.js'
import { SQLITE_MIGRATIONS_FOLDER } from '../../lib/store/sqlite/open.js'
import type { Application, NewAccessToken, NewGrant, NewRefreshToken, Store } from '../../lib/store/types.js'
import { createScryptHasher, type SecretHasher } from '../../lib/tokens/secret-hasher.js'
import { TS_LOADER_ARGS } from '../helpers/loader.js'

/** The repository root, where the CLI is run from source. */
export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url))

/** How many migrations the toolkit ships (both dialects are generated together). */
export const SHIPPED_MIGRATIONS = readMigrationFiles({ migrationsFolder: SQLITE_MIGRATIONS_FOLDER }).length

/** What `migrate` prints after migrating an empty database at `shown`. */
export function appliedAll (shown: string): string {
  return `Applied ${SHIPPED_MIGRATIONS} migration${SHIPPED_MIGRATIONS === 1 ? '' : 's'} to ${shown}.\n`
}

/** What one CLI run produced. */
export interface CliResult {
  code: number
  stdout: string
  stderr: string
}

/** A real scrypt hasher with a low cost, so in-process runs stay fast. */
export const cheapHasher = createScryptHasher({ N: 1024 })

/** A clock stopped at `iso`. */
export function clockAt (iso: string): Clock {
  return { now: () => new Date(iso) }
}

/** Runs `runCli` in this process with captured streams (fast: for argument handling and most database cases). */
export async function cli (argv: readonly string[], options: { env?: Record<string, string>, clock?: Clock, hasher?: SecretHasher } = {}): Promise<CliResult> {
  let stdout = ''
  let stderr = ''
  const code = await runCli(argv, {
    stdout: { write: (s: string) => { stdout += s } },
    stderr: { write: (s: string) => { stderr += s } },
    env: options.env ?? {},
  }, { hasher: options.hasher ?? cheapHasher, ...(options.clock === undefined ? {} : { clock: options.clock }) })
  return { code, stdout, stderr }
}

/**
 * Runs the real executable from source in a child process, as `npm run cli` does. The
 * environment is cleared of DATABASE_URL and NODE_OPTIONS (tap's loaders) unless given.
 */
export async function bin (args: readonly string[], env: Record<string, string> = {}): Promise<CliResult> {
  const base = { ...process.env }
  delete base.DATABASE_URL
  delete base.NODE_OPTIONS
  const child = spawn(process.execPath, [...TS_LOADER_ARGS, '--conditions=oauth-toolkit-source', 'lib/cli/bin.ts', ...args], {
    cwd: REPO_ROOT,
    env: { ...base, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (s: string) => { stdout += s })
  child.stderr.setEncoding('utf8').on('data', (s: string) => { stderr += s })
  const code = await new Promise<number>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (status) => resolve(status ?? -1))
  })
  return { code, stdout, stderr }
}

/**
 * A database file in `dir` (a `t.testdir()`, which must be created only once per test: a
 * second call empties it), migrated by the CLI's own `migrate`.
 */
export async function migratedDatabase (dir: string, name = 'oauth.db'): Promise<string> {
  const path = join(dir, name)
  const result = await cli(['migrate', '--database', path])
  if (result.code !== 0) throw new Error(`migrate failed: ${result.stderr}`)
  return path
}

/** Opens the store on `path` for the duration of `fn` (to check what the CLI wrote, or to seed data). */
export async function withStore<T> (path: string, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore(path)
  try {
    return await fn(store)
  } finally {
    await store.close()
  }
}

/** An authorization code (no PKCE, nonce or resource) of `applicationId` for user `u1`, known by `checksum`. */
function publicGrant (applicationId: number, checksum: string, expiresAt: Date, authTime: Date): NewGrant {
  return {
    checksum,
    applicationId,
    userId: 'u1',
    expiresAt,
    redirectUri: 'https://a.example/cb',
    scope: 'read',
    codeChallenge: '',
    codeChallengeMethod: '',
    nonce: '',
    claims: '',
    resource: '',
    authTime,
  }
}

/** A public authorization-code application created through the store at `now` (the seeding helpers' client). */
async function publicApplication (store: Store, clientId: string, now: Date): Promise<Application> {
  return await store.createApplication({
    clientId,
    clientSecretHash: '',
    clientType: 'public',
    authorizationGrantType: 'authorization-code',
    redirectUris: ['https://a.example/cb'],
    postLogoutRedirectUris: [],
    allowedOrigins: [],
    name: '',
    userId: null,
    skipAuthorization: false,
    algorithm: '',
    now,
  })
}

/**
 * Seeds a migrated database, through the store API, with tokens around `now`: two expired
 * access tokens (one with a refresh token created two days earlier), a live pair, a revoked
 * family (revoked two hours earlier), an expired and a live authorization code.
 */
export async function seedTokens (path: string, now: Date): Promise<void> {
  const at = (seconds: number): Date => new Date(now.getTime() + seconds * 1000)
  const HOUR = 3600
  await withStore(path, async (store) => {
    const app = await publicApplication(store, 'seeded', at(-10 * 24 * HOUR))
    const access = (checksum: string, expiresIn: number, tokenFamily: string | null): NewAccessToken => ({
      checksum, applicationId: app.id, userId: 'u1', scope: 'read', expiresAt: at(expiresIn), tokenFamily, grantId: null, resource: '',
    })
    const refresh = (checksum: string, tokenFamily: string): NewRefreshToken => ({ checksum, applicationId: app.id, userId: 'u1', scope: 'read', tokenFamily, resource: '' })
    await store.issueTokens({ accessToken: access('a1', -HOUR, null), refreshToken: null, now: at(-11 * HOUR) })
    await store.issueTokens({ accessToken: access('a2', -47 * HOUR, 'f2'), refreshToken: refresh('r2', 'f2'), now: at(-48 * HOUR) })
    await store.issueTokens({ accessToken: access('a3', HOUR, 'f3'), refreshToken: refresh('r3', 'f3'), now: at(-60) })
    await store.issueTokens({ accessToken: access('a4', 7 * HOUR, 'f4'), refreshToken: refresh('r4', 'f4'), now: at(-3 * HOUR) })
    await store.revokeTokenFamily('f4', at(-2 * HOUR))
    const grant = (checksum: string, expiresIn: number): NewGrant => publicGrant(app.id, checksum, at(expiresIn), at(expiresIn - 60))
    await store.createGrant(grant('g1', -10 * 60), at(-11 * 60))
    await store.createGrant(grant('g2', 60), now)
  })
}

/** Which seeded rows are still there, by checksum. */
export async function remainingTokens (path: string): Promise<{ access: string[], refresh: string[], grants: string[] }> {
  return await withStore(path, async (store) => {
    const present = async (checksums: string[], find: (c: string) => Promise<unknown>): Promise<string[]> => {
      const found: string[] = []
      for (const c of checksums) if (await find(c) !== null) found.push(c)
      return found
    }
    return {
      access: await present(['a1', 'a2', 'a3', 'a4'], (c) => store.findAccessToken(c)),
      refresh: await present(['r2', 'r3', 'r4'], (c) => store.findRefreshToken(c)),
      grants: await present(['g1', 'g2'], (c) => store.findGrant(c)),
    }
  })
}

/** `count` authorization codes that expired `hoursAgo` hours before `nowIso`, written through the store (the deployment check's stale rows). */
export async function expiredCodes (store: Store, nowIso: string, count: number, hoursAgo: number, prefix: string): Promise<void> {
  const at = new Date(Date.parse(nowIso) - hoursAgo * 3600_000)
  const app = await publicApplication(store, `app-${prefix}`, at)
  await Promise.all(Array.from({ length: count }, async (_, i) => await store.createGrant(publicGrant(app.id, `${prefix}${i}`, at, at), at)))
}
