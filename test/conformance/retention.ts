/** Retention: cleanup deletes finished jobs (and their events) older than an age or a queue's retention. */
// Store parts (storage/store.ts): MaintenanceStore (cleanup).
import assert from 'node:assert/strict'
import { describe } from 'node:test'
import { storeOf } from '../../src/docket/store-of.js'
import type { Docket, Job } from '../../src/index.js'
import { type ConformanceContext, claim, expectError, makeQueue, test, total } from './harness.js'

/** Adds `n` jobs and finishes them: completed, failed and cancelled in turn. */
async function finished(docket: Docket, queue: string, n: number): Promise<Job[]> {
  const jobs = await docket.addMany(
    Array.from({ length: n }, (_, i) => ({ queue, type: 'done', payload: { i } })),
  )
  const claimed = await claim(docket, queue, { limit: n })
  assert.equal(claimed.length, n)
  for (const [i, job] of claimed.entries()) {
    if (i % 3 === 0) await docket.workers.complete(job, { i })
    else if (i % 3 === 1) await docket.workers.fail(job, 'no', { retryable: false })
    else await docket.cancelJob(job.id)
  }
  return jobs
}

async function gone(docket: Docket, jobs: Job[]): Promise<void> {
  for (const job of jobs) {
    await expectError(() => docket.getJob(job.id), 'NOT_FOUND')
    assert.deepEqual(await docket.getJobEvents(job.id), [], `events of ${job.id} were left behind`)
    assert.deepEqual(
      await storeOf(docket).getJobAttempts(job.id),
      [],
      `attempts of ${job.id} were left behind`,
    )
  }
}

async function kept(docket: Docket, jobs: Job[]): Promise<void> {
  for (const job of jobs) {
    const stored = await docket.getJob(job.id)
    assert.ok(stored.events.length > 0)
  }
}

export function retentionSuite(ctx: ConformanceContext): void {
  describe('retention', () => {
    test('cleanup({ olderThanMs }) deletes only finished jobs older than that, with their events', async () => {
      const { clocked: docket, clock } = ctx
      const queue = await makeQueue(docket, 'ret-age')
      const old = await finished(docket, queue, 6)
      // As old as those, but live: never cleaned.
      const live = await docket.addMany([
        { queue, type: 'waiting', priority: 0 },
        { queue, type: 'scheduled', delayMs: 60_000 },
      ])
      clock.advance(400)
      const recent = await finished(docket, queue, 3)
      assert.equal(await docket.cleanup({ olderThanMs: 200, queue }), 6)
      await gone(docket, old)
      await kept(docket, [...recent, ...live])
      assert.equal(await total(docket, queue), 5)
      // Nothing more is old enough.
      assert.equal(await docket.cleanup({ olderThanMs: 200, queue }), 0)
    })

    test('live jobs are never cleaned, however old', async () => {
      const { clocked: docket, clock } = ctx
      const queue = await makeQueue(docket, 'ret-live', { retentionMs: 0 })
      const waiting = await docket.add(queue, 'waiting')
      const scheduled = await docket.add(queue, 'scheduled', null, { delayMs: 60_000 })
      const blocked = await docket.add(queue, 'blocked', null, { dependsOn: [scheduled.id] })
      await docket.add(queue, 'active', null, { priority: 'urgent' })
      const [active] = await claim(docket, queue)
      assert.ok(active)
      clock.advance(100)
      assert.equal(await docket.cleanup({ olderThanMs: 0, queue }), 0)
      assert.equal(await docket.cleanup({ queue }), 0)
      await kept(docket, [waiting, scheduled, blocked, active])
    })

    test("a queue's retention applies when olderThanMs is omitted", async () => {
      const { clocked: docket, clock } = ctx
      const short = await makeQueue(docket, 'ret-short', { retentionMs: 200 })
      const forever = await makeQueue(docket, 'ret-forever')
      const long = await makeQueue(docket, 'ret-long', { retentionMs: 3_600_000 })
      const shortJobs = await finished(docket, short, 4)
      const foreverJobs = await finished(docket, forever, 2)
      const longJobs = await finished(docket, long, 2)
      clock.advance(400)
      const fresh = await finished(docket, short, 2)

      assert.equal(await docket.cleanup({ queue: short }), 4)
      await gone(docket, shortJobs)
      await kept(docket, [...fresh, ...foreverJobs, ...longJobs])

      // Over every queue: each by its own retention; none for a queue without one.
      await docket.updateQueue(long, { retentionMs: 100 })
      assert.ok((await docket.cleanup()) >= 2)
      await gone(docket, longJobs)
      await kept(docket, [...fresh, ...foreverJobs])
    })

    test('cleanup works in batches of batchSize and returns the total', async () => {
      const { clocked: docket, clock } = ctx
      const queue = await makeQueue(docket, 'ret-batch')
      const jobs = await finished(docket, queue, 25)
      clock.advance(100)
      assert.equal(await docket.cleanup({ olderThanMs: 50, queue, batchSize: 10 }), 25)
      await gone(docket, jobs)
      assert.equal(await total(docket, queue), 0)

      const more = await finished(docket, queue, 7)
      clock.advance(100)
      assert.equal(await docket.cleanup({ olderThanMs: 50, queue, batchSize: 1 }), 7)
      await gone(docket, more)
    })
  })
}
