/** Claiming: order, paused queues, held and blocked jobs, capabilities, concurrency limits, due times. */
// Store parts (storage/store.ts): LeaseStore (claimJobs), QueueStore.
import assert from 'node:assert/strict'
import { describe } from 'node:test'
import type { Docket } from '../../src/index.js'
import { type ConformanceContext, claim, counts, makeQueue, newId, sleep, test, workerId } from './harness.js'

/** Claims one job at a time until none is left; returns their types in claim order. */
async function drainTypes(docket: Docket, queue: string): Promise<string[]> {
  const types: string[] = []
  for (;;) {
    const [job] = await claim(docket, queue)
    if (!job) return types
    types.push(job.type)
  }
}

export function claimSuite(ctx: ConformanceContext): void {
  describe('claim', () => {
    test('leases a job to the worker: active, attempt counted, lease with token and expiry', async () => {
      const queue = await makeQueue(ctx.docket, 'c-lease')
      const added = await ctx.docket.add(queue, 't', { x: 1 })
      const worker = workerId()
      const before = Date.now()
      const [job] = await claim(ctx.docket, queue, { worker, leaseMs: 10_000 })
      assert.ok(job)
      assert.equal(job.id, added.id)
      assert.equal(job.status, 'active')
      assert.equal(job.attempts, 1)
      assert.deepEqual(job.payload, { x: 1 })
      assert.equal(job.lease.workerId, worker)
      assert.ok(job.lease.token.length > 0)
      const span = job.lease.expiresAt.getTime() - job.lease.lockedAt.getTime()
      assert.ok(Math.abs(span - 10_000) < 1_000, `lease of ${span} ms`)
      assert.ok(Math.abs(job.lease.lockedAt.getTime() - before) < 5_000)
      assert.ok(job.startedAt)

      const stored = await ctx.docket.getJob(job.id)
      assert.equal(stored.status, 'active')
      assert.equal(stored.lease?.token, job.lease.token)
      assert.equal(stored.lease?.workerId, worker)
      assert.deepEqual(stored.events.at(-1)?.status, 'active')
      assert.deepEqual(await claim(ctx.docket, queue), [])
    })

    test('claims by priority, then age', async () => {
      const queue = await makeQueue(ctx.docket, 'c-priority')
      for (const [type, priority] of [
        ['low', 'low'],
        ['high-1', 'high'],
        ['normal', 'normal'],
        ['high-2', 'high'],
        ['urgent', 'urgent'],
        ['p0', 0],
      ] as const) {
        await ctx.docket.add(queue, type, null, { priority })
        await sleep(3)
      }
      assert.deepEqual(await drainTypes(ctx.docket, queue), [
        'urgent',
        'high-1',
        'high-2',
        'normal',
        'low',
        'p0',
      ])
    })

    test('a batch claim takes the best jobs first', async () => {
      const queue = await makeQueue(ctx.docket, 'c-priority-batch')
      await ctx.docket.addMany([
        { queue, type: 'low', priority: 'low' },
        { queue, type: 'urgent', priority: 'urgent' },
        { queue, type: 'normal' },
        { queue, type: 'high', priority: 'high' },
      ])
      const jobs = await claim(ctx.docket, queue, { limit: 2 })
      assert.deepEqual(new Set(jobs.map((j) => j.type)), new Set(['urgent', 'high']))
    })

    test('a fifo queue claims in order of arrival, whatever the priority', async () => {
      const queue = await makeQueue(ctx.docket, 'c-fifo', { ordering: 'fifo' })
      for (const [type, priority] of [
        ['first', 'low'],
        ['second', 'urgent'],
        ['third', 'normal'],
        ['fourth', 'high'],
      ] as const) {
        await ctx.docket.add(queue, type, null, { priority })
        await sleep(3)
      }
      assert.deepEqual(await drainTypes(ctx.docket, queue), ['first', 'second', 'third', 'fourth'])
    })

    test('a paused queue gives nothing; resumed, it gives its jobs', async () => {
      const queue = await makeQueue(ctx.docket, 'c-paused')
      await ctx.docket.addMany([
        { queue, type: 't' },
        { queue, type: 't' },
      ])
      await ctx.docket.pauseQueue(queue)
      assert.deepEqual(await claim(ctx.docket, queue, { limit: 10 }), [])
      assert.equal((await counts(ctx.docket, queue)).waiting, 2)
      await ctx.docket.resumeQueue(queue)
      assert.equal((await claim(ctx.docket, queue, { limit: 10 })).length, 2)
    })

    test('held and blocked jobs are not claimed', async () => {
      const manual = await makeQueue(ctx.docket, 'c-held', { mode: 'manual' })
      const held = await ctx.docket.add(manual, 't')
      assert.deepEqual(await claim(ctx.docket, manual, { limit: 10 }), [])

      const queue = await makeQueue(ctx.docket, 'c-blocked')
      const upstream = await ctx.docket.add(queue, 'upstream', null, { delayMs: 60_000 })
      const blocked = await ctx.docket.add(queue, 'blocked', null, { dependsOn: [upstream.id] })
      assert.equal(blocked.status, 'blocked')
      assert.deepEqual(await claim(ctx.docket, queue, { limit: 10 }), [])

      await ctx.docket.promote(held.id)
      const [promoted] = await claim(ctx.docket, manual)
      assert.equal(promoted?.id, held.id)
      assert.equal((await ctx.docket.getJob(blocked.id)).status, 'blocked')
    })

    test('a job needing a capability goes only to a worker that has it', async () => {
      const queue = await makeQueue(ctx.docket, 'c-caps')
      const gpu = await ctx.docket.add(queue, 'gpu', null, { capabilities: ['gpu'], priority: 'urgent' })
      const both = await ctx.docket.add(queue, 'gpu+cuda', null, { capabilities: ['gpu', 'cuda'] })
      assert.deepEqual(await claim(ctx.docket, queue, { limit: 10 }), [])
      assert.deepEqual(await claim(ctx.docket, queue, { limit: 10, capabilities: ['cpu'] }), [])

      const [first] = await claim(ctx.docket, queue, { capabilities: ['gpu', 'cpu'] })
      assert.equal(first?.id, gpu.id)
      // Having gpu is not enough for a job that also needs cuda.
      assert.deepEqual(await claim(ctx.docket, queue, { limit: 10, capabilities: ['gpu'] }), [])
      const [second] = await claim(ctx.docket, queue, { capabilities: ['cuda', 'gpu', 'avx'] })
      assert.equal(second?.id, both.id)

      // A job needing nothing goes to any worker, capable or not.
      const plain = await ctx.docket.add(queue, 'plain')
      const [third] = await claim(ctx.docket, queue, { capabilities: ['gpu'] })
      assert.equal(third?.id, plain.id)
    })

    test("a queue's concurrency limit holds across claims", async () => {
      const queue = await makeQueue(ctx.docket, 'c-limit', { concurrency: 3 })
      await ctx.docket.addMany(Array.from({ length: 10 }, (_, i) => ({ queue, type: 't', payload: { i } })))
      const a = await claim(ctx.docket, queue, { limit: 2 })
      const b = await claim(ctx.docket, queue, { limit: 2 })
      const c = await claim(ctx.docket, queue, { limit: 5 })
      assert.equal(a.length, 2)
      assert.equal(b.length, 1)
      assert.equal(c.length, 0)
      assert.equal((await counts(ctx.docket, queue)).active, 3)

      await ctx.docket.workers.complete(a[0]!)
      const d = await claim(ctx.docket, queue, { limit: 5 })
      assert.equal(d.length, 1)
      assert.equal((await counts(ctx.docket, queue)).active, 3)

      // Lowering the limit below the current load gives nothing until jobs finish.
      await ctx.docket.updateQueue(queue, { concurrency: 1 })
      assert.deepEqual(await claim(ctx.docket, queue, { limit: 5 }), [])
      await ctx.docket.updateQueue(queue, { concurrency: null })
      assert.equal((await claim(ctx.docket, queue, { limit: 10 })).length, 6)
    })

    test('claims at most limit jobs, each once', async () => {
      const queue = await makeQueue(ctx.docket, 'c-n')
      await ctx.docket.addMany(Array.from({ length: 10 }, () => ({ queue, type: 't' })))
      const first = await claim(ctx.docket, queue, { limit: 4 })
      const second = await claim(ctx.docket, queue, { limit: 4 })
      const third = await claim(ctx.docket, queue, { limit: 4 })
      assert.deepEqual([first.length, second.length, third.length], [4, 4, 2])
      const ids = [...first, ...second, ...third].map((j) => j.id)
      assert.equal(new Set(ids).size, 10)
      assert.ok([...first, ...second, ...third].every((j) => j.status === 'active' && j.attempts === 1))
      assert.deepEqual(await claim(ctx.docket, queue, { limit: 4 }), [])
    })

    test('a scheduled job is claimed only once it is due', async () => {
      const { clocked: docket, clock } = ctx
      const queue = await makeQueue(docket, 'c-due')
      const job = await docket.add(queue, 't', null, { delayMs: 300 })
      assert.equal(job.status, 'scheduled')
      assert.equal(job.runAt.getTime(), clock.now().getTime() + 300)
      assert.deepEqual(await claim(docket, queue), [])
      clock.advance(299)
      assert.deepEqual(await claim(docket, queue), [], 'claimed a millisecond early')
      clock.advance(1)
      const [claimed] = await claim(docket, queue)
      assert.equal(claimed?.id, job.id)
      assert.equal(claimed?.status, 'active')
    })

    test('one claim serves several queues', async () => {
      const q1 = await makeQueue(ctx.docket, 'c-multi-1')
      const q2 = await makeQueue(ctx.docket, 'c-multi-2')
      const q3 = await makeQueue(ctx.docket, 'c-multi-3')
      const a = await ctx.docket.add(q1, 'a')
      const b = await ctx.docket.add(q2, 'b')
      await ctx.docket.add(q3, 'c')
      await ctx.docket.pauseQueue(q3)
      const jobs = await claim(ctx.docket, [q1, q2, q3], { limit: 10 })
      assert.deepEqual(new Set(jobs.map((j) => j.id)), new Set([a.id, b.id]))
      assert.equal((await counts(ctx.docket, q3)).waiting, 1)
    })

    test('a job of another queue is never claimed', async () => {
      const mine = await makeQueue(ctx.docket, 'c-mine')
      const theirs = await makeQueue(ctx.docket, 'c-theirs')
      await ctx.docket.add(theirs, 't', null, { id: newId() })
      assert.deepEqual(await claim(ctx.docket, mine, { limit: 10 }), [])
      assert.equal((await counts(ctx.docket, theirs)).waiting, 1)
    })
  })
}
