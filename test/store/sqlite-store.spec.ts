// The SQLite store: the shared Store contract (./contract.ts) plus what only SQLite has: its
// pragmas, its schema as sqlite_master shows it, and connection ownership.
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import t, { type Test } from 'tap'
import { createSqliteStore, DEFAULT_CROSS_PROCESS_CHECK_MS } from '../../lib/store/sqlite/store.js'
import type { Store, StoreInvalidation } from '../../lib/store/types.js'
import { tokenChecksum } from '../../lib/tokens/checksum.js'
import { at, issueOf, newApplication, newGrant, storeContract, T0, type StoreHarness } from './contract.js'

/** A migrated store on a fresh file, a second raw connection to inspect it, and further stores on the same file. */
async function openHarness (t: Test): Promise<StoreHarness> {
  const file = join(t.testdir(), 'store.db')
  const store = createSqliteStore({ database: file, migrate: true })
  const raw = new Database(file)
  const others: Store[] = []
  t.teardown(async () => {
    for (const other of others) await other.close()
    raw.close()
    await store.close()
  })
  return {
    store,
    async openAnother () {
      const other = createSqliteStore({ database: file })
      others.push(other)
      return other
    },
    async query (text, params = []) {
      // `$1, $2, …` become `?`: the contract numbers its placeholders in order of appearance.
      const statement = raw.prepare(text.replace(/\$\d+/g, '?'))
      if (statement.reader) return statement.all(...params) as Array<Record<string, unknown>>
      statement.run(...params)
      return []
    },
    time: (date) => date.getTime(),
  }
}

t.test('connections run in WAL mode with a busy timeout and foreign keys (STORE-2)', async (t) => {
  const file = join(t.testdir(), 'pragmas.db')
  const db = new Database(file)
  const store = createSqliteStore({ database: db, migrate: true })
  t.teardown(async () => { await store.close(); db.close() })
  t.equal(db.pragma('journal_mode', { simple: true }), 'wal')
  t.equal(db.pragma('busy_timeout', { simple: true }), 5000)
  t.equal(db.pragma('foreign_keys', { simple: true }), 1)
  t.equal(db.pragma('synchronous', { simple: true }), 1, 'NORMAL')

  const reader = new Database(file, { readonly: true })
  t.teardown(() => reader.close())
  t.equal(reader.pragma('journal_mode', { simple: true }), 'wal', 'WAL is a property of the file')
})

t.test('the access-token indexes on user, family and grant are partial, and the lookups that need them use them', async (t) => {
  const file = join(t.testdir(), 'partial.db')
  const store = createSqliteStore({ database: file, migrate: true })
  const raw = new Database(file)
  t.teardown(async () => { raw.close(); await store.close() })
  // Client-credentials tokens (no user, family or grant) skip three index writes per issuance (bench/README.md).
  const partial = (raw.pragma('index_list(oauth2_accesstoken)') as Array<{ name: string, partial: number }>)
    .filter((ix) => ix.partial === 1).map((ix) => ix.name).sort()
  t.same(partial, ['oauth2_accesstoken_family_idx', 'oauth2_accesstoken_grant_idx', 'oauth2_accesstoken_user_idx'])
  const plan = (query: string): string => (raw.prepare(`EXPLAIN QUERY PLAN ${query}`).all(1) as Array<{ detail: string }>).map((r) => r.detail).join(' | ')
  // A partial index serves a query only when its WHERE implies the index's `IS NOT NULL`: an equality does.
  t.match(plan('SELECT * FROM oauth2_accesstoken WHERE user_id = ? ORDER BY id'), /USING INDEX oauth2_accesstoken_user_idx \(user_id=\?\)/)
  t.match(plan('DELETE FROM oauth2_accesstoken WHERE token_family = ? RETURNING token_checksum'), /USING COVERING INDEX oauth2_accesstoken_family_idx \(token_family=\?\)/)
  t.match(plan('DELETE FROM oauth2_accesstoken WHERE grant_id = ? RETURNING token_checksum'), /USING COVERING INDEX oauth2_accesstoken_grant_idx \(grant_id=\?\)/)
  // What the grant foreign key's ON DELETE SET NULL runs for each deleted grant (cleartokens deletes expired ones).
  t.match(plan('UPDATE oauth2_accesstoken SET grant_id = NULL WHERE grant_id = ?'), /USING COVERING INDEX oauth2_accesstoken_grant_idx \(grant_id=\?\)/)

  // And the rows behind them: a user's tokens, a family's revocation, a grant's deletion.
  const app = await newApplication(store, { clientId: 'partial' })
  const grant = await store.createGrant(newGrant(app.id, 'partial-code'), new Date())
  await store.issueTokens(issueOf({ applicationId: app.id, token: 'cc' }))
  const coded = await store.issueTokens(issueOf({ applicationId: app.id, token: 'coded', refresh: 'coded-r', userId: 'u1', grantId: grant.id }))
  t.same((await store.listAccessTokensForUser('u1')).map((r) => r.id), [coded.accessToken.id])
  raw.prepare('DELETE FROM oauth2_grant WHERE id = ?').run(grant.id)
  t.equal((await store.findAccessTokenById(coded.accessToken.id))?.grantId, null, 'the grant\'s deletion set grant_id to NULL')
  await store.revokeTokenFamily(coded.accessToken.tokenFamily ?? '', new Date())
  t.equal(await store.findAccessTokenById(coded.accessToken.id), null, 'the family revocation found the token')
  t.ok(await store.findAccessToken(tokenChecksum('cc')), 'the client-credentials token is untouched')
})

