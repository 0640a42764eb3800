/** Backoff and the failure and expiry decisions (core/backoff.ts). */
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

const exponential: BackoffPolicy = { type: 'exponential', delayMs: 100, maxDelayMs: 10_000, jitter: 0 }
const fixed: BackoffPolicy = { type: 'fixed', delayMs: 250, maxDelayMs: 10_000, jitter: 0 }
/** A random source that always returns `value`. */
const constant = (value: number) => () => value

describe('DEFAULT_BACKOFF', () => {
  it('is exponential from one second, capped at one hour, with 20% jitter', () => {
    assert.deepEqual(DEFAULT_BACKOFF, {
      type: 'exponential',
      delayMs: 1_000,
      maxDelayMs: 3_600_000,
      jitter: 0.2,
    })
  })
})

describe('backoffDelay: fixed', () => {
  it('waits delayMs after every attempt', () => {
    for (const attempt of [0, 1, 2, 3, 10, 100, 1000]) {
      assert.equal(backoffDelay(fixed, attempt, constant(0)), 250, `attempt ${attempt}`)
    }
  })

  it('is still capped by maxDelayMs', () => {
    assert.equal(backoffDelay({ ...fixed, delayMs: 5_000, maxDelayMs: 1_000 }, 1, constant(0)), 1_000)
  })

  it('a zero delay retries at once', () => {
    assert.equal(backoffDelay({ ...fixed, delayMs: 0 }, 5, constant(0)), 0)
  })
})

describe('backoffDelay: exponential', () => {
  it('doubles from delayMs: delayMs * 2^(attempt - 1)', () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6].map((a) => backoffDelay(exponential, a, constant(0))),
      [100, 200, 400, 800, 1_600, 3_200],
    )
  })

  it('treats attempt 0 (and below) like attempt 1', () => {
    assert.equal(backoffDelay(exponential, 0, constant(0)), 100)
    assert.equal(backoffDelay(exponential, -3, constant(0)), 100)
  })

  it('stops growing at maxDelayMs, even when the cap is not a power-of-two multiple', () => {
    const policy = { ...exponential, maxDelayMs: 750 }
    assert.deepEqual(
      [1, 2, 3, 4, 5, 20].map((a) => backoffDelay(policy, a, constant(0))),
      [100, 200, 400, 750, 750, 750],
    )
  })

  it('reaches the cap exactly when a doubling lands on it', () => {
    const policy = { ...exponential, maxDelayMs: 800 }
    assert.equal(backoffDelay(policy, 4, constant(0)), 800)
    assert.equal(backoffDelay(policy, 5, constant(0)), 800)
  })

  it('stays finite and capped at the largest allowed attempt count', () => {
    for (const attempt of [100, 999, 1000]) {
      assert.equal(backoffDelay(DEFAULT_BACKOFF, attempt, constant(0)), 3_600_000, `attempt ${attempt}`)
    }
    const huge = { ...exponential, delayMs: 10 * 365 * 24 * 3_600_000, maxDelayMs: 10 * 365 * 24 * 3_600_000 }
    assert.equal(backoffDelay(huge, 1000, constant(0)), huge.maxDelayMs)
  })

  it('a zero base delay stays zero however many attempts', () => {
    const zero = { ...exponential, delayMs: 0 }
    for (const attempt of [1, 10, 1000]) assert.equal(backoffDelay(zero, attempt, constant(0)), 0)
  })

  it('a cap below the base delay wins', () => {
    assert.equal(backoffDelay({ ...exponential, delayMs: 500, maxDelayMs: 300 }, 1, constant(0)), 300)
  })
})

describe('backoffDelay: jitter', () => {
  it('takes off jitter * random() of the delay, never adds', () => {
    const policy = { ...exponential, jitter: 0.5 }
    assert.equal(backoffDelay(policy, 3, constant(0)), 400)
    assert.equal(backoffDelay(policy, 3, constant(0.5)), 300)
    assert.equal(backoffDelay(policy, 3, constant(0.25)), 350)
    assert.equal(backoffDelay(policy, 3, constant(0.999_999)), 200)
  })

  it('applies after the cap', () => {
    const policy = { ...exponential, maxDelayMs: 1_000, jitter: 0.1 }
    assert.equal(backoffDelay(policy, 20, constant(0.5)), 950)
  })

  it('jitter 0 ignores the random source', () => {
    for (const r of [0, 0.3, 0.999]) assert.equal(backoffDelay(exponential, 2, constant(r)), 200)
  })

  it('jitter 1 can bring the delay down to (almost) zero but not below', () => {
    const policy = { ...exponential, jitter: 1 }
    assert.equal(backoffDelay(policy, 1, constant(0.999_999)), 0)
    assert.equal(backoffDelay(policy, 1, constant(0.5)), 50)
  })

  it('stays within [delay * (1 - jitter), delay] and whole across the whole random range', () => {
    for (const policy of [
      { ...exponential, jitter: 0.2 },
      { ...exponential, jitter: 0.75 },
      { ...fixed, jitter: 0.3 },
      { ...DEFAULT_BACKOFF },
    ]) {
      for (const attempt of [1, 2, 5, 30]) {
        const full = backoffDelay({ ...policy, jitter: 0 }, attempt, constant(0))
        for (let i = 0; i < 100; i++) {
          const r = i / 100
          const d = backoffDelay(policy, attempt, constant(r))
          assert.ok(Number.isInteger(d), `${d} is not whole`)
          assert.ok(d <= full, `${d} > ${full}`)
          assert.ok(d >= Math.floor(full * (1 - policy.jitter)), `${d} < ${full} * (1 - ${policy.jitter})`)
        }
      }
    }
  })

  it('rounds to whole milliseconds', () => {
    assert.equal(backoffDelay({ ...fixed, delayMs: 3, jitter: 0.5 }, 1, constant(0.5)), 2)
    assert.equal(backoffDelay({ ...fixed, delayMs: 7, jitter: 0.1 }, 1, constant(0.5)), 7)
  })

  it('uses Math.random when no source is given, staying in bounds', () => {
    const policy = { ...exponential, jitter: 0.5 }
    const seen = new Set<number>()
    for (let i = 0; i < 300; i++) {
      const d = backoffDelay(policy, 4, undefined)
      assert.ok(d >= 400 && d <= 800, `${d}`)
      seen.add(d)
    }
    assert.ok(seen.size > 1, 'jitter should spread delays')
  })
})

