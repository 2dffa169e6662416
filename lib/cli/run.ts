import { ImproperlyConfiguredError } from '../errors.js'
import { CliError, CliUsageError } from './args.js'
import { EXIT, PROGRAM, table, type CliDeps, type CliIo, type Command, type CommandContext } from './command.js'
import { checkCommand } from './commands/check.js'
import { clearCimdApplicationsCommand } from './commands/clearcimdapplications.js'
import { clearTokensCommand } from './commands/cleartokens.js'
import { createApplicationCommand } from './commands/createapplication.js'
import { generateKeyCommand } from './commands/generatekey.js'
import { migrateCommand } from './commands/migrate.js'
import { packageVersion } from './version.js'

export { EXIT, type CliDeps, type CliIo, type TextSink } from './command.js'

const COMMANDS: readonly Command[] = [migrateCommand, createApplicationCommand, clearTokensCommand, clearCimdApplicationsCommand, generateKeyCommand, checkCommand]

function topLevelHelp (): string {
  return [
    `Usage: ${PROGRAM} <command> [options]`,
    '',
    'Manage the database and the applications of a fastify-oauth-toolkit authorization server',
    '(the counterpart of Django OAuth Toolkit\'s management commands).',
    '',
    'Commands:',
    ...table(COMMANDS.map((c) => [c.name, c.summary])),
    '',
    'Options:',
    ...table([['-h, --help', 'Show this help and exit'], ['--version', 'Print the version and exit']]),
    '',
    'The database is named by --database <path|url> or by the DATABASE_URL environment',
    'variable: a SQLite file path (or a sqlite:/file: URL), or a postgres:// URL. Run a',
    'command with --help to see its arguments and options.',
    '',
  ].join('\n')
}

/** Runs the command named first in `argv`, and lets usage errors escape as `CliUsageError`. */
async function dispatch (argv: readonly string[], ctx: CommandContext): Promise<number> {
  const [first, ...rest] = argv
  if (first === undefined) {
    ctx.io.stderr.write(topLevelHelp())
    return EXIT.usage
  }
  if (first === '--help' || first === '-h' || first === 'help') {
    const topic = first === 'help' ? rest[0] : undefined
    const command = COMMANDS.find((c) => c.name === topic)
    if (topic !== undefined && command === undefined) throw new CliUsageError(`unknown command '${topic}'`)
    ctx.io.stdout.write(command === undefined ? topLevelHelp() : command.help())
    return EXIT.ok
  }
  if (first === '--version') {
    ctx.io.stdout.write(`${packageVersion()}\n`)
    return EXIT.ok
  }
  if (first.startsWith('-')) throw new CliUsageError(`unknown option '${first}' (options go after the command)`)
  const command = COMMANDS.find((c) => c.name === first)
  if (command === undefined) throw new CliUsageError(`unknown command '${first}'; commands: ${COMMANDS.map((c) => c.name).join(', ')}`)
  return await command.execute(rest, ctx)
}

/** Our own errors already say "fastify-oauth-toolkit: ..."; do not say it twice. */
function withoutPrefix (message: string): string {
  return message.startsWith(`${PROGRAM}: `) ? message.slice(PROGRAM.length + 2) : message
}

/**
 * Runs the `fastify-oauth-toolkit` command line and resolves to the exit code: 0 on success,
 * 2 for a usage mistake (unknown command or option, missing argument, invalid value), 1 for
 * a failure while working (database, settings). Errors are one or a few lines on stderr,
 * never a stack trace.
 * @param argv the arguments after the program name.
 * @example
 * process.exitCode = await runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env })
 */
export async function runCli (argv: readonly string[], io: CliIo, deps: CliDeps = {}): Promise<number> {
  const commandName = COMMANDS.find((c) => c.name === argv[0])?.name
  const prefix = commandName === undefined ? PROGRAM : `${PROGRAM} ${commandName}`
  try {
    return await dispatch(argv, { io, deps })
  } catch (err) {
    if (err instanceof CliUsageError) {
      const help = err.command === undefined ? `${PROGRAM} --help` : `${PROGRAM} ${err.command} --help`
      io.stderr.write(`${prefix}: ${err.message}\nRun '${help}' for usage.\n`)
      return EXIT.usage
    }
    if (err instanceof CliError || err instanceof ImproperlyConfiguredError) {
      io.stderr.write(`${prefix}: ${withoutPrefix(err.message)}\n`)
      return EXIT.failure
    }
    // Anything else is unexpected (a bug, or an I/O failure): say what it was, without a stack.
    const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err)
    io.stderr.write(`${prefix}: unexpected error: ${message}\n`)
    return EXIT.failure
  }
}
