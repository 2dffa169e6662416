// REDIR-2: whatever `next` a client sends, Fastify's reply.redirect with safeRedirectTarget's
// answer never throws (an invalid Location header would be a 500) and stays on the origin.
import fc from 'fast-check'
import Fastify from 'fastify'
import t from 'tap'
import { safeRedirectTarget } from '../../index.js'

t.test('REDIR-2 fuzz: reply.redirect(safeRedirectTarget(next) ?? "/") answers 302 on the origin for any next', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  app.post('/login', async (request, reply) => reply.redirect(safeRedirectTarget((request.body as { next?: unknown } | null)?.next, 'http://localhost') ?? '/', 302))
  const next = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 40 }).map((s) => `/${s}`),
    fc.string({ unit: 'grapheme-composite', maxLength: 40 }),
    fc.array(fc.constantFrom('/', '\\', '\t', '\n', '\r', '\0', '\x7f', '\x85', '\u2028', '\ufeff', '\u202e', '.', '..', '%09', '%', '?', '#', 'evil.example', ':', '@', '\uff0f', 'é'), { maxLength: 10 }).map((p) => p.join(''))
  )
  let onOrigin = 0
  await fc.assert(fc.asyncProperty(next, async (value) => {
    const res = await app.inject({ method: 'POST', url: '/login', payload: { next: value } })
    if (res.statusCode !== 302) throw new Error(`${JSON.stringify(value)}: ${res.statusCode} ${res.body}`)
    const location = String(res.headers.location)
    if (new URL(location, 'http://localhost/login').origin !== 'http://localhost' || location.startsWith('//')) throw new Error(`${JSON.stringify(value)} -> ${location}`)
    if (location !== '/') onOrigin++
  }), { numRuns: 3000, seed: Number(process.env.OAT_FUZZ_SEED ?? 20261207) })
  t.ok(onOrigin > 100, `same-origin paths were followed (${onOrigin})`)
})
