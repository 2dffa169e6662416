// Starts the example app: `npm start` from the repository root. A mistake in its environment
// (a port in use, an unreachable PostgreSQL, a file that is not a database, a bad PORT, a short
// SESSION_SECRET) is one line on stderr and exit status 1, like the CLI's; only a bug shows a
// stack trace.
import { ImproperlyConfiguredError } from 'fastify-oauth-toolkit'
import { buildExampleApp } from './app.js'
import { exampleDatabase, exampleEs256Key, exampleOidcKey, isPostgresUrl } from './paths.js'

/** A mistake in the example app's environment: reported as its message alone. */
class StartupError extends Error {}

function environment (): { host: string, port: number, issuer: string, secret: string | undefined, sealingKey: string | undefined } {
  const host = process.env.HOST ?? '127.0.0.1'
  const rawPort = process.env.PORT ?? '8000'
  const port = Number(rawPort)
  if (!/^\d+$/.test(rawPort) || !Number.isSafeInteger(port) || port > 65535) throw new StartupError(`PORT must be a port number from 0 to 65535; got "${rawPort}"`)
  const secret = process.env.SESSION_SECRET
  if (secret !== undefined && secret.length < 32) throw new StartupError(`SESSION_SECRET must be at least 32 characters; got ${secret.length}`)
  // The same variable the CLI reads, so `createapplication --algorithm HS256` and the server agree.
  const sealingKey = process.env.OAT_CLIENT_SECRET_SEALING_KEY
  return { host, port, issuer: exampleIssuer(host, port), secret, sealingKey: sealingKey === '' ? undefined : sealingKey }
}

/**
 * The issuer clients see: ISSUER, else this server's own loopback address (the routes are under
 * /o). It is fixed at start, never read from a request's Host header, so a forged Host cannot
 * change discovery, the ID token `iss` or the device `verification_uri`. Listening beyond
 * loopback needs ISSUER: the server cannot know the public URL clients reach it at.
 */
function exampleIssuer (host: string, port: number): string {
  const configured = process.env.ISSUER
  if (configured !== undefined && configured !== '') return configured
  const loopback = new Map([['127.0.0.1', '127.0.0.1'], ['localhost', 'localhost'], ['::1', '[::1]'], ['[::1]', '[::1]']])
  const name = loopback.get(host)
  if (name === undefined) throw new StartupError(`HOST=${host} is not a loopback address: set ISSUER to the public URL of the routes, e.g. ISSUER=https://auth.example.com/o`)
  return `http://${name}:${port}/o`
}

/** The one line a user's mistake gets, or `null` for an error that is a bug (shown in full). */
function explain (err: unknown, where: { host: string, port: number, database: string }): string | null {
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

let where = { host: process.env.HOST ?? '127.0.0.1', port: Number(process.env.PORT ?? 8000), database: process.env.DATABASE_URL ?? '' }
try {
  const env = environment()
  const database = exampleDatabase()
  where = { host: env.host, port: env.port, database }
  const app = await buildExampleApp({
    databasePath: database,
    issuer: env.issuer,
    logger: true,
    oidcPrivateKey: exampleOidcKey(),
    oidcEs256Key: exampleEs256Key(),
    ...(env.secret === undefined ? {} : { secret: env.secret }),
    ...(env.sealingKey === undefined ? {} : { clientSecretSealingKey: env.sealingKey }),
  })
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => { app.close().then(() => process.exit(0), () => process.exit(1)) })
  }
  try {
    await app.listen({ host: env.host, port: env.port })
  } catch (err) {
    await app.close().catch(() => {})
    throw err
  }
} catch (err) {
  const line = explain(err, where)
  if (line === null) throw err
  process.stderr.write(`example-app: ${line}\n`)
  process.exit(1)
}
