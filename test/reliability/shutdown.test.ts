/**
 * Graceful shutdown under load: worker processes get SIGTERM while jobs keep
 * coming, some of them longer than the grace period. Each worker must exit
 * (code 0) within its grace period plus its own cleanup, let its short jobs
 * finish, hand its long ones back without counting the attempt, and the
 * fleet must lose nothing and complete nothing twice.
 */
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { Docket } from '../../src/index.js'
import { openExecutions } from './executions.js'
import {
  completionsPerJob,
  DRIVERS,
  figure,
  freshTarget,
  killAllWorkers,
  LONG,
  openSql,
  pick,
  type Sql,
  sleep,
  spawnWorker,
  type Target,
  until,
  type WorkerChild,
} from './support.js'

const P = pick({ stops: 2, jobsPerTick: 6, longEvery: 10 }, { stops: 8, jobsPerTick: 10, longEvery: 10 })
const GRACE_MS = 3_000
const LONG_JOB_MS = GRACE_MS + 3_000
/** Exit within the grace period plus cleanup: a generous margin in npm test, 1 s in the long run. */
const EXIT_BOUND_MS = GRACE_MS + (LONG ? 1_000 : 5_000)

for (const driver of DRIVERS) {
  describe(`reliability: graceful shutdown under load [${driver}]`, () => {
    let target: Target | undefined
    let docket: Docket | undefined
    let sql: Sql | undefined
    let feeding = false
    after(async () => {
      feeding = false
      await killAllWorkers()
      await sql?.close()
      await docket?.close()
      await target?.cleanup()
    })

    it(`SIGTERM to ${P.stops} busy workers: each exits within the grace period, nothing lost or doubled`, async () => {
      target = await freshTarget(driver)
      docket = await Docket.open(target.url)
      sql = await openSql(target.url)
      const executions = await openExecutions(target.url)
      await docket.createQueue({ name: 'drain', maxAttempts: 10 })
      let spawned = 0
      const spawn = () =>
        spawnWorker({
          url: target!.url,
          id: `drain-${++spawned}`,
          queues: ['drain'],
          concurrency: 5,
          leaseMs: 5_000,
          workMs: [50, 300],
          shutdownGraceMs: GRACE_MS,
        })
      const live: WorkerChild[] = await Promise.all([spawn(), spawn(), spawn()])

      const ids: string[] = []
      const longIds = new Set<string>()
      feeding = true
      const feeder = (async () => {
        for (let tick = 0; feeding; tick++) {
          const jobs = await docket!.addMany(
            Array.from({ length: P.jobsPerTick }, (_, i) => ({
              queue: 'drain',
              type: 'work',
              payload: tick % P.longEvery === 0 && i === 0 ? { workMs: LONG_JOB_MS } : {},
            })),
          )
          for (const j of jobs) {
            ids.push(j.id)
            if ((j.payload as { workMs?: number }).workMs) longIds.add(j.id)
          }
          await sleep(100)
        }
      })()

      const stops: { worker: string; at: number; ms: number; code: number | null }[] = []
      await until(async () => (await docket!.countJobs('drain')).drain!.completed >= 50, 60_000, 'warm-up')
      for (let i = 0; i < P.stops; i++) {
        // Stop a worker that has just started a job that will outlast the grace period.
        const holdsLong = async (w: WorkerChild) =>
          (await docket!.listJobs({ queue: 'drain', status: 'active', limit: 1000 })).jobs.some(
            (j) =>
              longIds.has(j.id) &&
              j.lease?.workerId === w.id &&
              Date.now() - j.lease.lockedAt.getTime() < LONG_JOB_MS - GRACE_MS - 1_000,
          )
        let victim: WorkerChild | undefined
        await until(
          async () => {
            for (const w of live) if (await holdsLong(w)) victim = w
            return victim !== undefined
          },
          30_000,
          'a worker running a job longer than the grace period',
        )
        live.splice(live.indexOf(victim!), 1)
        const replacement = spawn()
        const at = Date.now()
        const { ms, code } = await victim!.stop()
        stops.push({ worker: victim!.id, at, ms, code })
        live.push(await replacement)
        await sleep(1_000)
      }
      feeding = false
      await feeder
      await until(
        async () => (await docket!.countJobs('drain')).drain!.completed === ids.length,
        60_000,
        'every job completed',
      )
      await Promise.all(live.map((w) => w.stop()))

      const completions = await completionsPerJob(sql)
      const lost = ids.filter((id) => (completions.get(id) ?? 0) === 0).length
      const doubled = ids.filter((id) => (completions.get(id) ?? 0) > 1).length
      const rows = await executions.rows()
      await executions.close()
      // Short jobs a stopping worker was running when told to stop, and finished itself.
      const drained = rows.filter((r) =>
        stops.some(
          (s) => r.worker === s.worker && r.startedAt < s.at && r.endedAt !== null && r.endedAt >= s.at,
        ),
      ).length
      // Runs of long jobs a stopping worker handed back: run again elsewhere, the interrupted attempt not counted.
      const handedBackRuns = rows.filter(
        (r) => longIds.has(r.jobId) && r.endedAt === null && stops.some((s) => s.worker === r.worker),
      )
      const handedBack = [...new Set(handedBackRuns.map((r) => r.jobId))]
      const attemptsCounted = await Promise.all(
        handedBack.map(async (id) => {
          const runs = rows.filter((r) => r.jobId === id).length
          return { runs, attempts: (await docket!.getJob(id)).attempts }
        }),
      )
      figure('graceful-shutdown', {
        driver,
        jobs: ids.length,
        stops: stops.length,
        graceMs: GRACE_MS,
        maxExitMs: Math.max(...stops.map((s) => s.ms)),
        drainedOnStop: drained,
        handedBack: handedBackRuns.length,
        lost,
        doubled,
      })

      assert.ok(
        stops.every((s) => s.code === 0),
        `exit codes ${stops.map((s) => s.code)}`,
      )
      for (const s of stops)
        assert.ok(s.ms <= EXIT_BOUND_MS, `${s.worker} took ${s.ms} ms to exit (bound ${EXIT_BOUND_MS} ms)`)
      assert.equal(lost, 0)
      assert.equal(doubled, 0)
      assert.ok(handedBackRuns.length >= stops.length, 'every stop handed back the long job it ran')
      for (const a of attemptsCounted)
        assert.ok(a.attempts < a.runs, `a handed-back run was counted as an attempt (${JSON.stringify(a)})`)
    })
  })
}
