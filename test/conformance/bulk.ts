/** Bulk actions: every job matching a filter, or each of a list of ids, in chunks; matched and changed counted. */
// Store parts (storage/store.ts): JobControlStore, JobStore (listJobs).
import assert from 'node:assert/strict'
import { describe } from 'node:test'
import type { Docket } from '../../src/index.js'
import { type ConformanceContext, claimOne, counts, expectError, makeQueue, newId, test } from './harness.js'

/** Adds `n` jobs and fails each for good (maxAttempts 1). */
async function failed(docket: Docket, queue: string, n: number, extra: Record<string, unknown> = {}) {
  const jobs = await docket.addMany(
    Array.from({ length: n }, (_, i) => ({ queue, type: 'f', payload: { i }, maxAttempts: 1, ...extra })),
  )
  const claimed = await docket.workers.claim({ workerId: 'bulk', queues: [queue], limit: n })
  assert.equal(claimed.length, n)
  for (const job of claimed) await docket.workers.fail(job, 'boom')
  for (const job of jobs) assert.equal((await docket.getJob(job.id)).status, 'failed')
  return jobs
}

export function bulkSuite(ctx: ConformanceContext): void {
  describe('bulk actions', () => {
    test('retries every failed job a filter matches, over more than one chunk, and nothing else', async () => {
      const queue = await makeQueue(ctx.docket, 'bulk-retry')
      const other = await makeQueue(ctx.docket, 'bulk-retry-other')
      await failed(ctx.docket, queue, 520)
      await failed(ctx.docket, other, 3)
      await ctx.docket.add(queue, 'still-waiting')
      const outcome = await ctx.docket.actOnJobs('retry', { filter: { queue } })
      assert.deepEqual(outcome, { matched: 520, changed: 520 })
      const c = await counts(ctx.docket, queue)
      assert.equal(c.failed, 0)
      assert.equal(c.waiting, 521)
      assert.equal((await counts(ctx.docket, other)).failed, 3, 'another queue is untouched')
      const [sample] = (await ctx.docket.listJobs({ queue, type: 'f', limit: 1 })).jobs
      const history = (await ctx.docket.getJob(sample!.id)).events.map((e) => e.status)
      assert.equal(history.at(-1), 'waiting', 'each change is recorded as the job’s own state event')
    })

    test('a filter’s status, type, search and payload conditions narrow it; statuses the action cannot take are not matched', async () => {
      const queue = await makeQueue(ctx.docket, 'bulk-cancel')
      const a = await ctx.docket.add(queue, 'email', { customer: 1 })
      const b = await ctx.docket.add(queue, 'email', { customer: 2 })
      const c = await ctx.docket.add(queue, 'sms', { customer: 1 })
      const later = await ctx.docket.add(queue, 'email', { customer: 1 }, { delayMs: 60_000 })
      const active = await ctx.docket.add(queue, 'email', { customer: 3 })
      await ctx.docket.cancelJob(active.id)
      assert.deepEqual(
        await ctx.docket.actOnJobs('cancel', {
          filter: { queue, type: 'email', where: 'payload.customer = 1' },
        }),
        { matched: 2, changed: 2 },
      )
      const status = async (id: string) => (await ctx.docket.getJob(id)).status
      assert.equal(await status(a.id), 'cancelled')
      assert.equal(await status(later.id), 'cancelled')
      assert.equal(await status(b.id), 'waiting')
      assert.equal(await status(c.id), 'waiting')
      assert.deepEqual(await ctx.docket.actOnJobs('cancel', { filter: { queue, status: 'completed' } }), {
        matched: 0,
        changed: 0,
      })
      assert.deepEqual(await ctx.docket.actOnJobs('promote', { filter: { queue, status: ['waiting'] } }), {
        matched: 0,
        changed: 0,
      })
    })

    test('acts on each of a list of ids: missing ids and jobs in other states are not matched', async () => {
      const queue = await makeQueue(ctx.docket, 'bulk-ids')
      const manual = await makeQueue(ctx.docket, 'bulk-ids-manual', { mode: 'manual' })
      const held = await ctx.docket.add(manual, 'h')
      const scheduled = await ctx.docket.add(queue, 's', null, { delayMs: 60_000 })
      const waiting = await ctx.docket.add(queue, 'w')
      const outcome = await ctx.docket.actOnJobs('promote', {
        ids: [held.id, scheduled.id, waiting.id, newId(), held.id.toUpperCase()],
      })
      assert.deepEqual(outcome, { matched: 2, changed: 2 })
      assert.equal((await ctx.docket.getJob(held.id)).status, 'waiting')
      assert.equal((await ctx.docket.getJob(scheduled.id)).status, 'waiting')
    })

    test('deletes finished jobs by filter, never an active one; owner scopes both forms', async () => {
      const queue = await makeQueue(ctx.docket, 'bulk-delete')
      const mine = await ctx.docket.add({ queue, type: 't', owner: 'alice' })
      const theirs = await ctx.docket.add({ queue, type: 't', owner: 'bob' })
      await ctx.docket.add({ queue, type: 'run', owner: 'alice', priority: 'urgent' })
      const running = await claimOne(ctx.docket, queue)
      assert.equal(running.type, 'run')
      assert.deepEqual(await ctx.docket.actOnJobs('delete', { filter: { queue }, owner: 'alice' }), {
        matched: 1,
        changed: 1,
      })
      await expectError(() => ctx.docket.getJob(mine.id), 'NOT_FOUND')
      assert.equal((await ctx.docket.getJob(running.id)).status, 'active', 'an active job is never deleted')
      assert.deepEqual(await ctx.docket.actOnJobs('delete', { ids: [theirs.id], owner: 'alice' }), {
        matched: 0,
        changed: 0,
      })
      assert.deepEqual(
        await ctx.docket.actOnJobs('delete', { filter: { queue, owner: 'bob' }, owner: 'alice' }),
        {
          matched: 0,
          changed: 0,
        },
      )
      assert.equal((await ctx.docket.getJob(theirs.id)).status, 'waiting')
    })

    test('refuses an unknown action, both or neither of filter and ids, and a bad filter, changing nothing', async () => {
      const queue = await makeQueue(ctx.docket, 'bulk-bad')
      const job = await ctx.docket.add(queue, 't')
      await expectError(
        () => ctx.docket.actOnJobs('explode' as never, { ids: [job.id] }),
        'INVALID_ARGUMENT',
        ['action'],
      )
      await expectError(() => ctx.docket.actOnJobs('cancel', {} as never), 'INVALID_ARGUMENT')
      await expectError(
        () => ctx.docket.actOnJobs('cancel', { ids: [job.id], filter: { queue } } as never),
        'INVALID_ARGUMENT',
      )
      await expectError(
        () => ctx.docket.actOnJobs('cancel', { filter: { queue, status: 'done' as never } }),
        'INVALID_ARGUMENT',
      )
      await expectError(
        () => ctx.docket.actOnJobs('cancel', { filter: { where: 'payload. = ' } }),
        'INVALID_ARGUMENT',
      )
      await expectError(() => ctx.docket.actOnJobs('cancel', { ids: ['nope'] }), 'INVALID_ARGUMENT')
      assert.equal((await ctx.docket.getJob(job.id)).status, 'waiting')
    })
  })
}
