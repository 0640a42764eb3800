/** Persistence: jobs in every state survive closing the Docket and opening it again on the same URL. */
// Store parts (storage/store.ts): StoreConnection (close and reopen), JobStore, QueueStatsStore (countJobs).
import assert from 'node:assert/strict'
import { describe } from 'node:test'
import type { ClaimedJob, JobStatus } from '../../src/index.js'
import { type ConformanceContext, claimOne, makeQueue, newId, test } from './harness.js'

export function persistenceSuite(ctx: ConformanceContext): void {
  describe('persistence', () => {
    test('jobs in every state come back the same after close and reopen', async () => {
      let docket = await ctx.open()
      const auto = await makeQueue(docket, 'p-auto', {
        description: 'survives',
        concurrency: 4,
        retentionMs: 1_000,
      })
      const work = await makeQueue(docket, 'p-work', { maxAttempts: 1 })
      const manual = await makeQueue(docket, 'p-manual', { mode: 'manual', ordering: 'fifo' })
      const payload = (state: JobStatus) => ({
        state,
        text: `état ${state} ✓ 🚀`,
        nested: { list: [1, 'two', null] },
      })

      const ids: Record<JobStatus, string> = {
        waiting: newId(),
        scheduled: newId(),
        blocked: newId(),
        held: newId(),
        active: newId(),
        completed: newId(),
        failed: newId(),
        cancelled: newId(),
      }
      await docket.addMany([
        {
          id: ids.waiting,
          queue: auto,
          type: 'w',
          payload: payload('waiting'),
          owner: 'alice',
          dedupeKey: 'dk',
        },
        { id: ids.scheduled, queue: auto, type: 's', payload: payload('scheduled'), delayMs: 3_600_000 },
        { id: ids.blocked, queue: auto, type: 'b', payload: payload('blocked'), dependsOn: [ids.scheduled] },
        { id: ids.held, queue: manual, type: 'h', payload: payload('held'), priority: 'urgent' },
        { id: ids.cancelled, queue: auto, type: 'c', payload: payload('cancelled'), capabilities: ['gpu'] },
      ])
      await docket.cancelJob(ids.cancelled)

      const lease = async (id: string, status: JobStatus): Promise<ClaimedJob> => {
        await docket.add({ id, queue: work, type: status, payload: payload(status), priority: 'high' })
        const job = await claimOne(docket, work, 3_600_000)
        assert.equal(job.id, id)
        return job
      }
      const completed = await lease(ids.completed, 'completed')
      await docket.workers.progress(completed, { percent: 60, step: 'extract', message: 'page 6' })
      await docket.workers.log(completed, 'found tables', { n: 3 })
      await docket.workers.complete(completed, { confidence: 0.97, points: [1, 2, 3] })
      const failed = await lease(ids.failed, 'failed')
      await docket.workers.fail(failed, new RangeError('out of range'))
      const active = await lease(ids.active, 'active')
      await docket.workers.progress(active, { percent: 25, step: 'ocr' })

      const read = async () => ({
        jobs: await Promise.all(Object.values(ids).map((id) => docket.getJob(id))),
        queues: await Promise.all([auto, work, manual].map((q) => docket.getQueue(q))),
        counts: await Promise.all([auto, work, manual].map((q) => docket.countJobs(q))),
      })
      const before = await read()
      assert.deepEqual(
        before.jobs.map((j) => j.status),
        Object.keys(ids),
      )
      await docket.close()

      docket = await ctx.open()
      try {
        const after = await read()
        assert.deepEqual(after, before)
        for (const [i, state] of (Object.keys(ids) as JobStatus[]).entries()) {
          assert.equal(after.jobs[i]!.status, state)
          assert.deepEqual(after.jobs[i]!.payload, payload(state))
        }
        // The reopened database carries on: the lease still holds, and the dependency still blocks.
        await docket.workers.complete(active, { after: 'reopen' })
        assert.equal((await docket.getJob(ids.active)).status, 'completed')
        assert.equal(await docket.promote(ids.scheduled), 1)
        assert.equal((await docket.add(auto, 'w', null, { dedupeKey: 'dk', owner: 'alice' })).id, ids.waiting)
      } finally {
        await docket.close()
      }
    })
  })
}
