/** The worker's own events: completed, retrying, failed and error, with the job and its result or error. */
import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'
import {
  type ClaimedJob,
  Docket,
  type Job,
  UnrecoverableError,
  Worker,
  type WorkerListener,
  type WorkerOptions,
} from '../../src/index.js'
import { type Driver, until, useWorkerDocket } from './harness.js'

export function eventsSuite(driver: Driver): void {
  describe(`worker events [${driver}]`, () => {
    const t = useWorkerDocket(driver)
    const workers = t.workers
    let docket: Docket
    before(() => {
      docket = t.docket
    })

    const worker = (
      queues: string[],
      handlers: WorkerOptions['handlers'],
      extra: Partial<WorkerOptions> = {},
    ) => {
      const w = new Worker(docket, { queues, handlers, pollMs: 100, ...extra })
      workers.push(w)
      return w
    }

    it("emits 'completed' with the job and its result once the completion is written", async () => {
      await docket.createQueue({ name: 'ev-done' })
      const w = worker(['ev-done'], {
        count: (job) => ({ words: String((job.payload as { text: string }).text).split(' ').length }),
      })
      const seen: { job: ClaimedJob; result: unknown; status: string }[] = []
      const written: Promise<void>[] = []
      w.on('completed', (job, result) => {
        // Written by now: the stored job reads completed.
        written.push(docket.getJob(job.id).then((d) => void seen.push({ job, result, status: d.status })))
      })
      await w.start()
      const job = await docket.add('ev-done', 'count', { text: 'a b c' })
      await until(() => written.length === 1, 10_000, "the 'completed' event")
      await Promise.all(written)
      assert.equal(seen[0]!.job.id, job.id)
      assert.equal(seen[0]!.job.type, 'count')
      assert.deepEqual(seen[0]!.result, { words: 3 })
      assert.equal(seen[0]!.status, 'completed')
      await w.close()
    })

    it("emits 'retrying' for each attempt that will run again, then 'failed' with the job as it ends", async () => {
      await docket.createQueue({ name: 'ev-fail', maxAttempts: 3, backoff: { type: 'fixed', delayMs: 20 } })
      const w = worker(['ev-fail'], {
        flaky: (job) => {
          throw new Error(`attempt ${job.attempts} broke`)
        },
      })
      const events: { event: string; attempt: number; message: string; next: Job }[] = []
      const record =
        (event: string): WorkerListener<'failed'> =>
        (job, error, next) =>
          events.push({ event, attempt: job.attempts, message: error.message, next })
      w.on('retrying', record('retrying'))
      w.on('failed', record('failed'))
      w.on('completed', () => assert.fail('nothing completes'))
      await w.start()
      const job = await docket.add('ev-fail', 'flaky', {})
      await until(() => events.some((e) => e.event === 'failed'), 10_000, "the 'failed' event")
      assert.deepEqual(
        events.map((e) => [e.event, e.attempt, e.message]),
        [
          ['retrying', 1, 'attempt 1 broke'],
          ['retrying', 2, 'attempt 2 broke'],
          ['failed', 3, 'attempt 3 broke'],
        ],
      )
      assert.equal(events[0]!.next.id, job.id)
      assert.equal(events[0]!.next.status, 'scheduled')
      assert.ok(events[0]!.next.runAt > events[0]!.next.createdAt, 'a retry says when it runs again')
      assert.equal(events[2]!.next.status, 'failed')
      assert.equal(events[2]!.next.lastError?.message, 'attempt 3 broke')
      await w.close()
    })

    it("emits 'failed' at once for an UnrecoverableError and for a job type without a handler", async () => {
      await docket.createQueue({ name: 'ev-fatal', maxAttempts: 5 })
      const w = worker(['ev-fatal'], {
        fatal: () => {
          throw new UnrecoverableError('bad input')
        },
      })
      const failed = new Map<string, Error>()
      w.on('failed', (job, error) => failed.set(job.id, error))
      w.on('retrying', () => assert.fail('nothing is retried'))
      await w.start()
      const fatal = await docket.add('ev-fatal', 'fatal', {})
      const unknown = await docket.add('ev-fatal', 'nobody-handles-this', {})
      await until(() => failed.size === 2, 10_000, "two 'failed' events")
      assert.ok(failed.get(fatal.id) instanceof UnrecoverableError)
      assert.match(failed.get(unknown.id)!.message, /no handler for job type 'nobody-handles-this'/)
      await w.close()
    })

    it("reports a listener that throws as 'error' with its job, and goes on running jobs", async () => {
      await docket.createQueue({ name: 'ev-throw' })
      const w = worker(['ev-throw'], () => 'ok')
      const errors: { error: unknown; job: ClaimedJob | undefined }[] = []
      let completions = 0
      w.on('completed', () => {
        completions++
        throw new Error('listener broke')
      })
      w.on('error', (error, job) => errors.push({ error, job }))
      await w.start()
      const first = await docket.add('ev-throw', 'a', {})
      const second = await docket.add('ev-throw', 'b', {})
      await until(() => errors.length === 2, 10_000, "two 'error' events")
      assert.equal(completions, 2)
      assert.deepEqual(
        errors.map((e) => (e.error as Error).message),
        ['listener broke', 'listener broke'],
      )
      assert.deepEqual(new Set(errors.map((e) => e.job?.id)), new Set([first.id, second.id]))
      assert.equal((await docket.getJob(second.id)).status, 'completed')
      await w.close()
    })

    it("emits 'error' for the worker's own failures, and still calls the onError option", async () => {
      await docket.createQueue({ name: 'ev-broken' })
      const own = await Docket.open(t.target.url)
      const fromOption: unknown[] = []
      const w = new Worker(own, {
        queues: ['ev-broken'],
        handlers: () => {},
        pollMs: 50,
        maintenance: false,
        onError: (e) => fromOption.push(e),
      })
      const fromEvent: unknown[] = []
      w.on('error', (e) => fromEvent.push(e))
      await w.start()
      // The worker's database goes away under it: its next claims fail.
      await own.close()
      await until(() => fromEvent.length > 0, 10_000, "an 'error' event")
      // close() cannot deregister from a closed Docket either: it says so as an error, and still closes.
      await w.close()
      assert.ok(fromEvent[0] instanceof Error)
      assert.ok(fromEvent.every((e) => (e as { code?: string }).code === 'CLOSED'))
      assert.deepEqual(fromOption, fromEvent)
    })

    it('types each listener by its event', () => {
      const w = new Worker(docket, { queues: ['ev-types'], handlers: () => {} })
      w.on('completed', (job: ClaimedJob, result: unknown) => void [job, result])
      w.on('failed', (_job, error, next) => void [error.message, next.status])
      w.once('retrying', (_job, _error, next) => void next.runAt.getTime())
      w.on('error', (error, job) => void [error, job?.id])
      // @ts-expect-error: no such event
      w.on('finished', () => {})
      // @ts-expect-error: 'completed' gives a job first, not an error
      w.on('completed', (error: Error) => void error)
      // @ts-expect-error: a failed job's error is an Error, not a number
      w.on('failed', (_job, error: number) => void error)
      assert.equal(w.listenerCount('completed'), 2)
    })
  })
}
