// Attack-table rows of the browser side that had no test of their own: RURI-5, STATE-1, MIXUP-1,
// plus STORE-4 (cleartokens keeps what reuse detection needs). See test/security/README.md.
import type { FastifyInstance } from 'fastify'
import t from 'tap'
import { oauthMetadata } from '../../index.js'
import { ApplicationValidationError } from '../../entries/errors.js'
import { basicAuth, fixedClock, postToken, type TokenBody } from '../helpers/index.js'
import {
  buildAuthorizeApp, codeFlowTokens, countRows, createCodeApplication, fetchConsent, getAuthorize, pkcePair, postDecision, REDIRECT_URI, redirectParams,
} from '../helpers/authorize.js'

const ISSUER = 'https://auth.example.com/o'

function codeParams (clientId: string, extra: Record<string, string> = {}): Record<string, string> {
  return { response_type: 'code', client_id: clientId, redirect_uri: REDIRECT_URI, code_challenge: pkcePair().challenge, code_challenge_method: 'S256', ...extra }
}

t.test('RURI-5 dangerous redirect URIs are refused at registration and nothing is stored', async (t) => {
  const app = await buildAuthorizeApp(t)
  const dangerous = ['javascript:alert(1)', 'data:text/html,x', 'vbscript:x', 'file:///etc/passwd', 'http://client.example.com/cb', 'https://client.example.com/cb#frag', 'https://client.example.com/cb#', 'https://user@client.example.com/cb']
  for (const uri of dangerous) {
    await t.rejects(createCodeApplication(app, { redirectUris: [uri] }), ApplicationValidationError, uri)
  }
  const stored = await app.oauth.store.findApplicationByClientId('none')
  t.equal(stored, null)
  const ok = await createCodeApplication(app, { redirectUris: ['http://127.0.0.1/cb', REDIRECT_URI] })
  t.ok(ok.application.id, 'loopback http and https are accepted')
})

t.test('STATE-1 a hostile state is echoed byte-exact on success and on deny, never raw in HTML', async (t) => {
  const app = await buildAuthorizeApp(t)
  const created = await createCodeApplication(app)
  const printable = Array.from({ length: 2048 }, (_, i) => String.fromCharCode(0x21 + (i % 94))).join('')
  for (const state of [printable, '<script>alert(1)</script>', '"\'`><img src=x>', 'a%00b', 'zürich ☃ 東京']) {
    const consent = await getAuthorize(app, codeParams(created.application.clientId, { state }))
    t.equal(consent.statusCode, 200, 'the consent page is shown')
    if (/[<>"']/.test(state)) t.notOk(consent.body.includes(state), 'the page never holds the raw state')
    const form = await fetchConsent(app, codeParams(created.application.clientId, { state }))
    const approved = await postDecision(app, form)
    t.equal(redirectParams(approved).state, state, 'approve: same state back')
    const denied = await postDecision(app, await fetchConsent(app, codeParams(created.application.clientId, { state })), { allow: false })
    t.equal(redirectParams(denied).state, state, 'deny: same state back')
    t.notMatch(String(approved.headers.location), /[\r\n]/)
  }
})

async function issApp (t: Parameters<typeof buildAuthorizeApp>[0], on: boolean): Promise<FastifyInstance> {
  const app = await buildAuthorizeApp(t, { settings: { issuer: ISSUER, authorizationResponseIss: on } })
  await app.register(oauthMetadata)
  return app
}

t.test('MIXUP-1 with authorizationResponseIss on, success, deny and error redirects all carry iss = issuer', async (t) => {
  const app = await issApp(t, true)
  const created = await createCodeApplication(app)
  const metadata = (await app.inject('/.well-known/oauth-authorization-server/o')).json<Record<string, unknown>>()
  t.equal(metadata.authorization_response_iss_parameter_supported, true)
  t.equal(metadata.issuer, ISSUER)
  const approved = await postDecision(app, await fetchConsent(app, codeParams(created.application.clientId)))
  t.equal(redirectParams(approved).iss, ISSUER, 'success')
  const denied = await postDecision(app, await fetchConsent(app, codeParams(created.application.clientId)), { allow: false })
  t.equal(redirectParams(denied).iss, ISSUER, 'deny')
  const badScope = await getAuthorize(app, codeParams(created.application.clientId, { scope: 'nonexistent' }))
  t.equal(redirectParams(badScope).error, 'invalid_scope')
  t.equal(redirectParams(badScope).iss, ISSUER, 'invalid_scope')
})

t.test('MIXUP-1 off (the DOT default): no iss and the metadata says so', async (t) => {
  const app = await issApp(t, false)
  const created = await createCodeApplication(app)
  const approved = await postDecision(app, await fetchConsent(app, codeParams(created.application.clientId)))
  t.equal(redirectParams(approved).iss, undefined)
  const metadata = (await app.inject('/.well-known/oauth-authorization-server/o')).json<Record<string, unknown>>()
  t.not(metadata.authorization_response_iss_parameter_supported, true)
})

t.test('STORE-4 cleartokens keeps rotated refresh tokens, so a replay after it is still reuse (RT-1 holds)', async (t) => {
  const clock = fixedClock()
  const app = await buildAuthorizeApp(t, { clock })
  const created = await createCodeApplication(app)
  const auth = { authorization: basicAuth(created.application.clientId, created.clientSecret ?? '') }
  const first = await codeFlowTokens(app, created)
  const second = (await postToken(app, { grant_type: 'refresh_token', refresh_token: first.refresh_token ?? '' }, auth)).json<TokenBody>()
  const third = (await postToken(app, { grant_type: 'refresh_token', refresh_token: second.refresh_token ?? '' }, auth)).json<TokenBody>()
  // Past every access token's expiry (36000 s), so cleartokens has work to do.
  clock.advance(40_000)
  const cleared = await app.oauth.clearExpiredTokens()
  t.ok(cleared.accessTokens + cleared.grants >= 1, `cleartokens removed the expired access tokens (${JSON.stringify(cleared)})`)
  t.ok(countRows(t, 'oauth2_refreshtoken') >= 3, 'the rotated refresh tokens are still there')
  const replay = await postToken(app, { grant_type: 'refresh_token', refresh_token: first.refresh_token ?? '' }, auth)
  t.equal(replay.json<{ error: string }>().error, 'invalid_grant')
  const newest = await postToken(app, { grant_type: 'refresh_token', refresh_token: third.refresh_token ?? '' }, auth)
  t.equal(newest.json<{ error: string }>().error, 'invalid_grant', 'the replay after cleartokens revoked the whole family')
})
