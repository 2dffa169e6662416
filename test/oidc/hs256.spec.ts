// HS256 ID tokens per application (OIDC Core §10.1): the client secret keys the MAC, so an HS256
// application also keeps its secret sealed (AES-256-GCM) under the server's
// `clientSecretSealingKey`; without that key HS256 is refused everywhere (JOSE-1).
import { randomBytes } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, SignJWT } from 'jose'
import t from 'tap'
import { regenerateClientSecret, updateApplication } from '../../lib/applications.js'
import { createOAuthServer, serverContext } from '../../lib/server.js'
import { createSecretSealer } from '../../lib/tokens/client-secret-seal.js'
import { cli, migratedDatabase, withStore } from '../cli/helpers.js'
import { USER_HEADER } from '../helpers/authorize.js'
import { ALICE, basicAuth, fixedClock, form, postToken } from '../helpers/index.js'
import { buildOidcApp, createOidcApplication, ISSUER, oidcCodeFlow, type OidcTokenBody } from './support.js'

const SEALING_KEY = randomBytes(32).toString('base64url')
const secretKey = (secret: string): Uint8Array => new TextEncoder().encode(secret)

async function hs256App (t: Parameters<typeof buildOidcApp>[0], key: string | null = SEALING_KEY): Promise<FastifyInstance> {
  return await buildOidcApp(t, {
    clock: fixedClock('2026-05-01T12:00:00.000Z'),
    settings: { oidcRpInitiatedLogoutEnabled: true, oidcRpInitiatedLogoutAlwaysPrompt: false },
    logoutUser: () => {},
    ...(key === null ? {} : { clientSecretSealingKey: key }),
  })
}

t.test('the sealer: round trip, bound to the client id and the key, tamper-evident, rotation by key list', async (t) => {
  const sealer = createSecretSealer(SEALING_KEY)
  const sealed = sealer.seal('client-a', 'the secret')
  t.match(sealed, /^v1\.[\w-]{8}\.[\w-]{16}\.[\w-]+\.[\w-]{22}$/)
  t.notMatch(sealed, 'the secret')
  t.not(sealer.seal('client-a', 'the secret'), sealed, 'a fresh IV every time')
  t.equal(sealer.open('client-a', sealed), 'the secret')
  t.equal(sealer.open('client-b', sealed), null, 'copied onto another application it does not open')
  const [v, id, iv, ct, tag] = sealed.split('.')
  const flipped = Buffer.from(ct ?? '', 'base64url')
  flipped[0] = (flipped[0] ?? 0) ^ 1
  t.equal(sealer.open('client-a', [v, id, iv, flipped.toString('base64url'), tag].join('.')), null, 'tampered')
  t.equal(sealer.open('client-a', [v, id, iv, ct, (tag ?? '').slice(0, 6)].join('.')), null, 'a truncated tag is refused')
  t.equal(sealer.open('client-a', 'garbage'), null)
  const other = randomBytes(32)
  t.equal(createSecretSealer(other).open('client-a', sealed), null, 'another key opens nothing')
  const rotated = createSecretSealer([other, SEALING_KEY])
  t.equal(rotated.open('client-a', sealed), 'the secret', 'a retired key still opens what it sealed')
  t.equal(createSecretSealer(other).open('client-a', rotated.seal('client-a', 'new')), 'new', 'the first key seals')
  t.equal(createSecretSealer(Buffer.from(SEALING_KEY, 'base64url').toString('hex')).open('client-a', sealed), 'the secret', 'hex spelling')
  for (const bad of ['short', randomBytes(16).toString('base64url'), randomBytes(31), [], 42]) {
    t.throws(() => createSecretSealer(bad as never), { code: 'OAT_ERR_OPTIONS', message: /clientSecretSealingKey/ })
  }
})

t.test('without a sealing key HS256 is refused with a clear error, and discovery does not offer it (JOSE-1)', async (t) => {
  const app = await hs256App(t, null)
  await t.rejects(createOidcApplication(app, { algorithm: 'HS256' }), { name: 'ApplicationValidationError', message: /HS256 needs the client secret in clear, but secrets are stored hashed: configure clientSecretSealingKey/ })
  const discovery = await app.inject({ url: '/o/.well-known/openid-configuration' })
  t.same(discovery.json<{ id_token_signing_alg_values_supported: string[] }>().id_token_signing_alg_values_supported, ['RS256'])
  await t.rejects(hs256App(t, 'not a key'), { code: 'OAT_ERR_OPTIONS', message: /clientSecretSealingKey must be 32 random bytes/ }, 'a bad key fails registration')
})

