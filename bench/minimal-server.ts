// The processes of the bare-process comparison, compiled with the package (bench/build.ts) and run
// with plain `node`, as a user runs the built package:
// - `minimal-server.js minimal <database> [settings JSON]`: the README's minimal app ("Using it in
//   your app"), logger off, on a SQLite file or a `postgres://` URL, plus the same-process
//   baselines: an unprotected route with the same handler and a form echo;
// - `minimal-server.js bare`: a bare Fastify app serving the same handler and a form echo, nothing else.
// It listens on a free loopback port and prints `{"port":…}` on stdout once ready.
import formbody from '@fastify/formbody'
import Fastify, { type FastifyInstance } from 'fastify'
import { fastifyOAuthToolkit, oauthRoutes, ProtectedResourceView, type SettingsInput } from '../index.js'
import { BARE_HELLO_PATH, FORM_ECHO_PATH } from './paths.js'

/** The handler every hello route serves, protected or not. */
async function hello (): Promise<string> {
  return 'Hello, OAuth2!'
}

class HelloView extends ProtectedResourceView {
  async get (): Promise<string> {
    return await hello()
  }
}

async function buildApp (mode: string, database: string | undefined, settings: SettingsInput): Promise<FastifyInstance> {
  const app = Fastify({ logger: false })
  if (mode === 'bare') {
    app.get('/api/hello', hello)
    // A form echo needs a form parser; the toolkit's routes bring @fastify/formbody too.
    await app.register(formbody)
    app.post(FORM_ECHO_PATH, async (request) => request.body)
    return app
  }
  if (mode !== 'minimal' || database === undefined) throw new Error('usage: minimal-server.js minimal <database> [settings JSON] | minimal-server.js bare')
  // The README's app, as written there (scopes, a token lifetime), on the database given.
  await app.register(fastifyOAuthToolkit, {
    database,
    migrate: true,
    settings: {
      scopes: { read: 'Read your data', write: 'Change your data' },
      accessTokenExpireSeconds: 3600,
      ...settings,
    },
  })
  await app.register(oauthRoutes, { prefix: '/o' })
  await app.register(HelloView.asView('/api/hello'))
  app.get('/api/items', { onRequest: app.oauth.protect({ scopes: ['read'] }) }, async (request) => {
    return { client: request.accessToken?.application?.name, scopes: request.accessToken?.scopes }
  })
  // Same-process baselines. A route of the host the toolkit does not protect: what registering
  // the toolkit costs it. A form echo, in a context of its own so the README's app keeps no form
  // parser at its root (the token endpoint parses forms in the routes plugin's context).
  app.get(BARE_HELLO_PATH, hello)
  await app.register(async function formEcho (echo) {
    await echo.register(formbody)
    echo.post(FORM_ECHO_PATH, async (request) => request.body)
  })
  return app
}

const app = await buildApp(process.argv[2] ?? '', process.argv[3], JSON.parse(process.argv[4] ?? '{}') as SettingsInput)
process.once('SIGTERM', () => { app.close().then(() => process.exit(0), () => process.exit(1)) })
await app.listen({ host: '127.0.0.1', port: 0 })
const address = app.server.address()
if (address === null || typeof address === 'string') throw new Error('no TCP address')
process.stdout.write(JSON.stringify({ port: address.port }) + '\n')
