// Attacker-style probes of Client ID Metadata Documents: the client_id is a URL the attacker
// chooses, so it is an SSRF lever at every endpoint that looks a client up, and the document is
// content the attacker writes, shown to users on the consent page.
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import t, { type Test } from 'tap'
import { serverContext } from '../../lib/server.js'
import { ALICE, buildApp, form, FORM } from '../helpers/index.js'
import { asUser, authorizeUrl, LOGIN_OPTIONS, pkcePair } from '../helpers/authorize.js'
import { selfSignedCertificate, startDocumentServer, type DocumentServer } from '../helpers/https-server.js'

const CALLBACK = 'https://client.example.net/callback'
const certificate = selfSignedCertificate()

type Handler = (req: IncomingMessage, res: ServerResponse) => void

async function appWith (t: Test, options: { allowPrivateAddresses: boolean, settings?: Record<string, unknown> }): Promise<FastifyInstance> {
  return await buildApp(t, {
    ...LOGIN_OPTIONS,
    outboundHttp: { ca: certificate.cert, allowPrivateAddresses: options.allowPrivateAddresses },
    settings: { cimdEnabled: true, deviceFlowEnabled: true, scopes: { read: 'Read' }, ...options.settings },
  })
}

async function documents (t: Test, routes: (origin: () => string) => Record<string, Handler>): Promise<DocumentServer> {
  const holder: { docs?: DocumentServer } = {}
  holder.docs = await startDocumentServer(t, routes(() => holder.docs?.origin ?? ''), certificate)
  return holder.docs
}

function documentJson (origin: string, path: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ client_id: `${origin}${path}`, client_name: 'Probe', redirect_uris: [CALLBACK], token_endpoint_auth_method: 'none', ...extra })
}

function totalHits (docs: DocumentServer): number {
  let total = 0
  for (const n of docs.hits.values()) total += n
  return total
}

/** The client_id sent to every endpoint that looks a client up; each must refuse it. */
async function everyEndpoint (app: FastifyInstance, clientId: string): Promise<Array<[string, LightMyRequestResponse]>> {
  const { challenge, verifier } = pkcePair()
  const code = { response_type: 'code', client_id: clientId, redirect_uri: CALLBACK, code_challenge: challenge, code_challenge_method: 'S256' }
  const post = async (url: string, params: Record<string, string>): Promise<LightMyRequestResponse> => await app.inject({ method: 'POST', url, headers: FORM, payload: form(params) })
  return [
    ['authorize', await app.inject({ method: 'GET', url: authorizeUrl(code), headers: asUser(ALICE.id) })],
    ['par', await post('/o/par/', code)],
    ['token', await post('/o/token/', { grant_type: 'authorization_code', code: 'x', redirect_uri: CALLBACK, code_verifier: verifier, client_id: clientId })],
    ['revoke', await post('/o/revoke-token/', { token: 'x', client_id: clientId })],
    ['introspect', await post('/o/introspect/', { token: 'x', client_id: clientId })],
    ['device authorization', await post('/o/device-authorization/', { client_id: clientId, scope: 'read' })],
  ]
}

t.test('SSRF through client_id: loopback, private and metadata addresses are never fetched, at any endpoint', async (t) => {
  const docs = await documents(t, (origin) => ({ '/c.json': (_req, res) => { res.writeHead(200, { 'content-type': 'application/json' }).end(documentJson(origin(), '/c.json')) } }))
  const app = await appWith(t, { allowPrivateAddresses: false })
  const port = docs.port
  for (const clientId of [
    `https://localhost:${port}/c.json`, // a DNS name resolving to loopback
    `https://127.0.0.1:${port}/c.json`,
    `https://[::1]:${port}/c.json`,
    `https://[::ffff:127.0.0.1]:${port}/c.json`,
    `https://[::ffff:7f00:1]:${port}/c.json`,
    `https://0x7f000001:${port}/c.json`, // another spelling of 127.0.0.1
    `https://2130706433:${port}/c.json`,
    'https://169.254.169.254/latest/meta-data/iam/security-credentials/',
    'https://10.0.0.1/client.json',
    'https://192.168.1.1/client.json',
    'https://[fd00::1]/client.json',
    'https://0.0.0.0/client.json',
  ]) {
    for (const [endpoint, res] of await everyEndpoint(app, clientId)) {
      if (endpoint === 'authorize') {
        t.equal(res.statusCode, 400, `${clientId} at ${endpoint}: the error page`)
        t.equal(res.headers.location, undefined, `${clientId} at ${endpoint}: no redirect`)
      } else {
        t.equal(res.statusCode, 401, `${clientId} at ${endpoint}: 401`)
        t.equal((res.json() as { error?: string }).error, 'invalid_client', `${clientId} at ${endpoint}: invalid_client`)
      }
    }
  }
  t.equal(totalHits(docs), 0, 'the local document server was never reached')
  t.equal((await app.oauth.store.listApplications()).length, 0, 'nothing stored')
})

