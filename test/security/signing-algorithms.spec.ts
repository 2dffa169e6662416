// Probes of the signing algorithms: a registration's `id_token_signed_response_alg` and
// `userinfo_signed_response_alg` (wrong types,
// unknown or unsigned algorithms, case, control characters, oversize, algorithms without a key)
// and `id_token_hint`s that try algorithm confusion across the server's EC and Ed25519 keys
// (swapped `alg`, HS256 keyed with a public key, `none`, a foreign key under one of our kids).
import { generateKeyPairSync } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { decodeProtectedHeader, SignJWT, UnsecuredJWT } from 'jose'
import t from 'tap'
import { REDIRECT_URI } from '../helpers/authorize.js'
import { buildApp } from '../helpers/index.js'
import { buildOidcApp, createOidcApplication, ISSUER, oidcCodeFlow } from '../oidc/support.js'

const pem = (curve: 'P-256' | 'ed25519'): string => (curve === 'ed25519' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: curve }))
  .privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()

// No RSA key at all: the default algorithm is ES256, and RS256 is one the server cannot sign.
const app = await buildOidcApp(t, {
  oidc: { signingKeys: [{ alg: 'ES256', privateKey: pem('P-256') }, { alg: 'EdDSA', privateKey: pem('ed25519') }] },
  settings: { dcrEnabled: true, dcrRegistrationPolicy: 'open', dcrRegistrationRateLimit: null, oidcRpInitiatedLogoutEnabled: true },
  logoutUser: () => {},
})

async function register (target: FastifyInstance, body: Record<string, unknown>) {
  return await target.inject({ method: 'POST', url: '/o/register/', payload: JSON.stringify(body), headers: { 'content-type': 'application/json' } })
}

const PUBLIC_CLIENT = { redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'none' }

t.test('registration: id_token_signed_response_alg is kept, defaulted and reported; one without a key is refused', async (t) => {
  const chosen = await register(app, { ...PUBLIC_CLIENT, id_token_signed_response_alg: 'EdDSA' })
  t.equal(chosen.statusCode, 201)
  const body = chosen.json<Record<string, string>>()
  t.equal(body.id_token_signed_response_alg, 'EdDSA')
  t.equal((await app.oauth.store.findApplicationByClientId(body.client_id ?? ''))?.algorithm, 'EdDSA')

  const defaulted = await register(app, PUBLIC_CLIENT)
  t.equal(defaulted.json<Record<string, string>>().id_token_signed_response_alg, 'ES256', 'the server\'s default is reported')
  t.equal((await app.oauth.store.findApplicationByClientId(defaulted.json<Record<string, string>>().client_id ?? ''))?.algorithm, '', 'and stored as the default')

  const noKey = await register(app, { ...PUBLIC_CLIENT, id_token_signed_response_alg: 'RS256' })
  t.equal(noKey.statusCode, 400)
  t.same(noKey.json(), { error: 'invalid_client_metadata', error_description: 'This server cannot sign ID tokens with the requested id_token_signed_response_alg.' })
  const hs256 = await register(app, { redirect_uris: [REDIRECT_URI], id_token_signed_response_alg: 'HS256' })
  t.equal(hs256.statusCode, 400, 'HS256 needs a sealing key, which this server lacks')
  t.equal(hs256.json<Record<string, string>>().error, 'invalid_client_metadata')

  // RFC 7592 update: another of the server's algorithms is fine; one without a key or a switch to HS256 is not.
  const update = async (alg: string) => await app.inject({
    method: 'PUT',
    url: `/o/register/${body.client_id}/`,
    payload: JSON.stringify({ ...PUBLIC_CLIENT, client_id: body.client_id, id_token_signed_response_alg: alg }),
    headers: { 'content-type': 'application/json', authorization: `Bearer ${body.registration_access_token}` },
  })
  const toEs256 = await update('ES256')
  t.equal(toEs256.statusCode, 200)
  t.equal(toEs256.json<Record<string, string>>().id_token_signed_response_alg, 'ES256')
  const token = toEs256.json<Record<string, string>>().registration_access_token
  body.registration_access_token = token ?? ''
  t.equal((await update('RS256')).statusCode, 400)
  t.equal((await update('HS256')).statusCode, 400)
  t.equal((await app.oauth.store.findApplicationByClientId(body.client_id ?? ''))?.algorithm, 'ES256', 'refused updates change nothing')
})

