// Shared by the standalone resource-server tests. Not a test file: tap runs *.test.ts only.
import { createServer, type RequestListener, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify'
import type { Test } from 'tap'
import { ProtectedResourceView, ReadWriteScopedResourceView, ScopedProtectedResourceView } from '../../index.js'
import { resourceServer, type ResourceServerOptions } from '../../entries/resource-server.js'

/** What the API's views answer: what the plugin put on the request. */
export interface WhoAmI {
  userId: string | null
  clientId: string | null
  scopes: string[]
  verifiedBy: string | null
  owner: unknown
}

function whoAmI (request: FastifyRequest): WhoAmI {
  const token = request.accessToken
  return {
    userId: token?.userId ?? null,
    clientId: token?.clientId ?? null,
    scopes: [...(token?.scopes ?? [])],
    verifiedBy: token?.verifiedBy ?? null,
    owner: request.resourceOwner,
  }
}

class HelloView extends ProtectedResourceView {
  async get (request: FastifyRequest) { return whoAmI(request) }
}
class WriteView extends ScopedProtectedResourceView {
  override requiredScopes = ['write']
  async get (request: FastifyRequest) { return whoAmI(request) }
}
class NotesView extends ReadWriteScopedResourceView {
  async get () { return 'notes' }
  async post () { return 'posted' }
}

/** Log lines a Fastify app wrote, for leak scans. */
export interface CapturedLog {
  readonly lines: string[]
}

/**
 * A separate API that holds no OAuth tables: only `resourceServer`, the view family on
 * `/api/hello`, `/api/write`, `/api/notes`, and `protect()` on `/api/protected`. Logs at trace.
 */
export async function buildApi (t: Test, options: ResourceServerOptions, log: CapturedLog = { lines: [] }): Promise<FastifyInstance> {
  const api = Fastify({ logger: { level: 'trace', stream: { write: (line: string) => { log.lines.push(line) } } } })
  t.teardown(() => api.close())
  await api.register(resourceServer, options)
  await api.register(HelloView.asView('/api/hello'))
  await api.register(WriteView.asView('/api/write'))
  await api.register(NotesView.asView('/api/notes'))
  api.get('/api/protected', { onRequest: api.oauthResource.protect({ scopes: ['read'] }) }, async (request) => whoAmI(request))
  return api
}

/** Starts `app` on a free loopback port and returns its origin. */
export async function listen (app: FastifyInstance, port = 0): Promise<string> {
  await app.listen({ host: '127.0.0.1', port })
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
}

/** A plain HTTP server (a stub authorization server); closed, connections and all, at teardown. */
export async function stubServer (t: Test, handler: RequestListener): Promise<{ origin: string, server: Server }> {
  const server = createServer(handler)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(async () => {
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server }
}

/** `GET path` on the API with a bearer token, by inject. */
export async function callApi (api: FastifyInstance, token: string, path = '/api/hello', method: 'GET' | 'POST' = 'GET') {
  return await api.inject({ method, url: path, headers: { authorization: `Bearer ${token}` } })
}
