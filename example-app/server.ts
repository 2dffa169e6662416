// Starts the example app: `npm start` from the repository root. A mistake in its environment
// (a port in use, an unreachable PostgreSQL, a file that is not a database, a bad PORT, a short
// SESSION_SECRET) is one line on stderr and exit status 1, like the CLI's; only a bug shows a
// stack trace.
import { ImproperlyConfiguredError } from 'fastify-oauth-toolkit'
import { buildExampleApp } from './app.js'
import { environment, StartupError } from './environment.js'
import { exampleDatabase, exampleEs256Key, exampleOidcKey, isPostgresUrl } from './paths.js'

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
    cimd: env.cimd,
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
