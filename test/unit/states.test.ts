import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { DocketError } from '../../src/core/errors.js'
import {
  assertTransition,
  canTransition,
  initialStatus,
  sourcesOf,
  TRANSITIONS,
} from '../../src/core/states.js'
import { JOB_STATUSES } from '../../src/core/types.js'

describe('the job state machine', () => {
  for (const [action, rule] of Object.entries(TRANSITIONS) as [
    keyof typeof TRANSITIONS,
    { from: readonly string[] },
  ][]) {
    it(`${action}: allowed from exactly ${rule.from.join(', ')}`, () => {
      for (const status of JOB_STATUSES) {
        const allowed = rule.from.includes(status)
        assert.equal(canTransition(action, status), allowed, `${action} from ${status}`)
        if (allowed) assert.doesNotThrow(() => assertTransition(action, 'j1', status))
        else {
          assert.throws(
            () => assertTransition(action, 'j1', status),
            (e: unknown) =>
              e instanceof DocketError &&
              e.code === 'INVALID_STATE' &&
              e.details.status === status &&
              e.details.action === action &&
              e.message.includes('j1'),
          )
        }
      }
    })
  }

  it('finished jobs can only be retried (failed, cancelled) or removed', () => {
    for (const status of ['completed', 'failed', 'cancelled'] as const) {
      const actions = Object.keys(TRANSITIONS).filter((a) =>
        canTransition(a as keyof typeof TRANSITIONS, status),
      )
      assert.deepEqual(actions.sort(), status === 'completed' ? ['remove'] : ['remove', 'retry'])
    }
  })

  it('an active job cannot be removed or reprioritised, only finished, released, snoozed or cancelled', () => {
    assert.deepEqual(
      Object.keys(TRANSITIONS)
        .filter((a) => sourcesOf(a as keyof typeof TRANSITIONS).includes('active'))
        .sort(),
      ['cancel', 'complete', 'expire', 'fail', 'release', 'snooze'],
    )
  })

  it('picks the initial state: dependencies, then manual mode, then run-at', () => {
    const now = new Date(1_000_000)
    const later = new Date(2_000_000)
    assert.equal(initialStatus({ pendingDependencies: 1, manual: true, runAt: later, now }), 'blocked')
    assert.equal(initialStatus({ pendingDependencies: 0, manual: true, runAt: later, now }), 'held')
    assert.equal(initialStatus({ pendingDependencies: 0, manual: false, runAt: later, now }), 'scheduled')
    assert.equal(initialStatus({ pendingDependencies: 0, manual: false, runAt: now, now }), 'waiting')
  })
})