t.test('mmapSize sets PRAGMA mmap_size; a bad value is refused before the file is opened', async (t) => {
  const file = join(t.testdir(), 'mmap.db')
  const db = new Database(file)
  const store = createSqliteStore({ database: db, migrate: true, mmapSize: 1 << 20 })
  t.teardown(async () => { await store.close(); db.close() })
  t.equal(db.pragma('mmap_size', { simple: true }), 1 << 20)
  t.throws(() => createSqliteStore({ database: join(t.testdir(), 'never.db'), mmapSize: 1.5 }), { code: 'OAT_ERR_OPTIONS', message: /mmapSize must be a non-negative integer/ })
  t.notOk(existsSync(join(t.testdir(), 'never.db')), 'not created')
})

t.test('crossProcessCheckMs must be a non-negative number of milliseconds', async (t) => {
  for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
    t.throws(() => createSqliteStore({ database: join(t.testdir(), 'never.db'), crossProcessCheckMs: bad }), { code: 'OAT_ERR_OPTIONS', message: /crossProcessCheckMs must be a non-negative number/ }, String(bad))
  }
  t.notOk(existsSync(join(t.testdir(), 'never.db')), 'not created')
})

t.test('the schema has the tables, their foreign keys and the lookup indexes', async (t) => {
  const file = join(t.testdir(), 'schema.db')
  const store = createSqliteStore({ database: file, migrate: true })
  const raw = new Database(file)
  t.teardown(async () => { raw.close(); await store.close() })
  const tables = raw.prepare('SELECT name FROM sqlite_master WHERE type = \'table\' AND name LIKE \'oauth2_%\' ORDER BY name').pluck().all()
  t.same(tables, ['oauth2_accesstoken', 'oauth2_application', 'oauth2_client_registration', 'oauth2_devicegrant', 'oauth2_grant', 'oauth2_idtoken', 'oauth2_logout_delivery', 'oauth2_pushed_authorization_request', 'oauth2_refreshtoken', 'oauth2_session', 'oauth2_session_client', 'oauth2_used_jti'])

  const indexes = (table: string): Record<string, { unique: boolean, columns: string[] }> => {
    const out: Record<string, { unique: boolean, columns: string[] }> = {}
    for (const ix of raw.pragma(`index_list(${table})`) as Array<{ name: string, unique: number, origin: string }>) {
      if (ix.origin === 'pk') continue
      const columns = (raw.pragma(`index_info(${ix.name})`) as Array<{ name: string }>).map((c) => c.name)
      out[ix.name] = { unique: ix.unique === 1, columns }
    }
    return out
  }
  t.match(indexes('oauth2_application'), {
    oauth2_application_client_id_uq: { unique: true, columns: ['client_id'] },
    oauth2_application_user_idx: { unique: false, columns: ['user_id'] },
  })
  t.match(indexes('oauth2_accesstoken'), {
    oauth2_accesstoken_checksum_uq: { unique: true, columns: ['token_checksum'] },
    oauth2_accesstoken_expires_idx: { columns: ['expires'] },
    oauth2_accesstoken_user_idx: { columns: ['user_id'] },
    oauth2_accesstoken_family_idx: { columns: ['token_family'] },
    oauth2_accesstoken_grant_idx: { columns: ['grant_id'] },
  })
  t.match(indexes('oauth2_refreshtoken'), {
    oauth2_refreshtoken_checksum_uq: { unique: true, columns: ['token_checksum'] },
    oauth2_refreshtoken_access_token_uq: { unique: true, columns: ['access_token_id'] },
    oauth2_refreshtoken_family_idx: { columns: ['token_family'] },
    oauth2_refreshtoken_revoked_idx: { columns: ['revoked'] },
    oauth2_refreshtoken_created_idx: { columns: ['created'] },
  })
  t.match(indexes('oauth2_grant'), {
    oauth2_grant_code_checksum_uq: { unique: true, columns: ['code_checksum'] },
    oauth2_grant_expires_idx: { columns: ['expires'] },
  })
  t.match(indexes('oauth2_devicegrant'), {
    oauth2_devicegrant_device_code_uq: { unique: true, columns: ['device_code_checksum'] },
    oauth2_devicegrant_user_code_uq: { unique: true, columns: ['user_code_checksum'] },
    oauth2_devicegrant_expires_idx: { columns: ['expires'] },
  })
  t.match(indexes('oauth2_idtoken'), {
    oauth2_idtoken_jti_uq: { unique: true, columns: ['jti'] },
    oauth2_idtoken_expires_idx: { columns: ['expires'] },
  })

  const fks = (table: string) => (raw.pragma(`foreign_key_list(${table})`) as Array<{ table: string, from: string, on_delete: string }>)
    .map((fk) => `${fk.from}->${fk.table}:${fk.on_delete}`).sort()
  t.same(fks('oauth2_accesstoken'), [
    'application_id->oauth2_application:CASCADE', 'grant_id->oauth2_grant:SET NULL', 'id_token_id->oauth2_idtoken:CASCADE',
  ])
  t.same(fks('oauth2_refreshtoken'), [
    'access_token_id->oauth2_accesstoken:SET NULL', 'application_id->oauth2_application:CASCADE', 'session_id->oauth2_session:SET NULL',
  ])
  t.same(fks('oauth2_grant'), ['application_id->oauth2_application:CASCADE', 'session_id->oauth2_session:SET NULL'])
  t.same(fks('oauth2_session_client'), ['application_id->oauth2_application:CASCADE', 'session_id->oauth2_session:CASCADE'])
  t.same(fks('oauth2_logout_delivery'), ['application_id->oauth2_application:CASCADE'])
  t.same(fks('oauth2_idtoken'), ['application_id->oauth2_application:CASCADE'])
  t.same(fks('oauth2_devicegrant'), ['application_id->oauth2_application:CASCADE'])
  t.same(fks('oauth2_client_registration'), ['application_id->oauth2_application:CASCADE'])
  t.same(fks('oauth2_pushed_authorization_request'), ['application_id->oauth2_application:CASCADE'])
})

