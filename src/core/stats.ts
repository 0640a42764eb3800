/**
 * Statistics from finished jobs: throughput, failure rate, wait and run time
 * percentiles, and per-bucket time series for charts. Pure functions over
 * rows the store returns; no I/O.
 */

import { fingerprintError } from './fingerprint.js'

export interface FinishedJobRow {
  status: 'completed' | 'failed' | 'cancelled'
  createdAt: number
  startedAt: number | null
  finishedAt: number
  durationMs: number | null
  /** Failed because it was not started before its expiry (core/expiry.ts). */
  expired?: boolean
}

export interface Percentiles {
  p50: number | null
  p90: number | null
  p99: number | null
}

export interface SeriesPoint {
  /** Start of the bucket, epoch ms. */
  t: number
  completed: number
  failed: number
}

export interface WindowStats {
  windowMs: number
  completed: number
  failed: number
  /** Of the failed, those that expired before they started. */
  expired: number
  cancelled: number
  /** Completed jobs per minute over the window. */
  throughputPerMinute: number
  /** failed / (completed + failed); null when nothing finished. */
  failureRate: number | null
  waitMs: Percentiles
  runMs: Percentiles
  series: SeriesPoint[]
}

export function percentiles(values: number[]): Percentiles {
  if (values.length === 0) return { p50: null, p90: null, p99: null }
  const sorted = [...values].sort((a, b) => a - b)
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99) }
}

export function windowStats(
  rows: FinishedJobRow[],
  now: number,
  windowMs: number,
  bucketMs: number,
): WindowStats {
  const since = now - windowMs
  const inWindow = rows.filter((r) => r.finishedAt >= since && r.finishedAt <= now)
  const count = (s: FinishedJobRow['status']) => inWindow.filter((r) => r.status === s).length
  const completed = count('completed')
  const failed = count('failed')
  const start = Math.floor(since / bucketMs) * bucketMs
  const series: SeriesPoint[] = []
  for (let t = start; t <= now; t += bucketMs) series.push({ t, completed: 0, failed: 0 })
  for (const r of inWindow) {
    const point = series[Math.floor((r.finishedAt - start) / bucketMs)]
    if (point && r.status !== 'cancelled') point[r.status]++
  }
  const ran = inWindow.filter((r) => r.status !== 'cancelled')
  return {
    windowMs,
    completed,
    failed,
    expired: inWindow.filter((r) => r.status === 'failed' && r.expired === true).length,
    cancelled: count('cancelled'),
    throughputPerMinute: Math.round((completed / (windowMs / 60_000)) * 100) / 100,
    failureRate:
      completed + failed === 0 ? null : Math.round((failed / (completed + failed)) * 10_000) / 10_000,
    waitMs: percentiles(
      ran.filter((r) => r.startedAt !== null).map((r) => Math.max(0, r.startedAt! - r.createdAt)),
    ),
    runMs: percentiles(ran.filter((r) => r.durationMs !== null).map((r) => r.durationMs!)),
    series,
  }
}

/** What the store reads for a queue's health, by the caller's clock (`now`), only the owner's jobs when scoped. */
export interface QueueHealthRow {
  /** The run-at of the oldest job that could start now (waiting, or scheduled and due); null when none. */
  oldestReadyAt: number | null
  /** Jobs finished in the last minute and the last five minutes, by outcome. */
  finished: { lastMinute: FinishedCounts; last5Minutes: FinishedCounts }
  /** Jobs added in the last five minutes: the inflow the backlog trend weighs against what finished. */
  added5Minutes: number
  /**
   * Jobs failed in the last 24 hours, grouped by their error's fingerprint
   * (errors stored before fingerprints existed: by name and message), most
   * frequent first; the latest error of each group as its example.
   */
  topErrors: TopError[]
}

export interface FinishedCounts {
  completed: number
  failed: number
}

