/** Expiry: a job not started by expiresAt (or expiresInMs) is never run, and ends failed as expired. */
// Store parts (storage/store.ts): MaintenanceStore (expireJobs), LeaseStore, QueueStatsStore (finishedJobs).
import assert from 'node:assert/strict'
import { describe } from 'node:test'
import { Maintenance } from '../../src/index.js'
import { type ConformanceContext, claim, claimOne, guardedQueue, makeQueue, test } from './harness.js'

export function expirySuite(ctx: ConformanceContext): void {
  describe('expiry', () => {
    test('a job not started by its expiry is never claimed, and the sweep ends it failed as expired', async () => {
      const { clocked: docket, clock } = ctx
      const queue = await makeQueue(docket, 'x-sweep')
      const t0 = clock.now().getTime()
      const job = await docket.add(queue, 'notify', null, { expiresInMs: 5_000 })
      assert.equal(job.expiresAt?.getTime(), t0 + 5_000)
      clock.advance(5_000)
      assert.deepEqual(await claim(docket, queue), [], 'a claim never starts an expired job')
      assert.equal((await docket.getJob(job.id)).status, 'waiting', 'until the sweep runs')
      assert.ok((await docket.expireJobs()) >= 1)
      const detail = await docket.getJob(job.id)
      assert.equal(detail.status, 'failed')
      assert.equal(detail.finishedAt?.getTime(), t0 + 5_000)
      assert.equal(detail.lastError?.name, 'JobExpired')
      assert.equal(detail.lastError?.retryable, false)
      assert.deepEqual(
        detail.attemptHistory.map((a) => ({ attempt: a.attempt, workerId: a.workerId, outcome: a.outcome })),
        [{ attempt: 1, workerId: null, outcome: 'expired' }],
      )
      assert.match(detail.attemptHistory[0]!.error?.message ?? '', /expired: not started before/)
      const state = detail.events.find((e) => e.kind === 'state' && e.status === 'failed')
      assert.match(state?.message ?? '', /expired/)
      const stats = await docket.stats(queue)
      assert.equal(stats.lastHour.expired, 1)
      assert.equal(stats.lastHour.failed, 1)
      assert.equal(await docket.expireJobs(), 0, 'nothing left to expire')
    })

    test('a job started before its expiry runs to the end; one due before it runs', async () => {
      const { clocked: docket, clock } = ctx
      const queue = await makeQueue(docket, 'x-started')
      const t0 = clock.now().getTime()
      const job = await docket.add(queue, 't', null, { expiresAt: new Date(t0 + 1_000), delayMs: 500 })
      clock.advance(499)
      assert.deepEqual(await claim(docket, queue), [])
      clock.advance(1)
      const claimed = await claimOne(docket, queue)
      clock.advance(10_000)
      await docket.expireJobs()
      await docket.workers.complete(claimed, 'late but started in time')
      assert.equal((await docket.getJob(job.id)).status, 'completed')
    })

    test('expiry ends blocked and scheduled jobs too, and their dependents fail', async () => {
      const { clocked: docket, clock } = ctx
      const queue = await makeQueue(docket, 'x-deps')
      const parent = await docket.add(queue, 'parent')
      const child = await docket.add(queue, 'child', null, { dependsOn: [parent.id], expiresInMs: 1_000 })
      const grandchild = await docket.add(queue, 'grandchild', null, { dependsOn: [child.id] })
      const later = await docket.add(queue, 'later', null, { delayMs: 10_000, expiresInMs: 20_000 })
      clock.advance(1_000)
      await docket.expireJobs()
      assert.equal((await docket.getJob(child.id)).status, 'failed')
      assert.equal((await docket.getJob(child.id)).lastError?.name, 'JobExpired')
      assert.equal(
        (await docket.getJob(grandchild.id)).status,
        'failed',
        'a dependent of an expired job fails',
      )
      assert.equal((await docket.getJob(later.id)).status, 'scheduled')
      clock.advance(19_000)
      await docket.expireJobs()
      assert.equal((await docket.getJob(later.id)).status, 'failed')
    })

    test('the maintenance pass expires jobs; a retried expired job no longer expires', async () => {
      const { clocked: docket, clock } = ctx
      const queue = await makeQueue(docket, 'x-maint')
      const job = await docket.add(queue, 't', null, { expiresInMs: 100 })
      clock.advance(100)
      const maintenance = new Maintenance(docket, { holder: `x-maint-${job.id.slice(-6)}` })
      try {
        assert.equal(await maintenance.runOnce(), 'led')
      } finally {
        await maintenance.stop()
      }
      assert.equal((await docket.getJob(job.id)).status, 'failed')
      const retried = await docket.retryJob(job.id)
      assert.equal(retried.expiresAt, null)
      assert.equal((await claimOne(docket, queue)).id, job.id)
    })

    test('bad input: an expiry in the past, not after runAt, both forms, or not positive; nothing changes', async () => {
      const { clocked: docket, clock } = ctx
      const { queue, rejects } = await guardedQueue(docket, 'x-bad')
      const now = clock.now().getTime()
      await rejects(
        () => docket.add(queue, 't', null, { expiresAt: new Date(now - 1) }),
        'INVALID_ARGUMENT',
        ['expiresAt'],
      )
      await rejects(() => docket.add(queue, 't', null, { expiresAt: new Date(now) }), 'INVALID_ARGUMENT', [
        'expiresAt',
      ])
      await rejects(
        () =>
          docket.add(queue, 't', null, { runAt: new Date(now + 5_000), expiresAt: new Date(now + 5_000) }),
        'INVALID_ARGUMENT',
        ['expiresAt', 'run-at'],
      )
      await rejects(
        () => docket.add(queue, 't', null, { delayMs: 5_000, expiresInMs: 4_000 }),
        'INVALID_ARGUMENT',
        ['expiresInMs'],
      )
      await rejects(
        () => docket.add(queue, 't', null, { expiresAt: new Date(now + 9_000), expiresInMs: 9_000 }),
        'INVALID_ARGUMENT',
        ['expiresInMs'],
      )
      await rejects(() => docket.add(queue, 't', null, { expiresInMs: 0 }), 'INVALID_ARGUMENT', [
        'expiresInMs',
      ])
      await rejects(
        () =>
          docket.addMany([
            { queue, type: 'ok' },
            { queue, type: 't', expiresAt: new Date(now - 5) },
          ]),
        'INVALID_ARGUMENT',
        ['jobs.1.expiresAt'],
      )
    })
  })
}
