// Starts the example app: `npm start` from the repository root.
import { buildExampleApp } from './app.js'
import { exampleDatabasePath } from './paths.js'

const host = process.env.HOST ?? '127.0.0.1'
const port = Number(process.env.PORT ?? 8000)

const app = await buildExampleApp({ databasePath: exampleDatabasePath(), logger: true })
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => { app.close().then(() => process.exit(0), () => process.exit(1)) })
}
await app.listen({ host, port })
