/** Expiry's pure rules: when a new job expires, which input is refused, what an expired job becomes. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { decideJobExpiry, EXPIRED_ERROR_NAME, isExpired, resolveExpiry } from '../../src/core/expiry.js'
import { windowStats } from '../../src/core/stats.js'
import { expectDocketError } from './expect-error.js'

const NOW = 1_900_000_000_000

describe('expiry', () => {
  it('resolves expiresAt as given and expiresInMs from now; none means never', () => {
    assert.equal(resolveExpiry({ expiresAt: new Date(NOW + 10), expiresInMs: null }, NOW, NOW), NOW + 10)
    assert.equal(resolveExpiry({ expiresAt: null, expiresInMs: 500 }, NOW, NOW), NOW + 500)
    assert.equal(resolveExpiry({ expiresAt: null, expiresInMs: null }, NOW + 99, NOW), null)
  })

  it('refuses an expiry already passed, or not after the run-at time, naming the field', () => {
    expectDocketError(
      () => resolveExpiry({ expiresAt: new Date(NOW), expiresInMs: null }, NOW, NOW),
      'INVALID_ARGUMENT',
      'expiresAt',
    )
    expectDocketError(
      () => resolveExpiry({ expiresAt: null, expiresInMs: 1000 }, NOW + 1000, NOW),
      'INVALID_ARGUMENT',
      'expiresInMs',
      'run-at',
    )
    expectDocketError(
      () => resolveExpiry({ expiresAt: new Date(NOW - 1), expiresInMs: null }, NOW, NOW, 'jobs.3'),
      'INVALID_ARGUMENT',
      'jobs.3.expiresAt',
    )
  })

  it('a job is expired from its expiry on', () => {
    assert.equal(isExpired(null, NOW), false)
    assert.equal(isExpired(NOW + 1, NOW), false)
    assert.equal(isExpired(NOW, NOW), true)
  })

  it('an expired job fails for good, on the attempt that would have run', () => {
    const d = decideJobExpiry({ attempts: 2, expiresAt: new Date(NOW) }, new Date(NOW + 5))
    assert.equal(d.status, 'failed')
    assert.equal(d.attempt, 3)
    assert.equal(d.error.name, EXPIRED_ERROR_NAME)
    assert.equal(d.error.retryable, false)
    assert.equal(d.attemptError.message, d.error.message)
  })

  it('statistics count expired jobs among the failed', () => {
    const row = (expired: boolean) => ({
      status: 'failed' as const,
      createdAt: NOW - 100,
      startedAt: null,
      finishedAt: NOW - 10,
      durationMs: null,
      expired,
    })
    const w = windowStats([row(true), row(false), row(true)], NOW, 3_600_000, 60_000)
    assert.equal(w.failed, 3)
    assert.equal(w.expired, 2)
  })
})
