/**
 * Prefetch (local-queue.ts): jobs claimed ahead of the slots wait in the
 * worker, run no more than `concurrency` at a time, keep their leases, are
 * never started once cancelled, and go back to the queue on close.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Docket, TestClock, Worker, type WorkerOptions } from '../../src/index.js'
import { busiestWindow } from '../support/windows.js'
import { type Driver, nextIdle, until, useWorkerDocket } from './harness.js'

export function prefetchSuite(driver: Driver): void {
  describe(`worker prefetch [${driver}]`, () => {
    const t = useWorkerDocket(driver)
    const start = (options: WorkerOptions) => {
      const w = new Worker(t.docket, { maintenance: false, onError: () => {}, ...options })
      t.workers.push(w)
      return w.start()
    }
    /** A handler that holds each job until released, recording how many run at once. */
    const gate = () => {
      const waiting: (() => void)[] = []
      const state = { running: 0, most: 0, started: [] as string[] }
      const handler = (job: { id: string }) =>
        new Promise<null>((resolve) => {
          state.running++
          state.most = Math.max(state.most, state.running)
          state.started.push(job.id)
          waiting.push(() => {
            state.running--
            resolve(null)
          })
        })
      const releaseOne = () => waiting.shift()?.()
      return { state, handler, releaseOne, held: () => waiting.length }
    }

    it('claims concurrency + prefetch jobs, runs concurrency at a time, and finishes them all', async () => {
      await t.docket.createQueue({ name: 'pf-run' })
      const added = await t.docket.addMany(
        Array.from({ length: 6 }, (_, i) => ({ queue: 'pf-run', type: 't', payload: { i } })),
      )
      const g = gate()
      await start({ queues: ['pf-run'], concurrency: 2, prefetch: 4, handlers: g.handler })
      await until(
        async () => (await t.docket.countJobs('pf-run'))['pf-run']!.active === 6,
        5_000,
        'six leased',
      )
      assert.equal(g.state.running, 2)
      while (g.state.started.length < 6 || g.held() > 0) {
        await until(() => g.held() > 0, 5_000, 'a running job')
        g.releaseOne()
        await new Promise((r) => setImmediate(r))
      }
      await until(
        async () => (await t.docket.countJobs('pf-run'))['pf-run']!.completed === 6,
        5_000,
        'all done',
      )
      assert.equal(g.state.most, 2)
      // Started in the order they were claimed.
      assert.deepEqual(
        g.state.started,
        added.map((j) => j.id),
      )
    })

    it('a prefetched job that is cancelled before its turn never starts', async () => {
      await t.docket.createQueue({ name: 'pf-cancel' })
      const [first, second] = await t.docket.addMany([
        { queue: 'pf-cancel', type: 't', payload: 1 },
        { queue: 'pf-cancel', type: 't', payload: 2 },
      ])
      const g = gate()
      await start({
        queues: ['pf-cancel'],
        concurrency: 1,
        prefetch: 1,
        cancelCheckMs: 50,
        handlers: g.handler,
      })
      await until(async () => (await t.docket.getJob(second!.id)).status === 'active', 5_000, 'second leased')
      assert.deepEqual(g.state.started, [first!.id])
      await t.docket.cancelJob(second!.id)
      // Give the cancel time to reach the worker (notification, or the 50 ms check), then free the slot.
      await new Promise((r) => setTimeout(r, 300))
      g.releaseOne()
      await until(async () => (await t.docket.getJob(first!.id)).status === 'completed', 5_000, 'first done')
      await nextIdle('pf-cancel')
      assert.deepEqual(g.state.started, [first!.id])
      assert.equal((await t.docket.getJob(second!.id)).status, 'cancelled')
    })

    it('close() hands prefetched jobs back at once, their attempt not counted, for another worker', async () => {
      await t.docket.createQueue({ name: 'pf-close' })
      await t.docket.addMany(
        Array.from({ length: 4 }, (_, i) => ({ queue: 'pf-close', type: 't', payload: i })),
      )
      const g = gate()
      const w = await start({ queues: ['pf-close'], concurrency: 1, prefetch: 3, handlers: g.handler })
      await until(
        async () => (await t.docket.countJobs('pf-close'))['pf-close']!.active === 4,
        5_000,
        'four leased',
      )
      const closing = w.close()
      // Handed back before the running job is done: the others are waiting again at once.
      await until(
        async () => (await t.docket.countJobs('pf-close'))['pf-close']!.waiting === 3,
        5_000,
        'three back',
      )
      g.releaseOne()
      await closing
      const { jobs } = await t.docket.listJobs({ queue: 'pf-close' })
      const back = jobs.filter((j) => j.status === 'waiting')
      assert.equal(back.length, 3)
      for (const j of back) assert.equal(j.attempts, 0)
      const other = gate()
      await start({ queues: ['pf-close'], concurrency: 3, handlers: other.handler })
      await until(() => other.state.started.length === 3, 5_000, 'taken by another worker')
      for (let i = 0; i < 3; i++) other.releaseOne()
    })

    it('keeps the leases of prefetched jobs alive while they wait their turn', async () => {
      await t.docket.createQueue({ name: 'pf-lease' })
      const [, second] = await t.docket.addMany([
        { queue: 'pf-lease', type: 't', payload: 1 },
        { queue: 'pf-lease', type: 't', payload: 2 },
      ])
      const g = gate()
      // Leases long enough that a loaded machine (CI runs four files at once) still heartbeats in time.
      await start({ queues: ['pf-lease'], concurrency: 1, prefetch: 1, leaseMs: 600, handlers: g.handler })
      await until(async () => (await t.docket.getJob(second!.id)).status === 'active', 5_000, 'second leased')
      const leasedUntil = (await t.docket.getJob(second!.id)).lease!.expiresAt.getTime()
      // Two lease lengths later (heartbeats every 200 ms), the waiting job's lease has moved on.
      await until(
        async () => (await t.docket.getJob(second!.id)).lease!.expiresAt.getTime() > leasedUntil + 1_200,
        10_000,
        'the prefetched lease extended',
      )
      g.releaseOne()
      await until(() => g.held() > 0, 5_000, 'second started')
      g.releaseOne()
      await until(
        async () => (await t.docket.getJob(second!.id)).status === 'completed',
        15_000,
        'second done',
      )
      assert.equal((await t.docket.getJob(second!.id)).attempts, 1)
    })

    it("a rate limit bounds handler starts: a rate-limited queue's jobs are never held in the local queue", async () => {
      // Time is the injected clock, which stands still between the moves below, so a handler
      // starts at the very time its claim recorded unless it waited in the local queue. Before,
      // jobs claimed ahead in one window started in the next, beside that window's own: five
      // handler starts in one second under a limit of four.
      const clock = new TestClock()
      const clocked = await Docket.open(t.target.url, { clock })
      try {
        await clocked.createQueue({ name: 'pf-rate', rateLimit: { max: 4, intervalMs: 1_000 } })
        await clocked.addMany(
          Array.from({ length: 12 }, (_, i) => ({ queue: 'pf-rate', type: 't', payload: i })),
        )
        const g = gate()
        const startedAt: number[] = []
        const w = new Worker(clocked, {
          queues: ['pf-rate'],
          concurrency: 3,
          prefetch: 3,
          pollMs: 20,
          maintenance: false,
          shutdownGraceMs: 50,
          onError: () => {},
          handlers: (job) => {
            startedAt.push(clock.now().getTime())
            return g.handler(job)
          },
        })
        t.workers.push(w)
        await w.start()
        await until(() => g.held() === 3, 5_000, 'three running')
        await nextIdle('pf-rate')
        clock.advance(900)
        g.releaseOne()
        await nextIdle('pf-rate')
        // The window of the first starts is over: the next claims may take its slots.
        clock.advance(100)
        await nextIdle('pf-rate')
        for (let i = 0; i < 5; i++) {
          g.releaseOne()
          await nextIdle('pf-rate')
        }
        const busiest = busiestWindow(startedAt, 1_000)
        assert.ok(startedAt.length >= 7, `only ${startedAt.length} starts: the limit was not reached`)
        assert.ok(busiest <= 4, `${busiest} handler starts in one second: ${JSON.stringify(startedAt)}`)
        await w.close()
      } finally {
        await clocked.close()
      }
    })

    it('refuses a prefetch that is not a whole number from 0 to 10000', async () => {
      for (const prefetch of [-1, 1.5, 10_001, '4']) {
        assert.throws(
          () =>
            new Worker(t.docket, {
              queues: ['pf-run'],
              handlers: () => null,
              prefetch: prefetch as number,
            }),
          /prefetch/,
        )
      }
    })
  })
}
