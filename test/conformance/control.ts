/** Operator actions: cancel, retry, setPriority, promote, remove; each refused from a wrong state. */
// Store parts (storage/store.ts): JobControlStore.
import assert from 'node:assert/strict'
import { describe } from 'node:test'
import { storeOf } from '../../src/docket/store-of.js'
import type { Docket, Job } from '../../src/index.js'
import {
  addCompleted,
  type ConformanceContext,
  claim,
  claimOne,
  counts,
  expectError,
  makeQueue,
  newId,
  test,
} from './harness.js'

/** Runs `action`, expects INVALID_STATE naming the job, and checks the job and its history did not change. */
async function refused(docket: Docket, job: Job, action: () => Promise<unknown>): Promise<void> {
  const before = await docket.getJob(job.id)
  await expectError(action, 'INVALID_STATE', [job.id])
  assert.deepEqual(await docket.getJob(job.id), before, 'a refused action changed the job')
}

export function controlSuite(ctx: ConformanceContext): void {
  describe('control', () => {
    test('cancels waiting, scheduled, blocked and held jobs', async () => {
      const queue = await makeQueue(ctx.docket, 'k-cancel')
      const manual = await makeQueue(ctx.docket, 'k-cancel-manual', { mode: 'manual' })
      const waiting = await ctx.docket.add(queue, 'w')
      const scheduled = await ctx.docket.add(queue, 's', null, { delayMs: 60_000 })
      const blocked = await ctx.docket.add(queue, 'b', null, { dependsOn: [scheduled.id] })
      const held = await ctx.docket.add(manual, 'h')
      for (const job of [waiting, blocked, scheduled, held]) {
        const cancelled = await ctx.docket.cancelJob(job.id)
        assert.equal(cancelled.status, 'cancelled')
        assert.ok(cancelled.finishedAt)
        const stored = await ctx.docket.getJob(job.id)
        assert.equal(stored.status, 'cancelled')
        assert.equal(stored.events.at(-1)?.status, 'cancelled')
      }
      assert.deepEqual(await claim(ctx.docket, [queue, manual], { limit: 10 }), [])
    })

    test('cancels an active job; its holder then gets LEASE_LOST', async () => {
      const queue = await makeQueue(ctx.docket, 'k-cancel-active')
      await ctx.docket.add(queue, 't')
      const job = await claimOne(ctx.docket, queue)
      const cancelled = await ctx.docket.cancelJob(job.id)
      assert.equal(cancelled.status, 'cancelled')
      assert.equal(cancelled.lease, null)
      const late = await expectError(() => ctx.docket.workers.complete(job, 'late'), 'LEASE_LOST')
      assert.equal(late.details.reason, 'cancelled')
      await expectError(() => ctx.docket.workers.progress(job, { percent: 10 }), 'LEASE_LOST')
      await expectError(() => ctx.docket.workers.fail(job, 'late'), 'LEASE_LOST')
      assert.deepEqual(await ctx.docket.workers.heartbeat(job), [
        { id: job.id, ok: false, code: 'LEASE_LOST', reason: 'cancelled' },
      ])
      const stored = await ctx.docket.getJob(job.id)
      assert.equal(stored.status, 'cancelled')
      assert.equal(stored.result, null)
      assert.equal((await counts(ctx.docket, queue)).active, 0)
    })

    test('retries a failed or cancelled job: waiting again with attempts reset', async () => {
      const queue = await makeQueue(ctx.docket, 'k-retry', {
        maxAttempts: 2,
        backoff: { type: 'fixed', delayMs: 60_000, jitter: 0 },
      })
      const failing = await ctx.docket.add(queue, 'f')
      const first = await claimOne(ctx.docket, queue)
      assert.equal((await ctx.docket.workers.fail(first, 'try 1')).status, 'scheduled')
      await ctx.docket.promote(failing.id)
      const second = await claimOne(ctx.docket, queue)
      assert.equal(second.attempts, 2)
      assert.equal((await ctx.docket.workers.fail(second, 'try 2')).status, 'failed')
      assert.equal((await ctx.docket.getJob(failing.id)).status, 'failed')
      const retried = await ctx.docket.retryJob(failing.id)
      assert.equal(retried.status, 'waiting')
      assert.equal(retried.attempts, 0)
      assert.equal(retried.finishedAt, null)
      const again = await claimOne(ctx.docket, queue)
      assert.equal(again.id, failing.id)
      assert.equal(again.attempts, 1)
      await ctx.docket.workers.complete(again, 'second time lucky')
      assert.equal((await ctx.docket.getJob(failing.id)).status, 'completed')

      const cancelled = await ctx.docket.add(queue, 'c', null, { delayMs: 60_000 })
      await ctx.docket.cancelJob(cancelled.id)
      const back = await ctx.docket.retryJob(cancelled.id)
      assert.equal(back.status, 'waiting')
      assert.equal(back.attempts, 0)
      assert.equal((await claimOne(ctx.docket, queue)).id, cancelled.id)
    })

    test('a retried job of a manual queue is held', async () => {
      const queue = await makeQueue(ctx.docket, 'k-retry-manual', { mode: 'manual' })
      const job = await ctx.docket.add(queue, 't')
      await ctx.docket.cancelJob(job.id)
      assert.equal((await ctx.docket.retryJob(job.id)).status, 'held')
    })

    test('setPriority changes the priority and the claim order', async () => {
      const queue = await makeQueue(ctx.docket, 'k-priority')
      const low = await ctx.docket.add(queue, 'low', null, { priority: 'low' })
      await ctx.docket.add(queue, 'high', null, { priority: 'high' })
      assert.equal((await ctx.docket.setPriority(low.id, 'urgent')).priority, 100)
      assert.equal((await ctx.docket.getJob(low.id)).priority, 100)
      assert.equal((await claimOne(ctx.docket, queue)).id, low.id)

      const scheduled = await ctx.docket.add(queue, 's', null, { delayMs: 60_000 })
      const changed = await ctx.docket.setPriority(scheduled.id, 7)
      assert.equal(changed.priority, 7)
      assert.equal(changed.status, 'scheduled')
    })

    test('promotes held jobs by id, by ids and by queue, and scheduled jobs by id', async () => {
      const queue = await makeQueue(ctx.docket, 'k-promote', { mode: 'manual' })
      const jobs = await ctx.docket.addMany(Array.from({ length: 6 }, (_, i) => ({ queue, type: `h${i}` })))
      assert.ok(jobs.every((j) => j.status === 'held'))
      const [one, two, three, ...rest] = jobs as [Job, Job, Job, ...Job[]]

      assert.equal(await ctx.docket.promote(one.id), 1)
      assert.equal((await ctx.docket.getJob(one.id)).status, 'waiting')
      assert.equal(await ctx.docket.promote([two.id, three.id]), 2)
      assert.equal((await counts(ctx.docket, queue)).waiting, 3)
      assert.equal(await ctx.docket.promote({ queue }), rest.length)
      assert.equal((await counts(ctx.docket, queue)).waiting, 6)
      assert.equal(await ctx.docket.promote({ queue }), 0)
      assert.equal(await ctx.docket.promote([]), 0)
      assert.equal((await claim(ctx.docket, queue, { limit: 10 })).length, 6)

      const auto = await makeQueue(ctx.docket, 'k-promote-scheduled')
      const later = await ctx.docket.add(auto, 't', null, { delayMs: 3_600_000 })
      assert.equal(await ctx.docket.promote(later.id), 1)
      const promoted = await ctx.docket.getJob(later.id)
      assert.equal(promoted.status, 'waiting')
      assert.ok(promoted.runAt.getTime() <= Date.now() + 1_000)
      assert.equal((await claimOne(ctx.docket, auto)).id, later.id)
    })

    test('removes a job with its history', async () => {
      const queue = await makeQueue(ctx.docket, 'k-remove')
      const waiting = await ctx.docket.add(queue, 'w')
      await ctx.docket.removeJob(waiting.id)
      await expectError(() => ctx.docket.getJob(waiting.id), 'NOT_FOUND')
      assert.deepEqual(await ctx.docket.getJobEvents(waiting.id), [])

      const done = await addCompleted(ctx.docket, { queue, type: 'd' })
      await ctx.docket.removeJob(done.id)
      await expectError(() => ctx.docket.getJob(done.id), 'NOT_FOUND')
      assert.deepEqual(await storeOf(ctx.docket).getJobAttempts(done.id), [], 'attempts left behind')
      await expectError(() => ctx.docket.removeJob(done.id), 'NOT_FOUND', [done.id])
      assert.equal((await ctx.docket.listJobs({ queue })).jobs.length, 0)
    })

    test('each action is refused from a wrong state with INVALID_STATE, changing nothing', async () => {
      const queue = await makeQueue(ctx.docket, 'k-refuse')
      const manual = await makeQueue(ctx.docket, 'k-refuse-manual', { mode: 'manual' })
      const waiting = await ctx.docket.add(queue, 'waiting', null, { priority: 'low' })
      const completed = await addCompleted(ctx.docket, { queue, type: 'completed', priority: 'urgent' })
      await ctx.docket.add(queue, 'active', null, { priority: 'urgent', id: newId() })
      const active = await claimOne(ctx.docket, queue)
      assert.equal(active.type, 'active')
      const cancelled = await ctx.docket.add(queue, 'cancelled', null, { delayMs: 60_000 })
      await ctx.docket.cancelJob(cancelled.id)
      await ctx.docket.add(queue, 'failed', null, { priority: 'urgent' })
      const toFail = await claimOne(ctx.docket, queue)
      const failed = await ctx.docket.workers.fail(toFail, 'x', { retryable: false })
      const held = await ctx.docket.add(manual, 'held')

      for (const job of [completed, cancelled, failed])
        await refused(ctx.docket, job, () => ctx.docket.cancelJob(job.id))
      for (const job of [waiting, active, completed, held])
        await refused(ctx.docket, job, () => ctx.docket.retryJob(job.id))
      for (const job of [active, completed, failed, cancelled]) {
        await refused(ctx.docket, job, () => ctx.docket.setPriority(job.id, 'urgent'))
      }
      for (const job of [waiting, active, completed, failed, cancelled]) {
        await refused(ctx.docket, job, () => ctx.docket.promote(job.id))
      }
      await refused(ctx.docket, active, () => ctx.docket.removeJob(active.id))

      // Promoting several at once is all or nothing: one wrong state refuses them all.
      const heldBefore = await ctx.docket.getJob(held.id)
      await expectError(() => ctx.docket.promote([held.id, waiting.id]), 'INVALID_STATE', [waiting.id])
      assert.deepEqual(await ctx.docket.getJob(held.id), heldBefore)
      assert.equal(heldBefore.status, 'held')

      // The active job is still leased to its worker.
      await ctx.docket.workers.complete(active, 'fine')
      assert.equal((await ctx.docket.getJob(active.id)).status, 'completed')
    })

    test('actions on an unknown job are NOT_FOUND', async () => {
      const id = newId()
      await expectError(() => ctx.docket.cancelJob(id), 'NOT_FOUND', [id])
      await expectError(() => ctx.docket.retryJob(id), 'NOT_FOUND', [id])
      await expectError(() => ctx.docket.setPriority(id, 10), 'NOT_FOUND', [id])
      await expectError(() => ctx.docket.promote(id), 'NOT_FOUND', [id])
      await expectError(() => ctx.docket.removeJob(id), 'NOT_FOUND', [id])
    })
  })
}
