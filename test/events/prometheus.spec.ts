// The Prometheus wiring of docs/events.md, as written there (between the markers below, which
// the last test finds verbatim in the docs), on fastify-metrics: counters by event and grant
// type, scraped from /metrics.
import { readFileSync } from 'node:fs'
import type { FastifyInstance } from 'fastify'
import fastifyMetrics from 'fastify-metrics'
import t from 'tap'
import { basicAuth, buildApp, createClient, FORM, form, postToken } from '../helpers/index.js'

async function wireMetrics (app: FastifyInstance): Promise<void> {
  // docs:begin
  // fastify-metrics is CommonJS: under ESM its plugin is the module's `default`.
  await app.register(fastifyMetrics.default, { endpoint: '/metrics' })
  const oauthEvents = new app.metrics.client.Counter({
    name: 'oauth_events_total',
    help: 'fastify-oauth-toolkit events by event, grant type and detail',
    labelNames: ['event', 'grant_type', 'detail'] as const,
  })
  const count = (event: string, grantType = '', detail = ''): void => {
    oauthEvents.inc({ event, grant_type: grantType, detail })
  }
  const { events } = app.oauth
  events.on('tokenIssued', (e) => { count('tokenIssued', e.grantType) })
  events.on('tokenRefreshed', () => { count('tokenRefreshed', 'refresh_token') })
  events.on('tokenRevoked', (e) => { count('tokenRevoked', '', e.reason) })
  events.on('refreshTokenReuseDetected', () => { count('refreshTokenReuseDetected', 'refresh_token') })
  events.on('authorizationApproved', (e) => { count('authorizationApproved', '', e.via) })
  events.on('authorizationDenied', (e) => { count('authorizationDenied', '', e.via) })
  events.on('clientAuthenticationFailed', (e) => { count('clientAuthenticationFailed', '', e.endpoint) })
  events.on('rateLimitTriggered', (e) => { count('rateLimitTriggered', '', e.limit) })
  events.on('clientRegistered', (e) => { count('clientRegistered', '', e.source) })
  events.on('clientDeleted', (e) => { count('clientDeleted', '', e.source) })
  // docs:end
}

t.test('the documented wiring counts events by event and grant type, scraped from /metrics', async (t) => {
  const app = await buildApp(t)
  await wireMetrics(app)
  const client = await createClient(app)
  for (let i = 0; i < 2; i++) t.equal((await postToken(app, { grant_type: 'client_credentials' }, { authorization: client.authorization })).statusCode, 200)
  const wrong = await app.inject({ method: 'POST', url: '/o/token/', headers: { ...FORM, authorization: basicAuth(client.clientId, 'wrong') }, payload: form({ grant_type: 'client_credentials' }) })
  t.equal(wrong.statusCode, 401)
  const scrape = await app.inject({ url: '/metrics' })
  t.equal(scrape.statusCode, 200)
  t.match(scrape.headers['content-type'], /^text\/plain/)
  const lines = scrape.body.split('\n').filter((line) => line.startsWith('oauth_events_total{'))
  t.same(lines.sort(), [
    'oauth_events_total{event="clientAuthenticationFailed",grant_type="",detail="token"} 1',
    'oauth_events_total{event="clientRegistered",grant_type="",detail="api"} 1',
    'oauth_events_total{event="tokenIssued",grant_type="client_credentials",detail=""} 2',
  ])
  t.notMatch(scrape.body, client.clientId, 'no client id as a label (unbounded, attacker-chosen on failures)')
})

t.test('docs/events.md shows this wiring verbatim', async (t) => {
  const source = readFileSync(new URL(import.meta.url), 'utf8')
  const wiring = /\/\/ docs:begin\n([\s\S]*?)\n\s*\/\/ docs:end/.exec(source)?.[1] ?? ''
  const dedented = wiring.split('\n').map((line) => line.replace(/^ {2}/, '')).join('\n')
  t.ok(dedented.length > 200)
  t.ok(readFileSync(new URL('../../docs/events.md', import.meta.url), 'utf8').includes(dedented), 'the docs hold the tested code')
})
