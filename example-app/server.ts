// Starts the example app: `npm start` from the repository root.
import { buildExampleApp } from './app.js'
import { exampleDatabase, exampleOidcKey } from './paths.js'

const host = process.env.HOST ?? '127.0.0.1'
const port = Number(process.env.PORT ?? 8000)

/**
 * The issuer clients see: ISSUER, else this server's own loopback address (the routes are under
 * /o). It is fixed at start, never read from a request's Host header, so a forged Host cannot
 * change discovery, the ID token `iss` or the device `verification_uri`. Listening beyond
 * loopback needs ISSUER: the server cannot know the public URL clients reach it at.
 */
function exampleIssuer (): string {
  const configured = process.env.ISSUER
  if (configured !== undefined && configured !== '') return configured
  const loopback = new Map([['127.0.0.1', '127.0.0.1'], ['localhost', 'localhost'], ['::1', '[::1]'], ['[::1]', '[::1]']])
  const name = loopback.get(host)
  if (name === undefined) throw new Error(`HOST=${host} is not a loopback address: set ISSUER to the public URL of the routes, e.g. ISSUER=https://auth.example.com/o`)
  return `http://${name}:${port}/o`
}

const secret = process.env.SESSION_SECRET
if (secret !== undefined && secret.length < 32) throw new Error('SESSION_SECRET must be at least 32 characters')
// The same variable the CLI reads, so `createapplication --algorithm HS256` and the server agree.
const sealingKey = process.env.OAT_CLIENT_SECRET_SEALING_KEY
const app = await buildExampleApp({
  databasePath: exampleDatabase(),
  issuer: exampleIssuer(),
  logger: true,
  oidcPrivateKey: exampleOidcKey(),
  ...(secret === undefined ? {} : { secret }),
  ...(sealingKey === undefined || sealingKey === '' ? {} : { clientSecretSealingKey: sealingKey }),
})
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => { app.close().then(() => process.exit(0), () => process.exit(1)) })
}
await app.listen({ host, port })
