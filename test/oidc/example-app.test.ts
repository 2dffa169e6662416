// End to end: oauth4webapi (panva's certified-style client) as an OpenID Connect relying party
// against `npm start`: discovery, authorization code + PKCE + nonce, ID token validation
// (claims by the library, signature with jose against the served JWKS), UserInfo, refresh.
import { createRemoteJWKSet, jwtVerify } from 'jose'
import * as oauth from 'oauth4webapi'
import t from 'tap'
import { Browser, npmRun, parseForm, startExampleApp } from '../example-app/support.js'

const REDIRECT_URI = 'http://127.0.0.1:8400/callback'
const LOGGED_OUT_URI = 'http://127.0.0.1:8400/logged-out'

t.test('an OpenID Connect relying party signs in against the example app', async (t) => {
  const { base, database, env } = await startExampleApp(t)
  const [, created] = await Promise.all([
    npmRun('example', ['createuser', 'alice', '--password', 'wonderland'], env),
    npmRun('cli', ['createapplication', 'public', 'authorization-code', '--name', 'RP', '--redirect-uris', REDIRECT_URI,
      '--post-logout-redirect-uris', LOGGED_OUT_URI, '--database', database, '--json'], env),
  ])
  const client: oauth.Client = { client_id: (JSON.parse(created) as { client_id: string }).client_id }
  const http = { [oauth.allowInsecureRequests]: true }

  // Discovery (OIDC Discovery §4) at {issuer}/.well-known/openid-configuration.
  const issuer = new URL(`${base}/o`)
  const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oidc', ...http }))
  t.equal(as.issuer, `${base}/o`)
  t.same(as.id_token_signing_alg_values_supported, ['RS256'])

  const codeVerifier = oauth.generateRandomCodeVerifier()
  const nonce = oauth.generateRandomNonce()
  const state = oauth.generateRandomState()
  const url = new URL(as.authorization_endpoint ?? '')
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: client.client_id,
    redirect_uri: REDIRECT_URI,
    scope: 'openid profile',
    state,
    nonce,
    code_challenge: await oauth.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
  }).toString()

  const browser = new Browser(base)
  const toLogin = await browser.get(url.href)
  t.equal(toLogin.status, 302)
  const loginPage = await browser.get(toLogin.headers.get('location') ?? '')
  const login = parseForm(await loginPage.text(), /^\/accounts\/login\/$/)
  const back = await browser.submit(login.action, { ...login.hidden, username: 'alice', password: 'wonderland' })
  const consentPage = await browser.get(back.headers.get('location') ?? '')
  t.equal(consentPage.status, 200)
  const consent = parseForm(await consentPage.text(), /\/o\/authorize\/$/)
  const answer = await browser.submit(consent.action, { ...consent.hidden, allow: 'Authorize' })
  const callback = oauth.validateAuthResponse(as, client, new URL(answer.headers.get('location') ?? ''), state)

  const tokens = await oauth.processAuthorizationCodeResponse(as, client,
    await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), callback, REDIRECT_URI, codeVerifier, http),
    { expectedNonce: nonce, requireIdToken: true })
  const claims = oauth.getValidatedIdTokenClaims(tokens)
  t.match(claims, { iss: `${base}/o`, aud: client.client_id, nonce })
  t.type(claims?.sub, 'string')
  t.type(claims?.auth_time, 'number', 'the example app knows when alice logged in')

  // The signature, with the keys the server publishes.
  const jwks = createRemoteJWKSet(new URL(as.jwks_uri ?? ''))
  const verified = await jwtVerify(tokens.id_token ?? '', jwks, { issuer: as.issuer, audience: client.client_id, algorithms: ['RS256'] })
  t.equal(verified.payload.sub, claims?.sub)

  const userinfo = await oauth.processUserInfoResponse(as, client, claims?.sub ?? '',
    await oauth.userInfoRequest(as, client, tokens.access_token, http))
  t.same(userinfo, { sub: claims?.sub, preferred_username: 'alice' })

  const refreshed = await oauth.processRefreshTokenResponse(as, client,
    await oauth.refreshTokenGrantRequest(as, client, oauth.None(), tokens.refresh_token ?? '', http))
  const again = oauth.getValidatedIdTokenClaims(refreshed)
  t.equal(again?.sub, claims?.sub, 'a refresh brings a new ID token for the same user')
  t.equal(again?.nonce, undefined)
  t.ok(await jwtVerify(refreshed.id_token ?? '', jwks, { issuer: as.issuer, audience: client.client_id }))

  // RP-Initiated Logout: the user confirms, the session ends, the RP gets its state back.
  const logout = new URL(as.end_session_endpoint ?? '')
  logout.search = new URLSearchParams({ id_token_hint: refreshed.id_token ?? '', post_logout_redirect_uri: LOGGED_OUT_URI, state: 'bye' }).toString()
  const confirm = await browser.get(logout.href)
  t.equal(confirm.status, 200, 'the user is asked to confirm')
  const confirmForm = parseForm(await confirm.text(), /\/o\/logout\/\?/)
  const done = await browser.submit(confirmForm.action, confirmForm.hidden)
  t.equal(done.status, 302)
  t.equal(done.headers.get('location'), `${LOGGED_OUT_URI}?state=bye`)
  const afterwards = await browser.get(url.href)
  t.equal(afterwards.status, 302, 'logged out: the authorize URL sends the browser to log in again')
  t.match(afterwards.headers.get('location'), /^\/accounts\/login\//)
  t.equal((await oauth.userInfoRequest(as, client, refreshed.access_token, http)).status, 401, 'the user\'s tokens were revoked')
})
