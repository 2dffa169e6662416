// grant_type=authorization_code at the token endpoint (RFC 6749 §4.1.3, RFC 7636 §4.5–4.6).
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import t, { type Test } from 'tap'
import type { CreatedApplication } from '../../lib/applications.js'
import {
  buildAuthorizeApp, codeClient, codeRequest, countRows, createCodeApplication, exchangeCode, obtainCode, pkcePair, REDIRECT_URI,
  type CodeClient, setupCodeClient,
} from '../helpers/authorize.js'
import {
  ALICE, assertTokenError, assertTokenPair, basicAuth, bearerWorks, createApplication, databasePath, fixedClock, invalidRequest,
  postToken, TOKEN_ERRORS, type BuildAppOptions, type TokenBody,
} from '../helpers/index.js'

const { verifier, challenge } = pkcePair()

/** The `redirect_uri` and `code_verifier` a well-behaved client sends with a code from `codeRequest`. */
const EXCHANGE = { redirect_uri: REDIRECT_URI, code_verifier: verifier } as const

async function setup (t: Test, options: BuildAppOptions = {}): Promise<{ app: FastifyInstance, created: CreatedApplication, client: CodeClient }> {
  const { app, created } = await setupCodeClient(t, options)
  app.get('/api/me', { onRequest: app.oauth.protect() }, async (request) => ({ user: request.accessToken?.userId ?? null }))
  return { app, created, client: codeClient(created) }
}

async function refresh (app: FastifyInstance, client: CodeClient, refreshToken: string): Promise<LightMyRequestResponse> {
  return await postToken(app, { grant_type: 'refresh_token', refresh_token: refreshToken }, { authorization: basicAuth(client.clientId, client.clientSecret ?? '') })
}

async function me (app: FastifyInstance, token: string): Promise<LightMyRequestResponse> {
  return await app.inject({ method: 'GET', url: '/api/me', headers: { authorization: `Bearer ${token}` } })
}

t.test('a code exchanges for an access and a refresh token that speak for the approving user', async (t) => {
  const { app, created, client } = await setup(t)
  const code = await obtainCode(app, codeRequest(created, { scope: 'read' }))
  const body = assertTokenPair(t, await exchangeCode(app, client, code, EXCHANGE))
  t.equal(body.scope, 'read', 'the approved scope')
  t.not(body.access_token, body.refresh_token)

  const whoami = await me(app, body.access_token)
  t.equal(whoami.statusCode, 200)
  t.same(whoami.json(), { user: ALICE.id }, 'request.accessToken.userId is the user')
  const row = await app.oauth.store.listAccessTokensForUser(ALICE.id)
  t.equal(row.length, 1)
  t.equal(row[0]?.applicationId, created.application.id)

  const refreshed = await refresh(app, client, body.refresh_token ?? '')
  t.equal(refreshed.statusCode, 200, 'the refresh token works')
  t.equal(refreshed.json<TokenBody>().scope, 'read')
})

t.test('a scope parameter on the token request cannot widen what was approved', async (t) => {
  const { app, created, client } = await setup(t)
  const code = await obtainCode(app, codeRequest(created, { scope: 'read' }))
  const res = await exchangeCode(app, client, code, { ...EXCHANGE, scope: 'read write' })
  t.equal(res.statusCode, 200)
  t.equal(res.json<TokenBody>().scope, 'read')
})

t.test('CODE-1 a replayed code is invalid_grant and revokes the access and refresh tokens of the first exchange', async (t) => {
  const { app, created, client } = await setup(t)
  const code = await obtainCode(app, codeRequest(created))
  const first = (await exchangeCode(app, client, code, EXCHANGE)).json<TokenBody>()
  t.equal((await me(app, first.access_token)).statusCode, 200, 'works before the replay')

  assertTokenError(t, await exchangeCode(app, client, code, EXCHANGE), 400, TOKEN_ERRORS.invalidGrant, 'the replay')
  t.equal((await me(app, first.access_token)).statusCode, 403, 'the access token is refused')
  t.notOk(await bearerWorks(app, first.access_token))
  assertTokenError(t, await refresh(app, client, first.refresh_token ?? ''), 400, TOKEN_ERRORS.invalidGrant, 'the refresh token is dead')
  assertTokenError(t, await exchangeCode(app, client, code, EXCHANGE), 400, TOKEN_ERRORS.invalidGrant, 'a third try')
})

