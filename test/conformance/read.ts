/** Reading jobs: getJob with events and dependencies, listJobs filters and keyset pagination, countJobs. */
// Store parts (storage/store.ts): JobStore (getJob, listJobs), BatchStore, QueueStatsStore (countJobs).
import assert from 'node:assert/strict'
import { describe } from 'node:test'
import { emptyCounts } from '../../src/core/types.js'
import type { Job } from '../../src/index.js'
import {
  type ConformanceContext,
  claimOne,
  counts,
  expectError,
  makeQueue,
  newId,
  test,
  uniqueName,
} from './harness.js'

type SortKey = 'createdAt' | 'priority' | 'runAt'

const sortValue = (job: Job, sort: SortKey): number =>
  sort === 'priority' ? job.priority : job[sort].getTime()

export function readSuite(ctx: ConformanceContext): void {
  describe('read', () => {
    test('getJob returns the job with its events and both directions of dependencies', async () => {
      const queue = await makeQueue(ctx.docket, 'r-get')
      const a = newId()
      const b = newId()
      await ctx.docket.addMany([
        { id: a, queue, type: 'first' },
        { id: b, queue, type: 'second', dependsOn: [a] },
      ])
      const upstream = await ctx.docket.getJob(a)
      assert.deepEqual(upstream.dependencies, {
        upstream: [],
        downstream: [{ id: b, status: 'blocked', on: 'success' }],
      })
      const downstream = await ctx.docket.getJob(b)
      assert.equal(downstream.status, 'blocked')
      assert.equal(downstream.pendingDependencies, 1)
      assert.deepEqual(downstream.dependencies, {
        upstream: [{ id: a, status: 'waiting', on: 'success' }],
        downstream: [],
      })

      const claimed = await claimOne(ctx.docket, queue)
      assert.equal(claimed.id, a)
      await ctx.docket.workers.progress(claimed, { percent: 50, step: 'half' })
      await ctx.docket.workers.complete(claimed, { done: true })
      const detail = await ctx.docket.getJob(a)
      assert.deepEqual(
        detail.events.map((e) => [e.kind, e.status]),
        [
          ['added', 'waiting'],
          ['state', 'active'],
          ['progress', null],
          ['state', 'completed'],
        ],
      )
      for (const e of detail.events) {
        assert.equal(e.jobId, a)
        assert.ok(e.at instanceof Date)
      }
      const ids = detail.events.map((e) => e.id)
      assert.deepEqual(
        ids,
        [...ids].sort((x, y) => x - y),
      )
      assert.deepEqual(await ctx.docket.getJobEvents(a), detail.events)
      assert.deepEqual(await ctx.docket.getJobEvents(a, { afterId: ids[1]! }), detail.events.slice(2))
      assert.deepEqual(await ctx.docket.getJobEvents(a, { limit: 1 }), detail.events.slice(0, 1))
      assert.deepEqual((await ctx.docket.getJob(b)).dependencies.upstream, [
        { id: a, status: 'completed', on: 'success' },
      ])
      assert.equal((await ctx.docket.getJob(b)).status, 'waiting')
    })

    test('getJob of an unknown id is NOT_FOUND', async () => {
      const id = newId()
      await expectError(() => ctx.docket.getJob(id), 'NOT_FOUND', [id])
    })

    test('listJobs filters by queue, status (one or several), type and owner', async () => {
      const queue = await makeQueue(ctx.docket, 'r-filter')
      const other = await makeQueue(ctx.docket, 'r-filter-other')
      await ctx.docket.addMany([
        { queue, type: 'ocr', owner: 'alice' },
        { queue, type: 'ocr', owner: 'bob' },
        { queue, type: 'summary', owner: 'alice' },
        { queue, type: 'summary', owner: 'alice', delayMs: 60_000 },
        { queue, type: 'ocr', owner: 'bob', delayMs: 60_000 },
      ])
      await ctx.docket.add(other, 'ocr', null, { owner: 'alice' })
      const cancelled = await ctx.docket.add(queue, 'summary', null, { owner: 'carol' })
      await ctx.docket.cancelJob(cancelled.id)

      const list = async (filter: Parameters<typeof ctx.docket.listJobs>[0]) =>
        (await ctx.docket.listJobs({ limit: 100, ...filter })).jobs

      const all = await list({ queue })
      assert.equal(all.length, 6)
      assert.ok(all.every((j) => j.queue === queue))

      const waiting = await list({ queue, status: 'waiting' })
      assert.equal(waiting.length, 3)
      assert.ok(waiting.every((j) => j.status === 'waiting'))

      const several = await list({ queue, status: ['scheduled', 'cancelled'] })
      assert.equal(several.length, 3)
      assert.deepEqual(new Set(several.map((j) => j.status)), new Set(['scheduled', 'cancelled']))

      const ocr = await list({ queue, type: 'ocr' })
      assert.equal(ocr.length, 3)
      assert.ok(ocr.every((j) => j.type === 'ocr'))

      const alice = await list({ queue, owner: 'alice' })
      assert.equal(alice.length, 3)
      assert.ok(alice.every((j) => j.owner === 'alice'))

      const combined = await list({ queue, owner: 'alice', type: 'summary', status: 'scheduled' })
      assert.equal(combined.length, 1)
      assert.equal(combined[0]!.type, 'summary')
      assert.equal(combined[0]!.status, 'scheduled')

      const aliceEverywhere = await list({ owner: 'alice', type: 'ocr' })
      assert.ok(aliceEverywhere.some((j) => j.queue === other))
      assert.ok(aliceEverywhere.some((j) => j.queue === queue))

      assert.deepEqual(await ctx.docket.listJobs({ queue, status: 'failed' }), { jobs: [], nextCursor: null })
      assert.deepEqual(await ctx.docket.listJobs({ queue: uniqueName('r-none') }), {
        jobs: [],
        nextCursor: null,
      })
    })

    test('listJobs filters by batch', async () => {
      const queue = await makeQueue(ctx.docket, 'r-batch')
      const { batch, jobs } = await ctx.docket.addBatch(
        [
          { queue, type: 'a' },
          { queue, type: 'b' },
        ],
        { name: 'two' },
      )
      await ctx.docket.add(queue, 'outside')
      const listed = (await ctx.docket.listJobs({ batchId: batch.id })).jobs
      assert.deepEqual(new Set(listed.map((j) => j.id)), new Set(jobs.map((j) => j.id)))
      assert.ok(listed.every((j) => j.batchId === batch.id))
    })

    test('keyset pagination visits every job exactly once, in order, for each sort and order', async () => {
      const queue = await makeQueue(ctx.docket, 'r-pages')
      const base = Date.now() - 10_000
      const inputs = Array.from({ length: 25 }, (_, i) => ({
        queue,
        type: 'page',
        payload: { i },
        // Ties on purpose: five jobs share each priority, and pairs share a run-at.
        priority: (i % 5) * 20,
        // Every sixth job runs "now" by the database's clock, which may be finer than milliseconds.
        ...(i % 6 === 5
          ? {}
          : { runAt: new Date(base + Math.floor(i / 2) * 1_000 + (i >= 20 ? 3_600_000 : 0)) }),
      }))
      // Added in a few calls, so createdAt differs between groups and ties within them.
      const added: Job[] = []
      for (let i = 0; i < inputs.length; i += 7)
        added.push(...(await ctx.docket.addMany(inputs.slice(i, i + 7))))
      const everyId = new Set(added.map((j) => j.id))
      assert.equal(everyId.size, 25)

      for (const sort of ['createdAt', 'priority', 'runAt'] as const) {
        for (const order of ['asc', 'desc'] as const) {
          const seen: Job[] = []
          let cursor: string | undefined
          let pages = 0
          do {
            const page = await ctx.docket.listJobs({ queue, sort, order, limit: 10, cursor })
            pages++
            assert.ok(page.jobs.length <= 10)
            seen.push(...page.jobs)
            cursor = page.nextCursor ?? undefined
            assert.ok(pages <= 4, `${sort} ${order}: too many pages`)
          } while (cursor)
          const label = `${sort} ${order}`
          assert.equal(pages, 3, label)
          assert.equal(seen.length, 25, label)
          assert.deepEqual(new Set(seen.map((j) => j.id)), everyId, label)
          for (let k = 1; k < seen.length; k++) {
            const prev = seen[k - 1]!
            const next = seen[k]!
            const a = sortValue(prev, sort)
            const b = sortValue(next, sort)
            const inOrder =
              order === 'asc'
                ? a < b || (a === b && prev.id < next.id)
                : a > b || (a === b && prev.id > next.id)
            assert.ok(inOrder, `${label}: job ${k} out of order (${a}/${prev.id} then ${b}/${next.id})`)
          }
        }
      }
    })

    test('a bad cursor, or one made for another sort or order, is INVALID_ARGUMENT', async () => {
      const queue = await makeQueue(ctx.docket, 'r-cursor')
      await ctx.docket.addMany(Array.from({ length: 5 }, () => ({ queue, type: 't' })))
      const byPriority = await ctx.docket.listJobs({ queue, sort: 'priority', limit: 2 })
      assert.ok(byPriority.nextCursor)
      const cursor = byPriority.nextCursor
      await expectError(
        () => ctx.docket.listJobs({ queue, sort: 'createdAt', limit: 2, cursor }),
        'INVALID_ARGUMENT',
        ['cursor'],
      )
      await expectError(
        () => ctx.docket.listJobs({ queue, sort: 'priority', order: 'asc', limit: 2, cursor }),
        'INVALID_ARGUMENT',
        ['cursor'],
      )
      for (const bad of ['not-a-cursor', 'eyJmb28iOjF9', Buffer.from('[1,2,3,4]').toString('base64url')]) {
        await expectError(() => ctx.docket.listJobs({ queue, cursor: bad }), 'INVALID_ARGUMENT', ['cursor'])
      }
      // The cursor still works with the sort it was made for.
      const next = await ctx.docket.listJobs({ queue, sort: 'priority', limit: 2, cursor })
      assert.equal(next.jobs.length, 2)
    })

    test('countJobs counts every status per queue', async () => {
      const queue = await makeQueue(ctx.docket, 'r-count')
      const empty = await makeQueue(ctx.docket, 'r-count-empty')
      await ctx.docket.addMany([
        { queue, type: 't' },
        { queue, type: 't' },
        { queue, type: 't', delayMs: 60_000 },
      ])
      const active = await claimOne(ctx.docket, queue)
      const cancel = await ctx.docket.add(queue, 't', null, { delayMs: 60_000 })
      await ctx.docket.cancelJob(cancel.id)
      assert.ok(active)

      const expected = { ...emptyCounts(), waiting: 1, scheduled: 1, active: 1, cancelled: 1 }
      assert.deepEqual(await counts(ctx.docket, queue), expected)
      assert.deepEqual(await ctx.docket.countJobs(queue), { [queue]: expected })
      assert.deepEqual(await counts(ctx.docket, empty), emptyCounts())

      const everyQueue = await ctx.docket.countJobs()
      assert.deepEqual(everyQueue[queue], expected)
      assert.deepEqual(everyQueue[empty], emptyCounts())
    })
  })
}
