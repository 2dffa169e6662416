// RFC 7591 dynamic client registration and RFC 7592 management at {prefix}/register/.
import type { FastifyInstance } from 'fastify'
import t from 'tap'
import { tokenChecksum } from '../../lib/tokens/checksum.js'
import { ALICE, basicAuth, buildApp, fixedClock, postToken } from '../helpers/index.js'
import { buildAuthorizeApp, codeFlowTokens, headerUser, USER_HEADER } from '../helpers/authorize.js'

const JSON_HEADERS = { 'content-type': 'application/json' }
const IAT = 'initial-access-token-of-at-least-32-chars'
const clock = fixedClock('2026-01-01T00:00:00.000Z')
/** RFC 7517 A.1's P-256 public key. */
const VALID_JWK = { kty: 'EC', crv: 'P-256', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0' }

async function register (app: FastifyInstance, body: unknown, headers: Record<string, string> = {}) {
  return await app.inject({ method: 'POST', url: '/o/register/', payload: JSON.stringify(body), headers: { ...JSON_HEADERS, ...headers } })
}

const CODE_CLIENT = {
  redirect_uris: ['https://client.example/cb', 'http://127.0.0.1/callback'],
  client_name: 'MCP client',
  token_endpoint_auth_method: 'none',
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  client_uri: 'https://client.example',
  logo_uri: 'https://client.example/logo.png',
  scope: 'read write',
  contacts: ['ops@client.example'],
  tos_uri: 'https://client.example/tos',
  policy_uri: 'https://client.example/policy',
  software_id: '4NRB1-0XZABZI9E6-5SM3R',
  software_version: '2.1',
  unknown_field: 'ignored',
}

// Many registrations from one address: the per-IP limit is tested in register-policy.spec.ts.
const open = await buildAuthorizeApp(t, { clock, settings: { dcrEnabled: true, dcrRegistrationPolicy: 'open', dcrRegistrationRateLimit: null } })
const withToken = await buildApp(t, { clock, settings: { dcrEnabled: true, dcrRegistrationPolicy: 'initial-access-token' }, initialAccessTokens: [IAT] })

t.test('registration is off by default: 404, and the metadata has no registration_endpoint', async (t) => {
  const app = await buildApp(t)
  const { oauthMetadata } = await import('../../index.js')
  await app.register(oauthMetadata, { routesPrefix: '/o' })
  t.equal((await register(app, CODE_CLIENT)).statusCode, 404)
  const meta = (await app.inject('/.well-known/oauth-authorization-server/o')).json() as Record<string, unknown>
  t.notOk('registration_endpoint' in meta)
  t.equal(meta.pushed_authorization_request_endpoint, 'http://localhost:80/o/par/')
})

t.test('an open registration creates an ordinary public application and answers RFC 7591 §3.2.1', async (t) => {
  const res = await register(open, CODE_CLIENT)
  t.equal(res.statusCode, 201)
  t.equal(res.headers['cache-control'], 'no-store')
  const body = res.json() as Record<string, unknown>
  const clientId = body.client_id as string
  t.match(clientId, /^[A-Za-z0-9]{40}$/)
  t.match(body.registration_access_token, /^[A-Za-z0-9_-]{43}$/)
  t.same(body, {
    client_id: clientId,
    client_id_issued_at: 1767225600,
    registration_access_token: body.registration_access_token,
    registration_client_uri: `http://localhost:80/o/register/${clientId}/`,
    redirect_uris: CODE_CLIENT.redirect_uris,
    client_name: 'MCP client',
    client_uri: 'https://client.example',
    logo_uri: 'https://client.example/logo.png',
    scope: 'read write',
    contacts: ['ops@client.example'],
    tos_uri: 'https://client.example/tos',
    policy_uri: 'https://client.example/policy',
    software_id: '4NRB1-0XZABZI9E6-5SM3R',
    software_version: '2.1',
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    require_pushed_authorization_requests: false,
    require_signed_request_object: false,
  }, 'no client_secret for a public client; unknown fields dropped')
  const app = await open.oauth.store.findApplicationByClientId(clientId)
  t.match(app, { clientType: 'public', authorizationGrantType: 'authorization-code', name: 'MCP client', userId: null, clientSecretHash: '' })
  const reg = await open.oauth.store.findClientRegistration(app?.id ?? 0)
  t.equal(reg?.accessTokenChecksum, tokenChecksum(body.registration_access_token as string), 'only the checksum is stored')

  // It is an ordinary application: the code flow works for it.
  const tokens = await codeFlowTokens(open, { application: app!, clientSecret: null })
  t.ok(tokens.access_token)
})

t.test('a confidential registration gets a secret once, stored hashed, with client_secret_expires_at 0', async (t) => {
  const res = await register(withToken, { grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_post', client_name: 'Backend' }, { authorization: `Bearer ${IAT}` })
  t.equal(res.statusCode, 201)
  const body = res.json() as Record<string, unknown>
  t.equal(body.client_secret_expires_at, 0)
  t.match(body.client_secret, /^[A-Za-z0-9]{128}$/)
  t.same(body.response_types, [])
  t.same(body.redirect_uris, [])
  const app = await withToken.oauth.store.findApplicationByClientId(body.client_id as string)
  t.match(app, { clientType: 'confidential', authorizationGrantType: 'client-credentials' })
  t.not(app?.clientSecretHash, body.client_secret)
  const token = await postToken(withToken, { grant_type: 'client_credentials', client_id: body.client_id as string, client_secret: body.client_secret as string })
  t.equal(token.statusCode, 200)
  t.equal(body.token_endpoint_auth_method, 'client_secret_post')
  const basicDefault = (await register(open, { redirect_uris: ['https://c.example/cb'] })).json() as Record<string, unknown>
  t.equal(basicDefault.token_endpoint_auth_method, 'client_secret_basic', 'RFC 7591 §2 default')
  t.same(basicDefault.grant_types, ['authorization_code'])
  t.same(basicDefault.response_types, ['code'])
  t.type(basicDefault.client_secret, 'string')
})

t.test('invalid metadata gets RFC 7591 §3.2.2 errors as JSON, and nothing is stored', async (t) => {
  const before = (await open.oauth.store.listApplications()).length
  const cases: Array<[unknown, string, string]> = [
    [{ redirect_uris: ['http://client.example/cb'] }, 'invalid_redirect_uri', 'A redirect URI in redirect_uris must use https unless the host is loopback (127.0.0.1, [::1] or localhost).'],
    [{ redirect_uris: ['https://client.example/cb#frag'] }, 'invalid_redirect_uri', 'A redirect URI in redirect_uris must not contain a fragment.'],
    [{ redirect_uris: ['javascript:alert(1)'] }, 'invalid_redirect_uri', 'A redirect URI in redirect_uris uses the scheme "javascript", which is not allowed.'],
    [{ redirect_uris: ['/relative'] }, 'invalid_redirect_uri', 'A redirect URI in redirect_uris is not an absolute URI.'],
    [{ redirect_uris: 'https://client.example/cb' }, 'invalid_redirect_uri', 'redirect_uris must be an array of strings.'],
    [{}, 'invalid_redirect_uri', 'redirect_uris is required for redirect-based grant types.'],
    [{ redirect_uris: ['https://c.example/cb'], token_endpoint_auth_method: 'tls_client_auth' }, 'invalid_client_metadata', 'Unsupported token_endpoint_auth_method.'],
    [{ redirect_uris: ['https://c.example/cb'], token_endpoint_auth_method: 'private_key_jwt' }, 'invalid_client_metadata', 'private_key_jwt needs jwks or jwks_uri.'],
    [{ redirect_uris: ['https://c.example/cb'], token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [{ kty: 'EC', crv: 'P-256', x: 'x', y: 'y', d: 'd' }] } },
      'invalid_client_metadata', 'jwks must hold public keys only (a key has private members).'],
    [{ redirect_uris: ['https://c.example/cb'], token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] } },
      'invalid_client_metadata', 'jwks may hold only RSA, EC and OKP public keys.'],
    [{ redirect_uris: ['https://c.example/cb'], token_endpoint_auth_method: 'private_key_jwt', jwks: 'not an object' },
      'invalid_client_metadata', 'jwks must be a JSON object with a "keys" array.'],
    [{ redirect_uris: ['https://c.example/cb'], token_endpoint_auth_method: 'private_key_jwt', jwks_uri: 'http://c.example/jwks' },
      'invalid_client_metadata', 'jwks_uri must be an https URL.'],
    [{ redirect_uris: ['https://c.example/cb'], token_endpoint_auth_method: 'private_key_jwt', jwks_uri: 'https://c.example/\u202ejwks' },
      'invalid_client_metadata', 'jwks_uri must be ASCII (percent-encode other characters; use punycode for hosts).'],
    [{ redirect_uris: ['https://c.example/cb'], token_endpoint_auth_method: 'private_key_jwt', jwks_uri: 'https://c.example/jwks', jwks: { keys: [VALID_JWK] } },
      'invalid_client_metadata', 'Use jwks or jwks_uri, not both (RFC 7591 section 2).'],
    [{ redirect_uris: ['https://c.example/cb'], token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [{ kty: 'EC', crv: 'P-256', x: 'x', y: 'y' }] } },
      'invalid_client_metadata', 'jwks holds a key that is not a valid public key.'],
    [{ redirect_uris: ['https://c.example/cb'], token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [{ kty: 'RSA', n: 'sXch', e: 'AQAB' }] } },
      'invalid_client_metadata', 'jwks holds an RSA key shorter than 2048 bits.'],
    [{ redirect_uris: ['https://c.example/cb'], token_endpoint_auth_method: 'private_key_jwt', jwks_uri: 'https://c.example/jwks', token_endpoint_auth_signing_alg: 'HS256' },
      'invalid_client_metadata', 'Unsupported token_endpoint_auth_signing_alg for the token_endpoint_auth_method.'],
    [{ redirect_uris: ['https://c.example/cb'], token_endpoint_auth_method: 'private_key_jwt', jwks_uri: 'https://c.example/jwks', token_endpoint_auth_signing_alg: 'none' },
      'invalid_client_metadata', 'Unsupported token_endpoint_auth_signing_alg for the token_endpoint_auth_method.'],
    [{ redirect_uris: ['https://c.example/cb'], token_endpoint_auth_method: 'client_secret_basic', token_endpoint_auth_signing_alg: 'RS256' },
      'invalid_client_metadata', 'Unsupported token_endpoint_auth_signing_alg for the token_endpoint_auth_method.'],
    [{ redirect_uris: ['https://c.example/cb'], grant_types: ['password'] }, 'invalid_client_metadata', 'Unsupported grant type in grant_types.'],
    [{ redirect_uris: ['https://c.example/cb'], grant_types: ['implicit'], response_types: ['token'] }, 'invalid_client_metadata', 'Unsupported grant type in grant_types.'],
    [{ redirect_uris: ['https://c.example/cb'], grant_types: ['authorization_code'], response_types: ['token'] }, 'invalid_client_metadata', 'Unsupported response type in response_types.'],
    [{ grant_types: ['client_credentials'], response_types: ['code'] }, 'invalid_client_metadata', 'response_types do not match grant_types (RFC 7591 section 2.1).'],
    [{ grant_types: ['authorization_code', 'client_credentials'], redirect_uris: ['https://c.example/cb'] }, 'invalid_client_metadata', 'grant_types must name exactly one of the supported grant types (plus refresh_token).'],
    [{ grant_types: ['refresh_token'], response_types: [] }, 'invalid_client_metadata', 'grant_types must name exactly one of the supported grant types (plus refresh_token).'],
    [{ grant_types: ['client_credentials'], token_endpoint_auth_method: 'none' }, 'invalid_client_metadata', 'The client_credentials grant needs client authentication; token_endpoint_auth_method none is not allowed.'],
    [{ redirect_uris: ['https://c.example/cb'], scope: 'read admin' }, 'invalid_client_metadata', 'scope names a scope this server does not know.'],
    [{ redirect_uris: ['https://c.example/cb'], client_uri: 'http://client.example' }, 'invalid_client_metadata', 'client_uri must be an https URL without user information or fragment.'],
    [{ redirect_uris: ['https://c.example/cb'], logo_uri: 'javascript:alert(1)' }, 'invalid_client_metadata', 'logo_uri must be an https URL without user information or fragment.'],
    [{ redirect_uris: ['https://c.example/cb'], client_name: 42 }, 'invalid_client_metadata', 'client_name must be a string.'],
    [{ redirect_uris: ['https://c.example/cb'], client_name: 'x'.repeat(256) }, 'invalid_client_metadata', 'client_name must be at most 255 characters.'],
    [{ redirect_uris: ['https://c.example/cb'], client_name: 'a\nb' }, 'invalid_client_metadata', 'client_name must not contain control or invisible formatting characters (bidi overrides, zero-width characters).'],
    [{ redirect_uris: ['https://c.example/cb'], contacts: 'ops@c.example' }, 'invalid_client_metadata', 'contacts must be an array of strings.'],
    [{ redirect_uris: ['https://c.example/cb'], contacts: ['<script>'] }, 'invalid_client_metadata', 'contacts must be e-mail addresses.'],
    [{ redirect_uris: ['https://c.example/cb'], software_id: ['x'] }, 'invalid_client_metadata', 'software_id must be a string.'],
    [{ redirect_uris: ['https://c.example/cb'], require_pushed_authorization_requests: 'yes' }, 'invalid_client_metadata', 'require_pushed_authorization_requests must be a boolean.'],
    [[], 'invalid_client_metadata', 'The request body must be a JSON object.'],
    ['text', 'invalid_client_metadata', 'The request body must be a JSON object.'],
  ]
  for (const [body, error, description] of cases) {
    const res = await register(open, body)
    t.equal(res.statusCode, 400, JSON.stringify(body))
    t.same(res.json(), { error, error_description: description }, JSON.stringify(body))
  }
  t.equal((await open.oauth.store.listApplications()).length, before, 'nothing was registered')
})

