/**
 * A rate limit of 100 per second held across 4 worker processes (issue 14):
 * more jobs wait than the limit lets through in the time, so the limit, not
 * the backlog, binds. Each handler records when it started; the starts are
 * then counted per 1-second window from the first start.
 */
import { Docket } from '../../src/index.js'
import { busiestWindow } from '../../test/support/windows.js'
import { log } from '../lib/context.js'
import { ms, openSql } from '../lib/sql.js'
import { median, num } from '../lib/stats.js'
import { type FlowChild, spawnFlow, stopFlow } from './children.js'
import { int } from './settings.js'

const MAX = int('BENCH_FLOW_RATE', 100)
const SECONDS = int('BENCH_FLOW_RATE_SECONDS', 10)
const PROCESSES = 4
const QUEUE = 'limited'

export interface RateFigure {
  driver: string
  /** Starts (the claim's started_at) in each whole 1-second window from the first start. */
  windows: number[]
  max: number
  mean: number
  min: number
  /** Most starts in any 1-second sliding window. */
  busiest: number
  /** The same windows counted by the handlers' own Date.now() at entry. */
  handlerWindows: number[]
  /** Handler entry less the claim's start time: median and most, ms. */
  lagMedian: number
  lagMax: number
  starts: number
}

/** Counts of these times in each whole window of 1 s from the first. */
function perSecond(times: number[], seconds: number): number[] {
  const t0 = Math.min(...times)
  return Array.from(
    { length: seconds },
    (_, k) => times.filter((t) => t >= t0 + k * 1_000 && t < t0 + (k + 1) * 1_000).length,
  )
}

export async function rateLimit(driver: string, url: string): Promise<RateFigure> {
  const docket = await Docket.open(url)
  await docket.createQueue({ name: QUEUE, rateLimit: { max: MAX, intervalMs: 1_000 } })
  // Twice what the limit lets through, so the backlog never runs dry.
  await docket.addMany(Array.from({ length: MAX * SECONDS * 2 }, () => ({ queue: QUEUE, type: 'noop' })))
  await docket.close()

  const children: FlowChild[] = Array.from({ length: PROCESSES }, (_, i) =>
    spawnFlow({ url, id: `rate-${i + 1}`, queue: QUEUE, concurrency: 25 }),
  )
  await Promise.all(children.map((c) => c.ready))
  for (const c of children) c.process.send('go')
  await new Promise((r) => setTimeout(r, SECONDS * 1_000 + 1_500))
  await Promise.all(children.map((c) => stopFlow(c)))

  const sql = await openSql(url)
  const rows = await sql.all<{ result: unknown; started_at: unknown }>(
    `SELECT result, started_at FROM jobs WHERE queue = '${QUEUE}' AND status = 'completed'`,
  )
  await sql.close()
  const handlerStarts = rows.map(
    (r) =>
      ((typeof r.result === 'string' ? JSON.parse(r.result) : r.result) as { startedAt: number }).startedAt,
  )
  const starts = rows.map((r) => ms(r.started_at))
  const lags = rows.map((_, i) => handlerStarts[i]! - starts[i]!)
  const windows = perSecond(starts, SECONDS)
  const figure: RateFigure = {
    driver,
    windows,
    max: Math.max(...windows),
    mean: windows.reduce((a, b) => a + b, 0) / windows.length,
    min: Math.min(...windows),
    busiest: busiestWindow(starts, 1_000),
    handlerWindows: perSecond(handlerStarts, SECONDS),
    lagMedian: median(lags),
    lagMax: Math.max(...lags),
    starts: starts.length,
  }
  log(
    `  ${driver}: starts per window ${windows.join(' ')} (busiest sliding second ${figure.busiest}); ` +
      `handler entries per window ${figure.handlerWindows.join(' ')}; lag median ${num(figure.lagMedian)} ms, max ${num(figure.lagMax)} ms`,
  )
  return figure
}
