// The import graph of the toolkit's sources, read statically (no TypeScript compiler, no process):
// what test/architecture/layers.spec.ts checks the dependency rule and the absence of run-time
// import cycles against.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve, sep } from 'node:path'

/** One import or re-export of a module. */
export interface ImportEdge {
  /** The specifier as written (`./errors.js`, `fastify`). */
  readonly specifier: string
  /**
   * Erased from the JavaScript: `import type` / `export type`. An import whose every name is
   * marked `type` inline (`import { type A }`) still loads its module (`verbatimModuleSyntax`
   * keeps it as `import {}`), so it counts as a run-time import.
   */
  readonly typeOnly: boolean
}

// Statements start a line; TSDoc examples (` * import …`) and strings in code do not.
const STATIC = /^(?:import|export)\s+(type\s+)?(?:[^'";]*?\s+from\s+)?'([^']+)'/gm
const DYNAMIC = /\bimport\(\s*'([^']+)'\s*\)/g

/** The imports and re-exports of a module's source text. */
export function parseImports (source: string): ImportEdge[] {
  const edges: ImportEdge[] = []
  for (const m of source.matchAll(STATIC)) edges.push({ specifier: m[2] ?? '', typeOnly: m[1] !== undefined })
  for (const m of source.matchAll(DYNAMIC)) edges.push({ specifier: m[1] ?? '', typeOnly: false })
  return edges
}

/** A module of the tree and what it imports, both as paths relative to the root (`lib/errors.ts`). */
export interface ModuleImports {
  readonly file: string
  readonly imports: ReadonlyArray<ImportEdge & { readonly target: string | null }>
}

function tsFiles (path: string): string[] {
  if (statSync(path).isDirectory()) return readdirSync(path).flatMap((name) => tsFiles(join(path, name)))
  return path.endsWith('.ts') && !path.endsWith('.d.ts') ? [path] : []
}

/** Reads every `.ts` module under `entries` (files or directories, relative to `root`). */
export function readImportGraph (root: string, entries: readonly string[]): ModuleImports[] {
  const posix = (path: string): string => path.split(sep).join('/')
  return entries.flatMap((entry) => tsFiles(join(root, entry))).map((path) => ({
    file: posix(relative(root, path)),
    imports: parseImports(readFileSync(path, 'utf8')).map((edge) => ({
      ...edge,
      // Relative specifiers name the compiled `.js`; the source is the `.ts` beside it.
      target: edge.specifier.startsWith('.') ? posix(relative(root, resolve(dirname(path), edge.specifier.replace(/\.js$/, '.ts')))) : null,
    })),
  }))
}

/**
 * The run-time import cycles: every strongly connected component of more than one module (or a
 * module importing itself) over the edges that survive compilation. Tarjan's algorithm.
 */
export function runtimeCycles (graph: readonly ModuleImports[]): string[][] {
  const edges = new Map(graph.map((m) => [m.file, m.imports.filter((e) => !e.typeOnly && e.target !== null).map((e) => e.target as string)]))
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const onStack = new Set<string>()
  const cycles: string[][] = []
  const visit = (v: string): void => {
    index.set(v, index.size)
    low.set(v, index.get(v) as number)
    stack.push(v)
    onStack.add(v)
    for (const w of edges.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w)
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number))
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v) as number, index.get(w) as number))
      }
    }
    if (low.get(v) !== index.get(v)) return
    const component: string[] = []
    let w: string | undefined
    do {
      w = stack.pop() as string
      onStack.delete(w)
      component.push(w)
    } while (w !== v)
    if (component.length > 1 || (edges.get(v) ?? []).includes(v)) cycles.push(component.sort())
  }
  for (const file of edges.keys()) if (!index.has(file)) visit(file)
  return cycles
}
