import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { backoffDelay, DEFAULT_BACKOFF, decideExpiry, decideFailure } from '../../src/core/backoff.js'
import type { BackoffPolicy } from '../../src/core/types.js'

const exp: BackoffPolicy = { type: 'exponential', delayMs: 100, maxDelayMs: 1_000, jitter: 0 }

describe('backoff', () => {
  it('fixed waits the same every time', () => {
    const fixed: BackoffPolicy = { ...exp, type: 'fixed' }
    assert.deepEqual(
      [1, 2, 5].map((a) => backoffDelay(fixed, a)),
      [100, 100, 100],
    )
  })

  it('exponential doubles from the base and stops at the cap', () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5, 10].map((a) => backoffDelay(exp, a)),
      [100, 200, 400, 800, 1000, 1000],
    )
  })

  it('jitter takes up to its fraction off, never adds', () => {
    const j: BackoffPolicy = { ...exp, jitter: 0.5 }
    assert.equal(
      backoffDelay(j, 1, () => 0),
      100,
    )
    assert.equal(
      backoffDelay(j, 1, () => 0.999999),
      50,
    )
    for (let i = 0; i < 200; i++) {
      const d = backoffDelay(j, 3)
      assert.ok(d >= 200 && d <= 400, `${d}`)
    }
  })

  it('the defaults are exponential from 1 s, capped at an hour, with 20% jitter', () => {
    assert.deepEqual(DEFAULT_BACKOFF, {
      type: 'exponential',
      delayMs: 1000,
      maxDelayMs: 3_600_000,
      jitter: 0.2,
    })
    assert.equal(
      backoffDelay(DEFAULT_BACKOFF, 30, () => 0),
      3_600_000,
    )
  })
})

describe('failure decisions', () => {
  const now = new Date(10_000)
  it('retries after the backoff while attempts remain', () => {
    assert.deepEqual(
      decideFailure({ attempts: 1, maxAttempts: 3, backoff: exp }, true, now, () => 0),
      {
        status: 'scheduled',
        runAt: new Date(10_100),
      },
    )
    assert.deepEqual(
      decideFailure({ attempts: 2, maxAttempts: 3, backoff: exp }, true, now, () => 0),
      {
        status: 'scheduled',
        runAt: new Date(10_200),
      },
    )
  })

  it('fails for good after the last attempt, or at once when not retryable', () => {
    assert.deepEqual(decideFailure({ attempts: 3, maxAttempts: 3, backoff: exp }, true, now), {
      status: 'failed',
      runAt: null,
    })
    assert.deepEqual(decideFailure({ attempts: 1, maxAttempts: 3, backoff: exp }, false, now), {
      status: 'failed',
      runAt: null,
    })
  })

  it('an expired lease goes back to waiting, unless it was the last attempt', () => {
    assert.equal(decideExpiry({ attempts: 1, maxAttempts: 2 }), 'waiting')
    assert.equal(decideExpiry({ attempts: 2, maxAttempts: 2 }), 'failed')
  })
})
