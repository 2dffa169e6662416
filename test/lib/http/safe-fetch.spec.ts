// The SSRF-safe outbound client against a real local HTTPS server (a self-signed certificate
// trusted through the `ca` option), and every refusal.
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
  // Generous for the answers that come at once (a loaded machine may be slow to serve them); the
  // time limit itself is tested with a short one against a body that takes ten times longer.
  const fetch = createSafeFetch({ ca: server.certificate.cert, allowPrivateAddresses: true, timeoutMs: 30_000 })
  const impatient = createSafeFetch({ ca: server.certificate.cert, allowPrivateAddresses: true, timeoutMs: 500 })
  const ok = await fetch(`${server.origin}/doc`)
  t.equal(ok.status, 200)
  t.same(JSON.parse(ok.body.toString('utf8')), { keys: [] })

  await refusal(t, fetch(`${server.origin}/redirect`), 'redirect', 'a redirect is not followed')
  t.equal(server.hits.get('/doc'), 1, 'the redirect target was never asked')
  await refusal(t, fetch(`${server.origin}/big`), 'size', 'a declared length over the limit')
  await refusal(t, fetch(`${server.origin}/big-chunked`), 'size', 'a streamed body over the limit')
  await refusal(t, impatient(`${server.origin}/slow`), 'timeout', 'a body that never ends')
  await refusal(t, fetch(`${server.origin}/error`), 'status', 'a non-200 answer')
  await refusal(t, fetch(`http://localhost:${server.port}/doc`), 'scheme', 'http without allowHttp')
  await refusal(t, fetch(`https://user:pass@localhost:${server.port}/doc`), 'url', 'user information')
  await refusal(t, fetch('not a url'), 'url', 'a relative or garbled URL')
  await refusal(t, fetch('file:///etc/passwd'), 'scheme', 'a file URL')

  const untrusting = createSafeFetch({ allowPrivateAddresses: true, timeoutMs: 30_000 })
  await refusal(t, untrusting(`${server.origin}/doc`), 'network', 'a certificate no CA vouches for')
})

t.test('refuses loopback and private addresses however they are spelt', async (t) => {
  const server = await startDocumentServer(t, { '/doc': json({ keys: [] }) })
  const fetch = createSafeFetch({ ca: server.certificate.cert, timeoutMs: 30_000 })
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

t.test('JwksUriCache: public JWK Sets only, cached, refetched at most once per interval', async (t) => {
  const { JwksUriCache } = await import('../../../lib/validator/client-jwks.js')
  const publicKey = { kty: 'EC', crv: 'P-256', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0', kid: 'k1' }
  const server = await startDocumentServer(t, {
    '/good': json({ keys: [publicKey] }),
    '/bad-json': json('{"keys": ['),
    '/private': json({ keys: [{ ...publicKey, d: 'jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI' }] }),
    '/symmetric': json({ keys: [{ kty: 'oct', k: 'c2VjcmV0' }] }),
    '/no-keys': json({ keys: [] }),
    '/array': json([publicKey]),
    '/redirect': (_req, res) => { res.writeHead(301, { location: '/good' }).end() },
  })
  const cache = new JwksUriCache(createSafeFetch({ ca: server.certificate.cert, allowPrivateAddresses: true }), 300, 60)
  const refused = async (path: string, message: RegExp): Promise<void> => {
    await t.rejects(cache.get(`${server.origin}${path}`, 0), message, path)
  }
  await refused('/bad-json', /jwks_uri document is not valid JSON/)
  await refused('/private', /public keys only/)
  await refused('/symmetric', /only RSA, EC and OKP public keys/)
  await refused('/no-keys', /non-empty "keys" array/)
  await refused('/array', /JSON object with a "keys" array/)
  await refused('/redirect', /refused \(redirect\)/)
  await t.rejects(new JwksUriCache(createSafeFetch({ ca: server.certificate.cert }), 300, 60).get(`${server.origin}/good`, 0), /refused \(address\)/, 'loopback without allowPrivateAddresses')

  const uri = `${server.origin}/good`
  t.same(await cache.get(uri, 1000), { keys: [publicKey] })
  t.same(await cache.get(uri, 2000), { keys: [publicKey] })
  t.equal(server.hits.get('/good'), 1, 'served from the cache while fresh')
  t.equal(await cache.refresh(uri, 30_000), null, 'a refetch within jwksUriRefetchSeconds is refused')
  t.same(await cache.refresh(uri, 62_000), { keys: [publicKey] }, 'after it, fetched again')
  t.equal(server.hits.get('/good'), 2)
  await cache.get(uri, 62_000 + 301_000)
  t.equal(server.hits.get('/good'), 3, 'fetched again once it expired')
  await Promise.all([cache.refresh(uri, 500_000), cache.refresh(uri, 500_000)])
  t.equal(server.hits.get('/good'), 4, 'concurrent refreshes share one fetch')
})

t.test('JwksUriCache: a failing jwks_uri is asked again only after the refetch interval', async (t) => {
  const { JwksUriCache } = await import('../../../lib/validator/client-jwks.js')
  const server = await startDocumentServer(t, { '/broken': json('not json') })
  const cache = new JwksUriCache(createSafeFetch({ ca: server.certificate.cert, allowPrivateAddresses: true }), 300, 60)
  const uri = `${server.origin}/broken`
  await t.rejects(cache.get(uri, 0), /not valid JSON/)
  t.same(await cache.get(uri, 1000), { keys: [] }, 'within the interval: no keys, no fetch')
  t.equal(await cache.refresh(uri, 2000), null)
  t.equal(server.hits.get('/broken'), 1)
  await t.rejects(cache.refresh(uri, 61_000), /not valid JSON/, 'after it, asked again')
  t.equal(server.hits.get('/broken'), 2)
})
