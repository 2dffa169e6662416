// Every spec file runs: each `*.spec.ts` under test/ is named by exactly one bundle
// (test/helpers/specs.ts), and every name a bundle lists is a spec file (next to it, or in a
// neighbouring folder: `../dir/name.spec.ts`).
import { readFileSync, readdirSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import t from 'tap'

const TEST_ROOT = resolve(import.meta.dirname, '..')

function filesUnder (dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(join(dir, entry.name)) : [join(dir, entry.name)])
}

t.test('every spec file is in exactly one bundle, and bundles name only spec files', async (t) => {
  const files = filesUnder(TEST_ROOT)
  const specs = files.filter((file) => file.endsWith('.spec.ts'))
  const listed = new Map<string, number>()
  for (const bundle of files.filter((file) => file.endsWith('.test.ts'))) {
    const source = readFileSync(bundle, 'utf8')
    const call = source.indexOf('runSpecs(import.meta.url')
    if (call === -1) continue
    // The names the bundle passes (its own imports come before the call).
    for (const match of source.slice(call).matchAll(/'(\.\.?\/[^']+)'/g)) {
      const spec = resolve(dirname(bundle), match[1] ?? '')
      t.ok(spec.endsWith('.spec.ts') && specs.includes(spec), `${relative(TEST_ROOT, bundle)} names an existing spec file: ${match[1]}`)
      listed.set(spec, (listed.get(spec) ?? 0) + 1)
    }
  }
  t.ok(specs.length > 0, 'there are spec files')
  for (const spec of specs) t.equal(listed.get(spec) ?? 0, 1, `${relative(TEST_ROOT, spec)} is in one bundle`)
})
