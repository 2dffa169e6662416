// Black-box probes of the running example app (run by test/example-app/http-probes.test.ts, shared with
// the other HTTP tests; this one's user is nina, its application its own, and its throttled
// username mallory): REDIR-2, real logins with hostile `next` values; CONF-3, forged Host and
// X-Forwarded-Host/Proto headers against discovery, RFC 8414 metadata, the device flow and the ID
// token `iss`.
import { request as httpRequest } from 'node:http'
import type { Test } from 'tap'
import { cli } from '../cli/helpers.js'
import { createUser } from '../example-app/in-process.js'
import { Browser, parseForm, type ExampleServer } from '../example-app/support.js'

/** What a hostile `next` may be: browsers strip tabs and newlines, read `\` as `/`, and more. */
const EVIL_NEXT = [
  '//evil.example', '//evil.example/', '///evil.example', '/\\evil.example', '\\\\evil.example', '\\/evil.example',
  '/\t/evil.example/', '/\n/evil.example', '/\r/evil.example', '/\r\n/evil.example', '\t//evil.example', '/\t\\evil.example',
  '/%09/evil.example', '/%2F%2Fevil.example', '/%5Cevil.example', 'https://evil.example/', 'https:evil.example', 'http:/evil.example',
  'javascript:alert(1)', ' javascript:alert(1)', 'data:text/html,<script>alert(1)</script>', '/..//evil.example', '/a/../..//evil.example',
  '/%2e%2e//evil.example', '/\0', '/\0//evil.example', '/\x7f', '/\x1b[31m', '/\x85', '/\u00a0/evil.example', '/\u2028/evil.example',
  '/\u2029', '/\ufeff/evil.example', '/\u202e', '/\u200b/evil.example', '\uff0f\uff0fevil.example', '/\uff0fevil.example',
  '/\ud800', 'evil.example', '', '/ok\r\nSet-Cookie: x=1', `/${'a'.repeat(20_000)}`, `//${'a'.repeat(20_000)}`,
]

/**
 * The hostile-looking values that are same-origin paths: escapes stay escapes (`/%09/…` is a path
 * segment, not a stripped tab), a full-width solidus is a character of the path, and a lone
 * surrogate reaches the server as U+FFFD (the form encoding replaces it).
 */
const PATH_CHARACTERS = ['/%09/evil.example', '/%2F%2Fevil.example', '/%5Cevil.example', '/\uff0fevil.example', '/\ud800']

/** A request with headers `fetch` will not send (`Host`), over plain HTTP. */
async function raw (base: string, method: string, path: string, headers: Record<string, string>, body?: string):
Promise<{ status: number, headers: Record<string, string | string[] | undefined>, body: string }> {
  const url = new URL(path, base)
  return await new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, method, path: url.pathname + url.search, headers }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => { text += chunk })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

