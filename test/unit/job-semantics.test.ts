/** The pure rules behind attempts (what is kept), snoozes (where a snoozed job goes, which delays are valid) and dependency types. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ATTEMPT_STACKS_KEPT, ATTEMPTS_KEPT, attemptBounds, attemptError } from '../../src/core/attempts.js'
import { dependencyState } from '../../src/core/dependencies.js'
import { resolveDependencies } from '../../src/core/resolve.js'
import { checkDelay, decideSnooze, MAX_DELAY_MS } from '../../src/core/snooze.js'
import { RetryAfterError } from '../../src/index.js'
import { expectDocketError } from './expect-error.js'

describe('attempts', () => {
  it('keep every stack until there are more than ATTEMPT_STACKS_KEPT, then only the newest', () => {
    assert.deepEqual(attemptBounds(1), { stripStacksThrough: null, deleteThrough: null })
    assert.deepEqual(attemptBounds(ATTEMPT_STACKS_KEPT), { stripStacksThrough: null, deleteThrough: null })
    assert.deepEqual(attemptBounds(ATTEMPT_STACKS_KEPT + 1), { stripStacksThrough: 1, deleteThrough: null })
    assert.deepEqual(attemptBounds(ATTEMPTS_KEPT + 7), {
      stripStacksThrough: ATTEMPTS_KEPT + 7 - ATTEMPT_STACKS_KEPT,
      deleteThrough: 7,
    })
  })

  it('record an error with its data, null when it carries none', () => {
    assert.deepEqual(attemptError({ name: 'E', message: 'm', stack: 's' }), {
      name: 'E',
      message: 'm',
      stack: 's',
      data: null,
    })
    assert.deepEqual(attemptError({ name: null, message: 'm', stack: null, data: { status: 429 } }).data, {
      status: 429,
    })
  })
})

describe('snooze and retry-after', () => {
  const now = new Date('2030-06-01T12:00:00.000Z')

  it('a snooze schedules the job for now + the delay, or makes it ready at once for 0', () => {
    assert.deepEqual(decideSnooze(now, 5_000), {
      status: 'scheduled',
      runAt: new Date(now.getTime() + 5_000),
    })
    assert.deepEqual(decideSnooze(now, 0), { status: 'waiting', runAt: now })
  })

  it('a delay is a whole number of milliseconds from 0 to ten years, or INVALID_ARGUMENT naming the field', () => {
    assert.equal(checkDelay(0, 'delayMs'), 0)
    assert.equal(checkDelay(MAX_DELAY_MS, 'delayMs'), MAX_DELAY_MS)
    for (const bad of [-1, 1.5, Number.NaN, MAX_DELAY_MS + 1, '10', null])
      expectDocketError(() => checkDelay(bad, 'retryInMs'), 'INVALID_ARGUMENT', 'retryInMs')
  })

  it('RetryAfterError carries its delay, and refuses a bad one', () => {
    const e = new RetryAfterError(30_000)
    assert.equal(e.retryInMs, 30_000)
    assert.equal(e.name, 'RetryAfterError')
    assert.ok(e instanceof Error)
    expectDocketError(() => new RetryAfterError(-5), 'INVALID_ARGUMENT', 'retryInMs')
  })
})

describe('dependency types', () => {
  it('success waits for completed and dies with failed or cancelled; completion settles on any final state', () => {
    assert.equal(dependencyState('success', 'completed'), 'resolved')
    assert.equal(dependencyState('success', 'failed'), 'dead')
    assert.equal(dependencyState('success', 'cancelled'), 'dead')
    assert.equal(dependencyState('success', 'active'), 'pending')
    assert.equal(dependencyState('completion', 'completed'), 'resolved')
    assert.equal(dependencyState('completion', 'failed'), 'resolved')
    assert.equal(dependencyState('completion', 'cancelled'), 'resolved')
    assert.equal(dependencyState('completion', 'blocked'), 'pending')
  })

  it('bare ids wait for success; an id listed twice waits for success, the stricter', () => {
    assert.deepEqual(resolveDependencies(['a', { id: 'b', on: 'completion' }, { id: 'c', on: 'success' }]), {
      dependsOn: ['a', 'b', 'c'],
      onCompletion: ['b'],
    })
    assert.deepEqual(resolveDependencies([{ id: 'a', on: 'completion' }, 'a']), {
      dependsOn: ['a'],
      onCompletion: [],
    })
  })
})
