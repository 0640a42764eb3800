/**
 * Wake-ups and cancellation, timed: a wake-up is never lost, a cancel reaches
 * the running handler (by notification on PostgreSQL, by the poll on both),
 * and the store says why a lease was lost without a read per job.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { type ClaimInput, Docket, JobAbortedError, Worker, type WorkerOptions } from '../../src/index.js'
import { type Driver, freshTarget, sleep, type Target, until } from './harness.js'

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
      const claim = own.claim.bind(own)
      let claims = 0
      let addedAt = 0
      own.claim = async (input: ClaimInput) => {
        const jobs = await claim(input)
        if (++claims === 2) {
          // This listener was subscribed after the worker's, so once it hears the wake-up the
          // worker has heard it too, while its claim is still running.
          let heard: () => void = () => {}
          const delivered = new Promise<void>((resolve) => {
            heard = resolve
          })
          const unsubscribe = await own.store.onReady((queue) => {
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
  })
}
