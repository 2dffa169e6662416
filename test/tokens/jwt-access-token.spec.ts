// RFC 9068 JWT access tokens on the authorization server: format, claims per grant, and the
// database still recording them (local verification, revocation, introspection unchanged).
import Fastify from 'fastify'
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose'
import t, { type Test } from 'tap'
import { fastifyOAuthToolkit } from '../../index.js'
import { authorizationServerMetadata } from '../../lib/endpoints/metadata.js'
import {
  buildAuthorizeApp, codeFlowTokens, createCodeApplication, getAuthorize, parseConsent, postDecision, redirectParams,
  REDIRECT_URI,
} from '../helpers/authorize.js'
import { ALICE, basicAuth, bearerWorks, createApplication, FORM, form, postToken, type TokenBody } from '../helpers/index.js'
import { passwordGrant, verifyAlice } from '../helpers/password-grant.js'
import { newRsaPem } from '../oidc/support.js'

const ISSUER = 'https://auth.example.com/o'
const AUDIENCE = 'https://api.example.com'
const JWT_SETTINGS = { accessTokenFormat: 'jwt', issuer: ISSUER, accessTokenDefaultAudience: AUDIENCE, passwordGrantEnabled: true, implicitGrantEnabled: true } as const
const key = newRsaPem()

async function jwtApp (t: Test) {
  return await buildAuthorizeApp(t, { settings: JWT_SETTINGS, oidc: { privateKey: key }, verifyUserCredentials: verifyAlice })
}

async function verify (t: Test, app: Awaited<ReturnType<typeof jwtApp>>, token: string): Promise<JWTPayload> {
  const jwks = (await app.inject('/o/.well-known/jwks.json')).json<JSONWebKeySet>()
  const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(jwks), { issuer: ISSUER, audience: AUDIENCE, typ: 'at+jwt', algorithms: ['RS256'] })
  t.equal(protectedHeader.kid, jwks.keys[0]?.kid, 'signed with the active key, kid in the header')
  return payload
}

t.test('settings: jwt needs an issuer, a default audience and a signing key (checked at registration)', async (t) => {
  const register = async (settings: Record<string, unknown>, oidc = true) => {
    const app = Fastify()
    t.teardown(() => app.close())
    await app.register(fastifyOAuthToolkit, { database: ':memory:', migrate: true, settings, ...(oidc ? { oidc: { privateKey: key } } : {}) })
  }
  await t.rejects(register({ accessTokenFormat: 'jwt', accessTokenDefaultAudience: AUDIENCE }), /needs the issuer setting/)
  await t.rejects(register({ accessTokenFormat: 'jwt', issuer: ISSUER }), /needs accessTokenDefaultAudience/)
  await t.rejects(register({ accessTokenFormat: 'jwt', issuer: ISSUER, accessTokenDefaultAudience: AUDIENCE }, false), /needs a signing key/)
  await t.rejects(register({ accessTokenFormat: 'paseto' }), /accessTokenFormat must be "opaque" or "jwt"/)
  await t.rejects(register({ accessTokenDefaultAudience: [] }), /accessTokenDefaultAudience must be/)
  await t.resolves(register({ accessTokenFormat: 'jwt', issuer: ISSUER, accessTokenDefaultAudience: [AUDIENCE, 'https://other.example.com'] }))
})

t.test('the default stays opaque', async (t) => {
  const app = await buildAuthorizeApp(t, { oidc: { privateKey: key } })
  const { application, clientSecret } = await createApplication(app)
  const res = await postToken(app, { grant_type: 'client_credentials' }, { authorization: basicAuth(application.clientId, clientSecret ?? '') })
  t.match(res.json<TokenBody>().access_token, /^[A-Za-z0-9_-]{43}$/)
  t.equal((await app.inject('/o/.well-known/jwks.json')).statusCode, 404, 'no JWKS without OIDC or JWT access tokens')
})

