// The PostgreSQL store: the shared Store contract (./contract.ts) on a database created for this
// file, plus what only PostgreSQL has: its catalog, concurrent migrations, pool ownership, the
// statement count of a family revocation, and the plugin and openStore wiring.
import type pg from 'pg'
import t, { type Test } from 'tap'
import { openStore } from '../../lib/store/open.js'
import { readMigrationFiles } from 'drizzle-orm/migrator'
import { createPgPool, migratePg, PG_MIGRATIONS_FOLDER } from '../../lib/store/pg/open.js'
import { createPgStore } from '../../lib/store/pg/store.js'
import type { Store } from '../../lib/store/types.js'
import { tokenChecksum } from '../../lib/tokens/checksum.js'
import { bulkInsert } from '../../lib/store/pg/bulk-insert.js'
import { accessTokens } from '../../lib/store/pg/schema.js'
import { toAccessToken } from '../../lib/store/shared/mappers.js'
import { ACCESS_TOKEN_UNSET, newAccessTokenToRow } from '../../lib/store/shared/rows.js'
import { basicAuth, buildApp, createApplication, postToken } from '../helpers/index.js'
import { createTestDatabase, databaseUrl, postgresTestDatabase } from '../helpers/postgres.js'
import { at, issueOf, newApplication, storeContract, type StoreHarness } from './contract.js'

/** How many migrations the PostgreSQL journal ships. */