t.test('close() closes a connection the store opened, not one it was given', async (t) => {
  const dir = t.testdir()
  const given = new Database(join(dir, 'given.db'))
  t.teardown(() => given.close())
  const adopted = createSqliteStore({ database: given, migrate: true })
  await adopted.close()
  t.ok(given.open)
  t.ok(await adopted.listApplications(), 'still usable through the open connection')

  const owned = createSqliteStore({ database: join(dir, 'owned.db'), migrate: true })
  await owned.close()
  await t.rejects(owned.listApplications(), /not open/)
})

storeContract(t, openHarness)

t.test('a writer waiting for another connection\'s write lock waits asynchronously: the event loop keeps running (cleartokens, G5)', async (t) => {
  const file = join(t.testdir(), 'busy.db')
  const store = createSqliteStore({ database: file, migrate: true })
  const other = new Database(file)
  t.teardown(async () => { other.close(); await store.close() })
  const app = await newApplication(store, { clientId: 'busy' })
  other.exec('BEGIN IMMEDIATE')
  let ticks = 0
  const ticker = setInterval(() => { ticks++ }, 5)
  let settled = false
  const issuing = store.issueTokens({
    accessToken: { checksum: 'c'.repeat(64), applicationId: app.id, userId: null, scope: 'read', expiresAt: new Date(Date.now() + 60_000), tokenFamily: null, grantId: null, resource: '' },
    refreshToken: null,
    now: new Date(),
  })
  issuing.then(() => { settled = true }, () => { settled = true })
  // Waits for the ticks rather than for a fixed time (a loaded machine may run few of them in
  // 100 ms): a writer that blocked the event loop in the busy handler would let them run only
  // after it had given up or written, so the writer must still be pending when they have run.
  for (let waited = 0; waited < 200; waited++) {
    if (ticks >= 5) break
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  t.ok(ticks >= 5, `the event loop ran (${ticks} ticks)`)
  t.notOk(settled, 'while the writer still waited for the lock')
  other.exec('COMMIT')
  const rows = await issuing
  clearInterval(ticker)
  t.equal(rows.accessToken.checksum, 'c'.repeat(64), 'then it wrote')
})

t.test('clearExpired turns automatic WAL checkpoints off while it runs (it checkpoints between batches), restores the setting, and reports each batch', async (t) => {
  const file = join(t.testdir(), 'checkpoints.db')
  const db = new Database(file)
  // SQLite's own checkpoints (the worker thread's case: test/store/sqlite-checkpointer.spec.ts).
  const store = createSqliteStore({ database: db, migrate: true, backgroundCheckpoint: false })
  t.teardown(async () => { await store.close(); db.close() })
  db.pragma('wal_autocheckpoint = 321')
  const app = await newApplication(store, { clientId: 'expired' })
  const insert = db.prepare(`INSERT INTO oauth2_accesstoken (token_checksum, application_id, user_id, scope, expires, token_family, grant_id, id_token_id, resource, created, updated)
    VALUES (?, ?, NULL, 'read', 0, NULL, NULL, NULL, '', 0, 0)`)
  db.transaction(() => { for (let i = 0; i < 1200; i++) insert.run(`expired-${i}`, app.id) })()
  const during: number[] = []
  const reported: number[] = []
  const counts = await store.clearExpired({
    now: new Date(),
    revokedBefore: null,
    refreshCreatedBefore: null,
    batchSize: 400,
    betweenBatches: async () => { during.push(Number(db.pragma('wal_autocheckpoint', { simple: true }))) },
    onBatchDone: (batch) => { reported.push(batch.rows); t.ok(batch.lockMs >= 0) },
  })
  t.equal(counts.accessTokens, 1200)
  t.equal(reported.reduce((a, b) => a + b, 0), 1200, 'every batch reported, with its rows')
  t.ok(during.length >= 2, 'several batches')
  t.same([...new Set(during)], [0], 'off during the run')
  t.equal(db.pragma('wal_autocheckpoint', { simple: true }), 321, 'restored afterwards')
  const [state] = db.pragma('wal_checkpoint(PASSIVE)') as Array<{ log: number, checkpointed: number }>
  t.equal(state?.checkpointed, state?.log, 'nothing left in the WAL to copy')
})

/** One event-loop iteration: a store with `crossProcessCheckMs: 0` looks for other connections' commits once per iteration. */
async function nextIteration (): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve))
}

