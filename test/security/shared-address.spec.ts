// Limits used against their owners, from a shared address (an office or campus NAT, a carrier's
// IPv4 pool): whatever is counted per address must be what only guessing produces, or anyone
// behind the same address can use the budget up for everyone else.
import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyRequest } from 'fastify'
import t from 'tap'
import { FORM, form } from '../helpers/index.js'
import { asUser, headerUser } from '../helpers/authorize.js'
import { buildDeviceApp, createDeviceApplication, deviceCode, enterCode, getPage, pageForm, postForm } from '../device/support.js'

const SHARED = '10.6.0.1'

t.test('DEV-2 the device page\'s per-address budget (20) is spent by wrong codes only: anonymous posts, stale forms and right codes from the same address leave it whole', async (t) => {
  const app = await buildDeviceApp(t)
  const tv = await createDeviceApplication(app)

  // Someone behind the address posts the form without logging in, as often as the page lets them.
  const form0 = pageForm(await getPage(app, '/o/device/', { ip: SHARED }))
  for (let i = 0; i < 10; i++) {
    await app.inject({ method: 'POST', url: '/o/device/', remoteAddress: SHARED, headers: { ...FORM, cookie: form0.cookie }, payload: form({ csrf_token: form0.csrfToken, user_code: 'BCDF-GHJK' }) })
  }
  // Logged-in users post forms with a stale CSRF token.
  for (let i = 0; i < 10; i++) {
    const stale = await app.inject({ method: 'POST', url: '/o/device/', remoteAddress: SHARED, headers: asUser(`stale-${i}`, FORM), payload: form({ csrf_token: 'stale', user_code: 'BCDF-GHJK' }) })
    t.equal(stale.statusCode, 403, 'a stale form is refused')
  }
  // Thirty people link their TVs.
  for (let i = 0; i < 30; i++) {
    const { user_code: userCode } = await deviceCode(app, tv)
    const entered = await enterCode(app, userCode, { user: `viewer-${i}`, ip: SHARED })
    t.equal(entered.statusCode, 302, `viewer ${i}: the right code is accepted`)
  }
  // Guesses are still limited per address: 20 wrong codes from several accounts, then refused.
  const guesses: number[] = []
  for (let i = 0; i < 22; i++) guesses.push((await enterCode(app, 'BCDF-GHJK', { user: `guesser-${i % 5}-${Math.floor(i / 5)}`, ip: SHARED })).statusCode)
  t.same(guesses, [...Array(20).fill(400), 429, 429], 'wrong codes from one address: refused from the 21st')
  const { user_code: late } = await deviceCode(app, tv)
  t.equal((await enterCode(app, late, { user: 'viewer-late', ip: SHARED })).statusCode, 429, 'then the address is refused, the right code included (no oracle)')
  t.equal((await enterCode(app, late, { user: 'viewer-late', ip: '10.6.0.2' })).statusCode, 302, 'another address is not')
})

t.test('DEV-2 guesses sent all at once from one address still stop at its budget', async (t) => {
  // A login check that takes a moment (a session store over the network): the entries overlap.
  const app = await buildDeviceApp(t, { resolveUser: async (request: FastifyRequest) => { await sleep(5); return headerUser(request) } })
  const forms = []
  for (let i = 0; i < 40; i++) forms.push({ user: `racer-${i}`, form: pageForm(await getPage(app, '/o/device/', { user: `racer-${i}`, ip: SHARED })) })
  const answers = await Promise.all(forms.map(async ({ user, form }) => (await postForm(app, form, { user_code: 'BCDF-GHJK' }, { user, ip: SHARED })).statusCode))
  t.equal(answers.filter((s) => s === 400).length, 20, 'twenty wrong codes checked')
  t.equal(answers.filter((s) => s === 429).length, 20, 'the rest refused')
})
