// Store contract cases for dynamic client registration (RFC 7591/7592) and pushed
// authorization requests (RFC 9126); run against both dialects through storeContract.
import type { Test } from 'tap'
import { tokenChecksum } from '../../lib/tokens/checksum.js'
import { at, newApplication, T0, type OpenHarness } from './contract.js'

const base = () => ({
  clientSecretHash: '',
  clientType: 'public',
  authorizationGrantType: 'authorization-code',
  redirectUris: ['https://client.example/cb'],
  postLogoutRedirectUris: [],
  allowedOrigins: [],
  name: 'Registered',
  userId: null,
  skipAuthorization: false,
  algorithm: '',
  now: T0,
} as const)

export function registrationContract (t: Test, open: OpenHarness): void {
  t.test('registerClient stores the application and its registration together; updates replace the token checksum', async (t) => {
    const { store, query } = await open(t)
    const { application, registration } = await store.registerClient({ ...base(), clientId: 'dyn-1', requirePushedAuthorizationRequests: true },
      { accessTokenChecksum: tokenChecksum('rat-1'), metadata: { client_uri: 'https://client.example', contacts: ['a@client.example'] } })
    t.equal(application.clientId, 'dyn-1')
    t.equal(application.requirePushedAuthorizationRequests, true)
    t.equal(registration.applicationId, application.id)
    t.same(registration.metadata, { client_uri: 'https://client.example', contacts: ['a@client.example'] })
    const found = await store.findClientRegistration(application.id)
    t.equal(found?.accessTokenChecksum, tokenChecksum('rat-1'))
    t.same(found?.metadata, registration.metadata)
    const rows = await query('SELECT access_token_checksum FROM oauth2_client_registration')
    t.same(rows.map((r) => r.access_token_checksum), [tokenChecksum('rat-1')], 'only the checksum is stored')

    const updated = await store.updateClientRegistration(application.id, { name: 'Renamed', requirePushedAuthorizationRequests: false },
      { accessTokenChecksum: tokenChecksum('rat-2'), metadata: { software_id: 'x' } }, at(10), tokenChecksum('rat-1'))
    t.equal(updated?.name, 'Renamed')
    t.equal(updated?.requirePushedAuthorizationRequests, false)
    const after = await store.findClientRegistration(application.id)
    t.equal(after?.accessTokenChecksum, tokenChecksum('rat-2'))
    t.same(after?.metadata, { software_id: 'x' })
    t.same(after?.updatedAt, at(10))
    t.equal(await store.updateClientRegistration(999999, { name: 'x' }, { accessTokenChecksum: 'c', metadata: {} }, at(11), 'c'), null)
    t.equal(await store.updateClientRegistration(application.id, { name: 'Stale' }, { accessTokenChecksum: tokenChecksum('rat-3'), metadata: {} }, at(12), tokenChecksum('rat-1')),
      null, 'an update presenting the token already replaced changes nothing')
    t.equal((await store.findApplicationById(application.id))?.name, 'Renamed')
    t.equal((await store.findClientRegistration(application.id))?.accessTokenChecksum, tokenChecksum('rat-2'))
    // Concurrent updates presenting one token: exactly one replaces it (the token rotates like a refresh token).
    const racing = await Promise.all(Array.from({ length: 10 }, async (_, i) =>
      await store.updateClientRegistration(application.id, { name: `Racer ${i}` }, { accessTokenChecksum: tokenChecksum(`rat-race-${i}`), metadata: {} }, at(13), tokenChecksum('rat-2'))))
    const winners = racing.flatMap((app, i) => app === null ? [] : [i])
    t.equal(winners.length, 1, 'one concurrent update wins')
    t.equal((await store.findApplicationById(application.id))?.name, `Racer ${winners[0] ?? -1}`)
    t.equal((await store.findClientRegistration(application.id))?.accessTokenChecksum, tokenChecksum(`rat-race-${winners[0] ?? -1}`))

    t.equal(await store.findClientRegistration((await newApplication(store, { clientId: 'plain' })).id), null, 'host-created applications have no registration')
    t.equal((await store.findApplicationByClientId('plain'))?.requirePushedAuthorizationRequests, false)
    t.ok(await store.deleteApplication(application.id))
    t.equal(await store.findClientRegistration(application.id), null, 'deleting the application deletes its registration')
  })

  t.test('a registered client\'s authentication method and allowed scopes are kept with the application and read with it', async (t) => {
    const { store, query } = await open(t)
    const { application } = await store.registerClient({ ...base(), clientId: 'dyn-policy', clientType: 'confidential', clientSecretHash: 'x$y', tokenEndpointAuthMethod: 'client_secret_post', allowedScopes: ['read', 'write'] },
      { accessTokenChecksum: tokenChecksum('rat-p'), metadata: {} })
    t.equal(application.tokenEndpointAuthMethod, 'client_secret_post')
    t.same(application.allowedScopes, ['read', 'write'])
    t.match(await store.findApplicationByClientId('dyn-policy'), { tokenEndpointAuthMethod: 'client_secret_post', allowedScopes: ['read', 'write'] })
    t.same(await query('SELECT token_endpoint_auth_method, allowed_scopes FROM oauth2_application WHERE client_id = \'dyn-policy\''),
      [{ token_endpoint_auth_method: 'client_secret_post', allowed_scopes: 'read write' }])
    const updated = await store.updateClientRegistration(application.id, { tokenEndpointAuthMethod: 'client_secret_basic', allowedScopes: null },
      { accessTokenChecksum: tokenChecksum('rat-p'), metadata: {} }, at(5), tokenChecksum('rat-p'))
    t.match(updated, { tokenEndpointAuthMethod: 'client_secret_basic', allowedScopes: null })
    t.match(await store.updateApplication(application.id, { allowedScopes: [] }, at(6)), { allowedScopes: [] }, 'an empty list is kept (nothing allowed), not unrestricted')
    t.match(await store.updateApplication(application.id, { name: 'n' }, at(7)), { tokenEndpointAuthMethod: 'client_secret_basic', allowedScopes: [] }, 'untouched by other changes')
    const plain = await newApplication(store, { clientId: 'plain-policy' })
    t.match(plain, { tokenEndpointAuthMethod: '', allowedScopes: null }, 'other applications: any method, any scope')
    const created = await store.createApplication({ ...base(), clientId: 'created-policy', tokenEndpointAuthMethod: 'none', allowedScopes: ['read'] })
    t.match(await store.findApplicationById(created.id), { tokenEndpointAuthMethod: 'none', allowedScopes: ['read'] })
  })

  t.test('REDIR-4 a registered client is self-registered whatever it is given, and an RFC 7592 update cannot clear it', async (t) => {
    const { store } = await open(t)
    const { application } = await store.registerClient({ ...base(), clientId: 'dyn-flag', selfRegistered: false }, { accessTokenChecksum: 'c', metadata: {} })
    t.equal(application.selfRegistered, true, 'a registration record means self-registered')
    t.equal((await store.findApplicationByClientId('dyn-flag'))?.selfRegistered, true)
    const updated = await store.updateClientRegistration(application.id, { name: 'Vetted?', selfRegistered: false }, { accessTokenChecksum: 'c2', metadata: {} }, at(5), 'c')
    t.equal(updated?.name, 'Vetted?')
    t.equal(updated?.selfRegistered, true, 'the client cannot vouch for itself')
    t.equal((await store.findApplicationById(application.id))?.selfRegistered, true)
  })

  t.test('registerClient is atomic: a taken client_id leaves no registration behind', async (t) => {
    const { store, query } = await open(t)
    await newApplication(store, { clientId: 'taken' })
    await t.rejects(store.registerClient({ ...base(), clientId: 'taken' }, { accessTokenChecksum: 'c', metadata: {} }), /unique constraint/i)
    t.same(await query('SELECT id FROM oauth2_client_registration'), [])
  })

  t.test('pushed authorization requests: found by checksum, started once, consumed once, refused when expired', async (t) => {
    const { store, query } = await open(t)
    const app = await newApplication(store, { clientId: 'par-client' })
    const rec = await store.createPushedAuthorizationRequest({
      checksum: tokenChecksum('uri-1'), applicationId: app.id, parameters: { client_id: 'par-client', scope: 'read' }, expiresAt: at(60),
    }, T0)
    t.same(rec.parameters, { client_id: 'par-client', scope: 'read' })
    t.equal(rec.startedAt, null)
    const rows = await query('SELECT request_checksum FROM oauth2_pushed_authorization_request')
    t.same(rows.map((r) => r.request_checksum), [tokenChecksum('uri-1')], 'only the checksum is stored')
    t.equal(await store.findPushedAuthorizationRequest(tokenChecksum('nope')), null)

    t.equal(await store.startPushedAuthorizationRequest(rec.id, at(10), at(610)), true)
    t.equal(await store.startPushedAuthorizationRequest(rec.id, at(11), at(611)), false, 'started once')
    const started = await store.findPushedAuthorizationRequest(tokenChecksum('uri-1'))
    t.same(started?.startedAt, at(10))
    t.same(started?.expiresAt, at(610))
    t.equal(await store.consumePushedAuthorizationRequest(rec.id, at(300)), true)
    t.equal(await store.consumePushedAuthorizationRequest(rec.id, at(301)), false, 'single use')
    t.same((await store.findPushedAuthorizationRequest(tokenChecksum('uri-1')))?.consumedAt, at(300))

    const late = await store.createPushedAuthorizationRequest({
      checksum: tokenChecksum('uri-2'), applicationId: app.id, parameters: {}, expiresAt: at(60),
    }, T0)
    t.equal(await store.startPushedAuthorizationRequest(late.id, at(60), at(660)), false, 'expired: not started')
    t.equal(await store.consumePushedAuthorizationRequest(late.id, at(61)), false, 'expired: not consumed')

    // A new push sweeps the expired ones.
    await store.createPushedAuthorizationRequest({ checksum: tokenChecksum('uri-3'), applicationId: app.id, parameters: {}, expiresAt: at(2000) }, at(1000))
    t.equal(await store.findPushedAuthorizationRequest(tokenChecksum('uri-2')), null)
    t.equal(await store.findPushedAuthorizationRequest(tokenChecksum('uri-1')), null)
    t.ok(await store.findPushedAuthorizationRequest(tokenChecksum('uri-3')))
  })

  t.test('two Store instances racing: one of 20 consumptions of one pushed request wins', async (t) => {
    const { store, openAnother } = await open(t)
    const other = await openAnother()
    const app = await newApplication(store, { clientId: 'par-race' })
    const rec = await store.createPushedAuthorizationRequest({ checksum: tokenChecksum('race'), applicationId: app.id, parameters: {}, expiresAt: at(60) }, T0)
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? store : other).consumePushedAuthorizationRequest(rec.id, at(1))))
    t.equal(results.filter(Boolean).length, 1)
  })
}
