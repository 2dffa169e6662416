// The package compiled as `npm pack` ships it (tsc with tsconfig.build.json, the SQL migrations
// beside their stores), plus bench/minimal-server.ts: the bare-process comparison runs both
// processes with plain `node`, as a user runs the built package. Under tsx the toolkit's ~200
// modules would each carry tsx's transform and source map, which the bare app's few do not.
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { cpSync, existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
/** The bench's compiled entry point, beside the package's sources (tsconfig.build.json's `include`). */
const SERVER = 'bench/minimal-server.ts'
/** Where the package's sources are (as tsconfig.build.json includes them), for the build's hash. */
const SOURCES = ['index.ts', 'entries', 'lib', 'plugins', 'views']

function filesUnder (dir: string): string[] {
  if (!statSync(join(ROOT, dir)).isDirectory()) return [dir]
  return readdirSync(join(ROOT, dir), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(ROOT, join(entry.parentPath, entry.name)))
    .sort()
}

/**
 * Compiles the package and the bench's compiled servers into a folder of the temporary
 * directory named by a hash of every input (sources, tsconfigs, package.json, the TypeScript
 * version), so a second run with the same sources reuses it; returns the path of the compiled
 * `bench/minimal-server.js`. Bare imports resolve through a `node_modules` link to the repository's.
 */
export function buildMinimalServer (): string {
  const typescript = createRequire(import.meta.url).resolve('typescript/package.json')
  const inputs = ['package.json', 'tsconfig.json', 'tsconfig.build.json', SERVER, 'bench/paths.ts', 'bench/build.ts', ...SOURCES.flatMap(filesUnder)]
  const hash = createHash('sha256')
  for (const file of inputs) hash.update(`${file}\0`).update(readFileSync(join(ROOT, file))).update('\0')
  hash.update(readFileSync(typescript))
  const out = join(tmpdir(), `oat-bench-build-${hash.digest('hex').slice(0, 32)}`)
  const server = join(out, 'bench', 'minimal-server.js')
  if (existsSync(server)) return server
  // Built under a temporary name, then renamed: a run killed halfway leaves no partial build.
  const partial = `${out}.${process.pid}`
  rmSync(partial, { recursive: true, force: true })
  const config = join(tmpdir(), `oat-bench-tsconfig-${process.pid}.json`)
  writeFileSync(config, JSON.stringify({
    extends: join(ROOT, 'tsconfig.build.json'),
    // The type check is `npm run typecheck`'s; declarations and source maps are not needed to run.
    // `include` stays tsconfig.build.json's (every module the package ships, lazily loaded ones too).
    compilerOptions: { outDir: partial, rootDir: ROOT, typeRoots: [join(ROOT, 'node_modules/@types')], noCheck: true, declaration: false, sourceMap: false },
    files: [join(ROOT, SERVER)],
  }))
  try {
    execFileSync(process.execPath, [createRequire(import.meta.url).resolve('typescript/bin/tsc'), '-p', config], { cwd: ROOT, stdio: 'inherit' })
  } finally {
    rmSync(config, { force: true })
  }
  for (const dialect of ['sqlite', 'pg']) cpSync(join(ROOT, 'lib/store', dialect, 'migrations'), join(partial, 'lib/store', dialect, 'migrations'), { recursive: true })
  writeFileSync(join(partial, 'package.json'), JSON.stringify({ type: 'module', private: true }))
  symlinkSync(join(ROOT, 'node_modules'), join(partial, 'node_modules'))
  try {
    renameSync(partial, out)
  } catch {
    // Another run stored the same build first.
    rmSync(partial, { recursive: true, force: true })
  }
  return server
}
