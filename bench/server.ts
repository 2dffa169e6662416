// The benchmark's server process: `server.ts app <database> [settings JSON] [tuning JSON]` serves the example app plus the
// baselines of the same process; `server.ts bare` serves a bare Fastify app (the RSS baseline).
// It listens on a free loopback port and prints `{"port":…}` on stdout once ready.
import Fastify, { type FastifyInstance } from 'fastify'
import { buildExampleApp, HelloView } from '../example-app/app.js'
import type { SettingsInput } from '../index.js'
import { BARE_HELLO_PATH, FORM_ECHO_PATH, type ServerTuning } from './routes.js'

async function buildApp (mode: string, database: string | undefined, settings: SettingsInput, tuning: ServerTuning): Promise<FastifyInstance> {
  if (mode === 'bare') {
    // A bare Fastify server with the same handler: what "no protection at all" costs in memory.
    const app = Fastify({ logger: false })
    const view = new HelloView()
    app.get('/api/hello', async () => await view.get())
    return app
  }
  if (mode !== 'app' || database === undefined) throw new Error('usage: server.ts app <database> | server.ts bare')
  const app = await buildExampleApp({ databasePath: database, logger: false, secret: 'bench-session-secret-0123456789abcdef', settings, ...tuning })
  // The same handler as /api/hello without the onRequest token check.
  const view = new HelloView()
  app.get(BARE_HELLO_PATH, async () => await view.get())
  // The example app parses forms at its root (@fastify/formbody), as the token endpoint does.
  app.post(FORM_ECHO_PATH, async (request) => request.body)
  return app
}

const app = await buildApp(process.argv[2] ?? '', process.argv[3], JSON.parse(process.argv[4] ?? '{}') as SettingsInput,
  JSON.parse(process.argv[5] ?? '{}') as ServerTuning)
process.once('SIGTERM', () => { app.close().then(() => process.exit(0), () => process.exit(1)) })
await app.listen({ host: '127.0.0.1', port: 0 })
const address = app.server.address()
if (address === null || typeof address === 'string') throw new Error('no TCP address')
process.stdout.write(JSON.stringify({ port: address.port }) + '\n')
