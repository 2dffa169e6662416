import { readFileSync } from 'node:fs'
import { createOAuthServer, type OAuthServer } from '../server.js'
import { resolveSettings, type Settings } from '../settings.js'
import type { Store } from '../store/types.js'
import { CliError } from './args.js'
import type { CliDeps } from './command.js'

/**
 * The settings from a `--settings` JSON file, validated by `resolveSettings` (so a bad key
 * fails with its `ImproperlyConfiguredError` message); DOT's defaults when no file is given.
 */
export function loadSettings (file: string | undefined): Settings {
  if (file === undefined) return resolveSettings({})
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw new CliError(`cannot read settings file "${file}": ${(err as Error).message}`)
  }
  let input: unknown
  try {
    input = JSON.parse(text)
  } catch (err) {
    throw new CliError(`settings file "${file}" is not valid JSON: ${(err as Error).message}`)
  }
  return resolveSettings(input)
}

/** An authorization server over `store` for administrative work (it never serves requests). */
export function adminServer (store: Store, settings: Settings, deps: CliDeps): OAuthServer {
  return createOAuthServer({
    store,
    settings,
    ...(deps.clock === undefined ? {} : { clock: deps.clock }),
    ...(deps.hasher === undefined ? {} : { hasher: deps.hasher }),
    // The CLI never runs the password grant, but a settings file that enables it must still load.
    verifyUserCredentials: async () => null,
  })
}
