// The seeded fuzzer of goal G2 (INPUT-1…6): malformed requests to every endpoint through
// app.inject. Shared by test/security/fuzz.test.ts (quick mode, in npm test) and bench/fuzz.ts
// (full mode). Not a test file: tap runs *.test.ts only.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import Fastify, { type FastifyInstance, type LightMyRequestResponse } from 'fastify'
import { fastifyOAuthToolkit, oauthMetadata, oauthRoutes, ProtectedResourceView } from '../../index.js'
import { ALICE, basicAuth, postToken, testHasher } from '../helpers/index.js'
import { verifyAlice } from '../helpers/password-grant.js'
import { codeFlowTokens, headerUser, REDIRECT_URI } from '../helpers/authorize.js'
import { newRsaPem, oidcSettings } from '../oidc/support.js'

/** Every `error` code of the IANA "OAuth Extensions Error" registry a token-side endpoint may send. */
export const REGISTERED_ERRORS: ReadonlySet<string> = new Set([
  'invalid_request', 'invalid_client', 'invalid_grant', 'unauthorized_client', 'unsupported_grant_type', 'invalid_scope',
  'access_denied', 'unsupported_response_type', 'server_error', 'temporarily_unavailable', 'unsupported_token_type',
  'invalid_token', 'insufficient_scope', 'authorization_pending', 'slow_down', 'expired_token', 'invalid_target',
  'invalid_dpop_proof', 'use_dpop_nonce', 'invalid_client_metadata', 'invalid_redirect_uri', 'login_required', 'consent_required',
  'interaction_required', 'invalid_request_uri', 'invalid_request_object',
])

const POST_LOGOUT_URI = 'https://client.example.com/bye'

/** An endpoint under test: its URL, the methods it serves, and whether its errors are RFC 6749 JSON. */
export interface FuzzEndpoint {
  name: string
  url: string
  methods: readonly string[]
  /** Token-side: every 4xx must be JSON with a registered `error`. */
  json: boolean
}

/** The endpoints of goal G2 (login is the host's: the example app's form is covered by its own tests). */
export const ENDPOINTS: readonly FuzzEndpoint[] = [
  { name: 'token', url: '/o/token/', methods: ['POST'], json: true },
  { name: 'revoke', url: '/o/revoke-token/', methods: ['POST'], json: true },
  { name: 'introspect', url: '/o/introspect/', methods: ['GET', 'POST'], json: true },
  { name: 'authorize GET', url: '/o/authorize/', methods: ['GET'], json: false },
  { name: 'authorize POST (consent)', url: '/o/authorize/', methods: ['POST'], json: false },
  { name: 'userinfo', url: '/o/userinfo/', methods: ['GET', 'POST'], json: false },
  { name: 'logout', url: '/o/logout/', methods: ['GET', 'POST'], json: false },
  { name: 'jwks', url: '/o/.well-known/jwks.json', methods: ['GET'], json: false },
  { name: 'discovery', url: '/o/.well-known/openid-configuration', methods: ['GET'], json: false },
  { name: 'RFC 8414 metadata', url: '/.well-known/oauth-authorization-server', methods: ['GET'], json: false },
  { name: 'application register', url: '/o/applications/register/', methods: ['GET', 'POST'], json: false },
  { name: 'application update', url: '/o/applications/1/update/', methods: ['GET', 'POST'], json: false },
  { name: 'authorized token delete', url: '/o/authorized-tokens/1/delete/', methods: ['GET', 'POST'], json: false },
  { name: 'protected resource', url: '/api/hello', methods: ['GET'], json: false },
  { name: 'device authorization', url: '/o/device-authorization/', methods: ['POST'], json: true },
  { name: 'device page', url: '/o/device/', methods: ['GET', 'POST'], json: false },
  { name: 'device confirm', url: '/o/device-confirm/1/', methods: ['GET', 'POST'], json: false },
  { name: 'PAR', url: '/o/par/', methods: ['POST'], json: true },
  { name: 'client registration', url: '/o/register/', methods: ['POST'], json: true },
  // `{client_id}`: the client buildFuzzTarget registers; its registration access token is among the values.
  { name: 'client registration management', url: '/o/register/{client_id}/', methods: ['GET', 'PUT', 'DELETE'], json: true },
]

/** A running fuzz target: the app and the valid credentials the generator mixes in. */
export interface FuzzTarget {
  app: FastifyInstance
  values: readonly string[]
  /** The dynamically registered client, for the `{client_id}` of `register/{client_id}/`. */
  registeredClientId: string
  close: () => Promise<void>
}

class HelloView extends ProtectedResourceView {
  async get (): Promise<string> { return 'hello' }
}