t.test('a huge document (streamed without a length) and a slow one are cut off; nothing is stored', async (t) => {
  const chunk = Buffer.alloc(64 * 1024, 0x20)
  let streamed = 0
  const docs = await documents(t, () => ({
    '/huge.json': (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.write('{"client_id":"')
      // Up to 50 MB, as fast as the client reads; the fetch must give up after 16 KiB.
      const pump = (): void => {
        while (streamed < 50 * 1024 * 1024) {
          streamed += chunk.length
          if (!res.write(chunk)) {
            res.once('drain', pump)
            return
          }
        }
        res.end('"}')
      }
      res.on('error', () => {})
      pump()
    },
    '/slow.json': (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.on('error', () => {})
      const timer = setInterval(() => { res.write(' ') }, 100)
      res.on('close', () => { clearInterval(timer) })
    },
  }))
  const app = await appWith(t, { allowPrivateAddresses: true, settings: { cimdFetchTimeoutSeconds: 1 } })
  const ctx = serverContext(app.oauth)
  const huge = await ctx.cimd?.resolve(ctx, `${docs.origin}/huge.json`)
  t.match(huge?.detail, /\(size\)/, 'refused for its size')
  t.ok(streamed < 50 * 1024 * 1024, 'the server was not read to the end')
  const slow = await ctx.cimd?.resolve(ctx, `${docs.origin}/slow.json`)
  t.match(slow?.detail, /\(timeout\)/, 'a document dripping bytes is cut off by the time limit')
  t.equal((await app.oauth.store.listApplications()).length, 0)
})

t.test('a hostile URL costs one fetch per backoff period, however often it is named', async (t) => {
  const docs = await documents(t, () => ({ '/bad.json': (_req, res) => { res.writeHead(200, { 'content-type': 'application/json' }).end('not json') } }))
  const app = await appWith(t, { allowPrivateAddresses: true })
  for (let i = 0; i < 20; i++) await everyEndpoint(app, `${docs.origin}/bad.json`)
  t.equal(docs.hits.get('/bad.json'), 1)
})

t.test('fetches in flight are capped (cimdMaxConcurrentFetches): the rest are refused, not queued', async (t) => {
  const docs = await documents(t, () => {
    const routes: Record<string, Handler> = {}
    for (let i = 0; i < 6; i++) routes[`/hang-${i}.json`] = (_req, res) => { res.on('error', () => {}) }
    return routes
  })
  const app = await appWith(t, { allowPrivateAddresses: true, settings: { cimdMaxConcurrentFetches: 2, cimdFetchTimeoutSeconds: 1 } })
  const ctx = serverContext(app.oauth)
  const results = await Promise.all(Array.from({ length: 6 }, async (_, i) => await ctx.cimd?.resolve(ctx, `${docs.origin}/hang-${i}.json`)))
  t.equal(results.filter((r) => /cimdMaxConcurrentFetches/.test(r?.detail ?? '')).length, 4, 'four refused at once')
  t.equal(totalHits(docs), 2, 'two requests reached the server')
})

t.test('client_name with control or invisible formatting characters is refused; markup is escaped on the consent page', async (t) => {
  const names: Record<string, string> = {
    '/bidi.json': 'Goo\u202Eelgoog',
    '/zero-width.json': 'Pay\u200BPal',
    '/bell.json': 'Bell\u0007',
    '/newline.json': 'Line\nbreak',
    '/separator.json': 'Line\u2028separator',
  }
  const docs = await documents(t, (origin) => {
    const routes: Record<string, Handler> = {}
    for (const [path, name] of Object.entries({ ...names, '/markup.json': '<script>alert(1)</script><img src=x onerror=alert(2)>' })) {
      routes[path] = (_req, res) => { res.writeHead(200, { 'content-type': 'application/json' }).end(documentJson(origin(), path, { client_name: name })) }
    }
    return routes
  })
  const app = await appWith(t, { allowPrivateAddresses: true })
  const ctx = serverContext(app.oauth)
  for (const path of Object.keys(names)) {
    const found = await ctx.cimd?.resolve(ctx, `${docs.origin}${path}`)
    t.equal(found?.application, null, `${path} refused`)
    t.match(found?.detail, /client_name must not contain/, `${path}: for its name`)
  }
  const { challenge } = pkcePair()
  const page = await app.inject({
    method: 'GET',
    url: authorizeUrl({ response_type: 'code', client_id: `${docs.origin}/markup.json`, redirect_uri: CALLBACK, code_challenge: challenge, code_challenge_method: 'S256' }),
    headers: asUser(ALICE.id),
  })
  t.equal(page.statusCode, 200)
  t.notMatch(page.body, '<script>alert(1)', 'no markup from the document')
  t.notMatch(page.body, '<img src=x', 'no markup from the document')
  t.match(page.body, '&lt;script&gt;alert(1)&lt;/script&gt;', 'shown as text')
  t.match(page.body, `published by <strong>localhost:${docs.port}</strong>`)
})
