/**
 * The job state machine (core/states.ts): checked against a table written
 * out here from the documented diagram in src/core/states.ts, so a change to
 * TRANSITIONS that the documentation does not share fails a test; then each
 * action's sources, one status at a time.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { decideExpiry, decideFailure } from '../../src/core/backoff.js'
import { DocketError } from '../../src/core/errors.js'
import {
  assertTransition,
  canTransition,
  decideRetry,
  initialStatus,
  type JobAction,
  sourcesOf,
  TRANSITIONS,
} from '../../src/core/states.js'
import { FINAL_STATUSES, JOB_STATUSES, type JobStatus, LIVE_STATUSES } from '../../src/core/types.js'
import { thrownBy } from './expect-error.js'

const EXPECTED: Record<JobAction, { from: JobStatus[]; to: JobStatus[] }> = {
  claim: { from: ['waiting', 'scheduled'], to: ['active'] },
  complete: { from: ['active'], to: ['completed'] },
  fail: { from: ['active'], to: ['scheduled', 'failed'] },
  expire: { from: ['active'], to: ['waiting', 'failed'] },
  release: { from: ['active'], to: ['waiting'] },
  snooze: { from: ['active'], to: ['waiting', 'scheduled'] },
  cancel: { from: ['waiting', 'scheduled', 'blocked', 'held', 'active'], to: ['cancelled'] },
  retry: { from: ['failed', 'cancelled'], to: ['waiting', 'held', 'blocked'] },
  promote: { from: ['held', 'scheduled'], to: ['waiting'] },
  unblock: { from: ['blocked'], to: ['waiting', 'scheduled', 'held'] },
  depfail: { from: ['blocked'], to: ['failed'] },
  reprioritise: {
    from: ['waiting', 'scheduled', 'blocked', 'held'],
    to: ['waiting', 'scheduled', 'blocked', 'held'],
  },
  remove: {
    from: ['waiting', 'scheduled', 'blocked', 'held', 'completed', 'failed', 'cancelled'],
    to: [],
  },
}

const ACTIONS = Object.keys(EXPECTED) as JobAction[]
const sorted = (list: readonly string[]) => [...list].sort()

describe('TRANSITIONS', () => {
  it('has exactly the documented actions', () => {
    assert.deepEqual(sorted(Object.keys(TRANSITIONS)), sorted(ACTIONS))
  })

  it('every source and target is a known status, listed once', () => {
    for (const action of ACTIONS) {
      for (const list of [TRANSITIONS[action].from, TRANSITIONS[action].to]) {
        for (const s of list) assert.ok((JOB_STATUSES as readonly string[]).includes(s), `${action}: ${s}`)
        assert.equal(new Set(list).size, list.length, `${action} lists a status twice`)
      }
    }
  })

  for (const action of ACTIONS) {
    const { from, to } = EXPECTED[action]
    describe(action, () => {
      it(`sources are exactly ${from.join(', ')}; targets ${to.join(', ') || '(none: deleted)'}`, () => {
        assert.deepEqual(sorted(sourcesOf(action)), sorted(from))
        assert.deepEqual(sorted(TRANSITIONS[action].to), sorted(to))
      })

      for (const status of from) {
        it(`is allowed from ${status}`, () => {
          assert.equal(canTransition(action, status), true)
          assert.equal(assertTransition(action, 'job-1', status), undefined)
        })
      }

      for (const status of JOB_STATUSES.filter((s) => !from.includes(s))) {
        it(`is refused from ${status} with INVALID_STATE and details`, () => {
          assert.equal(canTransition(action, status), false)
          const error = thrownBy(() => assertTransition(action, 'job-1', status))
          assert.ok(error instanceof DocketError)
          assert.equal(error.code, 'INVALID_STATE')
          assert.equal(error.httpStatus, 409)
          assert.deepEqual(error.details, {
            jobId: 'job-1',
            status,
            action,
            allowedFrom: [...TRANSITIONS[action].from],
          })
          assert.match(error.message, new RegExp(`cannot ${action} job 'job-1': it is ${status}`))
          for (const s of from) assert.ok(error.message.includes(s), `message names ${s}: ${error.message}`)
        })
      }
    })
  }

  it('the allowedFrom in an error is a copy: changing it does not change the rules', () => {
    const error = thrownBy(() => assertTransition('claim', 'j', 'active'))
    assert.ok(error instanceof DocketError)
    ;(error.details.allowedFrom as string[]).push('active')
    assert.equal(canTransition('claim', 'active'), false)
    assert.deepEqual(sorted(sourcesOf('claim')), ['scheduled', 'waiting'])
  })

  it('a final job can only be retried (failed, cancelled) or removed', () => {
    const from = (status: JobStatus) => ACTIONS.filter((a) => canTransition(a, status)).sort()
    assert.deepEqual(from('completed'), ['remove'])
    assert.deepEqual(from('failed'), ['remove', 'retry'])
    assert.deepEqual(from('cancelled'), ['remove', 'retry'])
  })

  it('an active job can be finished, released, snoozed or cancelled, but never removed or reprioritised', () => {
    assert.deepEqual(ACTIONS.filter((a) => canTransition(a, 'active')).sort(), [
      'cancel',
      'complete',
      'expire',
      'fail',
      'release',
      'snooze',
    ])
  })

  it('every live job can be cancelled, and no finished one', () => {
    for (const s of LIVE_STATUSES) assert.equal(canTransition('cancel', s), true, s)
    for (const s of FINAL_STATUSES) assert.equal(canTransition('cancel', s), false, s)
  })

  it('live and final statuses partition all statuses', () => {
    assert.deepEqual(sorted([...LIVE_STATUSES, ...FINAL_STATUSES]), sorted(JOB_STATUSES))
    for (const s of LIVE_STATUSES) assert.equal(FINAL_STATUSES.includes(s), false, s)
  })
})

describe('initialStatus', () => {
  const now = new Date('2030-01-01T00:00:00Z')
  const past = new Date(now.getTime() - 60_000)
  const future = new Date(now.getTime() + 60_000)

  it('blocked wins over everything while dependencies are pending', () => {
    for (const manual of [true, false]) {
      for (const runAt of [past, now, future]) {
        for (const pendingDependencies of [1, 7]) {
          assert.equal(initialStatus({ pendingDependencies, manual, runAt, now }), 'blocked')
        }
      }
    }
  })

  it('held (manual queue) comes next, whatever the run-at', () => {
    for (const runAt of [past, now, future]) {
      assert.equal(initialStatus({ pendingDependencies: 0, manual: true, runAt, now }), 'held')
    }
  })

  it('then scheduled for a future run-at, else waiting', () => {
    assert.equal(initialStatus({ pendingDependencies: 0, manual: false, runAt: future, now }), 'scheduled')
    assert.equal(initialStatus({ pendingDependencies: 0, manual: false, runAt: past, now }), 'waiting')
  })

  it('a run-at exactly now is waiting; one millisecond later is scheduled', () => {
    assert.equal(
      initialStatus({ pendingDependencies: 0, manual: false, runAt: new Date(now), now }),
      'waiting',
    )
    const next = new Date(now.getTime() + 1)
    assert.equal(initialStatus({ pendingDependencies: 0, manual: false, runAt: next, now }), 'scheduled')
  })

  it('only ever yields states that add and unblock may enter', () => {
    const allowed = new Set<JobStatus>([...TRANSITIONS.unblock.to, 'blocked'])
    for (const pendingDependencies of [0, 1]) {
      for (const manual of [true, false]) {
        for (const runAt of [past, future]) {
          const s = initialStatus({ pendingDependencies, manual, runAt, now })
          assert.ok(allowed.has(s), s)
          if (pendingDependencies === 0) assert.ok((TRANSITIONS.unblock.to as readonly string[]).includes(s))
        }
      }
    }
  })
})

describe('decideRetry', () => {
  it('goes back to waiting, or to held in a manual queue', () => {
    assert.deepEqual(decideRetry('j', [], false), { status: 'waiting', pendingDependencies: 0 })
    assert.deepEqual(decideRetry('j', [], true), { status: 'held', pendingDependencies: 0 })
  })

  it('is blocked again while dependencies are unfinished, whatever the mode', () => {
    const unfinished = [
      { id: 'a', status: 'active' as const },
      { id: 'b', status: 'waiting' as const },
    ]
    for (const manual of [true, false]) {
      assert.deepEqual(decideRetry('j', unfinished, manual), { status: 'blocked', pendingDependencies: 2 })
    }
  })

  it('is refused (CONFLICT, naming the dependency) while a dependency failed or was cancelled', () => {
    for (const status of ['failed', 'cancelled'] as const) {
      const error = thrownBy(() => decideRetry('j', [{ id: 'up', status }], false))
      assert.ok(error instanceof DocketError)
      assert.equal(error.code, 'CONFLICT')
      assert.match(error.message, new RegExp(`'up' is ${status}`))
    }
  })

  it('is always a target of retry', () => {
    for (const manual of [true, false]) {
      for (const unfinished of [[], [{ id: 'a', status: 'active' as const }]]) {
        const { status } = decideRetry('j', unfinished, manual)
        assert.ok((TRANSITIONS.retry.to as readonly string[]).includes(status))
      }
    }
  })
})

describe('decisions agree with the state machine', () => {
  const backoff = { type: 'fixed' as const, delayMs: 10, maxDelayMs: 10, jitter: 0 }
  it('decideFailure only yields targets of fail', () => {
    for (const attempts of [1, 2, 3]) {
      for (const retryable of [true, false]) {
        const { status } = decideFailure({ attempts, maxAttempts: 3, backoff }, retryable, new Date(0))
        assert.ok((TRANSITIONS.fail.to as readonly string[]).includes(status), status)
      }
    }
  })

  it('decideExpiry only yields targets of expire', () => {
    for (const attempts of [1, 3]) {
      const status = decideExpiry({ attempts, maxAttempts: 3 })
      assert.ok((TRANSITIONS.expire.to as readonly string[]).includes(status), status)
    }
  })
})

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
