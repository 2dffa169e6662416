// Starts the example app: `npm start` from the repository root. A mistake in its environment
// (a port in use, an unreachable PostgreSQL, a file that is not a database, a bad PORT, a short
// SESSION_SECRET) is one line on stderr and exit status 1, like the CLI's; only a bug shows a
// stack trace. The environment is read and the errors explained in startup.ts.
import { buildExampleApp } from './app.js'
import { exampleAppOptions, explainStartupError, rawStartupTarget } from './startup.js'

let where = rawStartupTarget()
try {
  const { target, options } = exampleAppOptions()
  where = target
  const app = await buildExampleApp(options)
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => { app.close().then(() => process.exit(0), () => process.exit(1)) })
  }
  try {
    await app.listen({ host: target.host, port: target.port })
  } catch (err) {
    await app.close().catch(() => {})
    throw err
  }
} catch (err) {
  const line = explainStartupError(err, where)
  if (line === null) throw err
  process.stderr.write(`example-app: ${line}\n`)
  process.exit(1)
}
