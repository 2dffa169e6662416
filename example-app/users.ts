// The example app's own users: the resource owners of every OAuth flow. A real app has its own
// user model; the toolkit only needs `verifyUserCredentials` and `loadUser` to reach it. They
// live in the same database as the toolkit's tables: the SQLite file, or PostgreSQL, so that
// several instances of the app share them.
import Database from 'better-sqlite3'
import { createScryptHasher } from 'fastify-oauth-toolkit/core'
import type pg from 'pg'

/** A user of the example app, as protected views see it (`request.resourceOwner`). */
export interface ExampleUser {
  id: string
  username: string
}

/** The example app's users, passwords hashed with scrypt. */
export interface UserStore {
  /** Creates a user; throws when the name is taken or the input is unusable. */
  create (username: string, password: string): Promise<ExampleUser>
  /** The user's id when the password matches, else `null` (same work either way). */
  verify (username: string, password: string): Promise<string | null>
  /** The user with this id, or `null`. */
  find (id: string): Promise<ExampleUser | null>
  close (): Promise<void>
}

const passwords = createScryptHasher({ N: 1 << 16 })

/** The checks `create` makes before hashing, shared by both databases. */
function checkNewUser (username: string, password: string): void {
  if (!/^[\w.@+-]{1,150}$/.test(username)) throw new Error('username: 1–150 letters, digits and @.+-_ only')
  if (password.length < 8) throw new Error('password: at least 8 characters')
}

/** `verify` over a row lookup: a missing user costs a dummy hash, so timing does not tell. */
async function verifyRow (row: { id: number | string, password_hash: string } | undefined, password: string): Promise<string | null> {
  if (row === undefined) return await passwords.verifyDummy(password).then(() => null)
  return (await passwords.verify(password, row.password_hash)) ? String(row.id) : null
}

/** Users in a table of the example app's SQLite file. */
function sqliteUsers (path: string): UserStore {
  const db = new Database(path)
  db.pragma('journal_mode = WAL')
  db.pragma('busy_timeout = 5000')
  db.exec(`CREATE TABLE IF NOT EXISTS example_user (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL
  )`)
  return {
    async create (username, password) {
      checkNewUser(username, password)
      const hash = await passwords.hash(password)
      try {
        const row = db.prepare('INSERT INTO example_user (username, password_hash) VALUES (?, ?) RETURNING id').get(username, hash) as { id: number }
        return { id: String(row.id), username }
      } catch (err) {
        if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') throw new Error(`username: "${username}" is taken`)
        throw err
      }
    },
    async verify (username, password) {
      return await verifyRow(db.prepare('SELECT id, password_hash FROM example_user WHERE username = ?').get(username) as { id: number, password_hash: string } | undefined, password)
    },
    async find (id) {
      const row = db.prepare('SELECT id, username FROM example_user WHERE id = ?').get(id) as { id: number, username: string } | undefined
      return row === undefined ? null : { id: String(row.id), username: row.username }
    },
    async close () {
      db.close()
    },
  }
}

/** Users in a table of the PostgreSQL database, through the app's pool (which the caller ends). */
async function pgUsers (pool: pg.Pool): Promise<UserStore> {
  const client = await pool.connect()
  try {
    // Two instances starting at once must not race on CREATE TABLE IF NOT EXISTS.
    await client.query('BEGIN')
    await client.query("SELECT pg_advisory_xact_lock(hashtext('example_user'))")
    await client.query(`CREATE TABLE IF NOT EXISTS example_user (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      username text NOT NULL UNIQUE,
      password_hash text NOT NULL
    )`)
    await client.query('COMMIT')
  } catch (err) {
    await client.query('ROLLBACK')
    throw err
  } finally {
    client.release()
  }
  return {
    async create (username, password) {
      checkNewUser(username, password)
      const hash = await passwords.hash(password)
      try {
        const { rows } = await pool.query<{ id: string }>('INSERT INTO example_user (username, password_hash) VALUES ($1, $2) RETURNING id', [username, hash])
        return { id: String(rows[0]?.id), username }
      } catch (err) {
        if ((err as { code?: string }).code === '23505') throw new Error(`username: "${username}" is taken`)
        throw err
      }
    },
    async verify (username, password) {
      const { rows } = await pool.query<{ id: string, password_hash: string }>('SELECT id, password_hash FROM example_user WHERE username = $1', [username])
      return await verifyRow(rows[0], password)
    },
    async find (id) {
      // Ids are digits; anything else (a token's user id from another app) is no user here.
      if (!/^\d{1,18}$/.test(id)) return null
      const { rows } = await pool.query<{ id: string, username: string }>('SELECT id, username FROM example_user WHERE id = $1', [id])
      const row = rows[0]
      return row === undefined ? null : { id: String(row.id), username: row.username }
    },
    async close () {},
  }
}

/** The users of the example database: a SQLite path, or a pg pool on the PostgreSQL database. */
export async function openUserStore (database: string | pg.Pool): Promise<UserStore> {
  return typeof database === 'string' ? sqliteUsers(database) : await pgUsers(database)
}
