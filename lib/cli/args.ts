import { parseArgs } from 'node:util'

/** A string-valued option (`--name <value>` or `--name=<value>`). */
export interface StringOptionSpec {
  readonly type: 'string'
  /** Placeholder shown in help, e.g. `path|url`. */
  readonly valueName: string
  readonly description: string
}

/** A flag (`--json`); it takes no value. */
export interface BooleanOptionSpec {
  readonly type: 'boolean'
  readonly short?: string
  readonly description: string
}

/** One option of a command. */
export type OptionSpec = StringOptionSpec | BooleanOptionSpec

/** The options a command accepts, by long name. */
export type OptionSpecs = Readonly<Record<string, OptionSpec>>

/** Parsed option values: strings for string options, `true` for flags given, absent otherwise. */
export type OptionValues<S extends OptionSpecs> = { [K in keyof S]?: S[K] extends StringOptionSpec ? string : true }

/** The outcome of parsing a command's arguments. */
export interface ParsedArgs<S extends OptionSpecs> {
  readonly values: OptionValues<S>
  readonly positionals: readonly string[]
  /** `--help` or `-h` was given: print usage and ignore everything else. */
  readonly help: boolean
}

/** A mistake in how the command was called (exit code 2). */
export class CliUsageError extends Error {
  /** The command whose `--help` the message should point to, if any. */
  readonly command: string | undefined
  constructor (message: string, command?: string) {
    super(message)
    this.name = 'CliUsageError'
    this.command = command
  }
}

/** A failure while doing the work: database, settings file, ... (exit code 1). */
export class CliError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'CliError'
  }
}

/** Declares a string option. */
export function stringOption (valueName: string, description: string): StringOptionSpec {
  return { type: 'string', valueName, description }
}

/** Declares a flag. */
export function booleanOption (description: string, short?: string): BooleanOptionSpec {
  return short === undefined ? { type: 'boolean', description } : { type: 'boolean', short, description }
}

/**
 * Parses `args` against `specs` with `node:util` `parseArgs`, in its lenient token mode so
 * that every mistake gets our own one-line message (the strict mode's wording varies between
 * Node versions): unknown options, repeated options, a missing value, a value given to a flag.
 */
export function parseCommandArgs<S extends OptionSpecs> (command: string, args: readonly string[], specs: S): ParsedArgs<S> {
  const options = Object.fromEntries(Object.entries(specs).map(([name, spec]) =>
    [name, spec.type === 'boolean' && spec.short !== undefined ? { type: spec.type, short: spec.short } : { type: spec.type }]))
  const { tokens } = parseArgs({ args: [...args], options, strict: false, allowPositionals: true, tokens: true })
  if (tokens.some((t) => t.kind === 'option' && t.name === 'help' && Object.hasOwn(specs, 'help'))) {
    return { values: {}, positionals: [], help: true }
  }
  const values: Record<string, string | true> = {}
  const positionals: string[] = []
  for (const token of tokens) {
    if (token.kind === 'positional') {
      positionals.push(token.value)
      continue
    }
    if (token.kind !== 'option') continue
    const spec = Object.hasOwn(specs, token.name) ? specs[token.name] : undefined
    if (spec === undefined) throw new CliUsageError(`unknown option '${token.rawName}'`, command)
    const long = `--${token.name}`
    if (Object.hasOwn(values, token.name)) throw new CliUsageError(`option '${long}' was given more than once`, command)
    if (spec.type === 'boolean') {
      if (token.value !== undefined) throw new CliUsageError(`option '${long}' takes no value`, command)
      values[token.name] = true
    } else {
      // Like parseArgs' strict mode: `--name --json` is a forgotten value, not a name.
      if (token.value === undefined || (!token.inlineValue && token.value.startsWith('-'))) {
        throw new CliUsageError(`option '${long} <${spec.valueName}>' needs a value (write ${long}=<value> for one starting with '-')`, command)
      }
      values[token.name] = token.value
    }
  }
  return { values: values as OptionValues<S>, positionals, help: false }
}