t.test('open registration refuses grant types that get tokens without a user (client_credentials, password)', async (t) => {
  const res = await register(open, { grant_types: ['client_credentials'] })
  t.equal(res.statusCode, 400)
  t.same(res.json(), { error: 'invalid_client_metadata', error_description: 'Open registration allows only grant types that need a user\'s consent.' })
  const created = (await register(open, { redirect_uris: ['https://c.example/cb'] })).json() as Record<string, string>
  const put = await open.inject({
    method: 'PUT',
    url: `/o/register/${created.client_id}/`,
    headers: { ...JSON_HEADERS, authorization: `Bearer ${created.registration_access_token}` },
    payload: JSON.stringify({ client_id: created.client_id, grant_types: ['client_credentials'] }),
  })
  t.same(put.json(), { error: 'invalid_client_metadata', error_description: 'Open registration allows only grant types that need a user\'s consent.' })
  t.equal((await open.oauth.store.findApplicationByClientId(created.client_id ?? ''))?.authorizationGrantType, 'authorization-code')
})

t.test('INTRO-1: registration never grants introspection rights; an RFC 7592 update keeps an administrator\'s grant', async (t) => {
  const app = await buildAuthorizeApp(t, {
    clock,
    settings: { dcrEnabled: true, dcrRegistrationPolicy: 'open', dcrRegistrationRateLimit: null, scopes: { read: 'Reading scope', introspection: 'Introspect tokens' } },
  })
  const client = { redirect_uris: ['https://c.example/cb'], token_endpoint_auth_method: 'client_secret_basic' }
  // RFC 7591 §2: metadata the server does not understand is ignored; a permission is not client metadata.
  const res = await register(app, { ...client, allow_introspection: true, allowIntrospection: true, introspection: true })
  t.equal(res.statusCode, 201)
  const body = res.json() as Record<string, string>
  t.notOk('allow_introspection' in body)
  const stored = await app.oauth.store.findApplicationByClientId(body.client_id ?? '')
  t.equal(stored?.allowIntrospection, false)
  for (const scope of ['introspection', 'read introspection']) {
    const refused = await register(app, { ...client, scope })
    t.equal(refused.statusCode, 400, scope)
    t.same(refused.json(), { error: 'invalid_client_metadata', error_description: 'The introspection scope is granted by the server administrator, not by registration.' })
  }
  t.equal((await app.oauth.store.listApplications()).length, 1, 'nothing stored for the refused ones')

  const uri = `/o/register/${body.client_id ?? ''}/`
  const put = async (token: string, metadata: Record<string, unknown>) => await app.inject({
    method: 'PUT', url: uri, headers: { ...JSON_HEADERS, authorization: `Bearer ${token}` }, payload: JSON.stringify({ client_id: body.client_id, ...metadata }),
  })
  const selfGrant = await put(body.registration_access_token ?? '', { ...client, allow_introspection: true })
  t.equal(selfGrant.statusCode, 200)
  t.equal((await app.oauth.store.findApplicationById(stored?.id ?? 0))?.allowIntrospection, false, 'an update cannot grant it either')
  await app.oauth.store.updateApplication(stored?.id ?? 0, { allowIntrospection: true }, clock.now())
  const kept = await put((selfGrant.json() as Record<string, string>).registration_access_token ?? '', { ...client, client_name: 'Renamed' })
  t.equal(kept.statusCode, 200)
  t.equal((await app.oauth.store.findApplicationById(stored?.id ?? 0))?.allowIntrospection, true, 'an administrator\'s grant survives an update')
  const toPublic = await put((kept.json() as Record<string, string>).registration_access_token ?? '', { ...client, token_endpoint_auth_method: 'none' })
  t.equal(toPublic.statusCode, 200)
  t.equal((await app.oauth.store.findApplicationById(stored?.id ?? 0))?.allowIntrospection, false, 'and is dropped when the client turns public')
})

