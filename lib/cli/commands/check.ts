import { readFileSync } from 'node:fs'
import { isCheckId } from '../../check/catalogue.js'
import { runDeploymentChecks, type DeploymentCheckResult } from '../../check/deployment.js'
import type { DeploymentProblem } from '../../check/settings-checks.js'
import { booleanOption, CliError, CliUsageError, stringOption } from '../args.js'
import { DATABASE_OPTION, defineCommand, EXIT, HELP_OPTION, SETTINGS_OPTION } from '../command.js'
import { readSettingsFile } from '../config.js'
import { resolveDatabaseUrl } from '../database.js'

/** `--silence a,b`: known ids only, so a typo is a usage error rather than a silenced nothing. */
function parseSilence (value: string | undefined): string[] {
  if (value === undefined) return []
  const ids = value.split(',').map((id) => id.trim()).filter((id) => id !== '')
  const unknown = ids.find((id) => !isCheckId(id))
  if (unknown !== undefined) throw new CliUsageError(`'${unknown}' is not a check id (e.g. oauth.W007; see --help)`, 'check')
  return ids
}

function readKey (file: string): string {
  try {
    return readFileSync(file, 'utf8')
  } catch (err) {
    throw new CliError(`cannot read key file "${file}": ${(err as Error).message}`)
  }
}

function block (title: string, problems: readonly DeploymentProblem[]): string[] {
  if (problems.length === 0) return []
  return [`${title}:`, ...problems.flatMap((p) => [`${p.id}: ${p.message}`, `\tHINT: ${p.hint}`]), '']
}

/** Django's `check` layout: errors, then warnings, then one count line. */
function toText (result: DeploymentCheckResult): string {
  const silenced = `${result.silenced.length} silenced`
  if (result.problems.length === 0) return `System check identified no issues (${silenced}).\n`
  const n = result.problems.length
  return [
    'System check identified some issues:',
    '',
    ...block('ERRORS', result.problems.filter((p) => p.level === 'error')),
    ...block('WARNINGS', result.problems.filter((p) => p.level === 'warning')),
    `System check identified ${n} issue${n === 1 ? '' : 's'} (${silenced}).`,
    '',
  ].join('\n')
}

const LEVELS = ['error', 'warning'] as const

/** `check`: Django's `check --deploy` for the toolkit, to gate a deploy. */
export const checkCommand = defineCommand({
  name: 'check',
  summary: 'Check settings and database before a deploy (non-zero exit on errors)',
  description: 'Reports what stands between this configuration and a safe production deployment, each\n' +
    'problem with a stable id, a level, a message and a hint: an unset or http issuer, RFC 9700\n' +
    'posture (password or implicit grant, plain or optional PKCE, query-string tokens, refresh\n' +
    'token lifetime and replay detection, RFC 9207 iss), rate limits, open client registration,\n' +
    'the OpenID Connect signing key (given with --oidc-key), pending migrations, and expired\n' +
    'tokens piling up because cleartokens does not run. It changes nothing.\n' +
    'Exit code 1 when an error is found (or a warning, with --fail-level warning), else 0.\n' +
    'Silence ids with the silencedChecks setting or --silence. The plugin\'s secret and Fastify\'s\n' +
    'trustProxy are not visible here; checkDeployment() in host code checks them too.\n' +
    'Every id, with what it means, is listed in docs/deployment.md ("Deployment checks").',
  positionals: [],
  options: {
    json: booleanOption('Print the result as one JSON object on stdout: {"problems":[{"id","level","message","hint"}],"silenced":[…],"errors":n,"warnings":n}'),
    'fail-level': stringOption('error|warning', 'Lowest level that makes the exit code 1 (default: error)'),
    silence: stringOption('ids', 'Comma-separated check ids not to report, e.g. oauth.W002,oauth.W007'),
    'oidc-key': stringOption('file', 'The server\'s OpenID Connect signing key (PEM or JWK file), to check it with oidcEnabled'),
    database: DATABASE_OPTION,
    settings: SETTINGS_OPTION,
    help: HELP_OPTION,
  },
  async run ({ values }, { io, deps }) {
    const failLevel = values['fail-level'] ?? 'error'
    if (!(LEVELS as readonly string[]).includes(failLevel)) throw new CliUsageError(`option '--fail-level' must be error or warning; got '${failLevel}'`, 'check')
    const silence = parseSilence(values.silence)
    const url = resolveDatabaseUrl(values.database, io.env, 'check')
    const settings = values.settings === undefined ? {} : readSettingsFile(values.settings)
    const keyFile = values['oidc-key']
    const result = await runDeploymentChecks({
      settings,
      database: url,
      silence,
      ...(keyFile === undefined ? {} : { oidc: { privateKey: readKey(keyFile) } }),
      ...(deps.clock === undefined ? {} : { clock: deps.clock }),
    }, { hostOptions: false })
    io.stdout.write(values.json === true ? `${JSON.stringify(result)}\n` : toText(result))
    const failing = failLevel === 'warning' ? result.errors + result.warnings : result.errors
    return failing > 0 ? EXIT.failure : EXIT.ok
  },
})
