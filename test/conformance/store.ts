/**
 * The Store interface itself, for what the public Docket API does not reach
 * directly: lost-worker marking, the event log's order and cursors, API keys
 * and sessions. Leadership has its own file (leadership.ts). Time comes from
 * the suite's clock (`ctx.clocked`), moved instead of slept.
 */
// Store parts (storage/store.ts): WorkerRegistryStore, EventStore, KeyStore, SessionStore, called directly.
import assert from 'node:assert/strict'
import { createHash, randomBytes, randomUUID } from 'node:crypto'
import { describe } from 'node:test'
import type { StoredEvent } from '../../src/core/types.js'
import { storeOf } from '../../src/docket/store-of.js'
import type { ApiKeyRecord, EventFilter, Store, WorkerRecord } from '../../src/storage/store.js'
import {
  type ConformanceContext,
  claimOne,
  expectError,
  makeQueue,
  test,
  uniqueName,
  workerId,
} from './harness.js'

const worker = (id: string, queues: string[]): WorkerRecord => ({
  id,
  host: 'h',
  pid: 1,
  kind: 'cpu',
  capabilities: ['gpu'],
  queues,
  concurrency: 2,
})

const keyRecord = (name: string, role: ApiKeyRecord['role'] = 'user'): ApiKeyRecord => {
  const secret = randomBytes(16).toString('hex')
  return {
    id: randomUUID(),
    name,
    role,
    prefix: secret.slice(0, 8),
    hash: createHash('sha256').update(secret).digest('hex'),
  }
}

/**
 * Every event after `cursor`, `pageSize` at a time, and the cursor after the
 * last, read until `complete` says the events are all there. On PostgreSQL
 * the log holds back events newer than the oldest transaction open anywhere
 * on the server (so none is skipped when an earlier id commits later), and
 * other suites on the same server hold transactions open: the newest events
 * can take a moment to show. Nothing is ever repeated or skipped meanwhile.
 */