/**
 * Two stores on one fresh file (two processes, as far as SQLite can tell) and a host's own raw
 * connection. B, the one listened to, looks for other connections' commits at every iteration
 * (`crossProcessCheckMs: 0`); the default period is tested on its own.
 */
async function twoStores (t: Test, name: string): Promise<{ a: Store, b: Store, raw: Database.Database, heardByB: (action: () => unknown) => Promise<StoreInvalidation[]> }> {
  const file = join(t.testdir(), name)
  const a = createSqliteStore({ database: file, migrate: true })
  const b = createSqliteStore({ database: file, crossProcessCheckMs: 0 })
  const raw = new Database(file)
  raw.pragma('foreign_keys = ON')
  t.teardown(async () => { raw.close(); await b.close(); await a.close() })
  const events: StoreInvalidation[] = []
  t.teardown(b.watchInvalidations((event) => { events.push(event) }))
  return {
    a,
    b,
    raw,
    /** What B reports of `action` (another connection's work) at its next check. */
    async heardByB (action) {
      b.invalidationsReliable()
      await nextIteration()
      events.length = 0
      await action()
      await nextIteration()
      t.ok(b.invalidationsReliable())
      return [...events]
    },
  }
}

for (const [label, period] of [['200 ms', 200], ['the default', undefined]] as const) {
  t.test(`crossProcessCheckMs ${label}: one look covers that long; the first check after it reports what another connection committed`, async (t) => {
    const file = join(t.testdir(), 'period.db')
    const a = createSqliteStore({ database: file, migrate: true })
    const PERIOD = period ?? DEFAULT_CROSS_PROCESS_CHECK_MS
    const b = createSqliteStore({ database: file, ...(period === undefined ? {} : { crossProcessCheckMs: period }) })
    t.teardown(async () => { await b.close(); await a.close() })
    const events: StoreInvalidation[] = []
    t.teardown(b.watchInvalidations((event) => { events.push(event) }))
    const app = await newApplication(a, { clientId: 'period' })
    await a.issueTokens(issueOf({ applicationId: app.id, token: 'period-token' }))
    const row = await a.findAccessToken(tokenChecksum('period-token'))
    // The clock is read before the look, so the period measured here is never shorter than the
    // store's own (which starts when the look does): a stall anywhere after it only makes the
    // guard below skip the assertion, never makes it assert after the period ended.
    const lookedAt = performance.now()
    const looked = b.invalidationsReliable()
    t.ok(looked, 'B looks')
    events.length = 0
    await a.revokeAccessToken(row?.id ?? 0, T0)
    await nextIteration()
    const reliable = b.invalidationsReliable()
    const seen = [...events]
    // Only meaningful while the period lasts; a machine stalled past it would have looked again.
    const withinPeriod = performance.now() - lookedAt < PERIOD
    t.ok(reliable)
    if (withinPeriod) t.same(seen, [], 'within the period: not looked for again')
    await new Promise((resolve) => setTimeout(resolve, PERIOD + 10))
    t.ok(b.invalidationsReliable())
    t.same(events, [{ kind: 'tokens', checksums: [tokenChecksum('period-token')] }], 'after it: the revoked token is reported')
  })
}

