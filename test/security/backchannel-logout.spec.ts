// Attacker-style probes of back-channel logout: a client that registers a logout URI on the
// server's own network gets nothing sent there; registration refuses http and fragments; a
// logout token goes only to the relying parties of the ended session; the host's session id is
// never stored in clear nor logged; no other JWT the server signs (a logout token, a JWT access
// token, a signed UserInfo answer) passes for an ID token as `id_token_hint`.
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify'
import t, { type Test } from 'tap'
import { fastifyOAuthToolkit, oauthRoutes } from '../../index.js'
import type { BackchannelLogoutEvent } from '../../lib/context.js'
import type { CreatedApplication } from '../../lib/applications.js'
import { codeClient, exchangeCode, getAuthorize, pkcePair, redirectParams, USER_HEADER } from '../helpers/authorize.js'
import { startDocumentServer } from '../helpers/https-server.js'
import { ALICE, createApplication, testHasher } from '../helpers/index.js'
import { newRsaPem, oidcSettings } from '../oidc/support.js'
import { until } from '../helpers/wait.js'

const SESSION_HEADER = 'x-test-session'
/** A host session id as a real session store would draw it: it must never reach the database or the log. */
const HOST_SESSION_ID = 'hostSessionSecret-4Yq2c9VfK7pZx1mN8rT3wL6bJ0sD5gH'

function sessionUser (request: FastifyRequest): { id: string, sessionId?: string } | null {
  const id = request.headers[USER_HEADER]
  const sessionId = request.headers[SESSION_HEADER]
  if (typeof id !== 'string' || id === '') return null
  return typeof sessionId === 'string' ? { id, sessionId } : { id }
}

/** An app with the production outbound policy (no private addresses), a trace logger captured in `lines`. */
async function build (t: Test, lines: string[]): Promise<{ app: FastifyInstance, database: string, deliveries: BackchannelLogoutEvent[] }> {
  const database = join(t.testdir(), 'oauth.db')
  const app = Fastify({ logger: { level: 'trace', stream: { write: (line: string) => { lines.push(line) } } } })
  t.teardown(() => app.close())
  await app.register(fastifyOAuthToolkit, {
    database,
    migrate: true,
    hasher: testHasher,
    resolveUser: sessionUser,
    secret: 'a-test-secret-of-at-least-32-characters',
    logoutUser: () => {},
    oidc: { privateKey: newRsaPem() },
    settings: oidcSettings({
      dcrEnabled: true,
      dcrRegistrationPolicy: 'open',
      oidcRpInitiatedLogoutEnabled: true,
      oidcRpInitiatedLogoutAlwaysPrompt: false,
      backchannelLogoutPollSeconds: 0.05,
      backchannelLogoutRetrySeconds: 0,
      backchannelLogoutMaxAttempts: 2,
    }),
  })
  await app.register(oauthRoutes, { prefix: '/o' })
  const deliveries: BackchannelLogoutEvent[] = []
  app.oauth.events.on('backchannelLogout', (e) => { deliveries.push(e) })
  await app.ready()
  return { app, database, deliveries }
}

async function authorizeIn (app: FastifyInstance, created: CreatedApplication, session: string): Promise<void> {
  const res = await getAuthorize(app, {
    response_type: 'code',
    client_id: created.application.clientId,
    redirect_uri: 'https://rp.example.com/cb',
    scope: 'openid',
    code_challenge: pkcePair().challenge,
    code_challenge_method: 'S256',
  }, ALICE.id, { [SESSION_HEADER]: session })
  if (res.statusCode !== 302) throw new Error(`authorization failed: ${res.statusCode} ${res.body}`)
}

t.test('a logout URI on a private address is registered (it may be public DNS) but never reached: refused at delivery', async (t) => {
  const rp = await startDocumentServer(t, { '/bcl': (_req, res) => { res.writeHead(200).end() } })
  const lines: string[] = []
  const { app, deliveries } = await build(t, lines)
  for (const uri of [`https://127.0.0.1:${rp.port}/bcl`, `${rp.origin}/bcl`]) {
    const created = await createApplication(app, { authorizationGrantType: 'authorization-code', redirectUris: ['https://rp.example.com/cb'], skipAuthorization: true, backchannelLogoutUri: uri })
    await authorizeIn(app, created, `ssrf-${uri}`)
  }
  await app.oauth.endSessions({ userId: ALICE.id })
  await until(() => deliveries.filter((e) => e.outcome === 'failed').length === 2, 'both deliveries given up')
  t.ok(deliveries.every((e) => e.outcome !== 'delivered' && /address/.test(e.error ?? '')), 'refused for the address')
  t.equal(rp.hits.get('/bcl') ?? 0, 0, 'nothing reached the internal server')
  t.ok(lines.some((line) => line.includes('back-channel logout token not delivered')), 'giving up is logged')
})