t.test('malformed requests: a form or text body, broken JSON and a wrong method are 4xx JSON, never 500', async (t) => {
  const form = await open.inject({ method: 'POST', url: '/o/register/', payload: 'redirect_uris=https://c.example/cb', headers: { 'content-type': 'application/x-www-form-urlencoded' } })
  t.equal(form.statusCode, 400)
  t.same(form.json(), { error: 'invalid_request', error_description: 'The request body must be application/json.' })
  const broken = await open.inject({ method: 'POST', url: '/o/register', payload: '{"redirect_uris": [', headers: JSON_HEADERS })
  t.equal(broken.statusCode, 400)
  t.same(broken.json(), { error: 'invalid_request', error_description: 'The request could not be parsed.' })
  const text = await open.inject({ method: 'POST', url: '/o/register/', payload: 'hello', headers: { 'content-type': 'text/plain' } })
  t.equal(text.statusCode, 400)
  const get = await open.inject({ method: 'GET', url: '/o/register/' })
  t.equal(get.statusCode, 405)
  t.equal(get.headers.allow, 'POST')
  const big = await register(open, { redirect_uris: ['https://c.example/cb'], client_name: 'x'.repeat(70 * 1024) })
  t.equal(big.statusCode, 400, 'over the body limit')
})

t.test('RFC 7592: read, update (token rotated, secret kept), delete (tokens gone) with the registration access token', async (t) => {
  const created = (await register(open, { redirect_uris: ['https://c.example/cb'], client_name: 'Before', scope: 'read' })).json() as Record<string, string>
  const uri = `/o/register/${created.client_id}/`
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

  const read = await open.inject({ method: 'GET', url: uri, headers: bearer(created.registration_access_token ?? '') })
  t.equal(read.statusCode, 200)
  const doc = read.json() as Record<string, unknown>
  t.equal(doc.client_name, 'Before')
  t.notOk('client_secret' in doc, 'the secret is stored hashed and never returned again')
  t.equal(doc.registration_access_token, created.registration_access_token, 'RFC 7592 §3: the token in use')
  t.equal(doc.registration_client_uri, `http://localhost:80${uri}`)

  const update = await open.inject({
    method: 'PUT',
    url: uri,
    headers: { ...JSON_HEADERS, ...bearer(created.registration_access_token ?? '') },
    payload: JSON.stringify({ client_id: created.client_id, client_secret: created.client_secret, redirect_uris: ['https://c.example/new'], client_name: 'After', require_pushed_authorization_requests: true }),
  })
  t.equal(update.statusCode, 200)
  const updated = update.json() as Record<string, unknown>
  t.match(updated, { client_id: created.client_id, client_name: 'After', redirect_uris: ['https://c.example/new'], require_pushed_authorization_requests: true })
  t.notOk('scope' in updated, 'PUT replaces the metadata: omitted fields are gone')
  t.notOk('client_secret' in updated, 'the secret is unchanged')
  t.type(updated.registration_access_token, 'string')
  t.not(updated.registration_access_token, created.registration_access_token, 'rotated (DCR_ROTATE_REGISTRATION_TOKEN_ON_UPDATE)')
  const old = await open.inject({ method: 'GET', url: uri, headers: bearer(created.registration_access_token ?? '') })
  t.equal(old.statusCode, 401, 'the old token stopped working')
  const app = await open.oauth.store.findApplicationByClientId(created.client_id ?? '')
  t.match(app, { name: 'After', redirectUris: ['https://c.example/new'], requirePushedAuthorizationRequests: true })
  t.equal((await postToken(open, { grant_type: 'client_credentials' }, { authorization: basicAuth(created.client_id ?? '', created.client_secret ?? '') })).json().error,
    'unauthorized_client', 'the old secret still authenticates the client')

  const token = updated.registration_access_token as string
  const wrongSecret = await open.inject({
    method: 'PUT',
    url: uri,
    headers: { ...JSON_HEADERS, ...bearer(token) },
    payload: JSON.stringify({ client_id: created.client_id, client_secret: 'chosen-by-the-client', redirect_uris: ['https://c.example/cb'] }),
  })
  t.same(wrongSecret.json(), { error: 'invalid_client_metadata', error_description: 'client_secret does not match; a client cannot choose its own secret.' })
  const wrongId = await open.inject({ method: 'PUT', url: uri, headers: { ...JSON_HEADERS, ...bearer(token) }, payload: JSON.stringify({ client_id: 'other', redirect_uris: ['https://c.example/cb'] }) })
  t.same(wrongId.json(), { error: 'invalid_request', error_description: 'client_id must match the client being updated.' })
  const badUri = await open.inject({ method: 'PUT', url: uri, headers: { ...JSON_HEADERS, ...bearer(token) }, payload: JSON.stringify({ client_id: created.client_id, redirect_uris: ['http://evil.example/cb'] }) })
  t.equal(badUri.json().error, 'invalid_redirect_uri')
  t.equal((await open.oauth.store.findApplicationByClientId(created.client_id ?? ''))?.name, 'After', 'failed updates change nothing')

  // Becoming public drops the secret.
  const toPublic = await open.inject({
    method: 'PUT',
    url: uri,
    headers: { ...JSON_HEADERS, ...bearer(token) },
    payload: JSON.stringify({ client_id: created.client_id, redirect_uris: ['https://c.example/cb'], token_endpoint_auth_method: 'none' }),
  })
  t.equal(toPublic.statusCode, 200)
  t.match(await open.oauth.store.findApplicationByClientId(created.client_id ?? ''), { clientType: 'public', clientSecretHash: '' })
  const token2 = (toPublic.json() as Record<string, string>).registration_access_token ?? ''

  const del = await open.inject({ method: 'DELETE', url: uri, headers: bearer(token2) })
  t.equal(del.statusCode, 204)
  t.equal(del.body, '')
  t.equal(await open.oauth.store.findApplicationByClientId(created.client_id ?? ''), null)
  t.equal((await open.inject({ method: 'GET', url: uri, headers: bearer(token2) })).statusCode, 401)
})