const ALL: StoreInvalidation[] = [{ kind: 'all' }]
/** The `tokens` event naming exactly these tokens. */
const TOKENS = (...tokens: string[]): StoreInvalidation[] => [{ kind: 'tokens', checksums: tokens.map((token) => tokenChecksum(token)) }]

t.test('another connection\'s commits: B reports the tokens deleted or changed, and `all` only for an application (state row and log, migrations 0007 and 0008)', async (t) => {
  const { a, raw, heardByB } = await twoStores(t, 'state.db')
  const app = await newApplication(a, { clientId: 'state' })
  const live = await a.issueTokens(issueOf({ applicationId: app.id, token: 'live', refresh: 'live-r', expiresAt: at(7200) }))
  await a.issueTokens(issueOf({ applicationId: app.id, token: 'other', expiresAt: at(7200) }))

  t.same(await heardByB(async () => await a.issueTokens(issueOf({ applicationId: app.id, token: 'issued', refresh: 'issued-r' }))), [], 'tokens issued: nothing')
  t.same(await heardByB(async () => await a.createGrant(newGrant(app.id, 'state-code'), T0)), [], 'a grant created: nothing')
  t.same(await heardByB(() => raw.prepare('UPDATE oauth2_refreshtoken SET revoked = 1 WHERE token_checksum = ?').run(tokenChecksum('issued-r'))), [], 'a refresh token revoked by SQL: nothing')
  t.same(await heardByB(() => raw.prepare('DELETE FROM oauth2_grant').run()), [], 'grants deleted by SQL (their tokens\' grant_id set to NULL): nothing')
  t.same(await heardByB(() => raw.prepare('UPDATE oauth2_accesstoken SET updated = 5').run()), [], 'an access-token column no cache holds: nothing')

  t.same(await heardByB(async () => { await a.revokeAccessToken(live.accessToken.id, at(1)) }), TOKENS('live'), 'a revocation through the store: that token')
  t.same(await heardByB(() => raw.prepare('DELETE FROM oauth2_accesstoken WHERE token_checksum = ?').run(tokenChecksum('other'))), TOKENS('other'), 'a token deleted by SQL: that token')
  t.same(await heardByB(() => raw.prepare('UPDATE oauth2_accesstoken SET scope = \'read write\' WHERE token_checksum = ?').run(tokenChecksum('issued'))), TOKENS('issued'),
    'a token\'s scope changed by SQL: that token')
  t.same(await heardByB(() => raw.prepare('UPDATE oauth2_accesstoken SET expires = 0 WHERE token_checksum = ?').run(tokenChecksum('issued'))), TOKENS('issued'), 'a token expired by SQL: that token')
  t.same(await heardByB(() => raw.prepare('UPDATE oauth2_accesstoken SET token_checksum = ? WHERE token_checksum = ?').run(tokenChecksum('renamed'), tokenChecksum('issued'))),
    TOKENS('issued', 'renamed'), 'a token\'s checksum changed by SQL: the old and the new one')
  t.same(await heardByB(() => raw.prepare('DELETE FROM oauth2_accesstoken WHERE token_checksum = ?').run(tokenChecksum('renamed'))), TOKENS('renamed'),
    'an expired token deleted by SQL outside clearExpired: that token')
  t.same(await heardByB(() => raw.prepare('UPDATE oauth2_application SET name = \'Renamed\' WHERE id = ?').run(app.id)), ALL, 'an application changed by SQL: all')
  t.same(await heardByB(() => raw.prepare('UPDATE oauth_cache_state SET clearing_before = 9e15').run()), [], 'the state row\'s clearing_before changed alone: nothing')
  t.same(await heardByB(() => raw.prepare('DELETE FROM oauth2_application WHERE id = ?').run(app.id)), ALL,
    'an application deleted by SQL: all (even with a bogus clearing_before left by a host)')
})

