import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { DEFAULT_BACKOFF } from '../../src/core/backoff.js'
import { parse, queueCreateInput, queueUpdateInput } from '../../src/core/options.js'
import {
  applyQueueUpdate,
  DEFAULT_MAX_ATTEMPTS,
  type QueueRecord,
  resolveBackoff,
  resolveJob,
  resolveQueue,
} from '../../src/core/resolve.js'
import type { BackoffPolicy } from '../../src/core/types.js'
import { expectDocketError, issuePaths } from './expect-error.js'

const ID = '0190a4b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b'
const DEP1 = '0190a4b2-7c3d-7e4f-8a9b-000000000001'
const DEP2 = '0190a4b2-7c3d-7e4f-8a9b-000000000002'
const DEFAULT_BACKOFF_COPY = structuredClone(DEFAULT_BACKOFF)

/** A queue record with every field set away from its default. */
function customQueue(): QueueRecord {
  return {
    name: 'custom',
    description: 'a custom queue',
    mode: 'manual',
    status: 'paused',
    concurrency: 4,
    ordering: 'fifo',
    defaults: {
      maxAttempts: 7,
      backoff: { type: 'fixed', delayMs: 500, maxDelayMs: 5_000, jitter: 0.1 },
      timeoutMs: 30_000,
    },
    retentionMs: 86_400_000,
    settings: { colour: 'blue' },
    rateLimit: { max: 10, intervalMs: 1_000 },
    groupConcurrency: 2,
    fair: true,
    groupByOwner: true,
  }
}

describe('resolveQueue', () => {
  it('fills every default from a bare name', () => {
    assert.equal(DEFAULT_MAX_ATTEMPTS, 3)
    assert.deepEqual(resolveQueue({ name: 'q' }), {
      name: 'q',
      description: null,
      mode: 'automatic',
      status: 'active',
      concurrency: null,
      ordering: 'priority',
      defaults: { maxAttempts: 3, backoff: DEFAULT_BACKOFF, timeoutMs: null },
      retentionMs: null,
      settings: {},
      rateLimit: null,
      groupConcurrency: null,
      fair: false,
      groupByOwner: false,
    })
  })

  it('keeps every field it is given', () => {
    const queue = customQueue()
    const { defaults, ...rest } = queue
    assert.deepEqual(
      resolveQueue({
        ...rest,
        maxAttempts: defaults.maxAttempts,
        backoff: defaults.backoff,
        timeoutMs: defaults.timeoutMs,
      }),
      queue,
    )
  })

  it('treats explicit nulls as "none" for the nullable fields', () => {
    const queue = resolveQueue({
      name: 'q',
      description: null,
      concurrency: null,
      timeoutMs: null,
      retentionMs: null,
    })
    assert.equal(queue.description, null)
    assert.equal(queue.concurrency, null)
    assert.equal(queue.defaults.timeoutMs, null)
    assert.equal(queue.retentionMs, null)
  })

  it('merges a partial backoff onto the default policy', () => {
    assert.deepEqual(resolveQueue({ name: 'q', backoff: { type: 'fixed' } }).defaults.backoff, {
      ...DEFAULT_BACKOFF,
      type: 'fixed',
    })
    assert.deepEqual(resolveQueue({ name: 'q', backoff: { jitter: 0 } }).defaults.backoff, {
      ...DEFAULT_BACKOFF,
      jitter: 0,
    })
  })

  it('raises the cap to the base delay when the base delay is above it', () => {
    const twoHours = 2 * 3_600_000
    const backoff = resolveQueue({ name: 'q', backoff: { delayMs: twoHours } }).defaults.backoff
    assert.equal(backoff.delayMs, twoHours)
    assert.equal(backoff.maxDelayMs, twoHours)
  })

  it('never shares or changes DEFAULT_BACKOFF', () => {
    const queue = resolveQueue({ name: 'q', backoff: { delayMs: 99_999_999 } })
    assert.notEqual(queue.defaults.backoff, DEFAULT_BACKOFF)
    queue.defaults.backoff.jitter = 0.9
    assert.deepEqual(DEFAULT_BACKOFF, DEFAULT_BACKOFF_COPY)
    assert.notEqual(resolveQueue({ name: 'q' }).defaults.backoff, DEFAULT_BACKOFF)
  })

  it('refuses settings that would not survive JSON, instead of storing something else', () => {
    // The storage writes settings with JSON.stringify: a Date would come back a string,
    // undefined and NaN would be dropped or nulled, and a bigint makes it throw a TypeError.
    for (const [settings, path] of [
      [{ when: new Date(0) }, 'settings.when'],
      [{ gone: undefined }, 'settings.gone'],
      [{ n: Number.NaN }, 'settings.n'],
      [{ big: 1n }, 'settings.big'],
    ] as const) {
      const error = expectDocketError(
        () => resolveQueue(parse(queueCreateInput, { name: 'q', settings }, 'queue')),
        'INVALID_ARGUMENT',
        'settings',
      )
      assert.ok(issuePaths(error).includes(path), `${path} in ${JSON.stringify(issuePaths(error))}`)
    }
  })

  it('refuses non-JSON settings in an update too', () => {
    expectDocketError(
      () =>
        applyQueueUpdate(
          customQueue(),
          parse(queueUpdateInput, { settings: { when: new Date(0) } }, 'queue update'),
        ),
      'INVALID_ARGUMENT',
      'settings',
    )
  })
})

