// The dependency rule of the sources (STYLE.md §1): views/ and plugins/ -> lib/ -> lib/store/,
// with plugins/ wiring views/ and never the reverse, and no run-time import cycle anywhere. A
// static read of the import statements: no compiler, no process.
import { join } from 'node:path'
import t from 'tap'
import { parseImports, readImportGraph, runtimeCycles, type ModuleImports } from './import-graph.js'

const ROOT = join(import.meta.dirname, '..', '..')
const graph = readImportGraph(ROOT, ['index.ts', 'entries', 'lib', 'plugins', 'views'])
const layer = (file: string): string => file.split('/')[0] ?? ''

/** Every import (type-only ones included) from `from` into `into`, as `file -> target`. */
function crossings (from: string, into: readonly string[]): string[] {
  return graph.flatMap((m) => layer(m.file) !== from
    ? []
    : m.imports.filter((e) => e.target !== null && into.includes(layer(e.target))).map((e) => `${m.file} -> ${e.target ?? ''}`))
}

t.test('the parser tells run-time imports from type-only ones', async (t) => {
  const source = [
    "import type { A } from './a.js'",
    "import { b, type C } from './b.js'",
    "import { type D } from './d.js'",
    'import {',
    '  e,',
    '  type F,',
    "} from './e.js'",
    "import './side-effect.js'",
    "export type { G } from './g.js'",
    "export { h } from './h.js'",
    ' * import { example } from \'./in-a-comment.js\'',
    "const lazy = await import('./lazy.js')",
  ].join('\n')
  t.same(parseImports(source), [
    { specifier: './a.js', typeOnly: true },
    { specifier: './b.js', typeOnly: false },
    { specifier: './d.js', typeOnly: false },
    { specifier: './e.js', typeOnly: false },
    { specifier: './side-effect.js', typeOnly: false },
    { specifier: './g.js', typeOnly: true },
    { specifier: './h.js', typeOnly: false },
    { specifier: './lazy.js', typeOnly: false },
  ])
})

t.test('the cycle finder reports a run-time cycle and ignores one closed only by types', async (t) => {
  const module = (file: string, ...imports: Array<[string, boolean]>): ModuleImports =>
    ({ file, imports: imports.map(([target, typeOnly]) => ({ specifier: target, typeOnly, target })) })
  t.same(runtimeCycles([
    module('a.ts', ['b.ts', false]),
    module('b.ts', ['c.ts', false]),
    module('c.ts', ['a.ts', false], ['d.ts', false]),
    module('d.ts', ['e.ts', false]),
    module('e.ts', ['d.ts', true]),
    module('f.ts', ['f.ts', false]),
  ]), [['a.ts', 'b.ts', 'c.ts'], ['f.ts']])
})

t.test('the sources are read: every layer is there', async (t) => {
  for (const dir of ['entries', 'lib', 'plugins', 'views']) t.ok(graph.some((m) => layer(m.file) === dir), dir)
  t.ok(graph.find((m) => m.file === 'index.ts')?.imports.some((e) => e.target === 'plugins/oauth-toolkit.ts'), 'index.ts re-exports the core plugin')
})

t.test('no run-time import cycle: every module can be loaded before the modules that need it', async (t) => {
  t.same(runtimeCycles(graph), [])
})

t.test('plugins/ wires views/; views/ never imports plugins/, not even a type', async (t) => {
  t.same(crossings('views', ['plugins']), [])
})

t.test('lib/ imports neither views/ nor plugins/', async (t) => {
  t.same(crossings('lib', ['views', 'plugins']), [])
})
