import { addSeconds, systemClock, type Clock } from '../clock.js'
import { ImproperlyConfiguredError } from '../errors.js'
import { rejectUnknownKeys, type OptionNames } from '../option-keys.js'
import { resolveSettings, type Settings, type SettingsInput } from '../settings.js'
import type { DatabaseOption } from '../store/connection.js'
import { inspectDatabase, type DatabaseInspection } from '../store/inspection.js'
import { loadSigningKeys, type OidcKeyOptions } from '../tokens/signing-keys.js'
import { isCheckId, type CheckId } from './catalogue.js'
import { problem, settingsProblems, type DeploymentProblem } from './settings-checks.js'

/**
 * Rows expired longer ago than this are a sign that `cleartokens` does not run: a daily run
 * leaves none. Nothing in the database records its runs, so the check counts such rows instead.
 */
const STALE_AFTER_SECONDS = 24 * 3600

/** How many stale rows make a warning: a few can be a run that failed once, this many are a habit. */
const STALE_ROWS_THRESHOLD = 100

/** What `checkDeployment` looks at: the options you give the plugin, and Fastify's `trustProxy`. */
export interface DeploymentCheckOptions {
  /** The plugin's `settings`. An invalid one is reported as `oauth.E001`, not thrown. */
  readonly settings?: SettingsInput | undefined
  /**
   * The plugin's `database` (path, URL, better-sqlite3 database or `pg.Pool`; for a `store` you
   * built, the database it runs on); without it the database checks do not run.
   */
  readonly database?: DatabaseOption | undefined
  /** The plugin's `migrate` option: `true` applies pending migrations at start, so a database that lacks them (or a SQLite file not yet created) is no problem. */
  readonly migrate?: boolean | undefined
  /** The plugin's `oidc` option: the signing keys are loaded and judged as the plugin would. */
  readonly oidc?: OidcKeyOptions | undefined
  /** The plugin's `secret` option (the toolkit's CSRF key). */
  readonly secret?: string | undefined
  /** The `trustProxy` option you give `Fastify()` (`true`, an address list, a hop count or a function). */
  readonly trustProxy?: unknown
  /** Ids not to report, besides the `silencedChecks` setting (e.g. `['oauth.W002']`). */
  readonly silence?: readonly string[] | undefined
  /** Time source (tests). */
  readonly clock?: Clock | undefined
}

/** What the deployment checks found. */
export interface DeploymentCheckResult {
  /** The problems reported, errors first, each in id order. */
  readonly problems: readonly DeploymentProblem[]
  /** The problems found but silenced (the `silencedChecks` setting or the `silence` option). */
  readonly silenced: readonly DeploymentProblem[]
  /** How many of `problems` are errors: a deploy should stop when it is not 0. */
  readonly errors: number
  readonly warnings: number
}

/** What the caller can vouch for: the CLI sees settings, the database and a key file, not the host's other options. */
export interface CheckScope {
  /** `secret` and `trustProxy` are the host's real options (checked), not merely absent (skipped). */
  readonly hostOptions: boolean
}

function databaseProblems (found: DatabaseInspection, threshold: number, migratesAtStart: boolean): DeploymentProblem[] {
  if (migratesAtStart && (found.kind === 'missing' || (found.kind === 'read' && found.expired === null))) return []
  if (found.kind === 'missing') return [problem('oauth.E003', `The database "${found.name}" does not exist.`)]
  if (found.kind === 'unreadable') return [problem('oauth.E004', `Cannot read the database "${found.name}": ${found.reason}`)]
  if (!found.migrated) return [problem('oauth.E003', `The database "${found.name}" has none of the toolkit's tables (it was never migrated).`)]
  if (found.pending > 0) return [problem('oauth.E003', `The database "${found.name}" lacks ${found.pending} migration(s) of this version; the server refuses to start on it.`)]
  const expired = found.expired
  if (expired === null) return []
  const total = expired.accessTokens + expired.grants + expired.deviceGrants
  if (total < threshold) return []
  const tables = [`access tokens: ${expired.accessTokens}`, `authorization codes: ${expired.grants}`, `device codes: ${expired.deviceGrants}`]
  return [problem('oauth.W013', `Expired tokens are not being cleared: at least ${total} rows expired more than ${STALE_AFTER_SECONDS / 3600} hours ago (${tables.join(', ')}; counted up to ${threshold} per table). ` +
    'The database keeps no record of cleartokens runs, so this counts what a regular run would have removed.')]
}

