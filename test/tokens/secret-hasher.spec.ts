// The scrypt secret hasher: encoding, constant-time verification, the verified cache and the
// dummy verification of unknown principals (CAUTH-2, G10).
import t from 'tap'
import { createScryptHasher } from '../../lib/tokens/secret-hasher.js'

const hasher = createScryptHasher({ N: 1024 })

t.test('hash encodes scheme, cost, salt and key; verify accepts the secret and nothing else', async (t) => {
  const encoded = await hasher.hash('correct horse')
  t.match(encoded, /^scrypt\$1024\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/)
  t.not(await hasher.hash('correct horse'), encoded, 'a fresh salt each time')
  t.equal(await hasher.verify('correct horse', encoded), true)
  t.equal(await hasher.verify('correct horse', encoded), true, 'again, from the verified cache')
  t.equal(await hasher.verify('correct horsE', encoded), false)
  t.equal(await hasher.verify('', encoded), false)
  const [first, second] = await Promise.all([hasher.verify('wrong', encoded), hasher.verify('wrong', encoded)])
  t.same([first, second], [false, false], 'concurrent verifications of one pair share one answer')
})

t.test('malformed or hostile encodings are false, never a throw or an unbounded KDF', async (t) => {
  const encoded = await hasher.hash('s')
  const [, , , , salt, key] = encoded.split('$')
  for (const bad of ['', 'plain', `bcrypt$1024$8$1$${salt}$${key}`, `scrypt$1000$8$1$${salt}$${key}`, `scrypt$${1 << 21}$8$1$${salt}$${key}`,
    `scrypt$1024$8$1$${salt}$short`, `scrypt$1024$8$${salt}$${key}`, `scrypt$-1$8$1$${salt}$${key}`]) {
    t.equal(await hasher.verify('s', bad), false, bad.slice(0, 30))
  }
})

t.test('verifyDummy is false for any secret, as a detached function too', async (t) => {
  const { verifyDummy } = hasher
  for (const secret of ['', 'x', 'correct horse', 'é'.repeat(100)]) t.equal(await verifyDummy(secret), false)
  t.equal(await hasher.verifyDummy('again'), false)
})

t.test('the cost is validated', async (t) => {
  t.throws(() => createScryptHasher({ N: 1000 }), /power of two/)
})
