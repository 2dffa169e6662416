// INTRO-1 (and the REV-1/REV-2 hint rules) from outside: a server with open dynamic
// registration on a real port, probed with fetch the way an attacker would. The attacker
// registers a client anonymously and tries to read other clients' tokens through the
// introspection endpoint; the resource server is made by the CLI, as an administrator would.
// One server for the whole file.
import { createHash, randomBytes } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import t, { type Test } from 'tap'
import { cli } from '../cli/helpers.js'
import { buildAuthorizeApp, USER_HEADER } from '../helpers/authorize.js'
import { ALICE, basicAuth, createApplication, databasePath, type TokenBody } from '../helpers/index.js'
import { PASSWORD_GRANT, verifyAlice } from '../helpers/password-grant.js'

const app = await buildAuthorizeApp(t, {
  verifyUserCredentials: verifyAlice,
  settings: {
    dcrEnabled: true,
    dcrRegistrationPolicy: 'open',
    passwordGrantEnabled: true,
    scopes: { read: 'Reading scope', write: 'Writing scope', introspection: 'Introspect tokens' },
  },
})
await app.listen({ host: '127.0.0.1', port: 0 })
const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
/** The server's SQLite file, which the CLI opens as an administrator would. */
const database = databasePath(t)
const REDIRECT_URI = 'https://attacker.example/cb'
const INACTIVE_BODY = '{"active":false}'

interface Client { clientId: string, secret: string, authorization: string }

function client (clientId: string, secret: string): Client {
  return { clientId, secret, authorization: basicAuth(clientId, secret) }
}

async function postForm (path: string, params: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
  return await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(params).toString(),
    redirect: 'manual',
  })
}

async function introspect (token: string, authorization: string | null, hint?: string): Promise<Response> {
  const params: Record<string, string> = hint === undefined ? { token } : { token, token_type_hint: hint }
  return await postForm('/o/introspect/', params, authorization === null ? {} : { authorization })
}

