/** The injected clock (core/clock.ts): the system clock, and a TestClock that moves only when told. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { isClock, systemClock, TestClock } from '../../src/core/clock.js'

describe('clock', () => {
  it('the system clock reads the process time', () => {
    const before = Date.now()
    const read = systemClock.now().getTime()
    assert.ok(read >= before && read <= Date.now())
  })

  it('a TestClock stands still until moved, and starts where it is told', () => {
    const clock = new TestClock(Date.UTC(2030, 0, 1))
    const first = clock.now()
    assert.equal(first.toISOString(), '2030-01-01T00:00:00.000Z')
    assert.equal(clock.now().getTime(), first.getTime(), 'no time passes by itself')
    assert.equal(new TestClock(new Date(5)).now().getTime(), 5)
  })

  it('advance moves forward (or back, when negative) and returns the new time; set jumps', () => {
    const clock = new TestClock(1_000)
    assert.equal(clock.advance(500).getTime(), 1_500)
    assert.equal(clock.advance(-200).getTime(), 1_300)
    assert.equal(clock.set(new Date(9_000)).getTime(), 9_000)
    assert.equal(clock.set(42).getTime(), 42)
    assert.equal(clock.now().getTime(), 42)
  })

  it('hands out a fresh Date each time, so a caller cannot move it by mutating one', () => {
    const clock = new TestClock(1_000)
    clock.now().setTime(0)
    assert.equal(clock.now().getTime(), 1_000)
  })

  it('tells a clock from something that is not one', () => {
    assert.ok(isClock(systemClock))
    assert.ok(isClock(new TestClock()))
    for (const notOne of [null, undefined, 1, 'now', {}, { now: 5 }]) assert.equal(isClock(notOne), false)
  })
})