t.test('management refuses a missing, wrong or other client\'s token with 401 invalid_token and a Bearer challenge', async (t) => {
  const a = (await register(open, { redirect_uris: ['https://a.example/cb'] })).json() as Record<string, string>
  const b = (await register(open, { redirect_uris: ['https://b.example/cb'] })).json() as Record<string, string>
  const expected = { error: 'invalid_token', error_description: 'The registration access token is invalid.' }
  for (const [url, authorization] of [
    [`/o/register/${a.client_id}/`, undefined],
    [`/o/register/${a.client_id}/`, 'Bearer wrong'],
    [`/o/register/${a.client_id}/`, `Basic ${a.registration_access_token}`],
    [`/o/register/${a.client_id}/`, `Bearer ${b.registration_access_token}`],
    ['/o/register/unknown-client/', `Bearer ${a.registration_access_token}`],
  ] as const) {
    for (const method of ['GET', 'DELETE'] as const) {
      const res = await open.inject({ method, url, headers: authorization === undefined ? {} : { authorization } })
      t.equal(res.statusCode, 401, `${method} ${url} ${authorization ?? ''}`)
      t.equal(res.headers['www-authenticate'], 'Bearer error="invalid_token"')
      t.same(res.json(), expected)
    }
  }
  t.ok(await open.oauth.store.findApplicationByClientId(a.client_id ?? ''), 'nothing was deleted')
  // A host-created application has no registration: its management URL is refused too.
  const host = await open.oauth.createApplication({ clientType: 'confidential', authorizationGrantType: 'client-credentials' })
  t.equal((await open.inject({ method: 'GET', url: `/o/register/${host.application.clientId}/`, headers: { authorization: `Bearer ${a.registration_access_token}` } })).statusCode, 401)
})