t.test('CODE-1 a replay 30 s later, and one after the code expired, still revoke', async (t) => {
  const clock = fixedClock()
  const { app, created, client } = await setup(t, { clock })
  const code = await obtainCode(app, codeRequest(created))
  const first = (await exchangeCode(app, client, code, EXCHANGE)).json<TokenBody>()
  clock.advance(30)
  assertTokenError(t, await exchangeCode(app, client, code, EXCHANGE), 400, TOKEN_ERRORS.invalidGrant)
  t.notOk(await bearerWorks(app, first.access_token))

  const code2 = await obtainCode(app, codeRequest(created))
  const second = (await exchangeCode(app, client, code2, EXCHANGE)).json<TokenBody>()
  clock.advance(3600)
  assertTokenError(t, await exchangeCode(app, client, code2, EXCHANGE), 400, TOKEN_ERRORS.invalidGrant)
  t.notOk(await bearerWorks(app, second.access_token), 'revoked although the code had expired')
  assertTokenError(t, await refresh(app, client, second.refresh_token ?? ''), 400, TOKEN_ERRORS.invalidGrant)
})

t.test('CODE-1 the replay also revokes the tokens that rotation derived from the first exchange', async (t) => {
  const { app, created, client } = await setup(t)
  const code = await obtainCode(app, codeRequest(created))
  const first = (await exchangeCode(app, client, code, EXCHANGE)).json<TokenBody>()
  const rotated = (await refresh(app, client, first.refresh_token ?? '')).json<TokenBody>()
  t.ok(await bearerWorks(app, rotated.access_token))
  assertTokenError(t, await exchangeCode(app, client, code, EXCHANGE), 400, TOKEN_ERRORS.invalidGrant)
  t.notOk(await bearerWorks(app, rotated.access_token), 'the rotated access token is refused')
  assertTokenError(t, await refresh(app, client, rotated.refresh_token ?? ''), 400, TOKEN_ERRORS.invalidGrant, 'the rotated refresh token is dead')
})

t.test('CODE-1 a replay does not touch the user\'s other tokens', async (t) => {
  const { app, created, client } = await setup(t)
  const other = (await exchangeCode(app, client, await obtainCode(app, codeRequest(created)), EXCHANGE)).json<TokenBody>()
  const code = await obtainCode(app, codeRequest(created))
  await exchangeCode(app, client, code, EXCHANGE)
  await exchangeCode(app, client, code, EXCHANGE)
  t.ok(await bearerWorks(app, other.access_token), 'tokens from another code still work')
  t.equal((await refresh(app, client, other.refresh_token ?? '')).statusCode, 200)
})

t.test('CODE-2 50 concurrent exchanges of one code: exactly one 200, the rest invalid_grant, and the winner is revoked', async (t) => {
  const { app, created, client } = await setup(t)
  const code = await obtainCode(app, codeRequest(created))
  const results = await Promise.all(Array.from({ length: 50 }, async () => await exchangeCode(app, client, code, EXCHANGE)))
  const statuses = results.map((r) => r.statusCode)
  t.equal(statuses.filter((s) => s === 200).length, 1, 'exactly one winner')
  t.equal(statuses.filter((s) => s === 400).length, 49, 'every other request is a 400')
  t.notOk(statuses.some((s) => s >= 500), 'never a 5xx')
  for (const res of results.filter((r) => r.statusCode === 400)) t.same(res.json(), TOKEN_ERRORS.invalidGrant)

  const winner = results.find((r) => r.statusCode === 200)?.json<TokenBody>()
  if (winner === undefined) throw new Error('no winner')
  t.notOk(await bearerWorks(app, winner.access_token), 'the losers were replays: the winning access token is revoked')
  assertTokenError(t, await refresh(app, client, winner.refresh_token ?? ''), 400, TOKEN_ERRORS.invalidGrant, 'and its refresh token')
  t.equal(countRows(t, 'oauth2_accesstoken'), 0, 'no live access token is left')
  t.equal(countRows(t, 'oauth2_refreshtoken'), 1, 'only one token set was ever issued')
})

