// The server process of authorize-redirects.test.ts: the example app with OPEN dynamic client
// registration and OpenID Connect, on a free loopback port, with the user alice. Not a test file.
// Usage: node --conditions=oauth-toolkit-source --import tsx authorize-redirects-server.ts <sqlite file>
// (the test starts it with the suite's own loader, test/helpers/loader.ts, instead of tsx)
import { generateKeyPairSync } from 'node:crypto'
import { buildExampleApp } from '../../example-app/app.js'
import { openUserStore } from '../../example-app/users.js'

const database = process.argv[2]
if (database === undefined) throw new Error('usage: authorize-redirects-server.ts <sqlite file>')
const app = await buildExampleApp({
  databasePath: database,
  secret: 'authorize-redirects-session-secret-0123456789',
  oidcPrivateKey: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  settings: { dcrEnabled: true, dcrRegistrationPolicy: 'open', rateLimitFailures: null },
})
await app.ready()
const users = await openUserStore(database)
await users.create('alice', 'wonderland')
await users.close()
process.once('SIGTERM', () => { app.close().then(() => process.exit(0), () => process.exit(1)) })
await app.listen({ host: '127.0.0.1', port: 0 })
const address = app.server.address()
if (address === null || typeof address === 'string') throw new Error('no TCP address')
process.stdout.write(JSON.stringify({ port: address.port }) + '\n')
