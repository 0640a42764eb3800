/**
 * Groups: a job's `group`, a queue's `groupConcurrency` (most active jobs per
 * group across all workers), `fair` turns between groups (round-robin, in the
 * queue's order inside each group), a rate limit per group, and a queue that
 * makes a job's group default to its owner.
 */
// Store parts (storage/store.ts): LeaseStore (claimJobs, rateLimitWaitMs), QueueStatsStore (groupCounts).
import assert from 'node:assert/strict'
import { describe } from 'node:test'
import type { ClaimedJob, Docket } from '../../src/index.js'
import { type ConformanceContext, claim, expectError, makeQueue, test } from './harness.js'

export function groupsSuite(ctx: ConformanceContext): void {
  describe('groups', () => {
    const groupsOf = (jobs: ClaimedJob[]) => jobs.map((j) => j.group ?? '-')
    const tally = (jobs: ClaimedJob[]) =>
      Object.fromEntries(
        [...new Set(groupsOf(jobs))].sort().map((g) => [g, groupsOf(jobs).filter((x) => x === g).length]),
      )
    const add = (docket: Docket, queue: string, group: string | null, n: number, extra = {}) =>
      docket.addMany(
        Array.from({ length: n }, (_, i) => ({ queue, type: 't', group, payload: { i }, ...extra })),
      )

    test('a job keeps its group; on a groupByOwner queue a job’s group is its owner', async () => {
      const plain = await makeQueue(ctx.docket, 'grp-plain')
      const byOwner = await makeQueue(ctx.docket, 'grp-owner', { groupByOwner: true })
      assert.equal((await ctx.docket.add({ queue: plain, type: 't', group: 'acme' })).group, 'acme')
      assert.equal((await ctx.docket.add({ queue: plain, type: 't', owner: 'alice' })).group, null)
      assert.equal((await ctx.docket.add({ queue: byOwner, type: 't', owner: 'alice' })).group, 'alice')
      assert.equal(
        (await ctx.docket.add({ queue: byOwner, type: 't', owner: 'alice', group: 'x' })).group,
        'alice',
        'a given group is ignored',
      )
      assert.equal((await ctx.docket.add({ queue: byOwner, type: 't', group: 'x' })).group, null)
      const q = await ctx.docket.getQueue(byOwner)
      assert.deepEqual([q.groupByOwner, q.fair, q.groupConcurrency], [true, false, null])
      const updated = await ctx.docket.updateQueue(plain, { groupConcurrency: 3, fair: true })
      assert.deepEqual([updated.groupConcurrency, updated.fair], [3, true])
      assert.equal((await ctx.docket.updateQueue(plain, { groupConcurrency: null })).groupConcurrency, null)
    })

    test('groupByOwner: a user naming another user’s group does not take that user’s slot, by any way of adding', async () => {
      const { docket } = ctx
      const queue = await makeQueue(docket, 'grp-owner-slot', { groupByOwner: true, groupConcurrency: 1 })
      const posing = { queue, type: 't', owner: 'bob', group: 'alice' }
      const one = await docket.add(posing)
      const [many] = await docket.addMany([{ ...posing, payload: { via: 'addMany' } }])
      const { jobs } = await docket.addBatch([{ ...posing, payload: { via: 'addBatch' } }], { owner: 'bob' })
      assert.deepEqual([one.group, many!.group, jobs[0]!.group], ['bob', 'bob', 'bob'])
      // Bob's jobs take bob's one slot; alice's job still finds hers free.
      const alice = await docket.add({ queue, type: 't', owner: 'alice' })
      const claimed = await claim(docket, queue, { limit: 10 })
      assert.deepEqual(claimed.map((j) => [j.owner, j.group]).sort(), [
        ['alice', 'alice'],
        ['bob', 'bob'],
      ])
      assert.ok(claimed.some((j) => j.id === alice.id))
    })

    test('groupConcurrency: at most N active jobs per group; jobs without a group are not limited', async () => {
      const { docket } = ctx
      const queue = await makeQueue(docket, 'grp-limit', { groupConcurrency: 2 })
      await add(docket, queue, 'a', 5)
      await add(docket, queue, 'b', 5)
      await add(docket, queue, null, 3)
      const first = await claim(docket, queue, { limit: 20 })
      assert.deepEqual(tally(first), { '-': 3, a: 2, b: 2 })
      assert.deepEqual(await claim(docket, queue, { limit: 20 }), [])
      await docket.workers.complete(first.find((j) => j.group === 'a')!, null)
      assert.deepEqual(tally(await claim(docket, queue, { limit: 20 })), { a: 1 })
    })

    test('groupConcurrency without fair: the queue’s order, passing over jobs of full groups, either ordering', async () => {
      const { clocked: docket, clock } = ctx
      for (const ordering of ['priority', 'fifo'] as const) {
        const queue = await makeQueue(docket, `grp-order-${ordering}`, { groupConcurrency: 1, ordering })
        const job = async (group: string | null, priority = 0, extra = {}) =>
          (await docket.add({ queue, type: 't', group, priority, ...extra })).id
        const a1 = await job('a')
        const a2 = await job('a')
        const b1 = await job('b')
        const a3 = await job('a', 10)
        const c1 = await job('c', 5)
        const u1 = await job(null)
        const u2 = await job(null)
        // Passed over as well: one needs a capability this worker lacks, one has expired.
        await job('d', 20, { capabilities: ['gpu'] })
        await job('e', 30, { expiresInMs: 1_000 })
        clock.advance(1_001)
        const first = await claim(docket, queue, { limit: 5 })
        assert.deepEqual(
          first.map((j) => j.id),
          ordering === 'priority' ? [a3, c1, b1, u1, u2] : [a1, b1, c1, u1, u2],
          ordering,
        )
        // Group a has room again: its next job in the queue's order starts; b and c are still full.
        await docket.workers.complete(first.find((j) => j.group === 'a')!, null)
        const next = await claim(docket, queue, { limit: 5 })
        assert.deepEqual(
          next.map((j) => j.id),
          [ordering === 'priority' ? a1 : a2],
          ordering,
        )
      }
    })

    test('groupConcurrency holds across several processes claiming at once', async () => {
      const others = [await ctx.open(), await ctx.open(), await ctx.open()]
      const queue = await makeQueue(ctx.docket, 'grp-race', { groupConcurrency: 3 })
      for (const g of ['a', 'b', 'c']) await add(ctx.docket, queue, g, 10)
      const got = (
        await Promise.all(
          [ctx.docket, ...others].flatMap((d) => [
            claim(d, queue, { limit: 4 }),
            claim(d, queue, { limit: 4 }),
          ]),
        )
      ).flat()
      assert.deepEqual(tally(got), { a: 3, b: 3, c: 3 })
    })

    test('fair: claims take turns between groups, in priority order inside each, so a small tenant is not starved', async () => {
      const { docket } = ctx
      const queue = await makeQueue(docket, 'grp-fair', { fair: true })
      await add(docket, queue, 'big', 20)
      await add(docket, queue, 'big', 1, { priority: 'urgent', payload: { urgent: true } })
      await add(docket, queue, 'small', 3)
      const order: string[] = []
      for (let i = 0; i < 8; i++) {
        const [job] = await claim(docket, queue, { limit: 1 })
        order.push(job!.group!)
        if (i === 0) assert.deepEqual(job!.payload, { urgent: true }, 'inside a group, priority first')
      }
      assert.deepEqual(order, ['big', 'small', 'big', 'small', 'big', 'small', 'big', 'big'])
      // One claim of many: the first of each group before anyone's second.
      const queue2 = await makeQueue(docket, 'grp-fair-batch', { fair: true })
      await add(docket, queue2, 'big', 10)
      await add(docket, queue2, 'small', 2)
      assert.deepEqual(tally(await claim(docket, queue2, { limit: 4 })), { big: 2, small: 2 })
    })

    test('a rate limit per group gives each group its own budget', async () => {
      const { clocked: docket, clock } = ctx
      const queue = await makeQueue(docket, 'grp-rate', {
        rateLimit: { max: 2, intervalMs: 1_000, per: 'group' },
      })
      assert.deepEqual((await docket.getQueue(queue)).rateLimit, { max: 2, intervalMs: 1_000, per: 'group' })
      await add(docket, queue, 'a', 5)
      await add(docket, queue, 'b', 5)
      assert.deepEqual(tally(await claim(docket, queue, { limit: 20 })), { a: 2, b: 2 })
      assert.deepEqual(await claim(docket, queue, { limit: 20 }), [])
      assert.equal(await docket.workers.rateLimitWaitMs([queue]), 1_000)
      clock.advance(1_000)
      assert.deepEqual(tally(await claim(docket, queue, { limit: 20 })), { a: 2, b: 2 })
    })

    test('a queue-wide rate limit holds on a queue with group rules too', async () => {
      const { clocked: docket, clock } = ctx
      const queue = await makeQueue(docket, 'grp-rate-all', {
        fair: true,
        groupConcurrency: 5,
        rateLimit: { max: 3, intervalMs: 1_000 },
      })
      await add(docket, queue, 'a', 5)
      await add(docket, queue, 'b', 5)
      assert.equal((await claim(docket, queue, { limit: 2 })).length, 2)
      assert.equal((await claim(docket, queue, { limit: 20 })).length, 1)
      assert.deepEqual(await claim(docket, queue, { limit: 20 }), [])
      clock.advance(1_000)
      assert.equal((await claim(docket, queue, { limit: 20 })).length, 3)
    })

    test('a grouped claim never starts an expired job, and opens an attempt for each job it starts', async () => {
      const { clocked: docket, clock } = ctx
      const queue = await makeQueue(docket, 'grp-expiry', { fair: true, groupConcurrency: 5 })
      await docket.add({ queue, type: 't', group: 'a', expiresInMs: 1_000 })
      const keeps = await docket.add({ queue, type: 't', group: 'b' })
      clock.advance(1_001)
      const got = await claim(docket, queue, { limit: 10 })
      assert.deepEqual(
        got.map((j) => j.id),
        [keeps.id],
      )
      assert.equal((await docket.getJob(keeps.id)).attemptHistory.length, 1)
    })

    test('groupCounts: the busiest groups with their active and waiting jobs, only an owner’s when asked', async () => {
      const { docket } = ctx
      // Groups named by the jobs (on a groupByOwner queue every group would be an owner).
      const queue = await makeQueue(docket, 'grp-counts')
      await add(docket, queue, 'alice', 3, { owner: 'alice' })
      await add(docket, queue, 'bob', 1, { owner: 'bob' })
      await add(docket, queue, 'shared', 2, { owner: 'bob' })
      await claim(docket, queue, { limit: 1 })
      assert.deepEqual(await docket.groupCounts(queue), [
        { group: 'alice', active: 1, waiting: 2 },
        { group: 'shared', active: 0, waiting: 2 },
        { group: 'bob', active: 0, waiting: 1 },
      ])
      assert.deepEqual(await docket.groupCounts(queue, { owner: 'bob' }), [
        { group: 'shared', active: 0, waiting: 2 },
        { group: 'bob', active: 0, waiting: 1 },
      ])
      assert.equal((await docket.groupCounts(queue, { limit: 1 })).length, 1)
    })

    test('fair: a group whose jobs all ran is forgotten, and comes back with a job retried, snoozed or added', async () => {
      const { docket } = ctx
      const queue = await makeQueue(docket, 'grp-fair-back', { fair: true, maxAttempts: 1 })
      await add(docket, queue, 'a', 1)
      await add(docket, queue, 'b', 2)
      const [a] = await claim(docket, queue)
      assert.equal(a!.group, 'a')
      await docket.workers.fail(a!, 'boom')
      const [b1] = await claim(docket, queue)
      assert.equal(b1!.group, 'b', 'a has nothing waiting: it is passed over (and forgotten)')
      const [b2] = await claim(docket, queue)
      assert.equal(b2!.group, 'b')
      assert.deepEqual(await claim(docket, queue), [])
      await docket.retryJob(a!.id)
      const [again] = await claim(docket, queue)
      assert.equal(again?.id, a!.id, 'the job retried by hand is claimed')
      await docket.workers.snooze(again!, 0)
      assert.equal((await claim(docket, queue))[0]?.id, a!.id, 'and again once snoozed')
      await add(docket, queue, 'c', 1)
      assert.equal((await claim(docket, queue))[0]?.group, 'c')
    })

    test('fair: a queue turned fair takes turns between the groups it already has, jobs without a group too', async () => {
      const { docket } = ctx
      const queue = await makeQueue(docket, 'grp-turned-fair')
      await add(docket, queue, 'big', 6)
      await add(docket, queue, null, 2)
      await add(docket, queue, 'small', 2)
      await docket.updateQueue(queue, { fair: true })
      const got = await claim(docket, queue, { limit: 6 })
      assert.deepEqual(tally(got), { '-': 2, big: 2, small: 2 }, 'two rounds of three groups')
      assert.deepEqual(tally(await claim(docket, queue, { limit: 10 })), { big: 4 })
    })

    test('bad group options are refused naming the field', async () => {
      const queue = await makeQueue(ctx.docket, 'grp-bad')
      await expectError(() => ctx.docket.updateQueue(queue, { groupConcurrency: 0 }), 'INVALID_ARGUMENT', [
        'groupConcurrency',
      ])
      await expectError(() => ctx.docket.updateQueue(queue, { fair: 'yes' as never }), 'INVALID_ARGUMENT', [
        'fair',
      ])
      await expectError(
        () => ctx.docket.updateQueue(queue, { rateLimit: { max: 1, intervalMs: 1, per: 'tenant' as never } }),
        'INVALID_ARGUMENT',
        ['rateLimit.per'],
      )
      await expectError(() => ctx.docket.add({ queue, type: 't', group: '' }), 'INVALID_ARGUMENT', ['group'])
    })
  })
}
