// Races on protocol state that no single-artefact test covered, each on SQLite (two instances on
// one file) and PostgreSQL (two instances on one database) [PG]: requests split across both
// instances, fired at once. REG-RACE: an RFC 7592 update rotates the registration access token,
// a credential as a refresh token is; of concurrent updates presenting one token exactly one is
// applied (before, every one answered 200 with its own "new" token and secret, the last write won
// and only its token worked). PAR-RACE: a pushed request opened many times at once shows every
// one the consent page (before, the losers of the race to start it got the error page, a reload
// a moment later did not), and its decision is used once. JTI-RACE: a client assertion's `jti`
// and a DPoP proof's `jti` are used once under concurrency too.
import { randomUUID } from 'node:crypto'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { SignJWT } from 'jose'
import t, { type Test } from 'tap'
import { CLIENT_ASSERTION_TYPE } from '../../lib/validator/client-assertion.js'
import { getAuthorize, LOGIN_OPTIONS, parseConsent, pkcePair, postDecision, createCodeApplication, REDIRECT_URI } from '../helpers/authorize.js'
import { clientKey } from '../helpers/client-keys.js'
import { basicAuth, buildApp, createApplication, databasePath, FORM, form, postToken, type BuildAppOptions } from '../helpers/index.js'
import { postgresTestDatabase } from '../helpers/postgres.js'
import { dpopKey, ISSUER, proof } from '../dpop/support.js'

const N = 20
const JSON_HEADERS = { 'content-type': 'application/json' }
const OPTIONS: BuildAppOptions = {
  ...LOGIN_OPTIONS,
  settings: { issuer: ISSUER, dpopEnabled: true, dcrEnabled: true, dcrRegistrationPolicy: 'open', dcrRegistrationRateLimit: null, rateLimitFailures: null },
}

/** Two instances on one database, or `null` when PostgreSQL is wanted and absent (skipped). */
async function instances (t: Test, postgres: boolean): Promise<[FastifyInstance, FastifyInstance] | null> {
  if (!postgres) {
    const first = await buildApp(t, OPTIONS)
    return [first, await buildApp(t, { ...OPTIONS, database: databasePath(t) })]
  }
  const url = await postgresTestDatabase(t)
  if (url === null) return null
  return [await buildApp(t, { ...OPTIONS, database: url }), await buildApp(t, { ...OPTIONS, database: url })]
}

/** `N` requests at once, alternating between the instances. */
async function burst (apps: readonly [FastifyInstance, FastifyInstance], send: (app: FastifyInstance, i: number) => Promise<LightMyRequestResponse>): Promise<LightMyRequestResponse[]> {
  return await Promise.all(Array.from({ length: N }, async (_, i) => await send(apps[i % 2] ?? apps[0], i)))
}

