/**
 * Queue rate limits: at most `max` starts in any window of `intervalMs` (a
 * sliding window), across every worker and process; a worker that can start
 * nothing learns when the next slot opens. Tests move the clock of
 * `ctx.clocked` instead of sleeping.
 */
// Store parts (storage/store.ts): LeaseStore (claimJobs, rateLimitWaitMs), QueueStatsStore (rateLimitUse).
import assert from 'node:assert/strict'
import { describe } from 'node:test'
import type { Docket } from '../../src/index.js'
import { type ConformanceContext, claim, expectError, makeQueue, test, workerId } from './harness.js'

export function rateLimitsSuite(ctx: ConformanceContext): void {
  describe('rate limits', () => {
    const fill = async (docket: Docket, queue: string, n: number) =>
      docket.addMany(Array.from({ length: n }, (_, i) => ({ queue, type: 't', payload: { i } })))

    test('a queue keeps its rate limit; update changes or clears it', async () => {
      const queue = await makeQueue(ctx.docket, 'rl-crud', { rateLimit: { max: 5, intervalMs: 1_000 } })
      assert.deepEqual((await ctx.docket.getQueue(queue)).rateLimit, { max: 5, intervalMs: 1_000 })
      const changed = await ctx.docket.updateQueue(queue, { rateLimit: { max: 2, intervalMs: 60_000 } })
      assert.deepEqual(changed.rateLimit, { max: 2, intervalMs: 60_000 })
      assert.deepEqual((await ctx.docket.updateQueue(queue, { concurrency: 3 })).rateLimit, changed.rateLimit)
      assert.equal((await ctx.docket.updateQueue(queue, { rateLimit: null })).rateLimit, null)
      assert.equal((await ctx.docket.getQueue(await makeQueue(ctx.docket, 'rl-none'))).rateLimit, null)
    })

    test('bad rate limits are refused naming the field, and change nothing', async () => {
      const queue = await makeQueue(ctx.docket, 'rl-bad', { rateLimit: { max: 5, intervalMs: 1_000 } })
      for (const [rateLimit, field] of [
        [{ max: 0, intervalMs: 1_000 }, 'rateLimit.max'],
        [{ max: 1.5, intervalMs: 1_000 }, 'rateLimit.max'],
        [{ max: 5 }, 'rateLimit.intervalMs'],
        [{ max: 5, intervalMs: -1 }, 'rateLimit.intervalMs'],
        [{ max: 5, intervalMs: 1_000, burst: 2 }, 'rateLimit.burst'],
        [5, 'rateLimit'],
      ] as const) {
        await expectError(
          () => ctx.docket.updateQueue(queue, { rateLimit: rateLimit as never }),
          'INVALID_ARGUMENT',
          [field],
        )
      }
      assert.deepEqual((await ctx.docket.getQueue(queue)).rateLimit, { max: 5, intervalMs: 1_000 })
    })

    test('at most max jobs start in a window, whoever claims; the rest start as the window slides', async () => {
      const { clocked: docket, clock } = ctx
      const queue = await makeQueue(docket, 'rl-window', { rateLimit: { max: 3, intervalMs: 1_000 } })
      await fill(docket, queue, 10)
      assert.equal((await claim(docket, queue, { limit: 2 })).length, 2)
      clock.advance(500)
      assert.equal((await claim(docket, queue, { limit: 10 })).length, 1, 'the window holds 3 starts')
      assert.equal((await claim(docket, queue, { limit: 10, worker: workerId('other') })).length, 0)
      assert.equal(
        await docket.workers.rateLimitWaitMs([queue]),
        500,
        'the first two starts leave the window in 500 ms',
      )
      clock.advance(499)
      assert.equal((await claim(docket, queue, { limit: 10 })).length, 0)
      clock.advance(1)
      assert.equal((await claim(docket, queue, { limit: 10 })).length, 2, 'the first two left the window')
      assert.equal(await docket.workers.rateLimitWaitMs([queue]), 500)
      clock.advance(500)
      assert.equal((await claim(docket, queue, { limit: 10 })).length, 1, 'the start at 500 ms left it')
    })

    test('finishing jobs frees no rate slot (a rate is not a concurrency limit); both limits apply together', async () => {
      const { clocked: docket, clock } = ctx
      const queue = await makeQueue(docket, 'rl-both', {
        rateLimit: { max: 3, intervalMs: 10_000 },
        concurrency: 2,
      })
      await fill(docket, queue, 6)
      const first = await claim(docket, queue, { limit: 10 })
      assert.equal(first.length, 2, 'the concurrency limit is the tighter one now')
      for (const job of first) await docket.workers.complete(job, null)
      assert.equal((await claim(docket, queue, { limit: 10 })).length, 1, 'then the rate limit')
      clock.advance(10_000)
      assert.equal((await claim(docket, queue, { limit: 10 })).length, 1, 'the concurrency limit again')
    })

    test('several processes claiming at once never start more than max in a window', async () => {
      const { clocked: docket, clock } = ctx
      const others = [await ctx.open({ clock }), await ctx.open({ clock }), await ctx.open({ clock })]
      const queue = await makeQueue(docket, 'rl-race', { rateLimit: { max: 5, intervalMs: 1_000 } })
      await fill(docket, queue, 40)
      for (let round = 0; round < 3; round++) {
        const got = await Promise.all(
          [docket, ...others].flatMap((d) => [claim(d, queue, { limit: 4 }), claim(d, queue, { limit: 4 })]),
        )
        assert.equal(got.flat().length, 5, `round ${round}`)
        clock.advance(1_000)
      }
    })

    test('rateLimitWaitMs: null for queues without a rate limit or with room; paused queues do not count', async () => {
      const { clocked: docket } = ctx
      const plain = await makeQueue(docket, 'rl-plain')
      const roomy = await makeQueue(docket, 'rl-roomy', { rateLimit: { max: 100, intervalMs: 1_000 } })
      const full = await makeQueue(docket, 'rl-full', { rateLimit: { max: 1, intervalMs: 2_000 } })
      await fill(docket, plain, 1)
      await fill(docket, roomy, 1)
      await fill(docket, full, 2)
      assert.equal((await claim(docket, [plain, roomy, full], { limit: 10 })).length, 3)
      assert.equal(await docket.workers.rateLimitWaitMs([plain, roomy]), null)
      assert.equal(await docket.workers.rateLimitWaitMs([plain, roomy, full]), 2_000)
      await docket.pauseQueue(full)
      assert.equal(await docket.workers.rateLimitWaitMs([full]), null)
      await expectError(() => docket.workers.rateLimitWaitMs(['bad name!']), 'INVALID_ARGUMENT')
    })

    test('rateLimitUse: starts in the window, full, and when the next slot opens; per group, the busiest group', async () => {
      const { clocked: docket, clock } = ctx
      const queue = await makeQueue(docket, 'rl-use', { rateLimit: { max: 2, intervalMs: 1_000 } })
      await fill(docket, queue, 5)
      const base = { max: 2, intervalMs: 1_000 }
      assert.deepEqual(await docket.rateLimitUse(queue), { used: 0, ...base, full: false, nextSlotAt: null })
      await claim(docket, queue)
      const t0 = clock.now().getTime()
      clock.advance(300)
      await claim(docket, queue)
      assert.deepEqual(await docket.rateLimitUse(queue), {
        used: 2,
        ...base,
        full: true,
        nextSlotAt: new Date(t0 + 1_000),
      })
      clock.advance(700)
      assert.deepEqual(await docket.rateLimitUse(queue), { used: 1, ...base, full: false, nextSlotAt: null })
      assert.equal(await docket.rateLimitUse(await makeQueue(docket, 'rl-use-none')), null)
      await expectError(() => docket.rateLimitUse('rl-use-missing'), 'NOT_FOUND')

      const grouped = await makeQueue(docket, 'rl-use-group', {
        rateLimit: { max: 2, intervalMs: 1_000, per: 'group' },
      })
      await docket.addMany(['a', 'a', 'a', 'b'].map((group) => ({ queue: grouped, type: 't', group })))
      assert.equal((await claim(docket, grouped, { limit: 10 })).length, 3, 'two of a, one of b')
      const g0 = clock.now().getTime()
      assert.deepEqual(await docket.rateLimitUse(grouped), {
        used: 2,
        max: 2,
        intervalMs: 1_000,
        per: 'group',
        full: true,
        nextSlotAt: new Date(g0 + 1_000),
      })
    })
  })
}