export interface TopError {
  /** Null for a group of errors stored before fingerprints existed: queueHealth computes it from the example. */
  fingerprint: string | null
  name: string | null
  message: string
  stack: string | null
  count: number
  firstSeenAt: number
  latestJobId: string
  latestAt: number
}

/** How many error groups a queue's health lists. */
export const TOP_ERRORS = 5
/** Top errors count the failures of the last 24 hours: what is going wrong now, read in time proportional to it. */
export const TOP_ERRORS_WINDOW_MS = 24 * 3600_000

export interface QueueHealth {
  /** Age of the oldest ready job (0 when none is waiting): how far behind the queue is. */
  latencyMs: number
  /** Per minute, over the last minute and over the last five minutes. */
  rates: { lastMinute: FinishedCounts; last5Minutes: FinishedCounts }
  /**
   * Jobs per minute the backlog grows by (negative: shrinks), over the last
   * five minutes: added less finished.
   */
  backlogTrendPerMinute: number
  /** Paused with jobs ready to run: nothing will move until someone resumes it. */
  stalled: boolean
  topErrors: TopErrorGroup[]
}

/** One class of error among a queue's recent failures; `name` and `message` are the latest occurrence's. */
export interface TopErrorGroup {
  fingerprint: string
  /** The class as text: the example's name and message with placeholders for what varies (core/fingerprint.ts). */
  normalized: string
  name: string | null
  message: string
  count: number
  firstSeenAt: Date
  lastSeenAt: Date
  latestJobId: string
  /** The same as lastSeenAt (kept for those who read it). */
  latestAt: Date
}

const round2 = (n: number) => Math.round(n * 100) / 100

/** A queue's health from what the store read; `paused`: the queue's status is paused. */
export function queueHealth(row: QueueHealthRow, now: number, paused: boolean): QueueHealth {
  const five = row.finished.last5Minutes
  return {
    latencyMs: row.oldestReadyAt === null ? 0 : Math.max(0, now - row.oldestReadyAt),
    rates: {
      lastMinute: { ...row.finished.lastMinute },
      last5Minutes: { completed: round2(five.completed / 5), failed: round2(five.failed / 5) },
    },
    backlogTrendPerMinute: round2((row.added5Minutes - five.completed - five.failed) / 5),
    stalled: paused && row.oldestReadyAt !== null,
    topErrors: topErrorGroups(row.topErrors),
  }
}

/**
 * The store's groups with their fingerprint and normalised text; groups that
 * turn out to share a fingerprint (errors stored before fingerprints existed,
 * grouped by exact message, next to newer ones) are one.
 */
export function topErrorGroups(rows: TopError[]): TopErrorGroup[] {
  const groups = new Map<string, TopErrorGroup>()
  for (const r of rows) {
    const print = fingerprintError(r)
    const fingerprint = r.fingerprint ?? print.fingerprint
    const seen = groups.get(fingerprint)
    if (!seen) {
      groups.set(fingerprint, {
        fingerprint,
        normalized: print.normalized,
        name: r.name,
        message: r.message,
        count: r.count,
        firstSeenAt: new Date(r.firstSeenAt),
        lastSeenAt: new Date(r.latestAt),
        latestJobId: r.latestJobId,
        latestAt: new Date(r.latestAt),
      })
      continue
    }
    seen.count += r.count
    if (r.firstSeenAt < seen.firstSeenAt.getTime()) seen.firstSeenAt = new Date(r.firstSeenAt)
    if (r.latestAt > seen.latestAt.getTime()) {
      Object.assign(seen, { name: r.name, message: r.message, latestJobId: r.latestJobId })
      Object.assign(seen, {
        normalized: print.normalized,
        lastSeenAt: new Date(r.latestAt),
        latestAt: new Date(r.latestAt),
      })
    }
  }
  return [...groups.values()].sort((a, b) => b.count - a.count || b.latestAt.getTime() - a.latestAt.getTime())
}
