/**
 * Maintenance leadership: a lease row per name, acquired, renewed, lapsing
 * and taken over in terms; and the term fence on every maintenance write
 * (lease recovery, lost workers, retention). Two Dockets on one database
 * stand for two processes. The frozen-process version of this is
 * test/reliability/frozen-leader.test.ts.
 */
// Store parts (storage/store.ts): LeadershipStore, and the fence of MaintenanceStore and WorkerRegistryStore (markLostWorkers).
import assert from 'node:assert/strict'
import { describe } from 'node:test'
import type { LeaderTerm } from '../../src/core/types.js'
import { internalsOf } from '../../src/docket/internals.js'
import { storeOf } from '../../src/docket/store-of.js'
import { type Docket, Maintenance } from '../../src/index.js'
import { untilValue } from '../support/helpers.js'
import {
  type ConformanceContext,
  claimOne,
  expectError,
  makeQueue,
  sleep,
  status,
  test,
  uniqueName,
  workerId,
} from './harness.js'

/** The fenced maintenance writes and the leadership behind a Docket (docket/maintenance.ts). */
const upkeep = (docket: Docket) => internalsOf(docket).maintenance

/** Longer than a short lease plus SQLite's clock-skew tolerance (100 ms), with room for a loaded machine. */
const PAST_A_SHORT_LEASE_MS = 350