describe('applyQueueUpdate', () => {
  it('an empty patch changes nothing and leaves the original alone', () => {
    const queue = customQueue()
    const updated = applyQueueUpdate(queue, {})
    assert.deepEqual(updated, customQueue())
    assert.notEqual(updated, queue)
  })

  it('changes only the fields it names', () => {
    const updated = applyQueueUpdate(customQueue(), { status: 'active', maxAttempts: 2 })
    assert.deepEqual(updated, {
      ...customQueue(),
      status: 'active',
      defaults: { ...customQueue().defaults, maxAttempts: 2 },
    })
  })

  it('can change every field', () => {
    const updated = applyQueueUpdate(customQueue(), {
      description: 'new',
      mode: 'automatic',
      status: 'active',
      concurrency: 10,
      ordering: 'priority',
      maxAttempts: 1,
      backoff: { type: 'exponential', delayMs: 1, maxDelayMs: 2, jitter: 0 },
      timeoutMs: 1,
      retentionMs: 0,
      settings: { size: 'L' },
      rateLimit: { max: 5, intervalMs: 60_000 },
      groupConcurrency: 9,
      fair: false,
      groupByOwner: false,
    })
    assert.deepEqual(updated, {
      name: 'custom',
      description: 'new',
      mode: 'automatic',
      status: 'active',
      concurrency: 10,
      ordering: 'priority',
      defaults: {
        maxAttempts: 1,
        backoff: { type: 'exponential', delayMs: 1, maxDelayMs: 2, jitter: 0 },
        timeoutMs: 1,
      },
      retentionMs: 0,
      settings: { size: 'L' },
      rateLimit: { max: 5, intervalMs: 60_000 },
      groupConcurrency: 9,
      fair: false,
      groupByOwner: false,
    })
  })

  it('null clears a nullable field; undefined keeps it', () => {
    const cleared = applyQueueUpdate(customQueue(), {
      description: null,
      concurrency: null,
      timeoutMs: null,
      retentionMs: null,
      rateLimit: null,
    })
    assert.equal(cleared.description, null)
    assert.equal(cleared.rateLimit, null)
    assert.equal(cleared.concurrency, null)
    assert.equal(cleared.defaults.timeoutMs, null)
    assert.equal(cleared.retentionMs, null)

    const kept = applyQueueUpdate(customQueue(), {
      description: undefined,
      concurrency: undefined,
      timeoutMs: undefined,
      retentionMs: undefined,
    })
    assert.equal(kept.description, 'a custom queue')
    assert.equal(kept.concurrency, 4)
    assert.equal(kept.defaults.timeoutMs, 30_000)
    assert.equal(kept.retentionMs, 86_400_000)
  })

  it("merges a partial backoff onto the queue's current policy, not the library default", () => {
    const updated = applyQueueUpdate(customQueue(), { backoff: { jitter: 0 } })
    assert.deepEqual(updated.defaults.backoff, { type: 'fixed', delayMs: 500, maxDelayMs: 5_000, jitter: 0 })
  })

  it('raises the cap when a patch puts the base delay above it', () => {
    const updated = applyQueueUpdate(customQueue(), { backoff: { delayMs: 9_000 } })
    assert.equal(updated.defaults.backoff.maxDelayMs, 9_000)
  })

  it('replaces settings as a whole', () => {
    assert.deepEqual(applyQueueUpdate(customQueue(), { settings: { size: 'L' } }).settings, { size: 'L' })
    assert.deepEqual(applyQueueUpdate(customQueue(), { settings: {} }).settings, {})
  })

  it('does not modify the queue it is given', () => {
    const queue = customQueue()
    applyQueueUpdate(queue, { description: null, backoff: { delayMs: 1 }, maxAttempts: 1, settings: {} })
    assert.deepEqual(queue, customQueue())
  })
})

