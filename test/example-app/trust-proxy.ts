// The example app behind a TLS-terminating proxy (TRUST_PROXY). With the proxy's address trusted,
// X-Forwarded-For names each client, so the failure limits refuse the guessing client alone, and
// X-Forwarded-Proto says it came over https, so the session cookie is `Secure`. From an address
// TRUST_PROXY does not name, both headers are ignored: a client cannot choose its own address.
// Run by http-probes.test.ts; each app here is its own (two start-ups), its counters fresh.
import type { Test } from 'tap'
import { runExampleApp } from './in-process.js'

const ISSUER = 'https://auth.example.test/o'

/** Eleven wrong secrets for one client from `guesser`, then one from `other`: their statuses. */
async function guessFrom (base: string, guesser: string, other: string): Promise<{ guesser: number, other: number }> {
  const post = async (forwardedFor: string): Promise<number> => (await fetch(`${base}/o/token/`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': forwardedFor, 'x-forwarded-proto': 'https' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'guessed-client', client_secret: 'wrong' }).toString(),
  })).status
  let last = 0
  for (let i = 0; i < 11; i++) last = await post(guesser)
  return { guesser: last, other: await post(other) }
}

/** The session cookie the login page sets, as received over https through the proxy. */
async function sessionCookie (base: string): Promise<string> {
  const res = await fetch(`${base}/accounts/login/`, { headers: { 'x-forwarded-proto': 'https', 'x-forwarded-for': '203.0.113.9' } })
  return res.headers.getSetCookie().find((c) => c.startsWith('sessionid=')) ?? ''
}

export async function trustProxyTests (t: Test): Promise<void> {
  await t.test('the example app behind a proxy (TRUST_PROXY)', proxied)
}

async function proxied (t: Test): Promise<void> {
  const [trusted, untrusted] = await Promise.all([
    runExampleApp(t, { env: { ISSUER, TRUST_PROXY: '127.0.0.1' } }),
    runExampleApp(t, { env: { ISSUER, TRUST_PROXY: '192.0.2.1' } }),
  ])
  await t.test('TRUST_PROXY names the proxy: each forwarded client is counted alone, and https makes the session cookie Secure', async (t) => {
    const statuses = await guessFrom(trusted.base, '198.51.100.1', '198.51.100.2')
    t.equal(statuses.guesser, 429, 'the guessing client is refused')
    t.equal(statuses.other, 401, 'another client behind the same proxy is not')
    t.match(await sessionCookie(trusted.base), /; Secure/i, 'the session cookie is Secure')
  })
  await t.test('a request from an address TRUST_PROXY does not name cannot choose its address or scheme', async (t) => {
    const statuses = await guessFrom(untrusted.base, '198.51.100.1', '198.51.100.2')
    t.equal(statuses.guesser, 429)
    t.equal(statuses.other, 429, 'X-Forwarded-For is ignored: the sender\'s own address is refused')
    const cookie = await sessionCookie(untrusted.base)
    t.match(cookie, /^sessionid=/, 'a session cookie is set')
    t.notMatch(cookie, /; Secure/i, 'X-Forwarded-Proto is ignored: plain http, no Secure')
  })
}
