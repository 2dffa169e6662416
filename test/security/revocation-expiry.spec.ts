// Goals G6 (revocation visibility, EXP-2, STORE-3) and G7 (expiry windows, EXP-1, CODE-5, RT-6),
// quick mode. The verification cache is on (the default) everywhere.
// G6: same instance, no request started after the revoke's 200 is accepted; a second instance
// (two apps on one SQLite file, and on one PostgreSQL database) refuses the token within the
// bound, measured by polling every 5 ms. G7: with a fixed clock, no access token, refresh
// token, code or device_code is accepted at or after its expiry (leeway 0), at random offsets
// in [0, 1] s; and each is accepted just before, so the trials measure something.
// OAT_REVOCATION_TRIALS (default 30), OAT_CROSS_INSTANCE_TRIALS (default 12) and OAT_EXPIRY_TRIALS
// (default 10 per kind) enlarge them (1,000, 200 and 250 give the figures' sizes).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import t, { type Test } from 'tap'
import { basicAuth, createApplication, fixedClock, FORM, form, postToken, type BuildAppOptions, type FixedClock, type TokenBody } from '../helpers/index.js'
import { passwordGrantOptions, passwordTokens } from '../helpers/password-grant.js'
import { buildAuthorizeApp, codeClient, createCodeApplication, exchangeCode, obtainCode, pkcePair, REDIRECT_URI } from '../helpers/authorize.js'
import { postgresTestDatabase } from '../helpers/postgres.js'
import { createDeviceApplication, decide, deviceCode, poll } from '../device/support.js'
import { eventually } from '../helpers/wait.js'

const REVOCATION_TRIALS = Number(process.env.OAT_REVOCATION_TRIALS ?? 30)
const EXPIRY_TRIALS = Number(process.env.OAT_EXPIRY_TRIALS ?? 10)
const CROSS_TRIALS = Number(process.env.OAT_CROSS_INSTANCE_TRIALS ?? 12)
// The quick run shares 2 cores with the rest of the suite, whose load may hold the machine at 10:
// it holds both databases to a bound of seconds (a scheduling stall is not a propagation bug, and
// without the cross-instance invalidation B would keep serving the token from its cache for the
// cache's 60 s); the full run (OAT_CROSS_INSTANCE_TRIALS set) holds them to the figure.
const FULL_FIGURE = process.env.OAT_CROSS_INSTANCE_TRIALS !== undefined
const QUICK_BOUND_MS = 5000

async function protectedApp (t: Test, options: BuildAppOptions): Promise<FastifyInstance> {
  const app = await buildAuthorizeApp(t, passwordGrantOptions({ ...options, settings: { rateLimitFailures: null, deviceFlowEnabled: true, ...options.settings } }))
  app.get('/me', { onRequest: app.oauth.protect() }, async () => 'me')
  return app
}

async function status (app: FastifyInstance, token: string): Promise<number> {
  return (await app.inject({ url: '/me', headers: { authorization: `Bearer ${token}` } })).statusCode
}

async function revoke (app: FastifyInstance, token: string, clientId: string, secret: string): Promise<number> {
  return (await app.inject({ method: 'POST', url: '/o/revoke-token/', headers: { ...FORM, authorization: basicAuth(clientId, secret) }, payload: form({ token }) })).statusCode
}

function percentile (values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? NaN
}

