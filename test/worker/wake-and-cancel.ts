/**
 * Wake-ups and cancellation, timed: a wake-up is never lost, a cancel reaches
 * the running handler (by notification on PostgreSQL, by the poll on both),
 * and the store says why a lease was lost without a read per job.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import {
  type ClaimInput,
  Docket,
  DocketError,
  JobAbortedError,
  Worker,
  type WorkerOptions,
} from '../../src/index.js'
import { expectDocketError, issuePaths } from '../unit/expect-error.js'
import { type Driver, freshTarget, type Target, until } from './harness.js'

export function wakeAndCancelSuite(driver: Driver): void {
  describe(`worker wake-ups and cancellation [${driver}]`, () => {
    let target: Target
    let docket: Docket
    const workers: Worker[] = []
    const opened: Docket[] = []

    before(async () => {
      target = await freshTarget(driver)
      docket = await Docket.open(target.url)
    })
    after(async () => {
      await Promise.all(workers.map((w) => w.close()))
      await Promise.all(opened.map((d) => d.close()))
      await docket.close()
      await target.cleanup()
    })

    const start = async (on: Docket, options: WorkerOptions) => {
      const w = new Worker(on, { maintenance: false, onError: () => {}, ...options })
      workers.push(w)
      return w.start()
    }

    it('a wake-up that arrives during the claim after a timed-out sleep is not lost', async () => {
      // The producer sleeps a full poll (nothing to do), wakes by its timer, and claims again.
      // During that claim a job is added and its wake-up delivered, after the claim's read, so
      // the claim cannot see the job: only the wake-up can start it before the next poll.
      const pollMs = 1_500
      await docket.createQueue({ name: 'lost-wake' })
      const own = await Docket.open(target.url)
      opened.push(own)
      const claim = own.workers.claim.bind(own.workers)
      let claims = 0
      let addedAt = 0
      own.workers.claim = async (input: ClaimInput) => {
        const jobs = await claim(input)
        if (++claims === 2) {
          // This listener was subscribed after the worker's, so once it hears the wake-up the
          // worker has heard it too, while its claim is still running.
          let heard: () => void = () => {}
          const delivered = new Promise<void>((resolve) => {
            heard = resolve
          })
          const unsubscribe = await own.workers.onReady((queue) => {
            if (queue === 'lost-wake') heard()
          })
          addedAt = Date.now()
          await own.add('lost-wake', 'ping', {})
          await delivered
          await unsubscribe()
        }
        return jobs
      }
      let startedAt = 0
      await start(own, {
        queues: ['lost-wake'],
        pollMs,
        handlers: () => {
          startedAt = Date.now()
        },
      })
      await until(() => startedAt > 0, 3 * pollMs, 'the job to start')
      const waited = startedAt - addedAt
      assert.ok(waited < pollMs / 3, `the job started ${waited} ms after it was added (poll ${pollMs} ms)`)
    })
    /** Starts a worker whose handler waits for its signal; resolves with when and why it fired. */
    const waitingForAbort = async (queue: string, extra: Partial<WorkerOptions>) => {
      let begun = false
      let abortedAt = 0
      let reason: unknown
      await start(docket, {
        queues: [queue],
        pollMs: 50,
        ...extra,
        handlers: (_job, ctx) =>
          new Promise((_, reject) => {
            begun = true
            ctx.signal.addEventListener('abort', () => {
              abortedAt = Date.now()
              reason = ctx.signal.reason
              reject(ctx.signal.reason)
            })
          }),
      })
      return {
        begun: () => begun,
        abortedAt: () => abortedAt,
        reason: () => reason,
      }
    }

    if (driver === 'postgres') {
      it('a cancel from another process reaches the running handler by notification, long before the poll', async () => {
        // The poll and the heartbeat are a minute away: only the NOTIFY can explain a quick abort.
        await docket.createQueue({ name: 'notified' })
        const handler = await waitingForAbort('notified', { cancelCheckMs: 60_000, leaseMs: 180_000 })
        const job = await docket.add('notified', 'wait', {})
        await until(handler.begun, 5_000, 'the handler to start')
        const elsewhere = await Docket.open(target.url)
        opened.push(elsewhere)
        const cancelledAt = Date.now()
        await elsewhere.cancelJob(job.id)
        await until(() => handler.abortedAt() > 0, 5_000, 'the abort')
        const took = handler.abortedAt() - cancelledAt
        assert.ok(took < 1_000, `the signal fired ${took} ms after the cancel (poll 60 s)`)
        const reason = handler.reason()
        assert.ok(reason instanceof JobAbortedError && reason.reason === 'cancelled')
      })
    }

    it('the cancel poll alone reaches a running handler within its interval', async () => {
      // On SQLite the poll is the only way; on PostgreSQL it is the safety net. Cancelling by a
      // write that sends no notification shows the poll on both.
      await docket.createQueue({ name: 'polled' })
      const handler = await waitingForAbort('polled', { cancelCheckMs: 200, leaseMs: 180_000 })
      const job = await docket.add('polled', 'wait', {})
      await until(handler.begun, 5_000, 'the handler to start')
      const cancelledAt = Date.now()
      await cancelWithoutNotification(job.id)
      await until(() => handler.abortedAt() > 0, 5_000, 'the abort')
      const took = handler.abortedAt() - cancelledAt
      assert.ok(took < 1_500, `the signal fired ${took} ms after the cancel (poll 200 ms)`)
      const reason = handler.reason()
      assert.ok(reason instanceof JobAbortedError && reason.reason === 'cancelled')
    })

    it('a cancel the heartbeat notices first fires the signal with reason cancelled, not lease-lost', async () => {
      // The cancel poll is a minute away and no notification comes: the heartbeat (every 100 ms)
      // is the first to hear that the lease is gone, and the store says why.
      await docket.createQueue({ name: 'beat-cancel' })
      const handler = await waitingForAbort('beat-cancel', { cancelCheckMs: 60_000, leaseMs: 300 })
      const job = await docket.add('beat-cancel', 'wait', {})
      await until(handler.begun, 5_000, 'the handler to start')
      await cancelWithoutNotification(job.id)
      await until(() => handler.abortedAt() > 0, 5_000, 'the abort')
      const reason = handler.reason()
      assert.ok(reason instanceof JobAbortedError, String(reason))
      assert.equal(reason.reason, 'cancelled')
    })

    /** Marks an active job cancelled straight in the database, as a cancel whose notification was lost. */
    async function cancelWithoutNotification(id: string): Promise<void> {
      if (driver === 'sqlite') {
        await docket.cancelJob(id) // SQLite sends no notification anyway
        return
      }
      const { default: pg } = await import('pg')
      const url = new URL(target.url)
      const schema = url.searchParams.get('schema')!
      url.searchParams.delete('schema')
      const client = new pg.Client({ connectionString: url.toString() })
      await client.connect()
      try {
        await client.query(
          // What the cancel statement writes, less its notification: the lease's end is remembered.
          `UPDATE "${schema}".jobs SET status = 'cancelled', lease_ended_token = lease_token,
             lease_ended_reason = 'cancelled', lease_ended_attempt = attempts,
             lease_token = NULL, lease_expires_at = NULL
           WHERE id = $1`,
          [id],
        )
      } finally {
        await client.end()
      }
    }

    it('checkLeases says why each lease is gone, in one call', async () => {
      await docket.createQueue({ name: 'why' })
      await docket.addMany([0, 1, 2, 3].map((i) => ({ queue: 'why', type: 't', payload: { i } })))
      const [held, cancelled, taken, finished] = await docket.workers.claim({
        workerId: 'why',
        queues: ['why'],
        limit: 4,
      })
      assert.ok(held && cancelled && taken && finished)
      await docket.cancelJob(cancelled.id)
      await docket.workers.complete(finished, { ok: true })
      const missing = randomUUID()
      const unparsed = randomUUID()
      const outcomes = await docket.workers.checkLeases([
        { id: held.id, token: held.lease.token },
        { id: cancelled.id, token: cancelled.lease.token },
        { id: taken.id, token: randomUUID() },
        { id: finished.id, token: finished.lease.token },
        { id: missing, token: randomUUID() },
        { id: unparsed, token: 'not-a-token' },
      ])
      assert.deepEqual(
        outcomes.map((o) => [o.id, o.ok ? 'held' : o.reason]),
        [
          [held.id, 'held'],
          [cancelled.id, 'cancelled'],
          // A token the job never had reads like a job that does not exist: it reveals nothing.
          [taken.id, 'deleted'],
          [finished.id, 'completed'],
          [missing, 'deleted'],
          [unparsed, 'deleted'],
        ],
      )
      await docket.workers.release(held)
      await docket.workers.release(taken)
    })

    it('bad worker options are INVALID_ARGUMENT naming the field, before anything starts', () => {
      const handlers = () => {}
      const bad = (options: unknown, ...fields: string[]) => {
        const error = expectDocketError(
          () => new Worker(docket, options as WorkerOptions),
          'INVALID_ARGUMENT',
          ...fields,
        )
        assert.deepEqual(issuePaths(error), fields)
      }
      bad({ queues: [], handlers }, 'queues')
      bad({ queues: ['a b'], handlers }, 'queues.0')
      bad({ queues: ['q'], handlers, concurrency: 0 }, 'concurrency')
      bad({ queues: ['q'], handlers, concurrency: 1.5 }, 'concurrency')
      bad({ queues: ['q'], handlers: 'run' }, 'handlers')
      bad({ queues: ['q'], handlers: { t: 'run' } }, 'handlers')
      bad({ queues: ['q'], handlers, pollMs: -1, leaseMs: 10 }, 'leaseMs', 'pollMs')
      bad({ queues: ['q'], handlers, pollMS: 100 }, 'pollMS')
      bad({ queues: ['q'], handlers, onError: 'log' }, 'onError')
      const error = expectDocketError(() => new Worker(docket, undefined as never), 'INVALID_ARGUMENT')
      assert.ok(error instanceof DocketError)
      // Good options, with each default, still build a worker.
      const w = new Worker(docket, { queues: ['q'], handlers: { t: handlers }, shutdownGraceMs: 0 })
      assert.equal(w.load, 0)
    })
  })
}
