import type { EventEmitter } from 'node:events'
import type { Clock } from '../clock.js'
import type { ToolkitEventMap } from '../context.js'
import type { SecretHasher } from '../tokens/secret-hasher.js'
import { booleanOption, CliUsageError, parseCommandArgs, stringOption, type OptionSpecs, type OptionValues } from './args.js'

/** The program name, as installed by package.json's `bin`. */
export const PROGRAM = 'fastify-oauth-toolkit'

/** Exit codes: success, a runtime failure, a usage mistake. */
export const EXIT = Object.freeze({ ok: 0, failure: 1, usage: 2 } as const)

/** Somewhere text can be written (a process stream, or a buffer in tests). */
export interface TextSink {
  write (chunk: string): unknown
}

/** The outside world of one CLI run, injected so that tests can run it in-process. */
export interface CliIo {
  readonly stdout: TextSink
  readonly stderr: TextSink
  /** Environment variables (`DATABASE_URL`). */
  readonly env: Readonly<Record<string, string | undefined>>
}

/** Optional dependencies, for tests and embedding: the clock and the secret hasher of the server the CLI builds. */
export interface CliDeps {
  readonly clock?: Clock
  readonly hasher?: SecretHasher
  /**
   * Called with the events of the server the CLI builds, before it does anything: a program that
   * runs the CLI in its own process (`runCli`) subscribes here, to log `clientRegistered` (source `cli`).
   */
  readonly listen?: (events: EventEmitter<ToolkitEventMap>) => void
}

/** What a command runs with. */
export interface CommandContext {
  readonly io: CliIo
  readonly deps: CliDeps
}

/** A positional argument, documented in help. */
export interface PositionalSpec {
  readonly name: string
  readonly description: string
}

/** How a command is declared: its help text, its arguments, and what it does. */
export interface CommandDefinition<S extends OptionSpecs> {
  readonly name: string
  /** One line for the top-level help. */
  readonly summary: string
  /** Paragraphs shown in the command's help after the usage line. */
  readonly description: string
  /** Required, in order; the command takes exactly these. */
  readonly positionals: readonly PositionalSpec[]
  readonly options: S
  run (args: { values: OptionValues<S>, positionals: readonly string[] }, ctx: CommandContext): Promise<number>
}

/** A runnable command. */
export interface Command {
  readonly name: string
  readonly summary: string
  help (): string
  /** Parses `argv` (the words after the command name) and runs; resolves to the exit code. */
  execute (argv: readonly string[], ctx: CommandContext): Promise<number>
}

/** `--help` / `-h`, accepted by every command. */
export const HELP_OPTION = booleanOption('Show this help and exit', 'h')

/** `--database`, accepted by every command that opens the database. */
export const DATABASE_OPTION = stringOption('path|url', 'SQLite file path, sqlite:<path> or file:<path>; or postgres://user@host/db (default: $DATABASE_URL)')

/** `--settings`, for commands whose behaviour depends on the toolkit settings. */
export const SETTINGS_OPTION = stringOption('file', 'JSON file of toolkit settings, e.g. {"refreshTokenExpireSeconds": 86400} (default: DOT\'s defaults)')

/** Turns a declaration into a command: argument parsing, arity check and `--help` included. */
export function defineCommand<S extends OptionSpecs> (def: CommandDefinition<S>): Command {
  const help = (): string => formatHelp(def)
  return {
    name: def.name,
    summary: def.summary,
    help,
    async execute (argv, ctx) {
      const parsed = parseCommandArgs(def.name, argv, def.options)
      if (parsed.help) {
        ctx.io.stdout.write(help())
        return EXIT.ok
      }
      const missing = def.positionals[parsed.positionals.length]
      if (missing !== undefined) throw new CliUsageError(`missing argument <${missing.name}>`, def.name)
      const extra = parsed.positionals[def.positionals.length]
      if (extra !== undefined) throw new CliUsageError(`unexpected argument '${extra}'`, def.name)
      return await def.run(parsed, ctx)
    },
  }
}

function formatHelp<S extends OptionSpecs> (def: CommandDefinition<S>): string {
  const args = def.positionals.map((p) => ` <${p.name}>`).join('')
  const lines = [`Usage: ${PROGRAM} ${def.name}${args} [options]`, '', def.description, '']
  if (def.positionals.length > 0) {
    lines.push('Arguments:', ...table(def.positionals.map((p) => [p.name, p.description])), '')
  }
  const options = Object.entries(def.options).map(([name, spec]): [string, string] => {
    if (spec.type === 'string') return [`--${name} <${spec.valueName}>`, spec.description]
    return [spec.short === undefined ? `--${name}` : `-${spec.short}, --${name}`, spec.description]
  })
  lines.push('Options:', ...table(options), '')
  return lines.join('\n')
}

/** Two aligned columns, indented by two spaces. */
export function table (rows: ReadonlyArray<readonly [string, string]>): string[] {
  const width = Math.max(...rows.map(([left]) => left.length))
  return rows.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`)
}