t.test('with the key: an HS256 application gets ID tokens MACed with its secret, on the code flow and on refresh', async (t) => {
  const app = await hs256App(t)
  const discovery = await app.inject({ url: '/o/.well-known/openid-configuration' })
  t.same(discovery.json<{ id_token_signing_alg_values_supported: string[] }>().id_token_signing_alg_values_supported, ['RS256', 'HS256'])
  await t.rejects(createOidcApplication(app, { algorithm: 'HS256', clientType: 'public' }), { message: /public clients have none/ })
  await t.rejects(createOidcApplication(app, { algorithm: 'HS256', clientSecret: 'only-twenty-chars-xx' }), { message: /clientSecret: must be at least 32 bytes to key HS256/ })

  const created = await createOidcApplication(app, { algorithm: 'HS256' })
  const secret = created.clientSecret ?? ''
  const stored = await app.oauth.store.findApplicationById(created.application.id)
  t.match(stored?.clientSecretHash, /^scrypt\$/, 'still stored hashed')
  t.match(stored?.clientSecretSealed, /^v1\./, 'and sealed')
  t.notMatch(JSON.stringify(stored), secret, 'never in clear')

  const now = new Date('2026-05-01T12:00:00.000Z')
  const body = await oidcCodeFlow(app, created, { nonce: 'n1' })
  const header = decodeProtectedHeader(body.id_token ?? '')
  t.same(header, { alg: 'HS256', typ: 'JWT' }, 'no kid: the key is the client secret')
  const { payload } = await jwtVerify(body.id_token ?? '', secretKey(secret), { issuer: ISSUER, audience: created.application.clientId, algorithms: ['HS256'], currentDate: now })
  t.match(payload, { sub: ALICE.id, nonce: 'n1' })
  const jwks = createLocalJWKSet({ keys: [...(serverContext(app.oauth).oidc?.keys.publicKeys ?? [])] })
  await t.rejects(jwtVerify(body.id_token ?? '', jwks, { currentDate: now }), 'the server\'s RSA keys do not verify it')
  await t.rejects(jwtVerify(body.id_token ?? '', secretKey(`${secret}x`), { currentDate: now }), 'another secret does not verify it')

  const refreshed = await postToken(app, { grant_type: 'refresh_token', refresh_token: body.refresh_token ?? '' }, { authorization: basicAuth(created.application.clientId, secret) })
  const again = refreshed.json<OidcTokenBody>().id_token ?? ''
  t.equal(decodeProtectedHeader(again).alg, 'HS256')
  t.ok(await jwtVerify(again, secretKey(secret), { issuer: ISSUER, audience: created.application.clientId, currentDate: now }))

  const rs256 = await createOidcApplication(app, { algorithm: 'RS256' })
  t.equal((await app.oauth.store.findApplicationById(rs256.application.id))?.clientSecretSealed, '', 'other applications keep no sealed copy')
  t.equal(decodeProtectedHeader((await oidcCodeFlow(app, rs256)).id_token ?? '').alg, 'RS256')
})

t.test('switching to HS256 issues a new secret (only a hash of the old one exists); leaving it drops the sealed copy; regeneration re-seals', async (t) => {
  const app = await hs256App(t)
  const ctx = serverContext(app.oauth)
  const created = await createOidcApplication(app, { algorithm: 'RS256' })
  const base = { clientType: 'confidential', authorizationGrantType: 'authorization-code', redirectUris: created.application.redirectUris }
  const switched = await updateApplication(ctx, created.application.id, { ...base, algorithm: 'HS256' })
  t.type(switched?.clientSecret, 'string', 'a new secret, shown once')
  t.not(switched?.clientSecret, created.clientSecret)
  const sealedSecret = ctx.secretSealer?.open(created.application.clientId, switched?.application.clientSecretSealed ?? '')
  t.equal(sealedSecret, switched?.clientSecret, 'the new secret is the sealed one')
  const old = await postToken(app, { grant_type: 'refresh_token', refresh_token: 'x' }, { authorization: basicAuth(created.application.clientId, created.clientSecret ?? '') })
  t.equal(old.statusCode, 401, 'the old secret no longer authenticates')
  const kept = await updateApplication(ctx, created.application.id, { ...base, algorithm: 'HS256', name: 'renamed' })
  t.equal(kept?.clientSecret, null, 'an HS256 application that stays HS256 keeps its secret')
  t.equal(kept?.application.clientSecretSealed, switched?.application.clientSecretSealed)

  const regenerated = await regenerateClientSecret(ctx, created.application.id)
  t.equal(ctx.secretSealer?.open(created.application.clientId, regenerated?.application.clientSecretSealed ?? ''), regenerated?.clientSecret)
  const body = await oidcCodeFlow(app, { application: regenerated?.application ?? created.application, clientSecret: regenerated?.clientSecret ?? '' })
  t.ok(await jwtVerify(body.id_token ?? '', secretKey(regenerated?.clientSecret ?? ''), { currentDate: new Date('2026-05-01T12:00:00.000Z') }), 'signed with the regenerated secret')

  // The same database served without the key: regeneration is refused and changes nothing.
  const keyless = createOAuthServer({ store: app.oauth.store, settings: app.oauth.settings })
  await t.rejects(regenerateClientSecret(serverContext(keyless), created.application.id), { name: 'ApplicationValidationError', message: /configure clientSecretSealingKey/ })
  t.equal((await app.oauth.store.findApplicationById(created.application.id))?.clientSecretSealed, regenerated?.application.clientSecretSealed)

  const back = await updateApplication(ctx, created.application.id, { ...base, algorithm: 'RS256' })
  t.equal(back?.clientSecret, null, 'the secret stays')
  t.equal(back?.application.clientSecretSealed, '', 'but its sealed copy is gone')
})