t.test('CODE-3 another client cannot redeem the code, even with its own valid credentials', async (t) => {
  const { app, created } = await setup(t)
  const other = await createCodeApplication(app)
  const publicOther = await createCodeApplication(app, { clientType: 'public' })
  const code = await obtainCode(app, codeRequest(created))
  assertTokenError(t, await exchangeCode(app, codeClient(other), code, EXCHANGE), 400, TOKEN_ERRORS.invalidGrant, 'confidential B')
  assertTokenError(t, await exchangeCode(app, codeClient(publicOther), code, EXCHANGE), 400, TOKEN_ERRORS.invalidGrant, 'public B with client_id only')
  t.equal(countRows(t, 'oauth2_accesstoken'), 0, 'no tokens')
})

t.test('CODE-4 a redirect_uri that differs from, or omits, the one of the authorization request is invalid_grant', async (t) => {
  const app = await buildAuthorizeApp(t)
  const created = await createCodeApplication(app, { redirectUris: [REDIRECT_URI, 'https://client.example.com/other'] })
  const client = codeClient(created)
  const code = await obtainCode(app, codeRequest(created))
  for (const uri of ['https://client.example.com/other', `${REDIRECT_URI}/`, `${REDIRECT_URI}?x=1`, 'https://CLIENT.example.com/cb', '']) {
    assertTokenError(t, await exchangeCode(app, client, code, { redirect_uri: uri, code_verifier: verifier }), 400, TOKEN_ERRORS.invalidGrant, JSON.stringify(uri))
  }
  assertTokenError(t, await exchangeCode(app, client, code, { code_verifier: verifier }), 400, TOKEN_ERRORS.invalidGrant, 'omitted')
  t.equal(countRows(t, 'oauth2_accesstoken'), 0)
  t.equal((await exchangeCode(app, client, code, EXCHANGE)).statusCode, 200, 'the right one still works: a mismatch does not burn the code')
})

t.test('CODE-4 when the authorization request omitted redirect_uri (one registered), the token request may omit it', async (t) => {
  const app = await buildAuthorizeApp(t)
  const created = await createCodeApplication(app)
  const client = codeClient(created)
  const { redirect_uri: _r, ...noRedirect } = codeRequest(created)
  const omitted = await obtainCode(app, noRedirect)
  t.equal((await exchangeCode(app, client, omitted, { code_verifier: verifier })).statusCode, 200, 'omitted both times')
  const named = await obtainCode(app, noRedirect)
  t.equal((await exchangeCode(app, client, named, EXCHANGE)).statusCode, 200, 'the registered URI may be named')
  const wrong = await obtainCode(app, noRedirect)
  assertTokenError(t, await exchangeCode(app, client, wrong, { redirect_uri: 'https://client.example.com/other', code_verifier: verifier }),
    400, TOKEN_ERRORS.invalidGrant, 'an unregistered one may not')
})

t.test('CODE-5 a code lives 60 s by default', async (t) => {
  const clock = fixedClock()
  const { app, created, client } = await setup(t, { clock })
  const fresh = await obtainCode(app, codeRequest(created))
  clock.advance(59)
  t.equal((await exchangeCode(app, client, fresh, EXCHANGE)).statusCode, 200, 'at 59 s')
  const stale = await obtainCode(app, codeRequest(created))
  clock.advance(60)
  assertTokenError(t, await exchangeCode(app, client, stale, EXCHANGE), 400, TOKEN_ERRORS.invalidGrant, 'at 60 s')
  t.equal(countRows(t, 'oauth2_accesstoken'), 1, 'nothing issued for the stale code')
})

