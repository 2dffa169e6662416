// `tsx bench/profile.ts <file.cpuprofile> [top] [pattern]`: self time per function of a V8 CPU
// profile (from `npm run bench -- --profile`), the hottest first, with the share of non-idle
// samples; with a pattern (a regular expression on `name@file:line`), inclusive time instead.
import { readFileSync } from 'node:fs'
import { relative } from 'node:path'

interface ProfileNode {
  id: number
  callFrame: { functionName: string, url: string, lineNumber: number }
  children?: number[]
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

/**
 * Inclusive time per function (self plus everything it called, each sample counted once per
 * function on its stack), for the functions whose name or location matches `pattern`.
 */
export function inclusiveProfile (path: string, pattern: RegExp, top = 25): HotFunction[] {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const parent = new Map<number, number>()
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const totals = new Map<string, { name: string, location: string, us: number }>()
  let total = 0
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0
    if (byId.get(id)?.callFrame.functionName === '(idle)') return
    total += us
    const seen = new Set<string>()
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const node = byId.get(at)
      if (node === undefined) break
      const { functionName, url, lineNumber } = node.callFrame
      const file = url.startsWith('file://') ? relative(process.cwd(), new URL(url).pathname) : url
      const location = file === '' ? '' : `${file}:${lineNumber + 1}`
      const key = `${functionName}@${location}`
      if (seen.has(key) || !pattern.test(key)) continue
      seen.add(key)
      const entry = totals.get(key) ?? { name: functionName === '' ? '(anonymous)' : functionName, location, us: 0 }
      entry.us += us
      totals.set(key, entry)
    }
  })
  return [...totals.values()].sort((a, b) => b.us - a.us).slice(0, top)
    .map((e) => ({ name: e.name, location: e.location, ms: Math.round(e.us / 1000), percent: Math.round(1000 * e.us / total) / 10 }))
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, '/'))) {
  const [file, top, pattern] = process.argv.slice(2)
  if (file === undefined) throw new Error('usage: profile.ts <file.cpuprofile> [top] [inclusive-pattern]')
  const rows = pattern === undefined ? summarizeProfile(file, Number(top ?? 25)) : inclusiveProfile(file, new RegExp(pattern), Number(top ?? 25))
  for (const f of rows) {
    process.stdout.write(`${f.percent.toFixed(1).padStart(5)}%  ${String(f.ms).padStart(6)} ms  ${f.name}  ${f.location}\n`)
  }
}
