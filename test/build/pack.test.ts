// `npm pack` gives a package a user could install: build it, unpack it into a fresh
// node_modules next to the dependencies a user would have, then use it the way the README does:
// the bin (migrate, createapplication), the ESM and CommonJS entries with every subpath, and
// their TypeScript declarations, checked strictly and with `skipLibCheck: false`. A second
// project installs only what a SQLite user's `npm install` brings (the toolkit's dependencies,
// fastify, @types/node): no `pg`, no @types beyond node's, and it works.
// The suite's longest file (a build, two strict tsc runs, npm): it lives in test/build/ because
// tap starts files in path order, and a long file started last would hold up the whole run.
import { execFile, execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join, posix, relative } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'

/** Runs node (this one, or the binary `execPath`) with `args` in `cwd`; the exit status and both streams (never rejects). */
async function node (args: string[], cwd: string, execPath = process.execPath): Promise<{ status: number, stdout: string, stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(execPath, args, { cwd, encoding: 'utf8' })
    return { status: 0, stdout, stderr }
  } catch (err) {
    const { code, stdout = '', stderr = '' } = err as { code?: number, stdout?: string, stderr?: string }
    return { status: typeof code === 'number' ? code : -1, stdout, stderr }
  }
}

const ROOT = join(import.meta.dirname, '..', '..')
/** The lowest Node version package.json's `engines` allows, in full (`>=20.19` is 20.19.0). */
const FLOOR = ((): string => {
  const range = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node
  const parts = /^>=(\d+)(?:\.(\d+))?(?:\.(\d+))?$/.exec(range)
  if (parts === null) throw new Error(`engines.node is not a ">=" range: ${range}`)
  return `${parts[1]}.${parts[2] ?? 0}.${parts[3] ?? 0}`
})()
const TSC = createRequire(import.meta.url).resolve('typescript/bin/tsc')
/** Every subpath of the exports map that is a module, '' being the root. */
const SUBPATHS = ['', '/resource-server', '/templates', '/store', '/sqlite', '/pg', '/core', '/errors']

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
  for (const file of ['index.ts', 'package.json', 'tsconfig.json', 'tsconfig.build.json', 'scripts/build.mjs', ...filesUnder('entries'), ...filesUnder('lib'), ...filesUnder('plugins'), ...filesUnder('views')]) {
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

/** Links `node_modules/<name>` of the repository into `modules` (scoped names get their scope folder). */
function linkPackage (modules: string, name: string): void {
  mkdirSync(dirname(join(modules, name)), { recursive: true })
  symlinkSync(join(ROOT, 'node_modules', name), join(modules, name))
}

/**
 * The top-level packages of the repository's node_modules that `npm install` of a package with
 * `manifest`'s dependencies and required peers brings: those packages and, recursively, their
 * dependencies, optional dependencies that are present and peers not marked optional (Node's
 * resolution, nested node_modules first).
 */
function installClosure (manifest: { dependencies?: Record<string, string>, peerDependencies?: Record<string, string>, peerDependenciesMeta?: Record<string, { optional?: boolean }> }): Set<string> {
  const top = new Set<string>()
  const seen = new Set<string>()
  const locate = (name: string, from: string): string | null => {
    for (let dir = from; ; dir = dirname(dir)) {
      const candidate = join(dir, 'node_modules', name)
      if (existsSync(join(candidate, 'package.json'))) {
        if (candidate === join(ROOT, 'node_modules', name)) top.add(name)
        return candidate
      }
      if (dir === ROOT) return null
    }
  }
  const required = (m: typeof manifest & { optionalDependencies?: Record<string, string> }): Array<[string, boolean]> => [
    ...Object.keys(m.dependencies ?? {}).map((n): [string, boolean] => [n, false]),
    ...Object.keys(m.optionalDependencies ?? {}).map((n): [string, boolean] => [n, true]),
    ...Object.keys(m.peerDependencies ?? {}).filter((n) => m.peerDependenciesMeta?.[n]?.optional !== true).map((n): [string, boolean] => [n, false]),
  ]
  const visit = (dir: string, m: typeof manifest): void => {
    for (const [name, optional] of required(m)) {
      const found = locate(name, dir)
      if (found === null) {
        if (optional) continue
        throw new Error(`${name}, needed by ${relative(ROOT, dir) || 'the package'}, is not in node_modules`)
      }
      if (seen.has(found)) continue
      seen.add(found)
      visit(found, JSON.parse(readFileSync(join(found, 'package.json'), 'utf8')) as typeof manifest)
    }
  }
  visit(ROOT, manifest)
  return top
}

/** The packed tarball (built once for both tests, kept until the file ends) and the file list npm reported. */
let packed: { tarball: string, files: string[] } | null = null
function pack (): { tarball: string, files: string[] } {
  if (packed !== null) return packed
  build()
  const dir = mkdtempSync(join(tmpdir(), 'oat-pack-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const out = JSON.parse(execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })) as Array<{ filename: string, files: Array<{ path: string }> }>
  packed = { tarball: join(dir, out[0]?.filename ?? ''), files: (out[0]?.files ?? []).map((f) => f.path) }
  return packed
}

/** Unpacks the tarball as `node_modules/fastify-oauth-toolkit` of a new project in `project`; returns the package's folder. */
function installTarball (project: string, tarball: string, type: 'module' | 'commonjs' = 'module'): string {
  const pkgDir = join(project, 'node_modules', 'fastify-oauth-toolkit')
  mkdirSync(pkgDir, { recursive: true })
  execFileSync('tar', ['xzf', tarball, '-C', pkgDir, '--strip-components=1'])
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', type, private: true }))
  return pkgDir
}

/**
 * A strict TypeScript project over `files` that also checks every declaration file it loads
 * (`skipLibCheck: false`), with `exactOptionalPropertyTypes` as `tsc --init` writes it: options
 * filled from `process.env` (the README's `secret: process.env.OAUTH_SECRET`) must still type.
 */
function writeStrictTsconfig (project: string, files: string[], extra: Record<string, unknown> = {}): void {
  writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, exactOptionalPropertyTypes: true, noEmit: true, skipLibCheck: false, types: ['node'], ...extra },
    files,
  }))
}

