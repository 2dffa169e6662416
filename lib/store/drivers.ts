import { ImproperlyConfiguredError } from '../errors.js'

// Database drivers loaded on first use, not when the module that may need them is: `pg` is an
// optional peer dependency that only a PostgreSQL user installs, and the CLI loads neither
// driver for a command that opens no database (`generatekey`) or opens the other kind. Only
// lib/store/ touches the drivers (STYLE §1); callers go through here.

/**
 * `err` as the one-line configuration error a user acts on when it says that `driver` is not
 * installed (Node's `ERR_MODULE_NOT_FOUND`, from our import or drizzle's); any other error as is.
 */
function missingDriver (err: unknown, driver: string, purpose: string): unknown {
  const { code, message } = err as { code?: unknown, message?: unknown }
  const missing = (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') &&
    typeof message === 'string' && message.includes(`'${driver}'`)
  if (!missing) return err
  return new ImproperlyConfiguredError('OAT_ERR_DATABASE',
    `fastify-oauth-toolkit: ${purpose} needs the "${driver}" package, which is not installed: run \`npm install ${driver}\``)
}

/** The PostgreSQL store and its helpers; fails with one line naming `pg` when it is not installed. */
export async function loadPg (): Promise<typeof import('./pg/store.js') & typeof import('./pg/open.js')> {
  try {
    const [store, open] = await Promise.all([import('./pg/store.js'), import('./pg/open.js')])
    return { ...store, ...open }
  } catch (err) {
    throw missingDriver(err, 'pg', 'a PostgreSQL database (postgres:// URL)')
  }
}

/** The SQLite store and its helpers (better-sqlite3, a dependency of the toolkit), for the CLI. */
export async function loadSqlite (): Promise<typeof import('./sqlite/store.js') & typeof import('./sqlite/open.js')> {
  try {
    const [store, open] = await Promise.all([import('./sqlite/store.js'), import('./sqlite/open.js')])
    return { ...store, ...open }
  } catch (err) {
    throw missingDriver(err, 'better-sqlite3', 'a SQLite database')
  }
}
