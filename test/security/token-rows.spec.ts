// Attack-table rows of the token side that had no test of their own (see test/security/README.md
// for where every other row is tested): CONF-1, CAUTH-1…3, REV-2, INPUT-1, INPUT-3…6, BRUTE-2,
// LEAK-5, STORE-4. One app per test, real SQLite file.
import { readFileSync } from 'node:fs'
import Database from 'better-sqlite3'
import type { FastifyInstance } from 'fastify'
import t from 'tap'
import { oauthMetadata, RFC9700_SETTINGS } from '../../index.js'
import type { SecretHasher } from '../../lib/tokens/secret-hasher.js'
import {
  ALICE, basicAuth, buildApp, createApplication, databasePath, FORM, form, postToken, testHasher, TOKEN_ERRORS, type TokenBody,
} from '../helpers/index.js'
import { passwordGrant, passwordGrantOptions } from '../helpers/password-grant.js'
import { buildAuthorizeApp, codeFlowTokens, createCodeApplication, getAuthorize, pkcePair, REDIRECT_URI } from '../helpers/authorize.js'

const BASIC_CHALLENGE = 'Basic realm="oauth"'

async function revoke (app: FastifyInstance, params: Record<string, string>, headers: Record<string, string> = {}) {
  return await app.inject({ method: 'POST', url: '/o/revoke-token/', payload: form(params), headers: { ...FORM, ...headers } })
}

t.test('CONF-1 secure defaults, checked in one place (and each opt-in behaves when switched on)', async (t) => {
  const app = await buildAuthorizeApp(t, { verifyUserCredentials: passwordGrantOptions().verifyUserCredentials })
  await app.register(oauthMetadata)
  const code = await createCodeApplication(app)
  const pw = await createApplication(app, { authorizationGrantType: 'password' })
  const password = await passwordGrant(app, pw)
  t.equal(password.statusCode, 400)
  t.same(password.json(), TOKEN_ERRORS.unsupportedGrantType, 'the password grant is off')
  const implicit = await getAuthorize(app, { response_type: 'token', client_id: code.application.clientId, redirect_uri: REDIRECT_URI })
  t.notOk(String(implicit.headers.location ?? '').includes('access_token='), 'response_type=token issues no token')
  t.match(String(implicit.headers.location ?? implicit.body), /unsupported_response_type|unauthorized_client|invalid_request/, 'and is refused')
  const plain = await getAuthorize(app, { response_type: 'code', client_id: code.application.clientId, redirect_uri: REDIRECT_URI, code_challenge: 'a'.repeat(43), code_challenge_method: 'plain' })
  t.match(String(plain.headers.location), /error=invalid_request/, 'plain PKCE is refused')
  const metadata = (await app.inject('/.well-known/oauth-authorization-server')).json<Record<string, string[]>>()
  t.notOk(metadata.grant_types_supported?.includes('password'), 'metadata lists no password grant')
  t.notOk(metadata.response_types_supported?.includes('token'), 'metadata lists no implicit')
  t.same(metadata.code_challenge_methods_supported, ['S256'], 'metadata lists S256 only')
  const s = app.oauth.settings
  t.same({ password: s.passwordGrantEnabled, implicit: s.implicitGrantEnabled, plain: s.pkcePlainAllowed, pkce: s.pkceRequired, query: s.allowQueryStringTokens, reuse: s.refreshTokenReuseProtection, limits: s.rateLimitFailures },
    { password: false, implicit: false, plain: false, pkce: true, query: false, reuse: true, limits: 10 }, 'every insecure option is off by default')
  t.match(RFC9700_SETTINGS, { implicitGrantEnabled: false, passwordGrantEnabled: false, pkcePlainAllowed: false, allowQueryStringTokens: false, authorizationResponseIss: true }, 'one-line RFC 9700 preset')

  const on = await buildApp(t, passwordGrantOptions())
  const pwOn = await createApplication(on, { authorizationGrantType: 'password' })
  const ok = await passwordGrant(on, pwOn)
  t.equal(ok.statusCode, 200, 'the explicit opt-in enables the password grant')
})

