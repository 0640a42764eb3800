/** The pure rules behind attempts (what is kept), snoozes (where a snoozed job goes, which delays are valid) and dependency types. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ATTEMPT_STACKS_KEPT, ATTEMPTS_KEPT, attemptBounds, attemptError } from '../../src/core/attempts.js'
import { decideDedupe } from '../../src/core/dedupe.js'
import { dependencyState } from '../../src/core/dependencies.js'
import { resolveDependencies, resolveJob, resolveQueue } from '../../src/core/resolve.js'
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

describe('dedupe modes', () => {
  const now = 1_900_000_000_000
  const queue = resolveQueue({ name: 'q' })
  const add = (input: Record<string, unknown>) =>
    resolveJob({ queue: 'q', type: 't', dedupeKey: 'k', ...input } as never, queue, 'new', null)
  const stored = (status: string, runAt = now + 60_000) =>
    ({ id: 'old', status, runAt: new Date(runAt) }) as never

  it('keep returns the live job; replace and debounce update one that has not started', () => {
    assert.deepEqual(decideDedupe(add({}), stored('waiting'), now), { kind: 'keep' })
    const replace = decideDedupe(add({ dedupeMode: 'replace', payload: 2 }), stored('scheduled'), now)
    assert.equal(replace.kind, 'replace')
    if (replace.kind === 'replace') {
      assert.equal(replace.replacement.payload, 2)
      assert.equal(replace.replacement.runAtMs, now + 60_000, 'replace keeps the run time')
      assert.equal(replace.replacement.status, 'scheduled')
    }
    const debounce = decideDedupe(add({ dedupeMode: 'debounce' }), stored('scheduled'), now)
    if (debounce.kind === 'replace') {
      assert.equal(debounce.replacement.runAtMs, now, 'debounce moves it to now + delayMs')
      assert.equal(debounce.replacement.status, 'waiting')
    } else assert.fail('expected a replace')
    const blocked = decideDedupe(add({ dedupeMode: 'debounce', delayMs: 10 }), stored('blocked'), now)
    if (blocked.kind === 'replace') assert.equal(blocked.replacement.status, 'blocked')
  })

  it('a running job is not replaced: the new one is queued after it', () => {
    assert.deepEqual(decideDedupe(add({ dedupeMode: 'replace' }), stored('active'), now), {
      kind: 'after',
      runningId: 'old',
    })
  })
})
