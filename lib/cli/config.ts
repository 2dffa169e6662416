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
  return resolveSettings(file === undefined ? {} : readSettingsFile(file))
}

/** The parsed, unvalidated content of a `--settings` JSON file; a missing file or bad JSON is a CLI error. */
export function readSettingsFile (file: string): unknown {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw new CliError(`cannot read settings file "${file}": ${(err as Error).message}`)
  }
  try {
    return JSON.parse(text)
  } catch (err) {
    throw new CliError(`settings file "${file}" is not valid JSON: ${(err as Error).message}`)
  }
}

/** The environment variable holding the client-secret sealing key for the CLI (the plugin's `clientSecretSealingKey`). */
export const SEALING_KEY_ENV = 'OAT_CLIENT_SECRET_SEALING_KEY'

/**
 * An authorization server over `store` for administrative work (it never serves requests). The
 * client-secret sealing key, needed to register HS256 applications, comes from the environment
 * (`OAT_CLIENT_SECRET_SEALING_KEY`), never from a settings file or an argument (both end up in
 * shell histories and logs).
 */
export function adminServer (store: Store, settings: Settings, deps: CliDeps, env: Readonly<Record<string, string | undefined>> = {}): OAuthServer {
  const sealingKey = env[SEALING_KEY_ENV]
  const server = createOAuthServer({
    store,
    settings,
    ...(sealingKey === undefined || sealingKey === '' ? {} : { clientSecretSealingKey: sealingKey }),
    ...(deps.clock === undefined ? {} : { clock: deps.clock }),
    ...(deps.hasher === undefined ? {} : { hasher: deps.hasher }),
    // The CLI never runs the password grant, but a settings file that enables it must still load.
    verifyUserCredentials: async () => null,
  })
  deps.listen?.(server.events)
  return server
}
