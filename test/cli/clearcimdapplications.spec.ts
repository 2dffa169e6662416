import t from 'tap'
import type { Store } from '../../lib/store/types.js'
import { tokenChecksum } from '../../lib/tokens/checksum.js'
import { clockAt, cli, migratedDatabase, withStore } from './helpers.js'

const NOW = new Date('2026-06-01T12:00:00.000Z')
const clock = clockAt(NOW.toISOString())
const at = (seconds: number): Date => new Date(NOW.getTime() + seconds * 1000)

/** A client ID metadata document application whose document goes stale at `expiresAt`. */
async function cimdApplication (store: Store, name: string, expiresAt: Date): Promise<number> {
  const app = await store.createApplication({
    clientId: `https://${name}.example/client.json`,
    clientSecretHash: '',
    clientType: 'public',
    authorizationGrantType: 'authorization-code',
    redirectUris: ['https://a.example/cb'],
    postLogoutRedirectUris: [],
    allowedOrigins: [],
    name,
    userId: null,
    skipAuthorization: false,
    algorithm: '',
    selfRegistered: true,
    cimdExpiresAt: expiresAt,
    now: at(-7200),
  })
  return app.id
}

/** Three stale document clients (one holding a live token), one fresh, one ordinary application. */
async function seeded (dir: string): Promise<string> {
  const path = await migratedDatabase(dir)
  await withStore(path, async (store) => {
    await cimdApplication(store, 'stale-a', at(-60))
    await cimdApplication(store, 'stale-b', at(-60))
    const busy = await cimdApplication(store, 'busy', at(-60))
    await store.issueTokens({
      accessToken: { checksum: tokenChecksum('live'), applicationId: busy, userId: 'u1', scope: 'read', expiresAt: at(3600), tokenFamily: null, grantId: null, resource: '' },
      refreshToken: null,
      now: at(-10),
    })
    await cimdApplication(store, 'fresh', at(600))
    await store.createApplication({
      clientId: 'ordinary',
      clientSecretHash: '',
      clientType: 'public',
      authorizationGrantType: 'authorization-code',
      redirectUris: ['https://a.example/cb'],
      postLogoutRedirectUris: [],
      allowedOrigins: [],
      name: 'Ordinary',
      userId: null,
      skipAuthorization: false,
      algorithm: '',
      now: at(-7200),
    })
  })
  return path
}

async function remaining (path: string): Promise<string[]> {
  return await withStore(path, async (store) => (await store.listApplications()).map((a) => a.name).sort())
}

t.test('clearcimdapplications deletes stale document clients without live tokens, and nothing else', async (t) => {
  const path = await seeded(t.testdir())
  t.same(await cli(['clearcimdapplications', '--database', path], { clock }), {
    code: 0,
    stdout: `Deleted 2 stale client ID metadata document applications from ${path}.\n`,
    stderr: '',
  })
  t.same(await remaining(path), ['Ordinary', 'busy', 'fresh'])
  t.same(await cli(['clearcimdapplications', '--database', path, '--json'], { clock }), { code: 0, stdout: '{"applications":0}\n', stderr: '' }, 'a second run deletes nothing')
})

t.test('--batch-size 1 still deletes every stale one', async (t) => {
  const path = await seeded(t.testdir())
  t.same(await cli(['clearcimdapplications', '--batch-size', '1', '--json', '--database', path], { clock }), { code: 0, stdout: '{"applications":2}\n', stderr: '' })
  t.same(await remaining(path), ['Ordinary', 'busy', 'fresh'])
})

t.test('--batch-size must be a positive integer', async (t) => {
  const path = await seeded(t.testdir())
  for (const value of ['0', '-1', 'ten', '1.5', '']) {
    const r = await cli(['clearcimdapplications', `--batch-size=${value}`, '--database', path], { clock })
    t.equal(r.code, 2, `"${value}" is a usage error`)
    t.match(r.stderr, /^fastify-oauth-toolkit clearcimdapplications: /)
  }
  t.same(await remaining(path), ['Ordinary', 'busy', 'fresh', 'stale-a', 'stale-b'], 'nothing deleted')
})
