// DPOP-1 … DPOP-6: hostile DPoP proofs and presentations at the token endpoint, a protected
// resource and UserInfo. Every answer is a protocol error (400 JSON, or a 401 DPoP challenge),
// never a 500 and never a token; a proof replayed to another instance on the same database is refused.
import { SignJWT } from 'jose'
import t from 'tap'
import { buildApp, createClient, databasePath, postToken } from '../helpers/index.js'
import { buildDpopApp, dpopKey, ISSUER, ORIGIN, proof, TOKEN_URL, unsignedJws } from '../dpop/support.js'

t.test('DPOP-1 malformed, oversized and hostile proofs at the token endpoint: 400 invalid_dpop_proof, never a 500', async (t) => {
  const app = await buildDpopApp(t)
  const client = await createClient(app)
  const key = await dpopKey()
  const now = Math.floor(Date.now() / 1000)
  const part = (value: unknown): string => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url')
  const good = await proof(key)
  const [h, p, s] = good.split('.') as [string, string, string]
  const probes: Array<[string, string]> = [
    ['empty', ''],
    ['oversized (20,000 characters)', `${h}.${'A'.repeat(20_000)}.${s}`],
    ['header not JSON', `${part('not json')}.${p}.${s}`],
    ['header a JSON array', `${part([1, 2])}.${p}.${s}`],
    ['header with __proto__', `${part('{"__proto__":{"typ":"dpop+jwt"},"alg":"ES256"}')}.${p}.${s}`],
    ['jwk a string', unsignedJws({ typ: 'dpop+jwt', alg: 'ES256', jwk: 'key' }, { jti: 'a', htm: 'POST', htu: TOKEN_URL, iat: now }, s)],
    ['jwk of an unknown kty', unsignedJws({ typ: 'dpop+jwt', alg: 'ES256', jwk: { kty: 'XX' } }, { jti: 'a', htm: 'POST', htu: TOKEN_URL, iat: now }, s)],
    ['payload not JSON', `${h}.${part('nope')}.${s}`],
    ['control characters', `${h}.${p}.${s}\u0001`],
    ['spaces inside', `${h} .${p}.${s}`],
    ['four parts', `${good}.x`],
    ['jti of 10,000 characters', await proof(key, { jti: 'j'.repeat(10_000) })],
    ['htu javascript:', await proof(key, { htu: 'javascript:alert(1)' })],
    ['htu not a URL', await proof(key, { htu: '::::' })],
    ['iat huge', await proof(key, { iat: 1e308 })],
    ['iat negative', await proof(key, { iat: -1 })],
    ['htm lower case', await proof(key, { htm: 'post' })],
    ['an ID-token-like JWT (typ JWT, RS256 of another key)', await new SignJWT({ jti: 'q', htm: 'POST', htu: TOKEN_URL, iat: now }).setProtectedHeader({ alg: 'ES256', typ: 'JWT', jwk: key.publicJwk }).sign(key.privateKey)],
  ]
  for (const [name, dpop] of probes) {
    const res = await app.inject({ method: 'POST', url: '/o/token/', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: client.authorization, dpop }, payload: 'grant_type=client_credentials' })
    t.equal(res.statusCode, 400, name)
    t.equal(res.json().error, 'invalid_dpop_proof', name)
    t.notOk('access_token' in res.json(), name)
  }
})

t.test('DPOP-2 hostile DPoP presentations at a resource and UserInfo: 400/401 challenges, never a 500', async (t) => {
  const app = await buildDpopApp(t)
  const { buildOidcApp } = await import('../oidc/support.js')
  const oidc = await buildOidcApp(t, { settings: { issuer: ISSUER, dpopEnabled: true } })
  const key = await dpopKey()
  const longToken = 'A'.repeat(50_000)
  const presentations: Array<Record<string, string>> = [
    { authorization: 'DPoP' },
    { authorization: 'DPoP ' },
    { authorization: 'dpop   ' },
    { authorization: 'DPoP a b' },
    { authorization: 'DPoP \u00e9t\u00e9' },
    { authorization: `DPoP ${longToken}`, dpop: await proof(key, { htm: 'GET', htu: `${ORIGIN}/api/hello`, accessToken: longToken }) },
    { authorization: 'DPoP unknown-token', dpop: 'garbage' },
    { authorization: 'DPoP unknown-token', dpop: await proof(key, { htm: 'GET', htu: `${ORIGIN}/api/hello`, accessToken: 'unknown-token' }) },
  ]
  for (const headers of presentations) {
    for (const url of ['/api/hello', '/api/challenge', '/o/userinfo/']) {
      const res = await (url === '/o/userinfo/' ? oidc : app).inject({ method: 'GET', url, headers })
      t.ok([400, 401].includes(res.statusCode), `${url} ${JSON.stringify(headers).slice(0, 60)}: ${res.statusCode}`)
      t.match(res.headers['www-authenticate'], /^DPoP /)
    }
  }
})