/** Builds the target app (every feature on, rate limits off so each request reaches the code under test). */
export async function buildFuzzTarget (): Promise<FuzzTarget> {
  const dir = mkdtempSync(join(tmpdir(), 'oat-fuzz-'))
  const app = Fastify({ logger: false })
  await app.register(fastifyOAuthToolkit, {
    database: join(dir, 'oauth.db'),
    migrate: true,
    hasher: testHasher,
    resolveUser: headerUser,
    secret: 'a-fuzz-secret-of-at-least-32-characters!',
    verifyUserCredentials: verifyAlice,
    logoutUser: () => {},
    oidc: { privateKey: newRsaPem() },
    settings: oidcSettings({
      passwordGrantEnabled: true,
      oidcRpInitiatedLogoutEnabled: true,
      rateLimitFailures: null,
      implicitGrantEnabled: true,
      deviceFlowEnabled: true,
      dcrEnabled: true,
      dcrRegistrationPolicy: 'open',
      dcrRegistrationRateLimit: null,
    }),
  })
  await app.register(oauthRoutes, { prefix: '/o', managementPages: true })
  await app.register(oauthMetadata)
  await app.register(HelloView.asView('/api/hello'))
  const code = await app.oauth.createApplication({
    clientType: 'confidential', authorizationGrantType: 'authorization-code', name: 'Fuzz code', redirectUris: [REDIRECT_URI], postLogoutRedirectUris: [POST_LOGOUT_URI], userId: 'user-alice',
  })
  const pub = await app.oauth.createApplication({ clientType: 'public', authorizationGrantType: 'authorization-code', name: 'Fuzz public', redirectUris: [REDIRECT_URI, 'http://127.0.0.1/cb'] })
  const cc = await app.oauth.createApplication({ clientType: 'confidential', authorizationGrantType: 'client-credentials', name: 'Fuzz cc' })
  // A dynamically registered client under a known id, with its registration access token.
  const registered = await app.inject({
    method: 'POST',
    url: '/o/register/',
    headers: { 'content-type': 'application/json' },
    payload: JSON.stringify({ redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'client_secret_post', scope: 'openid read' }),
  })
  const dcr = registered.json<{ client_id: string, client_secret: string, registration_access_token: string }>()
  const tokens = await codeFlowTokens(app, code, { scope: 'openid read' })
  const ccToken = await postToken(app, { grant_type: 'client_credentials' }, { authorization: basicAuth(cc.application.clientId, cc.clientSecret ?? '') })
  const values = [
    code.application.clientId, code.clientSecret ?? '', pub.application.clientId, cc.application.clientId, cc.clientSecret ?? '',
    tokens.access_token, tokens.refresh_token ?? '', (tokens as { id_token?: string }).id_token ?? '', ccToken.json<{ access_token: string }>().access_token,
    REDIRECT_URI, POST_LOGOUT_URI, 'http://127.0.0.1:49152/cb', ALICE.username, ALICE.password,
    dcr.client_id, dcr.client_secret, dcr.registration_access_token,
  ]
  return {
    app,
    values,
    registeredClientId: dcr.client_id,
    close: async () => { await app.close(); rmSync(dir, { recursive: true, force: true }) },
  }
}

const NAMES = [
  'grant_type', 'code', 'redirect_uri', 'client_id', 'client_secret', 'code_verifier', 'refresh_token', 'scope', 'username',
  'password', 'token', 'token_type_hint', 'response_type', 'state', 'code_challenge', 'code_challenge_method', 'nonce', 'prompt',
  'max_age', 'id_token_hint', 'post_logout_redirect_uri', 'access_token', 'allow', 'csrf_token', 'resource', 'response_mode',
  'user_code', 'device_code', 'request_uri', 'redirect_uris', 'grant_types', 'response_types', 'token_endpoint_auth_method', 'client_name',
  'contacts', 'logo_uri', 'post_logout_redirect_uris', 'require_pushed_authorization_requests', 'name', 'clientType', 'authorizationGrantType', 'redirectUris', 'algorithm', '__proto__', 'constructor[prototype]', 'a[b][c]', '', 'x',
]
const CONSTANTS = [
  'authorization_code', 'client_credentials', 'password', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code', 'code',
  'token', 'id_token', 'code id_token', 'S256', 'plain', 'openid', 'read write', 'openid read profile', 'none', 'login', 'consent',
  'access_token', 'Allow', 'true', '0', '-1', '1e309', 'null', '[]', '{}', '%ZZ', '%', '%00', '%E0%A4%A', '%C0%AF', '\u0000', '\r\nX: y',
  'javascript:alert(1)', '//evil.example', 'https://evil.example/cb', "' OR 1=1 --", '<script>x</script>', 'é', 'e\u0301', '\uFF43lient',
]
const CONTENT_TYPES = [
  'application/x-www-form-urlencoded', 'application/x-www-form-urlencoded; charset=utf-8', 'application/x-www-form-urlencoded; charset=iso-8859-1',
  'application/json', 'multipart/form-data; boundary=xyz', 'text/plain', 'application/xml', '', '*/*', 'application/x-www-form-urlencoded;;;=',
]

