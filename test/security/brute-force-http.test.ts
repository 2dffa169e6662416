// BRUTE-1 over HTTP against the example app with its default limits. Everything comes from one
// address (127.0.0.1), like an office behind a NAT or a CI host: people log in with a few typing
// mistakes, a backend runs with a stale secret for a while, and none of it may be refused. Then an
// attacker on that same address guesses one user's password: only that (account, address) pair is
// refused. The cross-address cases (the attacker on A, the user on B) are in brute-force.test.ts,
// in process, since the example app does not trust X-Forwarded-For.
import t from 'tap'
import { cli } from '../cli/helpers.js'
import { Browser, parseForm, scriptRun, startExampleApp } from '../example-app/support.js'

interface CreatedApplication { client_id: string, client_secret: string }

t.test('BRUTE-1 one address runs logins and token requests with typos and misconfigured clients under the defaults, then an attacker there is refused only for the account it attacks (login page)', async (t) => {
  const { base, database, env } = await startExampleApp(t)
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
    await scriptRun('example', ['createuser', person.username, '--password', person.password], env)))

  const basic = (id: string, secret: string): string => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`
  const token = async (auth: string, fields: Record<string, string>): Promise<number> =>
    (await fetch(`${base}/o/token/`, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields) })).status
  const browserLogin = async (username: string, password: string): Promise<number> => {
    const browser = new Browser(base)
    const form = parseForm(await (await browser.get('/accounts/login/')).text(), /^\/accounts\/login\/$/)
    return (await browser.submit(form.action, { ...form.hidden, username, password })).status
  }

  const statuses: Record<string, number[]> = { loginTypo: [], login: [], grantTypo: [], grant: [], staleSecret: [], deletedClient: [], backend: [] }
  // Three rounds of logging in (laptop, phone, an expired session); in the first two the person
  // mistypes once at the login page and once in the app using the password grant. (The in-process
  // test in brute-force.test.ts runs 200 people behind one address; here each user costs a process.)
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

  // The attacker shares the address: the victim's (account, address) pair is refused from the 11th.
  const guesses: number[] = []
  for (let i = 0; i < 12; i++) guesses.push(await browserLogin('victim', `guess-${i}`))
  t.same(guesses, [...Array(10).fill(401), 429, 429], 'the 11th guess at the login page is refused')
  t.equal(await browserLogin('victim', 'the real password'), 429, 'that pair is refused the right password too (no oracle)')
  t.equal(await browserLogin('staff', 'correct horse'), 302, 'the address is not refused for other accounts')
})