async function register (metadata: Record<string, unknown>): Promise<Response> {
  return await fetch(`${base}/o/register/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(metadata) })
}

/** Registers a confidential authorization-code client anonymously (RFC 7591, open policy). */
async function registerAnonymously (extra: Record<string, unknown> = {}): Promise<Client> {
  const res = await register({ redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'client_secret_basic', grant_types: ['authorization_code', 'refresh_token'], ...extra })
  if (res.status !== 201) throw new Error(`registration failed: ${res.status} ${await res.text()}`)
  const body = await res.json() as { client_id: string, client_secret: string }
  return client(body.client_id, body.client_secret)
}

/** The authorization-code flow with PKCE over HTTP, the user approving on the consent page. */
async function codeFlow (c: Client, scope = 'read write'): Promise<TokenBody> {
  const verifier = randomBytes(32).toString('base64url')
  const challenge = createHash('sha256').update(verifier).digest('base64url')
  const query = new URLSearchParams({ response_type: 'code', client_id: c.clientId, redirect_uri: REDIRECT_URI, scope, code_challenge: challenge, code_challenge_method: 'S256' })
  const page = await fetch(`${base}/o/authorize/?${query.toString()}`, { headers: { [USER_HEADER]: ALICE.id }, redirect: 'manual' })
  const html = await page.text()
  if (page.status !== 200) throw new Error(`no consent page: ${page.status} ${page.headers.get('location') ?? html}`)
  const action = /<form method="post" action="([^"]*)">/.exec(html)?.[1] ?? ''
  const fields: Record<string, string> = { allow: 'Authorize' }
  for (const m of html.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)) fields[m[1] ?? ''] = (m[2] ?? '').replace(/&amp;/g, '&').replace(/&#39;/g, "'").replace(/&quot;/g, '"')
  const cookie = page.headers.getSetCookie().map((c) => c.split(';')[0] ?? '').join('; ')
  const decided = await postForm(action.replace(/&amp;/g, '&'), fields, { [USER_HEADER]: ALICE.id, cookie })
  const code = new URL(decided.headers.get('location') ?? 'x:').searchParams.get('code')
  if (code === null) throw new Error(`no code: ${decided.status} ${decided.headers.get('location') ?? ''}`)
  const res = await postForm('/o/token/', { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: verifier }, { authorization: c.authorization })
  if (res.status !== 200) throw new Error(`code exchange failed: ${await res.text()}`)
  return await res.json() as TokenBody
}

async function token (c: Client, params: Record<string, string>): Promise<Response> {
  return await postForm('/o/token/', params, { authorization: c.authorization })
}

/** Exactly `{"active":false}`, byte for byte, uncached: indistinguishable from an unknown token. */
async function assertInactive (t: Test, res: Response, message: string): Promise<void> {
  t.equal(res.status, 200, message)
  t.equal(res.headers.get('cache-control'), 'no-store', `${message}: no-store`)
  t.equal(await res.text(), INACTIVE_BODY, `${message}: exactly {"active":false}`)
}

async function activeBody (res: Response): Promise<Record<string, unknown>> {
  if (res.status !== 200) throw new Error(`introspection failed: ${res.status} ${await res.text()}`)
  return await res.json() as Record<string, unknown>
}

// The victim: an ordinary confidential client of the host, with a user's token pair.
const victimApp = await createApplication(app, { authorizationGrantType: 'password', name: 'Victim' })
const victim = client(victimApp.application.clientId, victimApp.clientSecret ?? '')
const victimTokens = await (await token(victim, { ...PASSWORD_GRANT, scope: 'read write' })).json() as TokenBody
const victimRefresh = victimTokens.refresh_token ?? ''

// The resource server, made by an administrator with the CLI on the server's database.
const created = await cli(['createapplication', 'confidential', 'client-credentials', '--name', 'Items API', '--allow-introspection', '--database', database, '--json'])
if (created.code !== 0) throw new Error(created.stderr)
const rsBody = JSON.parse(created.stdout) as { client_id: string, client_secret: string, allow_introspection: boolean }
const rs = client(rsBody.client_id, rsBody.client_secret)

const HINTS = [undefined, 'access_token', 'refresh_token', 'id_token', 'urn:ietf:params:oauth:token-type:jwt', '']

t.test('INTRO-1 no credentials, bad credentials or a public client: 401, never an answer about the token', async (t) => {
  const none = await introspect(victimTokens.access_token, null)
  t.equal(none.status, 401)
  t.same(await none.json(), { error: 'invalid_client', error_description: 'Client authentication failed.' })
  const viaGet = await fetch(`${base}/o/introspect/?token=${victimTokens.access_token}`)
  t.equal(viaGet.status, 401, 'GET without credentials')
  const wrong = await introspect(victimTokens.access_token, basicAuth(rs.clientId, `${rs.secret}x`))
  t.equal(wrong.status, 401, 'a wrong secret')
  const pub = await register({ redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'none' })
  t.equal(pub.status, 201)
  const publicId = (await pub.json() as { client_id: string }).client_id
  const asPublic = await postForm('/o/introspect/', { token: victimTokens.access_token, client_id: publicId })
  t.equal(asPublic.status, 401, 'a public client (anonymously registered) may not introspect')
  t.same(await asPublic.json(), { error: 'invalid_client', error_description: 'Client authentication failed.' })
  const bearer = await introspect(victimTokens.access_token, 'Bearer not-a-token')
  t.equal(bearer.status, 401)
  t.equal(bearer.headers.get('www-authenticate'), 'Bearer error="invalid_token"')
})

t.test('INTRO-1 an anonymously registered client learns nothing about another client\'s tokens', async (t) => {
  const attacker = await registerAnonymously({ client_name: 'Scanner' })
  const ccToken = await (await token(rs, { grant_type: 'client_credentials', scope: 'read' })).json() as TokenBody
  for (const hint of HINTS) {
    await assertInactive(t, await introspect(victimTokens.access_token, attacker.authorization, hint), `victim's access token, hint ${String(hint)}`)
    await assertInactive(t, await introspect(victimRefresh, attacker.authorization, hint), `victim's refresh token, hint ${String(hint)}`)
    await assertInactive(t, await introspect(ccToken.access_token, attacker.authorization, hint), `the resource server's token, hint ${String(hint)}`)
  }
  // The same answer as for a token that does not exist, and for one that was revoked.
  await assertInactive(t, await introspect(randomBytes(32).toString('base64url'), attacker.authorization), 'an unknown token')
  const own = await codeFlow(attacker)
  t.equal((await postForm('/o/revoke-token/', { token: own.access_token }, { authorization: attacker.authorization })).status, 200)
  await assertInactive(t, await introspect(own.access_token, attacker.authorization), 'its own revoked token')
  // The victim's tokens are still good: the resource server sees them.
  t.match(await activeBody(await introspect(victimTokens.access_token, rs.authorization)), { active: true, client_id: victim.clientId })
})

