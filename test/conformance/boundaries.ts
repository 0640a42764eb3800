/**
 * Trust boundaries in the store: a dedupe key and a dependency reach only
 * jobs of the same owner (someone else's job is answered exactly as a
 * missing one), files of a deduplicated job are not recorded, and every way
 * a lease ends is remembered so its holder is told why (LEASE_LOST
 * details.reason); a worker that deregisters hands its jobs back, and one
 * marked lost keeps its leases until they expire.
 */
// Store parts (storage/store.ts): JobStore, BatchStore, ArtifactStore, LeaseStore, WorkerRegistryStore, MaintenanceStore.
import assert from 'node:assert/strict'
import { describe } from 'node:test'
import { assertFenced } from './fencing.js'
import {
  type ConformanceContext,
  claim,
  claimOne,
  expectError,
  makeQueue,
  newId,
  test,
  total,
  workerId,
} from './harness.js'

/** The error with the id in it replaced, to compare answers about two different ids. */
const masked = (error: { code: string; message: string; details: unknown }, id: string) =>
  JSON.parse(
    JSON.stringify({ code: error.code, message: error.message, details: error.details }).replaceAll(
      id,
      '<id>',
    ),
  )

export function boundariesSuite(ctx: ConformanceContext): void {
  describe('trust boundaries', () => {
    test('a dedupe key matches only live jobs of the same owner; jobs without an owner match each other', async () => {
      const queue = await makeQueue(ctx.docket, 'b-dedupe')
      const key = 'deck-2026-q3'
      const alice = await ctx.docket.add({
        queue,
        type: 'report',
        owner: 'alice',
        dedupeKey: key,
        payload: { password: 'hunter2' },
      })
      const bob = await ctx.docket.add({
        queue,
        type: 'report',
        owner: 'bob',
        dedupeKey: key,
        payload: { v: 'b' },
      })
      assert.notEqual(bob.id, alice.id)
      assert.deepEqual(bob.payload, { v: 'b' })
      assert.equal(bob.owner, 'bob')
      const nobody = await ctx.docket.add({ queue, type: 'report', dedupeKey: key, payload: { v: 'n' } })
      assert.ok(nobody.id !== alice.id && nobody.id !== bob.id)
      assert.equal(nobody.owner, null)
      // Each owner's own key still deduplicates, in one call or across calls.
      assert.equal(
        (await ctx.docket.add({ queue, type: 'report', owner: 'alice', dedupeKey: key })).id,
        alice.id,
      )
      assert.equal((await ctx.docket.add({ queue, type: 'report', dedupeKey: key })).id, nobody.id)
      const [b1, b2, a1] = await ctx.docket.addMany([
        { queue, type: 'report', owner: 'bob', dedupeKey: 'fresh' },
        { queue, type: 'report', owner: 'bob', dedupeKey: 'fresh' },
        { queue, type: 'report', owner: 'alice', dedupeKey: 'fresh' },
      ])
      assert.equal(b1!.id, b2!.id)
      assert.notEqual(a1!.id, b1!.id)
      // A batch goes through the same rule.
      const { jobs } = await ctx.docket.addBatch([{ queue, type: 'report', dedupeKey: key }], {
        owner: 'bob',
      })
      assert.equal(jobs[0]!.id, bob.id)
      assert.equal(await total(ctx.docket, queue), 5)
    })

    test('a dependency on another owner’s job is NOT_FOUND, exactly as a missing one, and writes nothing', async () => {
      const queue = await makeQueue(ctx.docket, 'b-deps')
      const alices = await ctx.docket.add({ queue, type: 'secret', owner: 'alice' })
      const missing = newId()
      // One id for every probe: a refused add writes nothing, so it is free again each time.
      const probe = newId()
      const refusal = async (owner: string | null, upstream: string) =>
        expectError(
          () => ctx.docket.add({ id: probe, queue, type: 'probe', owner, dependsOn: [upstream] }),
          'NOT_FOUND',
          [upstream],
        )
      for (const owner of ['bob', null]) {
        const theirs = await refusal(owner, alices.id)
        const none = await refusal(owner, missing)
        assert.deepEqual(masked(theirs, alices.id), masked(none, missing))
      }
      // In one call too: a job may not wait for a job of another owner added alongside it.
      const parent = newId()
      await expectError(
        () =>
          ctx.docket.addMany([
            { id: parent, queue, type: 'p', owner: 'alice' },
            { queue, type: 'c', owner: 'bob', dependsOn: [parent] },
          ]),
        'NOT_FOUND',
        [parent],
      )
      assert.equal(await total(ctx.docket, queue), 1)
      // The owner's own dependencies work as before.
      const child = await ctx.docket.add({ queue, type: 'c', owner: 'alice', dependsOn: [alices.id] })
      assert.equal(child.status, 'blocked')
    })

    test('a deduplicated job with files keeps only its own files', async () => {
      const queue = await makeQueue(ctx.docket, 'b-files')
      const file = (text: string) => ({
        name: `${text}.txt`,
        mediaType: 'text/plain',
        data: Buffer.from(text),
      })
      const first = await ctx.docket.addWithFiles({ queue, type: 'doc', owner: 'alice', dedupeKey: 'k' }, [
        file('original'),
      ])
      const again = await ctx.docket.addWithFiles({ queue, type: 'doc', owner: 'alice', dedupeKey: 'k' }, [
        file('second'),
      ])
      assert.equal(again.job.id, first.job.id)
      assert.deepEqual(
        again.artifacts.map((a) => a.name),
        ['original.txt'],
      )
      const bobs = await ctx.docket.addWithFiles({ queue, type: 'doc', owner: 'bob', dedupeKey: 'k' }, [
        file('bob'),
      ])
      assert.notEqual(bobs.job.id, first.job.id)
      assert.deepEqual(
        bobs.artifacts.map((a) => a.name),
        ['bob.txt'],
      )
      assert.deepEqual(
        (await ctx.docket.listArtifacts(first.job.id)).map((a) => a.name),
        ['original.txt'],
      )
    })

    test('LEASE_LOST says released after a release, and deleted for a removed job or a token it never had', async () => {
      const queue = await makeQueue(ctx.docket, 'b-reasons')
      await ctx.docket.add(queue, 't')
      const job = await claimOne(ctx.docket, queue)
      assert.deepEqual(await ctx.docket.workers.release(job), [{ id: job.id, ok: true }])
      await assertFenced(ctx.docket, job, 'released')
      const again = await claimOne(ctx.docket, queue)
      assert.equal(again.attempts, 1, 'a release gives the attempt back')
      await assertFenced(ctx.docket, job, 'taken-over')
      // A token the job never had is answered as a job that does not exist.
      await assertFenced(ctx.docket, { ...again, lease: { ...again.lease, token: newId() } }, 'deleted')
      await assertFenced(ctx.docket, { ...again, id: newId() }, 'deleted')
      await ctx.docket.cancelJob(again.id)
      await assertFenced(ctx.docket, again, 'cancelled')
      await ctx.docket.removeJob(again.id)
      await assertFenced(ctx.docket, again, 'deleted')
    })

    test('a worker that deregisters hands back the jobs it holds, attempts not counted, in their place', async () => {
      const queue = await makeQueue(ctx.docket, 'b-deregister', { ordering: 'fifo' })
      const [first, second, third] = await ctx.docket.addMany([
        { queue, type: 'a' },
        { queue, type: 'b' },
        { queue, type: 'c' },
      ])
      const id = workerId('leaving')
      await ctx.docket.workers.register({
        id,
        host: 'h',
        pid: 1,
        kind: 'cpu',
        capabilities: [],
        queues: [queue],
        concurrency: 2,
      })
      const held = await claim(ctx.docket, queue, { worker: id, limit: 2 })
      assert.deepEqual(
        held.map((j) => j.id),
        [first!.id, second!.id],
      )
      const other = await claim(ctx.docket, queue, { limit: 1 })
      assert.equal(other[0]!.id, third!.id)
      assert.equal(await ctx.docket.workers.deregister(id), 2)
      for (const job of held) {
        const now = await ctx.docket.getJob(job.id)
        assert.equal(now.status, 'waiting')
        assert.equal(now.attempts, 0)
        assert.equal(now.lease, null)
        await assertFenced(ctx.docket, job, 'released')
      }
      assert.equal(
        (await ctx.docket.getJob(third!.id)).status,
        'active',
        'another worker’s job is left alone',
      )
      assert.equal((await ctx.docket.listWorkers()).find((w) => w.id === id)?.status, 'stopped')
      const next = await claim(ctx.docket, queue, { limit: 2 })
      assert.deepEqual(
        next.map((j) => j.id),
        [first!.id, second!.id],
        'released jobs keep their place at the head of the queue',
      )
    })

    test('a worker marked lost keeps its leases until they expire, and must register again', async () => {
      // Review finding: ending them at once ran jobs twice when a live worker heartbeat less often
      // than the leader's threshold. Its jobs are recovered when their own leases expire.
      const { clocked: docket, clock } = ctx
      const queue = await makeQueue(docket, 'b-lost', { maxAttempts: 3 })
      await docket.add(queue, 't')
      const id = workerId('silent')
      await docket.workers.register({
        id,
        host: 'h',
        pid: 1,
        kind: 'cpu',
        capabilities: [],
        queues: [queue],
        concurrency: 1,
      })
      const [job] = await claim(docket, queue, { worker: id, leaseMs: 200 })
      assert.ok(job)
      clock.advance(30)
      assert.ok((await docket.workers.markLost(10)).includes(id))
      await docket.recoverExpiredLeases() // other tests' leases may have run out on this clock
      assert.equal((await docket.getJob(job.id)).status, 'active', 'its lease still runs')
      assert.deepEqual(
        await docket.workers.heartbeat(job, 200),
        [{ id: job.id, ok: true }],
        'and it may renew it',
      )
      clock.advance(250)
      assert.ok((await docket.recoverExpiredLeases()) >= 1)
      const recovered = await docket.getJob(job.id)
      assert.equal(recovered.status, 'waiting')
      assert.match(recovered.lastError?.message ?? '', new RegExp(id))
      assert.equal(await docket.workers.beat(id, 0), false, 'a lost worker must register again')
    })
  })
}