const INVALID_UTF8 = [Buffer.from([0xff, 0xfe]), Buffer.from([0xc0, 0xaf]), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from([0xe2, 0x82])]

/** One generated request. */
export interface FuzzRequest {
  method: string
  url: string
  headers: Record<string, string>
  payload: Buffer | undefined
}

function decode (value: string): string {
  try {
    return decodeURIComponent(value)
  } catch {
    return value
  }
}

/** A JSON value of a shape chosen by `i`, built from `v`. */
function typed (v: string, i: number): unknown {
  switch (i % 6) {
    case 0: return [v]
    case 1: return [v, v, 1]
    case 2: return v.length % 2 === 0
    case 3: return v.length
    case 4: return { [v]: v }
    default: return v
  }
}

function requestArbitrary (endpoint: FuzzEndpoint, values: readonly string[]): fc.Arbitrary<FuzzRequest> {
  const value = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...values) },
    { weight: 4, arbitrary: fc.constantFrom(...CONSTANTS) },
    { weight: 3, arbitrary: fc.string({ maxLength: 40 }) },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
    { weight: 1, arbitrary: fc.integer({ min: 1000, max: 80_000 }).map((n) => 'A'.repeat(n)) }
  )
  const encoded = fc.tuple(fc.constantFrom('proper', 'proper', 'proper', 'raw', 'broken'), value).map(([how, v]) =>
    how === 'proper' ? encodeURIComponent(v) : how === 'raw' ? v.replace(/[&#\s]/g, '') : `${encodeURIComponent(v)}%${v.length % 2 === 0 ? 'G' : ''}`)
  const name = fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...NAMES) }, { weight: 1, arbitrary: fc.string({ maxLength: 12 }) }).map(encodeURIComponent)
  // Duplicates come from picking the same name twice.
  const pairs = fc.array(fc.tuple(name, encoded), { maxLength: 8 })
  const authorization = fc.oneof(
    fc.constant(undefined),
    fc.constantFrom(...values).chain((v) => fc.constantFrom(basicAuth(v, values[1] ?? ''), `Bearer ${v}`, `bearer ${v}`, `BEARER  ${v}`)),
    fc.constantFrom('Basic', 'Basic ', 'Basic !!!', 'Basic Og==', 'Basic OmZvbw==', `Basic ${Buffer.from('nocolon').toString('base64')}`,
      `Basic ${Buffer.concat([Buffer.from('id:'), INVALID_UTF8[0] ?? Buffer.alloc(0)]).toString('base64')}`, `Basic ${Buffer.from('%ZZ:%').toString('base64')}`,
      'Bearer', 'Bearer ', 'Digest x', 'Basic a b c', `Basic ${'A'.repeat(9000)}`),
    fc.string({ maxLength: 60 })
  )
  return fc.record({
    method: fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...endpoint.methods) }, { weight: 1, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD') }),
    query: pairs,
    body: pairs,
    contentType: fc.option(fc.constantFrom(...CONTENT_TYPES), { nil: undefined }),
    authorization,
    user: fc.constantFrom(undefined, 'user-alice', 'user-bob'),
    bodyKind: fc.constantFrom('form', 'form', 'form', 'form', 'json', 'bytes', 'none', 'form', 'json', 'huge', 'typed'),
    badBytes: fc.option(fc.constantFrom(...INVALID_UTF8), { nil: undefined }),
    origin: fc.constantFrom(undefined, 'https://evil.example', 'null'),
  }).map((r) => {
    const join = (list: ReadonlyArray<readonly [string, string]>): string => list.map(([k, v]) => `${k}=${v}`).join('&')
    const headers: Record<string, string> = {}
    if (r.contentType !== undefined) headers['content-type'] = r.contentType
    if (r.authorization !== undefined) headers.authorization = r.authorization
    if (r.user !== undefined) headers['x-test-user'] = r.user
    if (r.origin !== undefined) headers.origin = r.origin
    let payload: Buffer | undefined
    if (r.method !== 'GET' && r.method !== 'HEAD') {
      if (r.bodyKind === 'form') payload = Buffer.from(join(r.body))
      else if (r.bodyKind === 'json') payload = Buffer.from(JSON.stringify(Object.fromEntries(r.body)).slice(0, r.body.length % 3 === 0 ? -1 : undefined))
      // RFC 7591 metadata: arrays, booleans, numbers, null and objects where strings are expected, and the reverse.
      else if (r.bodyKind === 'typed') payload = Buffer.from(JSON.stringify(Object.fromEntries(r.body.map(([k, v], i) => [decode(k), typed(decode(v), i)]))))
      else if (r.bodyKind === 'bytes') payload = Buffer.from(r.body.map(([k]) => k).join(''), 'latin1')
      else if (r.bodyKind === 'huge') payload = Buffer.alloc(70 * 1024 + r.body.length, 'a')
      if (payload !== undefined && r.badBytes !== undefined) payload = Buffer.concat([payload, r.badBytes])
    }
    const query = join(r.query)
    const bad = r.badBytes === undefined ? '' : `&v=${[...r.badBytes].map((b) => `%${b.toString(16)}`).join('')}`
    const url = query === '' && bad === '' ? endpoint.url : `${endpoint.url}?${query}${bad}`
    return { method: r.method, url, headers, payload }
  })
}

