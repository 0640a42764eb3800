/** Why a lease is no longer held (core/leases.ts), told only to the holder of a token the job had. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { attemptError } from '../../src/core/attempts.js'
import {
  explainLeaseLost,
  LEASE_LOST_REASONS,
  type LeaseMemory,
  leaseExpiredError,
  leaseGone,
  leaseHeld,
  leaseLostReason,
} from '../../src/core/leases.js'

const job = (patch: Partial<LeaseMemory> = {}): LeaseMemory => ({
  status: 'waiting',
  attempts: 1,
  leaseToken: null,
  endedToken: 'tok-1',
  endedReason: 'released',
  endedAttempt: 1,
  ...patch,
})

describe('leases', () => {
  it('a job that does not exist is deleted', () => {
    assert.equal(leaseLostReason(null, 'tok-1'), 'deleted')
  })

  it('a token the job never had gets the same answer as a job that does not exist', () => {
    assert.equal(leaseLostReason(job(), 'tok-other'), 'deleted')
    assert.equal(leaseLostReason(job({ status: 'active', leaseToken: 'tok-2' }), 'tok-1x'), 'deleted')
  })

  it('the current lease of an active job whose time ran out, before recovery ran, is expired', () => {
    assert.equal(leaseLostReason(job({ status: 'active', leaseToken: 'tok-1' }), 'tok-1'), 'expired')
  })

  it('a lease that ended says how: the job remembers its last one', () => {
    for (const reason of ['cancelled', 'expired', 'released', 'snoozed', 'completed', 'failed'] as const)
      assert.equal(leaseLostReason(job({ endedReason: reason }), 'tok-1'), reason)
  })

  it('a lease ended and claimed again since (more attempts now) was taken over', () => {
    assert.equal(
      leaseLostReason(job({ status: 'active', leaseToken: 'tok-2', attempts: 2 }), 'tok-1'),
      'taken-over',
    )
  })

  it('an ending it does not know reads as deleted, never as something made up', () => {
    assert.equal(leaseLostReason(job({ endedReason: 'vanished' }), 'tok-1'), 'deleted')
    assert.equal(leaseLostReason(job({ endedReason: null }), 'tok-1'), 'deleted')
  })

  it('explains every reason in words, and shapes the outcomes of a lease call', () => {
    for (const reason of LEASE_LOST_REASONS) assert.ok(explainLeaseLost(reason).length > 10, reason)
    assert.deepEqual(leaseHeld('j'), { id: 'j', ok: true })
    assert.deepEqual(leaseGone('j', 'expired'), { id: 'j', ok: false, code: 'LEASE_LOST', reason: 'expired' })
  })

  it('records a retryable LeaseExpired error naming the worker that stopped heartbeating', () => {
    const at = new Date(Date.UTC(2030, 0, 1))
    assert.deepEqual(leaseExpiredError('w-1', 3, at), {
      message: 'lease expired: worker w-1 stopped heartbeating',
      name: 'LeaseExpired',
      stack: null,
      fingerprint: leaseExpiredError('host-b', 1, at).fingerprint,
      attempt: 3,
      at,
      retryable: true,
    })
    assert.match(leaseExpiredError(null, 1, at).message, /worker unknown/)
    assert.match(leaseExpiredError(null, 1, at).fingerprint, /^[0-9a-f]{12}$/)
    // Whichever worker it was, one class, and its attempt's error the same.
    assert.equal(
      attemptError(leaseExpiredError('w-1', 3, at)).fingerprint,
      leaseExpiredError(null, 1, at).fingerprint,
    )
  })
})