t.test(`G6 EXP-2 same instance: no request started after the revoke's 200 is accepted (${REVOCATION_TRIALS} trials)`, async (t) => {
  const app = await protectedApp(t, {})
  const late: number[] = []
  let requests = 0
  for (let trial = 0; trial < REVOCATION_TRIALS; trial++) {
    const tokens = await passwordTokens(app)
    if (await status(app, tokens.accessToken) !== 200) t.fail('the fresh token works (and is now cached)')
    let revokedAt = Infinity
    const revoking = revoke(app, tokens.accessToken, tokens.clientId, tokens.clientSecret).then((code) => { revokedAt = performance.now(); return code })
    // Requests keep starting while the revoke runs and for a while after its answer.
    const uses: Array<Promise<{ start: number, code: number }>> = []
    for (let i = 0; i < 12; i++) {
      const start = performance.now()
      uses.push(status(app, tokens.accessToken).then((code) => ({ start, code })))
      await new Promise((resolve) => setImmediate(resolve))
    }
    if (await revoking !== 200) t.fail('revoke answered 200')
    const after = performance.now()
    uses.push(status(app, tokens.accessToken).then((code) => ({ start: after, code })))
    for (const use of await Promise.all(uses)) {
      requests++
      if (use.code === 200 && use.start > revokedAt) late.push(use.start - revokedAt)
    }
  }
  t.same(late, [], `0 of ${requests} requests started after the revoke's 200 were accepted`)
})

