// Builds the package into dist/: compiles TypeScript with declarations, then copies the
// committed SQL migrations next to the compiled store that applies them. Extra arguments go to
// tsc (the pack test passes --noCheck: `npm run typecheck` checks the same sources).
import { cpSync, rmSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
let tsc
try {
  tsc = require.resolve('typescript/bin/tsc')
} catch {
  // A fresh clone packed before its dependencies were installed (`npm pack` runs this build).
  console.error('build: TypeScript is not installed here; run `npm install` (or `npm ci`) in this clone first')
  process.exit(1)
}

rmSync('dist', { recursive: true, force: true })
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', ...process.argv.slice(2)], { stdio: 'inherit' })
cpSync('lib/store/sqlite/migrations', 'dist/lib/store/sqlite/migrations', { recursive: true })
cpSync('lib/store/pg/migrations', 'dist/lib/store/pg/migrations', { recursive: true })
console.error('built dist/')