t.test('CORS: any origin without credentials unless the user policy applies (then none)', async (t) => {
  const preflight = await open.inject({ method: 'OPTIONS', url: '/o/register/', headers: { origin: 'https://inspector.example', 'access-control-request-method': 'POST' } })
  t.equal(preflight.statusCode, 204)
  t.equal(preflight.headers['access-control-allow-origin'], '*')
  t.equal(preflight.headers['access-control-allow-headers'], 'authorization, content-type')
  t.notOk('access-control-allow-credentials' in preflight.headers)
  const res = await register(open, { redirect_uris: ['https://c.example/cb'] }, { origin: 'https://inspector.example' })
  t.equal(res.headers['access-control-allow-origin'], '*')
  const error = await register(open, {}, { origin: 'https://inspector.example' })
  t.equal(error.headers['access-control-allow-origin'], '*', 'errors are readable too')

  const users = await buildApp(t, { settings: { dcrEnabled: true }, resolveUser: headerUser })
  const none = await users.inject({ method: 'OPTIONS', url: '/o/register/', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } })
  t.equal(none.statusCode, 204)
  t.notOk('access-control-allow-origin' in none.headers)
  t.notOk('access-control-allow-origin' in (await register(users, {}, { origin: 'https://evil.example', [USER_HEADER]: ALICE.id })).headers)
})

