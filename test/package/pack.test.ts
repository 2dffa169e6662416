// `npm pack` gives a package a user could install: build it, unpack it into a fresh
// node_modules next to the repository's dependencies, then use it the way the README does:
// the bin (migrate, createapplication), the ESM entry, and its TypeScript declarations.
import { execFile, execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { cpSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'

/** Runs node with `args` in `cwd`; the exit status and both streams (never rejects). */
async function node (args: string[], cwd: string): Promise<{ status: number, stdout: string, stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, args, { cwd, encoding: 'utf8' })
    return { status: 0, stdout, stderr }
  } catch (err) {
    const { code, stdout = '', stderr = '' } = err as { code?: number, stdout?: string, stderr?: string }
    return { status: typeof code === 'number' ? code : -1, stdout, stderr }
  }
}

const ROOT = join(import.meta.dirname, '..', '..')

/** Every file under `dir` (a path relative to ROOT), sorted. */
function filesUnder (dir: string): string[] {
  const path = join(ROOT, dir)
  if (!existsSync(path)) return []
  return readdirSync(path, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(ROOT, join(entry.parentPath, entry.name)))
    .sort()
}

/**
 * Builds dist/ as `npm pack`'s prepack does (scripts/build.mjs), without tsc's type check:
 * `npm run typecheck` checks the same sources with the same options, and tsc emits the same files
 * either way. The build costs about 10 s of CPU, so its output is kept in the temporary directory
 * under a hash of everything it is made from (the sources, the build script, the tsconfigs,
 * package.json and the TypeScript version): a later run with the same inputs copies it instead
 * of building again; any changed input builds afresh.
 */
function build (): void {
  const hash = createHash('sha256')
  const typescript = createRequire(import.meta.url).resolve('typescript/package.json')
  for (const file of ['index.ts', 'package.json', 'tsconfig.json', 'tsconfig.build.json', 'scripts/build.mjs', ...filesUnder('lib'), ...filesUnder('plugins'), ...filesUnder('views')]) {
    hash.update(`${file}\0`).update(readFileSync(join(ROOT, file))).update('\0')
  }
  hash.update(readFileSync(typescript))
  const cached = join(tmpdir(), `oat-pack-build-${hash.digest('hex').slice(0, 32)}`)
  const dist = join(ROOT, 'dist')
  if (existsSync(cached)) {
    rmSync(dist, { recursive: true, force: true })
    cpSync(cached, dist, { recursive: true })
    return
  }
  execFileSync(process.execPath, ['scripts/build.mjs', '--noCheck'], { cwd: ROOT, stdio: 'ignore' })
  // Copied under a temporary name, then renamed: a run killed halfway leaves no partial build.
  const partial = `${cached}.${process.pid}`
  cpSync(dist, partial, { recursive: true })
  try {
    renameSync(partial, cached)
  } catch {
    // Another run stored the same build first.
    rmSync(partial, { recursive: true, force: true })
  }
}

