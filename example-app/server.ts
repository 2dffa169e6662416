// Starts the example app: `npm start` from the repository root.
import { buildExampleApp } from './app.js'
import { exampleDatabase, exampleOidcKey } from './paths.js'

const host = process.env.HOST ?? '127.0.0.1'
const port = Number(process.env.PORT ?? 8000)

const secret = process.env.SESSION_SECRET
if (secret !== undefined && secret.length < 32) throw new Error('SESSION_SECRET must be at least 32 characters')
// The same variable the CLI reads, so `createapplication --algorithm HS256` and the server agree.
const sealingKey = process.env.OAT_CLIENT_SECRET_SEALING_KEY
const app = await buildExampleApp({
  databasePath: exampleDatabase(),
  logger: true,
  oidcPrivateKey: exampleOidcKey(),
  ...(secret === undefined ? {} : { secret }),
  ...(sealingKey === undefined || sealingKey === '' ? {} : { clientSecretSealingKey: sealingKey }),
})
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => { app.close().then(() => process.exit(0), () => process.exit(1)) })
}
await app.listen({ host, port })
