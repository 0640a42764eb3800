/** Dedupe modes (keep, replace, debounce) and dedupeTtlMs; keys stay scoped to the owner. */
// Store parts (storage/store.ts): JobStore (addJobs).
import assert from 'node:assert/strict'
import { describe } from 'node:test'
import { type ConformanceContext, claim, claimOne, guardedQueue, makeQueue, status, test } from './harness.js'

export function dedupeModesSuite(ctx: ConformanceContext): void {
  describe('dedupe modes', () => {
    test('keep (the default) returns the live job and drops the new payload', async () => {
      const { docket } = ctx
      const queue = await makeQueue(docket, 'dm-keep')
      const first = await docket.add(queue, 't', { v: 1 }, { dedupeKey: 'k' })
      const again = await docket.add(queue, 't', { v: 2 }, { dedupeKey: 'k', dedupeMode: 'keep' })
      assert.equal(again.id, first.id)
      assert.deepEqual((await docket.getJob(first.id)).payload, { v: 1 })
    })

    test('replace: a job that has not started takes the new payload and options, keeping its id', async () => {
      const { clocked: docket, clock } = ctx
      const queue = await makeQueue(docket, 'dm-replace')
      const first = await docket.add(queue, 't', { v: 1 }, { dedupeKey: 'k', delayMs: 60_000 })
      clock.advance(1_000)
      const again = await docket.add(
        queue,
        't',
        { v: 2 },
        { dedupeKey: 'k', dedupeMode: 'replace', priority: 'urgent' },
      )
      assert.equal(again.id, first.id)
      assert.deepEqual(again.payload, { v: 2 })
      assert.equal(again.priority, 100)
      assert.equal(
        again.runAt.getTime(),
        first.runAt.getTime(),
        'replace keeps the run time unless given one',
      )
      assert.equal(again.status, 'scheduled')
      const detail = await docket.getJob(first.id)
      assert.deepEqual(detail.payload, { v: 2 })
      assert.ok(detail.events.some((e) => e.kind === 'log' && /replaced/.test(e.message ?? '')))
      // With a run time of its own, the job moves to it.
      const now = await docket.add(
        queue,
        't',
        { v: 3 },
        { dedupeKey: 'k', dedupeMode: 'replace', runAt: clock.now() },
      )
      assert.equal(now.id, first.id)
      assert.equal((await claimOne(docket, queue)).id, first.id, 'now due')
    })

    test('debounce: a burst of adds runs once, after the burst', async () => {
      const { clocked: docket, clock } = ctx
      const queue = await makeQueue(docket, 'dm-debounce')
      const ids = new Set<string>()
      for (let i = 1; i <= 5; i++) {
        const job = await docket.add(
          queue,
          'reindex',
          { n: i },
          { dedupeKey: 'doc-7', dedupeMode: 'debounce', delayMs: 1_000 },
        )
        ids.add(job.id)
        clock.advance(500)
      }
      assert.equal(ids.size, 1, 'one job for the burst')
      assert.deepEqual(await claim(docket, queue), [], 'each add pushed the run time back')
      clock.advance(500)
      const run = await claimOne(docket, queue)
      assert.deepEqual(run.payload, { n: 5 }, 'with the last payload')
    })

    test('debounce with dedupeMaxWaitMs: a stream of adds runs at most that long after the first, with the latest payload', async () => {
      const { clocked: docket, clock } = ctx
      const queue = await makeQueue(docket, 'dm-max-wait')
      const options = {
        dedupeKey: 'doc-9',
        dedupeMode: 'debounce',
        delayMs: 800,
        dedupeMaxWaitMs: 2_000,
      } as const
      const start = clock.now().getTime()
      // An add every 300 ms: without a maximum wait each one would push the run back for good.
      let first: string | undefined
      for (let i = 1; i <= 7; i++) {
        const job = await docket.add(queue, 'reindex', { n: i }, options)
        first ??= job.id
        assert.equal(job.id, first, 'one job for the burst')
        assert.equal(job.runAt.getTime(), Math.min(clock.now().getTime() + 800, start + 2_000))
        assert.deepEqual(await claim(docket, queue), [], `not due at +${clock.now().getTime() - start} ms`)
        clock.advance(300)
      }
      // +2100 ms: the seventh add (at +1800) was capped at +2000.
      const run = await claimOne(docket, queue)
      assert.equal(run.id, first)
      assert.deepEqual(run.payload, { n: 7 }, 'with the latest payload')
      // The stream goes on while it runs: a new burst, counted from its own first add.
      const second = await docket.add(queue, 'reindex', { n: 8 }, options)
      assert.notEqual(second.id, first)
      assert.equal(second.status, 'blocked', 'it waits for the running one')
      const secondStart = clock.now().getTime()
      await docket.workers.complete(run, null)
      for (let i = 9; i <= 12; i++) {
        clock.advance(300)
        const again = await docket.add(queue, 'reindex', { n: i }, options)
        assert.equal(again.id, second.id)
        assert.equal(again.runAt.getTime(), Math.min(clock.now().getTime() + 800, secondStart + 2_000))
      }
      clock.advance(800)
      assert.deepEqual((await claimOne(docket, queue)).payload, { n: 12 })
    })

    test('dedupeMaxWaitMs caps the first add too, and is refused without debounce or out of bounds', async () => {
      const { clocked: docket, clock } = ctx
      const queue = await makeQueue(docket, 'dm-max-wait-first')
      const job = await docket.add(queue, 't', null, {
        dedupeKey: 'k',
        dedupeMode: 'debounce',
        delayMs: 60_000,
        dedupeMaxWaitMs: 5_000,
      })
      assert.equal(job.runAt.getTime(), clock.now().getTime() + 5_000)
      assert.equal(job.status, 'scheduled')
      const { queue: guarded, rejects } = await guardedQueue(docket, 'dm-max-wait-bad')
      for (const options of [
        { dedupeKey: 'k', dedupeMaxWaitMs: 1_000 },
        { dedupeKey: 'k', dedupeMode: 'replace', dedupeMaxWaitMs: 1_000 },
        { dedupeMaxWaitMs: 1_000 },
        { dedupeKey: 'k', dedupeMode: 'debounce', dedupeMaxWaitMs: 0 },
        { dedupeKey: 'k', dedupeMode: 'debounce', dedupeMaxWaitMs: 1.5 },
      ] as const)
        await rejects(() => docket.add(guarded, 't', null, options), 'INVALID_ARGUMENT', ['dedupeMaxWaitMs'])
    })

    test('replace while it runs: the new job waits for the running one, which gives it its key', async () => {
      const { docket } = ctx
      const queue = await makeQueue(docket, 'dm-running')
      const first = await docket.add(queue, 't', { v: 1 }, { dedupeKey: 'k' })
      const running = await claimOne(docket, queue)
      const next = await docket.add(queue, 't', { v: 2 }, { dedupeKey: 'k', dedupeMode: 'replace' })
      assert.notEqual(next.id, first.id)
      assert.equal(next.status, 'blocked')
      assert.equal(next.dedupeKey, 'k')
      assert.equal((await docket.getJob(first.id)).dedupeKey, null, 'the running job let go of its key')
      assert.deepEqual((await docket.getJob(next.id)).dependencies.upstream, [
        { id: first.id, status: 'active', on: 'completion' },
      ])
      // Later adds with the key find the queued one.
      const third = await docket.add(queue, 't', { v: 3 }, { dedupeKey: 'k', dedupeMode: 'replace' })
      assert.equal(third.id, next.id)
      assert.deepEqual(third.payload, { v: 3 })
      await docket.workers.fail(running, 'whatever happens to it', { retryable: false })
      assert.equal(await status(docket, next.id), 'waiting')
    })

    test('dedupeTtlMs: a job finished less than that long ago still holds the key', async () => {
      const { clocked: docket, clock } = ctx
      const queue = await makeQueue(docket, 'dm-ttl')
      const first = await docket.add(queue, 't', null, { dedupeKey: 'k', dedupeTtlMs: 10_000 })
      await docket.workers.complete(await claimOne(docket, queue), 'done')
      clock.advance(9_999)
      const within = await docket.add(queue, 't', null, { dedupeKey: 'k', dedupeTtlMs: 10_000 })
      assert.equal(within.id, first.id)
      assert.equal(within.status, 'completed')
      const noTtl = await docket.add(queue, 't', null, { dedupeKey: 'k', dedupeTtlMs: 1_000 })
      assert.notEqual(noTtl.id, first.id, 'a shorter TTL does not reach back that far')
      await docket.cancelJob(noTtl.id)
      clock.advance(1)
      const after = await docket.add(queue, 't', null, { dedupeKey: 'k', dedupeTtlMs: 10_000 })
      assert.ok(after.id !== first.id)
      // Keys stay scoped to the owner.
      const theirs = await docket.add(queue, 't', null, {
        dedupeKey: 'k',
        dedupeTtlMs: 10_000,
        owner: 'someone-else',
      })
      assert.ok(theirs.id !== after.id)
    })

    test('replace is scoped to the owner: another owner’s job with the key is left alone', async () => {
      const { docket } = ctx
      const queue = await makeQueue(docket, 'dm-owner')
      const mine = await docket.add(queue, 't', { v: 1 }, { dedupeKey: 'k', owner: 'ann' })
      const theirs = await docket.add(
        queue,
        't',
        { v: 2 },
        { dedupeKey: 'k', owner: 'ben', dedupeMode: 'replace' },
      )
      assert.notEqual(theirs.id, mine.id)
      assert.deepEqual((await docket.getJob(mine.id)).payload, { v: 1 })
    })

    test('bad input: an unknown mode, a mode or TTL without a key; nothing changes', async () => {
      const { docket } = ctx
      const { queue, rejects } = await guardedQueue(docket, 'dm-bad')
      await rejects(
        () => docket.add(queue, 't', null, { dedupeKey: 'k', dedupeMode: 'merge' as never }),
        'INVALID_ARGUMENT',
        ['dedupeMode'],
      )
      await rejects(() => docket.add(queue, 't', null, { dedupeMode: 'replace' }), 'INVALID_ARGUMENT', [
        'dedupeMode',
      ])
      await rejects(() => docket.add(queue, 't', null, { dedupeTtlMs: 1000 }), 'INVALID_ARGUMENT', [
        'dedupeTtlMs',
      ])
      await rejects(
        () => docket.add(queue, 't', null, { dedupeKey: 'k', dedupeTtlMs: -1 }),
        'INVALID_ARGUMENT',
        ['dedupeTtlMs'],
      )
    })
  })
}
