/** Every attempt kept: who ran it, when, how it ended and its error, oldest first and bounded. */
// Store parts (storage/store.ts): LeaseStore, JobStore (getJobAttempts), MaintenanceStore (lease recovery).
import assert from 'node:assert/strict'
import { describe } from 'node:test'
import { ATTEMPT_STACKS_KEPT } from '../../src/core/attempts.js'
import { fingerprintError } from '../../src/core/fingerprint.js'
import { type ConformanceContext, claim, claimOne, makeQueue, test } from './harness.js'

const noWait = { type: 'fixed', delayMs: 0, jitter: 0 } as const

export function attemptsSuite(ctx: ConformanceContext): void {
  describe('attempts', () => {
    test('a job that failed twice and then succeeded shows all three attempts, oldest first', async () => {
      const { clocked: docket, clock } = ctx
      const queue = await makeQueue(docket, 'a-history')
      const job = await docket.add(queue, 't', null, {
        maxAttempts: 3,
        backoff: { ...noWait, delayMs: 1000 },
      })
      const starts: number[] = []
      for (const [i, worker] of ['w-one', 'w-two'].entries()) {
        const [claimed] = await claim(docket, queue, { worker })
        assert.ok(claimed, `attempt ${i + 1} was claimable`)
        starts.push(clock.now().getTime())
        clock.advance(250)
        await docket.workers.fail(claimed, {
          message: `boom ${i + 1}`,
          name: 'UpstreamError',
          stack: `stack ${i + 1}`,
        })
        clock.advance(1000)
      }
      const [last] = await claim(docket, queue, { worker: 'w-three' })
      assert.ok(last)
      starts.push(clock.now().getTime())
      clock.advance(100)
      await docket.workers.complete(last, { ok: true })

      const detail = await docket.getJob(job.id)
      assert.equal(detail.attempts, 3, 'attempts stays the count')
      assert.deepEqual(
        detail.attemptHistory.map((a) => ({
          attempt: a.attempt,
          workerId: a.workerId,
          outcome: a.outcome,
          startedAt: a.startedAt?.getTime(),
          message: a.error?.message ?? null,
        })),
        [
          { attempt: 1, workerId: 'w-one', outcome: 'failed', startedAt: starts[0], message: 'boom 1' },
          { attempt: 2, workerId: 'w-two', outcome: 'failed', startedAt: starts[1], message: 'boom 2' },
          { attempt: 3, workerId: 'w-three', outcome: 'completed', startedAt: starts[2], message: null },
        ],
      )
      const first = detail.attemptHistory[0]!
      assert.equal(first.finishedAt?.getTime(), starts[0]! + 250)
      assert.deepEqual(first.error, {
        name: 'UpstreamError',
        message: 'boom 1',
        stack: 'stack 1',
        fingerprint: fingerprintError({ name: 'UpstreamError', message: 'boom 1', stack: 'stack 1' })
          .fingerprint,
        data: null,
      })
      assert.equal(detail.attemptHistory[2]!.finishedAt?.getTime(), starts[2]! + 100)
    })

    test('a running attempt is open; a lease that ran out, a release and a cancel each close theirs', async () => {
      const { clocked: docket, clock } = ctx
      const queue = await makeQueue(docket, 'a-ends')
      const job = await docket.add(queue, 't', null, { maxAttempts: 5 })
      const first = await claimOne(docket, queue, 1_000)
      const running = (await docket.getJob(job.id)).attemptHistory
      assert.equal(running.length, 1)
      assert.equal(running[0]!.outcome, 'running')
      assert.equal(running[0]!.finishedAt, null)
      assert.equal(running[0]!.workerId, first.lease.workerId)

      clock.advance(1_000)
      await docket.recoverExpiredLeases()
      const second = await claimOne(docket, queue)
      await docket.workers.release(second)
      await claimOne(docket, queue)
      await docket.cancelJob(job.id)

      const history = (await docket.getJob(job.id)).attemptHistory
      assert.deepEqual(
        history.map((a) => [a.attempt, a.outcome]),
        [
          [1, 'lease-expired'],
          [2, 'released'],
          [2, 'cancelled'],
        ],
        'a released attempt is not counted, so the next one has its number again',
      )
      assert.equal(history[0]!.error?.name, 'LeaseExpired')
      assert.ok(history.every((a) => a.finishedAt !== null))
    })

    test(`only the newest ${ATTEMPT_STACKS_KEPT} attempts keep their stacks; every attempt keeps its message`, async () => {
      const { clocked: docket } = ctx
      const queue = await makeQueue(docket, 'a-bounded')
      const total = ATTEMPT_STACKS_KEPT + 3
      const job = await docket.add(queue, 't', null, { maxAttempts: total, backoff: noWait })
      for (let i = 1; i <= total; i++) {
        const claimed = await claimOne(docket, queue)
        await docket.workers.fail(claimed, { message: `boom ${i}`, stack: `stack ${i}` })
      }
      const detail = await docket.getJob(job.id)
      assert.equal(detail.status, 'failed')
      assert.equal(detail.attemptHistory.length, total)
      assert.deepEqual(
        detail.attemptHistory.map((a) => a.error?.message),
        Array.from({ length: total }, (_, i) => `boom ${i + 1}`),
      )
      assert.deepEqual(
        detail.attemptHistory.map((a) => a.error?.stack ?? null),
        Array.from({ length: total }, (_, i) => (i < total - ATTEMPT_STACKS_KEPT ? null : `stack ${i + 1}`)),
      )
    })
  })
}
