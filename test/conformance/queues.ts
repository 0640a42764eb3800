/** Queues: create, get, list, update, delete, pause and resume. */
// Store parts (storage/store.ts): QueueStore.
import assert from 'node:assert/strict'
import { describe } from 'node:test'
import { storeOf } from '../../src/docket/store-of.js'
import {
  addCompleted,
  type ConformanceContext,
  claim,
  expectError,
  makeQueue,
  test,
  total,
  uniqueName,
} from './harness.js'

export function queuesSuite(ctx: ConformanceContext): void {
  describe('queues', () => {
    test('creates a queue with the documented defaults, and gets and lists it', async () => {
      const name = uniqueName('q-defaults')
      const created = await ctx.docket.createQueue({ name })
      assert.equal(created.name, name)
      assert.equal(created.mode, 'automatic')
      assert.equal(created.status, 'active')
      assert.equal(created.ordering, 'priority')
      assert.equal(created.concurrency, null)
      assert.equal(created.retentionMs, null)
      assert.equal(created.description, null)
      assert.equal(created.defaults.maxAttempts, 3)
      assert.equal(created.defaults.timeoutMs, null)
      assert.deepEqual(created.settings, {})
      assert.ok(created.createdAt instanceof Date && !Number.isNaN(created.createdAt.getTime()))

      assert.deepEqual(await ctx.docket.getQueue(name), created)
      const listed = (await ctx.docket.listQueues()).find((q) => q.name === name)
      assert.deepEqual(listed, created)
    })

    test('stores every queue option as given', async () => {
      const name = uniqueName('q-options')
      const created = await ctx.docket.createQueue({
        name,
        description: 'Pitch decks — analyse ✓',
        mode: 'manual',
        status: 'paused',
        concurrency: 5,
        ordering: 'fifo',
        maxAttempts: 7,
        backoff: { type: 'fixed', delayMs: 250, jitter: 0 },
        timeoutMs: 60_000,
        retentionMs: 86_400_000,
        settings: { owner: 'ops', nested: { list: [1, 2, 3] } },
      })
      const got = await ctx.docket.getQueue(name)
      assert.deepEqual(got, created)
      assert.equal(got.description, 'Pitch decks — analyse ✓')
      assert.equal(got.mode, 'manual')
      assert.equal(got.status, 'paused')
      assert.equal(got.concurrency, 5)
      assert.equal(got.ordering, 'fifo')
      assert.equal(got.defaults.maxAttempts, 7)
      assert.equal(got.defaults.backoff.type, 'fixed')
      assert.equal(got.defaults.backoff.delayMs, 250)
      assert.equal(got.defaults.backoff.jitter, 0)
      assert.equal(got.defaults.timeoutMs, 60_000)
      assert.equal(got.retentionMs, 86_400_000)
      assert.deepEqual(got.settings, { owner: 'ops', nested: { list: [1, 2, 3] } })
    })

    test('refuses a duplicate name with CONFLICT and keeps the first queue', async () => {
      const name = await makeQueue(ctx.docket, 'q-dup', { description: 'first' })
      await expectError(() => ctx.docket.createQueue({ name, description: 'second' }), 'CONFLICT', [name])
      assert.equal((await ctx.docket.getQueue(name)).description, 'first')
      assert.equal((await ctx.docket.listQueues()).filter((q) => q.name === name).length, 1)
    })

    test('updates only the fields given', async () => {
      const name = await makeQueue(ctx.docket, 'q-update', {
        description: 'before',
        concurrency: 2,
        maxAttempts: 4,
        backoff: { type: 'fixed', delayMs: 100 },
      })
      const before = await ctx.docket.getQueue(name)
      const updated = await ctx.docket.updateQueue(name, {
        description: 'after',
        concurrency: 9,
        backoff: { delayMs: 300 },
      })
      assert.equal(updated.description, 'after')
      assert.equal(updated.concurrency, 9)
      assert.equal(updated.defaults.maxAttempts, 4)
      assert.equal(updated.defaults.backoff.type, 'fixed')
      assert.equal(updated.defaults.backoff.delayMs, 300)
      assert.equal(updated.mode, before.mode)
      assert.equal(updated.ordering, before.ordering)
      assert.equal(updated.createdAt.getTime(), before.createdAt.getTime())
      assert.ok(updated.updatedAt.getTime() >= before.updatedAt.getTime())
      assert.deepEqual(await ctx.docket.getQueue(name), updated)

      const cleared = await ctx.docket.updateQueue(name, { concurrency: null, description: null })
      assert.equal(cleared.concurrency, null)
      assert.equal(cleared.description, null)
    })

    test('an add takes the queue as it is now, changed, deleted or made again by another process', async () => {
      const name = uniqueName('q-fresh')
      await ctx.docket.createQueue({ name, maxAttempts: 2 })
      assert.equal((await ctx.docket.add(name, 'x', null)).maxAttempts, 2)
      // Another process (its own Docket on the same database) changes the queue between two adds.
      const other = await ctx.open()
      await other.updateQueue(name, { maxAttempts: 9, mode: 'manual' })
      const changed = await ctx.docket.add(name, 'x', null)
      assert.equal(changed.maxAttempts, 9)
      assert.equal(changed.status, 'held')
      await other.deleteQueue(name, { force: true })
      await expectError(() => ctx.docket.add(name, 'x', null), 'NOT_FOUND')
      await other.createQueue({ name, maxAttempts: 4 })
      const again = await ctx.docket.add(name, 'x', null, { delayMs: 60_000 })
      assert.equal(again.maxAttempts, 4)
      assert.equal(again.status, 'scheduled')
      assert.ok(again.runAt.getTime() - again.createdAt.getTime() >= 59_000)
      await other.close()
    })

    test('pauses and resumes a queue', async () => {
      const name = await makeQueue(ctx.docket, 'q-pause')
      assert.equal((await ctx.docket.pauseQueue(name)).status, 'paused')
      assert.equal((await ctx.docket.getQueue(name)).status, 'paused')
      assert.equal((await ctx.docket.resumeQueue(name)).status, 'active')
      assert.equal((await ctx.docket.getQueue(name)).status, 'active')
    })

    test('deletes an empty queue', async () => {
      const name = await makeQueue(ctx.docket, 'q-delete')
      await ctx.docket.deleteQueue(name)
      await expectError(() => ctx.docket.getQueue(name), 'NOT_FOUND', [name])
      assert.ok(!(await ctx.docket.listQueues()).some((q) => q.name === name))
      // The name is free again.
      assert.equal((await ctx.docket.createQueue({ name })).name, name)
    })

    test('refuses to delete a queue with live jobs unless forced, then deletes its jobs too', async () => {
      const name = await makeQueue(ctx.docket, 'q-live')
      const waiting = await ctx.docket.add(name, 'a', { n: 1 })
      await ctx.docket.add(name, 'b', { n: 2 }, { delayMs: 60_000 })
      await ctx.docket.add(name, 'c', { n: 3 })
      const [active] = await claim(ctx.docket, name)
      assert.ok(active)

      await expectError(() => ctx.docket.deleteQueue(name), 'CONFLICT', [name])
      await expectError(() => ctx.docket.deleteQueue(name, { force: false }), 'CONFLICT')
      assert.equal((await ctx.docket.getQueue(name)).name, name)
      assert.equal(await total(ctx.docket, name), 3)
      assert.equal((await ctx.docket.getJob(waiting.id)).queue, name)

      await ctx.docket.deleteQueue(name, { force: true })
      await expectError(() => ctx.docket.getQueue(name), 'NOT_FOUND')
      await expectError(() => ctx.docket.getJob(waiting.id), 'NOT_FOUND')
      await expectError(() => ctx.docket.getJob(active.id), 'NOT_FOUND')
      assert.deepEqual(await ctx.docket.getJobEvents(waiting.id), [])
      assert.deepEqual(await storeOf(ctx.docket).getJobAttempts(active.id), [], 'attempts left behind')
    })

    test('deletes a queue whose jobs have all finished without force', async () => {
      const name = await makeQueue(ctx.docket, 'q-finished')
      const done = await addCompleted(ctx.docket, { queue: name, type: 'x' })
      const cancelled = await ctx.docket.add(name, 'y')
      await ctx.docket.cancelJob(cancelled.id)
      await ctx.docket.deleteQueue(name)
      await expectError(() => ctx.docket.getQueue(name), 'NOT_FOUND')
      await expectError(() => ctx.docket.getJob(done.id), 'NOT_FOUND')
    })

    test('answers NOT_FOUND for an unknown queue everywhere, naming it', async () => {
      const name = uniqueName('q-missing')
      await expectError(() => ctx.docket.getQueue(name), 'NOT_FOUND', [name])
      await expectError(() => ctx.docket.updateQueue(name, { description: 'x' }), 'NOT_FOUND', [name])
      await expectError(() => ctx.docket.deleteQueue(name), 'NOT_FOUND', [name])
      await expectError(() => ctx.docket.deleteQueue(name, { force: true }), 'NOT_FOUND', [name])
      await expectError(() => ctx.docket.pauseQueue(name), 'NOT_FOUND', [name])
      await expectError(() => ctx.docket.resumeQueue(name), 'NOT_FOUND', [name])
      await expectError(() => ctx.docket.countJobs(name), 'NOT_FOUND', [name])
      await expectError(() => ctx.docket.promote({ queue: name }), 'NOT_FOUND', [name])
      assert.ok(!(await ctx.docket.listQueues()).some((q) => q.name === name))
    })

    test('lists queues sorted by name', async () => {
      const prefix = uniqueName('q-list')
      for (const suffix of ['c', 'a', 'b']) await ctx.docket.createQueue({ name: `${prefix}-${suffix}` })
      const names = (await ctx.docket.listQueues()).map((q) => q.name).filter((n) => n.startsWith(prefix))
      assert.deepEqual(names, [`${prefix}-a`, `${prefix}-b`, `${prefix}-c`])
    })
  })
}
