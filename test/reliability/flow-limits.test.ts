/**
 * Flow limits across processes with kills: worker processes, one SIGKILLed
 * now and then and replaced, serve a fair queue with a rate limit and a
 * per-group concurrency limit. Afterwards Docket's event log (when each job
 * became active, and when it stopped being active) must show that no window
 * of the rate's interval held more starts than its max, and that no group
 * ever had more active jobs than its limit, counting a killed worker's jobs
 * as active until their leases were recovered (as the claim counts them).
 *
 * Short (npm test): 3 workers, 8 s, one kill every 2 s. Long (npm run chaos): 4 workers, 40 s.
 */
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { Docket } from '../../src/index.js'
import { ms } from '../support/sql.js'
import { busiestWindow } from '../support/windows.js'
import {
  DRIVERS,
  figure,
  freshTarget,
  killAllWorkers,
  openSql,
  pick,
  type Sql,
  sleep,
  spawnWorker,
  type Target,
  until,
  type WorkerChild,
} from './support.js'

const P = pick(
  { workers: 3, chaosMs: 8_000, killEveryMs: 2_000 },
  { workers: 4, chaosMs: 40_000, killEveryMs: 2_000 },
)
const RATE = { max: 20, intervalMs: 1_000 }
const GROUP_LIMIT = 2
const GROUPS = ['acme', 'globex', 'initech', 'umbrella']
const LEASE_MS = 1_500
const LEAST_KILLS = 2

/** Most jobs active at once, from [start, end) intervals (a start and an end at one time: the end first). */
export function mostAtOnce(intervals: [number, number][]): number {
  const edges = intervals.flatMap(([s, e]) => [
    [s, 1],
    [e, -1],
  ]) as [number, number][]
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1])
  let now = 0
  let most = 0
  for (const [, d] of edges) {
    now += d
    most = Math.max(most, now)
  }
  return most
}

/** For a failure message: the intervals of the first group found over its limit at some moment. */
function overlapping(intervals: Map<string, [number, number][]>): string {
  for (const [group, list] of intervals) {
    for (const [s] of list) {
      const at = list.filter(([a, b]) => a <= s && s < b)
      if (at.length > GROUP_LIMIT) return `${group} at ${s}: ${JSON.stringify(at)}`
    }
  }
  return ''
}

for (const driver of DRIVERS) {
  describe(`reliability: rate and group limits with kills [${driver}]`, () => {
    let target: Target | undefined
    let docket: Docket | undefined
    let sql: Sql | undefined
    after(async () => {
      await killAllWorkers()
      await sql?.close()
      await docket?.close()
      await target?.cleanup()
    })

    it(`${P.workers} workers, one SIGKILLed every ${P.killEveryMs / 1000} s: never over ${RATE.max} starts per ${RATE.intervalMs} ms, nor ${GROUP_LIMIT} active per group`, async () => {
      target = await freshTarget(driver)
      docket = await Docket.open(target.url)
      sql = await openSql(target.url)
      await docket.createQueue({
        name: 'limited',
        maxAttempts: 100,
        fair: true,
        groupConcurrency: GROUP_LIMIT,
        rateLimit: RATE,
      })
      // More work than the limits let through in the time: the limits, not the supply, decide.
      const jobs = await docket.addMany(
        Array.from({ length: 400 }, (_, i) => ({
          queue: 'limited',
          type: 'work',
          group: GROUPS[i % GROUPS.length]!,
        })),
      )
      const groupOf = new Map(jobs.map((j) => [j.id, j.group!]))

      let spawned = 0
      const spawn = () =>
        spawnWorker({
          url: target!.url,
          id: `limits-${++spawned}`,
          queues: ['limited'],
          concurrency: 8,
          leaseMs: LEASE_MS,
          workMs: [30, 120],
          pollMs: 100,
          maintenanceIntervalMs: 100,
        })
      const live: WorkerChild[] = await Promise.all(Array.from({ length: P.workers }, spawn))
      const t0 = Date.now()
      let kills = 0
      // The chaos time, and at least LEAST_KILLS kills however long a respawn takes on a loaded machine.
      while (Date.now() - t0 < P.chaosMs || kills < LEAST_KILLS) {
        await sleep(P.killEveryMs)
        const victim = live.splice(Math.floor(Math.random() * live.length), 1)[0]!
        await victim.kill()
        kills++
        live.push(await spawn())
      }
      await Promise.all(live.map((w) => w.stop()))
      // Leases of the last killed worker's jobs: wait until nothing is active, so every interval has an end.
      const closer = await Docket.open(target.url)
      try {
        await until(
          async () => {
            await closer.recoverExpiredLeases()
            return (await closer.countJobs('limited')).limited!.active === 0
          },
          30_000,
          'no active job left',
        )
      } finally {
        await closer.close()
      }

      const events = await sql.all<{ job_id: string; status: string; at: unknown }>(
        `SELECT job_id, status, at FROM events WHERE queue = 'limited' AND kind = 'state' ORDER BY id`,
      )
      const starts: number[] = []
      const open = new Map<string, number>()
      const intervals = new Map<string, [number, number][]>()
      for (const e of events) {
        const at = ms(e.at)
        const job = String(e.job_id)
        if (e.status === 'active') {
          starts.push(at)
          open.set(job, at)
        } else if (open.has(job)) {
          const group = groupOf.get(job)!
          intervals.set(group, [...(intervals.get(group) ?? []), [open.get(job)!, at]])
          open.delete(job)
        }
      }
      assert.equal(open.size, 0, 'every start has an end')
      const busiest = busiestWindow(starts, RATE.intervalMs)
      const perGroup = GROUPS.map((g) => mostAtOnce(intervals.get(g) ?? []))
      const seconds = (Math.max(...starts) - Math.min(...starts)) / 1000
      figure('flow-limits', {
        driver,
        kills,
        starts: starts.length,
        busiestWindow: busiest,
        startsPerSecond: starts.length / Math.max(seconds, 0.001),
        mostActiveInAGroup: Math.max(...perGroup),
      })
      assert.ok(kills >= LEAST_KILLS, `only ${kills} kills`)
      assert.ok(starts.length > RATE.max * 2, `only ${starts.length} starts: the test measured little`)
      assert.ok(busiest <= RATE.max, `${busiest} starts in one window of ${RATE.intervalMs} ms`)
      assert.ok(
        perGroup.every((n) => n <= GROUP_LIMIT),
        `most active at once per group: ${perGroup.join(', ')}; ${overlapping(intervals)}`,
      )
    })
  })
}