const url = await postgresTestDatabase(t)
if (url !== null) {
  const raw = createPgPool(url, { max: 2 })
  t.teardown(async () => { await raw.end() })
  await migratePg(raw)

  /** Small pools: two of them race 50 requests, and tap runs other files beside this one. */
  const open = async (t: Test, options: { pool?: pg.Pool } = {}): Promise<Store> => {
    const store = await createPgStore(options.pool === undefined ? { connectionString: url, poolConfig: { max: 4 } } : { pool: options.pool })
    t.teardown(async () => { await store.close() })
    return store
  }

  /** The contract's harness: the file's database, emptied for each test. */
  async function openHarness (t: Test): Promise<StoreHarness> {
    await raw.query('TRUNCATE oauth2_used_jti, oauth2_logout_delivery, oauth2_session_client, oauth2_session, oauth2_devicegrant, oauth2_refreshtoken, oauth2_accesstoken, oauth2_idtoken, oauth2_grant, oauth2_application RESTART IDENTITY CASCADE')
    return {
      store: await open(t),
      openAnother: async () => await open(t),
      query: async (text, params = []) => (await raw.query(text, [...params])).rows as Array<Record<string, unknown>>,
      time: (date) => date,
    }
  }

  t.test('the lookups by user, family and grant (and the grant foreign key\'s SET NULL) use the partial indexes', async (t) => {
    const client = await raw.connect()
    t.teardown(() => { client.release() })
    // A tiny table would be read sequentially whatever the indexes: rule that out to see what is usable.
    await client.query('SET enable_seqscan = off')
    const plan = async (query: string): Promise<string> => (await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${query}`, [1])).rows.map((r) => r['QUERY PLAN']).join(' | ')
    t.match(await plan('SELECT * FROM oauth2_accesstoken WHERE user_id = $1::text ORDER BY id'), /oauth2_accesstoken_user_idx/)
    t.match(await plan('DELETE FROM oauth2_accesstoken WHERE token_family = $1::text RETURNING token_checksum'), /oauth2_accesstoken_family_idx/)
    t.match(await plan('DELETE FROM oauth2_accesstoken WHERE grant_id = $1 RETURNING token_checksum'), /oauth2_accesstoken_grant_idx/)
    t.match(await plan('UPDATE oauth2_accesstoken SET grant_id = NULL WHERE grant_id = $1'), /oauth2_accesstoken_grant_idx/, 'what ON DELETE SET NULL runs')
    await client.query('RESET enable_seqscan')
  })

  t.test('a group of plain issuances is one prepared unnest INSERT whose rows read back as drizzle reads them', async (t) => {
    const h = await openHarness(t)
    const app = await newApplication(h.store, { clientId: 'bulk' })
    const rows = [
      { ...newAccessTokenToRow(issueOf({ applicationId: app.id, token: 'bulk-1', scope: 'read "quoted" {braces} ,comma\\ back', now: at(1) }).accessToken, null, at(1)) },
      { ...newAccessTokenToRow({ ...issueOf({ applicationId: app.id, token: 'bulk-2', userId: 'u-2', now: at(2) }).accessToken, jkt: 'thumb', resource: 'https://api.example' }, null, at(2)) },
    ]
    const inserted = await bulkInsert(accessTokens, ACCESS_TOKEN_UNSET).run(raw, rows)
    t.equal(inserted.length, 2)
    for (const row of inserted) {
      const read = await h.store.findAccessToken(row.tokenChecksum)
      t.same(toAccessToken(row), read, 'the same record as a drizzle read: numbers, Dates to the millisecond, NULLs, text with quotes, braces, commas and backslashes')
    }
    t.equal(inserted.find((r) => r.tokenChecksum === tokenChecksum('bulk-1'))?.scope, 'read "quoted" {braces} ,comma\\ back')

    // The store takes this path for concurrent client_credentials-like issuances: on a pool of one
    // connection, that connection has the statement prepared afterwards.
    const pool = createPgPool(url, { max: 1 })
    t.teardown(async () => { await pool.end() })
    const store = await open(t, { pool })
    const issued = await Promise.all(Array.from({ length: 10 }, async (_, i) => await store.issueTokens(issueOf({ applicationId: app.id, token: `group-${i}`, now: at(3) }))))
    t.equal(new Set(issued.map((r) => r.accessToken.id)).size, 10)
    const prepared = await pool.query<{ name: string }>('SELECT name FROM pg_prepared_statements')
    t.ok(prepared.rows.some((r) => r.name === 'oat_bulk_oauth2_accesstoken'), 'the bulk statement served the group')
  })

  t.test('the schema has the tables, millisecond timestamptz columns, the foreign keys and the lookup indexes', async (t) => {
    const tables = await raw.query<{ table_name: string }>("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name LIKE 'oauth2_%' ORDER BY 1")
    t.same(tables.rows.map((r) => r.table_name), ['oauth2_accesstoken', 'oauth2_application', 'oauth2_client_registration', 'oauth2_devicegrant', 'oauth2_grant', 'oauth2_idtoken', 'oauth2_logout_delivery', 'oauth2_pushed_authorization_request', 'oauth2_refreshtoken', 'oauth2_session', 'oauth2_session_client', 'oauth2_used_jti'])

    const times = await raw.query<{ name: string, type: string, precision: number }>(`SELECT table_name || '.' || column_name AS name, data_type AS type, datetime_precision AS precision
      FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'oauth2_grant' AND column_name IN ('expires', 'consumed_at') ORDER BY 1`)
    t.same(times.rows, [
      { name: 'oauth2_grant.consumed_at', type: 'timestamp with time zone', precision: 3 },
      { name: 'oauth2_grant.expires', type: 'timestamp with time zone', precision: 3 },
    ])

    const indexes = await raw.query<{ indexname: string, indexdef: string }>("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'")
    const index = (name: string): string => indexes.rows.find((r) => r.indexname === name)?.indexdef ?? `(no index ${name})`
    t.match(index('oauth2_application_client_id_uq'), /^CREATE UNIQUE INDEX .* \(client_id\)$/)
    t.match(index('oauth2_accesstoken_checksum_uq'), /^CREATE UNIQUE INDEX .* \(token_checksum\)$/)
    t.match(index('oauth2_refreshtoken_checksum_uq'), /^CREATE UNIQUE INDEX .* \(token_checksum\)$/)
    t.match(index('oauth2_refreshtoken_access_token_uq'), /^CREATE UNIQUE INDEX .* \(access_token_id\) WHERE \(access_token_id IS NOT NULL\)$/)
    t.match(index('oauth2_grant_code_checksum_uq'), /^CREATE UNIQUE INDEX .* \(code_checksum\)$/)
    t.match(index('oauth2_idtoken_jti_uq'), /^CREATE UNIQUE INDEX .* \(jti\)$/)
    t.match(index('oauth2_devicegrant_device_code_uq'), /^CREATE UNIQUE INDEX .* \(device_code_checksum\)$/)
    t.match(index('oauth2_devicegrant_user_code_uq'), /^CREATE UNIQUE INDEX .* \(user_code_checksum\)$/)
    // Partial (migration 0006): client-credentials tokens have no user, family or grant, and skip these.
    for (const [name, column] of [['oauth2_accesstoken_family_idx', 'token_family'], ['oauth2_accesstoken_grant_idx', 'grant_id'], ['oauth2_accesstoken_user_idx', 'user_id']] as const) {
      t.match(index(name), new RegExp(`^CREATE INDEX .* \\(${column}\\) WHERE \\(${column} IS NOT NULL\\)$`), name)
    }
    for (const [name, column] of [
      ['oauth2_accesstoken_expires_idx', 'expires'], ['oauth2_refreshtoken_family_idx', 'token_family'], ['oauth2_refreshtoken_revoked_idx', 'revoked'],
      ['oauth2_refreshtoken_created_idx', 'created'], ['oauth2_grant_expires_idx', 'expires'], ['oauth2_idtoken_expires_idx', 'expires'],
    ] as const) t.match(index(name), new RegExp(`^CREATE INDEX .* \\(${column}\\)$`), name)

    const fks = await raw.query<{ fk: string }>(`SELECT kcu.table_name || '.' || kcu.column_name || '->' || ccu.table_name || ':' || rc.delete_rule AS fk
      FROM information_schema.referential_constraints rc
      JOIN information_schema.key_column_usage kcu ON kcu.constraint_name = rc.constraint_name
      JOIN information_schema.constraint_column_usage ccu ON ccu.constraint_name = rc.constraint_name
      WHERE kcu.table_schema = 'public' ORDER BY 1`)
    t.same(fks.rows.map((r) => r.fk), [
      'oauth2_accesstoken.application_id->oauth2_application:CASCADE',
      'oauth2_accesstoken.grant_id->oauth2_grant:SET NULL',
      'oauth2_accesstoken.id_token_id->oauth2_idtoken:CASCADE',
      'oauth2_client_registration.application_id->oauth2_application:CASCADE',
      'oauth2_devicegrant.application_id->oauth2_application:CASCADE',
      'oauth2_grant.application_id->oauth2_application:CASCADE',
      'oauth2_grant.session_id->oauth2_session:SET NULL',
      'oauth2_idtoken.application_id->oauth2_application:CASCADE',
      'oauth2_logout_delivery.application_id->oauth2_application:CASCADE',
      'oauth2_pushed_authorization_request.application_id->oauth2_application:CASCADE',
      'oauth2_refreshtoken.access_token_id->oauth2_accesstoken:SET NULL',
      'oauth2_refreshtoken.application_id->oauth2_application:CASCADE',
      'oauth2_refreshtoken.session_id->oauth2_session:SET NULL',
      'oauth2_session_client.application_id->oauth2_application:CASCADE',
      'oauth2_session_client.session_id->oauth2_session:CASCADE',
    ])
  })

  t.test('an unmigrated database is refused with the remedy; instances migrating at once apply each migration once', async (t) => {
    const fresh = databaseUrl(await createTestDatabase(t))
    const shipped = readMigrationFiles({ migrationsFolder: PG_MIGRATIONS_FOLDER }).length
    await t.rejects(createPgStore({ connectionString: fresh }), { code: 'OAT_ERR_DATABASE', message: new RegExp(`lacks ${shipped} migration\\(s\\); run \`fastify-oauth-toolkit migrate\` or pass \`migrate: true\``) })
    // Three instances deploying together: the advisory lock makes the others wait, then find nothing to do.
    const stores = await Promise.all([1, 2, 3].map(async () => await createPgStore({ connectionString: fresh, migrate: true, poolConfig: { max: 1 } })))
    t.teardown(async () => { for (const store of stores) await store.close() })
    const pool = createPgPool(fresh, { max: 1 })
    t.teardown(async () => { await pool.end() })
    t.same((await pool.query('SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations')).rows, [{ n: shipped }])
    await migratePg(pool)
    t.same((await pool.query('SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations')).rows, [{ n: shipped }], 'idempotent')
  })

  t.test('an unreachable server or contradictory options fail store creation with the reason, never the password', async (t) => {
    const err = await createPgStore({ connectionString: 'postgres://oat:s3cret@127.0.0.1:1/none' }).then(() => new Error('created'), (e: unknown) => e as Error)
    t.match(err, { code: 'OAT_ERR_DATABASE', message: /^fastify-oauth-toolkit: cannot prepare PostgreSQL at postgres:\/\/oat:\*\*\*@127\.0\.0\.1:1\/none: / })
    t.notMatch(err.message, 's3cret')
    await t.rejects(createPgStore({}), { code: 'OAT_ERR_DATABASE', message: /exactly one of `pool` or `connectionString`/ })
    const pool = createPgPool(url, { max: 1 })
    t.teardown(async () => { await pool.end() })
    await t.rejects(createPgStore({ pool, poolConfig: { max: 3 } }), { code: 'OAT_ERR_DATABASE', message: /`poolConfig` applies to a pool the store creates/ })
  })

  t.test('close() ends a pool the store created, not one it was given', async (t) => {
    const given = createPgPool(url, { max: 1 })
    t.teardown(async () => { await given.end() })
    const adopted = await createPgStore({ pool: given })
    await adopted.close()
    t.same((await given.query('SELECT 1 AS one')).rows, [{ one: 1 }], 'the given pool still works')

    const owned = await createPgStore({ connectionString: url })
    await owned.close()
    await owned.close()
    t.pass('close() twice is harmless')
    await t.rejects(owned.listApplications(), /after calling end/)
  })

  t.test('revoking a family costs the same statements for 2 members as for 50 (STORE-5)', async (t) => {
    await openHarness(t)
    const pool = createPgPool(url, { max: 1 })
    let statements = 0
    pool.on('connect', (client) => {
      const query = client.query.bind(client) as (...args: unknown[]) => unknown
      ;(client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => { statements++; return query(...args) }
    })
    const store = await open(t, { pool })
    t.teardown(async () => { await pool.end() })
    const app = await newApplication(store, { clientId: 'family-size' })
    const costOf = async (family: string, size: number): Promise<number> => {
      for (let i = 0; i < size; i++) await store.issueTokens(issueOf({ applicationId: app.id, token: `${family}-a${i}`, refresh: `${family}-r${i}`, family }))
      statements = 0
      await store.revokeTokenFamily(family, at(1))
      return statements
    }
    const small = await costOf('small', 2)
    const large = await costOf('large', 50)
    t.equal(large, small, `${small} statements either way`)
    t.equal((await raw.query("SELECT count(*)::int AS n FROM oauth2_refreshtoken WHERE token_family = 'large' AND revoked IS NULL")).rows[0]?.n, 0)
  })

  t.test('openStore and the plugin take a postgres:// URL or a pg.Pool', async (t) => {
    await openHarness(t)
    const fromUrl = await openStore(url)
    t.teardown(async () => { await fromUrl.close() })
    const app = await newApplication(fromUrl, { clientId: 'via-url' })
    const pool = createPgPool(url, { max: 2 })
    t.teardown(async () => { await pool.end() })
    const fromPool = await openStore(pool)
    t.same(await fromPool.findApplicationById(app.id), app)
    await fromPool.close()

    for (const [name, database] of [['URL', url], ['pool', pool]] as const) {
      const server = await buildApp(t, { database })
      const { application, clientSecret } = await createApplication(server)
      const res = await postToken(server, { grant_type: 'client_credentials' }, { authorization: basicAuth(application.clientId, clientSecret ?? '') })
      t.equal(res.statusCode, 200, `token issued (${name})`)
      const stored = await fromUrl.findAccessToken(tokenChecksum((res.json() as { access_token: string }).access_token))
      t.equal(stored?.applicationId, application.id, `written to PostgreSQL (${name})`)
      await server.close()
    }
    t.same((await pool.query('SELECT 1 AS one')).rows, [{ one: 1 }], 'the plugin left the given pool open')
  })

  storeContract(t, openHarness)
}
