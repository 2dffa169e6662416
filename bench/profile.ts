// `tsx bench/profile.ts <file.cpuprofile> [top]`: self time per function of a V8 CPU profile
// (from `npm run bench -- --profile`), the hottest first, with the share of non-idle samples.
import { readFileSync } from 'node:fs'
import { relative } from 'node:path'

interface ProfileNode {
  id: number
  callFrame: { functionName: string, url: string, lineNumber: number }
}
interface CpuProfile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
}

/** One line of the summary. */
export interface HotFunction {
  readonly name: string
  readonly location: string
  readonly ms: number
  readonly percent: number
}

/** Self time per function, excluding idle and GC-free "(program)" samples from the total. */
export function summarizeProfile (path: string, top = 25): HotFunction[] {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const self = new Map<string, { name: string, location: string, us: number }>()
  let total = 0
  profile.samples.forEach((id, i) => {
    const node = byId.get(id)
    const us = profile.timeDeltas[i] ?? 0
    if (node === undefined || node.callFrame.functionName === '(idle)') return
    total += us
    const { functionName, url, lineNumber } = node.callFrame
    const file = url.startsWith('file://') ? relative(process.cwd(), new URL(url).pathname) : url
    const location = file === '' ? '' : `${file}:${lineNumber + 1}`
    const key = `${functionName}@${location}`
    const entry = self.get(key) ?? { name: functionName === '' ? '(anonymous)' : functionName, location, us: 0 }
    entry.us += us
    self.set(key, entry)
  })
  return [...self.values()].sort((a, b) => b.us - a.us).slice(0, top)
    .map((e) => ({ name: e.name, location: e.location, ms: Math.round(e.us / 1000), percent: Math.round(1000 * e.us / total) / 10 }))
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, '/'))) {
  const [file, top] = process.argv.slice(2)
  if (file === undefined) throw new Error('usage: profile.ts <file.cpuprofile> [top]')
  for (const f of summarizeProfile(file, Number(top ?? 25))) {
    process.stdout.write(`${f.percent.toFixed(1).padStart(5)}%  ${String(f.ms).padStart(6)} ms  ${f.name}  ${f.location}\n`)
  }
}
