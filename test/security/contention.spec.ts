// Goal G3 (CODE-2, RT-2), quick mode: rounds of C = 50 concurrent refreshes of one token in each
// refresh policy, and of 50 concurrent exchanges of one code. Every round: never a 5xx, exactly
// one winner (grace period: 50 identical answers), and the end state the policy dictates.
// OAT_CONTENTION_ROUNDS=100 runs the full figure. PostgreSQL across two instances is covered by
// test/store/contract.ts and test/example-app/multi-instance.test.ts.
import Database from 'better-sqlite3'
import type { LightMyRequestResponse } from 'fastify'
import t, { type Test } from 'tap'
import type { SettingsInput } from '../../lib/settings.js'
import { basicAuth, bearerWorks, buildApp, createApplication, databasePath, postToken, type TokenBody } from '../helpers/index.js'
import { passwordGrant, passwordGrantOptions } from '../helpers/password-grant.js'
import { buildAuthorizeApp, codeClient, createCodeApplication, exchangeCode, obtainCode, pkcePair, REDIRECT_URI } from '../helpers/authorize.js'

const C = 50
const ROUNDS = Number(process.env.OAT_CONTENTION_ROUNDS ?? 3)

function counter (t: Test): (sql: string) => number {
  const db = new Database(databasePath(t), { readonly: true })
  t.teardown(() => db.close())
  return (sql) => (db.prepare(sql).get() as { n: number }).n
}

async function refreshRounds (t: Test, settings: SettingsInput, check: (round: { results: LightMyRequestResponse[], count: (sql: string) => number, round: number }) => Promise<void>): Promise<void> {
  const app = await buildApp(t, passwordGrantOptions({ settings: { ...settings, rateLimitFailures: null } }))
  const { application, clientSecret } = await createApplication(app, { authorizationGrantType: 'password' })
  const authorization = basicAuth(application.clientId, clientSecret ?? '')
  const count = counter(t)
  for (let round = 1; round <= ROUNDS; round++) {
    const login = await passwordGrant(app, authorization)
    const refreshToken = login.json<TokenBody>().refresh_token ?? ''
    const results = await Promise.all(Array.from({ length: C }, async () =>
      await postToken(app, { grant_type: 'refresh_token', refresh_token: refreshToken }, { authorization })))
    if (results.some((r) => r.statusCode >= 500)) t.fail(`round ${round}: a 5xx`)
    await check({ results, count, round })
  }
  t.comment(`${ROUNDS} rounds of ${C}`)
}

t.test(`RT-2 reuse protection on: ${ROUNDS} rounds of ${C} concurrent refreshes, one 200 each, then the family is revoked`, async (t) => {
  await refreshRounds(t, {}, async ({ results, count, round }) => {
    const wins = results.filter((r) => r.statusCode === 200)
    if (wins.length !== 1) t.fail(`round ${round}: ${wins.length} winners`)
    if (results.filter((r) => r.statusCode === 400 && r.json<{ error: string }>().error === 'invalid_grant').length !== C - 1) t.fail(`round ${round}: losers are not all invalid_grant`)
    if (count('SELECT count(*) AS n FROM oauth2_refreshtoken WHERE revoked IS NULL') !== 0) t.fail(`round ${round}: a live refresh token survived the replays`)
  })
  t.pass('every round had exactly one winner and no live token afterwards')
})

t.test(`RT-2 reuse protection off: ${ROUNDS} rounds, one 200 each, exactly one live successor per family`, async (t) => {
  await refreshRounds(t, { refreshTokenReuseProtection: false }, async ({ results, count, round }) => {
    const wins = results.filter((r) => r.statusCode === 200)
    if (wins.length !== 1) t.fail(`round ${round}: ${wins.length} winners`)
    if (count('SELECT count(*) AS n FROM oauth2_refreshtoken WHERE revoked IS NULL') !== round) t.fail(`round ${round}: live refresh tokens ≠ ${round}`)
  })
  t.pass('every round left exactly one live pair')
})

t.test(`RT-2 grace period: ${ROUNDS} rounds, all ${C} get the same pair and no extra rows`, async (t) => {
  await refreshRounds(t, { refreshTokenGracePeriodSeconds: 30 }, async ({ results, count, round }) => {
    if (!results.every((r) => r.statusCode === 200)) t.fail(`round ${round}: not all 200`)
    const pairs = new Set(results.map((r) => { const b = r.json<TokenBody>(); return `${b.access_token} ${b.refresh_token ?? ''}` }))
    if (pairs.size !== 1) t.fail(`round ${round}: ${pairs.size} different pairs`)
    if (count('SELECT count(*) AS n FROM oauth2_refreshtoken') !== 2 * round) t.fail(`round ${round}: extra refresh rows`)
  })
  t.pass('every round shared one pair')
})

t.test(`CODE-2 ${ROUNDS} rounds of ${C} concurrent exchanges of one code: one 200 each, then the winner is revoked`, async (t) => {
  const app = await buildAuthorizeApp(t, { settings: { rateLimitFailures: null } })
  const created = await createCodeApplication(app)
  const { verifier, challenge } = pkcePair()
  for (let round = 1; round <= ROUNDS; round++) {
    const code = await obtainCode(app, { response_type: 'code', client_id: created.application.clientId, redirect_uri: REDIRECT_URI, code_challenge: challenge, code_challenge_method: 'S256' })
    const results = await Promise.all(Array.from({ length: C }, async () => await exchangeCode(app, codeClient(created), code, { redirect_uri: REDIRECT_URI, code_verifier: verifier })))
    t.equal(results.filter((r) => r.statusCode >= 500).length, 0, `round ${round}: no 5xx`)
    const wins = results.filter((r) => r.statusCode === 200)
    t.equal(wins.length, 1, `round ${round}: exactly one 200`)
    t.notOk(await bearerWorks(app, wins[0]?.json<TokenBody>().access_token ?? ''), `round ${round}: the losers count as replays, so the winner's token is revoked (CODE-1)`)
  }
})
