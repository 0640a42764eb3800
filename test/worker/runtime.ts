/** The worker runtime in one process: the handler context, signals, routing, modes, dependencies, batches. */
import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'
import {
  type Docket,
  type Handler,
  type Job,
  JobAbortedError,
  UnrecoverableError,
  Worker,
  type WorkerOptions,
} from '../../src/index.js'
import { type Driver, nextIdle, sleep, until, useWorkerDocket } from './harness.js'

export function runtimeSuite(driver: Driver): void {
  describe(`worker runtime [${driver}]`, () => {
    const t = useWorkerDocket(driver)
    const workers = t.workers
    let docket: Docket
    before(() => {
      docket = t.docket
    })

    const start = async (
      queues: string[],
      handlers: WorkerOptions['handlers'],
      extra: Partial<WorkerOptions> = {},
    ) => {
      const w = new Worker(docket, { queues, handlers, pollMs: 100, onError: () => {}, ...extra })
      workers.push(w)
      return w.start()
    }
    const settled = (id: string, timeoutMs = 10_000) =>
      until(
        async () => ['completed', 'failed', 'cancelled'].includes((await docket.getJob(id)).status),
        timeoutMs,
        `job ${id} to finish`,
      )

    it('runs a handler with progress, steps and logs, and stores its result', async () => {
      await docket.createQueue({ name: 'ctx' })
      const worker = await start(['ctx'], {
        parse: async (job, ctx) => {
          assert.equal(ctx.attempt, 1)
          const words = await ctx.step('split', () =>
            String((job.payload as { text: string }).text).split(' '),
          )
          await ctx.progress(50, 'half way')
          await ctx.log('counted', { n: words.length })
          return { words: words.length }
        },
      })
      const job = await docket.add('ctx', 'parse', { text: 'a b c' })
      await settled(job.id)
      const detail = await docket.getJob(job.id)
      assert.equal(detail.status, 'completed')
      assert.deepEqual(detail.result, { words: 3 })
      assert.equal(detail.progress.percent, 100)
      const kinds = detail.events.map((e) => e.kind)
      assert.deepEqual(
        kinds.filter((k) => k !== 'state' && k !== 'added'),
        ['step.started', 'step.completed', 'progress', 'log'],
      )
      const stepDone = detail.events.find((e) => e.kind === 'step.completed')!
      assert.equal(stepDone.step, 'split')
      assert.equal(typeof (stepDone.data as { durationMs: number }).durationMs, 'number')
      await worker.close()
    })

    it('drains a backlog without waiting for a poll: slots freed by written completions claim again at once', async () => {
      // With a poll interval of a minute, any claim that waited for the poll would stall this test.
      await docket.createQueue({ name: 'backlog' })
      const jobs = await docket.addMany(
        Array.from({ length: 600 }, (_, i) => ({ queue: 'backlog', type: 'noop', payload: { i } })),
      )
      let runs = 0
      await start(['backlog'], () => ++runs, { concurrency: 3, pollMs: 60_000 })
      await until(
        async () => (await docket.countJobs('backlog')).backlog!.completed === jobs.length,
        30_000,
        'every job to complete',
      )
      assert.equal(runs, jobs.length)
    })

    it('retries a throwing handler with backoff, then fails; UnrecoverableError fails at once', async () => {
      await docket.createQueue({ name: 'retry', maxAttempts: 3, backoff: { type: 'fixed', delayMs: 20 } })
      let calls = 0
      await start(['retry'], {
        flaky: () => {
          calls++
          throw new Error(`attempt ${calls} broke`)
        },
        fatal: () => {
          throw new UnrecoverableError('bad input')
        },
      })
      const flaky = await docket.add('retry', 'flaky', {})
      const fatal = await docket.add('retry', 'fatal', {})
      await settled(flaky.id)
      await settled(fatal.id)
      const f = await docket.getJob(flaky.id)
      assert.equal(f.status, 'failed')
      assert.equal(f.attempts, 3)
      assert.equal(f.errorCount, 3)
      assert.equal(f.lastError?.message, 'attempt 3 broke')
      assert.equal(f.events.filter((e) => e.kind === 'state' && e.status === 'scheduled').length, 2)
      const u = await docket.getJob(fatal.id)
      assert.equal(u.status, 'failed')
      assert.equal(u.attempts, 1)
      assert.equal(u.lastError?.retryable, false)
    })

    it('fails a job whose result is too large to store, and writes the results finished beside it', async () => {
      // Review finding: one oversized result made completeMany refuse its whole batch, so the
      // other completions in it were never written and their jobs ran again after their leases.
      await docket.createQueue({ name: 'big-result' })
      const jobs = await docket.addMany(
        Array.from({ length: 10 }, (_, i) => ({ queue: 'big-result', type: 't', payload: { i } })),
      )
      let go: () => void = () => {}
      const released = new Promise<void>((resolve) => {
        go = resolve
      })
      await start(
        ['big-result'],
        async (job) => {
          await released // all ten finish in the same tick, so they share a batch
          const i = (job.payload as { i: number }).i
          return i === 3 ? { blob: 'x'.repeat(2_000_000) } : { i }
        },
        { concurrency: 10, leaseMs: 60_000 },
      )
      await until(
        async () => (await docket.countJobs('big-result'))['big-result']!.active === 10,
        10_000,
        'all ten running',
      )
      go()
      for (const j of jobs) await settled(j.id)
      const done = await Promise.all(jobs.map((j) => docket.getJob(j.id)))
      assert.deepEqual(
        done.map((j) => j.status),
        done.map((_, i) => (i === 3 ? 'failed' : 'completed')),
      )
      assert.match(done[3]!.lastError?.message ?? '', /cannot be stored: .*over the limit/)
      assert.equal(done[3]!.attempts, 1, 'not retried: the same result would be refused again')
    })

    it('fires the handler signal within one second of a cancel', async () => {
      await docket.createQueue({ name: 'cancel' })
      let abortedAt = 0
      let reason: unknown
      let begun = false
      await start(['cancel'], {
        wait: (_job, ctx) =>
          new Promise((_, reject) => {
            begun = true
            ctx.signal.addEventListener('abort', () => {
              abortedAt = Date.now()
              reason = ctx.signal.reason
              reject(ctx.signal.reason)
            })
          }),
      })
      const job = await docket.add('cancel', 'wait', {})
      await until(() => begun, 5_000, 'the handler to start')
      const cancelledAt = Date.now()
      await docket.cancelJob(job.id)
      await until(() => abortedAt > 0, 2_000, 'the abort')
      assert.ok(abortedAt - cancelledAt < 1_000, `signal fired after ${abortedAt - cancelledAt} ms`)
      assert.ok(reason instanceof JobAbortedError && reason.reason === 'cancelled')
      assert.equal((await docket.getJob(job.id)).status, 'cancelled')
    })

    it('enforces job timeouts', async () => {
      await docket.createQueue({ name: 'timeout', maxAttempts: 1, timeoutMs: 100 })
      let sawAbort = false
      await start(['timeout'], {
        slow: (_job, ctx) =>
          new Promise((resolve) => {
            ctx.signal.addEventListener('abort', () => {
              sawAbort = true
            })
            setTimeout(resolve, 3_000)
          }),
      })
      const job = await docket.add('timeout', 'slow', {})
      await settled(job.id, 3_000)
      const detail = await docket.getJob(job.id)
      assert.equal(detail.status, 'failed')
      assert.match(detail.lastError?.message ?? '', /timed out after 100 ms/)
      assert.ok(sawAbort)
    })

    it('routes jobs that need a capability only to workers that have it', async () => {
      await docket.createQueue({ name: 'route' })
      const ran: Record<string, string> = {}
      const handler =
        (who: string): Handler =>
        (job) => {
          ran[job.id] = who
        }
      await start(['route'], handler('cpu'), { kind: 'cpu' })
      await start(['route'], handler('gpu'), { kind: 'gpu', capabilities: ['gpu'] })
      const gpuJobs = await docket.addMany(
        Array.from({ length: 10 }, () => ({ queue: 'route', type: 'render', capabilities: ['gpu'] })),
      )
      for (const j of gpuJobs) await settled(j.id)
      for (const j of gpuJobs) assert.equal(ran[j.id], 'gpu')
      const kinds = (await docket.listWorkers()).map((w) => w.kind)
      assert.ok(kinds.includes('gpu') && kinds.includes('cpu'))
    })

    it('holds jobs of a manual queue until promoted, and hands out nothing while paused', async () => {
      await docket.createQueue({ name: 'manual', mode: 'manual' })
      const ran: string[] = []
      await start(['manual'], (job) => {
        ran.push(job.id)
      })
      const [a, b, c] = await docket.addMany([0, 1, 2].map(() => ({ queue: 'manual', type: 't' })))
      assert.equal((await nextIdle('manual')).claimed, 0, 'the worker looked and claimed nothing')
      assert.equal(ran.length, 0)
      assert.equal((await docket.getJob(a!.id)).status, 'held')
      await docket.promote(a!.id)
      await settled(a!.id)
      assert.deepEqual(ran, [a!.id])
      await docket.pauseQueue('manual')
      await docket.promote({ queue: 'manual' })
      assert.equal((await nextIdle('manual')).claimed, 0, 'nothing is handed out while paused')
      assert.equal(ran.length, 1)
      await docket.resumeQueue('manual')
      await settled(b!.id)
      await settled(c!.id)
      assert.equal(ran.length, 3)
    })

    it('runs dependency chains and diamonds in order, and fails dependents of a failure', async () => {
      await docket.createQueue({ name: 'deps', maxAttempts: 1 })
      const order: string[] = []
      await start(
        ['deps'],
        {
          step: (job) => {
            order.push((job.payload as { name: string }).name)
          },
          broken: () => {
            throw new Error('broken')
          },
        },
        { concurrency: 4 },
      )
      const ids = {
        a: crypto.randomUUID(),
        b: crypto.randomUUID(),
        c: crypto.randomUUID(),
        d: crypto.randomUUID(),
      }
      await docket.addMany([
        { id: ids.d, queue: 'deps', type: 'step', payload: { name: 'd' }, dependsOn: [ids.b, ids.c] },
        { id: ids.b, queue: 'deps', type: 'step', payload: { name: 'b' }, dependsOn: [ids.a] },
        { id: ids.c, queue: 'deps', type: 'step', payload: { name: 'c' }, dependsOn: [ids.a] },
        { id: ids.a, queue: 'deps', type: 'step', payload: { name: 'a' } },
      ])
      await settled(ids.d)
      assert.equal(order[0], 'a')
      assert.equal(order[3], 'd')
      const chain = { root: crypto.randomUUID(), child: crypto.randomUUID(), grandchild: crypto.randomUUID() }
      const [root, child, grandchild] = (await docket.addMany([
        { id: chain.root, queue: 'deps', type: 'broken' },
        { id: chain.child, queue: 'deps', type: 'step', payload: { name: 'x' }, dependsOn: [chain.root] },
        {
          id: chain.grandchild,
          queue: 'deps',
          type: 'step',
          payload: { name: 'y' },
          dependsOn: [chain.child],
        },
      ])) as [Job, Job, Job]
      await settled(grandchild.id)
      assert.equal((await docket.getJob(child.id)).status, 'failed')
      assert.match((await docket.getJob(child.id)).lastError?.message ?? '', new RegExp(root.id))
      assert.equal((await docket.getJob(grandchild.id)).status, 'failed')
      assert.ok(!order.includes('x') && !order.includes('y'))
    })

    it('reports batch status, cancels a batch and retries its failed jobs', async () => {
      await docket.createQueue({ name: 'batch', maxAttempts: 1 })
      let fail = true
      await start(['batch'], {
        ok: () => 1,
        flaky: () => {
          if (fail) throw new Error('not yet')
          return 2
        },
      })
      const { batch, jobs } = await docket.addBatch(
        [
          { queue: 'batch', type: 'ok' },
          { queue: 'batch', type: 'flaky' },
          { queue: 'batch', type: 'ok' },
        ],
        { name: 'nightly', owner: 'alice' },
      )
      assert.equal(batch.total, 3)
      for (const j of jobs) await settled(j.id)
      let summary = await docket.getBatch(batch.id)
      assert.equal(summary.counts.completed, 2)
      assert.equal(summary.counts.failed, 1)
      assert.equal(summary.progress, 100)
      fail = false
      assert.equal(await docket.retryBatch(batch.id), 1)
      await until(
        async () => (await docket.getBatch(batch.id)).counts.completed === 3,
        5_000,
        'the retried job',
      )
      summary = await docket.getBatch(batch.id)
      assert.equal(summary.owner, 'alice')

      await docket.pauseQueue('batch')
      const second = await docket.addBatch([0, 1, 2, 3].map(() => ({ queue: 'batch', type: 'ok' })))
      assert.equal(await docket.cancelBatch(second.batch.id), 4)
      assert.equal((await docket.getBatch(second.batch.id)).counts.cancelled, 4)
      await docket.resumeQueue('batch')
    })

    it('shuts down gracefully: running jobs finish, and close() resolves', async () => {
      await docket.createQueue({ name: 'close' })
      const w = new Worker(docket, {
        queues: ['close'],
        concurrency: 3,
        pollMs: 100,
        handlers: () => sleep(100).then(() => 'done'),
      })
      await w.start()
      const jobs = await docket.addMany([0, 1, 2].map(() => ({ queue: 'close', type: 't' })))
      await until(() => w.load === 3, 5_000, 'three running jobs')
      await w.close()
      for (const j of jobs) assert.equal((await docket.getJob(j.id)).status, 'completed')
    })

    it('releases jobs that outlast the grace period, so they run again at once', async () => {
      await docket.createQueue({ name: 'grace' })
      const stuck = new Worker(docket, {
        queues: ['grace'],
        shutdownGraceMs: 100,
        pollMs: 100,
        handlers: () => new Promise(() => {}),
      })
      await stuck.start()
      const job = await docket.add('grace', 'forever', {})
      await until(() => stuck.load === 1, 5_000, 'the job to start')
      await stuck.close()
      const released = await docket.getJob(job.id)
      assert.equal(released.status, 'waiting')
      assert.equal(released.attempts, 0)
    })
  })
}
