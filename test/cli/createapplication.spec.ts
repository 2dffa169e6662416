import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { cheapHasher, cli, migratedDatabase, withStore } from './helpers.js'

const CLIENT_ID = /^[A-Za-z0-9]{40}$/

t.test('a confidential application: human summary with the secret shown once, and its hash stored', async (t) => {
  const path = await migratedDatabase(t.testdir())
  const r = await cli(['createapplication', 'confidential', 'client-credentials', '--name', 'Billing', '--database', path])
  t.equal(r.code, 0)
  t.equal(r.stderr, '')
  const lines = r.stdout.split('\n')
  t.equal(lines[0], 'New application "Billing" (id 1) created successfully.')
  const clientId = /^ {2}client_id: +(\S+)$/m.exec(r.stdout)?.[1] ?? ''
  const secret = /^ {2}client_secret: +(\S+)$/m.exec(r.stdout)?.[1] ?? ''
  t.match(clientId, CLIENT_ID)
  t.match(secret, /^[A-Za-z0-9]{128}$/, 'clientSecretGeneratorLength characters')
  t.match(r.stdout, /^ {2}client_type: +confidential$/m)
  t.match(r.stdout, /^ {2}grant_type: +client-credentials$/m)
  t.match(r.stdout, 'Copy the client secret now: it is shown only this once.')
  await withStore(path, async (store) => {
    const app = await store.findApplicationByClientId(clientId)
    t.ok(app)
    t.equal(app?.name, 'Billing')
    t.match(app?.clientSecretHash, /^scrypt\$/)
    t.ok(await cheapHasher.verify(secret, app?.clientSecretHash ?? ''), 'the printed secret matches the stored hash')
  })
})

t.test('--json prints exactly one JSON object with every field and the clear secret', async (t) => {
  const path = await migratedDatabase(t.testdir())
  const r = await cli(['createapplication', 'confidential', 'authorization-code', '--json', '--database', path,
    '--name', 'Web', '--redirect-uris', 'https://app.example/cb  http://localhost:8080/cb', '--post-logout-redirect-uris', 'https://app.example/bye',
    '--allowed-origins', 'https://app.example', '--skip-authorization', '--user', '42', '--algorithm', 'RS256'])
  t.equal(r.code, 0)
  t.equal(r.stderr, '')
  t.equal(r.stdout.trimEnd().split('\n').length, 1, 'one line')
  const body = JSON.parse(r.stdout) as Record<string, unknown>
  t.same(Object.keys(body), ['id', 'client_id', 'client_secret', 'client_type', 'authorization_grant_type', 'name', 'redirect_uris',
    'post_logout_redirect_uris', 'allowed_origins', 'skip_authorization', 'algorithm', 'allow_introspection', 'self_registered',
    'token_endpoint_auth_method', 'jwks', 'jwks_uri', 'token_endpoint_auth_signing_alg', 'dpop_bound_access_tokens',
    'require_signed_request_object', 'request_object_signing_alg', 'userinfo_signed_response_alg', 'backchannel_logout_uri', 'backchannel_logout_session_required', 'user', 'created'])
  t.match(body, {
    id: 1,
    client_id: CLIENT_ID,
    client_secret: /^[A-Za-z0-9]{128}$/,
    client_type: 'confidential',
    authorization_grant_type: 'authorization-code',
    name: 'Web',
    skip_authorization: true,
    algorithm: 'RS256',
    allow_introspection: false,
    self_registered: false,
    user: '42',
  })
  t.same(body.redirect_uris, ['https://app.example/cb', 'http://localhost:8080/cb'])
  t.same(body.post_logout_redirect_uris, ['https://app.example/bye'])
  t.same(body.allowed_origins, ['https://app.example'])
  t.equal(new Date(String(body.created)).toISOString(), body.created)
  await withStore(path, async (store) => {
    const app = await store.findApplicationByClientId(String(body.client_id))
    t.match(app, {
      id: 1,
      clientType: 'confidential',
      authorizationGrantType: 'authorization-code',
      redirectUris: ['https://app.example/cb', 'http://localhost:8080/cb'],
      postLogoutRedirectUris: ['https://app.example/bye'],
      allowedOrigins: ['https://app.example'],
      skipAuthorization: true,
      userId: '42',
      algorithm: 'RS256',
    })
    t.ok(await cheapHasher.verify(String(body.client_secret), app?.clientSecretHash ?? ''))
  })
})

