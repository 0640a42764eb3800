/**
 * Poison jobs: one that SIGKILLs whichever worker process runs it, and one
 * that hangs forever ignoring its abort signal (it has a timeout). Each must
 * end `failed` after its attempts, while the rest of the queue keeps flowing
 * through the same workers (restarted after each crash, as a supervisor would).
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
  openSql,
  pick,
  type Sql,
  spawnWorker,
  type Target,
  until,
  type WorkerChild,
} from './support.js'

const NORMAL_JOBS = pick(300, 3_000)
const MAX_ATTEMPTS = 3
const LEASE_MS = 1_500

for (const driver of DRIVERS) {
  describe(`reliability: poison jobs [${driver}]`, () => {
    let target: Target | undefined
    let docket: Docket | undefined
    let sql: Sql | undefined
    let supervising = true
    after(async () => {
      supervising = false
      await killAllWorkers()
      await sql?.close()
      await docket?.close()
      await target?.cleanup()
    })

    it(`a job that kills its worker, and one that hangs, end failed after ${MAX_ATTEMPTS} attempts without blocking ${NORMAL_JOBS} others`, async () => {
      target = await freshTarget(driver)
      docket = await Docket.open(target.url)
      sql = await openSql(target.url)
      const executions = await openExecutions(target.url)
      await docket.createQueue({
        name: 'poison',
        maxAttempts: MAX_ATTEMPTS,
        backoff: { type: 'fixed', delayMs: 100 },
      })

      // A supervisor: two worker processes, each restarted when it dies.
      let spawned = 0
      let crashes = 0
      const live = new Set<WorkerChild>()
      const keep = async (): Promise<void> => {
        const w = await spawnWorker({
          url: target!.url,
          id: `poison-${++spawned}`,
          queues: ['poison'],
          concurrency: 4,
          leaseMs: LEASE_MS,
          workMs: [10, 60],
        })
        live.add(w)
        void w.exited.then((code) => {
          live.delete(w)
          if (code !== 0 && supervising) {
            crashes++
            void keep()
          }
        })
      }
      await Promise.all([keep(), keep()])

      const t0 = Date.now()
      const [crash, hang] = await docket.addMany([
        { queue: 'poison', type: 'crash', priority: 'urgent' },
        { queue: 'poison', type: 'hang', priority: 'urgent', timeoutMs: 1_000 },
      ])
      const normal = await docket.addMany(
        Array.from({ length: NORMAL_JOBS }, (_, i) => ({ queue: 'poison', type: 'work', payload: { i } })),
      )
      await until(
        async () => {
          const c = (await docket!.countJobs('poison')).poison!
          return c.failed === 2 && c.completed === NORMAL_JOBS
        },
        120_000,
        'both poison jobs failed and every other job completed',
      )
      supervising = false
      await Promise.all([...live].map((w) => w.stop()))

      const crashed = await docket.getJob(crash!.id)
      const hung = await docket.getJob(hang!.id)
      const rows = await executions.rows()
      await executions.close()
      const runsOf = (id: string) => rows.filter((r) => r.jobId === id).length
      const completions = await completionsPerJob(sql)
      const finishedBeforePoison = await Promise.all(
        normal.map(async (j) => (await docket!.getJob(j.id)).finishedAt!.getTime()),
      )
      const poisonDone = Math.max(crashed.finishedAt!.getTime(), hung.finishedAt!.getTime())
      const whilePoisonPending = finishedBeforePoison.filter((t) => t < poisonDone).length

      figure('poison', {
        driver,
        maxAttempts: MAX_ATTEMPTS,
        crashAttempts: crashed.attempts,
        crashRuns: runsOf(crash!.id),
        workerCrashes: crashes,
        hangAttempts: hung.attempts,
        poisonFailedAfterMs: poisonDone - t0,
        normalJobs: NORMAL_JOBS,
        normalCompleted: normal.filter((j) => completions.get(j.id) === 1).length,
        normalDoneWhilePoisonPending: whilePoisonPending,
      })

      assert.equal(crashed.status, 'failed')
      assert.equal(crashed.attempts, MAX_ATTEMPTS)
      assert.equal(crashed.errorCount, MAX_ATTEMPTS)
      assert.equal(crashed.lastError?.name, 'LeaseExpired')
      assert.equal(runsOf(crash!.id), MAX_ATTEMPTS, 'the crashing job ran once per attempt')
      assert.equal(crashes, MAX_ATTEMPTS, 'each attempt of the crashing job killed one worker')
      assert.equal(hung.status, 'failed')
      assert.equal(hung.attempts, MAX_ATTEMPTS)
      assert.equal(hung.errorCount, MAX_ATTEMPTS)
      // Its own timeout, or the crash of the worker it shared with the crashing job.
      assert.match(hung.lastError?.message ?? '', /timed out|lease expired/)
      for (const j of normal)
        assert.equal(completions.get(j.id), 1, `job ${j.id} completed ${completions.get(j.id)} times`)
      assert.ok(whilePoisonPending > 0, 'no other job finished while the poison jobs were being retried')
    })
  })
}
