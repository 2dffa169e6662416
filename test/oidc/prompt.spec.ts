// OpenID Connect prompt and max_age at the authorization endpoint (OIDC Core §3.1.2.1, §3.1.2.6).
import type { FastifyInstance, FastifyRequest, LightMyRequestResponse } from 'fastify'
import t from 'tap'
import { serverContext } from '../../lib/server.js'
import {
  assertFatalPage, assertRedirectError, createCodeApplication, exchangeCode, codeClient, getAuthorize, parseConsent, pkcePair,
  postDecision, redirectParams, REDIRECT_URI, USER_HEADER,
} from '../helpers/authorize.js'
import { ALICE, fixedClock, type FixedClock } from '../helpers/index.js'
import { buildOidcApp, verifyIdToken } from './support.js'

const T0 = '2026-05-01T12:00:00.000Z'
const epoch = (iso: string): number => Date.parse(iso) / 1000

/** `resolveUser` reading the user from `x-test-user` and their login time (epoch seconds) from `x-auth-time`. */
function userWithAuthTime (request: FastifyRequest): { id: string, authTime?: Date } | null {
  const id = request.headers[USER_HEADER]
  if (typeof id !== 'string' || id === '') return null
  const at = request.headers['x-auth-time']
  return typeof at === 'string' ? { id, authTime: new Date(Number(at) * 1000) } : { id }
}

async function setup (t: Parameters<typeof buildOidcApp>[0]): Promise<{ app: FastifyInstance, clock: FixedClock, clientId: string, params: Record<string, string> }> {
  const clock = fixedClock(T0)
  const app = await buildOidcApp(t, { clock, resolveUser: userWithAuthTime })
  const created = await createCodeApplication(app)
  const params = { response_type: 'code', client_id: created.application.clientId, redirect_uri: REDIRECT_URI, scope: 'openid', state: 'st', code_challenge: pkcePair().challenge, code_challenge_method: 'S256' }
  return { app, clock, clientId: created.application.clientId, params }
}

const loggedIn = (authTime: string): Record<string, string> => ({ 'x-auth-time': String(epoch(authTime)) })

/** The `next` of a redirect to the login page. */
function nextOf (res: LightMyRequestResponse): URL {
  const location = String(res.headers.location)
  if (!location.startsWith('/accounts/login/?next=')) throw new Error(`not a login redirect: ${location}`)
  return new URL(new URLSearchParams(location.split('?')[1]).get('next') ?? '', 'http://localhost')
}

t.test('prompt=none without a login: login_required to the registered redirect URI', async (t) => {
  const { app, params } = await setup(t)
  const res = await getAuthorize(app, { ...params, prompt: 'none' }, null)
  assertRedirectError(t, res, { error: 'login_required', error_description: 'The user must log in.', state: 'st' })
})

t.test('prompt=none never redirects to an unverified place (REDIR-1, DOT #1719)', async (t) => {
  const { app, params } = await setup(t)
  assertFatalPage(t, await getAuthorize(app, { ...params, prompt: 'none', redirect_uri: 'https://evil.example/cb' }, null), 'Mismatching redirect URI.')
  assertFatalPage(t, await getAuthorize(app, { ...params, prompt: 'none', client_id: 'unknown' }, null), 'Invalid client_id parameter value.')
})

t.test('prompt=none with a login: consent_required when consent is needed, a code when it is not', async (t) => {
  const { app, params } = await setup(t)
  const res = await getAuthorize(app, { ...params, prompt: 'none' })
  assertRedirectError(t, res, { error: 'consent_required', error_description: 'The user must consent.', state: 'st' })
  const trusted = await createCodeApplication(app, { skipAuthorization: true })
  const ok = await getAuthorize(app, { ...params, client_id: trusted.application.clientId, prompt: 'none' })
  t.equal(ok.statusCode, 302)
  t.type(redirectParams(ok).code, 'string')
})

t.test('prompt=consent shows the consent page even to a trusted application', async (t) => {
  const { app, params } = await setup(t)
  const trusted = await createCodeApplication(app, { skipAuthorization: true })
  const res = await getAuthorize(app, { ...params, client_id: trusted.application.clientId, prompt: 'consent' })
  t.equal(res.statusCode, 200)
  t.equal(parseConsent(res).fields.prompt, 'consent', 'carried through the form')
})

