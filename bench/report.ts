// The printed table and the JSON file of a benchmark run.
import { mkdirSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/** One line of the table: a measured figure and, where the issue sets one, its target. */
export interface Row {
  readonly section: string
  readonly metric: string
  readonly value: number
  readonly unit: string
  /** The target as text (e.g. `≥ 0.90`); absent when the figure is informative only. */
  readonly target?: string
  /** Whether the target is met. */
  readonly pass?: boolean
}

function format (value: number): string {
  if (!Number.isFinite(value)) return String(value)
  if (Math.abs(value) >= 1000) return Math.round(value).toLocaleString('en-US')
  if (Math.abs(value) >= 100) return value.toFixed(0)
  if (Math.abs(value) >= 10) return value.toFixed(1)
  return value.toFixed(3).replace(/\.?0+$/, '') || '0'
}

/** Renders the rows as an aligned plain-text table, grouped by section. */
export function renderTable (rows: readonly Row[]): string {
  const cells = rows.map((r) => [r.metric, `${format(r.value)} ${r.unit}`.trim(), r.target ?? '', r.pass === undefined ? '' : r.pass ? 'ok' : 'MISS'])
  const header = ['measure', 'value', 'target', '']
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)))
  const line = (c: readonly string[]): string => c.map((s, i) => i === 1 ? s.padStart(widths[i]!) : s.padEnd(widths[i]!)).join('  ').trimEnd()
  const out = [line(header), widths.map((w) => '-'.repeat(w)).join('  ')]
  let section = ''
  rows.forEach((r, i) => {
    if (r.section !== section) {
      section = r.section
      out.push(`[${section}]`)
    }
    out.push(line(cells[i]!))
  })
  return out.join('\n')
}

/** Writes `bench/results/<timestamp>.json` and returns its path. */
export function writeResults (report: object, startedAt: Date): string {
  const dir = fileURLToPath(new URL('./results/', import.meta.url))
  mkdirSync(dir, { recursive: true })
  const path = `${dir}${startedAt.toISOString().replace(/[:.]/g, '-')}.json`
  writeFileSync(path, JSON.stringify(report, null, 2) + '\n')
  return path
}
