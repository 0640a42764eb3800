/**
 * Racing claimers, each on its own Docket (its own connection or pool) on
 * the same database: every job claimed exactly once, and a queue's
 * concurrency limit never exceeded.
 */
// Store parts (storage/store.ts): LeaseStore (claimJobs, completeJobs) from racing connections.
import assert from 'node:assert/strict'
import { describe } from 'node:test'
import type { ClaimedJob, Docket } from '../../src/index.js'
import { type ConformanceContext, counts, makeQueue, sleep, test } from './harness.js'

const JOBS = 2_000
const CLAIMERS = 8
const BATCH = 10

export function concurrencySuite(ctx: ConformanceContext): void {
  describe('concurrency', () => {
    test(`${CLAIMERS} Docket instances racing over ${JOBS} jobs claim each exactly once`, async () => {
      const queue = await makeQueue(ctx.docket, 'x-race')
      const added = await ctx.docket.addMany(
        Array.from({ length: JOBS }, (_, i) => ({ queue, type: 'race', payload: { i } })),
      )
      assert.equal(added.length, JOBS)
      const dockets = await Promise.all(Array.from({ length: CLAIMERS }, () => ctx.open()))

      const claimedBy = new Map<string, number[]>()
      const lostCompletions: string[] = []
      const run = async (docket: Docket, index: number): Promise<number> => {
        let mine = 0
        for (;;) {
          const jobs = await docket.workers.claim({
            workerId: `racer-${index}`,
            queues: [queue],
            limit: BATCH,
          })
          if (jobs.length === 0) return mine
          for (const job of jobs) {
            const seen = claimedBy.get(job.id) ?? []
            seen.push(index)
            claimedBy.set(job.id, seen)
            assert.equal(job.lease.workerId, `racer-${index}`)
          }
          const outcomes = await docket.workers.completeMany(
            jobs.map((job) => ({ job, result: { by: index } })),
          )
          for (const o of outcomes) if (!o.ok) lostCompletions.push(o.id)
          mine += jobs.length
        }
      }
      try {
        const perClaimer = await Promise.all(dockets.map((d, i) => run(d, i)))
        const twice = [...claimedBy].filter(([, by]) => by.length > 1)
        assert.deepEqual(twice, [], 'jobs claimed more than once')
        assert.equal(claimedBy.size, JOBS)
        assert.deepEqual(new Set(claimedBy.keys()), new Set(added.map((j) => j.id)))
        assert.deepEqual(lostCompletions, [])
        assert.equal(
          perClaimer.reduce((a, b) => a + b, 0),
          JOBS,
        )
        const c = await counts(ctx.docket, queue)
        assert.equal(c.completed, JOBS)
        assert.equal(c.waiting + c.active + c.scheduled + c.failed, 0)
        // The race was a race: more than one claimer got work.
        assert.ok(perClaimer.filter((n) => n > 0).length > 1, `claims per racer: ${perClaimer}`)
        // Each stored result names the claimer that recorded it.
        const sample = await ctx.docket.getJob(added[JOBS - 1]!.id)
        assert.deepEqual(sample.result, { by: claimedBy.get(sample.id)![0] })
        assert.equal(sample.attempts, 1)
      } finally {
        await Promise.all(dockets.map((d) => d.close()))
      }
    })

    test('a concurrency limit of 3 holds with 6 claimers looping claim, work, complete', async () => {
      const LIMIT = 3
      const TOTAL = 60
      const queue = await makeQueue(ctx.docket, 'x-limit', { concurrency: LIMIT })
      await ctx.docket.addMany(
        Array.from({ length: TOTAL }, (_, i) => ({ queue, type: 'limited', payload: { i } })),
      )
      const dockets = await Promise.all(Array.from({ length: 6 }, () => ctx.open()))

      const inHand = new Set<string>()
      const done = new Set<string>()
      let maxInHand = 0
      let maxSampled = 0
      const samples: number[] = []
      const run = async (docket: Docket, index: number): Promise<void> => {
        while (done.size < TOTAL) {
          const jobs: ClaimedJob[] = await docket.workers.claim({
            workerId: `limited-${index}`,
            queues: [queue],
            limit: 2,
          })
          for (const job of jobs) {
            assert.ok(!inHand.has(job.id) && !done.has(job.id), `job ${job.id} claimed twice`)
            inHand.add(job.id)
          }
          // Jobs in hand are active in the database, so this can never exceed the limit.
          maxInHand = Math.max(maxInHand, inHand.size)
          const active = (await counts(docket, queue)).active
          samples.push(active)
          maxSampled = Math.max(maxSampled, active)
          if (jobs.length === 0) {
            await sleep(5)
            continue
          }
          await sleep(5 + Math.floor(Math.random() * 16))
          for (const job of jobs) {
            // Out of hand before the completion commits: the slot frees at the commit, and another
            // claimer's claim may resolve before this continuation runs.
            inHand.delete(job.id)
            await docket.workers.complete(job, { by: index })
            done.add(job.id)
          }
        }
      }
      try {
        await Promise.all(dockets.map((d, i) => run(d, i)))
        assert.ok(maxSampled <= LIMIT, `sampled ${maxSampled} active jobs, limit ${LIMIT}`)
        assert.ok(maxInHand <= LIMIT, `claimers held ${maxInHand} jobs at once, limit ${LIMIT}`)
        assert.ok(samples.every((n) => n <= LIMIT))
        assert.ok(maxInHand >= 2, `the claimers never overlapped (max ${maxInHand}); the test proved nothing`)
        assert.equal(done.size, TOTAL)
        const c = await counts(ctx.docket, queue)
        assert.equal(c.completed, TOTAL)
        assert.equal(c.active, 0)
      } finally {
        await Promise.all(dockets.map((d) => d.close()))
      }
    })

    test('concurrent adds with the same dedupe key create one job', async () => {
      const queue = await makeQueue(ctx.docket, 'x-dedupe')
      const dockets = await Promise.all(Array.from({ length: 4 }, () => ctx.open()))
      try {
        const results = await Promise.all(
          dockets.flatMap((d) =>
            Array.from({ length: 5 }, () => d.add(queue, 'once', null, { dedupeKey: 'only-one' })),
          ),
        )
        assert.equal(new Set(results.map((j) => j.id)).size, 1)
        assert.equal((await counts(ctx.docket, queue)).waiting, 1)
      } finally {
        await Promise.all(dockets.map((d) => d.close()))
      }
    })
  })
}