t.test('client credentials: an at+jwt whose sub is the client (RFC 9068 §2.2), recorded by checksum', async (t) => {
  const app = await jwtApp(t)
  const { application, clientSecret } = await createApplication(app)
  const auth = basicAuth(application.clientId, clientSecret ?? '')
  const res = await postToken(app, { grant_type: 'client_credentials', scope: 'read' }, { authorization: auth })
  t.equal(res.statusCode, 200)
  const body = res.json<TokenBody>()
  t.same(decodeProtectedHeader(body.access_token), { alg: 'RS256', kid: decodeProtectedHeader(body.access_token).kid, typ: 'at+jwt' })
  const claims = await verify(t, app, body.access_token)
  t.same(Object.keys(claims).sort(), ['aud', 'client_id', 'exp', 'iat', 'iss', 'jti', 'scope', 'sub'])
  t.match(claims, { iss: ISSUER, sub: application.clientId, aud: AUDIENCE, client_id: application.clientId, scope: 'read' })
  t.equal((claims.exp ?? 0) - (claims.iat ?? 0), 36000, 'exp follows accessTokenExpireSeconds')
  t.equal(body.expires_in, 36000)

  t.ok(await bearerWorks(app, body.access_token, ['read']), 'the AS verifies it locally, by checksum')
  const introspect = async () => (await app.inject({ method: 'POST', url: '/o/introspect/', headers: { ...FORM, authorization: auth }, payload: form({ token: body.access_token }) })).json<Record<string, unknown>>()
  t.match(await introspect(), { active: true, client_id: application.clientId, scope: 'read' })
  const revoked = await app.inject({ method: 'POST', url: '/o/revoke_token/', headers: { ...FORM, authorization: auth }, payload: form({ token: body.access_token }) })
  t.equal(revoked.statusCode, 200)
  t.notOk(await bearerWorks(app, body.access_token), 'revocation works as for opaque tokens')
  t.same(await introspect(), { active: false })

  const second = (await postToken(app, { grant_type: 'client_credentials', scope: 'read' }, { authorization: auth })).json<TokenBody>().access_token
  t.not(decodeJwt(second).jti, claims.jti, 'every token has its own jti')
  const meta = authorizationServerMetadata(app.oauth.settings, ISSUER)
  t.equal(meta.jwks_uri, `${ISSUER}/.well-known/jwks.json`, 'metadata points resource servers at the JWKS')
})

t.test('authorization code and refresh: sub is the user, auth_time where known', async (t) => {
  const app = await jwtApp(t)
  const created = await createCodeApplication(app)
  const tokens = await codeFlowTokens(app, created, { scope: 'read write' })
  const claims = await verify(t, app, tokens.access_token)
  t.match(claims, { sub: ALICE.id, client_id: created.application.clientId, scope: 'read write', aud: AUDIENCE })
  t.type(claims.auth_time, 'number', 'auth_time from the grant')
  const refreshed = await postToken(app, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token ?? '', scope: 'read' },
    { authorization: basicAuth(created.application.clientId, created.clientSecret ?? '') })
  t.equal(refreshed.statusCode, 200)
  const again = await verify(t, app, refreshed.json<TokenBody>().access_token)
  t.match(again, { sub: ALICE.id, scope: 'read' })
  t.not(again.jti, claims.jti)
  t.ok(await bearerWorks(app, refreshed.json<TokenBody>().access_token, ['read']))
  t.notOk(await bearerWorks(app, tokens.access_token), 'the rotated-out token is gone, as with opaque tokens')
})

t.test('password and implicit grants issue JWTs too', async (t) => {
  const app = await jwtApp(t)
  const pw = await createApplication(app, { authorizationGrantType: 'password' })
  const res = await passwordGrant(app, pw)
  t.match(await verify(t, app, res.json<TokenBody>().access_token), { sub: ALICE.id, client_id: pw.application.clientId })

  const implicit = await createApplication(app, { clientType: 'public', authorizationGrantType: 'implicit', redirectUris: [REDIRECT_URI] })
  const params = { response_type: 'token', client_id: implicit.application.clientId, redirect_uri: REDIRECT_URI, scope: 'read' }
  const approved = await postDecision(app, parseConsent(await getAuthorize(app, params)))
  const fragment = redirectParams(approved, 'fragment')
  const claims = await verify(t, app, fragment.access_token ?? '')
  t.match(claims, { sub: ALICE.id, client_id: implicit.application.clientId, scope: 'read' })
  t.type(claims.auth_time, 'number')
})

t.test('refresh grace period hands back the same JWT pair (sealed like an opaque one)', async (t) => {
  const app = await buildAuthorizeApp(t, { settings: { ...JWT_SETTINGS, refreshTokenGracePeriodSeconds: 60 }, oidc: { privateKey: key }, verifyUserCredentials: verifyAlice })
  const created = await createCodeApplication(app)
  const tokens = await codeFlowTokens(app, created, { scope: 'read' })
  const refresh = async () => await postToken(app, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token ?? '' },
    { authorization: basicAuth(created.application.clientId, created.clientSecret ?? '') })
  const first = (await refresh()).json<TokenBody>()
  const retry = await refresh()
  t.equal(retry.statusCode, 200)
  t.equal(retry.json<TokenBody>().access_token, first.access_token, 'the same signed token, not a second one')
  t.match(await verify(t, app, first.access_token), { sub: ALICE.id })
  t.ok(await bearerWorks(app, first.access_token))
})