t.test('registration refuses http, fragments and user information in backchannel_logout_uri', async (t) => {
  const { app } = await build(t, [])
  for (const uri of ['http://rp.example/bcl', 'https://rp.example/bcl#frag', 'https://user:pw@rp.example/bcl', 'rp.example/bcl', 'javascript:alert(1)']) {
    const res = await app.inject({ method: 'POST', url: '/o/register/', payload: { redirect_uris: ['https://rp.example.com/cb'], backchannel_logout_uri: uri } })
    t.equal(res.statusCode, 400, uri)
    t.equal(res.json<{ error: string }>().error, 'invalid_client_metadata', uri)
    await t.rejects(createApplication(app, { authorizationGrantType: 'authorization-code', redirectUris: ['https://rp.example.com/cb'], backchannelLogoutUri: uri }),
      { name: 'ApplicationValidationError', message: /backchannelLogoutUri/ }, `createApplication refuses ${uri}`)
  }
  const bad = await app.inject({ method: 'POST', url: '/o/register/', payload: { redirect_uris: ['https://rp.example.com/cb'], backchannel_logout_session_required: 'yes' } })
  t.equal(bad.statusCode, 400)
  const ok = await app.inject({ method: 'POST', url: '/o/register/', payload: { redirect_uris: ['https://rp.example.com/cb'], backchannel_logout_uri: 'https://rp.example/bcl', backchannel_logout_session_required: true } })
  t.equal(ok.statusCode, 201)
  t.match(ok.json(), { backchannel_logout_uri: 'https://rp.example/bcl', backchannel_logout_session_required: true })
})

t.test('a logout token goes only to the relying parties of the ended session', async (t) => {
  const hits: string[] = []
  const rp = await startDocumentServer(t, {
    '/a': (_req, res) => { hits.push('a'); res.writeHead(200).end() },
    '/b': (_req, res) => { hits.push('b'); res.writeHead(200).end() },
  })
  const { app, deliveries } = await build(t, [])
  // The probe's own outbound policy refuses loopback; this one only counts who is addressed.
  const make = async (path: string): Promise<CreatedApplication> => await createApplication(app, {
    authorizationGrantType: 'authorization-code', redirectUris: ['https://rp.example.com/cb'], skipAuthorization: true, backchannelLogoutUri: `${rp.origin}${path}`,
  })
  const a = await make('/a')
  const b = await make('/b')
  await authorizeIn(app, a, 'session-one')
  await authorizeIn(app, b, 'session-two')
  const result = await app.oauth.endSessions({ hostSessionId: 'session-one' }, { wait: false })
  t.equal(result.backchannelClients, 1, 'one delivery queued')
  await until(() => deliveries.length > 0, 'an attempt')
  t.same([...new Set(deliveries.map((e) => e.clientId))], [a.application.clientId], 'only the client of the ended session is addressed')
})

t.test('the host session id is never stored in clear nor logged', async (t) => {
  const lines: string[] = []
  const { app, database } = await build(t, lines)
  const created = await createApplication(app, { authorizationGrantType: 'authorization-code', redirectUris: ['https://rp.example.com/cb'], skipAuthorization: true, backchannelLogoutUri: 'https://rp.example/bcl' })
  await authorizeIn(app, created, HOST_SESSION_ID)
  await app.inject({ url: '/o/logout/', headers: { [USER_HEADER]: ALICE.id, [SESSION_HEADER]: HOST_SESSION_ID } })
  await app.oauth.endSessions({ hostSessionId: HOST_SESSION_ID })
  for (const file of [database, `${database}-wal`]) {
    if (existsSync(file)) t.notOk(readFileSync(file).includes(HOST_SESSION_ID), `${file} never holds the host session id`)
  }
  t.ok(lines.length > 0)
  t.notOk(lines.some((line) => line.includes(HOST_SESSION_ID)), 'no log line holds it')
})

