/** Most of these times in any window of `windowMs` (each window opening at one of them): a rate limit's check. */
export function busiestWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b)
  let most = 0
  let lo = 0
  for (let hi = 0; hi < sorted.length; hi++) {
    while (sorted[hi]! - sorted[lo]! >= windowMs) lo++
    most = Math.max(most, hi - lo + 1)
  }
  return most
}