t.test('DPOP-3 a proof replayed to another instance sharing the database is refused', async (t) => {
  const first = await buildDpopApp(t)
  const client = await createClient(first)
  const second = await buildApp(t, { database: databasePath(t), migrate: false, settings: { issuer: ISSUER, dpopEnabled: true } })
  const key = await dpopKey()
  const dpop = await proof(key)
  t.equal((await postToken(first, { grant_type: 'client_credentials' }, { authorization: client.authorization, dpop })).statusCode, 200)
  const replay = await postToken(second, { grant_type: 'client_credentials' }, { authorization: client.authorization, dpop })
  t.equal(replay.statusCode, 400)
  t.equal(replay.json().error, 'invalid_dpop_proof')
})

t.test('DPOP-3 on PostgreSQL: two instances on one database, a proof (and a refresh with a bound token) accepted once', async (t) => {
  const { postgresTestDatabase } = await import('../helpers/postgres.js')
  const { passwordGrantOptions } = await import('../helpers/password-grant.js')
  const { ALICE } = await import('../helpers/index.js')
  const url = await postgresTestDatabase(t)
  if (url === null) return
  const a = await buildDpopApp(t, passwordGrantOptions({ database: url }))
  const b = await buildDpopApp(t, passwordGrantOptions({ database: url, migrate: false }))
  const pub = await createClient(a, { clientType: 'public', authorizationGrantType: 'password' })
  const key = await dpopKey()
  const dpop = await proof(key)
  const first = await postToken(a, { grant_type: 'password', client_id: pub.clientId, username: ALICE.username, password: ALICE.password }, { dpop })
  t.equal(first.json().token_type, 'DPoP', first.body)
  const replay = await postToken(b, { grant_type: 'password', client_id: pub.clientId, username: ALICE.username, password: ALICE.password }, { dpop })
  t.equal(replay.json().error, 'invalid_dpop_proof', 'the jti is known to the other instance')
  const stolen = await postToken(b, { grant_type: 'refresh_token', client_id: pub.clientId, refresh_token: first.json().refresh_token as string }, { dpop: await proof(await dpopKey()) })
  t.equal(stolen.json().error, 'invalid_grant', 'the bound refresh token needs its key on every instance')
  const refreshed = await postToken(b, { grant_type: 'refresh_token', client_id: pub.clientId, refresh_token: first.json().refresh_token as string }, { dpop: await proof(key) })
  t.equal(refreshed.json().token_type, 'DPoP')
  const token = refreshed.json().access_token as string
  const seen = await proof(key, { htm: 'GET', htu: `${ORIGIN}/api/hello`, accessToken: token })
  t.equal((await a.inject({ method: 'GET', url: '/api/hello', headers: { authorization: `DPoP ${token}`, dpop: seen } })).statusCode, 200)
  t.equal((await b.inject({ method: 'GET', url: '/api/hello', headers: { authorization: `DPoP ${token}`, dpop: seen } })).statusCode, 401, 'the resource proof replayed to the other instance')
})

t.test('DPOP-4 a stolen bound token is useless without the key: as Bearer, with another key, with a copied proof', async (t) => {
  const app = await buildDpopApp(t)
  const client = await createClient(app)
  const key = await dpopKey()
  const token = (await postToken(app, { grant_type: 'client_credentials' }, { authorization: client.authorization, dpop: await proof(key) })).json().access_token as string
  const seen = await proof(key, { htm: 'GET', htu: `${ORIGIN}/api/hello`, accessToken: token })
  t.equal((await app.inject({ method: 'GET', url: '/api/hello', headers: { authorization: `DPoP ${token}`, dpop: seen } })).statusCode, 200, 'the owner')
  t.equal((await app.inject({ method: 'GET', url: '/api/hello', headers: { authorization: `DPoP ${token}`, dpop: seen } })).statusCode, 401, 'the captured request replayed')
  t.equal((await app.inject({ method: 'GET', url: '/api/hello', headers: { authorization: `Bearer ${token}` } })).statusCode, 403, 'as Bearer')
  const thief = await dpopKey()
  t.equal((await app.inject({ method: 'GET', url: '/api/hello', headers: { authorization: `DPoP ${token}`, dpop: await proof(thief, { htm: 'GET', htu: `${ORIGIN}/api/hello`, accessToken: token }) } })).statusCode, 401, 'with the thief\'s key')
  t.equal((await app.inject({ method: 'GET', url: '/api/other', headers: { authorization: `DPoP ${token}`, dpop: await proof(key, { htm: 'GET', htu: `${ORIGIN}/api/hello`, accessToken: token }) } })).statusCode, 404, 'unprotected route: no answer about the token')
})