/** Revokes on `a`, polls `b` every 5 ms; returns the delays (ms) until `b` refuses. */
async function crossInstanceDelays (t: Test, a: FastifyInstance, b: FastifyInstance, trials: number): Promise<number[]> {
  const delays: number[] = []
  for (let trial = 0; trial < trials; trial++) {
    const tokens = await passwordTokens(a)
    t.equal(await status(b, tokens.accessToken), 200, 'B accepts (and caches) the token')
    t.equal(await status(b, tokens.accessToken), 200)
    t.equal(await revoke(a, tokens.accessToken, tokens.clientId, tokens.clientSecret), 200)
    const revoked = performance.now()
    let delay = NaN
    while (performance.now() - revoked < QUICK_BOUND_MS + 1000) {
      if (await status(b, tokens.accessToken) !== 200) { delay = performance.now() - revoked; break }
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    delays.push(delay)
  }
  return delays
}

function report (t: Test, label: string, delays: readonly number[], p99Max: number, max: number): void {
  const worst = Math.max(...delays)
  t.comment(`${label}: ${delays.length} trials, p50 ${percentile(delays, 0.5).toFixed(1)} ms, p99 ${percentile(delays, 0.99).toFixed(1)} ms, max ${worst.toFixed(1)} ms`)
  t.notOk(delays.some(Number.isNaN), `B refused every revoked token within ${(QUICK_BOUND_MS + 1000) / 1000} s`)
  t.ok(percentile(delays, 0.99) <= p99Max, `p99 ≤ ${p99Max} ms`)
  t.ok(worst <= max, `max ≤ ${max} ms`)
}

t.test('G6 STORE-3 second instance on one SQLite file: a revoke on A is refused by B within the bound (≤ 1 s; the default look period is 5 ms)', async (t) => {
  // Not in t.testdir(): buildApp calls that, which empties it.
  const dir = mkdtempSync(join(tmpdir(), 'oat-g6-'))
  t.teardown(() => { rmSync(dir, { recursive: true, force: true }) })
  const path = join(dir, 'shared.db')
  const a = await protectedApp(t, { database: path })
  const b = await protectedApp(t, { database: path })
  report(t, 'SQLite, two instances', await crossInstanceDelays(t, a, b, CROSS_TRIALS), FULL_FIGURE ? 1000 : QUICK_BOUND_MS, FULL_FIGURE ? 1000 : QUICK_BOUND_MS)
})

t.test('G6 STORE-3 second instance on one PostgreSQL database: p99 ≤ 100 ms, max ≤ 250 ms (full run; loose in quick mode)', async (t) => {
  const url = await postgresTestDatabase(t)
  if (url === null) return
  const a = await protectedApp(t, { database: url })
  const b = await protectedApp(t, { database: url })
  await eventually(() => b.oauth.store.invalidationsReliable())
  report(t, 'PostgreSQL, two instances', await crossInstanceDelays(t, a, b, CROSS_TRIALS), FULL_FIGURE ? 100 : QUICK_BOUND_MS, FULL_FIGURE ? 250 : QUICK_BOUND_MS)
})

/** A random offset in [0, 1] s; the first trial uses exactly 0 (the expiry instant itself). */
const offset = (trial: number): number => trial === 0 ? 0 : Math.round(Math.random() * 1000) / 1000
const LIFETIME = 10

t.test(`G7 no access token, refresh token, code or device_code is accepted at or after its expiry (${EXPIRY_TRIALS} trials per kind)`, async (t) => {
  const clock: FixedClock = fixedClock(new Date().toISOString())
  const app = await protectedApp(t, {
    clock,
    settings: { accessTokenExpireSeconds: LIFETIME, refreshTokenExpireSeconds: LIFETIME, authorizationCodeExpireSeconds: LIFETIME, deviceCodeExpireSeconds: LIFETIME },
  })
  const accepted: string[] = []
  const code = await createCodeApplication(app)
  const tv = await createDeviceApplication(app)
  const cc = await createApplication(app)
  const ccAuth = { authorization: basicAuth(cc.application.clientId, cc.clientSecret ?? '') }
  const { verifier, challenge } = pkcePair()
  for (let trial = 0; trial < EXPIRY_TRIALS; trial++) {
    const late = offset(trial)

    // Access token: cached just before expiry, then used at expiry + late.
    const access = (await postToken(app, { grant_type: 'client_credentials' }, ccAuth)).json<TokenBody>().access_token
    clock.advance(LIFETIME - 0.001)
    if (await status(app, access) !== 200) t.fail('an access token works 1 ms before expiry')
    clock.advance(0.001 + late)
    if (await status(app, access) === 200) accepted.push(`access token at +${late} s`)

    // Refresh token (the password grant's), used at expiry + late.
    const refresh = (await passwordTokens(app)).refreshToken
    const pw = await passwordTokens(app) // a second pair, refreshed 1 ms before expiry
    clock.advance(LIFETIME - 0.001)
    const before = await postToken(app, { grant_type: 'refresh_token', refresh_token: pw.refreshToken }, { authorization: basicAuth(pw.clientId, pw.clientSecret) })
    if (before.statusCode !== 200) t.fail(`a refresh token works 1 ms before expiry: ${before.body}`)
    clock.advance(0.001 + late)
    const refreshed = await app.inject({ method: 'POST', url: '/o/token/', headers: FORM, payload: form({ grant_type: 'refresh_token', refresh_token: refresh }) })
    if (refreshed.statusCode === 200) accepted.push(`refresh token at +${late} s`)

    // Authorization code, exchanged at expiry + late.
    const params = { response_type: 'code', client_id: code.application.clientId, redirect_uri: REDIRECT_URI, code_challenge: challenge, code_challenge_method: 'S256' }
    const expiring = await obtainCode(app, params)
    const fresh = await obtainCode(app, params)
    clock.advance(LIFETIME - 0.001)
    if ((await exchangeCode(app, codeClient(code), fresh, { redirect_uri: REDIRECT_URI, code_verifier: verifier })).statusCode !== 200) t.fail('a code works 1 ms before expiry')
    clock.advance(0.001 + late)
    if ((await exchangeCode(app, codeClient(code), expiring, { redirect_uri: REDIRECT_URI, code_verifier: verifier })).statusCode === 200) accepted.push(`code at +${late} s`)

    // device_code, approved before expiry, polled at expiry + late.
    const device = await deviceCode(app, tv)
    const other = await deviceCode(app, tv)
    // One user and address per trial: user-code entry is rate limited (BRUTE-2).
    const who = { user: `user-g7-${trial}`, ip: `10.7.${trial % 250}.${1 + Math.floor(trial / 250)}` }
    await decide(app, device.user_code, true, who)
    await decide(app, other.user_code, true, who)
    clock.advance(LIFETIME - 0.001)
    if ((await poll(app, tv, other.device_code)).statusCode !== 200) t.fail('a device_code works 1 ms before expiry')
    clock.advance(0.001 + late)
    if ((await poll(app, tv, device.device_code)).statusCode === 200) accepted.push(`device_code at +${late} s`)
  }
  t.same(accepted, [], `0 of ${EXPIRY_TRIALS * 4} uses at or after expiry were accepted`)
})
