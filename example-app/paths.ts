// Where the example app keeps its data: DATABASE_URL (a SQLite path or URL, or a postgres:// URL),
// or a SQLite file under example-app/data/.
import { generateKeyPairSync, type KeyObject } from 'node:crypto'
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseDatabaseUrl } from 'fastify-oauth-toolkit/store'

const DATA = join(dirname(fileURLToPath(import.meta.url)), 'data')
const DEFAULT_DATABASE = join(DATA, 'db.sqlite3')

/** Whether the example database is PostgreSQL (several instances can share it). */
export function isPostgresUrl (database: string): boolean {
  return /^postgres(ql)?:\/\//i.test(database)
}

/**
 * The database the example app and its manage script use: a postgres:// URL as given, else a
 * SQLite path (its folder created). Read as the toolkit reads it, so a mistyped scheme
 * (`postgress://`) is an error here too, not a SQLite file of that name.
 */
export function exampleDatabase (env: NodeJS.ProcessEnv = process.env): string {
  const url = env.DATABASE_URL
  if (url === undefined || url === '') {
    mkdirSync(DATA, { recursive: true })
    return DEFAULT_DATABASE
  }
  const parsed = parseDatabaseUrl(url)
  if (parsed.kind === 'postgres') return parsed.url
  if (parsed.path !== ':memory:') mkdirSync(dirname(parsed.path), { recursive: true })
  return parsed.path
}

/**
 * The OpenID Connect RS256 signing key: OIDC_RSA_PRIVATE_KEY (a PEM, as DOT names it), else
 * example-app/data/oidc-key.pem, generated at the first start (`npx fastify-oauth-toolkit
 * generatekey` prints one too). Never commit it; data/ is git-ignored.
 */
export function exampleOidcKey (env: NodeJS.ProcessEnv = process.env, file = join(DATA, 'oidc-key.pem')): string {
  return storedKey(env.OIDC_RSA_PRIVATE_KEY, file, () => generateKeyPairSync('rsa', { modulusLength: 2048 }))
}

/**
 * The ES256 signing key offered beside RS256 (smaller, faster ID tokens for relying parties that
 * ask for them): OIDC_ES256_PRIVATE_KEY, else example-app/data/oidc-es256-key.pem, generated at
 * the first start (`npx fastify-oauth-toolkit generatekey --alg ES256`).
 */
export function exampleEs256Key (env: NodeJS.ProcessEnv = process.env, file = join(DATA, 'oidc-es256-key.pem')): string {
  return storedKey(env.OIDC_ES256_PRIVATE_KEY, file, () => generateKeyPairSync('ec', { namedCurve: 'P-256' }))
}

/** The PEM from the environment, else from `file`, else a new key written there. */
function storedKey (fromEnv: string | undefined, file: string, generate: () => { privateKey: KeyObject }): string {
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv
  try {
    return readFileSync(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  const pem = generate().privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
  mkdirSync(dirname(file), { recursive: true })
  // Written aside, then linked into place: two instances starting at once agree on one key,
  // and neither ever reads a half-written file.
  const aside = `${file}.${process.pid}.tmp`
  writeFileSync(aside, pem, { mode: 0o600 })
  try {
    linkSync(aside, file)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    return readFileSync(file, 'utf8')
  } finally {
    unlinkSync(aside)
  }
  return pem
}
