// The module hooks of test/loader/register.mjs (they run on Node's loader thread).
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const EXAMPLE_APP = new URL('../../example-app/', import.meta.url).href
// esbuild comes with tsx (a devDependency); resolve it from there rather than rely on hoisting.
const requireFromTsx = createRequire(createRequire(import.meta.url).resolve('tsx/package.json'))
const ESBUILD_VERSION = requireFromTsx('esbuild/package.json').version
// esbuild reads what it needs from the project's tsconfig (verbatimModuleSyntax, target and the
// class field semantics that follow from it), as tsx does.
const TSCONFIG = readFileSync(join(ROOT, 'tsconfig.json'), 'utf8')
// One cache per user (like tsx's), keyed by the file's path and content, esbuild's version and
// the tsconfig: an edited file is transpiled again, an unchanged one never is.
const CACHE = join(tmpdir(), `oat-test-loader-${userInfo().uid}`)
const SALT = createHash('sha256').update(`${ESBUILD_VERSION}\0${TSCONFIG}\0v1`).digest('hex')
let esbuild

/** `./x.js` written in a `.ts` file (TypeScript's NodeNext convention) means `./x.ts` when that exists. */
export async function resolve (specifier, context, nextResolve) {
  const parent = context.parentURL
  if (parent !== undefined && parent.startsWith('file:') && parent.endsWith('.ts') && specifier.endsWith('.js') &&
      (specifier.startsWith('./') || specifier.startsWith('../'))) {
    const url = new URL(`${specifier.slice(0, -3)}.ts`, parent)
    if (existsSync(url)) return { url: url.href, format: 'module', shortCircuit: true }
  }
  // The example app imports the toolkit by its package name, which `npm start` resolves to the
  // source (--conditions=oauth-toolkit-source); the tests that run it in their own process
  // (test/example-app/in-process.ts) get the same files, not a build that may not exist.
  if (parent !== undefined && parent.startsWith(EXAMPLE_APP) && (specifier === 'fastify-oauth-toolkit' || specifier.startsWith('fastify-oauth-toolkit/'))) {
    return await nextResolve(specifier, { ...context, conditions: [...context.conditions, 'oauth-toolkit-source'] })
  }
  return await nextResolve(specifier, context)
}

/** `.ts` files are ES modules (package.json has "type": "module"), transpiled once and cached. */
export async function load (url, context, nextLoad) {
  if (!url.startsWith('file:') || !url.endsWith('.ts') || url.includes('/node_modules/')) return await nextLoad(url, context)
  const path = fileURLToPath(url)
  const source = readFileSync(path, 'utf8')
  const key = createHash('sha256').update(SALT).update(path).update('\0').update(source).digest('hex')
  const cached = join(CACHE, `${key}.mjs`)
  let code
  try {
    code = readFileSync(cached, 'utf8')
  } catch {
    esbuild ??= requireFromTsx('esbuild')
    // An inline source map (without the sources, which are on disk) keeps stack traces and
    // tap's failure excerpts on the TypeScript lines.
    code = esbuild.transformSync(source, {
      loader: 'ts',
      format: 'esm',
      target: `node${process.versions.node}`,
      sourcefile: path,
      sourcemap: 'inline',
      sourcesContent: false,
      tsconfigRaw: TSCONFIG,
    }).code
    mkdirSync(CACHE, { recursive: true })
    const temporary = `${cached}.${process.pid}.${Math.random().toString(36).slice(2)}`
    writeFileSync(temporary, code)
    renameSync(temporary, cached)
  }
  return { format: 'module', source: code, shortCircuit: true }
}
