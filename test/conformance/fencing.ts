/** Lease expiry, recovery and fencing: a worker that lost its lease cannot touch the job any more. */
// Store parts (storage/store.ts): LeaseStore (every write of a lost lease), MaintenanceStore (recoverExpiredLeases).
import assert from 'node:assert/strict'
import { describe } from 'node:test'
import type { ClaimedJob, Docket, LeaseLostReason } from '../../src/index.js'
import { type ConformanceContext, claimOne, expectError, makeQueue, newId, test } from './harness.js'

/**
 * Every write the old holder of a lost lease might try: each must be refused
 * with LEASE_LOST, saying the same `reason` for it in details.
 */
export async function assertFenced(
  docket: Docket,
  stale: ClaimedJob,
  reason: LeaseLostReason,
): Promise<void> {
  const before = await docket.getJob(stale.id).catch(() => null)
  const refusals = [
    await expectError(() => docket.workers.complete(stale, { late: true }), 'LEASE_LOST', [stale.id]),
    await expectError(() => docket.workers.fail(stale, new Error('late')), 'LEASE_LOST'),
    await expectError(() => docket.workers.progress(stale, { percent: 99 }), 'LEASE_LOST'),
    await expectError(() => docket.workers.log(stale, 'late'), 'LEASE_LOST'),
    await expectError(() => docket.workers.step(stale, 'late', 'started'), 'LEASE_LOST'),
  ]
  for (const e of refusals) assert.deepEqual(e.details, { jobId: stale.id, reason }, e.message)
  const lost = [{ id: stale.id, ok: false, code: 'LEASE_LOST', reason }]
  assert.deepEqual(await docket.workers.heartbeat(stale), lost)
  assert.deepEqual(await docket.workers.release(stale), lost)
  assert.deepEqual(await docket.workers.completeMany([{ job: stale }]), lost)
  assert.deepEqual(await docket.workers.checkLeases(stale), lost)
  assert.deepEqual(await docket.getJob(stale.id).catch(() => null), before, 'a refused write changed the job')
}

export function fencingSuite(ctx: ConformanceContext): void {
  describe('lease expiry and fencing', () => {
    test("another job's token does not open a job", async () => {
      const queue = await makeQueue(ctx.docket, 'l-token')
      await ctx.docket.addMany([
        { queue, type: 'a' },
        { queue, type: 'b' },
      ])
      const a = await claimOne(ctx.docket, queue)
      const b = await claimOne(ctx.docket, queue)
      await expectError(() => ctx.docket.workers.complete({ id: a.id, token: b.lease.token }), 'LEASE_LOST')
      await expectError(() => ctx.docket.workers.complete({ id: a.id, token: newId() }), 'LEASE_LOST')
      assert.equal((await ctx.docket.getJob(a.id)).status, 'active')
    })

    test('an expired lease is recovered to waiting, and the old holder is fenced out', async () => {
      const { clocked: docket, clock } = ctx
      const queue = await makeQueue(docket, 'l-expiry', { maxAttempts: 3 })
      await docket.add(queue, 't', { n: 1 })
      const first = await claimOne(docket, queue, 100)
      clock.advance(250)
      // Expired but not yet recovered: the holder already may not write.
      await assertFenced(docket, first, 'expired')
      assert.equal((await docket.getJob(first.id)).status, 'active')

      assert.ok((await docket.recoverExpiredLeases()) >= 1)
      const recovered = await docket.getJob(first.id)
      assert.equal(recovered.status, 'waiting')
      assert.equal(recovered.attempts, 1)
      assert.equal(recovered.lease, null)
      assert.equal(recovered.errorCount, 1)
      assert.ok(recovered.lastError?.message)
      await assertFenced(docket, first, 'expired')

      // A second worker takes it over: the first token stays refused, the second works.
      const second = await claimOne(docket, queue, 30_000)
      assert.equal(second.id, first.id)
      assert.equal(second.attempts, 2)
      assert.notEqual(second.lease.token, first.lease.token)
      await assertFenced(docket, first, 'taken-over')
      assert.equal((await docket.getJob(first.id)).lease?.token, second.lease.token)
      await docket.workers.progress(second, { percent: 50 })
      assert.deepEqual(await docket.workers.heartbeat(second), [{ id: second.id, ok: true }])
      await docket.workers.complete(second, { by: 'second' })
      const done = await docket.getJob(first.id)
      assert.equal(done.status, 'completed')
      assert.deepEqual(done.result, { by: 'second' })
    })

    test('an expired lease on the last attempt fails the job', async () => {
      const { clocked: docket, clock } = ctx
      const queue = await makeQueue(docket, 'l-expiry-last', { maxAttempts: 1 })
      await docket.add(queue, 't')
      const job = await claimOne(docket, queue, 100)
      clock.advance(250)
      assert.ok((await docket.recoverExpiredLeases()) >= 1)
      const failed = await docket.getJob(job.id)
      assert.equal(failed.status, 'failed')
      assert.equal(failed.errorCount, 1)
      assert.ok(failed.lastError)
      assert.ok(failed.finishedAt)
      await assertFenced(docket, job, 'expired')
    })

    test('a finished job is never flipped back by a late write or a recovery pass', async () => {
      const { clocked: docket, clock } = ctx
      const queue = await makeQueue(docket, 'l-final', { maxAttempts: 5 })
      await docket.addMany([
        { queue, type: 'done' },
        { queue, type: 'failed', priority: 'low' },
        { queue, type: 'cancelled', priority: 0 },
      ])
      const done = await claimOne(docket, queue, 100)
      const failed = await claimOne(docket, queue, 100)
      const cancelled = await claimOne(docket, queue, 100)
      await docket.workers.complete(done, { first: true })
      await docket.workers.fail(failed, 'final', { retryable: false })
      await docket.cancelJob(cancelled.id)
      const snapshot = await Promise.all([done, failed, cancelled].map((j) => docket.getJob(j.id)))
      clock.advance(250)
      await docket.recoverExpiredLeases()
      await assertFenced(docket, done, 'completed')
      await assertFenced(docket, failed, 'failed')
      await assertFenced(docket, cancelled, 'cancelled')
      assert.deepEqual(await Promise.all([done, failed, cancelled].map((j) => docket.getJob(j.id))), snapshot)
      assert.deepEqual(
        snapshot.map((j) => j.status),
        ['completed', 'failed', 'cancelled'],
      )
    })
  })
}