t.test('CODE-5 authorizationCodeExpireSeconds sets the lifetime', async (t) => {
  const clock = fixedClock()
  const { app, created, client } = await setup(t, { clock, settings: { authorizationCodeExpireSeconds: 1 } })
  const code = await obtainCode(app, codeRequest(created))
  clock.advance(2)
  assertTokenError(t, await exchangeCode(app, client, code, EXCHANGE), 400, TOKEN_ERRORS.invalidGrant)
})

t.test('CODE-5 a lifetime over 10 minutes is a configuration error', async (t) => {
  await t.rejects(buildAuthorizeApp(t, { settings: { authorizationCodeExpireSeconds: 601 } }), { name: 'ImproperlyConfiguredError' })
})

t.test('PKCE-2 a missing, malformed or wrong code_verifier is refused, and the right one then works', async (t) => {
  const { app, created, client } = await setup(t)
  const code = await obtainCode(app, codeRequest(created))
  assertTokenError(t, await exchangeCode(app, client, code, { redirect_uri: REDIRECT_URI }), 400, invalidRequest('Request is missing code_verifier parameter.'), 'missing')
  assertTokenError(t, await exchangeCode(app, client, code, { redirect_uri: REDIRECT_URI, code_verifier: '' }), 400,
    invalidRequest('Request is missing code_verifier parameter.'), 'empty')
  const malformed = invalidRequest('The code_verifier parameter is malformed.')
  for (const bad of ['a'.repeat(42), 'a'.repeat(129), `${'a'.repeat(42)}+`, `${'a'.repeat(42)}/`, `${'a'.repeat(42)}=`, `${'a'.repeat(42)} `, `${'a'.repeat(42)}é`]) {
    assertTokenError(t, await exchangeCode(app, client, code, { redirect_uri: REDIRECT_URI, code_verifier: bad }), 400, malformed, `${bad.length} chars: ${bad.slice(-1)}`)
  }
  for (const wrong of [pkcePair('other').verifier, challenge, 'a'.repeat(43), 'a'.repeat(128)]) {
    assertTokenError(t, await exchangeCode(app, client, code, { redirect_uri: REDIRECT_URI, code_verifier: wrong }), 400, TOKEN_ERRORS.invalidGrant, 'wrong verifier')
  }
  assertTokenError(t, await exchangeCode(app, client, code, { redirect_uri: REDIRECT_URI, code_verifier: [verifier, verifier] }),
    400, invalidRequest('Parameter repeated: code_verifier.'), 'repeated')
  t.equal(countRows(t, 'oauth2_accesstoken'), 0)
  t.equal((await exchangeCode(app, client, code, EXCHANGE)).statusCode, 200, 'the correct verifier')
})

t.test('PKCE-1 a code_verifier for a code issued without a challenge is invalid_grant (RFC 9700 §4.8.2 downgrade)', async (t) => {
  const { app, created, client } = await setup(t, { settings: { pkceRequired: false } })
  const { code_challenge: _c, code_challenge_method: _m, ...noPkce } = codeRequest(created)
  const code = await obtainCode(app, noPkce)
  assertTokenError(t, await exchangeCode(app, client, code, EXCHANGE), 400, TOKEN_ERRORS.invalidGrant, 'any verifier')
  assertTokenError(t, await exchangeCode(app, client, code, { redirect_uri: REDIRECT_URI, code_verifier: 'x' }), 400, TOKEN_ERRORS.invalidGrant, 'even a malformed one')
  t.equal(countRows(t, 'oauth2_accesstoken'), 0)
  t.equal((await exchangeCode(app, client, code, { redirect_uri: REDIRECT_URI })).statusCode, 200, 'without a verifier it is fine')
})

t.test('plain PKCE (where allowed) compares the verifier with the challenge itself', async (t) => {
  const { app, created, client } = await setup(t, { settings: { pkcePlainAllowed: true } })
  const plain = 'plain-verifier-'.padEnd(50, 'x')
  const code = await obtainCode(app, codeRequest(created, { code_challenge: plain, code_challenge_method: 'plain' }))
  assertTokenError(t, await exchangeCode(app, client, code, { redirect_uri: REDIRECT_URI, code_verifier: plain.replace(/x$/, 'y') }), 400, TOKEN_ERRORS.invalidGrant)
  assertTokenError(t, await exchangeCode(app, client, code, EXCHANGE), 400, TOKEN_ERRORS.invalidGrant, 'an S256 pair does not fit a plain challenge')
  t.equal((await exchangeCode(app, client, code, { redirect_uri: REDIRECT_URI, code_verifier: plain })).statusCode, 200)
})

