// Type-level checks of checkDeployment. Compiled by `tsc --noEmit -p .`; never run.
import Fastify from 'fastify'
import { checkDeployment, type DeploymentCheckResult, type SettingsInput } from 'fastify-oauth-toolkit'

/** A host gates its own deploy on the same options it gives the plugin, and the trustProxy it gives Fastify. */
export async function gate (settings: SettingsInput): Promise<boolean> {
  const trustProxy = '10.0.0.1'
  Fastify({ trustProxy })
  const result: DeploymentCheckResult = await checkDeployment({ settings, database: 'oauth.sqlite3', secret: 'x'.repeat(32), trustProxy })
  const lines = result.problems.map((problem) => {
    const level: 'error' | 'warning' = problem.level
    const id: `oauth.${'E' | 'W'}${string}` = problem.id
    return `${level} ${id}: ${problem.message} (${problem.hint})`
  })
  return result.errors === 0 && lines.length >= 0
}

// @ts-expect-error: the result is read-only.
export const mutated = (result: DeploymentCheckResult): void => { result.errors = 0 }

// @ts-expect-error: settings are checked as the plugin takes them.
export const wrong = checkDeployment({ settings: { issuer: 42 } })
