/**
 * On SQLite, lease times come from each process's own clock. Two stores on
 * one file with clocks set apart stand for two processes whose clocks
 * disagree: a lease or a leadership another process set is taken over only
 * CLOCK_SKEW_TOLERANCE_MS after its expiry, and a holder's own fence ends at
 * the expiry by its own clock.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { Docket, isDocketError } from '../../src/index.js'
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

  it("a job's lease: a maintenance pass recovers it only the tolerance after it expired; an explicit call at its expiry", async () => {
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
})
