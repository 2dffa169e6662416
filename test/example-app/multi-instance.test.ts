// Two example-app instances on two ports sharing one PostgreSQL database, as two instances behind
// a load balancer (issue 6; SECURITY-TARGETS CODE-2, RT-2, STORE-3 [PG]): what one instance
// issues, consumes or revokes is at once what the other sees. Both cache verified tokens (issue
// 7, on by default); a revocation on one reaches the other's cache by NOTIFY in the revoking
// transaction. A is the program `npm start` runs, in its own process; B runs in this test's
// process (in-process.ts), built from the same environment by the same code: that spares a node
// start and still keeps A and B in two processes, so only PostgreSQL carries what one does to the
// other. Skipped without PostgreSQL unless OAT_REQUIRE_POSTGRES=1.
import { createHash } from 'node:crypto'
import pg from 'pg'
import t from 'tap'
import { tokenChecksum } from '../../lib/tokens/checksum.js'
import { cli } from '../cli/helpers.js'
import { postgresTestDatabase } from '../helpers/postgres.js'
import { createUser, runExampleApp } from './in-process.js'
import { Browser, parseForm, startExampleApp } from './support.js'

const REDIRECT_URI = 'http://127.0.0.1:8400/callback'
const CODE_VERIFIER = 'multi-instance-code-verifier-of-at-least-43-characters'

interface TokenBody { access_token: string, refresh_token?: string }

/** POSTs a form; the JSON body and the status. */
async function post (url: string, params: Record<string, string>, headers: Record<string, string> = {}): Promise<{ status: number, body: Record<string, unknown> }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(params).toString() })
  const text = await res.text()
  // RFC 7009 §2.2: a revocation answers 200 with an empty body.
  return { status: res.status, body: text === '' ? {} : JSON.parse(text) as Record<string, unknown> }
}

