/**
 * A schedule every second through leader failovers (issue 14): 3 worker
 * processes compete for the maintenance leadership (which runs schedules);
 * every 30 s the current leader is SIGKILLed and a fresh process replaces
 * it. Leadership lasts 1 s unless renewed (maintenance every 200 ms), so a
 * successor takes over within about a second, and catchUp 'all' runs the
 * ticks missed meanwhile. Afterwards: one job per tick, none missing, none twice.
 *
 * The schedule keeps only its newest 200 runs, so the runs (tick, job) are
 * collected every 10 s while it goes.
 */
import { Docket } from '../../src/index.js'
import { log } from '../lib/context.js'
import { ms, openSql, type Sql } from '../lib/sql.js'
import { type FlowChild, killFlow, spawnFlow, stopFlow } from './children.js'
import { int } from './settings.js'

const MINUTES = Number(process.env.BENCH_FLOW_MINUTES ?? 10)
const KILL_EVERY_MS = int('BENCH_FLOW_KILL_EVERY_MS', 30_000)
const PROCESSES = 3
const QUEUE = 'ticks'

export interface ScheduleFigure {
  driver: string
  minutes: number
  kills: number
  /** Distinct ticks with a job, within the expected ones. */
  ticks: number
  expected: number
  missing: number
  /** Jobs beyond one per tick (and jobs of the queue no tick made). */
  twice: number
  /** Jobs made for the expected ticks. */
  jobs: number
  /** Most a tick's job was made after its tick time (the failover gap). */
  mostLateMs: number
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** The runs of the schedule so far, tick time -> job ids (a Set, so re-reading a run adds nothing). */
async function collect(sql: Sql, id: string, runs: Map<number, Set<string>>, late: number[]): Promise<void> {
  const rows = await sql.all<{
    tick_at: unknown
    job_id: string | null
    manual: unknown
    created_at: unknown
  }>(
    `SELECT r.tick_at, r.job_id, r.manual, j.created_at FROM schedule_runs r
     LEFT JOIN jobs j ON j.id = r.job_id WHERE r.schedule_id = ?`,
    [id],
  )
  for (const r of rows) {
    if (r.manual === true || r.manual === 1 || r.job_id === null) continue
    const tick = ms(r.tick_at)
    const jobs = runs.get(tick) ?? new Set<string>()
    if (!jobs.has(String(r.job_id)) && r.created_at != null) late.push(ms(r.created_at) - tick)
    jobs.add(String(r.job_id))
    runs.set(tick, jobs)
  }
}

async function leader(sql: Sql): Promise<string | null> {
  const [row] = await sql.all<{ holder: string }>(
    `SELECT holder FROM leader_leases WHERE name = 'maintenance' ORDER BY expires_at DESC LIMIT 1`,
  )
  return row?.holder ?? null
}

export async function scheduleFailover(driver: string, url: string): Promise<ScheduleFigure> {
  const docket = await Docket.open(url)
  await docket.createQueue({ name: QUEUE })
  let spawned = 0
  const spawn = () =>
    spawnFlow({
      url,
      id: `leader-${++spawned}`,
      queue: QUEUE,
      concurrency: 2,
      start: true,
      maintenanceIntervalMs: 200,
    })
  const live: FlowChild[] = Array.from({ length: PROCESSES }, spawn)
  await Promise.all(live.map((c) => c.ready))
  const sql = await openSql(url)
  const schedule = await docket.createSchedule({
    name: 'pulse',
    every: 1_000,
    queue: QUEUE,
    type: 'tick',
    catchUp: 'all',
  })
  const [{ tick_cursor }] = (await sql.all<{ tick_cursor: unknown }>(
    'SELECT tick_cursor FROM schedules WHERE id = ?',
    [schedule.id],
  )) as [{ tick_cursor: unknown }]
  const start = ms(tick_cursor)
  const expected = Math.round(MINUTES * 60)
  const lastTick = start + expected * 1_000
  const runs = new Map<number, Set<string>>()
  const late: number[] = []
  let kills = 0
  const t0 = Date.now()
  let nextKill = t0 + KILL_EVERY_MS
  let nextCollect = t0 + 10_000
  while (Date.now() < t0 + expected * 1_000) {
    await sleep(250)
    if (Date.now() >= nextKill) {
      nextKill += KILL_EVERY_MS
      const holder = await leader(sql)
      const victim = live.findIndex((c) => c.id === holder)
      if (victim >= 0) {
        await killFlow(live.splice(victim, 1)[0]!)
        kills++
        const fresh = spawn()
        live.push(fresh)
        await fresh.ready
      }
    }
    if (Date.now() >= nextCollect) {
      nextCollect += 10_000
      await collect(sql, schedule.id, runs, late)
      log(`  ${driver}: ${runs.size} ticks so far, ${kills} leader kills`)
    }
  }
  // The last tick, run by whoever leads now; then no more ticks.
  for (let i = 0; i < 40 && ![...runs.keys()].some((t) => t >= lastTick); i++) {
    await sleep(250)
    await collect(sql, schedule.id, runs, late)
  }
  await docket.pauseSchedule(schedule.id)
  await collect(sql, schedule.id, runs, late)
  await Promise.all(live.map((c) => stopFlow(c)))
  const [{ n }] = (await sql.all<{ n: number }>(
    `SELECT count(*) AS n FROM jobs WHERE queue = '${QUEUE}'`,
  )) as [{ n: number }]
  await sql.close()
  await docket.close()

  let missing = 0
  let ticks = 0
  let twice = 0
  let jobs = 0
  for (let k = 1; k <= expected; k++) {
    const made = runs.get(start + k * 1_000)?.size ?? 0
    if (made > 0) ticks++
    else missing++
    if (made > 1) twice += made - 1
    jobs += made
  }
  const known = [...runs.values()].reduce((a, set) => a + set.size, 0)
  const figure: ScheduleFigure = {
    driver,
    minutes: MINUTES,
    kills,
    ticks,
    expected,
    missing,
    // A tick with more than one job, or a job of the queue that no run knows of.
    twice: twice + Math.max(0, Number(n) - known),
    jobs,
    mostLateMs: late.length ? Math.max(...late) : 0,
  }
  log(`  ${driver}: ${JSON.stringify(figure)}`)
  return figure
}
