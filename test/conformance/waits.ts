/** Awaiting a job's end: waitForJob, woken by the event log a worker in another process writes. */
// Store parts (storage/store.ts): JobStore (getJob), EventStore (eventsTail, readEvents).
import assert from 'node:assert/strict'
import { describe } from 'node:test'
import { type ConformanceContext, claimOne, expectError, makeQueue, newId, test } from './harness.js'

export function waitsSuite(ctx: ConformanceContext): void {
  describe('waitForJob', () => {
    test('returns an ended job at once, with its result', async () => {
      const queue = await makeQueue(ctx.docket, 'w-ended')
      const job = await ctx.docket.add({ queue, type: 't' })
      await ctx.docket.workers.complete(await claimOne(ctx.docket, queue), { pages: 3 })
      const done = await ctx.docket.waitForJob(job.id, { timeoutMs: 0 })
      assert.equal(done.status, 'completed')
      assert.deepEqual(done.result, { pages: 3 })
    })

    test('wakes every waiter when a worker on another connection ends the job', async () => {
      const queue = await makeQueue(ctx.docket, 'w-wake')
      const [a, b] = await ctx.docket.addMany([
        { queue, type: 't', id: newId() },
        { queue, type: 't', id: newId() },
      ])
      const waits = [a!, a!, a!, b!].map((j) => ctx.docket.waitForJob(j.id, { timeoutMs: 30_000 }))
      const elsewhere = await ctx.open()
      const first = await claimOne(elsewhere, queue)
      const second = await claimOne(elsewhere, queue)
      const byId = new Map([first, second].map((j) => [j.id, j]))
      await elsewhere.workers.complete(byId.get(a!.id)!, { ok: 'a' })
      await elsewhere.workers.fail(byId.get(b!.id)!, { message: 'broken' }, { retryable: false })
      const ended = await Promise.all(waits)
      assert.deepEqual(
        ended.map((j) => [j.id, j.status]),
        [
          [a!.id, 'completed'],
          [a!.id, 'completed'],
          [a!.id, 'completed'],
          [b!.id, 'failed'],
        ],
      )
      assert.deepEqual(ended[0]!.result, { ok: 'a' })
      await elsewhere.close()
    })

    test('a cancel ends the wait too', async () => {
      const queue = await makeQueue(ctx.docket, 'w-cancel')
      const job = await ctx.docket.add({ queue, type: 't' })
      const wait = ctx.docket.waitForJob(job.id, { timeoutMs: 30_000 })
      await ctx.docket.cancelJob(job.id)
      assert.equal((await wait).status, 'cancelled')
    })

    test('times out with WAIT_TIMEOUT naming the status; refuses a bad id or timeout', async () => {
      const queue = await makeQueue(ctx.docket, 'w-timeout')
      const job = await ctx.docket.add({ queue, type: 't' })
      const error = await expectError(() => ctx.docket.waitForJob(job.id, { timeoutMs: 0 }), 'WAIT_TIMEOUT')
      assert.equal(error.details.status, 'waiting')
      await expectError(() => ctx.docket.waitForJob(job.id, { timeoutMs: 20 }), 'WAIT_TIMEOUT', ['waiting'])
      await expectError(() => ctx.docket.waitForJob(newId(), { timeoutMs: 0 }), 'NOT_FOUND')
      await expectError(() => ctx.docket.waitForJob('not an id'), 'INVALID_ARGUMENT')
      await expectError(() => ctx.docket.waitForJob(job.id, { timeoutMs: -1 }), 'INVALID_ARGUMENT', [
        'timeoutMs',
      ])
    })

    test('stops when its signal aborts', async () => {
      const queue = await makeQueue(ctx.docket, 'w-abort')
      const job = await ctx.docket.add({ queue, type: 't' })
      const controller = new AbortController()
      const wait = ctx.docket.waitForJob(job.id, { signal: controller.signal })
      controller.abort(new Error('caller left'))
      await assert.rejects(wait, /caller left/)
    })
  })
}