t.test('CAUTH-1 client-type rules: public client_credentials, no authentication, two methods at once', async (t) => {
  const app = await buildApp(t)
  const pub = await createApplication(app, { clientType: 'public', authorizationGrantType: 'authorization-code', redirectUris: [REDIRECT_URI] })
  const conf = await createApplication(app)
  const publicCc = await postToken(app, { grant_type: 'client_credentials', client_id: pub.application.clientId })
  t.equal(publicCc.statusCode, 400)
  t.same(publicCc.json(), TOKEN_ERRORS.unauthorizedClient, 'a public client may not use client_credentials')
  const anonymous = await postToken(app, { grant_type: 'client_credentials', client_id: conf.application.clientId })
  t.equal(anonymous.statusCode, 401)
  t.same(anonymous.json(), TOKEN_ERRORS.invalidClient, 'a confidential client without its secret')
  const both = await postToken(app, { grant_type: 'client_credentials', client_secret: conf.clientSecret ?? '' }, { authorization: basicAuth(conf.application.clientId, conf.clientSecret ?? '') })
  t.equal(both.statusCode, 400)
  t.same(both.json(), { error: 'invalid_request', error_description: 'Use only one client authentication method.' }, 'Basic and client_secret_post together')
  const none = await postToken(app, { grant_type: 'client_credentials' })
  t.equal(none.statusCode, 401, 'no credentials at all')
})

t.test('CAUTH-2 an unknown client_id costs the same hash as a wrong secret (dummy verification)', async (t) => {
  const calls: string[] = []
  const hasher: SecretHasher = {
    hash: async (s) => await testHasher.hash(s),
    verify: async (s, e) => { calls.push('verify'); return await testHasher.verify(s, e) },
    verifyDummy: async (s) => { calls.push('dummy'); return await testHasher.verifyDummy(s) },
  }
  const app = await buildApp(t, { hasher })
  const { application } = await createApplication(app)
  await postToken(app, { grant_type: 'client_credentials' }, { authorization: basicAuth(application.clientId, 'wrong') })
  await postToken(app, { grant_type: 'client_credentials' }, { authorization: basicAuth('no-such-client', 'wrong') })
  t.same(calls, ['verify', 'dummy'], 'one KDF run either way')
})

t.test('CAUTH-3 garbled Authorization headers: 401 invalid_client with a Basic challenge, never 5xx; %-encoded credentials decode', async (t) => {
  const app = await buildApp(t)
  const { application, clientSecret } = await createApplication(app, { clientSecret: 'p%a:ss w+rd' } as never)
  const b64 = (s: string | Buffer): string => Buffer.from(s).toString('base64')
  const garbled = [
    'Basic !!!notbase64', `Basic ${b64('no-colon')}`, `Basic ${b64(`:${clientSecret ?? ''}`)}`, 'Basic', 'Basic ',
    `Basic ${b64(Buffer.from([0x61, 0x3a, 0xff, 0xfe]))}`, `Basic ${b64('%ZZ:x')}`, `Basic ${b64(`${application.clientId}:wrong`)}`,
  ]
  for (const authorization of garbled) {
    const res = await postToken(app, { grant_type: 'client_credentials' }, { authorization })
    t.equal(res.statusCode, 401, authorization)
    t.same(res.json(), TOKEN_ERRORS.invalidClient)
    t.equal(res.headers['www-authenticate'], BASIC_CHALLENGE)
  }
  const encoded = await postToken(app, { grant_type: 'client_credentials' }, { authorization: basicAuth(application.clientId, clientSecret ?? '') })
  t.equal(encoded.statusCode, 200, 'RFC 6749 §2.3.1 form-encoded credentials are decoded')
})

