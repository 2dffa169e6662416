// `--profile [hello|token]`: a fresh server under --cpu-prof, scenario 1's protected-route load
// (`hello`, the default) or scenario 2's client_credentials load (`token`), and its hottest functions.
import { copyFileSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startServer } from './children.js'
import { prime, runLoad, type Target } from './load.js'
import { summarizeProfile, type HotFunction } from './profile.js'
import type { Sizes } from './scenarios.js'
import { accessTokenValue, type BenchClients } from './seed.js'

/** The loads `--profile` can put a profiled server under. */
export const PROFILE_SCENARIOS = ['hello', 'token'] as const
/** One of {@link PROFILE_SCENARIOS}. */
export type ProfileScenario = typeof PROFILE_SCENARIOS[number]

/** Where the profile went and what it says. */
export interface ProfileSummary {
  readonly scenario: ProfileScenario
  readonly file: string
  readonly top: readonly HotFunction[]
}

/** What each scenario's load is, described for the printed summary. */
export const PROFILE_DESCRIPTIONS: Record<ProfileScenario, string> = {
  hello: "scenario 1's load (GET /api/hello, random valid tokens)",
  token: "scenario 2's load (POST /o/token/ client_credentials, client_secret_basic)",
}

function profileTarget (scenario: ProfileScenario, origin: string, sizes: Sizes, clients: BenchClients): Target {
  if (scenario === 'token') {
    return {
      name: 'profiled POST /o/token/',
      origin,
      path: '/o/token/',
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: clients.service.basic },
      body: 'grant_type=client_credentials&scope=read',
    }
  }
  return {
    name: 'profiled GET /api/hello',
    origin,
    path: '/api/hello',
    vary: (r) => { r.headers = { ...r.headers, authorization: `Bearer ${accessTokenValue('main', Math.floor(Math.random() * sizes.smallTokens))}` } },
  }
}

/** Profiles a fresh server on `database` under the load of `scenario`. */
export async function profileScenario (scenario: ProfileScenario, database: string, sizes: Sizes, clients: BenchClients, startedAt: Date): Promise<ProfileSummary> {
  const dir = mkdtempSync(join(tmpdir(), 'oat-profile-'))
  const server = await startServer('profile', ['app', database], ['--cpu-prof', `--cpu-prof-dir=${dir}`])
  try {
    const target = profileTarget(scenario, server.url, sizes, clients)
    // The first token request of a process runs the KDF (then the verified-secret cache answers): keep it out of the load.
    await prime(target)
    await runLoad(target, { connections: sizes.connections, duration: Math.max(5, sizes.rounds * sizes.roundSeconds) })
  } finally {
    await server.stop() // the profile is written as the process exits
  }
  // The main thread's profile is the largest (tsx's loader thread writes a small one too).
  const [largest] = readdirSync(dir).map((f) => join(dir, f)).sort((a, b) => statSync(b).size - statSync(a).size)
  if (largest === undefined) throw new Error('no CPU profile was written')
  const file = fileURLToPath(new URL(`./results/${startedAt.toISOString().replace(/[:.]/g, '-')}-${scenario}.cpuprofile`, import.meta.url))
  copyFileSync(largest, file)
  rmSync(dir, { recursive: true, force: true })
  return { scenario, file, top: summarizeProfile(file, 20) }
}
