/**
 * Retry-after and snooze: a failure that names its own delay (fail's
 * retryInMs, a RetryAfterError, a worker's backoff function per type), and a
 * snooze that runs the job later without spending its attempt.
 */
// Store parts (storage/store.ts): LeaseStore (failJob, snoozeJob).
import assert from 'node:assert/strict'
import { describe } from 'node:test'
import { type ClaimedJob, RetryAfterError, Worker, type WorkerOptions } from '../../src/index.js'
import {
  type ConformanceContext,
  claim,
  claimOne,
  expectError,
  guardedQueue,
  makeQueue,
  test,
  until,
} from './harness.js'

const HOUR = 3_600_000
const slowBackoff = { type: 'fixed', delayMs: HOUR, jitter: 0 } as const

export function retryAfterSuite(ctx: ConformanceContext): void {
  describe('retry-after and snooze', () => {
    test('fail { retryInMs } and a RetryAfterError replace the backoff for that retry', async () => {
      const { clocked: docket, clock } = ctx
      const queue = await makeQueue(docket, 'ra-fail', { backoff: slowBackoff, maxAttempts: 5 })
      const job = await docket.add(queue, 't')
      let t0 = clock.now().getTime()
      const failed = await docket.workers.fail(await claimOne(docket, queue), 'rate limited', {
        retryInMs: 5_000,
      })
      assert.equal(failed.status, 'scheduled')
      assert.equal(failed.runAt.getTime(), t0 + 5_000)
      clock.advance(4_999)
      assert.deepEqual(await claim(docket, queue), [], 'claimed before its retry-after')
      clock.advance(1)
      const second = await claimOne(docket, queue)
      assert.equal(second.attempts, 2, 'the failed attempt counted')

      t0 = clock.now().getTime()
      const again = await docket.workers.fail(second, new RetryAfterError(30_000, 'upstream said 429'))
      assert.equal(again.runAt.getTime(), t0 + 30_000)
      assert.equal(again.lastError?.name, 'RetryAfterError')
      assert.equal(again.lastError?.message, 'upstream said 429')
      // Without a retry-after, the job's own backoff applies again.
      clock.advance(30_000)
      t0 = clock.now().getTime()
      const third = await docket.workers.fail(await claimOne(docket, queue), 'plain')
      assert.equal(third.runAt.getTime(), t0 + HOUR)
      assert.deepEqual(
        (await docket.getJob(job.id)).attemptHistory.map((a) => a.outcome),
        ['failed', 'failed', 'failed'],
      )
    })

    test('a retry-after on the last attempt does not add one: the job fails', async () => {
      const { clocked: docket } = ctx
      const queue = await makeQueue(docket, 'ra-last', { maxAttempts: 1 })
      await docket.add(queue, 't')
      const failed = await docket.workers.fail(await claimOne(docket, queue), 'no', { retryInMs: 1_000 })
      assert.equal(failed.status, 'failed')
    })

    test('snooze runs the job again later without spending the attempt; the old token is told why', async () => {
      const { clocked: docket, clock } = ctx
      const queue = await makeQueue(docket, 'ra-snooze', { maxAttempts: 1 })
      const job = await docket.add(queue, 't')
      const first = await claimOne(docket, queue)
      const t0 = clock.now().getTime()
      clock.advance(10)
      const snoozed = await docket.workers.snooze(first, 60_000)
      assert.equal(snoozed.status, 'scheduled')
      assert.equal(snoozed.attempts, 0, 'the attempt was given back')
      assert.equal(snoozed.lease, null)
      assert.equal(snoozed.runAt.getTime(), t0 + 10 + 60_000)
      await expectError(() => docket.workers.complete(first, 'late'), 'LEASE_LOST', ['snoozed'])
      assert.deepEqual(await docket.workers.heartbeat(first), [
        { id: job.id, ok: false, code: 'LEASE_LOST', reason: 'snoozed' },
      ])

      clock.advance(59_999)
      assert.deepEqual(await claim(docket, queue), [], 'claimed while snoozed')
      clock.advance(1)
      const second = await claimOne(docket, queue)
      assert.equal(second.attempts, 1, 'still the first attempt, though maxAttempts is 1')
      await docket.workers.complete(second, 'done')
      const detail = await docket.getJob(job.id)
      assert.deepEqual(
        detail.attemptHistory.map((a) => [a.attempt, a.outcome]),
        [
          [1, 'snoozed'],
          [1, 'completed'],
        ],
      )
      const state = detail.events.find((e) => e.kind === 'state' && e.status === 'scheduled')
      assert.match(state?.message ?? '', /snoozed for 60000 ms/)
    })

    test('a snooze of 0 makes the job ready at once', async () => {
      const { clocked: docket } = ctx
      const queue = await makeQueue(docket, 'ra-snooze0')
      await docket.add(queue, 't')
      const snoozed = await docket.workers.snooze(await claimOne(docket, queue), 0)
      assert.equal(snoozed.status, 'waiting')
      assert.equal((await claimOne(docket, queue)).id, snoozed.id)
    })

    test('bad input: a negative or fractional delay, retryInMs with retryable: false, a lost lease; nothing changes', async () => {
      const { docket } = ctx
      const { leased, rejects } = await guardedQueue(docket, 'ra-bad')
      await rejects(() => docket.workers.snooze(leased, -1), 'INVALID_ARGUMENT', ['delayMs'])
      await rejects(() => docket.workers.snooze(leased, 1.5), 'INVALID_ARGUMENT', ['delayMs'])
      await rejects(() => docket.workers.fail(leased, 'x', { retryInMs: -5 }), 'INVALID_ARGUMENT', [
        'retryInMs',
      ])
      await rejects(
        () => docket.workers.fail(leased, 'x', { retryable: false, retryInMs: 5 }),
        'INVALID_ARGUMENT',
        ['retryInMs'],
      )
      await rejects(
        () => docket.workers.snooze({ id: leased.id, token: crypto.randomUUID() }, 1000),
        'LEASE_LOST',
        [leased.id],
      )
    })

    describe('in a worker', () => {
      const run = async (queue: string, options: Partial<WorkerOptions>) => {
        const worker = new Worker(ctx.clocked, {
          queues: [queue],
          handlers: {},
          pollMs: 20,
          maintenance: false,
          onError: () => {},
          ...options,
        })
        return worker.start()
      }

      test('ctx.snooze(ms) ends the handler and runs it again later, on the same attempt', async () => {
        const { clocked: docket, clock } = ctx
        const queue = await makeQueue(docket, 'ra-ctx-snooze')
        const seen: number[] = []
        const worker = await run(queue, {
          handlers: {
            async poll(_job, c) {
              seen.push(c.attempt)
              if (seen.length === 1) await c.snooze(30_000)
              return 'ready'
            },
          },
        })
        try {
          const job = await docket.add(queue, 'poll')
          await until(async () => (await docket.getJob(job.id)).status === 'scheduled', 5_000, 'the snooze')
          assert.equal((await docket.getJob(job.id)).attempts, 0)
          clock.advance(30_000)
          await until(async () => (await docket.getJob(job.id)).status === 'completed', 5_000, 'the rerun')
          assert.deepEqual(seen, [1, 1])
          const detail = await docket.getJob(job.id)
          assert.equal(detail.result, 'ready')
          assert.deepEqual(
            detail.attemptHistory.map((a) => a.outcome),
            ['snoozed', 'completed'],
          )
        } finally {
          await worker.close()
        }
      })

      test('a backoff function per job type sets the retry delay; a RetryAfterError still wins', async () => {
        const { clocked: docket, clock } = ctx
        const queue = await makeQueue(docket, 'ra-ctx-backoff', { backoff: slowBackoff, maxAttempts: 5 })
        const calls: [number, string][] = []
        const worker = await run(queue, {
          handlers: {
            async analyse(job: ClaimedJob) {
              if (job.attempts === 1) throw new Error('first failure')
              throw new RetryAfterError(2_000, 'told to wait')
            },
            async other() {
              throw new Error('no custom backoff for this type')
            },
          },
          backoff: {
            analyse: (attempt, error) => {
              calls.push([attempt, error.message])
              return attempt * 7_000
            },
          },
        })
        try {
          const t0 = clock.now().getTime()
          const job = await docket.add(queue, 'analyse')
          const other = await docket.add(queue, 'other')
          await until(async () => (await docket.getJob(job.id)).errorCount === 1, 5_000, 'the first failure')
          assert.equal((await docket.getJob(job.id)).runAt.getTime(), t0 + 7_000)
          assert.deepEqual(calls, [[1, 'first failure']])
          await until(
            async () => (await docket.getJob(other.id)).errorCount === 1,
            5_000,
            'the other failure',
          )
          assert.equal((await docket.getJob(other.id)).runAt.getTime(), t0 + HOUR, 'its own backoff')

          clock.advance(7_000)
          await until(async () => (await docket.getJob(job.id)).errorCount === 2, 5_000, 'the second failure')
          assert.equal((await docket.getJob(job.id)).runAt.getTime(), t0 + 7_000 + 2_000)
          assert.deepEqual(calls, [[1, 'first failure']], 'not asked when the error names its delay')
        } finally {
          await worker.close()
        }
      })

      test('bad worker backoff options are refused naming the field', async () => {
        await expectError(
          async () => new Worker(ctx.docket, { queues: ['q'], handlers: {}, backoff: { t: 5 as never } }),
          'INVALID_ARGUMENT',
          ['backoff'],
        )
      })
    })
  })
}
