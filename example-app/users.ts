// The example app's own users: the resource owners of every OAuth flow. A real app has its own
// user model; the toolkit only needs `verifyUserCredentials` and `loadUser` to reach it.
import Database from 'better-sqlite3'
import { createScryptHasher } from 'fastify-oauth-toolkit'

/** A user of the example app, as protected views see it (`request.resourceOwner`). */
export interface ExampleUser {
  id: string
  username: string
}

const passwords = createScryptHasher({ N: 1 << 16 })

/** Users kept in a table of the example app's SQLite file, passwords hashed with scrypt. */
export class UserStore {
  readonly #db: Database.Database

  constructor (path: string) {
    this.#db = new Database(path)
    this.#db.pragma('journal_mode = WAL')
    this.#db.pragma('busy_timeout = 5000')
    this.#db.exec(`CREATE TABLE IF NOT EXISTS example_user (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      username TEXT NOT NULL UNIQUE,
      password_hash TEXT NOT NULL
    )`)
  }

  /** Creates a user; throws when the name is taken or the input is unusable. */
  async create (username: string, password: string): Promise<ExampleUser> {
    if (!/^[\w.@+-]{1,150}$/.test(username)) throw new Error('username: 1–150 letters, digits and @.+-_ only')
    if (password.length < 8) throw new Error('password: at least 8 characters')
    const hash = await passwords.hash(password)
    try {
      const row = this.#db.prepare('INSERT INTO example_user (username, password_hash) VALUES (?, ?) RETURNING id')
        .get(username, hash) as { id: number }
      return { id: String(row.id), username }
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') throw new Error(`username: "${username}" is taken`)
      throw err
    }
  }

  /** The user's id when the password matches, else `null` (same work either way). */
  async verify (username: string, password: string): Promise<string | null> {
    const row = this.#db.prepare('SELECT id, password_hash FROM example_user WHERE username = ?')
      .get(username) as { id: number, password_hash: string } | undefined
    if (row === undefined) return await passwords.verifyDummy(password).then(() => null)
    return (await passwords.verify(password, row.password_hash)) ? String(row.id) : null
  }

  /** The user with this id, or `null`. */
  async find (id: string): Promise<ExampleUser | null> {
    const row = this.#db.prepare('SELECT id, username FROM example_user WHERE id = ?')
      .get(id) as { id: number, username: string } | undefined
    return row === undefined ? null : { id: String(row.id), username: row.username }
  }

  close (): void {
    this.#db.close()
  }
}
