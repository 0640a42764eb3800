/** A rate limit's state (core/rate-limits.ts): full or not, when it has room again, and Retry-After. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { rateLimitUse, retryAfterSeconds } from '../../src/core/rate-limits.js'

const NOW = new Date(Date.UTC(2030, 0, 1))

describe('rate-limits', () => {
  it('has room while the window holds fewer starts than the limit: no next slot', () => {
    assert.deepEqual(rateLimitUse({ max: 10, intervalMs: 1_000 }, { used: 3, waitMs: null }, NOW), {
      used: 3,
      max: 10,
      intervalMs: 1_000,
      full: false,
      nextSlotAt: null,
    })
  })

  it('is full at the limit, with room again after the wait the driver counted', () => {
    const use = rateLimitUse({ max: 10, intervalMs: 1_000 }, { used: 10, waitMs: 250 }, NOW)
    assert.equal(use.full, true)
    assert.equal(use.nextSlotAt?.getTime(), NOW.getTime() + 250)
  })

  it('is full above a lowered limit too', () => {
    assert.equal(rateLimitUse({ max: 2, intervalMs: 1_000 }, { used: 5, waitMs: 10 }, NOW).full, true)
  })

  it('names a limit per group as such, and not a plain one', () => {
    assert.equal(
      rateLimitUse({ max: 1, intervalMs: 1, per: 'group' }, { used: 0, waitMs: null }, NOW).per,
      'group',
    )
    assert.equal('per' in rateLimitUse({ max: 1, intervalMs: 1 }, { used: 0, waitMs: null }, NOW), false)
  })

  it('Retry-After is whole seconds, rounded up, never 0 while a wait remains', () => {
    assert.equal(retryAfterSeconds(1), 1)
    assert.equal(retryAfterSeconds(0), 1)
    assert.equal(retryAfterSeconds(1_000), 1)
    assert.equal(retryAfterSeconds(1_001), 2)
    assert.equal(retryAfterSeconds(59_500), 60)
  })
})