t.test('without rotation (dcrRotateRegistrationTokenOnUpdate false) the token stays and is returned', async (t) => {
  const app = await buildApp(t, { settings: { dcrEnabled: true, dcrRegistrationPolicy: 'open', dcrRotateRegistrationTokenOnUpdate: false } })
  const created = (await register(app, { redirect_uris: ['https://c.example/cb'] })).json() as Record<string, string>
  const put = await app.inject({
    method: 'PUT',
    url: `/o/register/${created.client_id}/`,
    headers: { ...JSON_HEADERS, authorization: `Bearer ${created.registration_access_token}` },
    payload: JSON.stringify({ client_id: created.client_id, redirect_uris: ['https://c.example/cb2'] }),
  })
  t.equal(put.statusCode, 200)
  t.equal((put.json() as Record<string, string>).registration_access_token, created.registration_access_token)
  t.equal((await app.inject({ method: 'GET', url: `/o/register/${created.client_id}/`, headers: { authorization: `Bearer ${created.registration_access_token}` } })).statusCode, 200)
})

t.test('initial-access-token policy: only a configured token registers', async (t) => {
  await t.rejects(buildApp(t, { settings: { dcrEnabled: true, dcrRegistrationPolicy: 'initial-access-token' } }), { code: 'OAT_ERR_OPTIONS', message: /needs an initialAccessTokens option/ })
  await t.rejects(buildApp(t, { initialAccessTokens: ['short'] }), { code: 'OAT_ERR_OPTIONS', message: /at least 32 characters/ })
  const app = await buildApp(t, { settings: { dcrEnabled: true, dcrRegistrationPolicy: 'initial-access-token' }, initialAccessTokens: ['another-initial-token-of-32-chars-or-more', IAT] })
  const body = { grant_types: ['client_credentials'] }
  for (const authorization of [undefined, 'Bearer nope', `Bearer ${IAT}x`, `Basic ${IAT}`]) {
    const res = await register(app, body, authorization === undefined ? {} : { authorization })
    t.equal(res.statusCode, 401, String(authorization))
    t.equal(res.headers['www-authenticate'], 'Bearer error="invalid_token"')
    t.same(res.json(), { error: 'invalid_token', error_description: 'The registration access token is invalid.' })
  }
  t.same(await app.oauth.store.listApplications(), [])
  t.equal((await register(app, body, { authorization: `Bearer ${IAT}` })).statusCode, 201)
})

