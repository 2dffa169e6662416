// One way to look a client up by its `client_id`: `lookupClient` (lib/registration/cimd.ts), which
// applies the Client ID Metadata Document policy (a document client is unknown while cimdEnabled
// is off; a stale document is fetched again, and refused while that fails). A direct
// `store.findApplicationByClientId` elsewhere would bypass it, as RP-initiated logout once did.
// A static read of the sources, like test/architecture/layers.spec.ts: no compiler, no process.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative, sep } from 'node:path'
import t from 'tap'

const ROOT = join(import.meta.dirname, '..', '..')
const SOURCES = ['index.ts', 'entries', 'lib', 'plugins', 'views', 'example-app', 'scripts', 'bench']

/**
 * Where a direct lookup by client id is allowed, and how many: the store itself (which defines
 * it), the resolver and `lookupClient` (which apply the policy), and the uniqueness check of a
 * new operator-chosen client id (it must see every row, whatever the policy says of it).
 */
const ALLOWED: Readonly<Record<string, number>> = {
  'lib/registration/cimd.ts': 3,
  'lib/applications.ts': 1,
}
const STORE = `lib${sep}store${sep}`

function tsFiles (path: string): string[] {
  if (statSync(path, { throwIfNoEntry: false }) === undefined) return []
  if (statSync(path).isDirectory()) return readdirSync(path).filter((name) => name !== 'node_modules').flatMap((name) => tsFiles(join(path, name)))
  return path.endsWith('.ts') && !path.endsWith('.d.ts') ? [path] : []
}

/** The lines of `source` that call or name `findApplicationByClientId` in code (comments aside), by line number. */
function directLookups (source: string): number[] {
  return source.split('\n').flatMap((line, i) => {
    const code = line.trimStart()
    if (code.startsWith('//') || code.startsWith('*') || code.startsWith('/*')) return []
    return /\bfindApplicationByClientId\b/.test(code.replace(/\/\/.*$/, '')) ? [i + 1] : []
  })
}

t.test('the scanner finds direct lookups in code and ignores comments', async (t) => {
  t.same(directLookups([
    '// store.findApplicationByClientId(id) is the raw lookup',
    ' * findApplicationByClientId in TSDoc',
    'const a = await ctx.store.findApplicationByClientId(id)',
    'const { findApplicationByClientId } = store',
    "const b = await store['findApplicationByClientId'](id) // indirect",
  ].join('\n')), [3, 4, 5])
})

t.test('no code path looks a client up by client_id except through lookupClient', async (t) => {
  const found = new Map<string, number[]>()
  for (const file of SOURCES.flatMap((entry) => tsFiles(join(ROOT, entry)))) {
    const path = relative(ROOT, file)
    if (path.startsWith(STORE)) continue
    const lines = directLookups(readFileSync(file, 'utf8'))
    if (lines.length > 0) found.set(path.split(sep).join('/'), lines)
  }
  const unexpected = [...found].filter(([path, lines]) => lines.length > (ALLOWED[path] ?? 0)).map(([path, lines]) => `${path}:${lines.join(',')}`)
  t.same(unexpected, [], 'use lookupClient (or checkClientPolicy for an application found by id) instead')
  for (const [path, count] of Object.entries(ALLOWED)) t.equal(found.get(path)?.length, count, `${path} still holds its allowed lookups (update ALLOWED when they go)`)
})
