// Fixture databases for the benchmark: clients and codes through the library, tokens in bulk.
import { copyFileSync } from 'node:fs'
import { createHash, hash } from 'node:crypto'
import Database from 'better-sqlite3'
import { createSqliteStore } from '../entries/sqlite.js'
import { createOAuthServer } from '../entries/core.js'
import type { Store } from '../entries/store.js'
import { tokenChecksum } from '../lib/tokens/checksum.js'

/** Redirect URI registered for the authorization-code client. */
export const REDIRECT_URI = 'http://127.0.0.1:9/callback'
/** One PKCE verifier for every seeded code (RFC 7636 §4.1: 43–128 characters). */
export const CODE_VERIFIER = 'bench-verifier-0123456789abcdefghijklmnopqrstuvwxyz'

/** A confidential client and its clear secret. */
export interface BenchClient {
  readonly id: number
  readonly clientId: string
  /** `Authorization: Basic …` (client_secret_basic). */
  readonly basic: string
}

/** The clients every fixture database holds. */
export interface BenchClients {
  /** client-credentials client; also the resource server that introspects. */
  readonly service: BenchClient
  /** authorization-code client (codes are seeded for it). */
  readonly webapp: BenchClient
  /** client-credentials client used only for the first-burst measurement (its secret is verified nowhere before). */
  readonly cold: BenchClient
}

/** Clear access token number `i` of a seeded set (deterministic, so no list is kept). */
export function accessTokenValue (set: string, i: number): string {
  return `bench-${set}-${i}`
}

/** Clear authorization code number `i`. */
export function codeValue (i: number): string {
  return `bench-code-${i}`
}

function basicAuth (clientId: string, secret: string): string {
  // RFC 6749 §2.3.1: both parts are form-urlencoded before base64.
  return 'Basic ' + Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')
}

/**
 * Registers the bench's clients through the library (generated secrets, hashed with scrypt) in
 * a migrated store: the same clients on every dialect.
 */
export async function registerClients (store: Store): Promise<BenchClients> {
  const server = createOAuthServer({ store })
  const service = await server.createApplication({ clientId: 'bench-service', clientType: 'confidential', authorizationGrantType: 'client-credentials' })
  const webapp = await server.createApplication({
    clientId: 'bench-webapp', clientType: 'confidential', authorizationGrantType: 'authorization-code', redirectUris: [REDIRECT_URI],
  })
  const cold = await server.createApplication({ clientId: 'bench-cold', clientType: 'confidential', authorizationGrantType: 'client-credentials' })
  const client = (c: typeof service): BenchClient => ({ id: c.application.id, clientId: c.application.clientId, basic: basicAuth(c.application.clientId, c.clientSecret ?? '') })
  return { service: client(service), webapp: client(webapp), cold: client(cold) }
}

/**
 * Migrates a database at `paths[0]`, registers the clients and copies the file to the other
 * paths, so every fixture shares the same clients.
 */
export async function createClientDatabases (paths: readonly string[]): Promise<BenchClients> {
  const [first, ...others] = paths
  if (first === undefined) throw new Error('no database path')
  const store = createSqliteStore({ database: first, migrate: true })
  let clients: BenchClients
  try {
    clients = await registerClients(store)
  } finally {
    await store.close() // the last connection checkpoints and removes the WAL, so the file copies whole
  }
  for (const path of others) copyFileSync(first, path)
  return clients
}

/** A set of access tokens to insert in bulk. */
export interface TokenSet {
  readonly set: string
  readonly count: number
  readonly expiresAt: Date
}

/**
 * Inserts access tokens straight into `oauth2_accesstoken` with one prepared statement in one
 * transaction (the store has no bulk API; 1M store calls would take minutes). Rows go in
 * checksum order, so every index grows by appends; the server opens the file in WAL mode again.
 * Returns the seconds it took.
 */
export function seedAccessTokens (path: string, applicationId: number, sets: readonly TokenSet[]): number {
  const started = performance.now()
  // node:crypto's one-shot hash is ~2× faster than createHash; check it still matches the toolkit's checksum.
  const checksum = (token: string): string => hash('sha256', token, 'hex')
  if (checksum('x') !== tokenChecksum('x')) throw new Error('the bench checksum no longer matches lib/tokens/checksum.ts')
  const rows: Array<[string, number]> = []
  for (const s of sets) for (let i = 0; i < s.count; i++) rows.push([checksum(accessTokenValue(s.set, i)), s.expiresAt.getTime()])
  rows.sort((a, b) => a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)
  const db = new Database(path)
  try {
    // Fixture preparation only: no WAL, no fsync.
    db.pragma('journal_mode = DELETE')
    db.pragma('synchronous = OFF')
    db.pragma('cache_size = -131072')
    const insert = db.prepare(`INSERT INTO oauth2_accesstoken
      (token_checksum, application_id, user_id, scope, expires, token_family, grant_id, id_token_id, resource, created, updated)
      VALUES (?, ?, NULL, 'read write', ?, NULL, NULL, NULL, '', ?, ?)`)
    const now = Date.now()
    db.transaction(() => {
      for (const [sum, expires] of rows) insert.run(sum, applicationId, expires, now, now)
    })()
    db.pragma('journal_mode = WAL')
  } finally {
    db.close()
  }
  return (performance.now() - started) / 1000
}

/**
 * Creates `count` authorization codes (PKCE S256, valid for an hour) through the store, one after
 * the other: `codeValue(0)`, `codeValue(1)`, … for the authorization-code client.
 */
export async function createCodes (store: Store, webapp: BenchClient, count: number): Promise<void> {
  const now = new Date()
  const challenge = createHash('sha256').update(CODE_VERIFIER, 'ascii').digest('base64url')
  for (let i = 0; i < count; i++) {
    await store.createGrant({
      checksum: tokenChecksum(codeValue(i)),
      applicationId: webapp.id,
      userId: '1',
      expiresAt: new Date(now.getTime() + 3600_000),
      redirectUri: REDIRECT_URI,
      scope: 'read',
      codeChallenge: challenge,
      codeChallengeMethod: 'S256',
      nonce: '',
      claims: '',
      resource: '',
      authTime: now,
    }, now)
  }
}

/** Seeds `count` authorization codes (PKCE S256, valid for an hour) through the store. */
export async function seedCodes (path: string, webapp: BenchClient, count: number): Promise<void> {
  const raw = new Database(path)
  const store = createSqliteStore({ database: raw })
  try {
    // The store is synchronous underneath: one outer transaction saves a commit per code.
    raw.exec('BEGIN')
    await createCodes(store, webapp, count)
    raw.exec('COMMIT')
  } finally {
    await store.close()
    raw.close()
  }
}
