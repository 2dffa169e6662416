// Probes of client authentication as a class: every endpoint that checks a client's secret (token,
// revocation, introspection, PAR, device authorization, a host's ClientProtectedResourceView and a
// host route calling app.oauth.authenticateClient) counts failures against the same BRUTE-1
// limits and counters, so none of them is a guessing oracle beside the limited token endpoint. A host may set its own secret (8 characters at least), which only
// these limits protect.
import formbody from '@fastify/formbody'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import t from 'tap'
import { ClientProtectedResourceView, OAuthError } from '../../index.js'
import type { SecretHasher } from '../../lib/tokens/secret-hasher.js'
import { basicAuth, buildApp, createApplication, FORM, form, testHasher } from '../helpers/index.js'

/** A host route that accepts a client's own credentials (DOT's ClientProtectedResourceView). */
class ClientOnly extends ClientProtectedResourceView {
  async post (request: FastifyRequest) { return { client: request.oauthClient?.clientId ?? null } }
}

/** The test hasher, counting every verification (real or dummy): a refused request must do none. */
function countingHasher (): SecretHasher & { calls: number } {
  const counter = {
    calls: 0,
    hash: async (secret: string) => await testHasher.hash(secret),
    verify: async (secret: string, encoded: string) => { counter.calls++; return await testHasher.verify(secret, encoded) },
    verifyDummy: async (secret: string) => { counter.calls++; return await testHasher.verifyDummy(secret) },
  }
  return counter
}