describe('decideFailure', () => {
  const now = new Date('2030-06-01T12:00:00.000Z')
  const job = (attempts: number, maxAttempts: number, backoff: BackoffPolicy = exponential) => ({
    attempts,
    maxAttempts,
    backoff,
  })

  it('a non-retryable failure is final at once, whatever attempts remain', () => {
    assert.deepEqual(decideFailure(job(1, 10), false, now, constant(0)), { status: 'failed', runAt: null })
  })

  it('the last attempt failing is final', () => {
    assert.deepEqual(decideFailure(job(3, 3), true, now, constant(0)), { status: 'failed', runAt: null })
    assert.deepEqual(decideFailure(job(1, 1), true, now, constant(0)), { status: 'failed', runAt: null })
  })

  it('more attempts than allowed (e.g. maxAttempts lowered since) is final too', () => {
    assert.deepEqual(decideFailure(job(5, 3), true, now, constant(0)), { status: 'failed', runAt: null })
  })

  it('retryInMs replaces the backoff for this retry, but never adds an attempt', () => {
    assert.deepEqual(decideFailure(job(4, 5), true, now, constant(0), 42_000), {
      status: 'scheduled',
      runAt: new Date(now.getTime() + 42_000),
    })
    assert.deepEqual(decideFailure(job(1, 5), true, now, constant(0), 0), { status: 'scheduled', runAt: now })
    assert.deepEqual(decideFailure(job(5, 5), true, now, constant(0), 1000), {
      status: 'failed',
      runAt: null,
    })
    assert.deepEqual(decideFailure(job(1, 5), false, now, constant(0), 1000), {
      status: 'failed',
      runAt: null,
    })
  })

  it('otherwise schedules the next attempt at now + the backoff for this attempt', () => {
    assert.deepEqual(decideFailure(job(1, 5), true, now, constant(0)), {
      status: 'scheduled',
      runAt: new Date(now.getTime() + 100),
    })
    assert.deepEqual(decideFailure(job(4, 5), true, now, constant(0)), {
      status: 'scheduled',
      runAt: new Date(now.getTime() + 800),
    })
  })

  it('the delay is exactly backoffDelay(backoff, attempts, random)', () => {
    const policy: BackoffPolicy = { type: 'exponential', delayMs: 1_000, maxDelayMs: 60_000, jitter: 0.5 }
    for (const attempts of [1, 2, 3, 7]) {
      for (const r of [0, 0.5, 0.9]) {
        const decision = decideFailure(job(attempts, 10, policy), true, now, constant(r))
        assert.equal(decision.status, 'scheduled')
        assert.equal(
          decision.runAt?.getTime(),
          now.getTime() + backoffDelay(policy, attempts, constant(r)),
          `attempts ${attempts}, random ${r}`,
        )
      }
    }
    // Spelled out once: attempt 3 -> 4000 ms, half the jitter off -> 3000 ms.
    assert.equal(
      decideFailure(job(3, 10, policy), true, now, constant(0.5)).runAt?.getTime(),
      now.getTime() + 3_000,
    )
  })

  it('follows a fixed policy', () => {
    const decision = decideFailure(job(2, 3, fixed), true, now, constant(0))
    assert.deepEqual(decision, { status: 'scheduled', runAt: new Date(now.getTime() + 250) })
  })

  it('does not change the clock it is given', () => {
    const clock = new Date(now)
    decideFailure(job(1, 3), true, clock, constant(0))
    assert.equal(clock.getTime(), now.getTime())
  })

  it('uses Math.random when no source is given', () => {
    const policy = { ...exponential, jitter: 0.5 }
    const d = decideFailure(job(1, 3, policy), true, now)
    assert.equal(d.status, 'scheduled')
    const delay = (d.runAt?.getTime() ?? Number.NaN) - now.getTime()
    assert.ok(delay >= 50 && delay <= 100, `${delay}`)
  })
})

describe('decideExpiry', () => {
  it('goes back to waiting while attempts remain', () => {
    assert.equal(decideExpiry({ attempts: 1, maxAttempts: 3 }), 'waiting')
    assert.equal(decideExpiry({ attempts: 2, maxAttempts: 3 }), 'waiting')
  })

  it('fails once the expired attempt was the last (or beyond)', () => {
    assert.equal(decideExpiry({ attempts: 3, maxAttempts: 3 }), 'failed')
    assert.equal(decideExpiry({ attempts: 1, maxAttempts: 1 }), 'failed')
    assert.equal(decideExpiry({ attempts: 4, maxAttempts: 3 }), 'failed')
  })
})