async function readAll(
  store: Store,
  cursor: string | null,
  pageSize: number,
  complete: (events: StoredEvent[]) => boolean = () => true,
  filter?: EventFilter,
) {
  const events: StoredEvent[] = []
  const deadline = Date.now() + 15_000
  for (;;) {
    const page = await store.readEvents(cursor, pageSize, filter)
    assert.ok(page.events.length <= pageSize, 'a page is never longer than its limit')
    if (page.events.length === pageSize) assert.equal(page.more, true, 'a full page says more may follow')
    events.push(...page.events)
    if (page.events.length > 0) {
      assert.notEqual(page.cursor, cursor, 'a page that returned events moves the cursor')
      cursor = page.cursor
      continue
    }
    if (complete(events) || Date.now() > deadline) return { events, cursor }
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

export function storeSuite(ctx: ConformanceContext): void {
  describe('store: lost workers', () => {
    test('a worker silent for longer than the limit is marked lost once; its lease runs until it expires', async () => {
      // Marking a worker lost does not end its leases (see boundaries.ts): "silent" is the leader's
      // threshold, and a worker that heartbeats less often may still be running its jobs.
      const { clocked: docket, clock } = ctx
      const store = storeOf(docket)
      const queue = await makeQueue(docket, 's-lost')
      const silent = workerId('silent')
      const alive = workerId('alive')
      await store.registerWorker(worker(silent, [queue]))
      await store.registerWorker(worker(alive, [queue]))
      await docket.add(queue, 't')
      const [job] = await docket.workers.claim({
        workerId: silent,
        queues: [queue],
        limit: 1,
        leaseMs: 60_000,
      })
      assert.ok(job)

      clock.advance(5_000)
      assert.equal(await store.heartbeatWorker(alive, 1), true)
      assert.deepEqual(
        (await store.markLostWorkers(5_000)).filter((id) => id === silent || id === alive),
        [],
        'silent for exactly the limit is not yet lost',
      )
      clock.advance(1)
      const lost = await store.markLostWorkers(5_000)
      assert.ok(lost.includes(silent))
      assert.ok(!lost.includes(alive), 'a worker that heartbeated is not lost')
      assert.equal((await store.getWorker(silent))?.status, 'lost')
      assert.equal((await store.getWorker(alive))?.status, 'up')
      assert.equal((await store.getWorker(alive))?.heartbeatAt.getTime(), clock.now().getTime() - 1)
      assert.ok(!(await store.markLostWorkers(5_000)).includes(silent), 'marked lost only once')

      const lease = [{ id: job.id, token: job.lease.token }]
      assert.deepEqual(await store.checkLeases(lease), [{ id: job.id, ok: true }], 'its lease still runs')
      clock.advance(60_000)
      assert.deepEqual(await store.checkLeases(lease), [
        { id: job.id, ok: false, code: 'LEASE_LOST', reason: 'expired' },
      ])
      assert.equal(await store.heartbeatWorker(silent, 0), false, 'a lost worker must register again')
      await store.registerWorker(worker(silent, [queue]))
      assert.equal((await store.getWorker(silent))?.status, 'up')
      assert.equal(await store.heartbeatWorker(silent, 0), true)
    })

    test('a worker that stopped is never marked lost, and gave its jobs back', async () => {
      const { clocked: docket, clock } = ctx
      const store = storeOf(docket)
      const queue = await makeQueue(docket, 's-stopped')
      const id = workerId('stopped')
      await store.registerWorker(worker(id, [queue]))
      await docket.add(queue, 't')
      await docket.workers.claim({ workerId: id, queues: [queue], limit: 1 })
      assert.equal(await store.deregisterWorker(id), 1)
      clock.advance(60_000)
      assert.ok(!(await store.markLostWorkers(1_000)).includes(id))
      assert.equal((await store.getWorker(id))?.status, 'stopped')
      const info = (await store.listWorkers()).find((w) => w.id === id)
      assert.deepEqual(
        { capabilities: info?.capabilities, queues: info?.queues, load: info?.load },
        { capabilities: ['gpu'], queues: [queue], load: 0 },
      )
      assert.equal((await claimOne(docket, queue)).attempts, 1, 'the released attempt was given back')
    })
  })

  describe('store: who holds a lease', () => {
    test('jobWorkerRegistrants names the key that registered the worker of each job’s latest attempt', async () => {
      const store = storeOf(ctx.docket)
      const queue = await makeQueue(ctx.docket, 's-registrants')
      const remote = workerId('remote')
      await store.registerWorker({ ...worker(remote, [queue]), registeredBy: 'key-one' })
      const [claimed, waiting] = await ctx.docket.addMany([
        { queue, type: 't' },
        { queue, type: 't' },
      ])
      await ctx.docket.workers.claim({ workerId: remote, queues: [queue], limit: 1 })
      const found = await store.jobWorkerRegistrants([claimed!.id, waiting!.id, randomUUID()])
      assert.deepEqual(
        [...found.entries()].sort(),
        [
          [claimed!.id, 'key-one'],
          [waiting!.id, null],
        ].sort(),
      )
      assert.deepEqual(await store.jobWorkerRegistrants([]), new Map())
    })
  })

  describe('store: the event log', () => {
    test('readEvents pages in commit order from a cursor, never repeating or skipping an event', async () => {
      const store = storeOf(ctx.clocked)
      const docket = ctx.clocked
      const tail = await store.eventsTail()
      const queue = await makeQueue(docket, 's-events')
      const jobs = await docket.addMany([1, 2, 3].map((i) => ({ queue, type: 't', payload: { i } })))
      const leased = await claimOne(docket, queue)
      await docket.workers.progress(leased, { percent: 50, step: 'half' })
      await docket.pauseQueue(queue)
      await docket.resumeQueue(queue)
      await docket.workers.complete(leased, { ok: true })

      const mine = (events: StoredEvent[]) => events.filter((e) => e.queue === queue).length >= 8
      const { events, cursor } = await readAll(store, tail, 2, mine)
      const ours = events.filter((e) => e.queue === queue)
      const ids = events.map((e) => e.id)
      assert.deepEqual(
        ids,
        [...ids].sort((a, b) => a - b),
        'ids go up',
      )
      assert.equal(new Set(ids).size, ids.length, 'no event twice')
      assert.deepEqual(
        ours.map((e) => [e.kind, e.jobId, e.status]),
        [
          ...jobs.map((j) => ['added', j.id, 'waiting']),
          ['state', leased.id, 'active'],
          ['progress', leased.id, null],
          ['queue.paused', null, null],
          ['queue.resumed', null, null],
          ['state', leased.id, 'completed'],
        ],
      )
      assert.equal(ours.find((e) => e.kind === 'progress')?.step, 'half')
      assert.ok(
        ours.every((e) => e.at.getTime() === ctx.clock.now().getTime()),
        'events carry the clock',
      )

      // At the end: nothing more (the cursor may move up past what it has seen), and again nothing.
      const end = await store.readEvents(cursor, 10)
      assert.deepEqual([end.events, end.more], [[], false])
      assert.deepEqual((await store.readEvents(end.cursor, 10)).events, [])
      assert.deepEqual((await store.readEvents(await store.eventsTail(), 10)).events, [])

      // A cursor made from an event id resumes right after that event.
      const from = await store.eventCursorAfter(ours[1]!.id)
      assert.ok(from)
      const resumed = (
        await readAll(store, from, 100, (e) => e.filter((x) => x.queue === queue).length >= 6)
      ).events.filter((e) => e.queue === queue)
      assert.deepEqual(
        resumed.map((e) => e.id),
        ours.slice(2).map((e) => e.id),
      )
      assert.equal(await store.eventCursorAfter(2 ** 31 - 1), null, 'no such event, no cursor')

      // From the start, the same events come in the same order.
      const first = await store.readEvents(null, 1)
      assert.equal(first.events.length, 1)
      assert.ok(first.events[0]!.id <= ours[0]!.id)
    })

    test('readEvents takes a job or a queue filter; a cursor from eventsTail returns only what came after', async () => {
      const store = storeOf(ctx.docket)
      const docket = ctx.docket
      const queue = await makeQueue(docket, 's-filter')
      const other = await makeQueue(docket, 's-filter-other')
      const early = await docket.add(queue, 't')
      const tail = await store.eventsTail()
      const target = await docket.add(queue, 't')
      await docket.addMany(Array.from({ length: 30 }, () => ({ queue: other, type: 'noise' })))
      const leased = await claimOne(docket, queue)
      assert.equal(leased.id, early.id, 'the older job first')
      await docket.workers.complete(leased, null)
      const mine = await claimOne(docket, queue)
      for (let i = 1; i <= 5; i++) await docket.workers.progress(mine, { percent: i * 10 })
      await docket.addMany(Array.from({ length: 30 }, () => ({ queue: other, type: 'noise' })))
      await docket.workers.complete(mine, { ok: true })

      // One job's events, from the start, in small pages: its own and nothing else, in order.
      const jobEvents = (e: StoredEvent[]) => e.some((x) => x.status === 'completed')
      const byJob = await readAll(store, null, 2, jobEvents, { jobId: target.id })
      assert.deepEqual(
        byJob.events.map((e) => [e.jobId, e.kind, e.status]),
        [
          [target.id, 'added', 'waiting'],
          [target.id, 'state', 'active'],
          ...[1, 2, 3, 4, 5].map(() => [target.id, 'progress', null]),
          [target.id, 'state', 'completed'],
        ],
      )
      // Read on with the same filter: nothing more for that job, though others go on.
      await docket.addMany(Array.from({ length: 5 }, () => ({ queue: other, type: 'noise' })))
      assert.deepEqual((await store.readEvents(byJob.cursor, 10, { jobId: target.id })).events, [])

      // One queue's events after the tail: not the early job's add, which came before it.
      const queueEvents = (e: StoredEvent[]) => e.filter((x) => x.status === 'completed').length >= 2
      const byQueue = await readAll(store, tail, 3, queueEvents, { queue })
      assert.ok(byQueue.events.every((e) => e.queue === queue))
      assert.ok(!byQueue.events.some((e) => e.jobId === early.id && e.kind === 'added'), 'before the tail')
      assert.deepEqual(
        byQueue.events.filter((e) => e.kind === 'added').map((e) => e.jobId),
        [target.id],
      )
      // Unfiltered from the tail: the same start.
      const all = await readAll(store, tail, 50, queueEvents)
      assert.ok(!all.events.some((e) => e.jobId === early.id && e.kind === 'added'))
      assert.ok(all.events.some((e) => e.queue === other))
    })
  })

  describe('store: API keys and sessions', () => {
    test('a key is found by its hash until revoked; its principal keeps one role', async () => {
      const { clocked: docket, clock } = ctx
      const store = storeOf(docket)
      const name = uniqueName('alice')
      const record = keyRecord(name)
      const created = await store.createApiKey(record)
      assert.deepEqual(created, {
        id: record.id,
        name,
        role: 'user',
        prefix: record.prefix,
        createdAt: clock.now(),
        lastUsedAt: null,
        revokedAt: null,
      })
      assert.ok(!('hash' in created), 'the hash never leaves the store')
      assert.deepEqual(await store.findApiKey(record.hash), created)
      assert.equal(await store.findApiKey(keyRecord(name).hash), null)

      // A second key for the same name and role; another role for the name is refused.
      clock.advance(1)
      const second = await store.createApiKey(keyRecord(name))
      assert.equal(second.name, name)
      await expectError(() => store.createApiKey(keyRecord(name, 'admin')), 'CONFLICT', [name])

      clock.advance(61_000)
      await store.markApiKeyUsed(record.id)
      assert.equal((await store.findApiKey(record.hash))?.lastUsedAt?.getTime(), clock.now().getTime())

      assert.equal(await store.revokeApiKey(record.id), true)
      assert.equal(await store.findApiKey(record.hash), null)
      assert.equal(await store.revokeApiKey(record.id), false, 'revoking twice')
      assert.equal(await store.revokeApiKey(randomUUID()), false, 'revoking an unknown key')
      const listed = (await store.listApiKeys()).filter((k) => k.name === name)
      assert.deepEqual(
        listed.map((k) => [k.id, k.revokedAt?.getTime() ?? null]),
        [
          [record.id, clock.now().getTime()],
          [second.id, null],
        ],
      )
    })

    test('a session lives until it expires by the clock, is deleted, or its key is revoked', async () => {
      const { clocked: docket, clock } = ctx
      const store = storeOf(docket)
      const key = await store.createApiKey(keyRecord(uniqueName('bob')))
      const session = (ttlMs: number) => ({
        idHash: randomBytes(32).toString('hex'),
        keyId: key.id,
        csrfToken: randomBytes(16).toString('hex'),
        ttlMs,
      })
      const short = session(60_000)
      const created = await store.createSession(short)
      assert.deepEqual(created, {
        key,
        csrfToken: short.csrfToken,
        expiresAt: new Date(clock.now().getTime() + 60_000),
      })
      clock.advance(59_999)
      assert.deepEqual(await store.findSession(short.idHash), created)
      clock.advance(1)
      assert.equal(await store.findSession(short.idHash), null, 'expired at its expiry')

      const signedOut = session(3_600_000)
      await store.createSession(signedOut)
      await store.deleteSession(signedOut.idHash)
      assert.equal(await store.findSession(signedOut.idHash), null)
      await store.deleteSession(signedOut.idHash)

      const live = session(3_600_000)
      await store.createSession(live)
      assert.ok(await store.findSession(live.idHash))
      await store.revokeApiKey(key.id)
      assert.equal(await store.findSession(live.idHash), null, "revoking the key ends the key's sessions")
    })

    test('a viewer token opens its job until it expires by the clock; bad records are refused', async () => {
      const { clocked: docket, clock } = ctx
      const queue = await makeQueue(docket, 'viewer')
      const job = await docket.add(queue, 't')
      const hash = randomBytes(32).toString('hex')
      const created = await docket.access.createViewerToken({
        hash,
        jobId: job.id.toUpperCase(),
        ttlMs: 60_000,
      })
      assert.deepEqual(created, { jobId: job.id, expiresAt: new Date(clock.now().getTime() + 60_000) })
      clock.advance(59_999)
      assert.deepEqual(await docket.access.findViewerToken(hash), created)
      clock.advance(1)
      assert.equal(await docket.access.findViewerToken(hash), null, 'expired at its expiry')
      assert.equal(await docket.access.findViewerToken('not-a-hash'), null)
      for (const bad of [
        { hash: 'short', jobId: job.id, ttlMs: 60_000 },
        { hash, jobId: 'not-a-job', ttlMs: 60_000 },
        { hash, jobId: job.id, ttlMs: 10 },
        { hash, jobId: job.id, ttlMs: 8 * 24 * 3600_000 },
      ]) {
        await expectError(() => docket.access.createViewerToken(bad), 'INVALID_ARGUMENT')
      }
    })
  })
}
