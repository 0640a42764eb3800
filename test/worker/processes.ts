/**
 * Workers in real child processes against one database: nothing lost,
 * nothing run twice, limits held across processes, crashes recovered.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { Docket } from '../../src/index.js'
import {
  type Driver,
  freshTarget,
  sleep,
  spawnWorker,
  type Target,
  until,
  type WorkerProcess,
} from './harness.js'
import { openRecorder, type Recorder } from './recorder.js'

export function processSuite(driver: Driver): void {
  describe(`worker processes [${driver}]`, () => {
    let target: Target
    let docket: Docket
    let recorder: Recorder
    const children: WorkerProcess[] = []

    before(async () => {
      target = await freshTarget(driver)
      docket = await Docket.open(target.url)
      recorder = await openRecorder(target.url)
    })
    after(async () => {
      for (const c of children) if (c.child.exitCode === null) await c.kill()
      await recorder.close()
      await docket.close()
      await target.cleanup()
    })

    const spawn = async (
      queue: string,
      id: string,
      extra: Partial<Parameters<typeof spawnWorker>[0]> = {},
    ) => {
      const w = await spawnWorker({
        url: target.url,
        queues: [queue],
        concurrency: 5,
        workMs: 0,
        id,
        ...extra,
      })
      children.push(w)
      return w
    }

    const countsOf = async (queue: string) => (await docket.countJobs(queue))[queue]!

    it('4 worker processes complete 2,000 jobs, each exactly once', async () => {
      await docket.createQueue({ name: 'many' })
      const jobs = await docket.addMany(
        Array.from({ length: 2000 }, (_, i) => ({ queue: 'many', type: 'n', payload: i })),
      )
      const workers = await Promise.all(
        [1, 2, 3, 4].map((i) => spawn('many', `many-${i}`, { concurrency: 10 })),
      )
      await until(async () => (await countsOf('many')).completed === 2000, 90_000, '2,000 completions')
      const executions = await recorder.counts()
      for (const job of jobs)
        assert.equal(executions.get(job.id), 1, `job ${job.id} ran ${executions.get(job.id) ?? 0} times`)
      const used = new Set((await recorder.rows()).map((r) => r.worker))
      assert.ok(used.size >= 2, `work was shared (${[...used].join(', ')})`)
      await Promise.all(workers.map((w) => w.stop()))
    })

    it('a SIGKILLed worker’s job runs again elsewhere after its lease expires, and completes once', async () => {
      await docket.createQueue({ name: 'crash' })
      const victim = await spawn('crash', 'victim', { concurrency: 1, workMs: 60_000, leaseMs: 1_000 })
      const job = await docket.add('crash', 'slow', {})
      await until(() => victim.started.includes(job.id), 10_000, 'the victim to start the job')
      await victim.kill()
      const killedAt = Date.now()
      const rescuer = await spawn('crash', 'rescuer', { concurrency: 1, workMs: 50, leaseMs: 1_000 })
      await until(async () => (await docket.getJob(job.id)).status === 'completed', 15_000, 'the rescue')
      const detail = await docket.getJob(job.id)
      assert.equal(detail.attempts, 2)
      assert.equal(detail.lastError?.name, 'LeaseExpired')
      assert.equal(detail.events.filter((e) => e.kind === 'state' && e.status === 'completed').length, 1)
      assert.deepEqual(detail.result, { by: 'rescuer' })
      assert.ok(rescuer.started.includes(job.id))
      assert.ok(Date.now() - killedAt < 10_000)
      await rescuer.stop()
    })

    it('graceful shutdown under load loses nothing and doubles nothing', async () => {
      await docket.createQueue({ name: 'drain' })
      const jobs = await docket.addMany(
        Array.from({ length: 300 }, (_, i) => ({ queue: 'drain', type: 'n', payload: i })),
      )
      const a = await spawn('drain', 'drain-a', { workMs: 20 })
      const b = await spawn('drain', 'drain-b', { workMs: 20 })
      await until(async () => (await countsOf('drain')).completed >= 60, 30_000, '60 completions')
      await a.stop()
      assert.equal(a.child.exitCode, 0)
      await until(async () => (await countsOf('drain')).completed === 300, 60_000, 'all completions')
      const executions = await recorder.counts()
      for (const job of jobs)
        assert.equal(executions.get(job.id), 1, `job ${job.id} ran ${executions.get(job.id) ?? 0} times`)
      const workers = await docket.listWorkers()
      assert.equal(workers.find((w) => w.id === 'drain-a')?.status, 'stopped')
      await b.stop()
    })

    it('a queue limit of 3 holds across 4 processes of concurrency 5', async () => {
      await docket.createQueue({ name: 'limited', concurrency: 3 })
      await docket.addMany(
        Array.from({ length: 60 }, (_, i) => ({ queue: 'limited', type: 'n', payload: i })),
      )
      const workers = await Promise.all([1, 2, 3, 4].map((i) => spawn('limited', `lim-${i}`, { workMs: 40 })))
      let peak = 0
      while ((await countsOf('limited')).completed < 60) {
        peak = Math.max(peak, (await countsOf('limited')).active)
        await sleep(5)
      }
      assert.ok(peak <= 3, `peak active ${peak}`)
      // The same, from the handlers' own clocks: never more than 3 executions overlapping.
      const rows = (await recorder.rows()).filter((r) => r.worker.startsWith('lim-'))
      const edges = rows
        .flatMap((r) => [
          [r.startedAt, 1],
          [r.endedAt, -1],
        ])
        .sort((x, y) => x[0]! - y[0]! || x[1]! - y[1]!)
      let now = 0
      let overlap = 0
      for (const [, d] of edges) {
        now += d!
        overlap = Math.max(overlap, now)
      }
      assert.ok(overlap <= 3, `handlers overlapped ${overlap} at once`)
      await Promise.all(workers.map((w) => w.stop()))
    })
  })
}
