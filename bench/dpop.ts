// `npm run bench -- --dpop [--quick]`: what a DPoP-protected route's check costs beside the bearer
// one (RFC 9449 §7), in process through app.inject (no socket noise), in alternating rounds:
//   A. a bearer token, DPoP off;   B. a bearer token, DPoP on (the bearer path must not pay for DPoP);
//   C. a DPoP-bound token with a fresh ES256 proof each request (signature, thumbprint, jti write).
// The tokens are in the verification cache after the warm-up, as a live server's active tokens are,
// so C's extra cost is the proof itself. Proofs are signed before each round, outside the timing.
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import Fastify, { type FastifyInstance } from 'fastify'
import { exportJWK, generateKeyPair, SignJWT } from 'jose'
import { createHash } from 'node:crypto'
import { fastifyOAuthToolkit, oauthRoutes } from '../index.js'
import { createScryptHasher } from '../entries/core.js'
import { renderTable, type Row } from './report.js'
import { median, ratio, round } from './stats.js'

const { values } = parseArgs({ options: { dpop: { type: 'boolean', default: true }, quick: { type: 'boolean', default: false } } })
const quick = values.quick === true
const rounds = quick ? 7 : 15
const batch = quick ? 500 : 2_000

const ISSUER = 'http://localhost/o'
const dir = mkdtempSync(join(tmpdir(), 'oat-dpop-bench-'))

async function server (database: string, dpopEnabled: boolean): Promise<FastifyInstance> {
  const app = Fastify()
  await app.register(fastifyOAuthToolkit, { database, migrate: true, hasher: createScryptHasher({ N: 1024 }), settings: { issuer: ISSUER, dpopEnabled } })
  await app.register(oauthRoutes, { prefix: '/o' })
  app.get('/api/hello', { onRequest: app.oauth.protect() }, async () => 'Hello, OAuth2!')
  return app
}

const database = join(dir, 'oauth.db')
const on = await server(database, true)
const off = await server(database, false)
const created = await on.oauth.createApplication({ clientType: 'confidential', authorizationGrantType: 'client-credentials', name: 'bench' })
const basic = `Basic ${Buffer.from(`${created.application.clientId}:${created.clientSecret ?? ''}`).toString('base64')}`
const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true })
const jwk = await exportJWK(publicKey)
const proof = async (htu: string, htm: string, accessToken?: string): Promise<string> => await new SignJWT({
  jti: randomUUID(),
  htm,
  htu,
  iat: Math.floor(Date.now() / 1000),
  ...(accessToken === undefined ? {} : { ath: createHash('sha256').update(accessToken).digest('base64url') }),
}).setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk }).sign(privateKey)

const issue = async (dpop: boolean): Promise<string> => {
  const res = await on.inject({
    method: 'POST',
    url: '/o/token/',
    payload: 'grant_type=client_credentials',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic, ...(dpop ? { dpop: await proof(`${ISSUER}/token/`, 'POST') } : {}) },
  })
  return (res.json() as { access_token: string }).access_token
}
const bearer = await issue(false)
const bound = await issue(true)

/** Microseconds per request of `count` requests made by `request(i)`, all of which must answer 200. */
async function timed (count: number, request: (i: number) => Promise<{ statusCode: number }>): Promise<number> {
  const started = performance.now()
  for (let i = 0; i < count; i++) {
    const res = await request(i)
    if (res.statusCode !== 200) throw new Error(`request answered ${res.statusCode}`)
  }
  return (performance.now() - started) * 1000 / count
}

const samples = { bearerOff: [] as number[], bearerOn: [] as number[], dpop: [] as number[], useOnce: [] as number[] }
const inAMinute = (): Date => new Date(Date.now() + 60_000)
for (let r = 0; r < rounds + 1; r++) {
  const proofs = await Promise.all(Array.from({ length: batch }, async () => await proof('http://localhost/api/hello', 'GET', bound)))
  const bearerOff = async (): Promise<number> => await timed(batch, async () => await off.inject({ method: 'GET', url: '/api/hello', headers: { authorization: `Bearer ${bearer}` } }))
  const bearerOn = async (): Promise<number> => await timed(batch, async () => await on.inject({ method: 'GET', url: '/api/hello', headers: { authorization: `Bearer ${bearer}` } }))
  // The jti record first (it is not compared with anything): it takes the garbage the signing
  // above left, which would otherwise fall on whichever bearer arm came first. The two bearer
  // arms then swap places every round; the DPoP arm comes last.
  type Arm = readonly [keyof typeof samples, () => Promise<number>]
  const bearerArms: Arm[] = [['bearerOff', bearerOff], ['bearerOn', bearerOn]]
  const arms: Arm[] = [
    // The part of C that is the store's: recording a jti (one insert and its commit), alone.
    ['useOnce', async () => await timed(batch, async () => ({ statusCode: await on.oauth.store.useOnce('dpop', randomUUID(), inAMinute(), new Date()) ? 200 : 409 }))],
    ...(r % 2 === 0 ? bearerArms : [...bearerArms].reverse()),
    ['dpop', async () => await timed(batch, async (i) => await on.inject({ method: 'GET', url: '/api/hello', headers: { authorization: `DPoP ${bound}`, dpop: proofs[i] ?? '' } }))],
  ]
  for (const [name, run] of arms) {
    const us = await run()
    if (r > 0) samples[name].push(us)
  }
}
await on.close()
await off.close()
rmSync(dir, { recursive: true, force: true })

const m = { bearerOff: round(median(samples.bearerOff), 1), bearerOn: round(median(samples.bearerOn), 1), dpop: round(median(samples.dpop), 1), useOnce: round(median(samples.useOnce), 1) }
const pairedBearer = round(median(samples.bearerOn.map((on, i) => on / (samples.bearerOff[i] ?? on))), 3)
const section = '10. DPoP (in process, app.inject)'
const rows: Row[] = [
  { section, metric: 'protected GET, Bearer token, DPoP off', value: m.bearerOff, unit: 'µs/req' },
  { section, metric: 'protected GET, Bearer token, DPoP on', value: m.bearerOn, unit: 'µs/req' },
  { section, metric: 'protected GET, DPoP token + ES256 proof', value: m.dpop, unit: 'µs/req' },
  // Read on the median of per-round ratios (each round's arms ran side by side), as scenario 1 is:
  // the machine's drift between rounds falls on both sides of each ratio.
  { section, metric: 'bearer path: DPoP on / off (median of paired rounds)', value: pairedBearer, unit: '×', target: '≤ 1.10', pass: pairedBearer <= 1.1 },
  { section, metric: 'DPoP / bearer (DPoP on)', value: ratio(m.dpop, m.bearerOn), unit: '×' },
  { section, metric: 'of which the jti record (store.useOnce alone, sequential)', value: m.useOnce, unit: 'µs/call' },
]
process.stdout.write(`\nfastify-oauth-toolkit DPoP benchmark (${quick ? 'quick' : 'full'}: ${rounds} rounds of ${batch} requests per arm)\n\n${renderTable(rows)}\n`)
