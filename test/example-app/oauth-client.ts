// End to end: a real OAuth client library (oauth4webapi) against the example app (run by
// http-clients.test.ts, shared with the openid-client tests; this one's user is alice, its applications its
// own). The "user" is a fetch-based browser that logs in and answers the consent page by
// submitting the HTML forms; the client runs authorization code + PKCE, refresh with rotation,
// introspection (as a resource server would) and revocation, and the device flow (RFC 8628).
import * as oauth from 'oauth4webapi'
import type { Test } from 'tap'
import { cli } from '../cli/helpers.js'
import { createUser } from './in-process.js'
import { Browser, parseForm, type ExampleServer } from './support.js'

// Loopback redirect URI (RFC 8252 §7.3). Nothing listens there: the test reads the Location.
const REDIRECT_URI = 'http://127.0.0.1:8400/callback'

interface CreatedApplication { client_id: string, client_secret: string }

/** oauth4webapi against the example app at `server`. */
export async function oauthClientTests (t: Test, { base, database }: ExampleServer): Promise<void> {
  await t.test('oauth4webapi runs the authorization code flow against the example app', async (t) => {
    // The CLI in process (the README quick start test runs it through npm).
    const create = async (...args: string[]): Promise<CreatedApplication> => {
      const r = await cli(['createapplication', ...args, '--database', database, '--json'])
      if (r.code !== 0) throw new Error(r.stderr)
      return JSON.parse(r.stdout) as CreatedApplication
    }
    // The server has migrated the file; the user and the two applications can be created side by side.
    const [created, app, resourceServer] = await Promise.all([
      createUser({ database }, 'alice', 'wonderland'),
      create('public', 'authorization-code', '--name', 'Tutorial app', '--redirect-uris', REDIRECT_URI),
      create('confidential', 'client-credentials', '--name', 'Resource server', '--allow-introspection'),
    ])
    t.match(created, /created user "alice"/)

    // The metadata by hand (RFC 8414 field names); the issuer is the routes' prefix, which the
    // example app names in every authorization response (RFC 9207 `iss`, checked by the library).
    const as: oauth.AuthorizationServer = {
      issuer: `${base}/o`,
      authorization_endpoint: `${base}/o/authorize/`,
      token_endpoint: `${base}/o/token/`,
      revocation_endpoint: `${base}/o/revoke-token/`,
      introspection_endpoint: `${base}/o/introspect/`,
    }
    const client: oauth.Client = { client_id: app.client_id }
    const rs: oauth.Client = { client_id: resourceServer.client_id }
    const rsAuth = oauth.ClientSecretBasic(resourceServer.client_secret)
    // http://127.0.0.1 is fine for a test; the library refuses plain HTTP unless told.
    const http = { [oauth.allowInsecureRequests]: true }

    const browser = new Browser(base)

    /** Starts an authorization request with PKCE (S256) and `state`. */
    async function authorizationRequest (): Promise<{ url: URL, state: string, codeVerifier: string }> {
      const codeVerifier = oauth.generateRandomCodeVerifier()
      const state = oauth.generateRandomState()
      const url = new URL(as.authorization_endpoint ?? '')
      url.search = new URLSearchParams({
        response_type: 'code',
        client_id: client.client_id,
        redirect_uri: REDIRECT_URI,
        scope: 'read write',
        state,
        code_challenge: await oauth.calculatePKCECodeChallenge(codeVerifier),
        code_challenge_method: 'S256',
      }).toString()
      return { url, state, codeVerifier }
    }

    /** Opens the authorize URL and returns the consent page's form, logging in first when `login`. */
    async function consentForm (t: Test, url: URL, { login: mustLogIn }: { login: boolean }): Promise<ReturnType<typeof parseForm>> {
      let page = await browser.get(url.href)
      if (mustLogIn) {
        t.equal(page.status, 302, 'an anonymous user is redirected ...')
        const login = new URL(page.headers.get('location') ?? '', base)
        t.equal(login.pathname, '/accounts/login/', '... to the login page')
        t.equal(login.searchParams.get('next'), url.pathname + url.search, '... with the authorize URL as next')
        const loginPage = await browser.get(login.href)
        t.equal(loginPage.status, 200)
        const form = parseForm(await loginPage.text(), /^\/accounts\/login\/$/)
        t.type(form.hidden._csrf, 'string', 'the login form carries a CSRF token')
        const loggedIn = await browser.submit(form.action, { ...form.hidden, username: 'alice', password: 'wonderland' })
        t.equal(loggedIn.status, 302, 'logging in redirects ...')
        const back = loggedIn.headers.get('location') ?? ''
        t.equal(back, url.pathname + url.search, '... back to the authorize URL')
        page = await browser.get(back)
      }
      t.equal(page.status, 200, 'the consent page is shown')
      t.equal(page.headers.get('x-frame-options'), 'DENY')
      const body = await page.text()
      t.match(body, 'Tutorial app', 'it names the application')
      t.match(body, 'Reading scope', 'and describes the scopes')
      t.match(body, 'Writing scope')
      return parseForm(body, /\/o\/authorize\/$/)
    }

    /** Answers the consent page and returns where the browser is sent. */
    async function decide (t: Test, form: ReturnType<typeof parseForm>, button: Record<string, string>): Promise<URL> {
      t.type(form.hidden.csrf_token, 'string', 'the consent form carries a CSRF token')
      const answer = await browser.submit(form.action, { ...form.hidden, ...button })
      t.equal(answer.status, 302)
      const location = new URL(answer.headers.get('location') ?? '')
      t.equal(location.origin + location.pathname, REDIRECT_URI, 'the decision goes back to the redirect URI')
      return location
    }

    const hello = async (accessToken: string): Promise<Response> =>
      await oauth.protectedResourceRequest(accessToken, 'GET', new URL('/api/hello', base), undefined, undefined, http)

    const introspect = async (token: string): Promise<oauth.IntrospectionResponse> =>
      await oauth.processIntrospectionResponse(as, rs, await oauth.introspectionRequest(as, rs, rsAuth, token, http))

    /** The token endpoint's code exchange (RFC 6749 §4.1.3) with the PKCE verifier. */
    const exchange = async (callback: URLSearchParams, codeVerifier: string): Promise<oauth.TokenEndpointResponse> =>
      await oauth.processAuthorizationCodeResponse(as, client,
        await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), callback, REDIRECT_URI, codeVerifier, http))

    const refresh = async (refreshToken: string | undefined): Promise<oauth.TokenEndpointResponse> =>
      await oauth.processRefreshTokenResponse(as, client,
        await oauth.refreshTokenGrantRequest(as, client, oauth.None(), refreshToken ?? '', http))

    /** The OAuth error code a token request fails with (RFC 6749 §5.2), via the library's error. */
    async function tokenError (request: Promise<unknown>): Promise<string> {
      try {
        await request
      } catch (err) {
        if (err instanceof oauth.ResponseBodyError) return err.error
        throw err
      }
      return 'no error'
    }

    await t.test('code + PKCE, API calls, refresh rotation, reuse detection', async (t) => {
      const request = await authorizationRequest()
      const callback = await decide(t, await consentForm(t, request.url, { login: true }), { allow: 'Authorize' })
      t.ok(browser.jar.get('sessionid'), 'the browser holds a session')

      // No `iss` in the response (RFC 9207 is not advertised), so the library does not require one.
      const params = oauth.validateAuthResponse(as, client, callback, request.state)
      t.match(params.get('code'), /^[\w-]{20,}$/, 'a code comes back')

      const tokens = await exchange(params, request.codeVerifier)
      t.match(tokens, { token_type: 'bearer', expires_in: 36000, scope: 'read write' })
      t.type(tokens.refresh_token, 'string', 'the code grant issues a refresh token')

      const helloRes = await hello(tokens.access_token)
      t.equal(helloRes.status, 200)
      t.equal(await helloRes.text(), 'Hello, OAuth2!')
      const me = await oauth.protectedResourceRequest(tokens.access_token, 'GET', new URL('/api/me', base), undefined, undefined, http)
      t.same(await me.json(), { username: 'alice', application: 'Tutorial app', scopes: ['read', 'write'] }, '/api/me knows the user')

      // The code is single use: replaying it is refused.
      t.equal(await tokenError(exchange(params, request.codeVerifier)), 'invalid_grant', 'a replayed code is refused')
      t.equal((await hello(tokens.access_token)).status, 403, 'and the replay revokes what the code issued')

      // A fresh grant for the refresh part (the replay above revoked the first one).
      const second = await authorizationRequest()
      const secondCallback = await decide(t, await consentForm(t, second.url, { login: false }), { allow: 'Authorize' })
      const pair = await exchange(oauth.validateAuthResponse(as, client, secondCallback, second.state), second.codeVerifier)

      const refreshed = await refresh(pair.refresh_token)
      t.not(refreshed.access_token, pair.access_token, 'refresh issues a new access token ...')
      t.not(refreshed.refresh_token, pair.refresh_token, '... and a new refresh token (rotation)')
      t.equal((await hello(refreshed.access_token)).status, 200, 'the new access token works')
      t.match(await introspect(pair.access_token), { active: false }, 'the superseded access token is inactive')

      t.equal(await tokenError(refresh(pair.refresh_token)), 'invalid_grant', 'the rotated refresh token is refused')
      t.match(await introspect(refreshed.access_token), { active: false }, 'and its replay revokes the family (reuse detection)')
      t.match(await introspect(refreshed.refresh_token ?? ''), { active: false })
    })

    await t.test('introspection and revocation', async (t) => {
      // Logged in already: straight to the consent page.
      const request = await authorizationRequest()
      const callback = await decide(t, await consentForm(t, request.url, { login: false }), { allow: 'Authorize' })
      const params = oauth.validateAuthResponse(as, client, callback, request.state)
      const first = await exchange(params, request.codeVerifier)
      const tokens = await refresh(first.refresh_token)

      const response = await oauth.introspectionRequest(as, rs, rsAuth, tokens.access_token, http)
      t.equal(response.headers.get('cache-control'), 'no-store', 'introspection answers are not cached')
      const active = await oauth.processIntrospectionResponse(as, rs, response)
      t.match(active, { active: true, username: 'alice', scope: 'read write', client_id: app.client_id, token_type: 'Bearer' })
      t.type(active.exp, 'number')
      t.type(active.iat, 'number')
      t.same(await introspect(tokens.refresh_token ?? ''), { active: false }, 'a refresh token is described only to the client holding it (INTRO-1)')

      await oauth.processRevocationResponse(await oauth.revocationRequest(as, client, oauth.None(), tokens.access_token, http))
      t.same(await introspect(tokens.access_token), { active: false }, 'the revoked access token is inactive')
      t.equal((await hello(tokens.access_token)).status, 403, '/api/hello refuses the revoked token')
      t.equal(await tokenError(refresh(tokens.refresh_token)), 'invalid_grant', 'the revoked refresh token cannot be used')

      // RFC 7009 §2.2: an unknown token is not an error.
      await oauth.processRevocationResponse(await oauth.revocationRequest(as, client, oauth.None(), 'not-a-token', http))
    })

    await t.test('the user denies', async (t) => {
      const request = await authorizationRequest()
      const callback = await decide(t, await consentForm(t, request.url, { login: false }), { cancel: '1' })
      t.equal(callback.searchParams.get('code'), null, 'no code')
      t.equal(callback.searchParams.get('state'), request.state, 'the state comes back')
      t.throws(() => oauth.validateAuthResponse(as, client, callback, request.state),
        { error: 'access_denied', code: oauth.AUTHORIZATION_RESPONSE_ERROR }, 'the library reports access_denied')
    })

    await t.test('the device flow (RFC 8628): the library asks for a code, the user approves, the library polls', async (t) => {
      const tv = await create('public', 'urn:ietf:params:oauth:grant-type:device_code', '--name', 'Tutorial TV')
      const deviceAs: oauth.AuthorizationServer = { ...as, device_authorization_endpoint: `${base}/o/device-authorization/` }
      const tvClient: oauth.Client = { client_id: tv.client_id }
      const authorization = await oauth.processDeviceAuthorizationResponse(deviceAs, tvClient,
        await oauth.deviceAuthorizationRequest(deviceAs, tvClient, oauth.None(), { scope: 'read' }, http))
      t.match(authorization, { user_code: /^[A-Z]{4}-[A-Z]{4}$/, verification_uri: `${base}/o/device/`, expires_in: 1800, interval: 5 })
      const pollOnce = async (): Promise<oauth.TokenEndpointResponse> => await oauth.processDeviceCodeResponse(deviceAs, tvClient,
        await oauth.deviceCodeGrantRequest(deviceAs, tvClient, oauth.None(), authorization.device_code, http))
      t.equal(await tokenError(pollOnce()), 'authorization_pending', 'the library sees authorization_pending')

      // The user, already logged in, opens verification_uri_complete: the code is filled in.
      const entryPage = await browser.get(authorization.verification_uri_complete ?? '')
      t.equal(entryPage.status, 200)
      const entry = parseForm(await entryPage.text(), /\/o\/device\/$/)
      const entered = await browser.submit(entry.action, { ...entry.hidden, user_code: authorization.user_code })
      t.equal(entered.status, 302)
      const confirmPage = await browser.get(entered.headers.get('location') ?? '')
      const confirm = parseForm(await confirmPage.text(), /\/o\/device-confirm\/\d+\/$/)
      t.equal((await browser.submit(confirm.action, { ...confirm.hidden, allow: 'Authorize' })).status, 200)

      const tokens = await pollOnce()
      t.match(tokens, { token_type: 'bearer', scope: 'read', refresh_token: /./ })
      t.equal((await hello(tokens.access_token)).status, 200, 'the device\'s token works on the API')
      t.equal(await tokenError(pollOnce()), 'invalid_grant', 'the device code is spent')
    })

    await t.test('DPoP (RFC 9449): the example app advertises it and binds a client-credentials token to the client\'s key', async (t) => {
      const discovered = await oauth.processDiscoveryResponse(new URL(`${base}/o`), await oauth.discoveryRequest(new URL(`${base}/o`), { algorithm: 'oauth2', ...http }))
      t.ok(discovered.dpop_signing_alg_values_supported?.includes('ES256'), 'discovery lists the proof algorithms')
      const DPoP = oauth.DPoP(rs, await oauth.generateKeyPair('ES256'))
      const tokens = await oauth.processClientCredentialsResponse(discovered, rs,
        await oauth.clientCredentialsGrantRequest(discovered, rs, rsAuth, {}, { DPoP, ...http }))
      t.equal(tokens.token_type, 'dpop')
      const res = await oauth.protectedResourceRequest(tokens.access_token, 'GET', new URL('/api/hello', base), undefined, undefined, { DPoP, ...http })
      t.equal(await res.text(), 'Hello, OAuth2!')
      const stolen = await fetch(new URL('/api/hello', base), { headers: { authorization: `Bearer ${tokens.access_token}` } })
      t.equal(stolen.status, 403, 'the same token without the key is refused')
    })

    // Last: its failed logins lock 127.0.0.1 out of the login form for the rest of the window.
    await t.test('UI-2, REDIR-2 and BRUTE-1 on the login form: CSRF required, a new session id at login, 429 after 10 failures', async (t) => {
      const fresh = new Browser(base)
      const page = await fresh.get('/accounts/login/')
      const form = parseForm(await page.text(), /^\/accounts\/login\/$/)
      const before = fresh.jar.get('sessionid')
      const noCsrf = await fresh.submit(form.action, { username: 'alice', password: 'wonderland' })
      t.equal(noCsrf.status, 403, 'a login POST without the CSRF token is refused')
      const loggedIn = await fresh.submit(form.action, { ...form.hidden, username: 'alice', password: 'wonderland' })
      t.ok(loggedIn.status === 302 || loggedIn.status === 303, 'REDIR-3: the login answer is 302/303, never 307/308')
      t.ok(fresh.jar.get('sessionid') !== undefined && fresh.jar.get('sessionid') !== before, 'the session id changed at login')

      for (const next of ['//evil.example', '/\\evil.example', 'https://evil.example/', 'javascript:alert(1)']) {
        const visitor = new Browser(base)
        const visitorForm = parseForm(await (await visitor.get('/accounts/login/')).text(), /^\/accounts\/login\/$/)
        const res = await visitor.submit(visitorForm.action, { ...visitorForm.hidden, next, username: 'alice', password: 'wonderland' })
        t.equal(res.headers.get('location'), '/', `REDIR-2: next=${next} stays on the origin`)
      }

      const attacker = new Browser(base)
      const attackerForm = parseForm(await (await attacker.get('/accounts/login/')).text(), /^\/accounts\/login\/$/)
      const statuses: number[] = []
      for (let i = 0; i < 12; i++) {
        statuses.push((await attacker.submit(attackerForm.action, { ...attackerForm.hidden, username: 'alice', password: `guess-${i}` })).status)
      }
      t.same(statuses, [...Array(10).fill(401), 429, 429], 'the 11th failed login is throttled')
      const locked = await attacker.submit(attackerForm.action, { ...attackerForm.hidden, username: 'alice', password: 'wonderland' })
      t.equal(locked.status, 429, 'the right password is refused while locked')
      t.ok(Number(locked.headers.get('retry-after')) >= 1, 'with Retry-After')
    })
  })
}