t.test('REV-2 revocation: no authentication, no token, unknown token, wrong hint', async (t) => {
  const app = await buildApp(t)
  const { application, clientSecret } = await createApplication(app)
  const auth = { authorization: basicAuth(application.clientId, clientSecret ?? '') }
  const issued = (await postToken(app, { grant_type: 'client_credentials' }, auth)).json<TokenBody>().access_token
  const unauth = await revoke(app, { token: issued })
  t.equal(unauth.statusCode, 401)
  t.equal(unauth.json<{ error: string }>().error, 'invalid_client')
  t.ok(await app.oauth.authenticateBearer({ authorization: `Bearer ${issued}`, queryToken: undefined }).then((r) => r.ok), 'a failed call revoked nothing')
  const missing = await revoke(app, {}, auth)
  t.equal(missing.statusCode, 400)
  t.equal(missing.json<{ error: string }>().error, 'invalid_request')
  t.equal((await revoke(app, { token: 'unknown-token' }, auth)).statusCode, 200, 'an unknown token is 200')
  const hinted = await revoke(app, { token: issued, token_type_hint: 'refresh_token' }, auth)
  t.equal(hinted.statusCode, 200, 'a wrong hint is ignored')
  t.notOk(await app.oauth.authenticateBearer({ authorization: `Bearer ${issued}`, queryToken: undefined }).then((r) => r.ok), 'and the token is revoked')
})

t.test('INPUT-1 SQL injection payloads in every parameter: only 4xx, schema and row counts unchanged', async (t) => {
  // Brute-force limits off: every payload must reach the store, not a 429.
  const app = await buildAuthorizeApp(t, passwordGrantOptions({ settings: { rateLimitFailures: null } }))
  const code = await createCodeApplication(app)
  await codeFlowTokens(app, code)
  const db = new Database(databasePath(t), { readonly: true })
  t.teardown(() => db.close())
  const snapshot = (): string => JSON.stringify([
    db.prepare('SELECT name, sql FROM sqlite_master ORDER BY name').all(),
    ...['oauth2_application', 'oauth2_accesstoken', 'oauth2_refreshtoken', 'oauth2_grant'].map((table) => db.prepare(`SELECT count(*) AS n FROM ${table}`).get()),
  ])
  const before = snapshot()
  const payloads = ["' OR '1'='1", "x'; DROP TABLE oauth2_accesstoken; --", '" OR ""="', '1) OR (1=1', "%' --", "admin'/*", '\u0000', "'||(SELECT sql FROM sqlite_master)||'"]
  const names = ['client_id', 'client_secret', 'token', 'code', 'refresh_token', 'username', 'password', 'scope', 'redirect_uri', 'state', 'token_type_hint', 'code_verifier']
  for (const payload of payloads) {
    for (const grant of ['authorization_code', 'refresh_token', 'password', 'client_credentials']) {
      const params: Record<string, string> = { grant_type: grant }
      for (const name of names) params[name] = payload
      const res = await postToken(app, params)
      t.ok(res.statusCode >= 400 && res.statusCode < 500, `token ${grant}: ${res.statusCode}`)
      const basic = await postToken(app, { grant_type: grant, code: payload }, { authorization: basicAuth(payload, payload) })
      t.equal(basic.statusCode, 401, 'Basic credentials')
    }
    for (const url of ['/o/revoke-token/', '/o/introspect/']) {
      const res = await app.inject({ method: 'POST', url, headers: { ...FORM, authorization: basicAuth(code.application.clientId, code.clientSecret ?? '') }, payload: form({ token: payload, token_type_hint: payload }) })
      t.ok(res.statusCode < 500, `${url}: ${res.statusCode}`)
      if (url === '/o/introspect/') t.same(res.json(), { active: false })
    }
    const authorize = await getAuthorize(app, { response_type: 'code', client_id: payload, redirect_uri: payload, scope: payload, state: payload })
    t.equal(authorize.statusCode, 400, 'authorize')
  }
  t.equal(snapshot(), before, 'no schema change and no row added or removed')
})

