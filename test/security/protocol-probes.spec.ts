// Found by a black-box round against the token-side endpoints of the example app and an
// open-registration server (test/security/README.md, PROTO rows): each test is one class of
// request an outside attacker or a misbehaving client sends, at every endpoint it reaches.
import t from 'tap'
import { basicAuth, buildApp, createApplication, FORM, form } from '../helpers/index.js'

/** Every endpoint that authenticates clients, with a body it accepts once the client is known. */
const ENDPOINTS: ReadonlyArray<readonly [string, Record<string, string>]> = [
  ['/o/token/', { grant_type: 'client_credentials' }],
  ['/o/revoke-token/', { token: 'some-token' }],
  ['/o/introspect/', { token: 'some-token' }],
  ['/o/par/', { response_type: 'code', redirect_uri: 'https://client.example.com/cb', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' }],
  ['/o/device-authorization/', {}],
]

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