t.test('registration: userinfo_signed_response_alg is kept and reported, refused without a key, updated and cleared by RFC 7592', async (t) => {
  const chosen = await register(app, { ...PUBLIC_CLIENT, userinfo_signed_response_alg: 'EdDSA' })
  t.equal(chosen.statusCode, 201)
  const body = chosen.json<Record<string, string>>()
  t.equal(body.userinfo_signed_response_alg, 'EdDSA')
  t.equal((await app.oauth.store.findApplicationByClientId(body.client_id ?? ''))?.userinfoSignedResponseAlg, 'EdDSA')
  const plain = await register(app, PUBLIC_CLIENT)
  t.notOk('userinfo_signed_response_alg' in plain.json<Record<string, string>>(), 'absent: plain JSON, no default signing')

  const noKey = await register(app, { ...PUBLIC_CLIENT, userinfo_signed_response_alg: 'RS256' })
  t.equal(noKey.statusCode, 400)
  t.same(noKey.json(), { error: 'invalid_client_metadata', error_description: 'This server cannot sign UserInfo responses with the requested userinfo_signed_response_alg.' })

  let token = body.registration_access_token ?? ''
  const update = async (fields: Record<string, unknown>) => {
    const res = await app.inject({
      method: 'PUT',
      url: `/o/register/${body.client_id}/`,
      payload: JSON.stringify({ ...PUBLIC_CLIENT, client_id: body.client_id, ...fields }),
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    })
    if (res.statusCode === 200) token = res.json<Record<string, string>>().registration_access_token ?? token
    return res
  }
  const toEs256 = await update({ userinfo_signed_response_alg: 'ES256' })
  t.equal(toEs256.statusCode, 200)
  t.equal(toEs256.json<Record<string, string>>().userinfo_signed_response_alg, 'ES256')
  const refused = await update({ userinfo_signed_response_alg: 'PS256' })
  t.match(refused.json(), { error: 'invalid_client_metadata', error_description: /userinfo_signed_response_alg/ })
  t.equal((await app.oauth.store.findApplicationByClientId(body.client_id ?? ''))?.userinfoSignedResponseAlg, 'ES256', 'a refused update changes nothing')
  const cleared = await update({})
  t.equal(cleared.statusCode, 200)
  t.notOk('userinfo_signed_response_alg' in cleared.json<Record<string, string>>(), 'an update replaces the metadata: left out, back to JSON')
  t.equal((await app.oauth.store.findApplicationByClientId(body.client_id ?? ''))?.userinfoSignedResponseAlg, '')

  for (const value of [7, ['ES256'], true, 'none', 'HS256', 'es256', 'ES256\n', 'ES\u0000256', 'E'.repeat(300), 'RSA-OAEP']) {
    const res = await register(app, { ...PUBLIC_CLIENT, userinfo_signed_response_alg: value })
    t.equal(res.statusCode, 400, JSON.stringify(value))
    t.equal(res.json<Record<string, string>>().error, 'invalid_client_metadata', JSON.stringify(value))
  }
  t.equal((await register(app, { ...PUBLIC_CLIENT, userinfo_signed_response_alg: null })).statusCode, 201, 'null is absence')
})

t.test('registration without OpenID Connect ignores userinfo_signed_response_alg (an unknown field)', async (t) => {
  const oauthOnly = await buildApp(t, { settings: { dcrEnabled: true, dcrRegistrationPolicy: 'open', dcrRegistrationRateLimit: null } })
  const res = await register(oauthOnly, { ...PUBLIC_CLIENT, userinfo_signed_response_alg: 'none' })
  t.equal(res.statusCode, 201)
  t.notOk('userinfo_signed_response_alg' in res.json<Record<string, string>>())
  t.equal((await oauthOnly.oauth.store.findApplicationByClientId(res.json<Record<string, string>>().client_id ?? ''))?.userinfoSignedResponseAlg, '')
})

t.test('registration probes: bad id_token_signed_response_alg values are invalid_client_metadata, never a 500', async (t) => {
  for (const value of [7, ['ES256'], { alg: 'ES256' }, true, 'none', 'es256', 'ES256 ', 'ES256\n', 'ES\u0000256', 'E'.repeat(300), 'HS512', 'RSA-OAEP']) {
    const res = await register(app, { ...PUBLIC_CLIENT, id_token_signed_response_alg: value })
    t.equal(res.statusCode, 400, JSON.stringify(value))
    t.equal(res.json<Record<string, string>>().error, 'invalid_client_metadata', JSON.stringify(value))
  }
  const nullAlg = await register(app, { ...PUBLIC_CLIENT, id_token_signed_response_alg: null })
  t.equal(nullAlg.statusCode, 201, 'null is absence')
  const publicHs256 = await register(app, { ...PUBLIC_CLIENT, id_token_signed_response_alg: 'HS256' })
  t.match(publicHs256.json(), { error: 'invalid_client_metadata', error_description: /public clients have none/ })
})

t.test('JOSE-1 id_token_hint probes: algorithm confusion across the server\'s keys is refused', async (t) => {
  const created = await createOidcApplication(app, { algorithm: 'EdDSA' })
  const genuine = (await oidcCodeFlow(app, created)).id_token ?? ''
  const valid = async (hint: string) => (await app.oauth.validateLogoutRequest({ id_token_hint: hint }, new Set(), { issuer: ISSUER })).ok
  t.equal(await valid(genuine), true, 'the genuine EdDSA hint is accepted')

  const [header, payload, signature] = genuine.split('.')
  const kid = decodeProtectedHeader(genuine).kid ?? ''
  const reheader = (changes: Record<string, unknown>): string =>
    `${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(header ?? '', 'base64url').toString()) as object, ...changes })).toString('base64url')}.${payload}.${signature}`
  t.equal(await valid(reheader({ alg: 'ES256' })), false, 'EdDSA signature relabelled ES256')
  t.equal(await valid(reheader({ alg: 'RS256' })), false, 'relabelled RS256 (the server has no RSA key)')

  const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString()) as Record<string, unknown>
  const jwks = (await app.inject('/o/.well-known/jwks.json')).body
  const hmac = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid }).sign(new TextEncoder().encode(jwks))
  t.equal(await valid(hmac), false, 'HS256 keyed with the published key set')
  t.equal(await valid(new UnsecuredJWT(claims).encode()), false, 'alg none')
  const foreign = generateKeyPairSync('ed25519').privateKey
  t.equal(await valid(await new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', kid }).sign(foreign)), false, 'a foreign Ed25519 key under our kid')
})
