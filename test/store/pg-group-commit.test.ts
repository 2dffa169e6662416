// Group commit of the PostgreSQL store (lib/store/pg/group-commit.ts): issuances queued together
// share one transaction, each all-or-nothing, and none resolves before the COMMIT that stores it.
// Its own process (not a spec bundle): the deadlock test waits for PostgreSQL's deadlock_timeout.
import t, { type Test } from 'tap'
import { createPgPool, migratePg } from '../../lib/store/pg/open.js'
import { createPgStore } from '../../lib/store/pg/store.js'
import type { Store, TokenIssue } from '../../lib/store/types.js'
import { tokenChecksum } from '../../lib/tokens/checksum.js'
import { postgresTestDatabase } from '../helpers/postgres.js'
import { at, issueOf, newApplication, newGrant, T0 } from './contract.js'

const url = await postgresTestDatabase(t)
if (url !== null) {
  const raw = createPgPool(url, { max: 2 })
  t.teardown(async () => { await raw.end() })
  await migratePg(raw)

  const open = async (t: Test): Promise<Store> => {
    await raw.query('TRUNCATE oauth2_devicegrant, oauth2_refreshtoken, oauth2_accesstoken, oauth2_idtoken, oauth2_grant, oauth2_application RESTART IDENTITY CASCADE')
    const store = await createPgStore({ connectionString: url, poolConfig: { max: 4 } })
    t.teardown(async () => { await store.close() })
    return store
  }
  const count = async (text: string, params: unknown[] = []): Promise<number> => Number((await raw.query<{ n: string }>(text, params)).rows[0]?.n)
  const stored = async (token: string): Promise<number> => await count('SELECT count(*) AS n FROM oauth2_accesstoken WHERE token_checksum = $1', [tokenChecksum(token)])

  t.test('issuances queued together share one transaction, and each resolves only once its COMMIT has returned', async (t) => {
    const store = await open(t)
    const app = await newApplication(store, { clientId: 'grouped' })
    // A deferred trigger runs at COMMIT and makes it slow (50 ms a row): a token answered before its commit
    // had returned would not be visible yet to another connection.
    await raw.query(`CREATE FUNCTION oat_test_slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(0.05); RETURN NULL; END $$;
      CREATE CONSTRAINT TRIGGER oat_test_slow_commit AFTER INSERT ON oauth2_accesstoken DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION oat_test_slow_commit()`)

    const seenOnResolve: number[] = []
    await Promise.all(Array.from({ length: 12 }, async (_, i) => {
      await store.issueTokens(issueOf({ applicationId: app.id, token: `g-${i}` }))
      seenOnResolve.push(await stored(`g-${i}`))
    }))
    t.same(seenOnResolve, Array.from({ length: 12 }, () => 1), 'every token was committed when its issuance resolved')
    t.equal(await count('SELECT count(DISTINCT xmin::text) AS n FROM oauth2_accesstoken'), 1, 'the 12 rows were written by one transaction')
    await raw.query('DROP TRIGGER oat_test_slow_commit ON oauth2_accesstoken; DROP FUNCTION oat_test_slow_commit()')

    // With refresh and ID tokens too (several statements): each issuance gets its own rows back, linked.
    const issues: TokenIssue[] = Array.from({ length: 6 }, (_, i) => ({
      ...issueOf({ applicationId: app.id, token: `l-a${i}`, refresh: `l-r${i}` }),
      ...(i % 2 === 0 ? { idToken: { jti: `l-jti${i}`, applicationId: app.id, userId: 'u', scope: 'openid', expiresAt: at(600) } } : {}),
    }))
    const rows = await Promise.all(issues.map(async (issue) => await store.issueTokens(issue)))
    rows.forEach((r, i) => {
      t.equal(r.accessToken.checksum, tokenChecksum(`l-a${i}`), `issuance ${i}: its access token`)
      t.equal(r.refreshToken?.checksum, tokenChecksum(`l-r${i}`), 'its refresh token')
      t.equal(r.refreshToken?.accessTokenId, r.accessToken.id, 'bound to its access token')
    })
    for (const i of [0, 2, 4]) t.equal(rows[i]?.accessToken.idTokenId, (await store.findIdTokenByJti(`l-jti${i}`))?.id, `issuance ${i} links its ID token`)
    t.equal(rows[1]?.accessToken.idTokenId, null)
  })

  t.test('in a group, failing issuances reject alone; the others are stored whole', async (t) => {
    const store = await open(t)
    const app = await newApplication(store, { clientId: 'failing' })
    await store.issueTokens(issueOf({ applicationId: app.id, token: 'taken' }))
    const issues = Array.from({ length: 8 }, (_, i) => issueOf({ applicationId: app.id, token: `f-a${i}`, refresh: `f-r${i}` }))
    issues[2] = issueOf({ applicationId: app.id, token: 'taken', refresh: 'f-r2' }) // a unique violation on its access token
    const fifth = issues[5]!
    issues[5] = { ...fifth, refreshToken: fifth.refreshToken === null ? null : { ...fifth.refreshToken, applicationId: 9999 } } // a foreign-key violation after its access token
    const outcomes = await Promise.allSettled(issues.map(async (issue) => await store.issueTokens(issue)))
    t.same(outcomes.map((o) => o.status), ['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled'])
    t.match(outcomes[2], { reason: { message: /unique constraint/ } })
    t.match(outcomes[5], { reason: { message: /foreign key constraint/ } })
    for (const i of [0, 1, 3, 4, 6, 7]) t.equal(await stored(`f-a${i}`), 1, `issuance ${i} stored`)
    t.equal(await stored('f-a5'), 0, 'the failed issuance left no access token')
    t.equal(await count('SELECT count(*) AS n FROM oauth2_refreshtoken'), 6, 'nor refresh token')
  })

  t.test('a code replayed and a refresh token rotated twice inside one group: one winner each, the losers write nothing, the rest is stored', async (t) => {
    const store = await open(t)
    const app = await newApplication(store, { clientId: 'race-in-group', authorizationGrantType: 'authorization-code' })
    const grant = await store.createGrant(newGrant(app.id, 'group-code'), T0)
    const original = await store.issueTokens(issueOf({ applicationId: app.id, token: 'rot-a', refresh: 'rot-r', family: 'rot' }))
    const rtId = original.refreshToken?.id ?? -1
    const [redeems, rotations, plain] = await Promise.all([
      Promise.all([0, 1, 2].map(async (i) => await store.redeemGrant(grant.id, issueOf({ applicationId: app.id, token: `code-a${i}`, refresh: `code-r${i}`, grantId: grant.id, now: at(1) })))),
      Promise.all([0, 1].map(async (i) => await store.rotateRefreshToken(rtId, null, issueOf({ applicationId: app.id, token: `rot-a${i}`, refresh: `rot-r${i}`, family: 'rot', now: at(1) })))),
      Promise.all([0, 1, 2, 3].map(async (i) => await store.issueTokens(issueOf({ applicationId: app.id, token: `plain-${i}` })))),
    ])
    t.same(redeems.map((r) => r.ok), [true, false, false], 'the first exchange of the group won, the replays lost')
    t.same(rotations.map((r) => r.ok), [true, false], 'one rotation won')
    t.equal(plain.length, 4)
    for (const i of [0, 1, 2, 3]) t.equal(await stored(`plain-${i}`), 1, `plain issuance ${i} stored`)
    for (const token of ['code-a1', 'code-a2', 'rot-a1', 'rot-a']) t.equal(await stored(token), 0, `${token}: a loser wrote nothing, the rotated one is gone`)
    t.equal(await count('SELECT count(*) AS n FROM oauth2_refreshtoken WHERE token_family = $1 AND revoked IS NULL', ['rot']), 1, 'one live successor')
    t.equal(await count('SELECT count(*) AS n FROM oauth2_accesstoken WHERE grant_id = $1', [grant.id]), 1, 'one token set for the code')
  })

  t.test('a lone code exchange or rotation runs in its transaction without a savepoint; jobs queued together get one each', async (t) => {
    await open(t)
    // The statements the store's connections send, seen by wrapping each client's query().
    const pool = createPgPool(url, { max: 4 })
    const sent: string[] = []
    pool.on('connect', (client) => {
      const query = client.query.bind(client) as (...args: unknown[]) => unknown
      ;(client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
        const first = args[0]
        sent.push(typeof first === 'string' ? first : String((first as { text?: unknown } | null)?.text ?? ''))
        return query(...args)
      }
    })
    const store = await createPgStore({ pool })
    t.teardown(async () => { await store.close(); await pool.end() })
    const app = await newApplication(store, { clientId: 'lone', authorizationGrantType: 'authorization-code' })
    const savepoints = (): number => sent.filter((text) => /^\s*savepoint\b/i.test(text)).length

    const grant = await store.createGrant(newGrant(app.id, 'lone-code'), T0)
    sent.length = 0
    const redeemed = await store.redeemGrant(grant.id, issueOf({ applicationId: app.id, token: 'lone-a', refresh: 'lone-r', grantId: grant.id, family: 'lone', now: at(1) }))
    t.ok(redeemed.ok, 'the exchange succeeded')
    t.equal(savepoints(), 0, 'no savepoint: BEGIN, the statements, COMMIT')
    t.equal(await stored('lone-a'), 1, 'its token is stored')
    const replay = await store.redeemGrant(grant.id, issueOf({ applicationId: app.id, token: 'lone-b', grantId: grant.id, now: at(2) }))
    t.notOk(replay.ok, 'a replay, alone, still loses')
    t.equal(await stored('lone-b'), 0, 'and writes nothing')

    sent.length = 0
    const rotated = await store.rotateRefreshToken(redeemed.ok ? redeemed.rows.refreshToken?.id ?? -1 : -1, null, issueOf({ applicationId: app.id, token: 'lone-a2', refresh: 'lone-r2', family: 'lone', now: at(3) }))
    t.ok(rotated.ok, 'a lone rotation succeeded')
    t.equal(savepoints(), 0, 'without a savepoint')

    // Several exchanges queued in one turn share a transaction, each in a savepoint of its own.
    const grants = await Promise.all([0, 1, 2].map(async (i) => await store.createGrant(newGrant(app.id, `many-${i}`), T0)))
    sent.length = 0
    const many = await Promise.all(grants.map(async (g, i) => await store.redeemGrant(g.id, issueOf({ applicationId: app.id, token: `many-a${i}`, grantId: g.id, now: at(4) }))))
    t.same(many.map((r) => r.ok), [true, true, true])
    t.ok(savepoints() >= 2, `queued together, each has its savepoint: ${savepoints()}`)
  })

  t.test('two instances whose groups rotate the same tokens in opposite orders: a deadlock victim is run again alone, never failed', async (t) => {
    const a = await open(t)
    const b = await createPgStore({ connectionString: url, poolConfig: { max: 4 } })
    t.teardown(async () => { await b.close() })
    const app = await newApplication(a, { clientId: 'deadlock' })
    const x = await a.issueTokens(issueOf({ applicationId: app.id, token: 'x-a', refresh: 'x-r', family: 'x' }))
    const y = await a.issueTokens(issueOf({ applicationId: app.id, token: 'y-a', refresh: 'y-r', family: 'y' }))
    const rotate = async (store: Store, rt: typeof x, family: string, tag: string): Promise<boolean> =>
      (await store.rotateRefreshToken(rt.refreshToken?.id ?? -1, null, issueOf({ applicationId: app.id, token: `${tag}-a`, refresh: `${tag}-r`, family, now: at(1) }))).ok
    const outcomes = await Promise.all([rotate(a, x, 'x', 'ax'), rotate(a, y, 'y', 'ay'), rotate(b, y, 'y', 'by'), rotate(b, x, 'x', 'bx')])
    t.equal(outcomes.filter(Boolean).length, 2, `one rotation of each token won: ${JSON.stringify(outcomes)}`)
    t.equal(await count('SELECT count(*) AS n FROM oauth2_refreshtoken WHERE revoked IS NULL'), 2, 'one live successor per family')
  })
}
