// `npm run bench -- --timing [--quick] [--samples N]`: goal G10 (CAUTH-2), dudect-style. Pairs of
// request classes are sent interleaved in random order through app.inject (no socket noise) and
// Welch's t is printed per pair. Pass: abs(t) < 4.5 (dudect); a gross leak is abs(t) > 10.
// In-process, so this measures the server's own work; loopback noise is the HTTP bench's part.
import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import Fastify, { type FastifyInstance } from 'fastify'
import { fastifyOAuthToolkit, oauthRoutes } from '../index.js'
import { createScryptHasher } from '../entries/core.js'
import { verifyCodeChallenge } from '../lib/tokens/pkce.js'

const { values } = parseArgs({
  options: {
    timing: { type: 'boolean', default: true },
    quick: { type: 'boolean', default: false },
    samples: { type: 'string' },
  },
})
const samples = values.samples === undefined ? (values.quick === true ? 1000 : 10_000) : Number(values.samples)

/** Welch's t statistic of two samples. */
export function welchT (a: readonly number[], b: readonly number[]): number {
  const mean = (x: readonly number[]): number => x.reduce((s, v) => s + v, 0) / x.length
  const variance = (x: readonly number[], m: number): number => x.reduce((s, v) => s + (v - m) ** 2, 0) / (x.length - 1)
  const ma = mean(a)
  const mb = mean(b)
  return (ma - mb) / Math.sqrt(variance(a, ma) / a.length + variance(b, mb) / b.length)
}

/** Drops the slowest 5% (GC pauses, scheduler), as dudect's cropping does. */
function crop (x: number[]): number[] {
  const sorted = [...x].sort((p, q) => p - q)
  const limit = sorted[Math.floor(sorted.length * 0.95)] ?? Infinity
  return x.filter((v) => v <= limit)
}

async function measurePair (label: string, a: () => Promise<unknown>, b: () => Promise<unknown>): Promise<{ label: string, t: number, meanA: number, meanB: number }> {
  const times: [number[], number[]] = [[], []]
  for (let i = 0; i < 50; i++) { await a(); await b() }
  for (let i = 0; i < samples * 2; i++) {
    const which = Math.random() < 0.5 ? 0 : 1
    const started = process.hrtime.bigint()
    await (which === 0 ? a() : b())
    times[which].push(Number(process.hrtime.bigint() - started) / 1000)
  }
  const [ca, cb] = [crop(times[0]), crop(times[1])]
  const avg = (x: number[]): number => x.reduce((s, v) => s + v, 0) / x.length
  return { label, t: welchT(ca, cb), meanA: avg(ca), meanB: avg(cb) }
}

// The host's user check, as the example app writes it (example-app/users.ts): a dummy hash for an
// unknown user. Timed through the toolkit's password grant, so any extra work the toolkit did for
// one class (a lookup, an early return) would show.
const users = createScryptHasher({ N: 1024 })
const alice = await users.hash('the-right-password')
const verifyUserCredentials = async (username: string, password: string): Promise<string | null> => {
  if (username !== 'alice') return await users.verifyDummy(password).then(() => null)
  return (await users.verify(password, alice)) ? 'user-alice' : null
}

const dir = mkdtempSync(join(tmpdir(), 'oat-timing-'))
const app: FastifyInstance = Fastify()
await app.register(fastifyOAuthToolkit, {
  database: join(dir, 'oauth.db'),
  migrate: true,
  verifyUserCredentials,
  // A cheap KDF cost, so 10k samples fit in the budget; the comparisons timed do not depend on it.
  hasher: createScryptHasher({ N: 1024 }),
  // Limits off: every request must reach the secret check being timed.
  settings: { rateLimitFailures: null, passwordGrantEnabled: true },
})
await app.register(oauthRoutes, { prefix: '/o' })
const created = await app.oauth.createApplication({ clientType: 'confidential', authorizationGrantType: 'client-credentials', name: 'timing' })
const secret = created.clientSecret ?? ''
const pw = await app.oauth.createApplication({ clientType: 'confidential', authorizationGrantType: 'password', name: 'timing password' })
const pwAuth = `Basic ${Buffer.from(`${pw.application.clientId}:${pw.clientSecret ?? ''}`).toString('base64')}`
const login = async (username: string, password: string): Promise<unknown> => await app.inject({
  method: 'POST',
  url: '/o/token/',
  headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: pwAuth },
  payload: new URLSearchParams({ grant_type: 'password', username, password }).toString(),
})
const flip = (s: string, i: number): string => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1)
const token = async (clientId: string, clientSecret: string): Promise<unknown> => await app.inject({
  method: 'POST',
  url: '/o/token/',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  payload: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret }).toString(),
})
const verifier = 'v'.repeat(43)
const challenge = createHash('sha256').update(verifier).digest('base64url')

process.stderr.write(`timing: ${samples} samples per class\n`)
const results = [
  await measurePair('wrong secret: first vs last character', () => token(created.application.clientId, flip(secret, 0)), () => token(created.application.clientId, flip(secret, secret.length - 1))),
  await measurePair('unknown client_id vs wrong secret', () => token('no-such-client-id-0123456789abcdefghijkl', flip(secret, 0)), () => token(created.application.clientId, flip(secret, 0))),
  await measurePair('unknown user vs wrong password', () => login('mallory', 'the-wrong-password'), () => login('alice', 'the-wrong-password')),
  await measurePair('PKCE verifier: first vs last character wrong', async () => verifyCodeChallenge(flip(verifier, 0), challenge, 'S256'), async () => verifyCodeChallenge(flip(verifier, 42), challenge, 'S256')),
]
await app.close()
rmSync(dir, { recursive: true, force: true })
process.stdout.write('\nG10 timing (Welch t; pass abs(t) < 4.5, gross leak > 10)\n')
for (const r of results) {
  const verdict = Math.abs(r.t) < 4.5 ? 'pass' : Math.abs(r.t) > 10 ? 'LEAK' : 'noisy'
  process.stdout.write(`${r.label.padEnd(48)} t = ${r.t.toFixed(2).padStart(7)}  (${r.meanA.toFixed(0)} µs vs ${r.meanB.toFixed(0)} µs)  ${verdict}\n`)
}
if (results.some((r) => Math.abs(r.t) > 10)) process.exitCode = 1
