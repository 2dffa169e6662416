// STORE-1 / goal G4, fault injection: the SQLite connection handed to the toolkit fails its n-th
// write statement (test-only, by wrapping better-sqlite3's prepare), for every n of each grant.
// All or nothing: either the client got a 200 and every row exists, or it got an error and the
// code or refresh token is still redeemable. Never two live refresh tokens in one family, never
// a live refresh token without its access token, and the file passes PRAGMA integrity_check.
// (kill -9 under load is the bench's part of G4 and is not here.)
import { join } from 'node:path'
import Database from 'better-sqlite3'
import Fastify, { type FastifyInstance } from 'fastify'
import t, { type Test } from 'tap'
import { fastifyOAuthToolkit, oauthRoutes } from '../../index.js'
import { basicAuth, createApplication, postToken, testHasher, type TokenBody, FORM, form } from '../helpers/index.js'
import { PASSWORD_GRANT, passwordGrant, verifyAlice } from '../helpers/password-grant.js'
import { codeClient, createCodeApplication, exchangeCode, LOGIN_OPTIONS, obtainCode, pkcePair, REDIRECT_URI } from '../helpers/authorize.js'

interface Faults { failAt: number, writes: number }

/** A better-sqlite3 connection whose `failAt`-th write statement (counted from `writes = 0`) throws. */
function faultyDatabase (path: string): { db: Database.Database, faults: Faults } {
  const db = new Database(path)
  const faults: Faults = { failAt: 0, writes: 0 }
  const prepare = db.prepare.bind(db)
  db.prepare = ((source: string) => {
    const statement = prepare(source)
    if (!/^\s*(insert|update|delete)\b/i.test(source)) return statement
    for (const name of ['run', 'get', 'all'] as const) {
      const original = statement[name].bind(statement) as (...args: unknown[]) => unknown
      Object.defineProperty(statement, name, {
        value: (...args: unknown[]) => {
          faults.writes++
          if (faults.failAt > 0 && faults.writes === faults.failAt) throw new Error(`injected fault at write ${faults.writes}`)
          return original(...args)
        },
      })
    }
    return statement
  }) as typeof db.prepare
  return { db, faults }
}

async function faultyApp (t: Test): Promise<{ app: FastifyInstance, faults: Faults, db: Database.Database }> {
  const { db, faults } = faultyDatabase(join(t.testdir(), 'oauth.db'))
  const app = Fastify()
  t.teardown(async () => { await app.close(); db.close() })
  await app.register(fastifyOAuthToolkit, {
    database: db,
    migrate: true,
    hasher: testHasher,
    ...LOGIN_OPTIONS,
    verifyUserCredentials: verifyAlice,
    settings: { passwordGrantEnabled: true, rateLimitFailures: null },
  })
  await app.register(oauthRoutes, { prefix: '/o' })
  return { app, faults, db }
}

function assertInvariants (t: Test, db: Database.Database, label: string): void {
  const n = (sql: string): number => (db.prepare(sql).get() as { n: number }).n
  t.equal(n('SELECT count(*) AS n FROM (SELECT token_family FROM oauth2_refreshtoken WHERE revoked IS NULL GROUP BY token_family HAVING count(*) > 1)'), 0, `${label}: never two live refresh tokens in a family`)
  t.equal(n('SELECT count(*) AS n FROM oauth2_refreshtoken WHERE revoked IS NULL AND access_token_id IS NULL'), 0, `${label}: no live refresh token without its access token`)
  t.equal(db.pragma('integrity_check', { simple: true }), 'ok', `${label}: integrity_check`)
  t.same(db.pragma('foreign_key_check'), [], `${label}: foreign keys hold`)
}

/** Runs `attempt` with a fault at write 1, 2, … until it succeeds without reaching the fault; `afterFault` checks the state each time. */
async function everyWriteStep (t: Test, faults: Faults, label: string, attempt: () => Promise<number>, afterFault: (n: number) => Promise<void>): Promise<void> {
  for (let n = 1; n <= 20; n++) {
    faults.writes = 0
    faults.failAt = n
    const status = await attempt()
    const reached = faults.writes >= n
    faults.failAt = 0
    if (!reached) {
      t.equal(status, 200, `${label}: succeeds when the fault is past its ${n - 1} writes`)
      t.comment(`${label}: ${n - 1} write steps, each failed once`)
      return
    }
    t.not(status, 200, `${label}: a fault at write ${n} is not acknowledged`)
    await afterFault(n)
  }
  t.fail(`${label}: more than 20 writes?`)
}

