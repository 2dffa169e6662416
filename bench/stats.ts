// Small statistics helpers: medians of rounds, percentiles of latency samples.

/** The median of `values` (the mean of the middle two for an even count); NaN when empty. */
export function median (values: readonly number[]): number {
  if (values.length === 0) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/** The `p`-th percentile (0–100, nearest rank) of an ascending-sorted array; NaN when empty. */
export function percentile (sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[rank]!
}

/** `a / b`, rounded to 3 decimals. */
export function ratio (a: number, b: number): number {
  return Math.round((a / b) * 1000) / 1000
}

/** Rounds to `digits` decimals (for the JSON report). */
export function round (value: number, digits = 2): number {
  const f = 10 ** digits
  return Math.round(value * f) / f
}