describe('resolveBackoff', () => {
  const base: BackoffPolicy = { type: 'exponential', delayMs: 100, maxDelayMs: 1_000, jitter: 0.2 }

  it('without a patch returns a copy of the base', () => {
    const resolved = resolveBackoff(base, undefined)
    assert.deepEqual(resolved, base)
    assert.notEqual(resolved, base)
  })

  it('overrides only the fields the patch sets, ignoring undefined ones', () => {
    assert.deepEqual(resolveBackoff(base, { delayMs: 200, jitter: undefined, type: undefined }), {
      ...base,
      delayMs: 200,
    })
  })

  it('keeps maxDelayMs >= delayMs', () => {
    assert.equal(resolveBackoff(base, { delayMs: 5_000 }).maxDelayMs, 5_000)
    assert.equal(resolveBackoff(base, { maxDelayMs: 50 }).maxDelayMs, 100)
    assert.equal(resolveBackoff(base, { delayMs: 300, maxDelayMs: 200 }).maxDelayMs, 300)
    assert.equal(resolveBackoff(base, { maxDelayMs: 100 }).maxDelayMs, 100)
  })

  it('does not modify the base', () => {
    const copy = { ...base }
    resolveBackoff(base, { delayMs: 5_000, jitter: 1 })
    assert.deepEqual(base, copy)
  })
})

