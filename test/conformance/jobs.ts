/** Adding jobs: one and many, payloads, priorities, scheduling, manual mode, capabilities, ids. */
// Store parts (storage/store.ts): JobStore (addJobs, getJob), QueueStore.
import assert from 'node:assert/strict'
import { describe } from 'node:test'
import { isDocketError, type JobInput, PRIORITIES } from '../../src/index.js'
import {
  allJobIds,
  type ConformanceContext,
  counts,
  expectError,
  makeQueue,
  newId,
  test,
  total,
} from './harness.js'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export function jobsSuite(ctx: ConformanceContext): void {
  describe('jobs', () => {
    test('adds one job (object form) with its defaults, on disk before add returns', async () => {
      const queue = await makeQueue(ctx.docket, 'j-one', { maxAttempts: 5 })
      const before = Date.now()
      const job = await ctx.docket.add({ queue, type: 'analyse', payload: { file: 'deck.pdf' } })
      assert.match(job.id, UUID)
      assert.equal(job.queue, queue)
      assert.equal(job.type, 'analyse')
      assert.deepEqual(job.payload, { file: 'deck.pdf' })
      assert.equal(job.status, 'waiting')
      assert.equal(job.priority, PRIORITIES.normal)
      assert.equal(job.attempts, 0)
      assert.equal(job.maxAttempts, 5)
      assert.equal(job.errorCount, 0)
      assert.equal(job.lastError, null)
      assert.equal(job.result, null)
      assert.equal(job.lease, null)
      assert.equal(job.progress.percent, 0)
      assert.equal(job.pendingDependencies, 0)
      assert.ok(Math.abs(job.createdAt.getTime() - before) < 5_000)
      assert.ok(job.runAt.getTime() <= Date.now() + 50)

      // A second connection sees it: it is committed.
      const other = await ctx.open()
      const seen = await other.getJob(job.id)
      await other.close()
      const { events, dependencies, artifacts, attemptHistory, ...stored } = seen
      assert.deepEqual(stored, job)
      assert.deepEqual(dependencies, { upstream: [], downstream: [] })
      assert.equal(events[0]?.kind, 'added')
      assert.equal(events[0]?.status, 'waiting')
      assert.deepEqual(artifacts, [])
    })

    test('adds one job (positional form) with options', async () => {
      const queue = await makeQueue(ctx.docket, 'j-positional')
      const job = await ctx.docket.add(queue, 'render', [1, 2, 3], {
        priority: 'high',
        owner: 'alice',
        maxAttempts: 2,
        backoff: { type: 'fixed', delayMs: 10, jitter: 0 },
        timeoutMs: 5_000,
        estimatedDurationMs: 1_234,
      })
      const got = await ctx.docket.getJob(job.id)
      assert.equal(got.type, 'render')
      assert.deepEqual(got.payload, [1, 2, 3])
      assert.equal(got.priority, PRIORITIES.high)
      assert.equal(got.owner, 'alice')
      assert.equal(got.maxAttempts, 2)
      assert.deepEqual(got.backoff, { ...got.backoff, type: 'fixed', delayMs: 10, jitter: 0 })
      assert.equal(got.timeoutMs, 5_000)
      assert.equal(got.estimatedDurationMs, 1_234)

      const bare = await ctx.docket.add(queue, 'ping')
      assert.equal((await ctx.docket.getJob(bare.id)).payload, null)
    })

    test('adds many jobs in one call, in order', async () => {
      const queue = await makeQueue(ctx.docket, 'j-many')
      const jobs = await ctx.docket.addMany(
        Array.from({ length: 20 }, (_, i) => ({ queue, type: 'item', payload: { i } })),
      )
      assert.equal(jobs.length, 20)
      assert.deepEqual(
        jobs.map((j) => (j.payload as { i: number }).i),
        Array.from({ length: 20 }, (_, i) => i),
      )
      assert.equal(new Set(jobs.map((j) => j.id)).size, 20)
      assert.equal((await counts(ctx.docket, queue)).waiting, 20)
      assert.deepEqual(await ctx.docket.addMany([]), [])
    })

    test('addMany is all or nothing', async () => {
      const queue = await makeQueue(ctx.docket, 'j-atomic')
      const good = (i: number): JobInput => ({ queue, type: 'ok', payload: { i } })
      // Refused by validation.
      await expectError(
        () => ctx.docket.addMany([good(0), good(1), { queue, type: 'bad', priority: 500 }]),
        'INVALID_ARGUMENT',
        ['priority'],
      )
      // Refused inside the transaction: an unknown queue after good jobs.
      await expectError(
        () => ctx.docket.addMany([good(2), good(3), { queue: `${queue}-missing`, type: 'x' }]),
        'NOT_FOUND',
      )
      // Refused inside the transaction: an unknown dependency on the last job.
      await expectError(
        () => ctx.docket.addMany([good(4), good(5), { queue, type: 'x', dependsOn: [newId()] }]),
        'NOT_FOUND',
      )
      // Refused inside the transaction: the same id twice.
      const id = newId()
      await expectError(
        () => ctx.docket.addMany([{ ...good(6), id }, good(7), { ...good(8), id }]),
        'CONFLICT',
        [id],
      )
      assert.equal(await total(ctx.docket, queue), 0)
      assert.deepEqual((await ctx.docket.listJobs({ queue })).jobs, [])
      await expectError(() => ctx.docket.getJob(id), 'NOT_FOUND')
    })

    test('round-trips payloads exactly: nested JSON, unicode, numbers, scalars', async () => {
      const queue = await makeQueue(ctx.docket, 'j-payload')
      const payloads: unknown[] = [
        {
          name: 'Zoë 🚀 日本語 עברית Ünïcödé',
          emoji: '👩‍👩‍👧‍👦 🇫🇷',
          escapes: 'quote " backslash \\ newline \n tab \t',
          nested: { a: [1, { b: [true, false, null] }, []], empty: {} },
          'key with spaces & ünïcode ✓': 'v',
          numbers: [0, -1, 1.5, -0.001, 1e21, 2 ** 53 - 1, -(2 ** 53 - 1), Math.PI, 0.1 + 0.2],
          deep: { l1: { l2: { l3: { l4: { l5: { l6: 'bottom' } } } } } },
        },
        'just a string',
        '',
        42,
        -3.5,
        true,
        false,
        null,
        [],
        [[], [[]], { x: [] }],
      ]
      const jobs = await ctx.docket.addMany(payloads.map((payload) => ({ queue, type: 'p', payload })))
      for (const [i, job] of jobs.entries()) {
        assert.deepEqual(job.payload, payloads[i], `payload ${i} as returned by add`)
        assert.deepEqual((await ctx.docket.getJob(job.id)).payload, payloads[i], `payload ${i} as stored`)
      }
      const listed = (await ctx.docket.listJobs({ queue, limit: 100, order: 'asc' })).jobs
      assert.deepEqual(
        listed.map((j) => j.payload),
        payloads,
      )
      // Through claim as well.
      const claimed = await ctx.docket.workers.claim({ workerId: 'w', queues: [queue], limit: 100 })
      const byId = new Map(jobs.map((j, i) => [j.id, payloads[i]]))
      for (const job of claimed) assert.deepEqual(job.payload, byId.get(job.id))
    })

    test('a payload with a NUL character round-trips or is refused cleanly', async () => {
      const queue = await makeQueue(ctx.docket, 'j-nul')
      const payload = { text: 'before\u0000after' }
      try {
        const job = await ctx.docket.add(queue, 'nul', payload)
        assert.deepEqual((await ctx.docket.getJob(job.id)).payload, payload)
      } catch (error) {
        assert.ok(
          isDocketError(error, 'INVALID_ARGUMENT'),
          `expected a round trip or INVALID_ARGUMENT, got ${String(error)}`,
        )
        assert.match(error.message, /payload/)
        assert.equal(await total(ctx.docket, queue), 0)
      }
    })

    test('maps priority names and accepts the numeric range', async () => {
      const queue = await makeQueue(ctx.docket, 'j-priority')
      for (const [name, value] of Object.entries(PRIORITIES)) {
        const job = await ctx.docket.add(queue, 't', null, { priority: name as keyof typeof PRIORITIES })
        assert.equal(job.priority, value)
        assert.equal((await ctx.docket.getJob(job.id)).priority, value)
      }
      assert.deepEqual(PRIORITIES, { low: 25, normal: 50, high: 75, urgent: 100 })
      for (const value of [0, 1, 63, 100]) {
        assert.equal((await ctx.docket.add(queue, 't', null, { priority: value })).priority, value)
      }
    })

    test('a run-at or a delay in the future makes the job scheduled', async () => {
      const queue = await makeQueue(ctx.docket, 'j-schedule')
      const at = new Date(Date.now() + 3_600_000)
      const byDate = await ctx.docket.add(queue, 't', null, { runAt: at })
      assert.equal(byDate.status, 'scheduled')
      assert.equal(byDate.runAt.getTime(), at.getTime())

      const iso = new Date(Date.now() + 7_200_000)
      const byIso = await ctx.docket.add(queue, 't', null, { runAt: iso.toISOString() })
      assert.equal(byIso.status, 'scheduled')
      assert.equal(byIso.runAt.getTime(), iso.getTime())

      const epoch = Date.now() + 600_000
      const byEpoch = await ctx.docket.add(queue, 't', null, { runAt: epoch })
      assert.equal(byEpoch.runAt.getTime(), epoch)

      const before = Date.now()
      const delayed = await ctx.docket.add(queue, 't', null, { delayMs: 60_000 })
      assert.equal(delayed.status, 'scheduled')
      assert.ok(delayed.runAt.getTime() >= before + 60_000 - 1_000)
      assert.ok(delayed.runAt.getTime() <= Date.now() + 60_000 + 1_000)

      const past = await ctx.docket.add(queue, 't', null, { runAt: new Date(Date.now() - 60_000) })
      assert.equal(past.status, 'waiting')
      const noDelay = await ctx.docket.add(queue, 't', null, { delayMs: 0 })
      assert.equal(noDelay.status, 'waiting')
      const c = await counts(ctx.docket, queue)
      assert.equal(c.scheduled, 4)
      assert.equal(c.waiting, 2)
    })

    test('a job added to a manual-mode queue is held', async () => {
      const queue = await makeQueue(ctx.docket, 'j-manual', { mode: 'manual' })
      const job = await ctx.docket.add(queue, 't')
      assert.equal(job.status, 'held')
      const delayed = await ctx.docket.add(queue, 't', null, { delayMs: 60_000 })
      assert.equal(delayed.status, 'held')
      assert.equal((await counts(ctx.docket, queue)).held, 2)
    })

    test('stores required capabilities', async () => {
      const queue = await makeQueue(ctx.docket, 'j-caps')
      const job = await ctx.docket.add(queue, 'transcode', null, { capabilities: ['gpu', 'cuda', 'gpu'] })
      assert.deepEqual([...job.capabilities].sort(), ['cuda', 'gpu'])
      assert.deepEqual([...(await ctx.docket.getJob(job.id)).capabilities].sort(), ['cuda', 'gpu'])
      assert.deepEqual((await ctx.docket.add(queue, 'plain')).capabilities, [])
    })

    test('accepts a client-supplied id and refuses a duplicate with CONFLICT', async () => {
      const queue = await makeQueue(ctx.docket, 'j-id')
      const id = newId()
      const job = await ctx.docket.add({ id, queue, type: 't', payload: { original: true } })
      assert.equal(job.id, id)
      assert.equal((await ctx.docket.getJob(id)).id, id)

      await expectError(
        () => ctx.docket.add({ id, queue, type: 't', payload: { original: false } }),
        'CONFLICT',
        [id],
      )
      // Even once the first has finished, the id stays taken.
      await ctx.docket.cancelJob(id)
      await expectError(() => ctx.docket.add({ id, queue, type: 't' }), 'CONFLICT', [id])
      assert.deepEqual((await ctx.docket.getJob(id)).payload, { original: true })
      assert.deepEqual(await allJobIds(ctx.docket, queue), [id])
    })

    test('a client-supplied id in upper case can be read back by the same id', async () => {
      const queue = await makeQueue(ctx.docket, 'j-id-case')
      const id = newId().toUpperCase()
      const job = await ctx.docket.add({ id, queue, type: 't' })
      assert.equal(job.id.toLowerCase(), id.toLowerCase())
      assert.equal((await ctx.docket.getJob(id)).id, job.id)
      assert.equal((await ctx.docket.getJob(id.toLowerCase())).id, job.id)
      assert.equal((await ctx.docket.cancelJob(id)).status, 'cancelled')
    })
  })
}
