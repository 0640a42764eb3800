/** Both completers, one contract: completions are written, a lost lease is refused and reported, flushed() waits. */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { Docket } from '../../src/index.js'
import {
  BatchCompleter,
  type Completer,
  type CompleterDeps,
  InlineCompleter,
} from '../../src/worker/completer.js'
import { type Driver, freshTarget, type Target } from './harness.js'

const COMPLETERS: Record<string, (deps: CompleterDeps) => Completer> = {
  batch: (deps) => new BatchCompleter(deps),
  inline: (deps) => new InlineCompleter(deps),
}

export function completerSuite(driver: Driver): void {
  describe(`completers [${driver}]`, () => {
    let target: Target
    let docket: Docket

    before(async () => {
      target = await freshTarget(driver)
      docket = await Docket.open(target.url)
    })
    after(async () => {
      await docket.close()
      await target.cleanup()
    })

    for (const [name, make] of Object.entries(COMPLETERS)) {
      it(`${name}: writes every completion, refuses a lost lease, and flushed() waits for all`, async () => {
        const queue = `complete-${name}`
        await docket.createQueue({ name: queue })
        await docket.addMany(Array.from({ length: 20 }, (_, i) => ({ queue, type: 't', payload: { i } })))
        const jobs = await docket.workers.claim({ workerId: name, queues: [queue], limit: 20 })
        assert.equal(jobs.length, 20)
        const errors: unknown[] = []
        let written = 0
        const completer = make({ docket, onWritten: () => written++, onError: (e) => errors.push(e) })
        const [lost, ...rest] = jobs
        await docket.cancelJob(lost!.id)
        const handedOver = [lost!, ...rest].map((job, i) =>
          completer.complete(job, i === 1 ? undefined : { i }),
        )
        assert.ok(completer.unwritten > 0)
        await completer.flushed()
        assert.equal(completer.unwritten, 0)
        await Promise.all(handedOver)
        assert.ok(written >= 1)
        assert.equal(errors.length, 1)
        assert.match(String(errors[0]), new RegExp(`completion of ${lost!.id} refused: LEASE_LOST`))
        const counts = (await docket.countJobs(queue))[queue]!
        assert.equal(counts.completed, 19)
        assert.equal(counts.cancelled, 1)
        assert.equal((await docket.getJob(rest[0]!.id)).result, null) // undefined is stored as null
      })
    }
  })
}