t.test('INPUT-3 each parameter sent twice gets invalid_request', async (t) => {
  const app = await buildAuthorizeApp(t)
  const code = await createCodeApplication(app)
  const auth = { authorization: basicAuth(code.application.clientId, code.clientSecret ?? '') }
  const base = { grant_type: 'authorization_code', code: 'c', redirect_uri: REDIRECT_URI, code_verifier: pkcePair().verifier }
  for (const name of ['grant_type', 'code', 'redirect_uri', 'code_verifier', 'client_id']) {
    const value = name === 'client_id' ? code.application.clientId : (base as Record<string, string>)[name] ?? ''
    const res = await postToken(app, { ...base, [name]: [value, `${value}x`] }, auth)
    t.equal(res.statusCode, 400, name)
    t.equal(res.json<{ error: string }>().error, 'invalid_request', `${name} twice`)
  }
  const refresh = await postToken(app, { grant_type: 'refresh_token', refresh_token: ['a', 'b'] }, auth)
  t.equal(refresh.json<{ error: string }>().error, 'invalid_request', 'refresh_token twice')
  const twice = await app.inject({ method: 'POST', url: '/o/revoke-token/', headers: { ...FORM, ...auth }, payload: form({ token: ['a', 'b'] }) })
  t.equal(twice.json<{ error: string }>().error, 'invalid_request', 'token twice (revoke)')
  const inBoth = await app.inject({ method: 'POST', url: '/o/token/?grant_type=client_credentials', headers: { ...FORM, ...auth }, payload: form({ grant_type: 'client_credentials' }) })
  t.equal(inBoth.json<{ error: string }>().error, 'invalid_request', 'query plus body')
  for (const name of ['response_type', 'client_id', 'redirect_uri', 'scope', 'state']) {
    const params: Record<string, string | string[]> = { response_type: 'code', client_id: code.application.clientId, redirect_uri: REDIRECT_URI, scope: 'read', state: 's', code_challenge: pkcePair().challenge, code_challenge_method: 'S256' }
    params[name] = [String(params[name]), String(params[name])]
    const res = await getAuthorize(app, params)
    t.ok(res.statusCode === 400 || /error=invalid_request/.test(String(res.headers.location)), `authorize: ${name} twice is refused (${res.statusCode})`)
    t.notMatch(String(res.headers.location ?? ''), /code=/, 'and no code is issued')
  }
})

t.test('INPUT-4 look-alike identifiers never match: homoglyph client_id, NFD username', async (t) => {
  const app = await buildApp(t, passwordGrantOptions())
  const { application, clientSecret } = await createApplication(app, { authorizationGrantType: 'password' })
  const lookalike = application.clientId.replace(/[a-z]/, (c) => String.fromCharCode(c.charCodeAt(0) + 0xFEE0))
  t.not(lookalike, application.clientId)
  const res = await postToken(app, { grant_type: 'client_credentials' }, { authorization: basicAuth(lookalike, clientSecret ?? '') })
  t.same(res.json(), TOKEN_ERRORS.invalidClient, 'a full-width homoglyph of the client_id is another client')
  const auth = { authorization: basicAuth(application.clientId, clientSecret ?? '') }
  const nfd = await passwordGrant(app, auth.authorization, { username: ALICE.username.normalize('NFD').replace('a', 'а') })
  t.equal(nfd.statusCode, 400, 'a Cyrillic look-alike username does not log in')
  const zeroWidth = await passwordGrant(app, auth.authorization, { username: `${ALICE.username}\u200b` })
  t.equal(zeroWidth.statusCode, 400, 'a zero-width character makes another username')
})

t.test('INPUT-5 unknown parameters are ignored and an empty scope means the default scopes', async (t) => {
  const app = await buildApp(t)
  const { application, clientSecret } = await createApplication(app)
  const res = await postToken(app, { grant_type: 'client_credentials', scope: '', extra: 'foobar' }, { authorization: basicAuth(application.clientId, clientSecret ?? '') })
  t.equal(res.statusCode, 200)
  t.equal(res.json<TokenBody>().scope, 'read write', 'scope= gets the default scopes')
})