t.test('user policy (the default): a logged-in user registers and owns the application; anonymous is refused', async (t) => {
  await t.rejects(buildApp(t, { settings: { dcrEnabled: true } }), { code: 'OAT_ERR_OPTIONS', message: /needs a `resolveUser\(request\)` option/ })
  const app = await buildApp(t, { settings: { dcrEnabled: true }, resolveUser: headerUser })
  const anonymous = await register(app, { grant_types: ['client_credentials'] })
  t.equal(anonymous.statusCode, 400)
  t.same(anonymous.json(), { error: 'access_denied', error_description: 'Log in to register a client.' })
  const res = await register(app, { grant_types: ['client_credentials'] }, { [USER_HEADER]: ALICE.id })
  t.equal(res.statusCode, 201)
  t.equal((await app.oauth.store.findApplicationByClientId((res.json() as { client_id: string }).client_id))?.userId, ALICE.id)
})

t.test('settings: the policy is validated, and the metadata advertises registration_endpoint when enabled', async (t) => {
  await t.rejects(buildApp(t, { settings: { dcrRegistrationPolicy: 'anyone' as 'open' } }), { code: 'OAT_ERR_SETTINGS' })
  const { oauthMetadata } = await import('../../index.js')
  const app = await buildApp(t, { settings: { dcrEnabled: true, dcrRegistrationPolicy: 'open', issuer: 'https://auth.example/o' } })
  await app.register(oauthMetadata, { routesPrefix: '/o' })
  const meta = (await app.inject('/.well-known/oauth-authorization-server/o')).json() as Record<string, unknown>
  t.equal(meta.registration_endpoint, 'https://auth.example/o/register/')
  const reg = (await register(app, { redirect_uris: ['https://c.example/cb'] })).json() as Record<string, string>
  t.equal(reg.registration_client_uri, `https://auth.example/o/register/${reg.client_id}/`)
})

t.test('with OpenID Connect: post_logout_redirect_uris are validated and kept; hybrid response types map to openid-hybrid', async (t) => {
  const { generateKeyPair, exportJWK } = await import('jose')
  const { privateKey } = await generateKeyPair('RS256', { extractable: true })
  const app = await buildApp(t, {
    settings: { dcrEnabled: true, dcrRegistrationPolicy: 'open', oidcEnabled: true, scopes: { openid: 'OpenID', read: 'Read' } },
    oidc: { privateKey: await exportJWK(privateKey) },
  })
  const bad = await register(app, { redirect_uris: ['https://c.example/cb'], post_logout_redirect_uris: ['http://evil.example/'] })
  t.same(bad.json(), { error: 'invalid_redirect_uri', error_description: 'A redirect URI in post_logout_redirect_uris must use https unless the host is loopback (127.0.0.1, [::1] or localhost).' })
  // With the implicit grant off (the default), code id_token is registered with authorization_code alone.
  const res = await register(app, {
    redirect_uris: ['https://c.example/cb'],
    post_logout_redirect_uris: ['https://c.example/bye'],
    grant_types: ['authorization_code'],
    response_types: ['id_token code'],
  })
  t.equal(res.statusCode, 201)
  const body = res.json() as Record<string, unknown>
  t.same(body.post_logout_redirect_uris, ['https://c.example/bye'])
  t.same(body.response_types, ['code id_token'])
  t.match(await app.oauth.store.findApplicationByClientId(body.client_id as string), { authorizationGrantType: 'openid-hybrid', postLogoutRedirectUris: ['https://c.example/bye'] })
})

