// The CSPRNG behind every token (lib/random.ts): tokens come from a pool that one call into
// OpenSSL fills 4 KiB at a time (issue 7); every size still gets fresh, distinct bytes.
import t from 'tap'
import { cryptoRandom } from '../../lib/random.js'

t.test('tokens of every size are base64url of that many bytes, across pool refills', async (t) => {
  const seen = new Set<string>()
  // 48 does not divide 4,096: draws straddle the end of the pool and must start a fresh one.
  for (const bytes of [1, 16, 32, 48, 255, 256, 257, 1000]) {
    const tokens = Array.from({ length: 100 }, () => cryptoRandom.token(bytes))
    t.ok(tokens.every((token) => /^[A-Za-z0-9_-]+$/.test(token) && Buffer.from(token, 'base64url').length === bytes), `${bytes} bytes`)
    if (bytes >= 16) for (const token of tokens) seen.add(token)
  }
  t.equal(seen.size, 7 * 100, 'no repeats (sizes of 16 bytes and more)')
})

t.test('the default is 32 bytes (256 bits)', async (t) => {
  t.equal(Buffer.from(cryptoRandom.token(), 'base64url').length, 32)
})

t.test('consecutive draws share no bytes: nothing in the pool is handed out twice', async (t) => {
  // 4,096 draws of 32 bytes fill the pool 32 times; any reuse of a region would repeat a token.
  const tokens = Array.from({ length: 4096 }, () => cryptoRandom.token(32))
  t.equal(new Set(tokens).size, tokens.length)
  // Neighbours: a draw that reread the previous region would share its bytes.
  let overlapping = 0
  for (let i = 1; i < tokens.length; i++) {
    const a = Buffer.from(tokens[i - 1]!, 'base64url')
    const b = Buffer.from(tokens[i]!, 'base64url')
    if (a.subarray(16).equals(b.subarray(0, 16))) overlapping++
  }
  t.equal(overlapping, 0)
})

t.test('a bad size is refused, as randomBytes refuses it', async (t) => {
  for (const bad of [-1, Number.NaN]) t.throws(() => cryptoRandom.token(bad), { code: 'ERR_OUT_OF_RANGE' }, String(bad))
})