describe('resolveJob', () => {
  const queue = customQueue()

  it('fills every default for a bare job from the queue', () => {
    assert.deepEqual(resolveJob({ queue: 'custom', type: 't' }, queue, ID, null), {
      id: ID,
      queue: 'custom',
      type: 't',
      payload: null,
      priority: 50,
      runAt: null,
      delayMs: 0,
      maxAttempts: 7,
      backoff: { type: 'fixed', delayMs: 500, maxDelayMs: 5_000, jitter: 0.1 },
      timeoutMs: 30_000,
      owner: null,
      group: null,
      batchId: null,
      capabilities: [],
      dedupeKey: null,
      dedupeMode: 'keep',
      dedupeTtlMs: null,
      dedupeMaxWaitMs: null,
      dependsOn: [],
      onCompletion: [],
      estimatedDurationMs: null,
      expiresAt: null,
      expiresInMs: null,
    })
  })

  it("uses the caller's id when given, else the generated one", () => {
    assert.equal(resolveJob({ queue: 'q', type: 't', id: DEP1 }, queue, ID, null).id, DEP1)
    assert.equal(resolveJob({ queue: 'q', type: 't' }, queue, ID, null).id, ID)
  })

  it('keeps the payload, turning only a missing one into null', () => {
    for (const payload of [null, false, 0, '', [], { a: 1 }]) {
      assert.deepEqual(resolveJob({ queue: 'q', type: 't', payload }, queue, ID, null).payload, payload)
    }
    assert.equal(resolveJob({ queue: 'q', type: 't', payload: undefined }, queue, ID, null).payload, null)
  })

  it('turns priority names into numbers and keeps numbers', () => {
    const p = (priority?: number | 'low' | 'normal' | 'high' | 'urgent') =>
      resolveJob({ queue: 'q', type: 't', priority }, queue, ID, null).priority
    assert.deepEqual(
      [p('low'), p('normal'), p('high'), p('urgent'), p(), p(0), p(100), p(33)],
      [25, 50, 75, 100, 50, 0, 100, 33],
    )
  })

  it('parses run-at from a Date, an ISO string or epoch milliseconds; none means now (null)', () => {
    const at = new Date('2030-01-01T00:00:00Z')
    const runAt = (value: Date | string | number | undefined) =>
      resolveJob({ queue: 'q', type: 't', runAt: value }, queue, ID, null).runAt
    assert.deepEqual(runAt(at), at)
    assert.deepEqual(runAt('2030-01-01T00:00:00Z'), at)
    assert.deepEqual(runAt('2030-01-01T02:00:00+02:00'), at)
    assert.deepEqual(runAt(at.getTime()), at)
    assert.deepEqual(runAt(0), new Date(0))
    assert.equal(runAt(undefined), null)
  })

  it('copies a Date run-at rather than sharing it', () => {
    const at = new Date('2030-01-01T00:00:00Z')
    const resolved = resolveJob({ queue: 'q', type: 't', runAt: at }, queue, ID, null)
    at.setFullYear(2040)
    assert.equal(resolved.runAt?.toISOString(), '2030-01-01T00:00:00.000Z')
  })

  it('keeps delayMs, defaulting to 0', () => {
    assert.equal(resolveJob({ queue: 'q', type: 't', delayMs: 1_500 }, queue, ID, null).delayMs, 1_500)
    assert.equal(resolveJob({ queue: 'q', type: 't' }, queue, ID, null).delayMs, 0)
  })

  it("overrides the queue's maxAttempts and merges a partial backoff onto the queue's", () => {
    const job = resolveJob({ queue: 'q', type: 't', maxAttempts: 1, backoff: { jitter: 0 } }, queue, ID, null)
    assert.equal(job.maxAttempts, 1)
    assert.deepEqual(job.backoff, { type: 'fixed', delayMs: 500, maxDelayMs: 5_000, jitter: 0 })
    const raised = resolveJob({ queue: 'q', type: 't', backoff: { delayMs: 60_000 } }, queue, ID, null)
    assert.equal(raised.backoff.maxDelayMs, 60_000)
    assert.deepEqual(queue.defaults.backoff, customQueue().defaults.backoff)
  })

  it("timeout: undefined takes the queue's, null means no limit, a number overrides", () => {
    const t = (timeoutMs: number | null | undefined) =>
      resolveJob({ queue: 'q', type: 't', timeoutMs }, queue, ID, null).timeoutMs
    assert.equal(t(undefined), 30_000)
    assert.equal(t(null), null)
    assert.equal(t(5), 5)
    const noLimitQueue = resolveQueue({ name: 'q' })
    assert.equal(resolveJob({ queue: 'q', type: 't' }, noLimitQueue, ID, null).timeoutMs, null)
  })

  it('owner, dedupe key and estimate: null and undefined both mean none', () => {
    for (const value of [null, undefined]) {
      const job = resolveJob(
        { queue: 'q', type: 't', owner: value, dedupeKey: value, estimatedDurationMs: value },
        queue,
        ID,
        null,
      )
      assert.equal(job.owner, null)
      assert.equal(job.dedupeKey, null)
      assert.equal(job.estimatedDurationMs, null)
    }
    const job = resolveJob(
      { queue: 'q', type: 't', owner: 'u1', dedupeKey: 'k', estimatedDurationMs: 0 },
      queue,
      ID,
      null,
    )
    assert.deepEqual([job.owner, job.dedupeKey, job.estimatedDurationMs], ['u1', 'k', 0])
  })

  it('records the batch it is added in', () => {
    assert.equal(resolveJob({ queue: 'q', type: 't' }, queue, ID, 'batch-1').batchId, 'batch-1')
  })

  it('dedupes and sorts capabilities, without touching the input', () => {
    const capabilities = ['gpu', 'cuda', 'gpu', 'avx']
    const job = resolveJob({ queue: 'q', type: 't', capabilities }, queue, ID, null)
    assert.deepEqual(job.capabilities, ['avx', 'cuda', 'gpu'])
    assert.deepEqual(capabilities, ['gpu', 'cuda', 'gpu', 'avx'])
  })

  it('dedupes dependencies, keeping their order', () => {
    const job = resolveJob({ queue: 'q', type: 't', dependsOn: [DEP2, DEP1, DEP2] }, queue, ID, null)
    assert.deepEqual(job.dependsOn, [DEP2, DEP1])
  })

  it("takes the queue's defaults as they are passed in, not as they were", () => {
    const updated = applyQueueUpdate(queue, { maxAttempts: 9, timeoutMs: null })
    const job = resolveJob({ queue: 'q', type: 't' }, updated, ID, null)
    assert.equal(job.maxAttempts, 9)
    assert.equal(job.timeoutMs, null)
  })
})

describe('resolveJob: groups', () => {
  const queue = (groupByOwner: boolean) => ({ ...resolveQueue({ name: 'q' }), groupByOwner })
  it('a job keeps the group it names, or has none; on a groupByOwner queue its group is its owner', () => {
    assert.equal(resolveJob({ queue: 'q', type: 't', group: 'acme' }, queue(false), ID, null).group, 'acme')
    assert.equal(resolveJob({ queue: 'q', type: 't', owner: 'alice' }, queue(false), ID, null).group, null)
    assert.equal(resolveJob({ queue: 'q', type: 't', owner: 'alice' }, queue(true), ID, null).group, 'alice')
    assert.equal(
      resolveJob({ queue: 'q', type: 't', owner: 'alice', group: 'bob' }, queue(true), ID, null).group,
      'alice',
      'a given group is ignored: it cannot take another owner’s slot',
    )
    assert.equal(resolveJob({ queue: 'q', type: 't', group: 'bob' }, queue(true), ID, null).group, null)
    assert.equal(resolveJob({ queue: 'q', type: 't' }, queue(true), ID, null).group, null)
  })
})