t.test('--allow-introspection makes a resource server that may introspect (INTRO-1); off by default; never for a public client', async (t) => {
  const path = await migratedDatabase(t.testdir())
  const rs = await cli(['createapplication', 'confidential', 'client-credentials', '--name', 'API', '--allow-introspection', '--database', path])
  t.equal(rs.code, 0, rs.stderr)
  t.match(rs.stdout, /^ {2}allow_introspection: +yes \(may introspect every client's access tokens\)$/m)
  const plain = await cli(['createapplication', 'confidential', 'client-credentials', '--json', '--database', path])
  t.equal(plain.code, 0)
  t.equal((JSON.parse(plain.stdout) as { allow_introspection: boolean }).allow_introspection, false, 'default: no permission')
  t.notMatch((await cli(['createapplication', 'confidential', 'client-credentials', '--database', path])).stdout, 'allow_introspection', 'the summary names it only when given')
  const json = await cli(['createapplication', 'confidential', 'client-credentials', '--allow-introspection', '--json', '--database', path])
  t.equal((JSON.parse(json.stdout) as { allow_introspection: boolean }).allow_introspection, true)
  await withStore(path, async (store) => {
    t.equal((await store.findApplicationById(1))?.allowIntrospection, true, 'stored')
    t.equal((await store.findApplicationById(2))?.allowIntrospection, false)
  })
  const pub = await cli(['createapplication', 'public', 'authorization-code', '--redirect-uris', 'https://a.example/cb', '--allow-introspection', '--database', path])
  t.equal(pub.code, 2)
  t.match(pub.stderr, /^ {2}--allow-introspection: +only confidential clients can introspect tokens \(RFC 7662 §2\.1\)$/m)
  await withStore(path, async (store) => { t.equal((await store.listApplications()).length, 4, 'nothing stored for the refused one') })
})

t.test('--dpop-bound-access-tokens: the client\'s token requests need a DPoP proof (RFC 9449 §5.2); off by default', async (t) => {
  const path = await migratedDatabase(t.testdir())
  const bound = await cli(['createapplication', 'public', 'authorization-code', '--redirect-uris', 'https://a.example/cb', '--dpop-bound-access-tokens', '--database', path])
  t.equal(bound.code, 0, bound.stderr)
  t.match(bound.stdout, /^ {2}dpop_bound_access_tokens: +yes \(every token request must carry a DPoP proof\)$/m)
  const plain = await cli(['createapplication', 'confidential', 'client-credentials', '--json', '--database', path])
  t.equal((JSON.parse(plain.stdout) as { dpop_bound_access_tokens: boolean }).dpop_bound_access_tokens, false)
  await withStore(path, async (store) => {
    t.equal((await store.findApplicationById(1))?.dpopBoundAccessTokens, true, 'stored')
    t.equal((await store.findApplicationById(2))?.dpopBoundAccessTokens, false)
  })
})

t.test('--client-id and --client-secret are used as given; a supplied secret is not echoed', async (t) => {
  const path = await migratedDatabase(t.testdir())
  const r = await cli(['createapplication', 'confidential', 'password', '--client-id', 'my-cli.client', '--client-secret', 's3cret-value-long-enough', '--database', path])
  t.equal(r.code, 0)
  t.match(r.stdout, /^New application 1 created successfully\.$/m, 'no name: the id')
  t.match(r.stdout, /^ {2}client_id: +my-cli\.client$/m)
  t.match(r.stdout, /^ {2}client_secret: +\(the one you supplied; stored hashed\)$/m)
  t.notMatch(r.stdout, 's3cret-value-long-enough')
  t.notMatch(r.stdout, 'shown only this once')
  await withStore(path, async (store) => {
    const app = await store.findApplicationByClientId('my-cli.client')
    t.ok(await cheapHasher.verify('s3cret-value-long-enough', app?.clientSecretHash ?? ''))
  })
  const json = await cli(['createapplication', 'confidential', 'password', '--client-id', 'second', '--client-secret', 'another-secret', '--json', '--database', path])
  t.match(JSON.parse(json.stdout), { client_id: 'second', client_secret: 'another-secret' }, '--json always carries the secret')
})

t.test('a public application has no secret', async (t) => {
  const path = await migratedDatabase(t.testdir())
  const human = await cli(['createapplication', 'public', 'authorization-code', '--redirect-uris', 'https://spa.example/cb', '--database', path])
  t.equal(human.code, 0)
  t.match(human.stdout, /^ {2}client_secret: +\(none: public client\)$/m)
  t.notMatch(human.stdout, 'shown only this once')
  const json = await cli(['createapplication', 'public', 'urn:ietf:params:oauth:grant-type:device_code', '--json', '--database', path])
  t.match(JSON.parse(json.stdout), { client_secret: null, client_type: 'public', authorization_grant_type: 'urn:ietf:params:oauth:grant-type:device_code' })
})

t.test('JWT client authentication: --token-endpoint-auth-method private_key_jwt with --jwks or --jwks-uri, no secret; mistakes listed per flag', async (t) => {
  const path = await migratedDatabase(t.testdir())
  const jwk = { kty: 'EC', crv: 'P-256', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0', kid: 'k1' }
  const human = await cli(['createapplication', 'confidential', 'client-credentials', '--token-endpoint-auth-method', 'private_key_jwt',
    '--jwks', JSON.stringify({ keys: [jwk] }), '--token-endpoint-auth-signing-alg', 'ES256', '--database', path])
  t.equal(human.code, 0, human.stderr)
  t.match(human.stdout, /^ {2}client_secret: +\(none: it authenticates with private_key_jwt\)$/m)
  t.match(human.stdout, /^ {2}token_endpoint_auth_method: +private_key_jwt$/m)
  t.match(human.stdout, /^ {2}jwks: +1 public key\(s\)$/m)
  t.notMatch(human.stdout, 'shown only this once')
  const json = await cli(['createapplication', 'confidential', 'client-credentials', '--token-endpoint-auth-method', 'private_key_jwt',
    '--jwks-uri', 'https://client.example/jwks.json', '--json', '--database', path])
  t.match(JSON.parse(json.stdout), { client_secret: null, token_endpoint_auth_method: 'private_key_jwt', jwks: null, jwks_uri: 'https://client.example/jwks.json' })

  const bad = await cli(['createapplication', 'confidential', 'client-credentials', '--token-endpoint-auth-method', 'private_key_jwt',
    '--jwks', JSON.stringify({ keys: [{ ...jwk, d: 'private' }] }), '--jwks-uri', 'http://client.example/jwks', '--token-endpoint-auth-signing-alg', 'HS256', '--database', path])
  t.equal(bad.code, 2)
  t.match(bad.stderr, /^ {2}--jwks: +must hold public keys only \(a key has private members\)$/m)
  t.match(bad.stderr, /^ {2}--jwks-uri: +must be an https URL$/m)
  t.match(bad.stderr, /^ {2}--token-endpoint-auth-signing-alg: +must be one of RS256, .+ for private_key_jwt$/m)
  const none = await cli(['createapplication', 'confidential', 'client-credentials', '--token-endpoint-auth-method', 'private_key_jwt', '--database', path])
  t.match(none.stderr, /^ {2}--jwks: +private_key_jwt needs the client's public keys: jwks or jwksUri$/m)
  const unsealed = await cli(['createapplication', 'confidential', 'client-credentials', '--token-endpoint-auth-method', 'client_secret_jwt', '--database', path])
  t.match(unsealed.stderr, /^ {2}--token-endpoint-auth-method: +client_secret_jwt needs the client secret in clear/m)
  const sealed = await cli(['createapplication', 'confidential', 'client-credentials', '--token-endpoint-auth-method', 'client_secret_jwt', '--json', '--database', path],
    { env: { OAT_CLIENT_SECRET_SEALING_KEY: 'd'.repeat(64) } })
  t.equal(sealed.code, 0, sealed.stderr)
  t.match(JSON.parse(sealed.stdout), { client_secret: /^[A-Za-z0-9]{128}$/, token_endpoint_auth_method: 'client_secret_jwt' })
  t.equal(await withStore(path, async (store) => (await store.listApplications()).filter((a) => a.clientSecretSealed !== '').length), 1, 'its secret is kept sealed')
  const unknown = await cli(['createapplication', 'confidential', 'client-credentials', '--token-endpoint-auth-method', 'tls_client_auth', '--database', path])
  t.match(unknown.stderr, /^ {2}--token-endpoint-auth-method: +must be empty, /m)
})

t.test('every DOT grant type is accepted', async (t) => {
  const path = await migratedDatabase(t.testdir())
  for (const grant of ['authorization-code', 'implicit', 'password', 'client-credentials', 'openid-hybrid', 'urn:ietf:params:oauth:grant-type:device_code']) {
    const r = await cli(['createapplication', 'confidential', grant, '--redirect-uris', 'https://a.example/cb', '--json', '--database', path])
    t.equal(r.code, 0, grant)
    t.match(JSON.parse(r.stdout), { authorization_grant_type: grant })
  }
})

// Departs from DOT, which prints validation errors on stdout and exits 0.
t.test('validation errors are listed per argument on stderr, exit 2, nothing stored', async (t) => {
  const path = await migratedDatabase(t.testdir())
  const r = await cli(['createapplication', 'secret', 'magic', '--redirect-uris', 'not-a-uri', '--allowed-origins', 'https://a.example/path',
    '--algorithm', 'ES512', '--client-id', 'has space', '--database', path])
  t.equal(r.code, 2)
  t.equal(r.stdout, '')
  const lines = r.stderr.trimEnd().split('\n')
  t.equal(lines[0], 'fastify-oauth-toolkit createapplication: the application is invalid:')
  t.match(lines.slice(1), [
    /^ {2}client_type: +must be "confidential" or "public"$/,
    /^ {2}grant_type: +must be one of authorization-code, implicit, password, client-credentials, openid-hybrid, urn:ietf:params:oauth:grant-type:device_code$/,
    /^ {2}--redirect-uris: +not-a-uri .+$/,
    /^ {2}--allowed-origins: +https:\/\/a\.example\/path .+$/,
    /^ {2}--algorithm: +must be empty, "RS256", "PS256", "ES256", "EdDSA" or "HS256"$/,
    /^ {2}--client-id: +must be 1 to 255 printable ASCII characters/,
  ])
  t.equal(lines.length, 7)
  t.notMatch(r.stderr, /\n\s+at /, 'no stack trace')
  t.equal(await withStore(path, async (store) => (await store.listApplications()).length), 0)
})

t.test('--algorithm takes every signing algorithm; the server checks it holds the key when it signs', async (t) => {
  const path = await migratedDatabase(t.testdir())
  for (const alg of ['PS256', 'ES256', 'EdDSA']) {
    const r = await cli(['createapplication', 'public', 'authorization-code', '--redirect-uris', 'https://a.example/cb', '--algorithm', alg, '--json', '--database', path])
    t.equal(r.code, 0, alg)
    t.equal((JSON.parse(r.stdout) as { algorithm: string }).algorithm, alg)
  }
})

t.test('other validation failures: missing redirect URI, secret for a public client, taken client id', async (t) => {
  const path = await migratedDatabase(t.testdir())
  const cases: Array<[string[], RegExp]> = [
    [['confidential', 'authorization-code'], /^ {2}--redirect-uris: +at least one redirect URI is required for authorization-code applications$/m],
    [['public', 'implicit', '--redirect-uris', 'https://a.example/cb', '--client-secret', 'whatever-secret'], /^ {2}--client-secret: +public clients have no secret$/m],
    [['public', 'client-credentials'], /^ {2}client_type: +client-credentials applications must be confidential/m],
    [['confidential', 'password', '--client-secret', 'short'], /^ {2}--client-secret: +must be at least 8 characters$/m],
    [['confidential', 'password', '--algorithm', 'HS256'], /^ {2}--algorithm: +HS256 needs the client secret in clear/m],
  ]
  for (const [argv, line] of cases) {
    const r = await cli(['createapplication', ...argv, '--database', path])
    t.equal(r.code, 2, argv.join(' '))
    t.match(r.stderr, line, argv.join(' '))
  }
  t.equal((await cli(['createapplication', 'confidential', 'password', '--client-id', 'taken', '--database', path])).code, 0)
  const taken = await cli(['createapplication', 'confidential', 'password', '--client-id', 'taken', '--database', path])
  t.equal(taken.code, 2)
  t.match(taken.stderr, /^ {2}--client-id: +is already taken$/m)
})

t.test('--settings changes what createapplication generates and accepts', async (t) => {
  const dir = t.testdir()
  const path = await migratedDatabase(dir)
  const settings = join(dir, 'settings.json')
  writeFileSync(settings, JSON.stringify({ clientSecretGeneratorLength: 40, allowedRedirectUriSchemes: ['https', 'com.example.app'] }))
  const refused = await cli(['createapplication', 'public', 'authorization-code', '--redirect-uris', 'com.example.app:/cb', '--database', path])
  t.equal(refused.code, 2, 'the custom scheme is refused by default')
  const r = await cli(['createapplication', 'confidential', 'authorization-code', '--redirect-uris', 'com.example.app:/cb', '--json', '--settings', settings, '--database', path])
  t.equal(r.code, 0, r.stderr)
  t.match(JSON.parse(r.stdout), { client_secret: /^[A-Za-z0-9]{40}$/, redirect_uris: ['com.example.app:/cb'] })
})

t.test('an unexpected failure is one line on stderr with exit 1, not a stack trace', async (t) => {
  const path = await migratedDatabase(t.testdir())
  const broken = { ...cheapHasher, hash: async () => { throw new RangeError('scrypt exploded') } }
  t.same(await cli(['createapplication', 'confidential', 'password', '--database', path], { hasher: broken }), {
    code: 1,
    stdout: '',
    stderr: 'fastify-oauth-toolkit createapplication: unexpected error: RangeError: scrypt exploded\n',
  })
})

t.test('REDIR-4 an operator\'s application is not self-registered, even with an owner; --self-registered marks one', async (t) => {
  const path = await migratedDatabase(t.testdir())
  const owned = await cli(['createapplication', 'public', 'authorization-code', '--redirect-uris', 'https://a.example/cb', '--user', '7', '--json', '--database', path])
  t.equal(owned.code, 0, owned.stderr)
  t.equal((JSON.parse(owned.stdout) as { self_registered: boolean }).self_registered, false)
  t.notMatch((await cli(['createapplication', 'confidential', 'client-credentials', '--database', path])).stdout, 'self_registered', 'the summary names it only when given')
  const marked = await cli(['createapplication', 'public', 'authorization-code', '--redirect-uris', 'https://b.example/cb', '--self-registered', '--database', path])
  t.equal(marked.code, 0, marked.stderr)
  t.match(marked.stdout, /^ {2}self_registered: +yes \(redirect URIs unvetted/m)
  await withStore(path, async (store) => {
    t.equal((await store.findApplicationById(1))?.selfRegistered, false, 'stored: an operator\'s')
    t.equal((await store.findApplicationById(3))?.selfRegistered, true, 'stored: untrusted')
  })
})

t.test('RFC 9101: --require-signed-request-object and --request-object-signing-alg, checked against the client\'s keys', async (t) => {
  const path = await migratedDatabase(t.testdir())
  const jwk = { kty: 'EC', crv: 'P-256', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0', kid: 'k1' }
  const ok = await cli(['createapplication', 'confidential', 'authorization-code', '--redirect-uris', 'https://a.example/cb', '--jwks', JSON.stringify({ keys: [jwk] }),
    '--require-signed-request-object', '--request-object-signing-alg', 'ES256', '--database', path])
  t.equal(ok.code, 0, ok.stderr)
  t.match(ok.stdout, /^ {2}require_signed_request_object: +yes \(authorization requests must be signed request objects\)$/m)
  t.match(ok.stdout, /^ {2}request_object_signing_alg: +ES256$/m)
  const plain = await cli(['createapplication', 'confidential', 'client-credentials', '--json', '--database', path])
  t.match(JSON.parse(plain.stdout), { require_signed_request_object: false, request_object_signing_alg: '' })
  const bad = await cli(['createapplication', 'confidential', 'authorization-code', '--redirect-uris', 'https://a.example/cb',
    '--require-signed-request-object', '--request-object-signing-alg', 'ES256', '--database', path])
  t.equal(bad.code, 2)
  t.match(bad.stderr, /^ {2}--request-object-signing-alg: +ES256 needs the client's public keys: jwks or jwksUri$/m)
  const hmac = await cli(['createapplication', 'confidential', 'authorization-code', '--redirect-uris', 'https://a.example/cb', '--request-object-signing-alg', 'HS256', '--database', path])
  t.match(hmac.stderr, /^ {2}--request-object-signing-alg: +HS256 MACs with the client secret/m)
  const nothing = await cli(['createapplication', 'confidential', 'authorization-code', '--redirect-uris', 'https://a.example/cb', '--require-signed-request-object', '--database', path])
  t.match(nothing.stderr, /^ {2}--require-signed-request-object: +signed request objects need the client's public keys/m)
  await withStore(path, async (store) => {
    const stored = await store.findApplicationById(1)
    t.equal(stored?.requireSignedRequestObject, true)
    t.equal(stored?.requestObjectSigningAlg, 'ES256')
    t.equal((await store.listApplications()).length, 2, 'nothing stored for the refused ones')
  })
})

t.test('OIDC: --userinfo-signed-response-alg, one of the key algorithms (the key itself is checked when the server answers)', async (t) => {
  const path = await migratedDatabase(t.testdir())
  const ok = await cli(['createapplication', 'confidential', 'authorization-code', '--redirect-uris', 'https://a.example/cb', '--userinfo-signed-response-alg', 'ES256', '--database', path])
  t.equal(ok.code, 0, ok.stderr)
  t.match(ok.stdout, /^ {2}userinfo_signed_response_alg: +ES256$/m)
  const plain = await cli(['createapplication', 'confidential', 'client-credentials', '--json', '--database', path])
  t.match(JSON.parse(plain.stdout), { userinfo_signed_response_alg: '' })
  const bad = await cli(['createapplication', 'confidential', 'authorization-code', '--redirect-uris', 'https://a.example/cb', '--userinfo-signed-response-alg', 'none', '--database', path])
  t.equal(bad.code, 2)
  t.match(bad.stderr, /^ {2}--userinfo-signed-response-alg: +must be empty, "RS256", "PS256", "ES256" or "EdDSA"$/m)
  await withStore(path, async (store) => {
    t.equal((await store.findApplicationById(1))?.userinfoSignedResponseAlg, 'ES256')
    t.equal((await store.listApplications()).length, 2, 'nothing stored for the refused one')
  })
})