t.test('another connection\'s clearExpired: B reports `expired` with its bound, never `all`, in every batch', async (t) => {
  const { a, raw, heardByB } = await twoStores(t, 'clear.db')
  const app = await newApplication(a, { clientId: 'clear' })
  const insert = raw.prepare(`INSERT INTO oauth2_accesstoken (token_checksum, application_id, user_id, scope, expires, token_family, grant_id, id_token_id, resource, created, updated)
    VALUES (?, ?, NULL, 'read', ?, NULL, NULL, NULL, '', 0, 0)`)
  raw.transaction(() => { for (let i = 0; i < 300; i++) insert.run(`expired-${i}`, app.id, at(i).getTime()) })()
  await a.issueTokens(issueOf({ applicationId: app.id, token: 'kept', expiresAt: at(7200) }))
  const batches: number[] = []
  t.same(await heardByB(async () => {
    await a.clearExpired({ now: at(3600), revokedBefore: null, refreshCreatedBefore: null, batchSize: 100, onBatchDone: (batch) => { batches.push(batch.rows) } })
  }), [{ kind: 'expired', before: at(3600) }])
  // Three batches of 100 on an idle machine; the size adapts to the time a batch holds the lock,
  // so a loaded machine cuts them smaller: the count of batches is what the state row must match.
  t.equal(batches.reduce((sum, rows) => sum + rows, 0), 300, 'every expired token deleted')
  t.ok(batches.length >= 3 && batches.every((rows) => rows <= 100), `batches of at most batchSize, one commit each: ${batches.join(', ')}`)
  t.same(raw.prepare('SELECT clearing_before, cleared_before, clear_batches FROM oauth_cache_state').get(), { clearing_before: 0, cleared_before: at(3600).getTime(), clear_batches: batches.length },
    'clearing_before is back to 0 at each batch\'s end; each batch counted')
  t.equal(raw.prepare('SELECT count(*) FROM oauth_cache_log').pluck().get(), 0, 'the expired tokens it deleted were not logged')
  await a.issueTokens(issueOf({ applicationId: app.id, token: 'old-bound', expiresAt: at(1) }))
  t.same(await heardByB(async () => {
    await a.clearExpired({ now: at(60), revokedBefore: null, refreshCreatedBefore: null, batchSize: 100 })
  }), [{ kind: 'expired', before: at(3600) }], 'a later run with an earlier bound (a clock behind): cleared_before keeps the largest bound, a superset')
})

t.test('another connection\'s clearExpired, B checking between its batches: each batch reports `expired`', async (t) => {
  const { a, b, heardByB } = await twoStores(t, 'clear-each.db')
  const app = await newApplication(a, { clientId: 'clear-each' })
  for (let i = 0; i < 3; i++) await a.issueTokens(issueOf({ applicationId: app.id, token: `each-${i}`, expiresAt: at(i) }))
  let batches = 0
  t.same(await heardByB(async () => {
    await a.clearExpired({
      now: at(10),
      revokedBefore: null,
      refreshCreatedBefore: null,
      batchSize: 1,
      betweenBatches: async () => { batches++; await nextIteration(); b.invalidationsReliable() },
    })
  }), [{ kind: 'expired', before: at(10) }, { kind: 'expired', before: at(10) }, { kind: 'expired', before: at(10) }])
  t.equal(batches, 3, 'B checked after each of the three batches')
})

t.test('a store does not mistake its own changes of the state row for another connection\'s', async (t) => {
  const { b: own, raw, heardByB } = await twoStores(t, 'own.db')
  const app = await newApplication(own, { clientId: 'own' })
  const rows = await own.issueTokens(issueOf({ applicationId: app.id, token: 'own-a' }))
  await own.revokeAccessToken(rows.accessToken.id, at(1))
  await own.updateApplication(app.id, { name: 'Own' }, at(2))
  await own.clearExpired({ now: at(7200), revokedBefore: null, refreshCreatedBefore: null, batchSize: 10 })
  t.same(raw.prepare('SELECT generation FROM oauth_cache_state').pluck().get(), 1, 'its update moved the generation')
  t.same(raw.prepare('SELECT token_checksum FROM oauth_cache_log').pluck().all(), [tokenChecksum('own-a')], 'its revocation is in the log')
  t.same(await heardByB(() => raw.prepare('INSERT INTO oauth2_grant (code_checksum, application_id, user_id, expires, redirect_uri, auth_time, created, updated) VALUES (\'x\', ?, \'u\', 0, \'r\', 0, 0, 0)').run(app.id)), [],
    'then another connection inserts: nothing (its own changes were reported when made)')
})

