/** Dependency types: `success` (a bare id) and `completion`, and a batch's `then` job. */
// Store parts (storage/store.ts): JobStore, BatchStore, LeaseStore, MaintenanceStore (expireJobs).
import assert from 'node:assert/strict'
import { describe } from 'node:test'
import { Worker } from '../../src/index.js'
import {
  type ConformanceContext,
  claimOne,
  expectError,
  guardedQueue,
  makeQueue,
  newId,
  status,
  test,
  until,
} from './harness.js'

export function dependencyTypesSuite(ctx: ConformanceContext): void {
  describe('dependency types', () => {
    test('a completion dependency waits until the upstream job is final, and never fails with it', async () => {
      const { docket } = ctx
      const queue = await makeQueue(docket, 'dt-fail', { maxAttempts: 1 })
      const upstream = await docket.add(queue, 'up', null, { priority: 'urgent' })
      const onCompletion = await docket.add(queue, 'cleanup', null, {
        dependsOn: [{ id: upstream.id, on: 'completion' }],
      })
      const onSuccess = await docket.add(queue, 'next', null, {
        dependsOn: [{ id: upstream.id, on: 'success' }],
      })
      const bare = await docket.add(queue, 'next', null, { dependsOn: [upstream.id] })
      assert.equal(onCompletion.status, 'blocked')
      const detail = await docket.getJob(upstream.id)
      assert.deepEqual(
        detail.dependencies.downstream.map((d) => [d.id, d.on]).sort(),
        [
          [onCompletion.id, 'completion'],
          [onSuccess.id, 'success'],
          [bare.id, 'success'],
        ].sort(),
      )
      await docket.workers.fail(await claimOne(docket, queue), 'broken')
      assert.equal(await status(docket, onCompletion.id), 'waiting', 'completion: runs whatever the outcome')
      assert.equal(await status(docket, onSuccess.id), 'failed', 'success: fails with it')
      assert.equal(await status(docket, bare.id), 'failed', 'a bare id waits for success')
      assert.deepEqual((await docket.getJob(onCompletion.id)).dependencies.upstream, [
        { id: upstream.id, status: 'failed', on: 'completion' },
      ])
    })

    test('a job waiting for one success and one completion runs only when both are settled', async () => {
      const { docket } = ctx
      const queue = await makeQueue(docket, 'dt-mixed', { maxAttempts: 1 })
      const a = await docket.add(queue, 'a', null, { priority: 'low' })
      const b = await docket.add(queue, 'b', null, { priority: 'urgent' })
      const both = await docket.add(queue, 'both', null, {
        dependsOn: [a.id, { id: b.id, on: 'completion' }],
      })
      await docket.cancelJob(b.id)
      assert.equal(await status(docket, both.id), 'blocked', 'still waits for a')
      assert.equal((await docket.getJob(both.id)).pendingDependencies, 1)
      await docket.workers.complete(await claimOne(docket, queue), 'a done')
      assert.equal(await status(docket, both.id), 'waiting')
    })

    test('a completion dependency may name a job that already failed; a success one may not', async () => {
      const { docket } = ctx
      const queue = await makeQueue(docket, 'dt-dead', { maxAttempts: 1 })
      const dead = await docket.add(queue, 'dead')
      await docket.workers.fail(await claimOne(docket, queue), 'gone')
      const after = await docket.add(queue, 'after', null, { dependsOn: [{ id: dead.id, on: 'completion' }] })
      assert.equal(after.status, 'waiting')
      await expectError(() => docket.add(queue, 'x', null, { dependsOn: [dead.id] }), 'CONFLICT', [dead.id])
      // Retrying a job whose completion dependency failed is allowed: it is not waiting for it.
      await docket.cancelJob(after.id)
      assert.equal((await docket.retryJob(after.id)).status, 'waiting')
    })

    test('an expired upstream releases a completion dependent too', async () => {
      const { clocked: docket, clock } = ctx
      const queue = await makeQueue(docket, 'dt-expired')
      const up = await docket.add(queue, 'up', null, { expiresInMs: 1_000, delayMs: 500 })
      const down = await docket.add(queue, 'down', null, { dependsOn: [{ id: up.id, on: 'completion' }] })
      clock.advance(1_000)
      await docket.expireJobs()
      assert.equal(await status(docket, up.id), 'failed')
      assert.equal(await status(docket, down.id), 'waiting')
    })

    test("addBatch's then: one job after every job of the batch is final, whatever the outcomes", async () => {
      const { docket } = ctx
      const queue = await makeQueue(docket, 'dt-then', { maxAttempts: 1 })
      const summary = await makeQueue(docket, 'dt-then-summary')
      const {
        batch,
        jobs,
        thenJob: then,
      } = await docket.addBatch(
        [
          { queue, type: 'page', payload: { n: 1 } },
          { queue, type: 'page', payload: { n: 2 } },
          { queue, type: 'page', payload: { n: 3 } },
        ],
        {
          name: 'pages',
          owner: 'dt-owner',
          then: { queue: summary, type: 'summarise', payload: { of: 'pages' } },
        },
      )
      assert.ok(then)
      assert.equal(jobs.length, 3)
      assert.equal(batch.thenJobId, then.id)
      assert.equal(batch.total, 3, 'the then job is not one of the batch')
      assert.equal(then.status, 'blocked')
      assert.equal(then.owner, 'dt-owner')
      assert.equal(then.batchId, null)
      assert.deepEqual(
        (await docket.getJob(then.id)).dependencies.upstream.map((u) => u.on),
        ['completion', 'completion', 'completion'],
      )
      await docket.workers.complete(await claimOne(docket, queue), 1)
      await docket.workers.fail(await claimOne(docket, queue), 'page 2 broke')
      assert.equal(await status(docket, then.id), 'blocked')
      await docket.workers.complete(await claimOne(docket, queue), 3)
      assert.equal(await status(docket, then.id), 'waiting')
      assert.deepEqual((await docket.getBatch(batch.id)).thenJobId, then.id)
      const plain = await docket.addBatch([{ queue, type: 'page' }])
      assert.equal(plain.batch.thenJobId, null)
      assert.equal(plain.thenJob, undefined)
    })

    test('upstream(): each job depended on, with its type, status, what it waits for and its result', async () => {
      const { docket } = ctx
      const queue = await makeQueue(docket, 'dt-upstream', { maxAttempts: 1 })
      const [ok, broken] = await docket.addMany([
        { queue, type: 'page', payload: { n: 1 }, priority: 'urgent' },
        { queue, type: 'page', payload: { n: 2 }, priority: 'high' },
      ])
      const merge = await docket.add(queue, 'merge', null, {
        dependsOn: [
          { id: ok!.id, on: 'completion' },
          { id: broken!.id, on: 'completion' },
        ],
      })
      await docket.workers.complete(await claimOne(docket, queue), { words: 120 })
      await docket.workers.fail(await claimOne(docket, queue), 'unreadable')
      const byId = <T extends { id: string }>(list: T[]) => [...list].sort((a, b) => a.id.localeCompare(b.id))
      assert.deepEqual(
        await docket.upstream(merge.id),
        byId([
          { id: ok!.id, type: 'page', status: 'completed', on: 'completion', result: { words: 120 } },
          { id: broken!.id, type: 'page', status: 'failed', on: 'completion', result: null },
        ]),
      )
      assert.deepEqual(await docket.upstream(ok!.id), [])
      await expectError(() => docket.upstream(newId()), 'NOT_FOUND')

      // In a handler: ctx.upstream().
      let seen: unknown = null
      const worker = await new Worker(docket, {
        queues: [queue],
        handlers: {
          merge: async (_job, c) => {
            seen = await c.upstream()
            return 'merged'
          },
        },
        pollMs: 20,
        maintenance: false,
        onError: () => {},
      }).start()
      try {
        await until(async () => (await status(docket, merge.id)) === 'completed', 5_000, 'the merge')
      } finally {
        await worker.close()
      }
      assert.deepEqual(seen, await docket.upstream(merge.id))
    })

    test('bad input: an unknown dependency type, a bad then; nothing changes', async () => {
      const { docket } = ctx
      const { queue, existing, rejects } = await guardedQueue(docket, 'dt-bad')
      await rejects(
        () => docket.add(queue, 't', null, { dependsOn: [{ id: existing.id, on: 'finish' as never }] }),
        'INVALID_ARGUMENT',
        ['dependsOn'],
      )
      await rejects(
        () => docket.add(queue, 't', null, { dependsOn: [{ id: 'nope' } as never] }),
        'INVALID_ARGUMENT',
        ['dependsOn'],
      )
      await rejects(
        () => docket.addBatch([{ queue, type: 't' }], { then: { queue, type: 't', dependsOn: [] } as never }),
        'INVALID_ARGUMENT',
        ['then'],
      )
      await rejects(
        () => docket.addBatch([{ queue, type: 't' }], { then: { queue: 'no-such-queue-dt', type: 't' } }),
        'NOT_FOUND',
        ['no-such-queue-dt'],
      )
    })
  })
}
