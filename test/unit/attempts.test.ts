/** The attempt log's rules (core/attempts.ts): the outcomes, the error kept, and how many rows and stacks are kept. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  ATTEMPT_OUTCOMES,
  ATTEMPT_STACKS_KEPT,
  ATTEMPTS_KEPT,
  attemptBounds,
  attemptError,
} from '../../src/core/attempts.js'
import { fingerprintError } from '../../src/core/fingerprint.js'

describe('attempts', () => {
  it('names every way an attempt ends, once each', () => {
    assert.deepEqual([...ATTEMPT_OUTCOMES].sort(), [
      'cancelled',
      'completed',
      'expired',
      'failed',
      'lease-expired',
      'released',
      'running',
      'snoozed',
    ])
  })

  it('keeps a failure as the handler gave it, with its data or null', () => {
    assert.deepEqual(attemptError({ name: 'TypeError', message: 'bad', stack: 'at x' }), {
      name: 'TypeError',
      message: 'bad',
      stack: 'at x',
      fingerprint: fingerprintError({ name: 'TypeError', message: 'bad', stack: 'at x' }).fingerprint,
      data: null,
    })
    // A job's error already carries its fingerprint: the attempt keeps that one.
    assert.equal(
      attemptError({ name: null, message: 'm', stack: null, fingerprint: '0123456789ab' }).fingerprint,
      '0123456789ab',
    )
    assert.deepEqual(attemptError({ name: null, message: 'm', stack: null, data: { code: 7 } }).data, {
      code: 7,
    })
  })

  it('does nothing until an attempt past the stacks kept', () => {
    for (const seq of [1, ATTEMPT_STACKS_KEPT])
      assert.deepEqual(attemptBounds(seq), { stripStacksThrough: null, deleteThrough: null })
  })

  it('strips the stack of the attempt that fell out of the newest kept with stacks', () => {
    assert.deepEqual(attemptBounds(ATTEMPT_STACKS_KEPT + 1), { stripStacksThrough: 1, deleteThrough: null })
    assert.deepEqual(attemptBounds(ATTEMPT_STACKS_KEPT + 10).stripStacksThrough, 10)
  })

  it('drops the oldest attempts past the most a job keeps, and strips the rest beyond the stacks kept', () => {
    assert.equal(attemptBounds(ATTEMPTS_KEPT).deleteThrough, null)
    assert.deepEqual(attemptBounds(ATTEMPTS_KEPT + 1), {
      stripStacksThrough: ATTEMPTS_KEPT + 1 - ATTEMPT_STACKS_KEPT,
      deleteThrough: 1,
    })
    assert.deepEqual(attemptBounds(ATTEMPTS_KEPT + 7), {
      stripStacksThrough: ATTEMPTS_KEPT + 7 - ATTEMPT_STACKS_KEPT,
      deleteThrough: 7,
    })
    assert.ok(ATTEMPT_STACKS_KEPT < ATTEMPTS_KEPT, 'stacks are dropped before rows are')
  })
})