t.test('without the state row or its triggers, every commit of another connection reports `all`, as before migration 0007', async (t) => {
  const { raw, heardByB } = await twoStores(t, 'dropped.db')
  const insertGrant = (code: string) => () => raw.prepare('INSERT INTO oauth2_grant (code_checksum, application_id, user_id, expires, redirect_uri, auth_time, created, updated) VALUES (?, 1, \'u\', 0, \'r\', 0, 0, 0)').run(code)
  raw.prepare('INSERT INTO oauth2_application (client_id, client_type, authorization_grant_type, created, updated) VALUES (\'d\', \'public\', \'password\', 0, 0)').run()
  t.same(await heardByB(insertGrant('g1')), [], 'with them: an insert changes nothing')
  t.same(await heardByB(() => raw.exec('DROP TRIGGER oauth_cache_log_accesstoken_delete')), ALL, 'a trigger dropped: all')
  t.same(await heardByB(insertGrant('g2')), ALL, 'and every commit after it')
  // No triggers and no tables, as before 0007 (the triggers write the tables: they cannot go alone).
  const dropRest = 'DROP TRIGGER oauth_cache_log_accesstoken_update; DROP TABLE oauth_cache_log; DROP TRIGGER oauth_cache_application_update; DROP TRIGGER oauth_cache_application_delete; DROP TABLE oauth_cache_state'
  t.same(await heardByB(() => raw.exec(dropRest)), ALL, 'the other triggers and the tables dropped: all')
  t.same(await heardByB(insertGrant('g3')), ALL, 'and every commit after it')

  // A store opened on such a database (its journal says 0007 was applied) does the same.
  const later = createSqliteStore({ database: raw.name, crossProcessCheckMs: 0 })
  t.teardown(async () => { await later.close() })
  const events: StoreInvalidation[] = []
  t.teardown(later.watchInvalidations((event) => { events.push(event) }))
  later.invalidationsReliable()
  await nextIteration()
  insertGrant('g4')()
  t.ok(later.invalidationsReliable())
  t.same(events, ALL)
  raw.prepare('INSERT INTO oauth2_accesstoken (token_checksum, application_id, scope, expires, resource, created, updated) VALUES (\'gone\', 1, \'read\', 0, \'\', 0, 0)').run()
  t.match(await later.clearExpired({ now: at(1), revokedBefore: null, refreshCreatedBefore: null, batchSize: 10 }), { accessTokens: 1 }, 'clearExpired runs without the table')
})

t.test('another connection\'s rotation and family revocation: B reports exactly the access tokens they removed (log, migration 0008)', async (t) => {
  const { a, heardByB } = await twoStores(t, 'rotate.db')
  const app = await newApplication(a, { clientId: 'rotate' })
  const first = await a.issueTokens(issueOf({ applicationId: app.id, token: 'first', refresh: 'first-r', expiresAt: at(7200) }))
  await a.issueTokens(issueOf({ applicationId: app.id, token: 'bystander', expiresAt: at(7200) }))
  t.same(await heardByB(async () => {
    t.match(await a.rotateRefreshToken(first.refreshToken?.id ?? 0, null, issueOf({ applicationId: app.id, token: 'second', refresh: 'second-r', family: 'family-first-r', expiresAt: at(7200) })), { ok: true })
  }), TOKENS('first'), 'a rotation: the old access token only')
  await a.issueTokens(issueOf({ applicationId: app.id, token: 'sibling', family: 'family-first-r', expiresAt: at(7200) }))
  t.same(await heardByB(async () => { await a.revokeTokenFamily('family-first-r', at(2)) }), TOKENS('second', 'sibling'), 'a family revoked: its access tokens only')
})

t.test('many revocations by other connections between two checks: B reports every one of them', async (t) => {
  const { a, raw, heardByB } = await twoStores(t, 'many.db')
  const app = await newApplication(a, { clientId: 'many' })
  const ids: number[] = []
  for (let i = 0; i < 60; i++) ids.push((await a.issueTokens(issueOf({ applicationId: app.id, token: `many-${i}`, expiresAt: at(7200) }))).accessToken.id)
  const events = await heardByB(async () => {
    // Concurrent revocations in A (group commit shares transactions) and a host's deletes, interleaved.
    await Promise.all(ids.slice(0, 40).map(async (id) => { await a.revokeAccessToken(id, at(1)) }))
    for (let i = 40; i < 50; i++) raw.prepare('DELETE FROM oauth2_accesstoken WHERE token_checksum = ?').run(tokenChecksum(`many-${i}`))
    await Promise.all(ids.slice(50, 55).map(async (id) => { await a.revokeAccessToken(id, at(1)) }))
  })
  t.same(events.map((event) => event.kind), ['tokens'])
  const heard = new Set(events.flatMap((event) => event.kind === 'tokens' ? event.checksums : []))
  t.same([...heard].sort(), Array.from({ length: 55 }, (_, i) => tokenChecksum(`many-${i}`)).sort(), 'the 55 removed, and only those')
})

