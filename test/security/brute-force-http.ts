// BRUTE-1 over HTTP against the example app with its default limits. First everything comes from
// one address (127.0.0.1), like an office behind a NAT or a CI host: people log in with a few
// typing mistakes, a backend runs with a stale secret for a while, and none of it may be refused.
// Then attackers guess from other loopback addresses (Linux routes all of 127.0.0.0/8 to the
// server's 127.0.0.1, and the app trusts no X-Forwarded-For): only they are refused, the right
// password and secret from elsewhere work at once. Last, an attacker on the office's own address
// is refused only for the account it attacks. The example app is run by
// test/example-app/http-probes.test.ts, shared with the other probes, which fail far fewer times
// from 127.0.0.1 than its per-address limit (100); its users (staff, victim) and applications are
// its own, so the per-account and per-client counters start from zero.
import { request } from 'node:http'
import type { Test } from 'tap'
import { cli } from '../cli/helpers.js'
import { createUser } from '../example-app/in-process.js'
import { parseForm, type ExampleServer } from '../example-app/support.js'

interface CreatedApplication { client_id: string, client_secret: string }

interface Answer { status: number, cookies: string[], text: string }

/** One HTTP request from the local address `from` (fetch cannot choose it). */
async function send (base: string, from: string, method: 'GET' | 'POST', path: string, headers: Record<string, string>, body = ''): Promise<Answer> {
  return await new Promise((resolve, reject) => {
    const req = request(new URL(path, base), { method, localAddress: from, headers: body === '' ? headers : { ...headers, 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => { text += chunk })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, cookies: (res.headers['set-cookie'] ?? []).map((c) => c.split(';')[0] ?? ''), text }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

/** BRUTE-1 against the example app at `server`. */
export async function bruteForceHttpTests (t: Test, { base, database }: ExampleServer): Promise<void> {
  await t.test('BRUTE-1 over HTTP, defaults: typos from one address never refused; only the failing address is', async (t) => {
    const create = async (...args: string[]): Promise<CreatedApplication> => {
      const r = await cli(['createapplication', ...args, '--database', database, '--json'])
      if (r.code !== 0) throw new Error(r.stderr)
      return JSON.parse(r.stdout) as CreatedApplication
    }
    const [passwordApp, backend] = await Promise.all([
      create('confidential', 'password', '--name', 'Office app'),
      create('confidential', 'client-credentials', '--name', 'Backend'),
    ])
    const people = [{ username: 'staff', password: 'correct horse' }]
    await Promise.all([...people, { username: 'victim', password: 'the real password' }].map(async (person) =>
      await createUser({ database }, person.username, person.password)))

    const basic = (id: string, secret: string): string => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`
    const token = async (auth: string, fields: Record<string, string>, from = '127.0.0.1'): Promise<number> =>
      (await send(base, from, 'POST', '/o/token/', { authorization: auth }, new URLSearchParams(fields).toString())).status
    /** A browser on address `from`: opens the login page (session cookie, CSRF token) and submits it. */
    const browserLogin = async (username: string, password: string, from = '127.0.0.1'): Promise<number> => {
      const page = await send(base, from, 'GET', '/accounts/login/', {})
      const form = parseForm(page.text, /^\/accounts\/login\/$/)
      const fields = new URLSearchParams({ ...form.hidden, username, password }).toString()
      return (await send(base, from, 'POST', form.action, { cookie: page.cookies.join('; ') }, fields)).status
    }

    const statuses: Record<string, number[]> = { loginTypo: [], login: [], grantTypo: [], grant: [], staleSecret: [], deletedClient: [], backend: [] }
    // Three rounds of logging in (laptop, phone, an expired session); in the first two the person
    // mistypes once at the login page and once in the app using the password grant. (The in-process
    // test in brute-force.test.ts runs 200 people behind one address; here one person stands for them.)
    for (let round = 0; round < 3; round++) {
      for (const person of people) {
        if (round < 2) statuses.loginTypo?.push(await browserLogin(person.username, `${person.password}!`))
        statuses.login?.push(await browserLogin(person.username, person.password))
        const grant = { grant_type: 'password', username: person.username, scope: 'read' }
        if (round < 2) statuses.grantTypo?.push(await token(basic(passwordApp.client_id, passwordApp.client_secret), { ...grant, password: 'Password1' }))
        statuses.grant?.push(await token(basic(passwordApp.client_id, passwordApp.client_secret), { ...grant, password: person.password }))
      }
    }
    // A backend deployed with last week's secret fails a few times before someone fixes it.
    for (let i = 0; i < 8; i++) statuses.staleSecret?.push(await token(basic(backend.client_id, 'last-weeks-secret'), { grant_type: 'client_credentials' }))
    // A CI job still configured with a client that was deleted.
    for (let i = 0; i < 5; i++) statuses.deletedClient?.push(await token(basic('deleted-client', 'whatever'), { grant_type: 'client_credentials' }))
    for (let i = 0; i < 5; i++) statuses.backend?.push(await token(basic(backend.client_id, backend.client_secret), { grant_type: 'client_credentials' }))
    t.same(statuses, {
      loginTypo: Array(2).fill(401),
      login: Array(3).fill(302),
      grantTypo: Array(2).fill(400),
      grant: Array(3).fill(200),
      staleSecret: Array(8).fill(401),
      deletedClient: Array(5).fill(401),
      backend: Array(5).fill(200),
    }, '17 failures from one address (more than the old per-address limit of 10) and every right credential succeeded')

    // Attackers on other addresses: wrong passwords for the victim at the login page from A, wrong
    // secrets for the backend at the token endpoint from C. Only A and C are refused.
    const fromA: number[] = []
    for (let i = 0; i < 12; i++) fromA.push(await browserLogin('victim', `guess-${i}`, '127.0.0.2'))
    t.same(fromA, [...Array(10).fill(401), 429, 429], 'A: the 11th wrong password is refused')
    t.equal(await browserLogin('victim', 'the real password', '127.0.0.2'), 429, 'A is refused the right password too (no oracle)')
    t.equal(await browserLogin('victim', 'the real password', '127.0.0.3'), 302, 'B logs in as the victim with the right password')
    const fromC: number[] = []
    for (let i = 0; i < 12; i++) fromC.push(await token(basic(backend.client_id, `guess-${i}`), { grant_type: 'client_credentials' }, '127.0.0.4'))
    t.same(fromC, [...Array(10).fill(401), 429, 429], 'C: the 11th wrong secret is refused')
    t.equal(await token(basic(backend.client_id, backend.client_secret), { grant_type: 'client_credentials' }, '127.0.0.4'), 429, 'C is refused the right secret too')
    t.equal(await token(basic(backend.client_id, backend.client_secret), { grant_type: 'client_credentials' }), 200, 'the backend, elsewhere, still gets its token')

    // The attacker shares the address: the victim's (account, address) pair is refused from the 11th.
    const guesses: number[] = []
    for (let i = 0; i < 12; i++) guesses.push(await browserLogin('victim', `guess-${i}`))
    t.same(guesses, [...Array(10).fill(401), 429, 429], 'the 11th guess at the login page is refused')
    t.equal(await browserLogin('victim', 'the real password'), 429, 'that pair is refused the right password too (no oracle)')
    t.equal(await browserLogin('staff', 'correct horse'), 302, 'the address is not refused for other accounts')
  })
}
