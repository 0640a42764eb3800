/** Dedupe keys: adding a job whose key matches a live job of its queue returns that job. */
// Store parts (storage/store.ts): JobStore (addJobs).
import assert from 'node:assert/strict'
import { describe } from 'node:test'
import { addCompleted, type ConformanceContext, counts, makeQueue, test, total } from './harness.js'

export function dedupeSuite(ctx: ConformanceContext): void {
  describe('dedupe keys', () => {
    test('a dedupe key returns the live job, and a new job once it has finished', async () => {
      const queue = await makeQueue(ctx.docket, 'j-dedupe')
      const other = await makeQueue(ctx.docket, 'j-dedupe-other')
      const first = await ctx.docket.add(queue, 'report', { v: 1 }, { dedupeKey: 'report:42' })
      assert.equal(first.dedupeKey, 'report:42')
      const again = await ctx.docket.add(queue, 'report', { v: 2 }, { dedupeKey: 'report:42' })
      assert.equal(again.id, first.id)
      assert.deepEqual(again.payload, { v: 1 })
      assert.equal(await total(ctx.docket, queue), 1)

      // In one addMany, the second of two equal keys gets the first.
      const [a, b, c] = await ctx.docket.addMany([
        { queue, type: 'report', dedupeKey: 'k2' },
        { queue, type: 'report', dedupeKey: 'k2' },
        { queue, type: 'report', dedupeKey: 'report:42' },
      ])
      assert.equal(a?.id, b?.id)
      assert.equal(c?.id, first.id)
      assert.equal(await total(ctx.docket, queue), 2)

      // Keys are per queue.
      const elsewhere = await ctx.docket.add(other, 'report', null, { dedupeKey: 'report:42' })
      assert.notEqual(elsewhere.id, first.id)

      // Still live while active; a new job once finished.
      const claimed = await ctx.docket.workers.claim({ workerId: 'w', queues: [queue], limit: 10 })
      const held = claimed.find((j) => j.id === first.id)
      assert.ok(held)
      assert.equal((await ctx.docket.add(queue, 'report', null, { dedupeKey: 'report:42' })).id, first.id)
      await ctx.docket.workers.complete(held, { ok: true })
      const fresh = await ctx.docket.add(queue, 'report', { v: 3 }, { dedupeKey: 'report:42' })
      assert.notEqual(fresh.id, first.id)
      assert.equal(fresh.status, 'waiting')
      assert.equal((await ctx.docket.getJob(first.id)).status, 'completed')

      // And after a cancel.
      await ctx.docket.cancelJob(fresh.id)
      const third = await ctx.docket.add(queue, 'report', null, { dedupeKey: 'report:42' })
      assert.ok(third.id !== fresh.id && third.id !== first.id)
      assert.equal(await total(ctx.docket, queue), 4)
    })

    test('a finished job with a dedupe key does not block a completed-then-readded cycle', async () => {
      const queue = await makeQueue(ctx.docket, 'j-dedupe-cycle')
      const ids = new Set<string>()
      for (let round = 0; round < 3; round++) {
        const job = await addCompleted(ctx.docket, { queue, type: 't', dedupeKey: 'nightly' }, { round })
        ids.add(job.id)
      }
      assert.equal(ids.size, 3)
      assert.equal((await counts(ctx.docket, queue)).completed, 3)
    })
  })
}
