/** Leases judged by elapsed time (core/lease-watch.ts), and the TestClock's elapsed time (core/clock.ts). */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { elapsedMsOf, systemClock, TestClock } from '../../src/core/clock.js'
import { LeaseWatch, OwnLeases } from '../../src/core/lease-watch.js'

const lease = (id: string, state: string, leaseMs = 1_000) => ({ id, state, leaseMs })

describe('LeaseWatch', () => {
  it('a lease is stale once seen unchanged for its length plus the tolerance, counted from when it was first seen', () => {
    const watch = new LeaseWatch()
    assert.deepEqual(watch.observe([lease('a', 't/0')], 5_000, 100), { stale: [], nextInMs: 1_100 })
    assert.deepEqual(watch.observe([lease('a', 't/0')], 6_099, 100), { stale: [], nextInMs: 1 })
    assert.deepEqual(watch.observe([lease('a', 't/0')], 6_100, 100).stale, [lease('a', 't/0')])
  })

  it('every change (a heartbeat, a new claim) starts the count again', () => {
    const watch = new LeaseWatch()
    watch.observe([lease('a', 't/0')], 0, 100)
    assert.deepEqual(watch.observe([lease('a', 't/1')], 1_000, 100).stale, [])
    assert.deepEqual(watch.observe([lease('a', 't/1')], 2_000, 100).stale, [])
    assert.equal(watch.observe([lease('a', 't/1')], 2_100, 100).stale.length, 1)
    assert.deepEqual(watch.observe([lease('a', 'u/0')], 2_100, 100).stale, [])
  })

  it('forgets a lease no longer active, so one that comes back is counted afresh', () => {
    const watch = new LeaseWatch()
    watch.observe([lease('a', 't/0')], 0, 0)
    watch.observe([], 500, 0)
    assert.deepEqual(watch.observe([lease('a', 't/0')], 1_000, 0), { stale: [], nextInMs: 1_000 })
  })

  it('says when the next watched lease would run out (null: none)', () => {
    const watch = new LeaseWatch()
    assert.equal(watch.observe([], 0, 100).nextInMs, null)
    const seen = watch.observe([lease('a', 'x', 5_000), lease('b', 'y', 300)], 0, 100)
    assert.equal(seen.nextInMs, 400)
  })
})

describe('OwnLeases', () => {
  it('holds a lease it granted until its length has elapsed, for that token only', () => {
    const own = new OwnLeases()
    own.granted('a', 't', 1_000, 10)
    assert.equal(own.holds('a', 't', 1_009), true)
    assert.equal(own.holds('a', 't', 1_010), false)
    assert.equal(own.holds('a', 'other', 500), false)
    own.granted('a', 't', 1_000, 900)
    assert.equal(own.holds('a', 't', 1_500), true, 'an extension counts from when it was made')
    own.ended('a')
    assert.equal(own.holds('a', 't', 1_500), false)
  })

  it('prune forgets leases past their time', () => {
    const own = new OwnLeases()
    own.granted('a', 't', 100, 0)
    own.granted('b', 't', 10_000, 0)
    own.prune(200)
    assert.equal(own.holds('b', 't', 200), true)
    assert.equal(own.holds('a', 't', 50), false, 'forgotten')
  })
})

describe("a clock's elapsed time", () => {
  it('a TestClock: advance is time passing, set is the clock being set (a step: no time passes)', () => {
    const clock = new TestClock(1_000)
    clock.advance(500)
    assert.equal(clock.elapsedMs(), 500)
    clock.set(1_000_000)
    assert.equal(clock.elapsedMs(), 500)
    clock.advance(-200)
    assert.equal(clock.elapsedMs(), 500, 'setting the clock back is no time passing')
    assert.equal(clock.now().getTime(), 999_800)
  })

  it('the system clock counts monotonic time; a clock without one stands in with its time', () => {
    const read = elapsedMsOf(systemClock)
    const a = read()
    assert.ok(read() >= a)
    const fixed = { now: () => new Date(42) }
    assert.equal(elapsedMsOf(fixed)(), 42)
  })
})