/** Printable test names (a raw U+2028 or CR would break the TAP stream). */
function show (value: string): string {
  const shown = JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…(${value.length})` : value)
  return shown.replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

/** The probes, against the example app at `server`. */
export async function nextAndIssuerTests (t: Test, { base, database }: ExampleServer): Promise<void> {
  await t.test('the example app against hostile next values and forged Host headers', async (t) => {
    const create = async (...args: string[]): Promise<{ client_id: string, client_secret: string | null }> => {
      const r = await cli(['createapplication', ...args, '--database', database, '--json'])
      if (r.code !== 0) throw new Error(r.stderr)
      return JSON.parse(r.stdout) as { client_id: string, client_secret: string | null }
    }
    const [, tv] = await Promise.all([
      createUser({ database }, 'nina', 'wonderland'),
      create('public', 'urn:ietf:params:oauth:grant-type:device_code', '--name', 'Living-room TV'),
    ])

    /** A `Location` a browser on the login page resolves to this origin, and no header trick. */
    const onOrigin = (location: string): boolean => location.startsWith('/') && !location.startsWith('//') &&
      /^[\x21-\x7e]+$/.test(location) && new URL(location, `${base}/accounts/login/`).origin === base

    await t.test('REDIR-2: after a real login, every hostile next stays on the origin, and no value gives a 5xx', async (t) => {
      const browser = new Browser(base)
      for (const next of EVIL_NEXT) {
        const page = await browser.get(`/accounts/login/?${new URLSearchParams({ next }).toString()}`)
        t.ok(page.status < 500, `GET ${show(next)}: ${page.status}`)
        // Past Node's 16 KiB request head the server answers 431 before any route runs.
        const form = parseForm(await (page.status === 431 ? await browser.get('/accounts/login/') : page).text(), /^\/accounts\/login\/$/)
        t.ok(onOrigin(form.hidden.next ?? ''), `GET ${show(next)}: the form carries ${show(form.hidden.next ?? '')}`)
        // The POSTed value is the attacker's, not the one the page rendered.
        const res = await browser.submit(form.action, { ...form.hidden, next, username: 'nina', password: 'wonderland' })
        t.equal(res.status, 302, `POST ${show(next)}`)
        const location = res.headers.get('location') ?? ''
        t.ok(onOrigin(location), `POST ${show(next)}: Location ${show(location)} stays on ${base}`)
        // Only characters that are plainly part of a path survive, escaped; everything else is refused outright.
        if (!PATH_CHARACTERS.includes(next)) t.equal(location, '/', `POST ${show(next)}: refused, so the home page`)
      }
      // Raw request targets and duplicated parameters, which a form never sends.
      for (const path of ['/accounts/login/?next=/%09/evil.example', '/accounts/login/?next=//evil.example&next=/ok', '/accounts/login/?next[]=//evil',
        '/accounts/login/?next=%E0%A4%A', '/accounts/login/?next=/%u2028']) {
        const res = await raw(base, 'GET', path, {})
        t.ok(res.status < 500, `${path}: ${res.status}`)
      }
      const good = await browser.get('/accounts/login/?next=%2Fo%2Fapplications%2F%3Fa%3D1%26b%3D%2522')
      const form = parseForm(await good.text(), /^\/accounts\/login\/$/)
      t.equal(form.hidden.next, '/o/applications/?a=1&b=%22', 'a same-origin path still round-trips')
      const back = await browser.submit(form.action, { ...form.hidden, username: 'nina', password: 'wonderland' })
      t.equal(back.headers.get('location'), '/o/applications/?a=1&b=%22')
    })

    await t.test('CONF-3: a forged Host or X-Forwarded-Host/Proto never changes the configured issuer', async (t) => {
      const issuer = `${base}/o`
      const forgeries: Array<Record<string, string>> = [
        { host: 'evil.example' },
        { host: 'evil.example:8443', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' },
        { host: new URL(base).host, 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https', forwarded: 'host=evil.example;proto=https' },
      ]
      for (const headers of forgeries) {
        const what = JSON.stringify(headers)
        const discovery = await raw(base, 'GET', '/o/.well-known/openid-configuration', headers)
        t.equal(discovery.status, 200, what)
        const doc = JSON.parse(discovery.body) as Record<string, string>
        t.equal(doc.issuer, issuer, `discovery issuer, ${what}`)
        t.notMatch(discovery.body, /evil/, `no endpoint names the forged host, ${what}`)
        const rfc8414 = await raw(base, 'GET', '/.well-known/oauth-authorization-server/o', headers)
        t.equal(rfc8414.status, 200, `the example app serves RFC 8414 metadata, ${what}`)
        t.equal((JSON.parse(rfc8414.body) as Record<string, string>).issuer, issuer, `RFC 8414 issuer, ${what}`)
        t.notMatch(rfc8414.body, /evil/, what)

        const device = await raw(base, 'POST', '/o/device-authorization/', { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
          new URLSearchParams({ client_id: tv.client_id, scope: 'openid read' }).toString())
        t.equal(device.status, 200, what)
        const authorization = JSON.parse(device.body) as { device_code: string, user_code: string, verification_uri: string, verification_uri_complete: string }
        t.equal(authorization.verification_uri, `${issuer}/device/`, `device verification_uri, ${what}`)
        t.ok(authorization.verification_uri_complete.startsWith(`${issuer}/device/?`), what)

        // The user approves in a real browser; the device polls with the forged headers.
        const browser = new Browser(base)
        const login = parseForm(await (await browser.get('/accounts/login/')).text(), /^\/accounts\/login\/$/)
        await browser.submit(login.action, { ...login.hidden, username: 'nina', password: 'wonderland' })
        const entry = parseForm(await (await browser.get(authorization.verification_uri_complete)).text(), /\/o\/device\/$/)
        const entered = await browser.submit(entry.action, { ...entry.hidden, user_code: authorization.user_code })
        const confirm = parseForm(await (await browser.get(entered.headers.get('location') ?? '')).text(), /\/o\/device-confirm\/\d+\/$/)
        t.equal((await browser.submit(confirm.action, { ...confirm.hidden, allow: 'Authorize' })).status, 200, what)
        const token = await raw(base, 'POST', '/o/token/', { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
          new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: authorization.device_code, client_id: tv.client_id }).toString())
        t.equal(token.status, 200, `${what}: ${token.body}`)
        const idToken = (JSON.parse(token.body) as { id_token?: string }).id_token ?? ''
        const claims = JSON.parse(Buffer.from(idToken.split('.')[1] ?? '', 'base64url').toString()) as { iss?: string }
        t.equal(claims.iss, issuer, `ID token iss, ${what}`)
      }
    })

    // Last: its failed logins lock 127.0.0.1 out of the login form for the rest of the window.
    await t.test('REDIR-2: the throttled login page (429) carries only a safe next too', async (t) => {
      const browser = new Browser(base)
      const form = parseForm(await (await browser.get('/accounts/login/')).text(), /^\/accounts\/login\/$/)
      const statuses: number[] = []
      for (let i = 0; i < 12; i++) {
        const res = await browser.submit(form.action, { ...form.hidden, next: i % 2 === 0 ? '/\t/evil.example/' : '/\u2028//evil.example', username: 'mallory', password: `guess-${i}` })
        statuses.push(res.status)
        t.equal(parseForm(await res.text(), /^\/accounts\/login\/$/).hidden.next, '/', `attempt ${i + 1}: the page offers only the home page`)
      }
      t.same(statuses, [...Array(10).fill(401), 429, 429], 'the limit answers, never a 5xx')
    })
  })
}