t.test('npm pack produces an installable, typed package with a working bin', async (t) => {
  const dir = t.testdir()
  build()
  const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })) as Array<{ filename: string, files: Array<{ path: string }> }>
  const files = (packed[0]?.files ?? []).map((f) => f.path)
  t.ok(files.includes('dist/index.js') && files.includes('dist/index.d.ts'), 'ships the compiled entry and its declarations')
  t.ok(files.includes('dist/lib/cli/bin.js'), 'ships the bin')
  t.ok(files.some((f) => f.startsWith('dist/lib/store/sqlite/migrations/') && f.endsWith('.sql')), 'ships the SQL migrations')
  t.ok(files.some((f) => f.startsWith('dist/lib/store/pg/migrations/') && f.endsWith('.sql')), 'ships the PostgreSQL migrations')
  t.notOk(files.some((f) => /^(test|example-app|scratch|lib)\//.test(f) || (f.endsWith('.ts') && !f.endsWith('.d.ts'))), 'ships no sources, tests or examples')
  // The README's links (docs/, SECURITY.md, bench/README.md) and the licence work in the installed package.
  for (const doc of ['LICENSE', 'README.md', 'SECURITY.md', 'docs/deployment.md', 'docs/resource-server.md', 'bench/README.md']) t.ok(files.includes(doc), `ships ${doc}`)

  // A project that installed the tarball: node_modules holds it beside the dependencies.
  const project = join(dir, 'project')
  const modules = join(project, 'node_modules')
  const pkgDir = join(modules, 'fastify-oauth-toolkit')
  mkdirSync(pkgDir, { recursive: true })
  execFileSync('tar', ['xzf', join(dir, packed[0]?.filename ?? ''), '-C', pkgDir, '--strip-components=1'])
  for (const entry of readdirSync(join(ROOT, 'node_modules'))) {
    if (!entry.startsWith('.')) symlinkSync(join(ROOT, 'node_modules', entry), join(modules, entry))
  }
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', type: 'module', private: true }))

  // The declarations resolve through the exports map for a NodeNext TypeScript project.
  writeFileSync(join(project, 'typed.ts'), `
    import type { FastifyRequest } from 'fastify'
    import { ProtectedResourceView, type Settings } from 'fastify-oauth-toolkit'
    declare module 'fastify-oauth-toolkit' { interface ResourceOwner { username: string } }
    export class MeView extends ProtectedResourceView {
      async get (request: FastifyRequest): Promise<string> { return request.resourceOwner?.username ?? '' }
    }
    export const lifetime: Settings['accessTokenExpireSeconds'] = 3600
  `)
  writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, noEmit: true, skipLibCheck: true, types: ['node'] },
    files: ['typed.ts'],
  }))
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
  // The slowest check (tsc loads fastify's types): it runs while the bin and the entry are tried.
  const typing = node([tsc, '-p', project], project)

  // The bin, as `npx fastify-oauth-toolkit` runs it.
  const manifest = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { bin: Record<string, string> }
  const bin = join(pkgDir, manifest.bin['fastify-oauth-toolkit'] ?? '')
  t.match(readFileSync(bin, 'utf8'), /^#!\/usr\/bin\/env node/, 'the bin has a node shebang')
  const database = join(project, 'oauth.sqlite3')
  const run = async (args: string[]): Promise<string> => {
    const result = await node([bin, ...args], project)
    if (result.status !== 0) throw new Error(`${args.join(' ')}: ${result.stderr}`)
    return result.stdout
  }
  await run(['migrate', '--database', database])
  const app = JSON.parse(await run(['createapplication', 'confidential', 'client-credentials', '--name', 'Packed', '--database', database, '--json'])) as { client_id: string, client_secret: string }

  // The ESM entry, as the README's example uses it.
  writeFileSync(join(project, 'main.mjs'), `
    import Fastify from 'fastify'
    import { fastifyOAuthToolkit, oauthRoutes, ProtectedResourceView } from 'fastify-oauth-toolkit'
    class HelloView extends ProtectedResourceView { async get () { return 'Hello, OAuth2!' } }
    const app = Fastify()
    await app.register(fastifyOAuthToolkit, { database: process.argv[2] })
    await app.register(oauthRoutes, { prefix: '/o' })
    await app.register(HelloView.asView('/api/hello'))
    const basic = Buffer.from(process.argv[3] + ':' + process.argv[4]).toString('base64')
    const token = await app.inject({ method: 'POST', url: '/o/token/', payload: 'grant_type=client_credentials',
      headers: { authorization: 'Basic ' + basic, 'content-type': 'application/x-www-form-urlencoded' } })
    const hello = await app.inject({ url: '/api/hello', headers: { authorization: 'Bearer ' + token.json().access_token } })
    console.log(hello.statusCode, hello.body)
    await app.close()
  `)
  const main = await node(['main.mjs', database, app.client_id, app.client_secret], project)
  t.equal(main.stdout.trim(), '200 Hello, OAuth2!', main.stderr)

  // A CommonJS project (what `npm init -y` makes) loads the same entry through Node's
  // require(esm), which the engines floor (20.19) has without a flag.
  mkdirSync(join(project, 'cjs'))
  writeFileSync(join(project, 'cjs', 'package.json'), JSON.stringify({ name: 'cjs-consumer', private: true }))
  writeFileSync(join(project, 'cjs', 'main.js'), `
    const { fastifyOAuthToolkit, oauthRoutes, ProtectedResourceView } = require('fastify-oauth-toolkit')
    console.log(typeof fastifyOAuthToolkit, typeof oauthRoutes, typeof ProtectedResourceView)
  `)
  const cjs = await node(['main.js'], join(project, 'cjs'))
  t.equal(cjs.stdout.trim(), 'function function function', `require() works from CommonJS: ${cjs.stderr}`)

  const typed = await typing
  t.equal(typed.status, 0, `tsc accepts the published types: ${typed.stdout}`)
})