t.test('STORE-1 code exchange: a fault at any write leaves the code redeemable and no half-written grant', async (t) => {
  const { app, faults, db } = await faultyApp(t)
  const created = await createCodeApplication(app)
  const { verifier, challenge } = pkcePair()
  const newCode = async (): Promise<string> => await obtainCode(app, { response_type: 'code', client_id: created.application.clientId, redirect_uri: REDIRECT_URI, code_challenge: challenge, code_challenge_method: 'S256' })
  let code = await newCode()
  const exchange = async (): Promise<number> => (await exchangeCode(app, codeClient(created), code, { redirect_uri: REDIRECT_URI, code_verifier: verifier })).statusCode
  await everyWriteStep(t, faults, 'code exchange', exchange, async (n) => {
    assertInvariants(t, db, `code exchange, fault ${n}`)
    t.equal(await exchange(), 200, `fault ${n}: the same code still works afterwards`)
    assertInvariants(t, db, `code exchange, retry after fault ${n}`)
    code = await newCode()
  })
})

t.test('STORE-1 refresh rotation: a fault at any write leaves the refresh token redeemable', async (t) => {
  const { app, faults, db } = await faultyApp(t)
  const { application, clientSecret } = await createApplication(app, { authorizationGrantType: 'password' })
  const authorization = basicAuth(application.clientId, clientSecret ?? '')
  const login = async (): Promise<string> => (await passwordGrant(app, authorization)).json<TokenBody>().refresh_token ?? ''
  let refreshToken = await login()
  const refresh = async (): Promise<number> => (await postToken(app, { grant_type: 'refresh_token', refresh_token: refreshToken }, { authorization })).statusCode
  await everyWriteStep(t, faults, 'refresh rotation', refresh, async (n) => {
    assertInvariants(t, db, `refresh, fault ${n}`)
    t.equal(await refresh(), 200, `fault ${n}: the same refresh token still works afterwards`)
    assertInvariants(t, db, `refresh, retry after fault ${n}`)
    refreshToken = await login()
  })
})

t.test('STORE-1 password and client_credentials issuance, and revocation: all or nothing', async (t) => {
  const { app, faults, db } = await faultyApp(t)
  const pw = await createApplication(app, { authorizationGrantType: 'password' })
  const cc = await createApplication(app)
  const count = (): number => (db.prepare('SELECT (SELECT count(*) FROM oauth2_accesstoken) + (SELECT count(*) FROM oauth2_refreshtoken) AS n').get() as { n: number }).n
  for (const [label, params, app2] of [
    ['password', PASSWORD_GRANT, pw],
    ['client_credentials', { grant_type: 'client_credentials' }, cc],
  ] as const) {
    await everyWriteStep(t, faults, label, async () => {
      const before = count()
      const res = await postToken(app, params, { authorization: basicAuth(app2.application.clientId, app2.clientSecret ?? '') })
      if (res.statusCode !== 200) t.equal(count(), before, `${label}: a failed issuance wrote no row`)
      return res.statusCode
    }, async (n) => { assertInvariants(t, db, `${label}, fault ${n}`) })
  }
  const issued = (await passwordGrant(app, pw)).json<TokenBody>()
  const live = async (): Promise<boolean> => (await app.oauth.authenticateBearer({ authorization: `Bearer ${issued.access_token}`, queryToken: undefined })).ok
  await everyWriteStep(t, faults, 'revocation', async () => (await app.inject({
    method: 'POST', url: '/o/revoke-token/', headers: { ...FORM, authorization: basicAuth(pw.application.clientId, pw.clientSecret ?? '') }, payload: form({ token: issued.access_token }),
  })).statusCode, async (n) => {
    t.ok(await live(), `revocation fault ${n}: nothing was half-revoked (the access token still works)`)
    assertInvariants(t, db, `revocation, fault ${n}`)
  })
  t.notOk(await live(), 'the final revocation took effect')
})