t.test('an HS256 id_token_hint logs out when MACed with the application\'s secret, never with another', async (t) => {
  const app = await hs256App(t)
  const created = await createOidcApplication(app, { algorithm: 'HS256', postLogoutRedirectUris: ['https://client.example.com/bye'] })
  const body = await oidcCodeFlow(app, created)
  const user = { [USER_HEADER]: ALICE.id }
  const url = (hint: string): string => `/o/logout/?${form({ id_token_hint: hint, post_logout_redirect_uri: 'https://client.example.com/bye' })}`
  const forged = await new SignJWT({ sub: ALICE.id }).setProtectedHeader({ alg: 'HS256' }).setIssuer(ISSUER).setAudience(created.application.clientId)
    .setIssuedAt(new Date('2026-05-01T12:00:00.000Z')).setExpirationTime('1h').sign(secretKey('a guessed secret of thirty-two bytes!'))
  const refused = await app.inject({ url: url(forged), headers: user })
  t.equal(refused.statusCode, 400)
  t.match(refused.body, 'The id_token_hint is not valid.')
  const res = await app.inject({ url: url(body.id_token ?? ''), headers: user })
  t.equal(res.statusCode, 302)
  t.equal(res.headers.location, 'https://client.example.com/bye')
})

t.test('a server that lost its sealing key refuses to sign rather than fall back to another algorithm', async (t) => {
  const app = await hs256App(t)
  const created = await createOidcApplication(app, { algorithm: 'HS256' })
  const { oidc } = serverContext(app.oauth)
  const keyless = createOAuthServer({ store: app.oauth.store, settings: app.oauth.settings, clientSecretSealingKey: randomBytes(32), ...(oidc === null ? {} : { oidc }) })
  const { prepareIdToken } = await import('../../lib/tokens/id-token.js')
  await t.rejects(prepareIdToken(serverContext(keyless), { issuer: ISSUER, application: created.application, userId: ALICE.id, scopes: ['openid'], nonce: '', authTime: null }),
    { code: 'OAT_ERR_OPTIONS', message: /does not open with the configured clientSecretSealingKey/ })
})

t.test('CLI: createapplication HS256 needs OAT_CLIENT_SECRET_SEALING_KEY; generatekey --sealing prints one', async (t) => {
  const database = await migratedDatabase(t.testdir())
  const args = ['createapplication', 'confidential', 'authorization-code', '--redirect-uris', 'https://rp.example/cb', '--algorithm', 'HS256', '--database', database, '--json']
  const refused = await cli(args)
  t.equal(refused.code, 2)
  t.match(refused.stderr, /--algorithm: +HS256 needs the client secret in clear, but secrets are stored hashed: configure clientSecretSealingKey \(OAT_CLIENT_SECRET_SEALING_KEY for the CLI\)/)

  const generated = await cli(['generatekey', '--sealing'])
  t.equal(generated.code, 0)
  const key = generated.stdout.trim()
  t.match(key, /^[\w-]{43}$/)
  const ok = await cli(args, { env: { OAT_CLIENT_SECRET_SEALING_KEY: key } })
  t.equal(ok.code, 0, ok.stderr)
  const json = JSON.parse(ok.stdout) as { client_id: string, client_secret: string, algorithm: string }
  t.equal(json.algorithm, 'HS256')
  const stored = await withStore(database, async (store) => await store.findApplicationByClientId(json.client_id))
  t.equal(createSecretSealer(key).open(json.client_id, stored?.clientSecretSealed ?? ''), json.client_secret, 'sealed under the key from the environment')
  const bad = await cli(args, { env: { OAT_CLIENT_SECRET_SEALING_KEY: 'short' } })
  t.equal(bad.code, 1)
  t.match(bad.stderr, /clientSecretSealingKey must be 32 random bytes/)
  t.equal((await cli(['generatekey', '--sealing', '--jwk'])).code, 2)
})