t.test('JOSE-2 only an ID token is an id_token_hint: a logout token, a JWT access token and a signed UserInfo answer, all for the same client and user, are refused', async (t) => {
  const tokens: string[] = []
  const rp = await startDocumentServer(t, {
    '/bcl': (req, res) => {
      let body = ''
      req.on('data', (chunk: Buffer) => { body += chunk.toString('utf8') })
      req.on('end', () => { tokens.push(new URLSearchParams(body).get('logout_token') ?? ''); res.writeHead(200).end() })
    },
  })
  const loggedOut: string[] = []
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastifyOAuthToolkit, {
    database: join(t.testdir(), 'oauth.db'),
    migrate: true,
    hasher: testHasher,
    resolveUser: sessionUser,
    secret: 'a-test-secret-of-at-least-32-characters',
    logoutUser: (request) => { loggedOut.push(String(request.headers[USER_HEADER])) },
    oidc: { privateKey: newRsaPem() },
    // The relying party listens on loopback with a test certificate: allowed for this test only.
    outboundHttp: { ca: rp.certificate.cert, allowPrivateAddresses: true, timeoutMs: 5000 },
    settings: oidcSettings({
      oidcRpInitiatedLogoutEnabled: true,
      oidcRpInitiatedLogoutAlwaysPrompt: false,
      backchannelLogoutPollSeconds: 0.05,
      backchannelLogoutRetrySeconds: 0,
      // JWT access tokens whose audience is the client itself: everything but `typ` and the
      // claim set looks like an ID token for it.
      accessTokenFormat: 'jwt',
      accessTokenDefaultAudience: 'rp-client',
    }),
  })
  await app.register(oauthRoutes, { prefix: '/o' })
  await app.ready()
  const created = await createApplication(app, {
    clientId: 'rp-client',
    authorizationGrantType: 'authorization-code',
    redirectUris: ['https://rp.example.com/cb'],
    postLogoutRedirectUris: ['https://rp.example.com/bye'],
    skipAuthorization: true,
    userinfoSignedResponseAlg: 'RS256',
    backchannelLogoutUri: `${rp.origin}/bcl`,
  })
  const { verifier, challenge } = pkcePair()
  const authorized = await getAuthorize(app, { response_type: 'code', client_id: 'rp-client', redirect_uri: 'https://rp.example.com/cb', scope: 'openid', code_challenge: challenge, code_challenge_method: 'S256' },
    ALICE.id, { [SESSION_HEADER]: 'hint-session' })
  const exchanged = await exchangeCode(app, codeClient(created), redirectParams(authorized).code ?? '', { redirect_uri: 'https://rp.example.com/cb', code_verifier: verifier })
  const { access_token: accessToken, id_token: idToken } = exchanged.json<{ access_token: string, id_token: string }>()
  const userInfo = (await app.inject({ url: '/o/userinfo/', headers: { authorization: `Bearer ${accessToken}` } })).body
  await app.oauth.endSessions({ hostSessionId: 'hint-session' })
  await until(() => tokens.length > 0, 'the logout token')
  const logoutToken = tokens[0] ?? ''

  const hints: Array<[string, string]> = [['a logout token', logoutToken], ['a JWT access token', accessToken], ['a signed UserInfo answer', userInfo]]
  for (const [name, hint] of hints) {
    t.equal(hint.split('.').length, 3, `${name} is a JWS`)
    const variants: Array<Record<string, string>> = [{ id_token_hint: hint, post_logout_redirect_uri: 'https://rp.example.com/bye' }, { id_token_hint: hint, client_id: 'rp-client' }]
    for (const params of variants) {
      const res = await app.inject({ url: `/o/logout/?${new URLSearchParams(params).toString()}`, headers: { [USER_HEADER]: ALICE.id } })
      t.equal(res.statusCode, 400, `${name}: refused`)
      t.equal(res.headers.location, undefined, `${name}: no redirect`)
      t.match(res.body, 'The id_token_hint is not valid.', name)
    }
  }
  t.same(loggedOut, [], 'nobody was logged out by them')

  // The same requests with the genuine ID token go through (its session ended, the hint itself is still good).
  const genuine = await app.inject({ url: `/o/logout/?${new URLSearchParams({ id_token_hint: idToken, post_logout_redirect_uri: 'https://rp.example.com/bye' }).toString()}`, headers: { [USER_HEADER]: ALICE.id } })
  t.equal(genuine.statusCode, 302, 'the ID token is a hint')
  t.equal(genuine.headers.location, 'https://rp.example.com/bye')
  t.same(loggedOut, [ALICE.id])
})
