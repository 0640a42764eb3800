/** Snooze and retry-after (core/snooze.ts): the delay's bounds, and where a snoozed job goes. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { checkDelay, decideSnooze, MAX_DELAY_MS, snoozeMessage } from '../../src/core/snooze.js'
import { RetryAfterError } from '../../src/index.js'
import { expectDocketError, issuePaths } from './expect-error.js'

const NOW = new Date(Date.UTC(2030, 0, 1))

describe('snooze', () => {
  it('takes a whole number of milliseconds from 0 to ten years', () => {
    for (const ms of [0, 1, 60_000, MAX_DELAY_MS]) assert.equal(checkDelay(ms, 'delayMs'), ms)
    assert.equal(MAX_DELAY_MS, 10 * 365 * 24 * 3600 * 1000)
  })

  it('refuses anything else, naming the field', () => {
    for (const bad of [
      -1,
      1.5,
      MAX_DELAY_MS + 1,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      '10',
      null,
      undefined,
    ]) {
      const error = expectDocketError(
        () => checkDelay(bad, 'snooze.delayMs'),
        'INVALID_ARGUMENT',
        'snooze.delayMs',
      )
      assert.deepEqual(issuePaths(error), ['snooze.delayMs'])
    }
  })

  it('a snooze of 0 puts the job back to waiting now; a longer one schedules it', () => {
    assert.deepEqual(decideSnooze(NOW, 0), { status: 'waiting', runAt: NOW })
    assert.deepEqual(decideSnooze(NOW, 30_000), {
      status: 'scheduled',
      runAt: new Date(NOW.getTime() + 30_000),
    })
  })

  it('says in the event that the attempt was not counted', () => {
    assert.equal(snoozeMessage(500), 'snoozed for 500 ms; the attempt is not counted')
  })
})

describe('retry-after', () => {
  it('RetryAfterError carries its delay, and refuses a bad one', () => {
    const e = new RetryAfterError(30_000)
    assert.equal(e.retryInMs, 30_000)
    assert.equal(e.name, 'RetryAfterError')
    assert.ok(e instanceof Error)
    expectDocketError(() => new RetryAfterError(-5), 'INVALID_ARGUMENT', 'retryInMs')
  })
})