t.test('CONF-2 with the implicit grant off, implicit is refused in any combination, and every response type with token', async (t) => {
  const { generateKeyPair, exportJWK } = await import('jose')
  const { privateKey } = await generateKeyPair('RS256', { extractable: true })
  const settings = { dcrEnabled: true, dcrRegistrationPolicy: 'open', dcrRegistrationRateLimit: null, oidcEnabled: true, scopes: { openid: 'OpenID', read: 'Read' } } as const
  const off = await buildApp(t, { settings, oidc: { privateKey: await exportJWK(privateKey) } })
  const uris = { redirect_uris: ['https://c.example/cb'] }
  for (const [body, description] of [
    [{ grant_types: ['authorization_code', 'implicit'] }, 'Unsupported grant type in grant_types.'],
    [{ grant_types: ['implicit', 'refresh_token'], response_types: ['token'] }, 'Unsupported grant type in grant_types.'],
    [{ grant_types: ['authorization_code', 'implicit'], response_types: ['code id_token'] }, 'Unsupported grant type in grant_types.'],
    [{ grant_types: ['authorization_code', 'implicit'], response_types: ['code token'] }, 'Unsupported grant type in grant_types.'],
    [{ grant_types: ['authorization_code'], response_types: ['code token'] }, 'Unsupported response type in response_types.'],
    [{ grant_types: ['authorization_code'], response_types: ['token id_token code'] }, 'Unsupported response type in response_types.'],
    [{ grant_types: ['authorization_code'], response_types: ['code', 'token'] }, 'Unsupported response type in response_types.'],
  ] as const) {
    const res = await register(off, { ...uris, ...body })
    t.equal(res.statusCode, 400, JSON.stringify(body))
    t.same(res.json(), { error: 'invalid_client_metadata', error_description: description }, JSON.stringify(body))
  }
  const ok = await register(off, { ...uris, grant_types: ['authorization_code', 'refresh_token'], response_types: ['code', 'code id_token'] })
  t.equal(ok.statusCode, 201, 'code id_token returns no access token: it stays')
  t.match(ok.json(), { grant_types: ['authorization_code', 'refresh_token'], response_types: ['code', 'code id_token'] }, 'the document does not claim implicit')

  // With the implicit grant on, the OpenID Connect Registration combinations are accepted.
  const on = await buildApp(t, { settings: { ...settings, implicitGrantEnabled: true }, oidc: { privateKey: await exportJWK(privateKey) } })
  const hybrid = await register(on, { ...uris, grant_types: ['authorization_code', 'implicit'], response_types: ['code id_token token'] })
  t.equal(hybrid.statusCode, 201)
  t.match(hybrid.json(), { grant_types: ['authorization_code', 'implicit'], response_types: ['code id_token token'] })
  t.equal((await register(on, { ...uris, grant_types: ['authorization_code'], response_types: ['code token'] })).statusCode, 400, 'a token response type needs the implicit grant listed')
})

t.test('JWT client authentication: register private_key_jwt with jwks, read it back, update to client_secret_jwt and back', async (t) => {
  const app = await buildApp(t, { clock, clientSecretSealingKey: 'c'.repeat(64), settings: { dcrEnabled: true, dcrRegistrationPolicy: 'open', dcrRegistrationRateLimit: null } })
  const jwk = { kty: 'EC', crv: 'P-256', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0', kid: 'k1' }
  const metadata = { redirect_uris: ['https://c.example/cb'], token_endpoint_auth_method: 'private_key_jwt', token_endpoint_auth_signing_alg: 'ES256', jwks: { keys: [jwk] } }
  const res = await register(app, metadata)
  t.equal(res.statusCode, 201)
  const body = res.json() as Record<string, unknown>
  t.equal(body.token_endpoint_auth_method, 'private_key_jwt')
  t.equal(body.token_endpoint_auth_signing_alg, 'ES256')
  t.same(body.jwks, { keys: [jwk] })
  t.notOk('client_secret' in body, 'a private_key_jwt client gets no secret')
  const stored = await app.oauth.store.findApplicationByClientId(body.client_id as string)
  t.equal(stored?.clientSecretHash, '')
  t.same(JSON.parse(stored?.jwks ?? ''), { keys: [jwk] })

  const uri = body.registration_client_uri as string
  const put = async (fields: Record<string, unknown>, token: string) => await app.inject({
    method: 'PUT', url: uri, headers: { ...JSON_HEADERS, authorization: `Bearer ${token}` }, payload: JSON.stringify({ client_id: body.client_id, ...fields }),
  })
  const toSecretJwt = await put({ redirect_uris: ['https://c.example/cb'], token_endpoint_auth_method: 'client_secret_jwt' }, body.registration_access_token as string)
  t.equal(toSecretJwt.statusCode, 200)
  const updated = toSecretJwt.json() as Record<string, unknown>
  t.equal(updated.token_endpoint_auth_method, 'client_secret_jwt')
  t.type(updated.client_secret, 'string', 'a client_secret_jwt client gets a secret, kept sealed')
  t.notOk('jwks' in updated, 'an update replaces the metadata: the keys are gone')
  const sealed = await app.oauth.store.findApplicationByClientId(body.client_id as string)
  t.not(sealed?.clientSecretSealed, '')
  t.equal(sealed?.jwks, '')

  const back = await put({ redirect_uris: ['https://c.example/cb'], token_endpoint_auth_method: 'private_key_jwt', jwks_uri: 'https://c.example/jwks.json' },
    updated.registration_access_token as string)
  t.equal(back.statusCode, 200)
  const keyed = await app.oauth.store.findApplicationByClientId(body.client_id as string)
  t.equal(keyed?.clientSecretHash, '', 'back to private_key_jwt: the secret is dropped')
  t.equal(keyed?.clientSecretSealed, '')
  t.equal(keyed?.jwksUri, 'https://c.example/jwks.json')

  // Without a sealing key the server cannot keep a secret usable as an HMAC key.
  const unsealed = await register(open, { redirect_uris: ['https://c.example/cb'], token_endpoint_auth_method: 'client_secret_jwt' })
  t.equal(unsealed.statusCode, 400)
  t.same(unsealed.json(), { error: 'invalid_client_metadata', error_description: 'The client metadata is not acceptable.' })
})