t.test('prompt=login: to the login page without prompt=login in next; back with a fresh login only', async (t) => {
  const { app, clock, params } = await setup(t)
  const res = await getAuthorize(app, { ...params, prompt: 'login consent' }, ALICE.id, loggedIn('2026-05-01T11:00:00.000Z'))
  t.equal(res.statusCode, 302)
  const next = nextOf(res)
  t.equal(next.pathname, '/o/authorize/')
  t.equal(next.searchParams.get('prompt'), 'consent', 'login removed, the rest kept (DOT 2.1)')
  t.equal(next.searchParams.get('login_after'), String(epoch(T0)))
  t.equal(next.searchParams.get('client_id'), params.client_id)

  clock.advance(30)
  const stale = await app.inject({ url: `${next.pathname}${next.search}`, headers: { [USER_HEADER]: ALICE.id, ...loggedIn('2026-05-01T11:00:00.000Z') } })
  assertRedirectError(t, stale, { error: 'login_required', error_description: 'The user must log in.', state: 'st' })
  const fresh = await app.inject({ url: `${next.pathname}${next.search}`, headers: { [USER_HEADER]: ALICE.id, ...loggedIn('2026-05-01T12:00:20.000Z') } })
  t.equal(fresh.statusCode, 200, 'the consent page after a fresh login')

  const anonymous = await getAuthorize(app, { ...params, prompt: 'login' }, null)
  t.equal(nextOf(anonymous).searchParams.get('prompt'), null, 'an anonymous user is sent to log in without prompt=login')
})

t.test('max_age: a login too old sends the user to log in again (or login_required with prompt=none); auth_time in the ID token', async (t) => {
  const { app, clock, params } = await setup(t)
  const old = loggedIn('2026-05-01T11:40:00.000Z') // 1200 s before T0
  const res = await getAuthorize(app, { ...params, max_age: '600' }, ALICE.id, old)
  t.equal(res.statusCode, 302)
  t.equal(nextOf(res).searchParams.get('max_age'), '600', 'back to the same request')
  assertRedirectError(t, await getAuthorize(app, { ...params, max_age: '600', prompt: 'none' }, ALICE.id, old),
    { error: 'login_required', error_description: 'The user must log in.', state: 'st' })

  const page = await getAuthorize(app, { ...params, max_age: '600' }, ALICE.id, loggedIn('2026-05-01T11:55:00.000Z'))
  t.equal(page.statusCode, 200, 'a recent enough login gets the consent page')
  clock.advance(400)
  const later = await getAuthorize(app, { ...params, max_age: '600' }, ALICE.id, loggedIn('2026-05-01T11:55:00.000Z'))
  t.equal(later.statusCode, 302, 'the same login 400 s later is too old')
})

t.test('auth_time is the host\'s login time', async (t) => {
  const clock = fixedClock(T0)
  // The host's session knows when the user logged in, on the consent page and on its POST alike.
  const app = await buildOidcApp(t, { clock, resolveUser: () => ({ id: ALICE.id, authTime: new Date('2026-05-01T11:55:00.000Z') }) })
  const created = await createCodeApplication(app)
  const { verifier, challenge } = pkcePair()
  const params = { response_type: 'code', client_id: created.application.clientId, redirect_uri: REDIRECT_URI, scope: 'openid', code_challenge: challenge, code_challenge_method: 'S256', max_age: '600' }
  const page = await getAuthorize(app, params)
  const approved = await postDecision(app, parseConsent(page), { user: ALICE.id })
  const res = await exchangeCode(app, codeClient(created), redirectParams(approved).code ?? '', { redirect_uri: REDIRECT_URI, code_verifier: verifier })
  const keys = [...(serverContext(app.oauth).oidc?.keys.publicKeys ?? [])]
  const { payload } = await verifyIdToken({ keys }, res.json().id_token, created.application.clientId, clock.now())
  t.equal(payload.auth_time, epoch('2026-05-01T11:55:00.000Z'))
})

t.test('bad prompt and max_age values are invalid_request redirects', async (t) => {
  const { app, params } = await setup(t)
  const cases: Array<[Record<string, string>, string]> = [
    [{ prompt: 'none login' }, 'prompt=none cannot be combined with other values.'],
    [{ prompt: 'select_account' }, 'Unsupported prompt parameter value.'],
    [{ max_age: 'soon' }, 'Invalid max_age parameter value.'],
    [{ max_age: '-1' }, 'Invalid max_age parameter value.'],
  ]
  for (const [extra, description] of cases) {
    assertRedirectError(t, await getAuthorize(app, { ...params, ...extra }), { error: 'invalid_request', error_description: description, state: 'st' })
  }
})

t.test('plain OAuth requests (no openid) ignore prompt and max_age', async (t) => {
  const { app, params } = await setup(t)
  const res = await getAuthorize(app, { ...params, scope: 'read', prompt: 'none' }, null)
  t.equal(res.statusCode, 302)
  t.match(String(res.headers.location), /^\/accounts\/login\/\?next=/)
})

t.test('discovery lists the prompt values', async (t) => {
  const { app } = await setup(t)
  t.same((await app.inject({ url: '/o/.well-known/openid-configuration' })).json().prompt_values_supported, ['none', 'login', 'consent'])
})
