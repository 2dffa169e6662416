import t from 'tap'
import { accountKey, addressKey, InFlight, progressiveDelayMs, WaitingRoom } from '../../lib/throttle.js'

t.test('addressKey: IPv4 whole, IPv4-mapped IPv6 as IPv4, IPv6 by its /64 in every spelling', async (t) => {
  t.equal(addressKey('192.0.2.7'), '192.0.2.7')
  t.equal(addressKey('::ffff:192.0.2.7'), '192.0.2.7', 'a dual-stack socket reports IPv4 clients mapped')
  t.equal(addressKey('::FFFF:c000:0207'), '192.0.2.7')
  const key = addressKey('2001:db8:1:2:aaaa:bbbb:cccc:dddd')
  t.equal(key, '2001:db8:1:2::/64')
  for (const same of ['2001:db8:1:2::1', '2001:0DB8:0001:0002:0:0:0:ffff', '2001:db8:1:2::192.0.2.1', '2001:db8:1:2::1%eth0']) {
    t.equal(addressKey(same), key, `${same} is in the same /64`)
  }
  t.not(addressKey('2001:db8:1:3::1'), key, 'the next /64 counts apart')
  t.equal(addressKey('::1'), '0:0:0:0::/64')
  t.equal(addressKey('fe80::1'), 'fe80:0:0:0::/64')
})

t.test('accountKey: spellings a login check may treat alike count as one account', async (t) => {
  for (const spelling of ['alice', 'Alice', ' ALICE ', '\uff41\uff4c\uff49\uff43\uff45']) t.equal(accountKey(spelling), 'alice', JSON.stringify(spelling))
  t.equal(accountKey('e\u0301'), accountKey('\u00e9'), 'NFD and NFC')
  t.not(accountKey('alice2'), 'alice')
})

t.test('progressiveDelayMs: nothing below the threshold, then 250 ms doubling, capped; 0 turns it off', async (t) => {
  t.same([8, 9, 10, 11, 12, 13, 14, 15, 1000].map((f) => progressiveDelayMs(f, 10, 5)), [0, 0, 250, 500, 1000, 2000, 4000, 5000, 5000])
  t.equal(progressiveDelayMs(1e9, 10, 30), 30_000, 'huge counts stay finite and capped')
  t.equal(progressiveDelayMs(50, 10, 0), 0)
  t.equal(progressiveDelayMs(11, 10, 0.3), 300, 'a fractional cap')
})

t.test('WaitingRoom: waits without blocking, bounded per key and in all, and frees its places', async (t) => {
  const room = new WaitingRoom({ perKey: 2, total: 3 })
  const a1 = room.wait('alice', 200)
  const a2 = room.wait('alice', 200)
  t.equal(await room.wait('alice', 200), false, 'a third wait for one key is turned away at once')
  const b1 = room.wait('bob', 200)
  t.equal(await room.wait('carol', 200), false, 'the room is full in all')
  t.same(await Promise.all([a1, a2, b1]), [true, true, true], 'the others waited their time')
  t.equal(await room.wait('alice', 1), true, 'places are free again once the waits end')
  t.equal(await room.wait('carol', 1), true)
})

t.test('InFlight: counts running attempts per key; ending twice counts once', async (t) => {
  const running = new InFlight()
  const end1 = running.start(['ip|a', 'pair|a|alice'])
  const end2 = running.start(['ip|a'])
  t.same([running.count('ip|a'), running.count('pair|a|alice')], [2, 1])
  end1()
  end1()
  t.same([running.count('ip|a'), running.count('pair|a|alice')], [1, 0])
  end2()
  t.equal(running.count('ip|a'), 0)
})
