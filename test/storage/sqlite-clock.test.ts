/**
 * On SQLite, lease times come from each process's own clock. Stores and
 * Dockets on one file with clocks set apart stand for processes whose clocks
 * disagree:
 *
 * - leadership another process set is taken over only CLOCK_SKEW_TOLERANCE_MS
 *   after its expiry by the taker's clock, and the old term is fenced;
 * - a job's lease is recovered by a maintenance pass (in any process) only
 *   once that process has seen it unchanged for its length by its own elapsed
 *   time (issue 33, item 11): a process whose clock runs 10 s ahead never
 *   takes a lease that is heartbeating, one 10 s behind recovers a dead
 *   worker's lease on time, and a step of every clock at once (NTP) ends no
 *   lease, neither for the processes that watch it nor for its holder.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { Docket, isDocketError, Maintenance, TestClock } from '../../src/index.js'
import { createSqliteStore } from '../../src/storage/sqlite/index.js'
import { CLOCK_SKEW_TOLERANCE_MS } from '../../src/storage/sqlite/leadership.js'
import type { Store } from '../../src/storage/store.js'

describe('SQLite: leases judged by another process clock, with a skew tolerance', () => {
  const dir = mkdtempSync(join(tmpdir(), 'docket-clock-'))
  const path = join(dir, 'docket.db')
  const opened: { close(): Promise<void> }[] = []
  after(async () => {
    for (const s of opened) await s.close()
    rmSync(dir, { recursive: true, force: true })
  })
  /** A store whose clock reads `offset()` ms past this process's. */
  const storeAt = (offset: () => number): Store => {
    const store = createSqliteStore(path, { now: () => Date.now() + offset() })
    opened.push(store)
    return store
  }
  const refused = async (action: () => Promise<unknown>) =>
    action().then(
      () => assert.fail('the fenced write went through'),
      (e) => assert.ok(isDocketError(e, 'LEADERSHIP_LOST'), String(e)),
    )

  it('tolerance is small and positive', () => {
    assert.ok(CLOCK_SKEW_TOLERANCE_MS > 0 && CLOCK_SKEW_TOLERANCE_MS <= 250)
  })

  it('leadership: taken over only the tolerance after it expired by the taker clock; the old term is fenced', async () => {
    let bAhead = 0
    const a = storeAt(() => 0)
    const b = storeAt(() => bAhead)
    const held = await a.acquireLeadership('m1', 'a', 1_000)
    assert.ok(held)
    bAhead = 1_000 + CLOCK_SKEW_TOLERANCE_MS / 2
    assert.equal(await b.acquireLeadership('m1', 'b', 1_000), null, 'taken within the tolerance')
    bAhead = 1_000 + CLOCK_SKEW_TOLERANCE_MS + 50
    const taken = await b.acquireLeadership('m1', 'b', 1_000)
    assert.deepEqual(taken, { name: 'm1', holder: 'b', term: held.term + 1 })
    // By a's own clock its lease has most of a second to run; the term is what refuses it.
    await refused(() => a.recoverExpiredLeases(held))
    await refused(() => a.markLostWorkers(1_000, held))
  })

  it("a job's lease: a leader's fenced recovery call takes it only the tolerance after it expired; an explicit call at its expiry", async () => {
    const docket = await Docket.open(path)
    opened.push(docket)
    await docket.createQueue({ name: 'skew' })
    let bAhead = 0
    const a = storeAt(() => 0)
    const b = storeAt(() => bAhead)
    const leader = await b.acquireLeadership('m2', 'b', 60_000)
    assert.ok(leader)
    await docket.addMany([
      { queue: 'skew', type: 't' },
      { queue: 'skew', type: 't' },
    ])
    const claimed = await a.claimJobs({
      workerId: 'a',
      queues: ['skew'],
      capabilities: [],
      limit: 2,
      leaseMs: 1_000,
    })
    assert.equal(claimed.length, 2)
    bAhead = 1_000 + CLOCK_SKEW_TOLERANCE_MS / 2
    assert.equal(await b.recoverExpiredLeases(leader), 0, 'recovered within the tolerance')
    const statuses = async () => Promise.all(claimed.map(async (j) => (await docket.getJob(j.id)).status))
    assert.deepEqual(await statuses(), ['active', 'active'])
    // Explicitly asked (an operator, a test), the clock is taken as is: both leases are past it.
    const explicit = storeAt(() => 1_000 + 10)
    assert.equal(await explicit.recoverExpiredLeases(), 2)
    assert.deepEqual(await statuses(), ['waiting', 'waiting'])
    const again = await a.claimJobs({
      workerId: 'a',
      queues: ['skew'],
      capabilities: [],
      limit: 2,
      leaseMs: 1_000,
    })
    assert.equal(again.length, 2)
    bAhead = 1_000 + CLOCK_SKEW_TOLERANCE_MS + 50
    assert.equal(await b.recoverExpiredLeases(leader), 2)
  })

  /** Dockets on the file whose clocks read `offsets` ms apart from one start; `pass()` moves them on together. */
  const processes = async (offsets: Record<string, number>) => {
    const start = Date.now()
    const clocks = Object.fromEntries(
      Object.entries(offsets).map(([name, offset]) => [name, new TestClock(start + offset)]),
    )
    const dockets: Record<string, Docket> = {}
    for (const name of Object.keys(offsets)) {
      dockets[name] = await Docket.open(path, { clock: clocks[name]! })
      opened.push(dockets[name]!)
    }
    return {
      dockets,
      /** Time passes for every process alike. */
      pass: (ms: number) => {
        for (const c of Object.values(clocks)) c.advance(ms)
      },
      /** Every clock is set `ms` ahead at once, as an NTP step: no time passes. */
      step: (ms: number) => {
        for (const c of Object.values(clocks)) c.set(c.now().getTime() + ms)
      },
    }
  }
  const LEASE_MS = 1_000
  const BEAT_MS = 300

  it('a process 10 s ahead never takes a heartbeating lease; when the holder stops, it recovers the lease on time', async () => {
    const { dockets, pass } = await processes({ holder: 0, ahead: 10_000 })
    const { holder, ahead } = dockets
    await holder!.createQueue({ name: 'ahead' })
    const job = await holder!.add('ahead', 't')
    const [leased] = await holder!.workers.claim({ workerId: 'h', queues: ['ahead'], leaseMs: LEASE_MS })
    assert.ok(leased)
    // The process ahead leads maintenance: before, only the leader recovered leases, by its clock.
    const watcher = new Maintenance(ahead!, { holder: 'ahead' })
    assert.equal(await watcher.runOnce(), 'led')
    for (let beat = 0; beat < 20; beat++) {
      pass(BEAT_MS)
      const [outcome] = await holder!.workers.heartbeat(leased, LEASE_MS)
      assert.deepEqual(outcome, { id: job.id, ok: true }, `heartbeat ${beat} refused`)
      await watcher.runOnce()
      const now = await holder!.getJob(job.id)
      assert.equal(now.status, 'active', `recovered while heartbeating (beat ${beat})`)
      assert.equal(now.lease?.token, leased.lease.token)
    }
    // The holder stops: the lease is recovered once it has been unchanged for its length (and the tolerance).
    let silentMs = 0
    while ((await holder!.getJob(job.id)).status === 'active') {
      pass(100)
      silentMs += 100
      await watcher.runOnce()
      assert.ok(
        silentMs <= LEASE_MS + CLOCK_SKEW_TOLERANCE_MS + 100,
        `still active ${silentMs} ms after the last heartbeat`,
      )
    }
    assert.ok(
      silentMs >= LEASE_MS,
      `recovered ${silentMs} ms after the last heartbeat, before the lease ran out`,
    )
    await watcher.stop()
  })

  it("a process 10 s behind recovers a stopped holder's lease on time, not 10 s late", async () => {
    const { dockets, pass } = await processes({ holder: 0, behind: -10_000 })
    const { holder, behind } = dockets
    await holder!.createQueue({ name: 'behind' })
    const job = await holder!.add('behind', 't')
    const [leased] = await holder!.workers.claim({ workerId: 'h', queues: ['behind'], leaseMs: LEASE_MS })
    assert.ok(leased)
    const watcher = new Maintenance(behind!, { holder: 'behind' })
    await watcher.runOnce()
    let silentMs = 0
    while ((await holder!.getJob(job.id)).status === 'active') {
      pass(100)
      silentMs += 100
      await watcher.runOnce()
      assert.ok(
        silentMs <= LEASE_MS + CLOCK_SKEW_TOLERANCE_MS + 100,
        `still active ${silentMs} ms after the claim`,
      )
    }
    assert.ok(silentMs >= LEASE_MS)
    await watcher.stop()
  })

  it('every clock stepped 30 s ahead at once ends no lease: the holder keeps it, the watcher leaves it', async () => {
    // Clocks that agree, so that the step alone is tested.
    const { dockets, pass, step } = await processes({ holder: 0, watcher: 0 })
    const { holder, watcher } = dockets
    await holder!.createQueue({ name: 'step' })
    const job = await holder!.add('step', 't')
    const [leased] = await holder!.workers.claim({ workerId: 'h', queues: ['step'], leaseMs: LEASE_MS })
    assert.ok(leased)
    const watchers = [new Maintenance(watcher!, { holder: 'watcher' })]
    for (const w of watchers) await w.runOnce()
    for (let beat = 0; beat < 6; beat++) {
      pass(BEAT_MS)
      if (beat === 2) step(30_000)
      const [outcome] = await holder!.workers.heartbeat(leased, LEASE_MS)
      assert.deepEqual(outcome, { id: job.id, ok: true }, `heartbeat ${beat} refused`)
      assert.deepEqual(await holder!.workers.checkLeases(leased), [{ id: job.id, ok: true }])
      for (const w of watchers) await w.runOnce()
      assert.equal((await holder!.getJob(job.id)).status, 'active', `recovered after the step (beat ${beat})`)
    }
    await holder!.workers.complete(leased, 'done')
    assert.equal((await holder!.getJob(job.id)).status, 'completed')
    for (const w of watchers) await w.stop()
  })
})