t.test('INTRO-1 a client learns about its own tokens; its refresh token only itself', async (t) => {
  const attacker = await registerAnonymously()
  const own = await codeFlow(attacker)
  const access = await activeBody(await introspect(own.access_token, attacker.authorization))
  t.match(access, { active: true, client_id: attacker.clientId, sub: ALICE.id, scope: 'read write', token_type: 'Bearer' }, 'its access token')
  const refresh = await activeBody(await introspect(own.refresh_token ?? '', attacker.authorization, 'access_token'))
  t.match(refresh, { active: true, client_id: attacker.clientId, token_type: 'refresh_token' }, 'its refresh token (a wrong hint still finds it)')
  // A resource server learns about the access token, never about the refresh token.
  t.match(await activeBody(await introspect(own.access_token, rs.authorization)), { active: true, client_id: attacker.clientId })
  for (const hint of HINTS) await assertInactive(t, await introspect(own.refresh_token ?? '', rs.authorization, hint), `the resource server and another's refresh token, hint ${String(hint)}`)
})

t.test('INTRO-1 an anonymous client cannot get introspection rights: not by metadata, nor by scope', async (t) => {
  const asked = await register({ redirect_uris: [REDIRECT_URI], scope: 'read introspection' })
  t.equal(asked.status, 400)
  t.same(await asked.json(), { error: 'invalid_client_metadata', error_description: 'The introspection scope is granted by the server administrator, not by registration.' })
  const sneaky = await registerAnonymously({ allow_introspection: true, allowIntrospection: true, introspection: true })
  for (const hint of HINTS) await assertInactive(t, await introspect(victimTokens.access_token, sneaky.authorization, hint), `unknown metadata is ignored, hint ${String(hint)}`)

  // Asking for the scope at the authorization endpoint: invalid_scope, shown on the error page
  // (a self-registered client's errors before approval are never redirected).
  const query = new URLSearchParams({ response_type: 'code', client_id: sneaky.clientId, redirect_uri: REDIRECT_URI, scope: 'introspection', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256' })
  const authorize = await fetch(`${base}/o/authorize/?${query.toString()}`, { headers: { [USER_HEADER]: ALICE.id }, redirect: 'manual' })
  t.equal(authorize.status, 400)
  t.equal(authorize.headers.get('location'), null)
  t.match(await authorize.text(), /invalid_scope/, 'authorize refuses the scope')
  // The default scopes (DOT's __all__) leave it out; a refresh cannot add it.
  const own = await codeFlow(sneaky, '')
  t.equal(own.scope, 'read write', 'no scope asked: every declared scope but introspection')
  const widened = await token(sneaky, { grant_type: 'refresh_token', refresh_token: own.refresh_token ?? '', scope: 'introspection' })
  t.equal(widened.status, 400)
  t.equal((await widened.json() as { error: string }).error, 'invalid_scope')
  const asBearer = await introspect(victimTokens.access_token, `Bearer ${own.access_token}`)
  t.equal(asBearer.status, 401, 'its access token is no introspection credential')
  t.equal((await asBearer.json() as { error: string }).error, 'invalid_token')
})

t.test('INTRO-1 a resource server made by the CLI learns about every client\'s access tokens, through its credentials or a bearer token', async (t) => {
  t.equal(rsBody.allow_introspection, true)
  const full = await activeBody(await introspect(victimTokens.access_token, rs.authorization))
  t.same(Object.keys(full).sort(), ['active', 'client_id', 'exp', 'iat', 'scope', 'sub', 'token_type'], 'the whole RFC 7662 answer (no loadUser here: no username)')
  t.match(full, { active: true, client_id: victim.clientId, sub: ALICE.id, scope: 'read write', token_type: 'Bearer' })
  for (const hint of HINTS) await assertInactive(t, await introspect(victimRefresh, rs.authorization, hint), `another client's refresh token, hint ${String(hint)}`)

  const scoped = await token(rs, { grant_type: 'client_credentials', scope: 'introspection' })
  t.equal(scoped.status, 200, 'the resource server may obtain the introspection scope')
  const bearer = `Bearer ${(await scoped.json() as TokenBody).access_token}`
  t.match(await activeBody(await introspect(victimTokens.access_token, bearer)), { active: true, client_id: victim.clientId }, 'as a bearer (DOT RESOURCE_SERVER_AUTH_TOKEN)')
  await assertInactive(t, await introspect(victimRefresh, bearer), 'a bearer learns nothing about refresh tokens either')
  const viaGet = await fetch(`${base}/o/introspect/?token=${victimTokens.access_token}`, { headers: { authorization: bearer } })
  t.match(await activeBody(viaGet), { active: true }, 'GET with the bearer')

  const plain = await cli(['createapplication', 'confidential', 'client-credentials', '--database', database, '--json'])
  const other = JSON.parse(plain.stdout) as { client_id: string, client_secret: string }
  await assertInactive(t, await introspect(victimTokens.access_token, basicAuth(other.client_id, other.client_secret)), 'without --allow-introspection: inactive')
})

t.test('REV-1 and REV-2 over HTTP: an unknown token_type_hint is ignored; another client\'s token is untouched', async (t) => {
  const attacker = await registerAnonymously()
  const pair = await (await token(victim, PASSWORD_GRANT)).json() as TokenBody
  for (const hint of HINTS) {
    const params: Record<string, string> = hint === undefined ? { token: pair.access_token } : { token: pair.access_token, token_type_hint: hint }
    const res = await postForm('/o/revoke-token/', params, { authorization: attacker.authorization })
    t.equal(res.status, 200, `another client's token, hint ${String(hint)}: 200`)
    t.equal(await res.text(), '')
  }
  t.match(await activeBody(await introspect(pair.access_token, rs.authorization)), { active: true }, 'and it is untouched')
  const unauthenticated = await postForm('/o/revoke-token/', { token: pair.access_token })
  t.equal(unauthenticated.status, 401)
  t.equal((await unauthenticated.json() as { error: string }).error, 'invalid_client')
  const missing = await postForm('/o/revoke-token/', {}, { authorization: victim.authorization })
  t.equal(missing.status, 400)

  const revoked = await postForm('/o/revoke-token/', { token: pair.refresh_token ?? '', token_type_hint: 'id_token' }, { authorization: victim.authorization })
  t.equal(revoked.status, 200, 'RFC 7009 §2.2: an unknown hint is ignored, not unsupported_token_type')
  await assertInactive(t, await introspect(pair.access_token, rs.authorization), 'the refresh token and its access token are revoked')
  const reuse = await token(victim, { grant_type: 'refresh_token', refresh_token: pair.refresh_token ?? '' })
  t.equal((await reuse.json() as { error: string }).error, 'invalid_grant')
})
