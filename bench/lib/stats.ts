/** Small statistics for repeated measurements: medians with their spread, percentiles. */

export interface Summary {
  median: number
  min: number
  max: number
  n: number
}

const sorted = (values: number[]) => [...values].sort((a, b) => a - b)

/** The value below which a fraction `p` of the samples lie (nearest rank). */
export function percentile(values: number[], p: number): number {
  const s = sorted(values)
  if (s.length === 0) return Number.NaN
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))]!
}

export function median(values: number[]): number {
  const s = sorted(values)
  if (s.length === 0) return Number.NaN
  const mid = Math.floor(s.length / 2)
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

export function summarize(values: number[]): Summary {
  const s = sorted(values)
  return { median: median(s), min: s[0] ?? Number.NaN, max: s[s.length - 1] ?? Number.NaN, n: s.length }
}

/** A number with about three significant digits and thousands separators: 12,345 / 1,234 / 12.3 / 1.23. */
export function num(value: number): string {
  if (!Number.isFinite(value)) return 'n/a'
  const abs = Math.abs(value)
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : 2
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
}

/** "median (min–max)". */
export function spread(s: Summary | undefined, unit = ''): string {
  if (!s || s.n === 0) return 'n/a'
  if (s.n === 1) return `${num(s.median)}${unit}`
  return `${num(s.median)}${unit} (${num(s.min)}–${num(s.max)})`
}
