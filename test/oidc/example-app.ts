// End to end: openid-client v6 (an OpenID Foundation certified relying party) against the
// example app (run by test/example-app/http-clients.test.ts, shared with the oauth4webapi tests; this one's
// user is olivia, its applications its own): discovery, authorization code + PKCE + nonce, ID
// token validation (claims by the library, signature with jose against the served JWKS),
// UserInfo, refresh, and RP-Initiated Logout through the URL openid-client builds; a confidential
// client with HS256 ID tokens; and a public client with ES256 ID tokens (the example app's second
// key), signature checked by the library.
import { createRemoteJWKSet, jwtVerify } from 'jose'
import * as client from 'openid-client'
import type { Test } from 'tap'
import { cli } from '../cli/helpers.js'
import { createUser } from '../example-app/in-process.js'
import { Browser, parseForm, type ExampleServer } from '../example-app/support.js'

const REDIRECT_URI = 'http://127.0.0.1:8400/callback'
const LOGGED_OUT_URI = 'http://127.0.0.1:8400/logged-out'

/**
 * openid-client against the example app at `server`, which must run with the sealing key
 * `server.env.OAT_CLIENT_SECRET_SEALING_KEY` (the CLI registers HS256 applications with it).
 */
export async function openIdClientTests (t: Test, { base, database, env }: ExampleServer): Promise<void> {
  await t.test('openid-client signs in, refreshes and logs out against the example app', async (t) => {
    // The CLI in process, with the server's sealing key, so HS256 applications can be registered
    // (the README quick start test runs the CLI through npm).
    const sealingKey = env.OAT_CLIENT_SECRET_SEALING_KEY ?? ''
    t.ok(sealingKey !== '', 'the example app runs with a client secret sealing key')
    const create = async (...args: string[]): Promise<string> => {
      const r = await cli(['createapplication', ...args, '--database', database, '--json'], { env: { OAT_CLIENT_SECRET_SEALING_KEY: sealingKey } })
      if (r.code !== 0) throw new Error(r.stderr)
      return r.stdout
    }
    const [, created, createdHs256, createdEs256] = await Promise.all([
      createUser({ database }, 'olivia', 'wonderland'),
      create('public', 'authorization-code', '--name', 'RP', '--redirect-uris', REDIRECT_URI, '--post-logout-redirect-uris', LOGGED_OUT_URI),
      create('confidential', 'authorization-code', '--name', 'HS256 RP', '--redirect-uris', REDIRECT_URI, '--algorithm', 'HS256'),
      create('public', 'authorization-code', '--name', 'ES256 RP', '--redirect-uris', REDIRECT_URI, '--algorithm', 'ES256'),
    ])
    const clientId = (JSON.parse(created) as { client_id: string }).client_id
    const hs256 = JSON.parse(createdHs256) as { client_id: string, client_secret: string }

    // Discovery (OIDC Discovery §4) at {issuer}/.well-known/openid-configuration; openid-client
    // checks that the document's issuer is the one asked for. Plain http is allowed on loopback only.
    const config = await client.discovery(new URL(`${base}/o`), clientId, undefined, client.None(), { execute: [client.allowInsecureRequests] })
    const as = config.serverMetadata()
    t.equal(as.issuer, `${base}/o`)
    t.same(as.id_token_signing_alg_values_supported, ['RS256', 'ES256', 'HS256'], 'its two keys; HS256 too: the server keeps secrets sealed')
    t.equal(as.end_session_endpoint, `${base}/o/logout/`)

    const codeVerifier = client.randomPKCECodeVerifier()
    const nonce = client.randomNonce()
    const state = client.randomState()
    const authorizationUrl = client.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT_URI,
      scope: 'openid profile',
      state,
      nonce,
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
    })

    const browser = new Browser(base)
    const toLogin = await browser.get(authorizationUrl.href)
    t.equal(toLogin.status, 302)
    const loginPage = await browser.get(toLogin.headers.get('location') ?? '')
    const login = parseForm(await loginPage.text(), /^\/accounts\/login\/$/)
    const back = await browser.submit(login.action, { ...login.hidden, username: 'olivia', password: 'wonderland' })
    const consentPage = await browser.get(back.headers.get('location') ?? '')
    t.equal(consentPage.status, 200)
    const consent = parseForm(await consentPage.text(), /\/o\/authorize\/$/)
    const answer = await browser.submit(consent.action, { ...consent.hidden, allow: 'Authorize' })

    // openid-client validates state, exchanges the code with the verifier and validates the ID token's claims.
    const tokens = await client.authorizationCodeGrant(config, new URL(answer.headers.get('location') ?? ''), {
      pkceCodeVerifier: codeVerifier, expectedNonce: nonce, expectedState: state, idTokenExpected: true,
    })
    const claims = tokens.claims()
    t.match(claims, { iss: `${base}/o`, aud: clientId, nonce })
    t.type(claims?.sub, 'string')
    t.type(claims?.auth_time, 'number', 'the example app knows when olivia logged in')

    // The signature, with the keys the server publishes.
    const jwks = createRemoteJWKSet(new URL(as.jwks_uri ?? ''))
    const verified = await jwtVerify(tokens.id_token ?? '', jwks, { issuer: as.issuer, audience: clientId, algorithms: ['RS256'] })
    t.equal(verified.payload.sub, claims?.sub)

    // UserInfo: openid-client refuses an answer whose sub differs from the ID token's.
    const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims?.sub ?? '')
    t.same(userinfo, { sub: claims?.sub, preferred_username: 'olivia' })

    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token ?? '')
    const again = refreshed.claims()
    t.equal(again?.sub, claims?.sub, 'a refresh brings a new ID token for the same user')
    t.equal(again?.nonce, undefined)
    t.equal(again?.auth_time, claims?.auth_time, 'the refreshed ID token keeps the original auth_time (OIDC Core §12.2)')
    t.ok(await jwtVerify(refreshed.id_token ?? '', jwks, { issuer: as.issuer, audience: clientId }))

    // A confidential client whose ID tokens are MACed with its client secret (OIDC Core §10.1):
    // openid-client authenticates with client_secret_basic and expects HS256.
    const hsConfig = await client.discovery(new URL(`${base}/o`), hs256.client_id, { client_secret: hs256.client_secret, id_token_signed_response_alg: 'HS256' },
      client.ClientSecretBasic(hs256.client_secret), { execute: [client.allowInsecureRequests] })
    const hsVerifier = client.randomPKCECodeVerifier()
    const hsNonce = client.randomNonce()
    const hsUrl = client.buildAuthorizationUrl(hsConfig, {
      redirect_uri: REDIRECT_URI, scope: 'openid', nonce: hsNonce, code_challenge: await client.calculatePKCECodeChallenge(hsVerifier), code_challenge_method: 'S256',
    })
    const hsConsent = parseForm(await (await browser.get(hsUrl.href)).text(), /\/o\/authorize\/$/)
    const hsAnswer = await browser.submit(hsConsent.action, { ...hsConsent.hidden, allow: 'Authorize' })
    const hsTokens = await client.authorizationCodeGrant(hsConfig, new URL(hsAnswer.headers.get('location') ?? ''), { pkceCodeVerifier: hsVerifier, expectedNonce: hsNonce, idTokenExpected: true })
    t.equal(hsTokens.claims()?.sub, claims?.sub)
    const hsVerified = await jwtVerify(hsTokens.id_token ?? '', new TextEncoder().encode(hs256.client_secret), { issuer: as.issuer, audience: hs256.client_id, algorithms: ['HS256'] })
    t.equal(hsVerified.protectedHeader.alg, 'HS256', 'MACed with the client secret the CLI printed')
    const hsRefreshed = await client.refreshTokenGrant(hsConfig, hsTokens.refresh_token ?? '')
    t.equal(hsRefreshed.claims()?.auth_time, claims?.auth_time)

    // A public client that registered ES256: openid-client expects it and, with the
    // non-repudiation checks, verifies the signature against the served JWKS itself.
    const esClientId = (JSON.parse(createdEs256) as { client_id: string }).client_id
    const esConfig = await client.discovery(new URL(`${base}/o`), esClientId, { id_token_signed_response_alg: 'ES256' }, client.None(), { execute: [client.allowInsecureRequests] })
    client.enableNonRepudiationChecks(esConfig)
    const esVerifier = client.randomPKCECodeVerifier()
    const esNonce = client.randomNonce()
    const esUrl = client.buildAuthorizationUrl(esConfig, {
      redirect_uri: REDIRECT_URI, scope: 'openid', nonce: esNonce, code_challenge: await client.calculatePKCECodeChallenge(esVerifier), code_challenge_method: 'S256',
    })
    const esConsent = parseForm(await (await browser.get(esUrl.href)).text(), /\/o\/authorize\/$/)
    const esAnswer = await browser.submit(esConsent.action, { ...esConsent.hidden, allow: 'Authorize' })
    const esTokens = await client.authorizationCodeGrant(esConfig, new URL(esAnswer.headers.get('location') ?? ''), { pkceCodeVerifier: esVerifier, expectedNonce: esNonce, idTokenExpected: true })
    t.equal(esTokens.claims()?.sub, claims?.sub)
    const esVerified = await jwtVerify(esTokens.id_token ?? '', jwks, { issuer: as.issuer, audience: esClientId, algorithms: ['ES256'] })
    t.equal(esVerified.protectedHeader.alg, 'ES256', 'signed with the ES256 key the JWKS publishes')

    // RP-Initiated Logout: the URL openid-client builds, followed by the browser; the user confirms,
    // the session ends, the RP gets its state back.
    const logout = client.buildEndSessionUrl(config, { id_token_hint: refreshed.id_token ?? '', post_logout_redirect_uri: LOGGED_OUT_URI, state: 'bye' })
    t.equal(logout.searchParams.get('client_id'), clientId, 'openid-client names the client')
    const confirm = await browser.get(logout.href)
    t.equal(confirm.status, 200, 'the user is asked to confirm')
    const confirmForm = parseForm(await confirm.text(), /\/o\/logout\/\?/)
    const done = await browser.submit(confirmForm.action, confirmForm.hidden)
    t.equal(done.status, 302)
    t.equal(done.headers.get('location'), `${LOGGED_OUT_URI}?state=bye`)
    const afterwards = await browser.get(authorizationUrl.href)
    t.equal(afterwards.status, 302, 'logged out: the authorize URL sends the browser to log in again')
    t.match(afterwards.headers.get('location'), /^\/accounts\/login\//)
    const refused = await client.fetchUserInfo(config, refreshed.access_token, claims?.sub ?? '').then(() => null, (err: unknown) => err)
    t.match(refused, { status: 401 }, 'the user\'s tokens were revoked')
  })
}