const url = await postgresTestDatabase(t)
if (url !== null) {
  t.test('two instances on one PostgreSQL database act as one server', async (t) => {
    // Both start at once and both migrate: the advisory lock lets one apply, the other wait.
    const [a, b] = await Promise.all([startExampleApp(t, { database: url }), runExampleApp(t, { database: url })])
    const create = async (...args: string[]): Promise<{ client_id: string, client_secret: string }> => {
      const r = await cli(['createapplication', ...args, '--database', url, '--json'])
      if (r.code !== 0) throw new Error(r.stderr)
      return JSON.parse(r.stdout) as { client_id: string, client_secret: string }
    }
    const [, web, service, native] = await Promise.all([
      createUser(a, 'alice', 'wonderland'),
      create('public', 'authorization-code', '--name', 'Web app', '--redirect-uris', REDIRECT_URI),
      create('confidential', 'client-credentials', '--name', 'Service'),
      create('public', 'password', '--name', 'Native app'),
    ])
    const basic = { authorization: `Basic ${Buffer.from(`${service.client_id}:${service.client_secret}`).toString('base64')}` }
    const hello = async (base: string, token: string): Promise<number> => (await fetch(`${base}/api/hello`, { headers: { authorization: `Bearer ${token}` } })).status

    await t.test('a token issued on A works on B', async (t) => {
      const issued = await post(`${a.base}/o/token/`, { grant_type: 'client_credentials' }, basic)
      t.equal(issued.status, 200)
      t.equal(await hello(b.base, String(issued.body.access_token)), 200)
    })

    await t.test('B serves verified tokens from its cache, yet a token revoked on A is refused by B within G6\'s bound, not the cache\'s 60 s (STORE-3)', async (t) => {
      const issue = async (): Promise<string> => String((await post(`${a.base}/o/token/`, { grant_type: 'client_credentials' }, basic)).body.access_token)
      // A row deleted behind the stores' backs (no NOTIFY) is still accepted by B: B answers from
      // its cache. (B starts listening at its first verification; until then it does not cache.)
      const sql = new pg.Client({ connectionString: url })
      await sql.connect()
      t.teardown(async () => { await sql.end() })
      let cached = false
      for (let attempt = 0; attempt < 20 && !cached; attempt++) {
        const probe = await issue()
        t.equal(await hello(b.base, probe), 200)
        await sql.query('DELETE FROM oauth2_accesstoken WHERE token_checksum = $1', [tokenChecksum(probe)])
        cached = await hello(b.base, probe) === 200
        if (!cached) await new Promise((resolve) => setTimeout(resolve, 50))
      }
      t.ok(cached, 'B cached a verified token')

      // The NOTIFY is sent when A commits, but it reaches B's listener on its own connection, so a
      // request to B sent the moment A answers can overtake it (seen once in CI, 2026-11-29). G6
      // bounds the delay for a second instance (max 250 ms); without the NOTIFY, B would keep
      // serving the token from its cache for the cache's 60 s.
      for (let round = 0; round < 3; round++) {
        const token = await issue()
        t.equal(await hello(b.base, token), 200, 'B accepts it, and caches it')
        t.equal(await hello(b.base, token), 200, 'B accepts it again (from its cache)')
        t.equal((await post(`${a.base}/o/revoke-token/`, { token }, basic)).status, 200, 'A revokes it')
        const revokedAt = performance.now()
        let status = await hello(b.base, token)
        // A bound of seconds, not G6's 250 ms: this test shares a loaded machine with the suite
        // (test/security/revocation-expiry.spec.ts holds the figure in its full run).
        while (status === 200 && performance.now() - revokedAt < 5000) {
          await new Promise((resolve) => setTimeout(resolve, 5))
          status = await hello(b.base, token)
        }
        t.equal(status, 403, 'B refuses it within 5 s, not the cache\'s 60 s: the NOTIFY reached B\'s cache')
        t.equal(await hello(b.base, token), 403, 'and keeps refusing it')
      }
    })

    await t.test('a code exchanged on A cannot be replayed on B, and the replay revokes its tokens (CODE-1)', async (t) => {
      const browser = new Browser(a.base)
      const challenge = createHash('sha256').update(CODE_VERIFIER).digest('base64url')
      const query = { response_type: 'code', client_id: web.client_id, redirect_uri: REDIRECT_URI, scope: 'read', state: 'xyz', code_challenge: challenge, code_challenge_method: 'S256' }
      const authorize = `/o/authorize/?${new URLSearchParams(query).toString()}`
      const login = new URL((await browser.get(authorize)).headers.get('location') ?? '', a.base)
      const loginForm = parseForm(await (await browser.get(login.href)).text(), /^\/accounts\/login\/$/)
      await browser.submit(loginForm.action, { ...loginForm.hidden, username: 'alice', password: 'wonderland' })
      const consent = parseForm(await (await browser.get(authorize)).text(), /\/o\/authorize\/$/)
      const answer = await browser.submit(consent.action, { ...consent.hidden, allow: 'Authorize' })
      const code = new URL(answer.headers.get('location') ?? '').searchParams.get('code') ?? ''
      t.match(code, /^[\w-]{20,}$/, 'A hands out a code')

      const exchange = { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, client_id: web.client_id, code_verifier: CODE_VERIFIER }
      const first = await post(`${a.base}/o/token/`, exchange)
      t.equal(first.status, 200, `exchanged on A: ${JSON.stringify(first.body)}`)
      const replay = await post(`${b.base}/o/token/`, exchange)
      t.same(replay, { status: 400, body: { error: 'invalid_grant', error_description: replay.body.error_description } }, 'replayed on B: invalid_grant')
      t.equal(await hello(a.base, String(first.body.access_token)), 403, 'the replay revoked the first exchange\'s token, for A too')
    })

    await t.test('50 concurrent refreshes of one token spread over A and B: exactly one succeeds (RT-2)', async (t) => {
      const tokens = await post(`${a.base}/o/token/`, { grant_type: 'password', username: 'alice', password: 'wonderland', client_id: native.client_id })
      t.equal(tokens.status, 200)
      const refresh = { grant_type: 'refresh_token', refresh_token: String(tokens.body.refresh_token), client_id: native.client_id }
      const results = await Promise.all(Array.from({ length: 50 }, async (_, i) => await post(`${(i % 2 === 0 ? a : b).base}/o/token/`, refresh)))
      const statuses = results.map((r) => r.status)
      t.equal(statuses.filter((s) => s === 200).length, 1, 'one 200')
      t.equal(statuses.filter((s) => s === 400).length, 49, 'and 49 × 400, never a 5xx')
      t.ok(results.every((r) => r.status === 200 || r.body.error === 'invalid_grant'), 'every loser gets invalid_grant')
      // Reuse protection (the default): the losers are replays, so the winner's family is revoked too.
      const winner = results.find((r) => r.status === 200)?.body as TokenBody | undefined
      t.equal(await hello(b.base, winner?.access_token ?? ''), 403, 'the family is revoked on every instance')
    })
  })
}