/** Each endpoint that authenticates clients, with a body it accepts once the client is known. */
const ENDPOINTS: ReadonlyArray<readonly [string, Record<string, string>]> = [
  ['/o/token/', { grant_type: 'client_credentials' }],
  ['/o/revoke-token/', { token: 'some-token' }],
  ['/o/introspect/', { token: 'some-token' }],
  ['/o/par/', { response_type: 'code', redirect_uri: 'https://client.example.com/cb', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' }],
  ['/o/device-authorization/', {}],
]

t.test('BRUTE-1 every endpoint that checks a client secret refuses an address from its 11th failure, before any hash, and never the right secret from elsewhere', async (t) => {
  const hasher = countingHasher()
  const app = await buildApp(t, { hasher, settings: { deviceFlowEnabled: true } })
  let n = 0
  for (const [url, body] of ENDPOINTS) {
    n++
    // A weak secret a host chose: only the limits stand between it and an online guesser.
    const { application } = await createApplication(app, { authorizationGrantType: 'authorization-code', redirectUris: ['https://client.example.com/cb'], clientSecret: 'weak-secret' })
    const attacker = `10.9.${n}.1`
    const send = async (secret: string, remoteAddress: string) => await app.inject({
      method: 'POST', url, remoteAddress, headers: { ...FORM, authorization: basicAuth(application.clientId, secret) }, payload: form(body),
    })
    const before = hasher.calls
    const statuses: number[] = []
    for (let i = 0; i < 15; i++) statuses.push((await send(`guess-${i}`, attacker)).statusCode)
    t.same(statuses, [...Array(10).fill(401), ...Array(5).fill(429)], `${url}: guesses 11-15 are refused`)
    t.equal(hasher.calls - before, 10, `${url}: refused guesses computed no hash`)
    const right = await send('weak-secret', attacker)
    t.equal(right.statusCode, 429, `${url}: the right secret from the guessing address is refused too (no oracle)`)
    t.equal(right.json<{ error: string }>().error, 'temporarily_unavailable', `${url}: in the endpoint's JSON`)
    const elsewhere = await send('weak-secret', `10.9.${n}.2`)
    t.notOk([401, 429].includes(elsewhere.statusCode), `${url}: the right secret from another address is authenticated (${elsewhere.statusCode})`)
  }
})

t.test('BRUTE-1 failures at one endpoint count at the others: spreading guesses over the endpoints gains nothing', async (t) => {
  const app = await buildApp(t, { settings: { deviceFlowEnabled: true } })
  const { application } = await createApplication(app, { authorizationGrantType: 'authorization-code', redirectUris: ['https://client.example.com/cb'], clientSecret: 'weak-secret' })
  const statuses: number[] = []
  for (let i = 0; i < 10; i++) {
    const [url, body] = ENDPOINTS[i % ENDPOINTS.length] ?? ENDPOINTS[0] ?? ['', {}]
    statuses.push((await app.inject({ method: 'POST', url, remoteAddress: '10.9.99.1', headers: { ...FORM, authorization: basicAuth(application.clientId, `guess-${i}`) }, payload: form(body) })).statusCode)
  }
  t.same(statuses, Array(10).fill(401), 'ten guesses spread over the five endpoints')
  for (const [url, body] of ENDPOINTS) {
    const res = await app.inject({ method: 'POST', url, remoteAddress: '10.9.99.1', headers: { ...FORM, authorization: basicAuth(application.clientId, 'weak-secret') }, payload: form(body) })
    t.equal(res.statusCode, 429, `${url}: the eleventh attempt is refused`)
  }
})

t.test('BRUTE-1 a ClientProtectedResourceView counts failed client secrets like the token endpoint: refused from the 11th, before any hash, never elsewhere', async (t) => {
  const hasher = countingHasher()
  const app = await buildApp(t, { hasher })
  await app.register(formbody)
  await app.register(ClientOnly.asView('/api/client'))
  const { application } = await createApplication(app, { clientSecret: 'weak-secret' })
  const send = async (secret: string, remoteAddress: string) => await app.inject({
    method: 'POST', url: '/api/client', remoteAddress, headers: { ...FORM, authorization: basicAuth(application.clientId, secret) }, payload: form({ x: '1' }),
  })
  const statuses: number[] = []
  for (let i = 0; i < 15; i++) statuses.push((await send(`guess-${i}`, '10.8.0.1')).statusCode)
  t.same(statuses, [...Array(10).fill(403), ...Array(5).fill(429)], 'DOT\'s bare 403 for the first ten, then refused')
  t.equal(hasher.calls, 10, 'refused guesses computed no hash')
  const right = await send('weak-secret', '10.8.0.1')
  t.equal(right.statusCode, 429, 'the right secret from the guessing address is refused too (no oracle)')
  t.ok(Number(right.headers['retry-after']) >= 1, 'with Retry-After')
  const elsewhere = await send('weak-secret', '10.8.0.2')
  t.equal(elsewhere.statusCode, 200, 'the right secret from another address is accepted')
  t.same(elsewhere.json(), { client: application.clientId })
  const body = await app.inject({ method: 'POST', url: '/api/client', remoteAddress: '10.8.0.1', headers: FORM, payload: form({ client_id: application.clientId, client_secret: 'weak-secret' }) })
  t.equal(body.statusCode, 429, 'credentials in the body are the same client at the same address')

  const off = await buildApp(t, { settings: { rateLimitFailures: null } })
  await off.register(formbody)
  await off.register(ClientOnly.asView('/api/client'))
  const other = await createApplication(off, { clientSecret: 'weak-secret' })
  for (let i = 0; i < 12; i++) {
    await off.inject({ method: 'POST', url: '/api/client', remoteAddress: '10.8.0.3', headers: { ...FORM, authorization: basicAuth(other.application.clientId, `guess-${i}`) }, payload: form({ x: '1' }) })
  }
  const allowed = await off.inject({ method: 'POST', url: '/api/client', remoteAddress: '10.8.0.3', headers: { ...FORM, authorization: basicAuth(other.application.clientId, 'weak-secret') }, payload: form({ x: '1' }) })
  t.equal(allowed.statusCode, 200, 'with rateLimitFailures null nothing is limited')
})

/** A host's own route checking client credentials through the public facade, answering its errors as RFC 6749 §5.2 JSON. */
function hostRoute (app: FastifyInstance): void {
  app.post('/host/client', async (request: FastifyRequest, reply: FastifyReply) => {
    try {
      const { application } = await app.oauth.authenticateClient(request)
      return { client: application.clientId }
    } catch (err) {
      if (!(err instanceof OAuthError)) throw err
      return await reply.code(err.status).headers(err.headers).send({ error: err.error })
    }
  })
}

t.test('BRUTE-1 a host route calling app.oauth.authenticateClient(request) is limited by default: refused from the 11th failure, before any hash, never elsewhere', async (t) => {
  const hasher = countingHasher()
  const app = await buildApp(t, { hasher })
  await app.register(formbody)
  hostRoute(app)
  const { application } = await createApplication(app, { clientSecret: 'weak-secret' })
  const send = async (secret: string, remoteAddress: string) => await app.inject({
    method: 'POST', url: '/host/client', remoteAddress, headers: { ...FORM, authorization: basicAuth(application.clientId, secret) }, payload: form({ x: '1' }),
  })
  const statuses: number[] = []
  for (let i = 0; i < 15; i++) statuses.push((await send(`guess-${i}`, '10.7.0.1')).statusCode)
  t.same(statuses, [...Array(10).fill(401), ...Array(5).fill(429)], 'invalid_client for the first ten, then refused')
  t.equal(hasher.calls, 10, 'refused guesses computed no hash')
  const right = await send('weak-secret', '10.7.0.1')
  t.equal(right.statusCode, 429, 'the right secret from the guessing address is refused too (no oracle)')
  t.same(right.json(), { error: 'temporarily_unavailable' })
  t.ok(Number(right.headers['retry-after']) >= 1, 'with Retry-After')
  const elsewhere = await send('weak-secret', '10.7.0.2')
  t.equal(elsewhere.statusCode, 200, 'the right secret from another address is accepted (no lockout)')
  t.same(elsewhere.json(), { client: application.clientId })
  const body = await app.inject({ method: 'POST', url: '/host/client', remoteAddress: '10.7.0.1', headers: FORM, payload: form({ client_id: application.clientId, client_secret: 'weak-secret' }) })
  t.equal(body.statusCode, 429, 'credentials in the body are the same client at the same address')
})

t.test('BRUTE-1 the token endpoint, a ClientProtectedResourceView and a host route share one set of counters (the in-memory store included)', async (t) => {
  const app = await buildApp(t)
  await app.register(formbody)
  hostRoute(app)
  await app.register(ClientOnly.asView('/api/client'))
  const { application } = await createApplication(app, { clientSecret: 'weak-secret' })
  const post = async (url: string, secret: string, remoteAddress: string, body: Record<string, string> = { x: '1' }) => (await app.inject({
    method: 'POST', url, remoteAddress, headers: { ...FORM, authorization: basicAuth(application.clientId, secret) }, payload: form(body),
  })).statusCode
  const token = { grant_type: 'client_credentials' }
  // Four guesses at the token endpoint, three at the view, three at the host route: ten in all.
  const statuses: number[] = []
  for (let i = 0; i < 4; i++) statuses.push(await post('/o/token/', `guess-${i}`, '10.7.1.1', token))
  for (let i = 0; i < 3; i++) statuses.push(await post('/api/client', `guess-v${i}`, '10.7.1.1'))
  for (let i = 0; i < 3; i++) statuses.push(await post('/host/client', `guess-h${i}`, '10.7.1.1'))
  t.same(statuses, [401, 401, 401, 401, 403, 403, 403, 401, 401, 401], 'ten failures spread over three routes')
  t.equal(await post('/o/token/', 'weak-secret', '10.7.1.1', token), 429, 'the token endpoint refuses the eleventh')
  t.equal(await post('/api/client', 'weak-secret', '10.7.1.1'), 429, 'so does the view')
  t.equal(await post('/host/client', 'weak-secret', '10.7.1.1'), 429, 'and the host route')
  t.equal(await post('/host/client', 'weak-secret', '10.7.1.2'), 200, 'another address is not refused')
})

t.test('BRUTE-1 app.oauth.authenticateClient is limited without the routes plugin too', async (t) => {
  const app = await buildApp(t, { prefix: false })
  await app.register(formbody)
  hostRoute(app)
  const { application } = await createApplication(app, { clientSecret: 'weak-secret' })
  const send = async (secret: string, remoteAddress: string) => (await app.inject({
    method: 'POST', url: '/host/client', remoteAddress, headers: { ...FORM, authorization: basicAuth(application.clientId, secret) }, payload: form({ x: '1' }),
  })).statusCode
  for (let i = 0; i < 10; i++) await send(`guess-${i}`, '10.7.3.1')
  t.equal(await send('weak-secret', '10.7.3.1'), 429, 'the eleventh is refused')
  t.equal(await send('weak-secret', '10.7.3.2'), 200, 'another address is not')
})

t.test('app.oauth.authenticateClient refuses a hand-built request, which has no address to count failures by; with rateLimitFailures null nothing is limited', async (t) => {
  const app = await buildApp(t)
  const { application } = await createApplication(app, { clientSecret: 'weak-secret' })
  const handBuilt = { method: 'POST', url: '/x', headers: { authorization: basicAuth(application.clientId, 'weak-secret') }, query: {}, body: {}, duplicated: new Set(), unsupportedBody: false }
  await t.rejects(app.oauth.authenticateClient(handBuilt as unknown as FastifyRequest), TypeError)

  const off = await buildApp(t, { settings: { rateLimitFailures: null } })
  await off.register(formbody)
  hostRoute(off)
  const other = await createApplication(off, { clientSecret: 'weak-secret' })
  const send = async (secret: string) => (await off.inject({
    method: 'POST', url: '/host/client', remoteAddress: '10.7.2.1', headers: { ...FORM, authorization: basicAuth(other.application.clientId, secret) }, payload: form({ x: '1' }),
  })).statusCode
  for (let i = 0; i < 12; i++) await send(`guess-${i}`)
  t.equal(await send('weak-secret'), 200, 'off: the right secret after twelve failures is accepted')
})

t.test('an OAuthError a host route lets through tells the caller only its public description: an unknown client and a wrong secret answer alike', async (t) => {
  // Fastify's default error handler sends an error's status and message. The message of an
  // OAuthError is its description; the reason (which would tell a caller whether a client id
  // exists) is its `detail`, for logs.
  const app = await buildApp(t, { prefix: false })
  await app.register(formbody)
  app.post('/host/uncaught', async (request: FastifyRequest) => (await app.oauth.authenticateClient(request)).application.clientId)
  const caught: unknown[] = []
  app.post('/host/caught', async (request: FastifyRequest) => await app.oauth.authenticateClient(request).then(() => 'ok', (err: unknown) => { caught.push(err); return 'no' }))
  const { application } = await createApplication(app, { clientSecret: 'weak-secret' })
  const send = async (clientId: string) => await app.inject({
    method: 'POST', url: '/host/uncaught', remoteAddress: '10.7.4.1', headers: { ...FORM, authorization: basicAuth(clientId, 'wrong') }, payload: form({ x: '1' }),
  })
  const [wrongSecret, unknownClient] = [await send(application.clientId), await send('no-such-client')]
  t.equal(wrongSecret.statusCode, 401)
  t.equal(wrongSecret.json<{ message: string }>().message, 'Client authentication failed.')
  t.same(unknownClient.json(), wrongSecret.json(), 'the same answer for an unknown client id')
  await app.inject({ method: 'POST', url: '/host/caught', remoteAddress: '10.7.4.2', headers: { ...FORM, authorization: basicAuth('no-such-client', 'x') }, payload: form({ x: '1' }) })
  const thrown = caught[0]
  t.ok(thrown instanceof OAuthError && thrown.message === 'Client authentication failed.' && typeof thrown.detail === 'string' && thrown.detail !== '', 'the reason stays in detail, for logs')
})

t.test('a refusal of a request carrying X-Forwarded-For that Fastify does not trust warns once that a proxy needs trustProxy', async (t) => {
  const lines: string[] = []
  const app = await buildApp(t, { logger: { level: 'warn', stream: { write: (line: string) => { lines.push(line) } } } })
  const { application } = await createApplication(app)
  const guess = async (headers: Record<string, string>): Promise<number> => (await app.inject({
    method: 'POST', url: '/o/token/', remoteAddress: '10.8.0.1', headers: { ...FORM, ...headers, authorization: basicAuth(application.clientId, 'wrong') }, payload: form({ grant_type: 'client_credentials' }),
  })).statusCode
  const warnings = (): string[] => lines.filter((l) => l.includes('trustProxy'))
  let last = 0
  for (let i = 0; i < 11; i++) last = await guess({})
  t.equal(last, 429, 'refused')
  t.same(warnings(), [], 'no forwarding header: no warning')
  t.equal(await guess({ 'x-forwarded-for': '203.0.113.7' }), 429)
  t.equal(await guess({ 'x-forwarded-for': '203.0.113.8' }), 429)
  t.equal(warnings().length, 1, 'said once')
  t.match(JSON.parse(warnings()[0] ?? '{}'), { level: 40, ip: '10.8.0.1', msg: /X-Forwarded-For, which Fastify does not trust.*set Fastify's trustProxy to the proxy's address/ })
})

t.test('BRUTE-1 a refused pair is not pushed out of the in-memory counters by failures under 5,400 new keys from 60 other addresses', async (t) => {
  const app = await buildApp(t)
  const { application, clientSecret } = await createApplication(app)
  const attempt = async (clientId: string, secret: string, ip: string): Promise<number> => (await app.inject({
    method: 'POST', url: '/o/token/', remoteAddress: ip, headers: FORM, payload: form({ grant_type: 'client_credentials', client_id: clientId, ...(secret === '' ? {} : { client_secret: secret }) }),
  })).statusCode
  let last = 0
  for (let i = 0; i < 11; i++) last = await attempt(application.clientId, 'wrong', '10.9.0.1')
  t.equal(last, 429, 'the guesser is refused')
  // Each address stays under the per-address limit (100), each request a new client id: 5,400
  // new (client, address) keys, more than @fastify/rate-limit's default LRU of 5,000 holds.
  for (let a = 0; a < 60; a++) {
    const ip = `10.9.1.${a + 1}`
    for (let i = 0; i < 90; i += 10) {
      await Promise.all(Array.from({ length: 10 }, async (_, j) => await attempt(`flood-${a}-${i + j}`, '', ip)))
    }
  }
  t.equal(await attempt(application.clientId, clientSecret ?? '', '10.9.0.1'), 429, 'still refused, the right secret included')
  t.equal(await attempt(application.clientId, clientSecret ?? '', '10.9.2.1'), 200, 'the client works from elsewhere')
})

// PROTO-1, found by a black-box round against the token-side endpoints (test/security/README.md).
const CLIENT_AUTH_FAILED = { error: 'invalid_client', error_description: 'Client authentication failed.' }

t.test('PROTO-1 a client refused after its Basic credentials were read gets its 401 with a Basic challenge (RFC 6749 §5.2), at every endpoint', async (t) => {
  // Failure limits off: this counts challenges, not refusals (BRUTE-1 has its own tests).
  const app = await buildApp(t, { settings: { deviceFlowEnabled: true, rateLimitFailures: null } })
  const { application: confidential } = await createApplication(app, { authorizationGrantType: 'authorization-code', redirectUris: ['https://client.example.com/cb'], clientSecret: 'the-right-secret' })
  const { application: publicClient } = await createApplication(app, { clientType: 'public', authorizationGrantType: 'authorization-code', redirectUris: ['https://client.example.com/cb'] })
  const attempts: ReadonlyArray<readonly [string, string, ReadonlyArray<string>]> = [
    ['a wrong Basic secret', basicAuth(confidential.clientId, 'wrong'), ENDPOINTS.map(([url]) => url)],
    ['a public client sending a secret in Basic', basicAuth(publicClient.clientId, 'a-secret'), ENDPOINTS.map(([url]) => url)],
    // Found by this round: a public client, identified by Basic with an empty secret, may not
    // introspect; its 401 came without the challenge every other Basic refusal carries.
    ['a public client in Basic', basicAuth(publicClient.clientId, ''), ['/o/introspect/']],
  ]
  for (const [what, authorization, urls] of attempts) {
    for (const url of urls) {
      const body = ENDPOINTS.find(([u]) => u === url)?.[1] ?? {}
      const res = await app.inject({ method: 'POST', url, headers: { ...FORM, authorization }, payload: form(body) })
      t.equal(res.statusCode, 401, `${url}, ${what}: 401`)
      t.same(res.json(), CLIENT_AUTH_FAILED, `${url}, ${what}: invalid_client`)
      t.equal(res.headers['www-authenticate'], 'Basic realm="oauth"', `${url}, ${what}: a Basic challenge`)
    }
  }
  // Controls: credentials in the body get no challenge (a browser would prompt for a password),
  // the public client's refusal at introspection included.
  for (const [url, body] of ENDPOINTS) {
    const res = await app.inject({ method: 'POST', url, headers: FORM, payload: form({ ...body, client_id: confidential.clientId, client_secret: 'wrong' }) })
    t.equal(res.statusCode, 401, `${url}, a wrong client_secret in the body: 401`)
    t.equal(res.headers['www-authenticate'], undefined, `${url}, body credentials: no challenge`)
  }
  const bodyPublic = await app.inject({ method: 'POST', url: '/o/introspect/', headers: FORM, payload: form({ token: 'x', client_id: publicClient.clientId }) })
  t.same([bodyPublic.statusCode, bodyPublic.headers['www-authenticate']], [401, undefined], 'a public client naming itself in the body: 401, no challenge')
})