async function keyProblems (settings: Settings, oidc: OidcKeyOptions | undefined, scope: CheckScope): Promise<DeploymentProblem[]> {
  if (oidc === undefined) {
    if (!settings.oidcEnabled) return []
    return [problem('oauth.E005', scope.hostOptions
      ? 'OpenID Connect is on (oidcEnabled) but there is no signing key (the `oidc: { privateKey }` option): the plugin refuses to start.'
      : 'OpenID Connect is on (oidcEnabled) but no signing key was given to the check (--oidc-key <file>), so it cannot tell whether the server has a usable one.')]
  }
  try {
    await loadSigningKeys(oidc)
    return []
  } catch (err) {
    if (!(err instanceof ImproperlyConfiguredError)) throw err
    return [problem('oauth.E006', `The OpenID Connect signing key is unusable: ${err.message.replace(/^fastify-oauth-toolkit: oidc: /, '')}.`)]
  }
}

function hostOptionProblems (options: Pick<DeploymentCheckOptions, 'secret' | 'trustProxy'>): DeploymentProblem[] {
  const found: DeploymentProblem[] = []
  if (options.secret === undefined) {
    found.push(problem('oauth.W014', 'The plugin has no `secret`, so its CSRF key is drawn per process: a consent or device page served by one instance fails when posted to another, and every restart voids open forms.'))
  }
  if (options.trustProxy === true) {
    found.push(problem('oauth.W015', 'Fastify trusts every proxy hop (trustProxy: true): a client that reaches the app directly chooses its own address (X-Forwarded-For) and so escapes the per-address rate limits, and its own scheme and host.'))
  }
  return found
}

/** A sentence from a message that starts in lower case ("invalid settings: …"). */
function capitalized (text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1)
}

const ORDER = (a: DeploymentProblem, b: DeploymentProblem): number =>
  a.level === b.level ? (a.id < b.id ? -1 : a.id > b.id ? 1 : 0) : a.level === 'error' ? -1 : 1

/** Runs every check within `scope`; `settingsInput` is unvalidated (the CLI's JSON file). */
export async function runDeploymentChecks (options: Omit<DeploymentCheckOptions, 'settings'> & { readonly settings?: unknown }, scope: CheckScope): Promise<DeploymentCheckResult> {
  const found: DeploymentProblem[] = []
  let settings: Settings | null = null
  try {
    settings = resolveSettings(options.settings === undefined ? {} : options.settings)
  } catch (err) {
    if (!(err instanceof ImproperlyConfiguredError)) throw err
    found.push(problem('oauth.E001', `${capitalized(err.message.replace(/^fastify-oauth-toolkit: /, ''))}.`))
  }
  const trustProxy = scope.hostOptions && options.trustProxy !== undefined && options.trustProxy !== false
  if (settings !== null) {
    found.push(...settingsProblems(settings, trustProxy), ...await keyProblems(settings, options.oidc, scope))
  }
  if (scope.hostOptions) found.push(...hostOptionProblems(options))
  if (options.database !== undefined) {
    const now = (options.clock ?? systemClock).now()
    const inspection = await inspectDatabase(options.database, { before: addSeconds(now, -STALE_AFTER_SECONDS), limit: STALE_ROWS_THRESHOLD })
    found.push(...databaseProblems(inspection, STALE_ROWS_THRESHOLD, options.migrate === true))
  }
  const quiet = new Set<CheckId>([...(settings?.silencedChecks ?? []), ...(options.silence ?? [])].filter(isCheckId))
  const problems = found.filter((p) => !quiet.has(p.id)).sort(ORDER)
  return {
    problems,
    silenced: found.filter((p) => quiet.has(p.id)).sort(ORDER),
    errors: problems.filter((p) => p.level === 'error').length,
    warnings: problems.filter((p) => p.level === 'warning').length,
  }
}

const OPTION_NAMES: OptionNames<DeploymentCheckOptions> = { settings: true, database: true, migrate: true, oidc: true, secret: true, trustProxy: true, silence: true, clock: true }

/**
 * Django-style deployment checks (DOT 3.4's `check --deploy`): reads the settings, the signing
 * keys and the database as the plugin would be given them, and reports each problem with a stable
 * id (`oauth.E…` errors, `oauth.W…` warnings), a message and a hint. The same checks as
 * `fastify-oauth-toolkit check`, which in addition cannot see `secret` and `trustProxy`. It
 * never changes the database; it throws only for an unknown id in `silence`.
 * @example
 * const result = await checkDeployment({ settings, database: process.env.DATABASE_URL, oidc: { privateKey }, secret })
 * if (result.errors > 0) throw new Error(result.problems.map((p) => `${p.id}: ${p.message}`).join('\n'))
 */
export async function checkDeployment (options: DeploymentCheckOptions = {}): Promise<DeploymentCheckResult> {
  // A misspelt option (`sercet`) would skip its check in silence, and the deploy pass.
  rejectUnknownKeys('checkDeployment', options, Object.keys(OPTION_NAMES))
  const unknown = (options.silence ?? []).find((id) => !isCheckId(id))
  if (unknown !== undefined) throw new ImproperlyConfiguredError('OAT_ERR_OPTIONS', `fastify-oauth-toolkit: checkDeployment: "${unknown}" is not a deployment check id (e.g. "oauth.W007")`)
  return await runDeploymentChecks(options, { hostOptions: true })
}