for (const postgres of [false, true]) {
  const backend = postgres ? 'PostgreSQL [PG]' : 'SQLite'

  t.test(`REG-RACE ${backend}: ${N} concurrent RFC 7592 updates with one registration access token, exactly one applied`, async (t) => {
    const apps = await instances(t, postgres)
    if (apps === null) return
    const [a] = apps
    const registered = (await a.inject({ method: 'POST', url: '/o/register/', headers: JSON_HEADERS, payload: JSON.stringify({ redirect_uris: ['https://c.example/cb'], client_name: 'Before', token_endpoint_auth_method: 'none' }) })).json<Record<string, string>>()
    const uri = `/o/register/${registered.client_id ?? ''}/`
    const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` })
    // Every third update turns the client confidential, which hands out a secret.
    const results = await burst(apps, async (app, i) => await app.inject({
      method: 'PUT',
      url: uri,
      headers: { ...JSON_HEADERS, ...bearer(registered.registration_access_token ?? '') },
      payload: JSON.stringify({ client_id: registered.client_id, client_name: `Update ${i}`, redirect_uris: [`https://c.example/cb${i}`], token_endpoint_auth_method: i % 3 === 0 ? 'client_secret_basic' : 'none' }),
    }))
    t.equal(results.filter((r) => r.statusCode >= 500).length, 0, 'never a 5xx')
    const winners = results.flatMap((r, i) => r.statusCode === 200 ? [i] : [])
    t.equal(winners.length, 1, 'exactly one update answered 200')
    const losers = results.filter((r) => r.statusCode !== 200)
    t.ok(losers.every((r) => r.statusCode === 401 && r.json<{ error: string }>().error === 'invalid_token' && String(r.headers['www-authenticate']).startsWith('Bearer')),
      'the others: 401 invalid_token with a Bearer challenge, as for a spent token')
    t.ok(losers.every((r) => !r.body.includes('client_secret') && !r.body.includes('registration_access_token')), 'no loser was handed a secret or a token')
    const i = winners[0] ?? -1
    const won = results[i]?.json<Record<string, string>>() ?? {}
    const read = await a.inject({ method: 'GET', url: uri, headers: bearer(won.registration_access_token ?? '') })
    t.equal(read.statusCode, 200, 'the winner\'s token works')
    t.match(read.json(), { client_name: `Update ${i}`, redirect_uris: [`https://c.example/cb${i}`] }, 'and the stored metadata is the winner\'s')
    t.equal((await a.inject({ method: 'GET', url: uri, headers: bearer(registered.registration_access_token ?? '') })).statusCode, 401, 'the presented token is spent')
    if (won.client_secret !== undefined) {
      t.equal((await postToken(a, { grant_type: 'refresh_token', refresh_token: 'x' }, { authorization: basicAuth(registered.client_id ?? '', won.client_secret) })).json<{ error: string }>().error,
        'invalid_grant', 'the secret handed out authenticates the client')
    }
  })

  t.test(`PAR-RACE JTI-RACE ${backend}: a pushed request's page and decision, a client assertion and a DPoP proof, each sent ${N} times at once`, async (t) => {
    const apps = await instances(t, postgres)
    if (apps === null) return
    const [a] = apps
    const created = await createCodeApplication(a)
    const auth = basicAuth(created.application.clientId, created.clientSecret ?? '')
    const pushed = await a.inject({ method: 'POST', url: '/o/par/', headers: { ...FORM, authorization: auth }, payload: form({ response_type: 'code', redirect_uri: REDIRECT_URI, code_challenge: pkcePair().challenge, code_challenge_method: 'S256' }) })
    const requestUri = pushed.json<{ request_uri: string }>().request_uri
    const pages = await burst(apps, async (app) => await getAuthorize(app, { client_id: created.application.clientId, request_uri: requestUri }))
    t.same(pages.map((r) => r.statusCode), pages.map(() => 200), 'its first use, opened many times at once, shows every one the consent page (RFC 9126 §7.3 reloads)')
    const last = pages.at(-1)
    if (last === undefined) throw new Error('no page')
    const consent = parseConsent(last)
    const decisions = await burst(apps, async (app) => await postDecision(app, consent))
    t.equal(decisions.filter((r) => r.statusCode === 302).length, 1, 'one decision redirects with a code')
    t.equal(decisions.filter((r) => r.statusCode === 400).length, N - 1, 'the others get the error page')

    const es = await clientKey('ES256', 'es-1')
    const { application } = await createApplication(a, { tokenEndpointAuthMethod: 'private_key_jwt', jwks: JSON.stringify({ keys: [es.jwk] }) })
    const now = Math.floor(Date.now() / 1000)
    const assertion = await new SignJWT({ iss: application.clientId, sub: application.clientId, aud: ISSUER, jti: randomUUID(), iat: now, exp: now + 60 })
      .setProtectedHeader({ alg: 'ES256', kid: 'es-1' }).sign(es.privateKey)
    const asserted = await burst(apps, async (app) => await postToken(app, { grant_type: 'client_credentials', client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: assertion }))
    t.equal(asserted.filter((r) => r.statusCode === 200).length, 1, 'one token for the assertion')
    t.equal(asserted.filter((r) => r.statusCode === 401).length, N - 1, 'invalid_client for the replays')

    const machine = await createApplication(a)
    const key = await dpopKey()
    const sameProof = await proof(key)
    const proved = await burst(apps, async (app) => await postToken(app, { grant_type: 'client_credentials' }, { authorization: basicAuth(machine.application.clientId, machine.clientSecret ?? ''), dpop: sameProof }))
    t.equal(proved.filter((r) => r.statusCode === 200).length, 1, 'one token for the proof')
    t.ok(proved.filter((r) => r.statusCode !== 200).every((r) => r.json<{ error: string }>().error === 'invalid_dpop_proof'), 'invalid_dpop_proof for the replays')
  })
}
