// The example app inside the test's own process, for the tests that need its HTTP behaviour but
// not a process of its own: built by example-app/startup.ts from the environment `npm start`
// would get, exactly as server.ts builds it (without the request log, which would land in the
// TAP stream), and listening on a free loopback port. `npm start` itself, its process and its
// start-up errors are tested by smoke.test.ts and startup-errors.test.ts. Each in-process app
// spares a node start and the toolkit's import (support.ts starts real processes).
import { join } from 'node:path'
import pg from 'pg'
import { buildExampleApp } from '../../example-app/app.js'
import { isPostgresUrl } from '../../example-app/paths.js'
import { exampleAppOptions } from '../../example-app/startup.js'
import { openUserStore } from '../../example-app/users.js'
import { freePort, type ExampleServer } from './support.js'

/** The part of a tap `Test` these helpers need. */
interface TestLike {
  testdir (): string
  teardown (fn: () => unknown): void
}

/** Each test's directory, made once: `testdir()` empties it at every call. */
const directories = new WeakMap<TestLike, string>()

function directory (t: TestLike): string {
  let dir = directories.get(t)
  if (dir === undefined) {
    dir = t.testdir()
    directories.set(t, dir)
  }
  return dir
}

/**
 * Runs the example app in this process on a free port and a fresh SQLite file in the test's
 * directory (or `options.database`), with `options.env` over this process's environment
 * (CIMD_ENABLED, OAT_CLIENT_SECRET_SEALING_KEY, …). The test's teardown closes it.
 */
export async function runExampleApp (t: TestLike, options: { database?: string, env?: NodeJS.ProcessEnv } = {}): Promise<ExampleServer> {
  const port = await freePort()
  const database = options.database ?? join(directory(t), `db-${port}.sqlite3`)
  const env = { ...process.env, PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: database, ...options.env }
  const { target, options: appOptions } = exampleAppOptions(env, { logger: false })
  const app = await buildExampleApp(appOptions)
  t.teardown(async () => { await app.close() })
  await app.listen({ host: target.host, port: target.port })
  return { base: `http://127.0.0.1:${port}`, database, env }
}

/**
 * Creates a user of the example app in its database, as `npm run example -- createuser` does
 * (example-app/manage.ts, the same user store), without a process; the README quick start test
 * runs the command itself. Resolves to the line the command prints.
 */
export async function createUser (server: Pick<ExampleServer, 'database'>, username: string, password: string): Promise<string> {
  const pool = isPostgresUrl(server.database) ? new pg.Pool({ connectionString: server.database, max: 1 }) : null
  const users = await openUserStore(pool ?? server.database)
  try {
    const user = await users.create(username, password)
    return `created user "${user.username}" (id ${user.id})\n`
  } finally {
    await users.close()
    await pool?.end()
  }
}