export function leadershipSuite(ctx: ConformanceContext): void {
  describe('leadership', () => {
    let other: Docket
    const second = async () => {
      other ??= await ctx.open()
      return other
    }
    // Another process on the same clock, for the tests that move it.
    let otherClocked: Docket
    const secondClocked = async () => {
      otherClocked ??= await ctx.open({ clock: ctx.clock })
      return otherClocked
    }

    test('a free leadership is taken in term 1; its holder renews it in the same term; others are refused meanwhile', async () => {
      const { clocked: docket, clock } = ctx
      const name = uniqueName('lead')
      const a = await upkeep(docket).leadership.acquire(name, 'a', 1_000)
      assert.deepEqual(a, { name, holder: 'a', term: 1 })
      assert.equal(await upkeep(await secondClocked()).leadership.acquire(name, 'b', 1_000), null)
      clock.advance(600)
      assert.deepEqual(
        await upkeep(docket).leadership.acquire(name, 'a', 1_000),
        a,
        'a renewal keeps the term',
      )
      clock.advance(600)
      // 1.2 s after the first acquisition: only the renewal keeps b out.
      assert.equal(await upkeep(await secondClocked()).leadership.acquire(name, 'b', 1_000), null)
    })

    test('a lapsed lease is taken over in a new term; the old holder is then refused', async () => {
      const { clocked: docket, clock } = ctx
      const name = uniqueName('lead')
      const a = await upkeep(docket).leadership.acquire(name, 'a', 100)
      assert.ok(a)
      clock.advance(PAST_A_SHORT_LEASE_MS)
      const b = await upkeep(await secondClocked()).leadership.acquire(name, 'b', 10_000)
      assert.deepEqual(b, { name, holder: 'b', term: a.term + 1 })
      assert.equal(await upkeep(docket).leadership.acquire(name, 'a', 10_000), null)
    })

    test('a holder whose own lease lapsed gets a new term when it renews, even if nobody took over', async () => {
      const { clocked: docket, clock } = ctx
      const name = uniqueName('lead')
      const a = await upkeep(docket).leadership.acquire(name, 'a', 100)
      assert.ok(a)
      clock.advance(PAST_A_SHORT_LEASE_MS)
      await expectError(() => upkeep(docket).recoverExpiredLeases(a), 'LEADERSHIP_LOST', [`term ${a.term}`])
      const again = await upkeep(docket).leadership.acquire(name, 'a', 10_000)
      assert.deepEqual(again, { name, holder: 'a', term: a.term + 1 })
      assert.equal(typeof (await upkeep(docket).recoverExpiredLeases(again)), 'number')
    })

    test('release hands leadership over at once, and the next term is higher', async () => {
      const name = uniqueName('lead')
      const a = await upkeep(ctx.docket).leadership.acquire(name, 'a', 60_000)
      assert.ok(a)
      await upkeep(ctx.docket).leadership.release(a)
      const b = await upkeep(await second()).leadership.acquire(name, 'b', 60_000)
      assert.deepEqual(b, { name, holder: 'b', term: a.term + 1 })
      await expectError(() => ctx.docket.workers.markLost(60_000, a), 'LEADERSHIP_LOST')
      // Releasing a term that is over changes nothing.
      await upkeep(ctx.docket).leadership.release(a)
      assert.equal(await upkeep(ctx.docket).leadership.acquire(name, 'a', 60_000), null)
    })

    test('two processes racing for a free leadership: exactly one wins, 20 times', async () => {
      const b = await second()
      for (let i = 0; i < 20; i++) {
        const name = uniqueName('race')
        const [x, y] = await Promise.all([
          upkeep(ctx.docket).leadership.acquire(name, 'a', 10_000),
          upkeep(b).leadership.acquire(name, 'b', 10_000),
        ])
        assert.equal([x, y].filter(Boolean).length, 1, `both or neither won: ${JSON.stringify([x, y])}`)
        assert.equal((x ?? y)!.term, 1)
      }
    })

    test("a deposed leader's recovery, lost-worker marking and retention are refused and change nothing; the new term's go through", async () => {
      const { clocked: docket, clock } = ctx
      const name = uniqueName('lead')
      const queue = await makeQueue(docket, 'lead-fence')
      const done = await docket.add(queue, 'done')
      await docket.workers.complete(await claimOne(docket, queue), 'ok')
      const expired = await docket.add(queue, 'expired')
      const leased = await claimOne(docket, queue, 100)
      assert.equal(leased.id, expired.id)
      const silent = workerId('silent')
      await docket.workers.register({
        id: silent,
        host: 'h',
        pid: 1,
        kind: 'cpu',
        capabilities: [],
        queues: [queue],
        concurrency: 1,
      })
      const stale = await upkeep(docket).leadership.acquire(name, 'a', 100)
      assert.ok(stale)
      clock.advance(PAST_A_SHORT_LEASE_MS)
      const current = await upkeep(await secondClocked()).leadership.acquire(name, 'b', 30_000)
      assert.ok(current)

      await expectError(() => upkeep(docket).recoverExpiredLeases(stale), 'LEADERSHIP_LOST', ["'a'", name])
      await expectError(() => docket.workers.markLost(0, stale), 'LEADERSHIP_LOST')
      await expectError(() => upkeep(docket).cleanup({ olderThanMs: 0, queue }, stale), 'LEADERSHIP_LOST')
      assert.equal(await status(docket, expired.id), 'active', 'the stale recovery moved a job')
      assert.equal((await docket.getJob(expired.id)).lease?.token, leased.lease.token)
      assert.equal((await docket.listWorkers()).find((w) => w.id === silent)?.status, 'up')
      assert.equal(await status(docket, done.id), 'completed', 'the stale cleanup deleted a job')

      const fresh = storeOf(otherClocked)
      assert.ok((await upkeep(otherClocked).recoverExpiredLeases(current)) >= 1)
      assert.equal(await status(docket, expired.id), 'waiting')
      assert.ok((await fresh.markLostWorkers(0, current)).includes(silent))
      assert.equal(await upkeep(otherClocked).cleanup({ olderThanMs: 0, queue }, current), 1)
      await expectError(() => docket.getJob(done.id), 'NOT_FOUND')
    })

    test("every process's pass recovers an expired lease, leader or not: a leader that died holding leadership delays nothing", async () => {
      const { clocked: docket, clock } = ctx
      const b = await secondClocked()
      const queue = await makeQueue(docket, 'sweep')
      const job = await docket.add(queue, 't')
      await claimOne(docket, queue, 200)
      // A leader that will never run another pass, with a minute of leadership left.
      const dead = new Maintenance(docket, { holder: uniqueName('dead-leader'), leadershipTtlMs: 60_000 })
      await waitToLead(dead)
      const follower = new Maintenance(b, { holder: uniqueName('follower') })
      assert.equal(await follower.runOnce(), 'follower')
      assert.equal(await status(docket, job.id), 'active', 'recovered before its lease ran out')
      clock.advance(PAST_A_SHORT_LEASE_MS)
      assert.equal(await follower.runOnce(), 'follower')
      assert.equal(await status(docket, job.id), 'waiting', "the follower's pass did not recover the lease")
      await follower.stop()
      await dead.stop()
    })

    test('Maintenance: one leads, the other follows, and takes over at once when the leader stops', async () => {
      const b = await second()
      const holderA = uniqueName('maint-a')
      const holderB = uniqueName('maint-b')
      // Whoever leads now (another test's Maintenance, or none) must not decide this one.
      const a = new Maintenance(ctx.docket, { holder: holderA, leadershipTtlMs: 10_000 })
      const m = new Maintenance(b, { holder: holderB, leadershipTtlMs: 10_000 })
      await waitToLead(a)
      assert.equal(await m.runOnce(), 'follower')
      assert.equal(await a.runOnce(), 'led')
      await a.stop()
      assert.equal(await m.runOnce(), 'led', 'the follower waited out a released lease')
      await m.stop()
    })

    test('Maintenance: a leader that stalls between renewing and writing ends its pass deposed, writing nothing', async () => {
      const b = await second()
      const stalled = new Maintenance(ctx.docket, { holder: uniqueName('stall'), leadershipTtlMs: 100 })
      const taker = new Maintenance(b, { holder: uniqueName('taker'), leadershipTtlMs: 30_000 })
      await waitToLead(stalled)
      // Stall the next pass right after it renews leadership, as a frozen process would.
      const store = storeOf(ctx.docket)
      const acquire = store.acquireLeadership
      let held: LeaderTerm | null = null
      store.acquireLeadership = async (...args) => {
        held = await acquire.apply(store, args)
        await sleep(PAST_A_SHORT_LEASE_MS)
        return held
      }
      try {
        const pass = stalled.runOnce()
        await sleep(50)
        // Meanwhile its lease runs out and the other process takes over.
        assert.equal(await untilValue(() => taker.runOnce(), 'led'), 'led')
        assert.equal(await pass, 'deposed')
        assert.ok(held, 'the stalled pass had renewed leadership before it stalled')
        store.acquireLeadership = acquire
        assert.equal(await stalled.runOnce(), 'follower', 'the woken leader took leadership back')
      } finally {
        store.acquireLeadership = acquire
        await stalled.stop()
        await taker.stop()
      }
    })
  })
}

/** Runs passes until this one leads (another test's leader may hold a lease for a while). */
async function waitToLead(m: Maintenance): Promise<void> {
  await untilValue(() => m.runOnce(), 'led', 15_000)
}
