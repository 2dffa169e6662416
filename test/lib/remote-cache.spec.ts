// The bounded, single-flight cache behind remote introspection.
import t from 'tap'
import { createRemoteCache } from '../../lib/resource/remote-cache.js'

t.test('entries live until their own deadline; the oldest go first when full', async (t) => {
  const cache = createRemoteCache<string>(2)
  let loads = 0
  const load = (value: string, untilMs: number) => async () => { loads++; return { value, untilMs } }
  t.equal(await cache.get('a', 0, load('A', 100)), 'A')
  t.equal(await cache.get('a', 99, load('A2', 200)), 'A', 'reused before its deadline')
  t.equal(await cache.get('a', 100, load('A3', 200)), 'A3', 'reloaded at its deadline')
  await cache.get('b', 100, load('B', 300))
  await cache.get('c', 100, load('C', 300))
  t.equal(cache.size, 2, 'bounded')
  t.equal(await cache.get('a', 101, load('A4', 300)), 'A4', 'the oldest entry was evicted')
  t.equal(await cache.get('b', 101, load('B2', 300)), 'B2', 'and then the next oldest')
  t.equal(await cache.get('nothing', 0, load('N', 0)), 'N')
  t.equal(await cache.get('nothing', 0, load('N2', 0)), 'N2', 'a deadline in the past caches nothing')
  t.equal(loads, 8)
})

t.test('concurrent misses share one load, and a failed load is not kept', async (t) => {
  const cache = createRemoteCache<number>(10)
  let loads = 0
  const slow = async () => { loads++; await new Promise((resolve) => setTimeout(resolve, 20)); return { value: loads, untilMs: 1000 } }
  const values = await Promise.all(Array.from({ length: 10 }, async () => await cache.get('k', 0, slow)))
  t.same([...new Set(values)], [1])
  t.equal(loads, 1)
  await t.rejects(cache.get('x', 0, async () => { throw new Error('boom') }), /boom/)
  t.equal(await cache.get('x', 0, async () => ({ value: 7, untilMs: 10 })), 7, 'the next request loads again')
})
