/** Dedupe modes (core/dedupe.ts): what an add does with a live job that holds its key. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { debouncedRunAt, decideDedupe, replacedMessage } from '../../src/core/dedupe.js'
import { type NewJob, resolveJob, resolveQueue } from '../../src/core/resolve.js'
import type { Job } from '../../src/core/types.js'
import { expectDocketError } from './expect-error.js'

const NOW = Date.UTC(2030, 0, 1)
const queue = resolveQueue({ name: 'q' })
const added = (patch: Partial<NewJob> = {}): NewJob => ({
  ...resolveJob({ queue: 'q', type: 't', payload: { v: 2 }, dedupeKey: 'k' }, queue, 'new-id', null),
  ...patch,
})
/** The live job holding the key, with only what the decision reads mattering. */
const stored = (patch: Partial<Job> = {}): Job =>
  ({
    id: 'live-id',
    status: 'waiting',
    runAt: new Date(NOW - 5_000),
    createdAt: new Date(NOW - 6_000),
    ...patch,
  }) as Job

describe('dedupe', () => {
  it('keep (the default) returns the live job, whatever its state', () => {
    assert.equal(added().dedupeMode, 'keep')
    for (const status of ['waiting', 'active', 'scheduled'] as const)
      assert.deepEqual(decideDedupe(added(), stored({ status }), NOW), { kind: 'keep' })
  })

  it('replace on a job that has not started: the new payload and options, the same id and run time', () => {
    const outcome = decideDedupe(added({ dedupeMode: 'replace', priority: 90 }), stored(), NOW)
    assert.equal(outcome.kind, 'replace')
    if (outcome.kind !== 'replace') return
    const r = outcome.replacement
    assert.equal(r.id, 'live-id', 'it keeps its id')
    assert.deepEqual(r.payload, { v: 2 })
    assert.equal(r.priority, 90)
    assert.equal(r.runAtMs, NOW - 5_000, 'and its place')
    assert.equal(r.status, 'waiting')
  })

  it('replace with a delay makes a ready job scheduled', () => {
    const outcome = decideDedupe(added({ dedupeMode: 'replace', delayMs: 60_000 }), stored(), NOW)
    assert.ok(outcome.kind === 'replace')
    assert.equal(outcome.replacement.runAtMs, NOW + 60_000)
    assert.equal(outcome.replacement.status, 'scheduled')
  })

  it('debounce moves the run time to now (or the delay) on each add', () => {
    const now = decideDedupe(added({ dedupeMode: 'debounce' }), stored({ status: 'scheduled' }), NOW)
    assert.ok(now.kind === 'replace')
    assert.equal(now.replacement.runAtMs, NOW)
    assert.equal(now.replacement.status, 'waiting')
    const later = decideDedupe(added({ dedupeMode: 'debounce', delayMs: 1_000 }), stored(), NOW)
    assert.ok(later.kind === 'replace')
    assert.equal(later.replacement.runAtMs, NOW + 1_000)
    const runAt = new Date(NOW + 7_000)
    const given = decideDedupe(added({ dedupeMode: 'debounce', runAt, delayMs: 1_000 }), stored(), NOW)
    assert.ok(given.kind === 'replace')
    assert.equal(given.replacement.runAtMs, runAt.getTime(), 'runAt wins over delayMs')
  })

  it('debounce with dedupeMaxWaitMs: never later than that after the burst’s first add (the live job’s creation)', () => {
    const live = stored({ status: 'scheduled', createdAt: new Date(NOW - 1_500) })
    const capped = decideDedupe(
      added({ dedupeMode: 'debounce', delayMs: 800, dedupeMaxWaitMs: 2_000 }),
      live,
      NOW,
    )
    assert.ok(capped.kind === 'replace')
    assert.equal(capped.replacement.runAtMs, NOW + 500, 'the burst began 1.5 s ago: 0.5 s left')
    assert.equal(capped.replacement.status, 'scheduled')
    const within = decideDedupe(
      added({ dedupeMode: 'debounce', delayMs: 800, dedupeMaxWaitMs: 5_000 }),
      live,
      NOW,
    )
    assert.ok(within.kind === 'replace')
    assert.equal(within.replacement.runAtMs, NOW + 800, 'within the maximum, the delay decides')
    const overdue = decideDedupe(
      added({ dedupeMode: 'debounce', delayMs: 800, dedupeMaxWaitMs: 1_000 }),
      live,
      NOW,
    )
    assert.ok(overdue.kind === 'replace')
    assert.equal(overdue.replacement.runAtMs, NOW - 500, 'past its maximum: due at once')
    assert.equal(overdue.replacement.status, 'waiting')
  })

  it('debouncedRunAt: the wanted time, capped at the burst start plus the maximum wait', () => {
    assert.equal(debouncedRunAt({ dedupeMaxWaitMs: null }, NOW + 9_000, NOW), NOW + 9_000)
    assert.equal(debouncedRunAt({ dedupeMaxWaitMs: 1_000 }, NOW + 9_000, NOW), NOW + 1_000)
    assert.equal(debouncedRunAt({ dedupeMaxWaitMs: 10_000 }, NOW + 9_000, NOW), NOW + 9_000)
  })

  it('a running job keeps running: the new job waits for it', () => {
    for (const mode of ['replace', 'debounce'] as const)
      assert.deepEqual(decideDedupe(added({ dedupeMode: mode }), stored({ status: 'active' }), NOW), {
        kind: 'after',
        runningId: 'live-id',
      })
  })

  it('a blocked or held job keeps its state: it waits for something other than its time', () => {
    for (const status of ['blocked', 'held'] as const) {
      const outcome = decideDedupe(added({ dedupeMode: 'replace', delayMs: 1_000 }), stored({ status }), NOW)
      assert.ok(outcome.kind === 'replace')
      assert.equal(outcome.replacement.status, status)
    }
  })

  it('an expiry that would come before the new run time is refused, naming the field', () => {
    const job = added({ dedupeMode: 'debounce', delayMs: 10_000, expiresInMs: 5_000 })
    const error = expectDocketError(() => decideDedupe(job, stored(), NOW, 'jobs[2]'), 'INVALID_ARGUMENT')
    assert.match(error.message, /jobs\[2\]\.expiresInMs must come after the job's run-at time/)
  })

  it('says in the event which mode replaced the job', () => {
    assert.match(replacedMessage('debounce'), /^debounced:/)
    assert.match(replacedMessage('replace'), /^replaced by a later add/)
  })
})
