/** Dependencies: chains, diamonds, failure propagation, cancellation, cycles, unknown and finished upstreams. */
// Store parts (storage/store.ts): JobStore (addJobs, getJobDependencies), LeaseStore, JobControlStore.
import assert from 'node:assert/strict'
import { describe } from 'node:test'
import type { Docket } from '../../src/index.js'
import {
  type ConformanceContext,
  claim,
  claimOne,
  expectError,
  makeQueue,
  newId,
  status,
  test,
  total,
} from './harness.js'

async function statuses(docket: Docket, ids: string[]): Promise<string[]> {
  return Promise.all(ids.map((id) => status(docket, id)))
}

/** Claims the only ready job of the queue, checks it is `id`, and completes it. */
async function runNext(docket: Docket, queue: string, id: string): Promise<void> {
  const ready = await claim(docket, queue, { limit: 10 })
  assert.deepEqual(
    ready.map((j) => j.id),
    [id],
    'expected exactly this job to be ready',
  )
  await docket.workers.complete(ready[0]!)
}

export function dependenciesSuite(ctx: ConformanceContext): void {
  describe('dependencies', () => {
    test('a chain A -> B -> C runs in order', async () => {
      const queue = await makeQueue(ctx.docket, 'd-chain')
      const [a, b, c] = [newId(), newId(), newId()]
      const jobs = await ctx.docket.addMany([
        { id: a, queue, type: 'a' },
        { id: b, queue, type: 'b', dependsOn: [a] },
        { id: c, queue, type: 'c', dependsOn: [b] },
      ])
      assert.deepEqual(
        jobs.map((j) => [j.status, j.pendingDependencies]),
        [
          ['waiting', 0],
          ['blocked', 1],
          ['blocked', 1],
        ],
      )
      await runNext(ctx.docket, queue, a)
      assert.deepEqual(await statuses(ctx.docket, [a, b, c]), ['completed', 'waiting', 'blocked'])
      assert.equal((await ctx.docket.getJob(b)).pendingDependencies, 0)
      await runNext(ctx.docket, queue, b)
      assert.deepEqual(await statuses(ctx.docket, [a, b, c]), ['completed', 'completed', 'waiting'])
      await runNext(ctx.docket, queue, c)
      assert.deepEqual(await statuses(ctx.docket, [a, b, c]), ['completed', 'completed', 'completed'])
    })

    test('dependencies work across calls, and on jobs listed later in the same call', async () => {
      const queue = await makeQueue(ctx.docket, 'd-order')
      const first = await ctx.docket.add(queue, 'first')
      const second = await ctx.docket.add(queue, 'second', null, { dependsOn: [first.id] })
      assert.equal(second.status, 'blocked')

      const [x, y] = [newId(), newId()]
      const [early] = await ctx.docket.addMany([
        { id: y, queue, type: 'y', dependsOn: [x] },
        { id: x, queue, type: 'x', delayMs: 60_000 },
      ])
      assert.equal(early?.status, 'blocked')
      assert.deepEqual((await ctx.docket.getJob(y)).dependencies.upstream, [
        { id: x, status: 'scheduled', on: 'success' },
      ])

      await runNext(ctx.docket, queue, first.id)
      await runNext(ctx.docket, queue, second.id)
      await ctx.docket.promote(x)
      await runNext(ctx.docket, queue, x)
      await runNext(ctx.docket, queue, y)
    })

    test('a diamond: D waits for B and C, which wait for A', async () => {
      const queue = await makeQueue(ctx.docket, 'd-diamond')
      const [a, b, c, d] = [newId(), newId(), newId(), newId()]
      await ctx.docket.addMany([
        { id: d, queue, type: 'd', dependsOn: [b, c] },
        { id: a, queue, type: 'a' },
        { id: b, queue, type: 'b', dependsOn: [a] },
        { id: c, queue, type: 'c', dependsOn: [a] },
      ])
      assert.equal((await ctx.docket.getJob(d)).pendingDependencies, 2)
      await runNext(ctx.docket, queue, a)
      assert.deepEqual(await statuses(ctx.docket, [b, c, d]), ['waiting', 'waiting', 'blocked'])

      const ready = await claim(ctx.docket, queue, { limit: 10 })
      assert.deepEqual(new Set(ready.map((j) => j.id)), new Set([b, c]))
      const jobB = ready.find((j) => j.id === b)!
      const jobC = ready.find((j) => j.id === c)!
      await ctx.docket.workers.complete(jobB)
      const halfway = await ctx.docket.getJob(d)
      assert.equal(halfway.status, 'blocked')
      assert.equal(halfway.pendingDependencies, 1)
      await ctx.docket.workers.complete(jobC)
      assert.equal(await status(ctx.docket, d), 'waiting')
      await runNext(ctx.docket, queue, d)
    })

    test('a failure fails its dependents transitively, naming the failed job; others run on', async () => {
      const queue = await makeQueue(ctx.docket, 'd-fail')
      const [a, b, c, other, sibling] = [newId(), newId(), newId(), newId(), newId()]
      await ctx.docket.addMany([
        { id: a, queue, type: 'a', priority: 'urgent' },
        { id: other, queue, type: 'other', priority: 'low' },
        { id: b, queue, type: 'b', dependsOn: [a] },
        { id: c, queue, type: 'c', dependsOn: [b] },
        { id: sibling, queue, type: 'sibling', dependsOn: [other] },
      ])
      const jobA = await claimOne(ctx.docket, queue)
      assert.equal(jobA.id, a)
      await ctx.docket.workers.fail(jobA, 'broken upload', { retryable: false })

      assert.deepEqual(await statuses(ctx.docket, [a, b, c]), ['failed', 'failed', 'failed'])
      const failedB = await ctx.docket.getJob(b)
      assert.ok(
        failedB.lastError?.message.includes(a),
        `B's error should name A: ${failedB.lastError?.message}`,
      )
      assert.equal(failedB.lastError?.retryable, false)
      assert.ok(failedB.finishedAt)
      const failedC = await ctx.docket.getJob(c)
      const why = failedC.lastError?.message ?? ''
      assert.ok(why.includes(a) || why.includes(b), `C's error should name its failed upstream: ${why}`)
      assert.equal(failedC.attempts, 0)

      assert.deepEqual(await statuses(ctx.docket, [other, sibling]), ['waiting', 'blocked'])
      await runNext(ctx.docket, queue, other)
      await runNext(ctx.docket, queue, sibling)
    })

    test('running out of attempts fails dependents too', async () => {
      const queue = await makeQueue(ctx.docket, 'd-exhausted', { maxAttempts: 1 })
      const a = await ctx.docket.add(queue, 'a')
      const b = await ctx.docket.add(queue, 'b', null, { dependsOn: [a.id] })
      const job = await claimOne(ctx.docket, queue)
      await ctx.docket.workers.fail(job, 'transient')
      assert.deepEqual(await statuses(ctx.docket, [a.id, b.id]), ['failed', 'failed'])
      assert.ok((await ctx.docket.getJob(b.id)).lastError?.message.includes(a.id))
    })

    test('cancelling a dependency fails its dependents', async () => {
      const queue = await makeQueue(ctx.docket, 'd-cancel')
      const a = await ctx.docket.add(queue, 'a', null, { delayMs: 60_000 })
      const b = await ctx.docket.add(queue, 'b', null, { dependsOn: [a.id] })
      const c = await ctx.docket.add(queue, 'c', null, { dependsOn: [b.id] })
      await ctx.docket.cancelJob(a.id)
      assert.deepEqual(await statuses(ctx.docket, [a.id, b.id, c.id]), ['cancelled', 'failed', 'failed'])
      assert.ok((await ctx.docket.getJob(b.id)).lastError?.message.includes(a.id))
      assert.deepEqual(await claim(ctx.docket, queue, { limit: 10 }), [])
    })

    test('a cycle within one addMany is INVALID_ARGUMENT and writes nothing', async () => {
      const queue = await makeQueue(ctx.docket, 'd-cycle')
      const [a, b, c] = [newId(), newId(), newId()]
      const error = await expectError(
        () =>
          ctx.docket.addMany([
            { id: a, queue, type: 'a', dependsOn: [b] },
            { id: b, queue, type: 'b', dependsOn: [a] },
          ]),
        'INVALID_ARGUMENT',
        [a, b],
      )
      assert.ok(
        error.details.issues?.some((i) => i.path.endsWith('dependsOn')),
        'the error should point at dependsOn',
      )
      await expectError(
        () =>
          ctx.docket.addMany([
            { queue, type: 'free' },
            { id: a, queue, type: 'a', dependsOn: [c] },
            { id: b, queue, type: 'b', dependsOn: [a] },
            { id: c, queue, type: 'c', dependsOn: [b] },
          ]),
        'INVALID_ARGUMENT',
        [a, b, c],
      )
      await expectError(
        () => ctx.docket.add({ id: a, queue, type: 'self', dependsOn: [a] }),
        'INVALID_ARGUMENT',
      )
      assert.equal(await total(ctx.docket, queue), 0)
      for (const id of [a, b, c]) await expectError(() => ctx.docket.getJob(id), 'NOT_FOUND')
    })

    test('depending on an unknown job is NOT_FOUND and writes nothing', async () => {
      const queue = await makeQueue(ctx.docket, 'd-unknown')
      const missing = newId()
      await expectError(
        () =>
          ctx.docket.addMany([
            { queue, type: 'fine' },
            { queue, type: 'orphan', dependsOn: [missing] },
          ]),
        'NOT_FOUND',
        [missing],
      )
      await expectError(() => ctx.docket.add(queue, 'orphan', null, { dependsOn: [missing] }), 'NOT_FOUND', [
        missing,
      ])
      assert.equal(await total(ctx.docket, queue), 0)
    })

    test('depending on a completed job makes the new job waiting at once', async () => {
      const queue = await makeQueue(ctx.docket, 'd-done')
      const a = await ctx.docket.add(queue, 'a')
      await runNext(ctx.docket, queue, a.id)
      const b = await ctx.docket.add(queue, 'b', null, { dependsOn: [a.id] })
      assert.equal(b.status, 'waiting')
      assert.equal(b.pendingDependencies, 0)
      assert.deepEqual((await ctx.docket.getJob(b.id)).dependencies.upstream, [
        { id: a.id, status: 'completed', on: 'success' },
      ])
      await runNext(ctx.docket, queue, b.id)
    })

    test('depending on a job that failed for good is refused with CONFLICT', async () => {
      const queue = await makeQueue(ctx.docket, 'd-dead')
      const a = await ctx.docket.add(queue, 'a')
      await ctx.docket.cancelJob(a.id)
      await expectError(() => ctx.docket.add(queue, 'b', null, { dependsOn: [a.id] }), 'CONFLICT', [a.id])
      assert.equal(await total(ctx.docket, queue), 1)
    })

    test('an unblocked job enters the state its queue and run-at call for', async () => {
      const manual = await makeQueue(ctx.docket, 'd-unblock-manual', { mode: 'manual' })
      const queue = await makeQueue(ctx.docket, 'd-unblock')
      const a = await ctx.docket.add(queue, 'a')
      const held = await ctx.docket.add(manual, 'held', null, { dependsOn: [a.id] })
      const later = await ctx.docket.add(queue, 'later', null, { dependsOn: [a.id], delayMs: 60_000 })
      assert.deepEqual([held.status, later.status], ['blocked', 'blocked'])
      await runNext(ctx.docket, queue, a.id)
      assert.deepEqual(await statuses(ctx.docket, [held.id, later.id]), ['held', 'scheduled'])
    })
  })
}