t.test('a public client exchanges with client_id only (PKCE is its proof)', async (t) => {
  const app = await buildAuthorizeApp(t)
  const created = await createCodeApplication(app, { clientType: 'public' })
  t.equal(created.clientSecret, null)
  const code = await obtainCode(app, codeRequest(created))
  const res = await exchangeCode(app, codeClient(created), code, EXCHANGE)
  t.equal(res.statusCode, 200)
  t.ok(res.json<TokenBody>().refresh_token)
})

t.test('a confidential client must authenticate to exchange its code', async (t) => {
  const { app, created, client } = await setup(t)
  const code = await obtainCode(app, codeRequest(created))
  const params = { grant_type: 'authorization_code', code, ...EXCHANGE }
  const noSecret = await postToken(app, { ...params, client_id: client.clientId })
  t.equal(noSecret.statusCode, 401, 'client_id only')
  t.equal(noSecret.json<{ error: string }>().error, 'invalid_client')
  const wrong = await postToken(app, params, { authorization: basicAuth(client.clientId, 'not-the-secret') })
  t.equal(wrong.statusCode, 401, 'wrong secret')
  t.same(wrong.json(), TOKEN_ERRORS.invalidClient)
  t.equal((await postToken(app, params)).statusCode, 401, 'nothing at all')
  t.equal(countRows(t, 'oauth2_accesstoken'), 0)
  t.equal((await exchangeCode(app, client, code, EXCHANGE)).statusCode, 200, 'the code was not burned by unauthenticated attempts')
})

t.test('missing, unknown, repeated and foreign codes', async (t) => {
  const { app, created, client } = await setup(t)
  assertTokenError(t, await exchangeCode(app, client, '', EXCHANGE), 400, invalidRequest('Request is missing code parameter.'), 'empty')
  const noCode = await postToken(app, { grant_type: 'authorization_code', ...EXCHANGE }, { authorization: basicAuth(client.clientId, client.clientSecret ?? '') })
  assertTokenError(t, noCode, 400, invalidRequest('Request is missing code parameter.'), 'missing')
  assertTokenError(t, await exchangeCode(app, client, 'no-such-code', EXCHANGE), 400, TOKEN_ERRORS.invalidGrant, 'unknown')
  const code = await obtainCode(app, codeRequest(created))
  assertTokenError(t, await exchangeCode(app, client, [code, code], EXCHANGE), 400, invalidRequest('Parameter repeated: code.'), 'repeated')
  const cc = await createApplication(app)
  const ccRes = await exchangeCode(app, codeClient(cc), code, EXCHANGE)
  assertTokenError(t, ccRes, 400, TOKEN_ERRORS.unauthorizedClient, 'a client-credentials application may not use the grant')
  t.equal((await exchangeCode(app, client, code, EXCHANGE)).statusCode, 200)
})

t.test('the code is stored only as a checksum (and so are the tokens)', async (t) => {
  const { app, created, client } = await setup(t)
  const code = await obtainCode(app, codeRequest(created))
  const tokens = (await exchangeCode(app, client, code, EXCHANGE)).json<TokenBody>()
  await app.close()
  const dir = dirname(databasePath(t))
  const files = readdirSync(dir).filter((name) => name.startsWith('oauth.db'))
  t.ok(files.includes('oauth.db'))
  const bytes = Buffer.concat(files.map((name) => readFileSync(join(dir, name))))
  t.ok(bytes.length > 0)
  for (const [label, secret] of [['code', code], ['access token', tokens.access_token], ['refresh token', tokens.refresh_token ?? ''], ['verifier', verifier]] as const) {
    t.equal(bytes.indexOf(Buffer.from(secret)), -1, `the clear ${label} is nowhere in the database files`)
  }
})
