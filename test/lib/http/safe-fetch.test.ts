// The SSRF-safe outbound client against a real local HTTPS server (a self-signed certificate
// trusted through the `ca` option), and every refusal. A separate process: it runs openssl.
import t, { type Test } from 'tap'
import { createSafeFetch, SafeFetchError, type SafeFetchFailure } from '../../../lib/http/safe-fetch.js'
import { isPublicAddress } from '../../../lib/http/address-policy.js'
import { json, startDocumentServer } from '../../helpers/https-server.js'

async function refusal (t: Test, promise: Promise<unknown>, reason: SafeFetchFailure, what: string): Promise<void> {
  const error = await promise.then(() => null, (err: unknown) => err)
  t.ok(error instanceof SafeFetchError, `${what}: a SafeFetchError`)
  t.equal((error as SafeFetchError).reason, reason, `${what}: ${reason}`)
}

t.test('isPublicAddress accepts global unicast only', async (t) => {
  for (const a of ['8.8.8.8', '1.1.1.1', '2606:4700::1111', '[2606:4700::1111]']) t.ok(isPublicAddress(a), a)
  for (const a of ['127.0.0.1', '10.0.0.1', '172.16.5.4', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '224.0.0.1',
    '255.255.255.255', '198.18.0.1', '::1', '[::1]', '::', 'fe80::1', 'fc00::1', 'fd12::1', 'ff02::1', '::ffff:127.0.0.1',
    '::ffff:7f00:1', '::ffff:8.8.8.8', '64:ff9b::a00:1', '2002:7f00:1::1', '2001::1', '2001:db8::1', 'example.com', '']) {
    t.notOk(isPublicAddress(a), a)
  }
})

t.test('fetches a document from an HTTPS server it trusts', async (t) => {
  let slowTimer: NodeJS.Timeout | undefined
  t.teardown(() => { clearTimeout(slowTimer) })
  const server = await startDocumentServer(t, {
    '/doc': json({ keys: [] }),
    '/redirect': (_req, res) => { res.writeHead(302, { location: '/doc' }).end() },
    '/big': json({ pad: 'x'.repeat(70 * 1024) }),
    '/big-chunked': (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      for (let i = 0; i < 80; i++) res.write('x'.repeat(1024))
      res.end()
    },
    '/slow': (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.write('{')
      slowTimer = setTimeout(() => res.end('}'), 5000)
    },
    '/error': json({ error: 'x' }, 500),
  })
  const fetch = createSafeFetch({ ca: server.certificate.cert, allowPrivateAddresses: true, timeoutMs: 500 })
  const ok = await fetch(`${server.origin}/doc`)
  t.equal(ok.status, 200)
  t.same(JSON.parse(ok.body.toString('utf8')), { keys: [] })

  await refusal(t, fetch(`${server.origin}/redirect`), 'redirect', 'a redirect is not followed')
  t.equal(server.hits.get('/doc'), 1, 'the redirect target was never asked')
  await refusal(t, fetch(`${server.origin}/big`), 'size', 'a declared length over the limit')
  await refusal(t, fetch(`${server.origin}/big-chunked`), 'size', 'a streamed body over the limit')
  await refusal(t, fetch(`${server.origin}/slow`), 'timeout', 'a body that never ends')
  await refusal(t, fetch(`${server.origin}/error`), 'status', 'a non-200 answer')
  await refusal(t, fetch(`http://localhost:${server.port}/doc`), 'scheme', 'http without allowHttp')
  await refusal(t, fetch(`https://user:pass@localhost:${server.port}/doc`), 'url', 'user information')
  await refusal(t, fetch('not a url'), 'url', 'a relative or garbled URL')
  await refusal(t, fetch('file:///etc/passwd'), 'scheme', 'a file URL')

  const untrusting = createSafeFetch({ allowPrivateAddresses: true, timeoutMs: 2000 })
  await refusal(t, untrusting(`${server.origin}/doc`), 'network', 'a certificate no CA vouches for')
})

t.test('refuses loopback and private addresses however they are spelt', async (t) => {
  const server = await startDocumentServer(t, { '/doc': json({ keys: [] }) })
  const fetch = createSafeFetch({ ca: server.certificate.cert, timeoutMs: 2000 })
  const port = server.port
  for (const url of [
    `https://localhost:${port}/doc`, // a name: refused after this server's own DNS resolution
    `https://127.0.0.1:${port}/doc`,
    `https://2130706433:${port}/doc`, // decimal
    `https://0x7f.0.0.1:${port}/doc`, // hexadecimal
    `https://0177.0.0.1:${port}/doc`, // octal
    `https://[::1]:${port}/doc`,
    `https://[::ffff:127.0.0.1]:${port}/doc`, // IPv4-mapped IPv6
    'https://169.254.169.254/latest/meta-data/',
    'https://10.0.0.1/',
  ]) await refusal(t, fetch(url), 'address', url)
  t.equal(server.hits.get('/doc') ?? 0, 0, 'no request reached the server')
})

t.test('http only with allowHttp', async (t) => {
  const { createServer } = await import('node:http')
  const server = createServer((_req, res) => { res.writeHead(200).end('{}') })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { server.close() })
  const { port } = server.address() as { port: number }
  const fetch = createSafeFetch({ allowHttp: true, allowPrivateAddresses: true })
  t.equal((await fetch(`http://127.0.0.1:${port}/`)).body.toString(), '{}')
  await refusal(t, createSafeFetch({ allowHttp: true })(`http://127.0.0.1:${port}/`), 'address', 'still no private address')
})
