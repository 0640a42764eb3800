/**
 * Options: every input object is checked strictly, so a misspelt option is
 * an error naming it rather than a setting silently ignored; and numeric
 * options are checked for range everywhere.
 */
// Store parts (storage/store.ts): QueueStore, JobStore, LeaseStore: nothing reaches them with a bad option.
import assert from 'node:assert/strict'
import { describe } from 'node:test'
import { Docket } from '../../src/index.js'
import { type ConformanceContext, expectError, guardedQueue, makeQueue, test, uniqueName } from './harness.js'

/** Passes a deliberately wrong value through the types. */
const unknown = <T>(value: unknown) => value as T

export function optionsSuite(ctx: ConformanceContext): void {
  describe('options', () => {
    const setup = (prefix: string) => guardedQueue(ctx.docket, prefix)

    test('an unknown key in any input object is INVALID_ARGUMENT naming the key', async () => {
      const { queue, existing, rejects } = await setup('v-keys')
      await rejects(() => ctx.docket.add(unknown({ queue, type: 't', prority: 5 })), 'INVALID_ARGUMENT', [
        'prority',
      ])
      await rejects(() => ctx.docket.add(queue, 't', null, unknown({ dealyMs: 5 })), 'INVALID_ARGUMENT', [
        'dealyMs',
      ])
      await rejects(
        () => ctx.docket.add(unknown({ queue, type: 't', backoff: { type: 'fixed', delay: 5 } })),
        'INVALID_ARGUMENT',
        ['delay'],
      )
      const name = uniqueName('v-newqueue')
      await rejects(() => ctx.docket.createQueue(unknown({ name, concurency: 3 })), 'INVALID_ARGUMENT', [
        'concurency',
      ])
      await rejects(() => ctx.docket.updateQueue(queue, unknown({ paused: true })), 'INVALID_ARGUMENT', [
        'paused',
      ])
      await rejects(() => ctx.docket.listJobs(unknown({ queue, stauts: 'waiting' })), 'INVALID_ARGUMENT', [
        'stauts',
      ])
      await rejects(
        () => ctx.docket.workers.claim(unknown({ workerId: 'w', queues: [queue], lmit: 1 })),
        'INVALID_ARGUMENT',
        ['lmit'],
      )
      await rejects(() => ctx.docket.cleanup(unknown({ olderThan: 5 })), 'INVALID_ARGUMENT', ['olderThan'])
      await rejects(() => ctx.docket.setPriority(existing.id, unknown('highest')), 'INVALID_ARGUMENT', [
        'priority',
      ])
    })

    test('deleteQueue refuses an unknown option instead of ignoring it', async () => {
      const queue = await makeQueue(ctx.docket, 'o-delete')
      await expectError(() => ctx.docket.deleteQueue(queue, unknown({ forse: true })), 'INVALID_ARGUMENT', [
        'forse',
      ])
      assert.equal((await ctx.docket.getQueue(queue)).name, queue)
    })

    test('fail refuses an unknown option instead of retrying a job meant to fail for good', async () => {
      const { leased, rejects } = await setup('o-fail')
      await rejects(
        () => ctx.docket.workers.fail(leased, 'bad', unknown({ retriable: false })),
        'INVALID_ARGUMENT',
        ['retriable'],
      )
      assert.equal((await ctx.docket.getJob(leased.id)).status, 'active')
    })

    test('step refuses an unknown detail', async () => {
      const { leased, rejects } = await setup('o-step')
      await rejects(
        () => ctx.docket.workers.step(leased, 'ocr', 'completed', unknown({ duration: 12 })),
        'INVALID_ARGUMENT',
        ['duration'],
      )
    })

    test('getJobEvents refuses a limit of 0, a negative limit and unknown keys', async () => {
      const { existing, rejects } = await setup('o-events')
      for (const limit of [0, -1, 1.5]) {
        await rejects(() => ctx.docket.getJobEvents(existing.id, { limit }), 'INVALID_ARGUMENT', ['limit'])
      }
      await rejects(() => ctx.docket.getJobEvents(existing.id, { afterId: -1.5 }), 'INVALID_ARGUMENT', [
        'afterId',
      ])
      await rejects(() => ctx.docket.getJobEvents(existing.id, unknown({ after: 1 })), 'INVALID_ARGUMENT', [
        'after',
      ])
      assert.equal((await ctx.docket.getJobEvents(existing.id, { limit: 1 })).length, 1)
    })

    test('Docket.open refuses an unknown option', async () => {
      let opened: Docket | undefined
      try {
        await expectError(
          async () => {
            opened = await Docket.open(ctx.url, unknown({ maxPayload: 5 }))
          },
          'INVALID_ARGUMENT',
          ['maxPayload'],
        )
      } finally {
        await opened?.close()
      }
    })
  })
}
