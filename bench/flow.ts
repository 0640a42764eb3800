/**
 * Flow-control benchmark (issue 14), not a test: `npm run bench:flow [-- claim rate schedule]`.
 *
 *   claim     claim latency, group-limited queues (fair, not fair) vs plain, 1,000 groups x 100 jobs
 *             (target: within 2x)
 *   rate      a rate limit of 100/s over 10 s, 4 worker processes (per 1-s window: max <= 100, mean >= 95)
 *   schedule  a schedule every second for BENCH_FLOW_MINUTES (default 10) with the maintenance leader
 *             SIGKILLed every 30 s (expect one job per tick, none missing, none twice)
 *
 * SQLite on a temp file and PostgreSQL (DOCKET_BENCH_PG_URL, else
 * postgres://postgres@127.0.0.1:5432/test) in a throwaway schema; BENCH_FLOW_DRIVERS=sqlite,postgres.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { type ClaimFigure, claimLatency } from './flow/claim.js'
import { type RateFigure, rateLimit } from './flow/rate.js'
import { type ScheduleFigure, scheduleFailover } from './flow/schedule.js'
import { log, pgUrl } from './lib/context.js'
import { num } from './lib/stats.js'
import { dropSchema } from './systems/storage.js'

const parts = process.argv.slice(2).length ? process.argv.slice(2) : ['claim', 'rate', 'schedule']
const drivers = (process.env.BENCH_FLOW_DRIVERS ?? 'sqlite,postgres').split(',')

/** A fresh database per part and driver, removed afterwards. */
async function withDatabase<T>(driver: string, part: string, run: (url: string) => Promise<T>): Promise<T> {
  if (driver === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'docket-flow-'))
    try {
      return await run(join(dir, `${part}.db`))
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }
  const schema = `bench_flow_${part}_${process.pid}`
  await dropSchema(pgUrl, schema)
  try {
    return await run(`${pgUrl}${pgUrl.includes('?') ? '&' : '?'}schema=${schema}`)
  } finally {
    await dropSchema(pgUrl, schema)
  }
}

const claims: ClaimFigure[] = []
const rates: RateFigure[] = []
const schedules: ScheduleFigure[] = []
console.log(
  `Docket flow benchmark: ${cpus().length} x ${cpus()[0]?.model.trim() ?? 'cpu'}, Node ${process.version}`,
)
for (const driver of drivers) {
  if (parts.includes('claim')) {
    log(`claim latency, ${driver}`)
    claims.push(...(await withDatabase(driver, 'claim', (url) => claimLatency(driver, url))))
  }
  if (parts.includes('rate')) {
    log(`rate limit, ${driver}`)
    rates.push(await withDatabase(driver, 'rate', (url) => rateLimit(driver, url)))
  }
  if (parts.includes('schedule')) {
    log(`schedule with leader kills, ${driver}`)
    schedules.push(await withDatabase(driver, 'schedule', (url) => scheduleFailover(driver, url)))
  }
}

const ms = (v: number) => `${num(v)} ms`
if (claims.length) {
  console.log('\nclaim latency (single claims, each completed; 1,000 groups x 100 waiting jobs)')
  console.log('driver     queue                      jobs      median     p99        median ratio  p99 ratio')
  for (const c of claims) {
    const plain = claims.find((x) => x.driver === c.driver && x.queue === 'plain')!
    const ratio = (a: number, b: number) => (c.queue === 'plain' ? '' : `${(a / b).toFixed(2)}x`)
    console.log(
      `${c.driver.padEnd(10)} ${c.queue.padEnd(26)} ${num(c.jobs).padEnd(9)} ${ms(c.median).padEnd(10)} ${ms(c.p99).padEnd(10)} ${ratio(c.median, plain.median).padEnd(13)} ${ratio(c.p99, plain.p99)}`,
    )
  }
}
if (rates.length) {
  console.log('\nrate limit 100/s, 4 worker processes (starts per 1-s window from the first start)')
  console.log(
    'driver     windows  max  mean   min  busiest sliding 1 s  starts  handler entries: max  lag median  lag max',
  )
  for (const r of rates)
    console.log(
      `${r.driver.padEnd(10)} ${String(r.windows.length).padEnd(8)} ${String(r.max).padEnd(4)} ${r.mean.toFixed(1).padEnd(6)} ${String(r.min).padEnd(4)} ${String(r.busiest).padEnd(19)} ${String(r.starts).padEnd(7)} ${String(Math.max(...r.handlerWindows)).padEnd(21)} ${ms(r.lagMedian).padEnd(11)} ${ms(r.lagMax)}`,
    )
}
if (schedules.length) {
  console.log('\nschedule every 1 s, maintenance leader SIGKILLed every 30 s')
  console.log('driver     minutes  kills  ticks  expected  missing  twice  jobs  most late')
  for (const s of schedules)
    console.log(
      `${s.driver.padEnd(10)} ${String(s.minutes).padEnd(8)} ${String(s.kills).padEnd(6)} ${String(s.ticks).padEnd(6)} ${String(s.expected).padEnd(9)} ${String(s.missing).padEnd(8)} ${String(s.twice).padEnd(6)} ${String(s.jobs).padEnd(5)} ${ms(s.mostLateMs)}`,
    )
}
