import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:https'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Test } from 'tap'

/** A self-signed certificate for `localhost` and 127.0.0.1, made by openssl for this test run. */
export interface TestCertificate { readonly cert: string, readonly key: string }

/** Makes a throwaway P-256 certificate (a day long) in a temporary folder, removed at once. */
export function selfSignedCertificate (): TestCertificate {
  const dir = mkdtempSync(join(tmpdir(), 'oat-cert-'))
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
      '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' })
    return { cert: readFileSync(join(dir, 'cert.pem'), 'utf8'), key: readFileSync(join(dir, 'key.pem'), 'utf8') }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** A running local HTTPS document server. */
export interface DocumentServer {
  /** `https://localhost:<port>` */
  readonly origin: string
  readonly port: number
  readonly certificate: TestCertificate
  /** How many requests each path received. */
  readonly hits: Map<string, number>
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void

/** Starts an HTTPS server on a free loopback port answering each path with its handler (404 otherwise); closed when the test ends. */
export async function startDocumentServer (t: Test, routes: Record<string, Handler>, certificate = selfSignedCertificate()): Promise<DocumentServer> {
  const hits = new Map<string, number>()
  const server: Server = createServer({ cert: certificate.cert, key: certificate.key }, (req, res) => {
    const path = new URL(req.url ?? '/', 'https://localhost').pathname
    hits.set(path, (hits.get(path) ?? 0) + 1)
    const handler = routes[path]
    if (handler === undefined) {
      res.writeHead(404).end()
      return
    }
    handler(req, res)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => {
    server.closeAllConnections()
    server.close(() => { resolve() })
  }))
  const { port } = server.address() as AddressInfo
  return { origin: `https://localhost:${port}`, port, certificate, hits }
}

/** A handler answering JSON. */
export function json (body: unknown, status = 200): Handler {
  return (_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(typeof body === 'string' ? body : JSON.stringify(body))
  }
}
