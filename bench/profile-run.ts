// `--profile`: a fresh server under --cpu-prof, scenario 1's protected-route load, and its hottest functions.
import { copyFileSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startServer } from './children.js'
import { runLoad } from './load.js'
import { summarizeProfile, type HotFunction } from './profile.js'
import type { Sizes } from './scenarios.js'
import { accessTokenValue } from './seed.js'

/** Where the profile went and what it says. */
export interface ProfileSummary {
  readonly file: string
  readonly top: readonly HotFunction[]
}

/** Profiles a server on `database` while it serves `GET /api/hello` with random valid tokens. */
export async function profileProtectedRoute (database: string, sizes: Sizes, startedAt: Date): Promise<ProfileSummary> {
  const dir = mkdtempSync(join(tmpdir(), 'oat-profile-'))
  const server = await startServer('profile', ['app', database], ['--cpu-prof', `--cpu-prof-dir=${dir}`])
  try {
    await runLoad({
      name: 'profiled GET /api/hello',
      origin: server.url,
      path: '/api/hello',
      vary: (r) => { r.headers = { ...r.headers, authorization: `Bearer ${accessTokenValue('main', Math.floor(Math.random() * sizes.smallTokens))}` } },
    }, { connections: sizes.connections, duration: Math.max(5, sizes.rounds * sizes.roundSeconds) })
  } finally {
    await server.stop() // the profile is written as the process exits
  }
  // The main thread's profile is the largest (tsx's loader thread writes a small one too).
  const [largest] = readdirSync(dir).map((f) => join(dir, f)).sort((a, b) => statSync(b).size - statSync(a).size)
  if (largest === undefined) throw new Error('no CPU profile was written')
  const file = fileURLToPath(new URL(`./results/${startedAt.toISOString().replace(/[:.]/g, '-')}.cpuprofile`, import.meta.url))
  copyFileSync(largest, file)
  rmSync(dir, { recursive: true, force: true })
  return { file, top: summarizeProfile(file, 20) }
}
