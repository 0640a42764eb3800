/** Under a lease: heartbeat, progress, log and step events, complete, fail and retry, release. */
// Store parts (storage/store.ts): LeaseStore, MaintenanceStore (recoverExpiredLeases).
import assert from 'node:assert/strict'
import { describe } from 'node:test'
import { UnrecoverableError } from '../../src/index.js'
import { type ConformanceContext, claim, claimOne, expectError, makeQueue, newId, test } from './harness.js'

export function leasesSuite(ctx: ConformanceContext): void {
  describe('leases', () => {
    test('heartbeat extends the lease', async () => {
      const queue = await makeQueue(ctx.docket, 'l-heartbeat')
      await ctx.docket.add(queue, 't')
      const job = await claimOne(ctx.docket, queue, 1_000)
      const before = Date.now()
      assert.deepEqual(await ctx.docket.workers.heartbeat(job, 60_000), [{ id: job.id, ok: true }])
      const lease = (await ctx.docket.getJob(job.id)).lease
      assert.ok(lease && lease.expiresAt.getTime() >= before + 59_000, 'lease not extended')
      assert.equal(lease.token, job.lease.token)
      // By id and token as well as by the claimed job.
      assert.deepEqual(
        await ctx.docket.workers.heartbeat([{ id: job.id, token: job.lease.token }], 120_000),
        [{ id: job.id, ok: true }],
      )
    })

    test('heartbeats keep a short lease alive past its first expiry; without one it runs out', async () => {
      const { clocked: docket, clock } = ctx
      const queue = await makeQueue(docket, 'l-keepalive')
      await docket.add(queue, 't')
      const job = await claimOne(docket, queue, 200)
      assert.equal(job.lease.expiresAt.getTime(), clock.now().getTime() + 200)
      for (let i = 0; i < 5; i++) {
        clock.advance(150)
        assert.deepEqual(await docket.workers.heartbeat(job, 200), [{ id: job.id, ok: true }])
      }
      assert.equal((await docket.getJob(job.id)).lease?.expiresAt.getTime(), clock.now().getTime() + 200)
      await docket.recoverExpiredLeases()
      assert.equal((await docket.getJob(job.id)).status, 'active')
      clock.advance(200)
      assert.deepEqual(await docket.workers.heartbeat(job, 200), [
        { id: job.id, ok: false, code: 'LEASE_LOST', reason: 'expired' },
      ])
      await expectError(() => docket.workers.complete(job, 'late'), 'LEASE_LOST', ['expired'])
    })

    test('a recovered or released job keeps its place in the queue, ahead of jobs added after it', async () => {
      const { clocked: docket, clock } = ctx
      const queue = await makeQueue(docket, 'l-place')
      const first = await docket.add(queue, 't')
      const interrupted = await claimOne(docket, queue, 100)
      assert.equal(interrupted.id, first.id)
      clock.advance(10)
      await docket.add(queue, 't')
      clock.advance(100)
      await docket.recoverExpiredLeases()
      const again = await claimOne(docket, queue)
      assert.equal(again.id, first.id, 'the recovered job runs before the one added after it')
      assert.equal(again.runAt.getTime(), first.runAt.getTime())
      await docket.workers.release([again])
      assert.equal((await claimOne(docket, queue)).id, first.id, 'and so does a released one')
    })

    // Issue 19: why the poison test's bystanders could fail. A worker that dies
    // costs an attempt of every job it held, and they come back together in
    // their place, so they are claimed together again.
    test('a lease expiry spends an attempt of every job the worker held; they come back together', async () => {
      const { clocked: docket, clock } = ctx
      const queue = await makeQueue(docket, 'l-crash', {
        maxAttempts: 2,
        backoff: { type: 'fixed', delayMs: 0 },
      })
      const poison = await docket.add(queue, 'crash', null, { priority: 'urgent' })
      const bystander = await docket.add(queue, 'work')
      const spare = await docket.add(queue, 'work', null, { maxAttempts: 3 })
      for (let crash = 1; crash <= 2; crash++) {
        const held = await claim(docket, queue, { limit: 3, leaseMs: 80 })
        assert.deepEqual(
          held.map((j) => j.id),
          [poison.id, bystander.id, spare.id],
          `after crash ${crash - 1} the same jobs are claimed together`,
        )
        clock.advance(79)
        assert.equal(await docket.recoverExpiredLeases(), 0, 'a lease is not recovered before it runs out')
        clock.advance(1) // the worker died: nobody heartbeats
        assert.equal(await docket.recoverExpiredLeases(), 3)
      }
      for (const job of [poison, bystander]) {
        const after = await docket.getJob(job.id)
        assert.equal(after.status, 'failed', 'two crashes spent both attempts')
        assert.equal(after.errorCount, 2)
        assert.equal(after.lastError?.name, 'LeaseExpired')
        assert.equal(after.finishedAt?.getTime(), clock.now().getTime())
      }
      const survivor = await docket.getJob(spare.id)
      assert.equal(survivor.status, 'waiting', 'one attempt more than there were crashes: it runs again')
      assert.equal(survivor.errorCount, 2)
    })

    test('progress updates the job and appends a progress event; log and step append theirs', async () => {
      const queue = await makeQueue(ctx.docket, 'l-progress')
      await ctx.docket.add(queue, 't')
      const job = await claimOne(ctx.docket, queue)
      await ctx.docket.workers.progress(job, { percent: 30, step: 'ocr', message: 'reading page 3' })
      const mid = await ctx.docket.getJob(job.id)
      assert.deepEqual(mid.progress, { percent: 30, step: 'ocr', message: 'reading page 3' })
      // Fields left out keep their value.
      await ctx.docket.workers.progress(job, { percent: 70.5 })
      assert.deepEqual((await ctx.docket.getJob(job.id)).progress, {
        percent: 70.5,
        step: 'ocr',
        message: 'reading page 3',
      })

      await ctx.docket.workers.log(job, 'found 3 tables', { tables: 3, names: ['a', 'b', 'ç'] })
      await ctx.docket.workers.step(job, 'classify', 'started')
      await ctx.docket.workers.step(job, 'classify', 'completed', { durationMs: 12, message: 'invoice' })
      await ctx.docket.workers.step(job, 'summary', 'failed', { message: 'model timeout' })

      const events = (await ctx.docket.getJob(job.id)).events.filter(
        (e) => e.kind !== 'state' && e.kind !== 'added',
      )
      assert.equal(events[1]?.kind, 'progress')
      assert.equal(events[1]?.percent, 70.5)
      assert.deepEqual(
        events.filter((_, i) => i !== 1).map((e) => [e.kind, e.step, e.percent, e.message]),
        [
          ['progress', 'ocr', 30, 'reading page 3'],
          ['log', null, null, 'found 3 tables'],
          ['step.started', 'classify', null, null],
          ['step.completed', 'classify', null, 'invoice'],
          ['step.failed', 'summary', null, 'model timeout'],
        ],
      )
      assert.deepEqual(events[2]!.data, { tables: 3, names: ['a', 'b', 'ç'] })
      assert.deepEqual(events[4]!.data, { durationMs: 12 })
    })

    test('complete stores the result and finishes the job', async () => {
      const queue = await makeQueue(ctx.docket, 'l-complete')
      await ctx.docket.add(queue, 't')
      const job = await claimOne(ctx.docket, queue)
      const result = {
        confidence: 0.93,
        points: [
          [1, 2],
          [3, 4],
        ],
        label: 'grafik ✓',
      }
      await ctx.docket.workers.complete(job, result)
      const done = await ctx.docket.getJob(job.id)
      assert.equal(done.status, 'completed')
      assert.deepEqual(done.result, result)
      assert.equal(done.lease, null)
      assert.equal(done.progress.percent, 100)
      assert.ok(done.finishedAt && done.finishedAt.getTime() >= done.startedAt!.getTime())
      assert.ok(done.durationMs !== null && done.durationMs >= 0)
      assert.equal(done.events.at(-1)?.status, 'completed')
      // Completing twice is refused and changes nothing.
      await expectError(() => ctx.docket.workers.complete(job, { again: true }), 'LEASE_LOST')
      assert.deepEqual((await ctx.docket.getJob(job.id)).result, result)

      await ctx.docket.add(queue, 't')
      const bare = await claimOne(ctx.docket, queue)
      await ctx.docket.workers.complete(bare)
      assert.equal((await ctx.docket.getJob(bare.id)).result, null)
    })

    test('completeMany answers per job', async () => {
      const queue = await makeQueue(ctx.docket, 'l-complete-many')
      await ctx.docket.addMany([
        { queue, type: 'a' },
        { queue, type: 'b' },
      ])
      const a = await claimOne(ctx.docket, queue)
      const b = await claimOne(ctx.docket, queue)
      await ctx.docket.cancelJob(b.id)
      const unknown = newId()
      const outcomes = await ctx.docket.workers.completeMany([
        { job: a, result: 1 },
        { job: b, result: 2 },
        { job: { id: unknown, token: 'nope' } },
      ])
      assert.deepEqual(outcomes, [
        { id: a.id, ok: true },
        { id: b.id, ok: false, code: 'LEASE_LOST', reason: 'cancelled' },
        { id: unknown, ok: false, code: 'LEASE_LOST', reason: 'deleted' },
      ])
      assert.equal((await ctx.docket.getJob(a.id)).result, 1)
      assert.equal((await ctx.docket.getJob(b.id)).status, 'cancelled')
      await expectError(() => ctx.docket.workers.complete({ id: unknown, token: 'nope' }), 'LEASE_LOST')
    })

    test('fail schedules a retry after the backoff, and fails for good after maxAttempts', async () => {
      const { clocked: docket, clock } = ctx
      const queue = await makeQueue(docket, 'l-retry', {
        maxAttempts: 3,
        backoff: { type: 'fixed', delayMs: 50 },
      })
      const added = await docket.add(queue, 't')
      for (let attempt = 1; attempt <= 3; attempt++) {
        const job = await claimOne(docket, queue)
        assert.equal(job.id, added.id)
        assert.equal(job.attempts, attempt)
        const now = clock.now().getTime()
        const after = await docket.workers.fail(job, new TypeError(`boom ${attempt}`))
        assert.equal(after.attempts, attempt)
        assert.equal(after.errorCount, attempt)
        assert.equal(after.lastError?.message, `boom ${attempt}`)
        assert.equal(after.lastError?.name, 'TypeError')
        assert.equal(after.lastError?.attempt, attempt)
        assert.equal(after.lastError?.retryable, true)
        assert.ok(after.lastError?.stack?.includes('boom'))
        assert.equal(after.lease, null)
        assert.deepEqual(
          await docket.getJob(job.id).then(({ events, dependencies, artifacts, attemptHistory, ...j }) => j),
          after,
        )
        if (attempt < 3) {
          assert.equal(after.status, 'scheduled')
          // 50 ms, less up to the default jitter of 20%.
          const delay = after.runAt.getTime() - now
          assert.ok(delay >= 40 && delay <= 50, `retry delayed ${delay} ms, not 40 to 50`)
          assert.equal(after.finishedAt, null)
          clock.advance(delay - 1)
          assert.deepEqual(await claim(docket, queue), [], 'claimed before its backoff ran out')
          clock.advance(1)
        } else {
          assert.equal(after.status, 'failed')
          assert.ok(after.finishedAt)
        }
      }
      assert.deepEqual(
        (await docket.getJob(added.id)).events.filter((e) => e.kind === 'state').map((e) => e.status),
        ['active', 'scheduled', 'active', 'scheduled', 'active', 'failed'],
      )
      await docket.add(queue, 'other')
      const [next] = await docket.workers.claim({ workerId: 'w', queues: [queue], limit: 5 })
      assert.equal(next?.type, 'other')
    })

    test('a retry waits out its backoff: fixed, and exponential doubling', async () => {
      const { clocked: docket, clock } = ctx
      const queue = await makeQueue(docket, 'l-backoff', { maxAttempts: 5 })
      const fixed = await docket.add(queue, 'fixed', null, {
        backoff: { type: 'fixed', delayMs: 60_000, jitter: 0 },
      })
      const job = await claimOne(docket, queue)
      assert.equal(job.id, fixed.id)
      const failed = await docket.workers.fail(job, 'no')
      assert.equal(failed.status, 'scheduled')
      assert.equal(failed.runAt.getTime(), clock.now().getTime() + 60_000)
      clock.advance(59_999)
      assert.deepEqual(await docket.workers.claim({ workerId: 'w', queues: [queue], limit: 5 }), [])
      clock.advance(1)
      assert.equal((await claimOne(docket, queue)).id, fixed.id, 'due once the backoff ran out')

      const exp = await docket.add(queue, 'exp', null, {
        backoff: { type: 'exponential', delayMs: 10_000, maxDelayMs: 1_000_000, jitter: 0 },
        priority: 'urgent',
      })
      for (const expected of [10_000, 20_000, 40_000]) {
        const claimed = await claimOne(docket, queue)
        assert.equal(claimed.id, exp.id)
        const f = await docket.workers.fail(claimed, 'again')
        assert.equal(f.runAt.getTime(), clock.now().getTime() + expected, `expected ${expected} ms`)
        clock.advance(expected - 1)
        assert.deepEqual(await claim(docket, queue), [], `claimed before its ${expected} ms ran out`)
        clock.advance(1)
      }
      assert.equal((await claimOne(docket, queue)).id, exp.id)
    })

    test('a failure marked not retryable, or an UnrecoverableError, fails at once', async () => {
      const queue = await makeQueue(ctx.docket, 'l-unrecoverable', { maxAttempts: 10 })
      await ctx.docket.add(queue, 'a')
      const a = await claimOne(ctx.docket, queue)
      const failedA = await ctx.docket.workers.fail(a, { message: 'bad input' }, { retryable: false })
      assert.equal(failedA.status, 'failed')
      assert.equal(failedA.attempts, 1)
      assert.equal(failedA.lastError?.retryable, false)
      assert.equal(failedA.lastError?.message, 'bad input')

      await ctx.docket.add(queue, 'b')
      const b = await claimOne(ctx.docket, queue)
      const failedB = await ctx.docket.workers.fail(b, new UnrecoverableError('corrupt file'))
      assert.equal(failedB.status, 'failed')
      assert.equal(failedB.lastError?.name, 'UnrecoverableError')
      assert.equal((await ctx.docket.getJob(b.id)).status, 'failed')
    })

    test('release gives the attempt back and the job to the queue', async () => {
      const queue = await makeQueue(ctx.docket, 'l-release')
      await ctx.docket.add(queue, 't')
      const job = await claimOne(ctx.docket, queue)
      assert.deepEqual(await ctx.docket.workers.release(job), [{ id: job.id, ok: true }])
      const released = await ctx.docket.getJob(job.id)
      assert.equal(released.status, 'waiting')
      assert.equal(released.attempts, 0)
      assert.equal(released.lease, null)
      assert.equal(released.errorCount, 0)
      await expectError(() => ctx.docket.workers.complete(job), 'LEASE_LOST')
      const again = await claimOne(ctx.docket, queue)
      assert.equal(again.id, job.id)
      assert.equal(again.attempts, 1)
      assert.notEqual(again.lease.token, job.lease.token)
    })
  })
}