/** The README's quick start: a client-credentials token for the application the CLI created, then the protected view. */
const HELLO_APP = `
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
`

// The two projects run side by side (each waits mostly on its own tsc and node processes).
t.jobs = 2
// Longer than .taprc's limit: a build, two strict tsc runs, npm and a dozen node processes get a
// small share of two cores when other jobs keep the machine busy (the root test tells tap's runner).
t.setTimeout(600_000)

t.test('npm pack produces an installable, typed package with a working bin and subpath entries', { buffered: true }, async (t) => {
  const dir = t.testdir()
  const { tarball, files } = pack()
  t.ok(files.includes('dist/index.js') && files.includes('dist/index.d.ts'), 'ships the compiled entry and its declarations')
  for (const subpath of SUBPATHS.slice(1)) {
    t.ok(files.includes(`dist/entries${subpath}.js`) && files.includes(`dist/entries${subpath}.d.ts`), `ships the ${subpath} entry and its declarations`)
  }
  t.ok(files.includes('dist/lib/cli/bin.js'), 'ships the bin')
  t.ok(files.some((f) => f.startsWith('dist/lib/store/sqlite/migrations/') && f.endsWith('.sql')), 'ships the SQL migrations')
  t.ok(files.some((f) => f.startsWith('dist/lib/store/pg/migrations/') && f.endsWith('.sql')), 'ships the PostgreSQL migrations')
  // The two READMEs the README links to from those folders are documentation (the tutorial's walkthrough, the attack table).
  const shippedDocs = new Set(['example-app/README.md', 'test/security/README.md'])
  t.notOk(files.some((f) => (/^(test|example-app|scratch|lib|entries)\//.test(f) && !shippedDocs.has(f)) || (f.endsWith('.ts') && !f.endsWith('.d.ts'))), 'ships no sources, tests or examples')
  for (const doc of ['LICENSE', 'README.md', 'SECURITY.md', 'docs/deployment.md', 'docs/resource-server.md', 'bench/README.md']) t.ok(files.includes(doc), `ships ${doc}`)
  // Every relative link of every shipped Markdown file works in the installed package, where a
  // newcomer reads them (npm's page and the editor's preview resolve them against the package).
  const deadLinks = files.filter((f) => f.endsWith('.md')).flatMap((doc) =>
    [...readFileSync(join(ROOT, doc), 'utf8').matchAll(/\]\(([^)\s#]+)(?:#[^)]*)?\)/g)]
      .map((m) => m[1] ?? '')
      .filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target))
      .filter((target) => !files.includes(posix.normalize(posix.join(posix.dirname(doc), target))))
      .map((target) => `${doc} -> ${target}`))
  t.same(deadLinks, [], 'every relative Markdown link resolves inside the package')

  // A project that installed the tarball beside all the repository's packages (pg included).
  const project = join(dir, 'project')
  const pkgDir = installTarball(project, tarball)
  for (const entry of readdirSync(join(ROOT, 'node_modules'))) {
    if (!entry.startsWith('.')) symlinkSync(join(ROOT, 'node_modules', entry), join(project, 'node_modules', entry))
  }

  // The declarations of every entry resolve through the exports map for a NodeNext TypeScript
  // project, and check cleanly with skipLibCheck off: no drizzle internals (whose declarations do
  // not), and the drivers' types only where the project uses a driver itself (/pg, a Database).
  writeFileSync(join(project, 'typed.ts'), `
    import Database from 'better-sqlite3'
    import Fastify, { type FastifyRequest } from 'fastify'
    import pg from 'pg'
    import { checkDeployment, errors, fastifyOAuthToolkit, OAuthError, ProtectedResourceView, type DeploymentCheckResult, type FastifyOAuthToolkitOptions, type Settings } from 'fastify-oauth-toolkit'
    import { createPgStore, migratePg, type PgStoreOptions } from 'fastify-oauth-toolkit/pg'
    import { createSqliteStore, migrateSqlite } from 'fastify-oauth-toolkit/sqlite'
    import { openStore, type Store } from 'fastify-oauth-toolkit/store'
    declare module 'fastify-oauth-toolkit' { interface ResourceOwner { username: string } }
    export class MeView extends ProtectedResourceView {
      async get (request: FastifyRequest): Promise<string> { return request.resourceOwner?.username ?? '' }
    }
    export const lifetime: Settings['accessTokenExpireSeconds'] = 3600
    // An open better-sqlite3 Database and a pg.Pool fit the \`database\` option as they are.
    const db = new Database(':memory:')
    const pool = new pg.Pool({ connectionString: 'postgres://localhost/oauth' })
    export const options: FastifyOAuthToolkitOptions[] = [{ database: db, sqlite: { mmapSize: 1 << 20 } }, { database: pool }]
    export async function stores (): Promise<Store[]> {
      migrateSqlite(db)
      await migratePg(pool)
      const pgOptions: PgStoreOptions = { pool }
      return [createSqliteStore({ database: db }), await createPgStore(pgOptions), await openStore(db)]
    }
    export async function register (): Promise<void> {
      await Fastify().register(fastifyOAuthToolkit, { database: db })
      // The README's way: values from the environment, possibly unset (a clear error at register).
      await Fastify().register(fastifyOAuthToolkit, { database: process.env.DATABASE_URL, secret: process.env.OAUTH_SECRET, oidc: { privateKey: process.env.OIDC_RSA_PRIVATE_KEY } })
    }
    export const isOAuthError = (err: unknown): boolean => err instanceof OAuthError && !(err instanceof errors.InvalidTokenError)
    export async function gate (): Promise<DeploymentCheckResult['problems']> {
      await checkDeployment({ database: process.env.DATABASE_URL, secret: process.env.OAUTH_SECRET })
      return (await checkDeployment({ database: db, settings: { issuer: 'https://auth.example.com/o' }, secret: 'x'.repeat(32) })).problems
    }
  `)
  writeStrictTsconfig(project, ['typed.ts'])
  // The slowest check (tsc loads fastify's types): it runs while the bin and the entries are tried.
  const typing = node([TSC, '-p', project], project)

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

  // The ESM entry, as the README's example uses it, then every subpath (one process for both:
  // each node start is a second of CPU on a busy machine). The first line names the Node version.
  writeFileSync(join(project, 'main.mjs'), `
    import Fastify from 'fastify'
    import { fastifyOAuthToolkit, oauthRoutes, ProtectedResourceView } from 'fastify-oauth-toolkit'
    console.log(process.version)
    class HelloView extends ProtectedResourceView { async get () { return 'Hello, OAuth2!' } }
    ${HELLO_APP}
    for (const subpath of ${JSON.stringify(SUBPATHS)}) {
      const module = await import('fastify-oauth-toolkit' + subpath)
      console.log(subpath || '.', Object.keys(module).length > 0)
    }
  `)
  const mainOutput = (version: string): string => `v${version}\n200 Hello, OAuth2!\n${SUBPATHS.map((s) => `${s || '.'} true\n`).join('')}`
  const main = await node(['main.mjs', database, app.client_id, app.client_secret], project)
  t.equal(main.stdout, mainOutput(process.versions.node), `the README's example works, and every subpath imports: ${main.stderr}`)

  // A CommonJS project (what `npm init -y` makes) loads the same entries through Node's
  // require(esm), which the engines floor (20.19) has without a flag.
  mkdirSync(join(project, 'cjs'))
  writeFileSync(join(project, 'cjs', 'package.json'), JSON.stringify({ name: 'cjs-consumer', private: true }))
  writeFileSync(join(project, 'cjs', 'main.js'), `
    const { fastifyOAuthToolkit, oauthRoutes, ProtectedResourceView, errors } = require('fastify-oauth-toolkit')
    const { resourceServer } = require('fastify-oauth-toolkit/resource-server')
    const { html } = require('fastify-oauth-toolkit/templates')
    const { openStore } = require('fastify-oauth-toolkit/store')
    const { createSqliteStore } = require('fastify-oauth-toolkit/sqlite')
    const { createPgStore } = require('fastify-oauth-toolkit/pg')
    const { createOAuthServer } = require('fastify-oauth-toolkit/core')
    const { InvalidTokenError } = require('fastify-oauth-toolkit/errors')
    console.log([fastifyOAuthToolkit, oauthRoutes, ProtectedResourceView, resourceServer, html, openStore, createSqliteStore, createPgStore, createOAuthServer].map((f) => typeof f).join(' '))
    console.log(errors.InvalidTokenError === InvalidTokenError)
  `)
  const cjs = await node(['main.js'], join(project, 'cjs'))
  const cjsOutput = `${Array(9).fill('function').join(' ')}\ntrue\n`
  t.equal(cjs.stdout, cjsOutput, `require() works from CommonJS: ${cjs.stderr}`)

  // The same on the lowest Node `engines` claims, exactly (Node's own build of it: .ci/run fetches
  // it and names it in OAT_FLOOR_NODE): the bin, the README's example, every subpath, require().
  const floor = process.env.OAT_FLOOR_NODE ?? ''
  const floorMissing = floor === '' && process.env.OAT_REQUIRE_FLOOR_NODE !== '1'
    ? `set OAT_FLOOR_NODE to a Node ${FLOOR} binary to run the package on the engines floor (.ci/run does)`
    : false
  await t.test(`the engines floor, Node ${FLOOR}`, { skip: floorMissing }, async (t) => {
    if (floor === '') {
      t.fail('OAT_FLOOR_NODE is not set (.ci/run sets it)')
      return
    }
    const migrated = await node([bin, 'migrate', '--database', join(project, 'floor.sqlite3')], project, floor)
    t.equal(migrated.status, 0, `the bin runs: ${migrated.stderr}`)
    // Its first line is the version: OAT_FLOOR_NODE is Node FLOOR exactly.
    const floorMain = await node(['main.mjs', database, app.client_id, app.client_secret], project, floor)
    t.equal(floorMain.stdout, mainOutput(FLOOR), `Node ${FLOOR} runs the README's example and imports every subpath: ${floorMain.stderr}`)
    const floorCjs = await node(['main.js'], join(project, 'cjs'), floor)
    t.equal(floorCjs.stdout, cjsOutput, `require() works from CommonJS without a flag: ${floorCjs.stderr}`)
  })

  const typed = await typing
  t.equal(typed.status, 0, `tsc (strict, skipLibCheck false) accepts the published types: ${typed.stdout}`)
})

t.test('a SQLite-only project installs without pg, works, type-checks, and is told in one line to install pg for postgres://', { buffered: true }, async (t) => {
  const { tarball } = pack()
  // Outside the repository, so that nothing resolves from its node_modules by walking up; the
  // packages are symlinks, so node and tsc run with --preserve-symlinks: a module found through
  // one resolves its own imports from here too, as in a real install.
  const project = mkdtempSync(join(tmpdir(), 'oat-pack-sqlite-'))
  t.teardown(() => rmSync(project, { recursive: true, force: true }))
  const pkgDir = installTarball(project, tarball)
  const manifest = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as Parameters<typeof installClosure>[0] & { bin: Record<string, string> }
  const installed = installClosure(manifest)
  t.notOk(installed.has('pg') || [...installed].some((name) => name.startsWith('pg-')), 'npm install brings no PostgreSQL driver')
  t.same([...installed].filter((name) => name.startsWith('@types/')), [], 'nor any @types package (a Node 20 project keeps its own @types/node)')
  // The project's own TypeScript setup: @types/node for its Node version.
  for (const name of new Set([...installed, ...installClosure({ dependencies: { '@types/node': '*' } })])) linkPackage(join(project, 'node_modules'), name)

  writeFileSync(join(project, 'typed.ts'), `
    import Fastify from 'fastify'
    import { errors, fastifyOAuthToolkit, oauthRoutes, ScopedProtectedResourceView, type SettingsInput } from 'fastify-oauth-toolkit'
    import { resourceServer, type ResourceServerOptions } from 'fastify-oauth-toolkit/resource-server'
    import { html, pageLayout, type Templates } from 'fastify-oauth-toolkit/templates'
    import { openStore, parseDatabaseUrl } from 'fastify-oauth-toolkit/store'
    import { createSqliteStore, type SqliteOptions } from 'fastify-oauth-toolkit/sqlite'
    import { createOAuthServer, createScryptHasher } from 'fastify-oauth-toolkit/core'
    import { ImproperlyConfiguredError } from 'fastify-oauth-toolkit/errors'
    export class NotesView extends ScopedProtectedResourceView { override requiredScopes = ['read']; async get (): Promise<string[]> { return [] } }
    const settings: SettingsInput = { accessTokenExpireSeconds: 3600 }
    const sqlite: SqliteOptions = { crossProcessCheckMs: 0 }
    export async function start (): Promise<void> {
      const app = Fastify()
      await app.register(fastifyOAuthToolkit, { database: './oauth.sqlite3', migrate: true, settings, sqlite })
      await app.register(oauthRoutes, { prefix: '/o' })
      await app.register(NotesView.asView('/api/notes'))
    }
    export const rs: ResourceServerOptions = { jwt: { issuer: 'https://auth.example.com/o', audience: 'https://api.example.com', jwksUri: 'https://auth.example.com/o/.well-known/jwks.json' } }
    export const plugins = [resourceServer, openStore, createSqliteStore, createOAuthServer, createScryptHasher, parseDatabaseUrl]
    export const page: Templates['error'] = (data, context) => pageLayout(context, 'Error', html\`<p>\${data.description}</p>\`)
    export const isConfig = (err: unknown): boolean => err instanceof ImproperlyConfiguredError || err instanceof errors.OAuthError
  `)
  writeStrictTsconfig(project, ['typed.ts'], { preserveSymlinks: true })
  const typing = node([TSC, '-p', project], project)

  const bin = join(pkgDir, manifest.bin['fastify-oauth-toolkit'] ?? '')
  const nodeHere = async (args: string[]): Promise<{ status: number, stdout: string, stderr: string }> => await node(['--preserve-symlinks', ...args], project)
  const database = join(project, 'oauth.sqlite3')
  t.equal((await nodeHere([bin, 'migrate', '--database', database])).status, 0, 'the bin migrates SQLite')
  const created = await nodeHere([bin, 'createapplication', 'confidential', 'client-credentials', '--name', 'SQLite only', '--database', database, '--json'])
  const app = JSON.parse(created.stdout) as { client_id: string, client_secret: string }

  // Importing the toolkit (every entry but /pg) loads no PostgreSQL driver, nor does opening SQLite.
  writeFileSync(join(project, 'main.mjs'), `
    import { createRequire } from 'node:module'
    import Fastify from 'fastify'
    import { fastifyOAuthToolkit, oauthRoutes, ProtectedResourceView } from 'fastify-oauth-toolkit'
    import 'fastify-oauth-toolkit/resource-server'
    import 'fastify-oauth-toolkit/templates'
    import 'fastify-oauth-toolkit/store'
    import 'fastify-oauth-toolkit/sqlite'
    import 'fastify-oauth-toolkit/core'
    import 'fastify-oauth-toolkit/errors'
    const loaded = (name) => Object.keys(createRequire(import.meta.url).cache).some((path) => path.includes('/node_modules/' + name + '/'))
    console.log('at import:', loaded('pg'))
    class HelloView extends ProtectedResourceView { async get () { return 'Hello, OAuth2!' } }
    ${HELLO_APP}
    console.log('after SQLite:', loaded('better-sqlite3'), loaded('pg'))
    // postgres:// without pg (in the same process, to spare a node start): one line naming the package.
    try {
      await Fastify().register(fastifyOAuthToolkit, { database: 'postgres://oauth@127.0.0.1:5432/oauth' })
    } catch (err) {
      console.log(err.name, err.code, err.message)
    }
  `)
  // postgres:// without pg: one line naming the package to install, from the plugin and the CLI.
  const needsPg = 'a PostgreSQL database (postgres:// URL) needs the "pg" package, which is not installed: run `npm install pg`'
  const main = await nodeHere(['main.mjs', database, app.client_id, app.client_secret])
  const [sqlite, postgres] = [main.stdout.split('\n').slice(0, 3).join('\n') + '\n', main.stdout.split('\n').slice(3).join('\n')]
  t.equal(sqlite, 'at import: false\n200 Hello, OAuth2!\nafter SQLite: true false\n', `it works on SQLite and never loads pg: ${main.stderr}`)
  t.equal(postgres, `ImproperlyConfiguredError OAT_ERR_DATABASE fastify-oauth-toolkit: ${needsPg}\n`, `the plugin: ${main.stderr}`)
  t.same(await nodeHere([bin, 'migrate', '--database', 'postgres://oauth@127.0.0.1:5432/oauth']), { status: 1, stdout: '', stderr: `fastify-oauth-toolkit migrate: ${needsPg}\n` }, 'the CLI')

  const typed = await typing
  t.equal(typed.status, 0, `tsc (strict, skipLibCheck false) accepts the published types without pg or its types: ${typed.stdout}`)
})