/** What one response broke, if anything. */
export function judge (endpoint: FuzzEndpoint, method: string, res: LightMyRequestResponse): string | null {
  if (res.statusCode >= 500) return `status ${res.statusCode}: ${res.body.slice(0, 300)}`
  const location = res.headers.location
  if (location !== undefined) {
    const target = String(location)
    const allowed = [REDIRECT_URI, POST_LOGOUT_URI, 'http://127.0.0.1:']
    const local = target.startsWith('/') && !target.startsWith('//') && !target.startsWith('/\\')
    if (!local && !allowed.some((uri) => target === uri || target.startsWith(`${uri}?`) || target.startsWith(`${uri}#`) || (uri.endsWith(':') && /^http:\/\/127\.0\.0\.1:\d+\/cb[?#]/.test(target)))) {
      return `Location off the registered URIs: ${target}`
    }
    if (/[\r\n]/.test(target)) return 'CR/LF in Location'
  }
  if (endpoint.json && method !== 'HEAD' && res.statusCode >= 400 && res.statusCode < 500 && res.statusCode !== 404) {
    let body: unknown
    try {
      body = JSON.parse(res.body)
    } catch {
      return `non-JSON ${res.statusCode} body: ${res.body.slice(0, 200)}`
    }
    const error = (body as { error?: unknown } | null)?.error
    if (typeof error !== 'string' || !REGISTERED_ERRORS.has(error)) return `unregistered error ${JSON.stringify(body).slice(0, 200)}`
  }
  return null
}

/** Totals of a fuzz run. */
export interface FuzzReport {
  seed: number
  requests: number
  perEndpoint: Record<string, number>
  statuses: Record<string, number>
  unhandledRejections: number
}

/**
 * Sends `runs` generated requests to every endpoint. Throws (with fast-check's shrunk
 * counterexample and the seed) on the first response that breaks a rule of goal G2.
 */
export async function runFuzz (target: FuzzTarget, options: { runs: number, seed: number }): Promise<FuzzReport> {
  let unhandled = 0
  const onUnhandled = (): void => { unhandled++ }
  process.on('unhandledRejection', onUnhandled)
  const report: FuzzReport = { seed: options.seed, requests: 0, perEndpoint: {}, statuses: {}, unhandledRejections: 0 }
  try {
    for (const [index, endpoint] of ENDPOINTS.entries()) {
      const started = Date.now()
      const resolved = { ...endpoint, url: endpoint.url.replace('{client_id}', encodeURIComponent(target.registeredClientId)) }
      await fc.assert(fc.asyncProperty(requestArbitrary(resolved, target.values), async (request) => {
        const res = await target.app.inject({ method: request.method as 'GET', url: request.url, headers: request.headers, ...(request.payload === undefined ? {} : { payload: request.payload }) })
        report.requests++
        report.perEndpoint[endpoint.name] = (report.perEndpoint[endpoint.name] ?? 0) + 1
        const bucket = `${Math.floor(res.statusCode / 100)}xx`
        report.statuses[bucket] = (report.statuses[bucket] ?? 0) + 1
        const problem = judge(endpoint, request.method, res)
        if (problem !== null) throw new Error(`${endpoint.name} ${request.method} ${request.url.slice(0, 300)}: ${problem}`)
      }), { seed: options.seed + index, numRuns: options.runs, endOnFailure: true, includeErrorInReport: true })
      if (process.env.OAT_FUZZ_TIMING !== undefined) process.stderr.write(`${endpoint.name}: ${Date.now() - started} ms\n`)
    }
    await new Promise((resolve) => setImmediate(resolve))
  } finally {
    process.off('unhandledRejection', onUnhandled)
  }
  report.unhandledRejections = unhandled
  return report
}
