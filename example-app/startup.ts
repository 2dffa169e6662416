// From the example app's environment to the options it is built with, and from a start-up error
// to the one line `npm start` prints for it: server.ts runs both, and the tests that run the
// example app inside their own process (test/example-app/in-process.ts) build it from the same
// environment with the same options, so they serve what `npm start` would.
import { ImproperlyConfiguredError } from 'fastify-oauth-toolkit'
import type { ExampleAppOptions } from './app.js'
import { environment, StartupError } from './environment.js'
import { exampleDatabase, exampleEs256Key, exampleOidcKey, isPostgresUrl } from './paths.js'

/** Where the example app was asked to run: what a start-up error names. */
export interface StartupTarget {
  host: string
  port: number
  database: string
}

/** The target as the environment states it, before any of it is checked. */
export function rawStartupTarget (env: NodeJS.ProcessEnv = process.env): StartupTarget {
  return { host: env.HOST ?? '127.0.0.1', port: Number(env.PORT ?? 8000), database: env.DATABASE_URL ?? '' }
}

/**
 * The environment checked (HOST, PORT, ISSUER, SESSION_SECRET, OAT_CLIENT_SECRET_SEALING_KEY,
 * TRUST_PROXY, CIMD_*, DATABASE_URL, the OpenID Connect keys), as the target to listen on and the options of
 * `buildExampleApp`. A mistake throws `StartupError` (or `ImproperlyConfiguredError` for a
 * DATABASE_URL the toolkit cannot read) before anything is opened.
 */
export function exampleAppOptions (env: NodeJS.ProcessEnv = process.env, { logger = true }: { logger?: boolean } = {}): { target: StartupTarget, options: ExampleAppOptions } {
  const checked = environment(env)
  const database = exampleDatabase(env)
  return {
    target: { host: checked.host, port: checked.port, database },
    options: {
      databasePath: database,
      issuer: checked.issuer,
      logger,
      oidcPrivateKey: exampleOidcKey(env),
      oidcEs256Key: exampleEs256Key(env),
      cimd: checked.cimd,
      ...(checked.secret === undefined ? {} : { secret: checked.secret }),
      ...(checked.sealingKey === undefined ? {} : { clientSecretSealingKey: checked.sealingKey }),
      ...(checked.trustProxy === undefined ? {} : { trustProxy: checked.trustProxy }),
    },
  }
}

/** The one line a user's mistake gets (without the `example-app: ` prefix), or `null` for an error that is a bug (shown in full). */
export function explainStartupError (err: unknown, where: StartupTarget): string | null {
  if (err instanceof StartupError) return err.message
  if (err instanceof ImproperlyConfiguredError) return err.message.replace(/^fastify-oauth-toolkit: /, '')
  const { code, message } = err as { code?: unknown, message?: unknown }
  const text = typeof message === 'string' ? message : String(err)
  if (code === 'EADDRINUSE') return `port ${where.port} on ${where.host} is in use (another server is running there?); stop it or set PORT`
  if (code === 'EADDRNOTAVAIL') return `HOST=${where.host} is not an address of this machine`
  if (code === 'EACCES' && /listen/.test(text)) return `may not listen on port ${where.port} (ports below 1024 need privileges); set PORT`
  if (isPostgresUrl(where.database) && typeof code === 'string' && (/^E[A-Z]+$/.test(code) || /^[0-9A-Z]{5}$/.test(code))) {
    // Node's socket errors (ECONNREFUSED, ENOTFOUND) and PostgreSQL's SQLSTATEs (28P01 bad password, 3D000 no such database).
    return `cannot use PostgreSQL at ${redactUrl(where.database)}: ${text}`
  }
  if (typeof code === 'string' && code.startsWith('SQLITE_')) return `cannot use the SQLite database "${where.database}": ${text}`
  return null
}

function redactUrl (url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password !== '') parsed.password = '***'
    return parsed.toString()
  } catch {
    return 'the DATABASE_URL (unparsable)'
  }
}