t.test('INPUT-6 wrong methods and bearer presentations', async (t) => {
  const app = await buildApp(t)
  const get = await app.inject({ method: 'GET', url: '/o/token/' })
  t.equal(get.statusCode, 405)
  t.equal(get.headers.allow, 'POST')
  t.equal(get.json<{ error: string }>().error, 'invalid_request', 'JSON 405 on the token endpoint')
  const { application, clientSecret } = await createApplication(app)
  const token = (await postToken(app, { grant_type: 'client_credentials' }, { authorization: basicAuth(application.clientId, clientSecret ?? '') })).json<TokenBody>().access_token
  const check = async (authorization: string | undefined, query = ''): Promise<boolean> =>
    (await app.oauth.authenticateBearer({ authorization, queryToken: query === '' ? undefined : query })).ok
  t.ok(await check(`bearer ${token}`), 'the scheme is case-insensitive')
  t.ok(await check(`BEARER ${token}`))
  t.notOk(await check('Bearer '), 'an empty bearer token is refused')
  t.notOk(await check('Bearer'), 'a bare scheme is refused')
  t.notOk(await check(`Bearer ${token}`, token), 'two methods at once are refused')
})

t.test('BRUTE-2 every secret is ≥ 256 bits from the CSPRNG: length, alphabet, no collision', async (t) => {
  const app = await buildAuthorizeApp(t)
  const code = await createCodeApplication(app)
  const tokens = await codeFlowTokens(app, code)
  for (const value of [tokens.access_token, tokens.refresh_token ?? '']) t.match(value, /^[A-Za-z0-9_-]{43}$/, '32 bytes, base64url')
  t.ok((code.clientSecret ?? '').length >= 128 && /^[A-Za-z0-9]+$/.test(code.clientSecret ?? ''), 'client secret: 128 characters of 62 (≈ 762 bits)')
  const { cryptoRandom } = await import('../../lib/random.js')
  const seen = new Set<string>()
  const counts = new Map<string, number>()
  for (let i = 0; i < 100_000; i++) {
    const token = cryptoRandom.token(32)
    seen.add(token)
    const first = token[0] ?? ''
    counts.set(first, (counts.get(first) ?? 0) + 1)
  }
  t.equal(seen.size, 100_000, 'no collision in 100k draws')
  // First character: 64 equally likely symbols; chi-square with 63 degrees of freedom, p > 0.001 ⇔ χ² < 103.4.
  const expected = 100_000 / 64
  const chi = [...counts.values()].reduce((sum, n) => sum + (n - expected) ** 2 / expected, 0) + (64 - counts.size) * expected
  t.ok(chi < 103.4, `uniform first character (χ² = ${chi.toFixed(1)})`)
})

t.test('LEAK-5 no issued secret is stored in clear in the database file', async (t) => {
  const app = await buildAuthorizeApp(t, passwordGrantOptions())
  const code = await createCodeApplication(app)
  const { verifier } = pkcePair() // the one codeFlowTokens sends
  const tokens = await codeFlowTokens(app, code)
  const pw = await createApplication(app, { authorizationGrantType: 'password' })
  const pwTokens = (await passwordGrant(app, pw)).json<TokenBody>()
  const refreshed = (await postToken(app, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token ?? '' }, { authorization: basicAuth(code.application.clientId, code.clientSecret ?? '') })).json<TokenBody>()
  await app.close()
  const bytes = Buffer.concat([readFileSync(databasePath(t)), ...['-wal'].map((s) => { try { return readFileSync(databasePath(t) + s) } catch { return Buffer.alloc(0) } })])
  const secrets = [code.clientSecret, pw.clientSecret, tokens.access_token, tokens.refresh_token, pwTokens.access_token, pwTokens.refresh_token, refreshed.access_token, refreshed.refresh_token, ALICE.password, verifier]
  const found = secrets.filter((s): s is string => typeof s === 'string' && s !== '' && bytes.includes(Buffer.from(s)))
  t.same(found, [], `none of ${secrets.length} secrets is in the database file`)
})