t.test('a store\'s own write reports what others logged since its last check; its own entries are adopted', async (t) => {
  const events: StoreInvalidation[] = []
  const { a, b, raw } = await twoStores(t, 'adopt.db')
  t.teardown(b.watchInvalidations((event) => { events.push(event) }))
  const app = await newApplication(a, { clientId: 'adopt' })
  const byA = await a.issueTokens(issueOf({ applicationId: app.id, token: 'by-a', expiresAt: at(7200) }))
  const byB = await b.issueTokens(issueOf({ applicationId: app.id, token: 'by-b', expiresAt: at(7200) }))
  b.invalidationsReliable()
  await nextIteration()
  events.length = 0
  await a.revokeAccessToken(byA.accessToken.id, at(1))
  // B does not check; its next transaction notices A's commit before its own COMMIT.
  await b.revokeAccessToken(byB.accessToken.id, at(1))
  t.same(events, [...TOKENS('by-a', 'by-b'), ...TOKENS('by-b')], 'what the log holds since its last position (A\'s, and its own), then its own removal again')
  events.length = 0
  const ownAlone = await b.issueTokens(issueOf({ applicationId: app.id, token: 'own-alone', expiresAt: at(7200) }))
  await b.revokeAccessToken(ownAlone.accessToken.id, at(1))
  t.same(events, TOKENS('own-alone'), 'nobody else committed: its own removal, once')
  events.length = 0
  raw.prepare('INSERT INTO oauth2_grant (code_checksum, application_id, user_id, expires, redirect_uri, auth_time, created, updated) VALUES (\'x\', ?, \'u\', 0, \'r\', 0, 0, 0)').run(app.id)
  await nextIteration()
  t.ok(b.invalidationsReliable())
  t.same(events, [], 'another connection\'s insert later: its own entry is not reported again')
})

t.test('the log is pruned by the stores\' writes; a connection that had not read the pruned entries reports `all`, one that had reads on', async (t) => {
  const { a, raw, heardByB } = await twoStores(t, 'prune.db')
  const app = await newApplication(a, { clientId: 'prune' })
  const behind = createSqliteStore({ database: raw.name, crossProcessCheckMs: 0 })
  t.teardown(async () => { await behind.close() })
  const behindEvents: StoreInvalidation[] = []
  t.teardown(behind.watchInvalidations((event) => { behindEvents.push(event) }))
  behind.invalidationsReliable()
  await nextIteration()

  // 11,001 access tokens deleted (rows inserted and deleted by the host: the triggers log them).
  const count = 11_001
  const addAndDelete = (): void => {
    raw.exec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${count})
      INSERT INTO oauth2_accesstoken (token_checksum, application_id, scope, expires, resource, created, updated) SELECT 'gone-' || i, ${app.id}, 'read', 9e15, '', 0, 0 FROM n`)
    raw.exec('DELETE FROM oauth2_accesstoken')
  }
  const heard = await heardByB(addAndDelete)
  t.equal(heard.length, 1)
  t.equal(heard[0]?.kind === 'tokens' ? heard[0].checksums.length : 0, count, 'B kept up: every checksum, one event')
  t.equal(raw.prepare('SELECT count(*) FROM oauth_cache_log').pluck().get(), count, 'nothing pruned yet')

  t.same(await heardByB(async () => await a.issueTokens(issueOf({ applicationId: app.id, token: 'prunes', expiresAt: at(7200) }))), [],
    'A\'s next write prunes the log: B had read the pruned entries, nothing to report')
  t.same(raw.prepare('SELECT count(*) AS kept, min(seq) AS first FROM oauth_cache_log').get(), { kept: 10_000, first: count - 10_000 + 1 }, 'the newest 10,000 kept')
  t.equal(raw.prepare('SELECT log_pruned_through FROM oauth_cache_state').pluck().get(), count - 10_000)

  t.ok(behind.invalidationsReliable())
  t.same(behindEvents, ALL, 'a connection that had not read the pruned entries: all, never a partial list')
  behindEvents.length = 0
  raw.prepare('DELETE FROM oauth2_application WHERE id = -1').run()
  await nextIteration()
  t.ok(behind.invalidationsReliable())
  t.same(behindEvents, [], 'then it reads on from the log\'s end')
})

t.test('log entries deleted by a host before B read them: B reports `all`', async (t) => {
  const { a, raw, heardByB } = await twoStores(t, 'host-prune.db')
  const app = await newApplication(a, { clientId: 'host-prune' })
  await a.issueTokens(issueOf({ applicationId: app.id, token: 'hp', expiresAt: at(7200) }))
  t.same(await heardByB(() => {
    raw.prepare('DELETE FROM oauth2_accesstoken WHERE token_checksum = ?').run(tokenChecksum('hp'))
    raw.exec('DELETE FROM oauth_cache_log')
  }), ALL)
  await a.issueTokens(issueOf({ applicationId: app.id, token: 'hp2', expiresAt: at(7200) }))
  t.same(await heardByB(() => raw.prepare('DELETE FROM oauth2_accesstoken WHERE token_checksum = ?').run(tokenChecksum('hp2'))), TOKENS('hp2'))
  t.same(await heardByB(() => raw.exec('DELETE FROM oauth_cache_log')), [], 'deleting entries already read: nothing')
  t.equal(raw.prepare('SELECT log_pruned_through FROM oauth_cache_state').pluck().get(), 2, 'the log\'s trigger raised log_pruned_through to the last seq deleted')
})
