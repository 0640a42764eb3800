import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { z } from 'zod'
import type { DocketError } from '../../src/core/errors.js'
import {
  backoffInput,
  batchOptions,
  claimInput,
  cleanupInput,
  deleteQueueOptions,
  describeIssues,
  docketOptions,
  eventsQuery,
  failOptions,
  isJobId,
  jobId,
  jobInput,
  listJobsInput,
  MAX_PRIORITY,
  MIN_PRIORITY,
  PRIORITIES,
  parse,
  priority,
  priorityValue,
  progressInput,
  queueCreateInput,
  queueName,
  queueUpdateInput,
  SORT_KEYS,
  stepDetails,
  toFieldIssues,
} from '../../src/core/options.js'
import { expectDocketError, issuePaths } from './expect-error.js'

const ID = '0190a4b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b'
const ID2 = '0190a4b2-7c3d-7e4f-8a9b-0c1d2e3f4a5c'
const TEN_YEARS = 10 * 365 * 24 * 3600 * 1000
const MAX_DATE_MS = 8_640_000_000_000_000

/** `value` must parse; returns the result. */
function ok<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  return parse(schema, value, 'input')
}

/**
 * `value` must be refused with INVALID_ARGUMENT; every path in `paths` must be
 * among the issues and named in the message.
 */
function refused(schema: z.ZodType, value: unknown, ...paths: string[]): DocketError {
  const error = expectDocketError(() => parse(schema, value, 'thing'), 'INVALID_ARGUMENT', 'invalid thing')
  const listed = issuePaths(error)
  assert.ok(listed.length > 0)
  for (const path of paths) {
    assert.ok(listed.includes(path), `expected an issue at ${path}, got ${JSON.stringify(listed)}`)
    if (path !== '') assert.ok(error.message.includes(`${path}: `), `message names ${path}: ${error.message}`)
  }
  return error
}

/** Refused because of an unknown key: the message names the key. */
function refusesUnknownKey(schema: z.ZodType, value: Record<string, unknown>, key: string): void {
  const error = expectDocketError(() => parse(schema, value, 'thing'), 'INVALID_ARGUMENT', key)
  assert.ok(error.details.issues && error.details.issues.length > 0)
}

describe('parse', () => {
  it('returns the parsed value, with transforms applied', () => {
    const parsed = parse(jobInput, { queue: 'q', type: 't', id: ID.toUpperCase() }, 'job')
    assert.deepEqual(parsed, { queue: 'q', type: 't', id: ID })
  })

  it('throws INVALID_ARGUMENT (HTTP 400) naming what was parsed, the field path and the problem', () => {
    const error = expectDocketError(
      () => parse(jobInput, { queue: 'q', type: 't', priority: 101 }, 'job'),
      'INVALID_ARGUMENT',
    )
    assert.equal(error.httpStatus, 400)
    assert.match(error.message, /^invalid job: priority: /)
    assert.equal(error.details.issues?.length, 1)
    assert.equal(error.details.issues?.[0]?.path, 'priority')
    assert.ok((error.details.issues?.[0]?.message ?? '').length > 0)
  })

  it('lists every problem, each by its path, in message and details', () => {
    const error = refused(
      jobInput,
      { queue: 'bad name', type: '', priority: -1, backoff: { jitter: 2 }, dependsOn: [ID, 'nope'] },
      'queue',
      'type',
      'priority',
      'backoff.jitter',
      'dependsOn.1',
    )
    assert.equal(error.details.issues?.length, 5)
    assert.equal(error.message.split('; ').length, 5)
  })

  it('dedupeMaxWaitMs: a positive duration, only with dedupeMode debounce', () => {
    const debounce = { queue: 'q', type: 't', dedupeKey: 'k', dedupeMode: 'debounce' } as const
    assert.equal(parse(jobInput, { ...debounce, dedupeMaxWaitMs: 2_000 }, 'job').dedupeMaxWaitMs, 2_000)
    refused(jobInput, { ...debounce, dedupeMaxWaitMs: 0 }, 'dedupeMaxWaitMs')
    refused(jobInput, { ...debounce, dedupeMode: 'replace', dedupeMaxWaitMs: 2_000 }, 'dedupeMaxWaitMs')
    refused(jobInput, { queue: 'q', type: 't', dedupeKey: 'k', dedupeMaxWaitMs: 2_000 }, 'dedupeMaxWaitMs')
  })

  it('refuses a value that is not an object at all, with an empty path', () => {
    for (const value of [undefined, null, 'job', 42, []]) {
      const error = refused(jobInput, value, '')
      assert.match(error.message, /^invalid thing: /)
    }
  })

  it('an unknown key is refused and named in the message, at any depth', () => {
    refusesUnknownKey(jobInput, { queue: 'q', type: 't', colour: 'red' }, 'colour')
    refusesUnknownKey(jobInput, { queue: 'q', type: 't', backoff: { curve: 'x' } }, 'curve')
  })

  it("an unknown key's issue path names the key, as FieldIssue.path is documented to", () => {
    // errors.ts: FieldIssue.path is the "dotted path of the offending field"; empty only for the whole value.
    const top = refused(jobInput, { queue: 'q', type: 't', colour: 'red' })
    assert.deepEqual(issuePaths(top), ['colour'])
    const nested = refused(jobInput, { queue: 'q', type: 't', backoff: { curve: 'x' } })
    assert.deepEqual(issuePaths(nested), ['backoff.curve'])
  })
})

describe('toFieldIssues and describeIssues', () => {
  it('joins zod paths with dots, numbers included', () => {
    const result = jobInput.safeParse({ queue: 'q', type: 't', capabilities: ['gpu', ''] })
    assert.equal(result.success, false)
    assert.deepEqual(
      toFieldIssues(result.error!).map((i) => i.path),
      ['capabilities.1'],
    )
  })

  it('describes issues as "path: message", joined by "; ", without a path when there is none', () => {
    assert.equal(
      describeIssues([
        { path: '', message: 'expected an object' },
        { path: 'a.b', message: 'too big' },
        { path: 'c', message: 'missing' },
      ]),
      'expected an object; a.b: too big; c: missing',
    )
    assert.equal(describeIssues([]), '')
  })
})

describe('priorities', () => {
  it('names map onto numbers, low to urgent', () => {
    assert.deepEqual(PRIORITIES, { low: 25, normal: 50, high: 75, urgent: 100 })
    assert.equal(priorityValue('low'), 25)
    assert.equal(priorityValue('normal'), 50)
    assert.equal(priorityValue('high'), 75)
    assert.equal(priorityValue('urgent'), 100)
  })

  it('numbers pass through and the default is normal', () => {
    assert.equal(priorityValue(undefined), PRIORITIES.normal)
    for (const n of [0, 1, 50, 99, 100]) assert.equal(priorityValue(n), n)
  })

  it('the range is 0..100 and every named level is inside it', () => {
    assert.equal(MIN_PRIORITY, 0)
    assert.equal(MAX_PRIORITY, 100)
    for (const n of Object.values(PRIORITIES)) assert.ok(n >= MIN_PRIORITY && n <= MAX_PRIORITY)
  })

  it('the schema accepts whole numbers in range and the four names', () => {
    for (const p of [0, 100, 42, 'low', 'normal', 'high', 'urgent']) assert.equal(ok(priority, p), p)
  })

  it('the schema refuses anything else', () => {
    for (const p of [
      -1,
      101,
      1.5,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      'HIGH',
      'extreme',
      '50',
      true,
      null,
    ]) {
      refused(priority, p, '')
    }
  })
})

describe('queue names', () => {
  it('accepts 1-128 letters, digits and . _ : - starting with a letter or digit', () => {
    for (const name of [
      'a',
      'Z',
      '0',
      'emails',
      'emails.v2',
      'ns:queue-1_x',
      'A'.repeat(128),
      `a${'.:_-'.repeat(20)}`,
    ]) {
      assert.equal(ok(queueName, name), name)
    }
  })

  it('refuses empty, too long, bad first character or other characters', () => {
    for (const name of [
      '',
      'a'.repeat(129),
      '-lead',
      '.lead',
      '_lead',
      ':lead',
      'has space',
      'slash/x',
      'ünï',
      'tab\t',
      'new\nline',
      'semi;colon',
    ]) {
      const error = refused(queueName, name, '')
      assert.match(error.message, /1-128 characters/)
    }
  })

  it('refuses a queue name that is not a string', () => {
    for (const name of [5, null, undefined, ['q'], { name: 'q' }]) refused(queueName, name, '')
  })
})

describe('job ids', () => {
  it('accepts a UUID in either case and lower-cases it', () => {
    assert.equal(ok(jobId, ID), ID)
    assert.equal(ok(jobId, ID.toUpperCase()), ID)
    assert.equal(isJobId(ID), true)
    assert.equal(isJobId(ID.toUpperCase()), true)
  })

  it('refuses anything that is not a UUID', () => {
    for (const id of [
      '',
      'nope',
      ID.replaceAll('-', ''),
      `{${ID}}`,
      ID.slice(1),
      `${ID}0`,
      `${ID}\n`,
      ` ${ID}`,
      ID.replace('a', 'g'),
      42,
      null,
    ]) {
      assert.equal(isJobId(id), false, String(id))
      refused(jobId, id, '')
    }
  })
})

describe('backoffInput', () => {
  it('accepts any subset of a valid policy', () => {
    assert.deepEqual(ok(backoffInput, {}), {})
    const full = { type: 'fixed', delayMs: 0, maxDelayMs: TEN_YEARS, jitter: 1 }
    assert.deepEqual(ok(backoffInput, full), full)
    assert.deepEqual(ok(backoffInput, { type: 'exponential', jitter: 0 }), { type: 'exponential', jitter: 0 })
  })

  it('refuses wrong types, out-of-range numbers and unknown keys', () => {
    refused(backoffInput, { type: 'linear' }, 'type')
    refused(backoffInput, { delayMs: -1 }, 'delayMs')
    refused(backoffInput, { delayMs: 1.5 }, 'delayMs')
    refused(backoffInput, { delayMs: '100' }, 'delayMs')
    refused(backoffInput, { maxDelayMs: TEN_YEARS + 1 }, 'maxDelayMs')
    refused(backoffInput, { jitter: -0.1 }, 'jitter')
    refused(backoffInput, { jitter: 1.01 }, 'jitter')
    refused(backoffInput, { jitter: Number.NaN }, 'jitter')
    refusesUnknownKey(backoffInput, { factor: 3 }, 'factor')
    refused(backoffInput, 'exponential', '')
  })
})

describe('queueCreateInput', () => {
  it('needs only a name', () => {
    assert.deepEqual(ok(queueCreateInput, { name: 'q' }), { name: 'q' })
  })

  it('accepts every field at its bounds', () => {
    const full = {
      name: 'q',
      description: 'd'.repeat(2000),
      mode: 'manual',
      status: 'paused',
      concurrency: 100_000,
      ordering: 'fifo',
      maxAttempts: 1000,
      backoff: { type: 'fixed', delayMs: 5 },
      timeoutMs: 1,
      retentionMs: TEN_YEARS,
      settings: { anything: { nested: [1] } },
    }
    assert.deepEqual(ok(queueCreateInput, full), full)
    const lows = { name: 'q', concurrency: 1, maxAttempts: 1, retentionMs: 0 }
    assert.deepEqual(ok(queueCreateInput, lows), lows)
  })

  it('accepts null for the nullable fields', () => {
    const nulls = { name: 'q', description: null, concurrency: null, timeoutMs: null, retentionMs: null }
    assert.deepEqual(ok(queueCreateInput, nulls), nulls)
  })

  it('refuses a missing or bad name', () => {
    refused(queueCreateInput, {}, 'name')
    refused(queueCreateInput, { name: '' }, 'name')
    refused(queueCreateInput, { name: 'bad name' }, 'name')
    refused(queueCreateInput, { name: 7 }, 'name')
  })

  it('refuses wrong types and out-of-range numbers, field by field', () => {
    const bad: [Record<string, unknown>, string][] = [
      [{ description: 'd'.repeat(2001) }, 'description'],
      [{ description: 5 }, 'description'],
      [{ mode: 'auto' }, 'mode'],
      [{ status: 'running' }, 'status'],
      [{ concurrency: 0 }, 'concurrency'],
      [{ concurrency: 100_001 }, 'concurrency'],
      [{ concurrency: 2.5 }, 'concurrency'],
      [{ concurrency: '3' }, 'concurrency'],
      [{ ordering: 'random' }, 'ordering'],
      [{ maxAttempts: 0 }, 'maxAttempts'],
      [{ maxAttempts: 1001 }, 'maxAttempts'],
      [{ maxAttempts: null }, 'maxAttempts'],
      [{ backoff: { type: 'linear' } }, 'backoff.type'],
      [{ backoff: null }, 'backoff'],
      [{ timeoutMs: 0 }, 'timeoutMs'],
      [{ timeoutMs: -5 }, 'timeoutMs'],
      [{ retentionMs: -1 }, 'retentionMs'],
      [{ retentionMs: TEN_YEARS + 1 }, 'retentionMs'],
      [{ settings: 'x' }, 'settings'],
      [{ settings: null }, 'settings'],
    ]
    for (const [fields, path] of bad) refused(queueCreateInput, { name: 'q', ...fields }, path)
  })

  it('refuses unknown keys', () => {
    refusesUnknownKey(queueCreateInput, { name: 'q', priority: 5 }, 'priority')
    refusesUnknownKey(queueCreateInput, { name: 'q', backoff: { base: 1 } }, 'base')
  })
})

describe('queueUpdateInput', () => {
  it('accepts an empty patch and any field of a queue', () => {
    assert.deepEqual(ok(queueUpdateInput, {}), {})
    const patch = { mode: 'manual', concurrency: null, description: null, backoff: { jitter: 0 } }
    assert.deepEqual(ok(queueUpdateInput, patch), patch)
  })

  it('refuses a name: a queue cannot be renamed by an update', () => {
    refusesUnknownKey(queueUpdateInput, { name: 'other' }, 'name')
  })

  it('applies the same field rules as create', () => {
    refused(queueUpdateInput, { concurrency: 0 }, 'concurrency')
    refused(queueUpdateInput, { maxAttempts: 1001 }, 'maxAttempts')
    refused(queueUpdateInput, { status: 'stopped' }, 'status')
    refused(queueUpdateInput, { retentionMs: -1 }, 'retentionMs')
    refused(queueUpdateInput, { backoff: { delayMs: -1 } }, 'backoff.delayMs')
  })
})

describe('jobInput', () => {
  const base = { queue: 'q', type: 't' }

  it('needs only a queue and a type', () => {
    assert.deepEqual(ok(jobInput, base), base)
  })

  it('accepts every option at once', () => {
    const full = {
      id: ID,
      queue: 'q',
      type: 'render.video',
      payload: { any: ['thing'] },
      priority: 'urgent',
      delayMs: TEN_YEARS,
      maxAttempts: 1000,
      backoff: { type: 'fixed', delayMs: 10 },
      timeoutMs: 60_000,
      owner: 'user-1',
      capabilities: Array.from({ length: 50 }, (_, i) => `cap${i}`),
      dedupeKey: 'k'.repeat(500),
      dependsOn: [ID2],
      estimatedDurationMs: 0,
    }
    assert.deepEqual(ok(jobInput, full), full)
  })

  it('accepts null for the nullable options', () => {
    const nulls = { ...base, timeoutMs: null, owner: null, dedupeKey: null, estimatedDurationMs: null }
    assert.deepEqual(ok(jobInput, nulls), nulls)
  })

  it('takes any payload: JSON-ness is checked separately', () => {
    for (const payload of [null, 0, 'x', [1], { a: { b: 1 } }]) {
      assert.deepEqual(ok(jobInput, { ...base, payload }).payload, payload)
    }
  })

  it('refuses a missing or bad queue and type', () => {
    refused(jobInput, { type: 't' }, 'queue')
    refused(jobInput, { queue: 'q' }, 'type')
    refused(jobInput, { queue: 'no spaces', type: 't' }, 'queue')
    refused(jobInput, { queue: 'q', type: '' }, 'type')
    refused(jobInput, { queue: 'q', type: 'x'.repeat(201) }, 'type')
    assert.equal(ok(jobInput, { queue: 'q', type: 'x'.repeat(200) }).type.length, 200)
  })

  it('refuses an id that is not a UUID and lower-cases one that is', () => {
    refused(jobInput, { ...base, id: 'job-1' }, 'id')
    refused(jobInput, { ...base, id: 7 }, 'id')
    assert.equal(ok(jobInput, { ...base, id: ID.toUpperCase() }).id, ID)
  })

  it('accepts a run-at as a Date, an ISO string with zone, or epoch milliseconds', () => {
    const date = new Date('2030-01-01T00:00:00Z')
    for (const runAt of [
      date,
      '2030-01-01T00:00:00Z',
      '2030-01-01T00:00:00.123Z',
      '2030-01-01T02:00:00+02:00',
      0,
      date.getTime(),
      MAX_DATE_MS,
    ]) {
      assert.deepEqual(ok(jobInput, { ...base, runAt }).runAt, runAt)
    }
  })

  it('refuses a run-at that is not a date', () => {
    for (const runAt of [
      'tomorrow',
      '2030-01-01',
      '2030-02-30T00:00:00Z',
      '',
      new Date(Number.NaN),
      -1,
      1.5,
      MAX_DATE_MS + 1,
      Number.NaN,
      true,
      null,
      {},
    ]) {
      refused(jobInput, { ...base, runAt }, 'runAt')
    }
  })

  it('refuses runAt and delayMs together, naming delayMs', () => {
    const error = refused(jobInput, { ...base, runAt: new Date(), delayMs: 5 }, 'delayMs')
    assert.match(error.message, /runAt or delayMs, not both/)
    refused(jobInput, { ...base, runAt: 0, delayMs: 0 }, 'delayMs')
    assert.equal(ok(jobInput, { ...base, delayMs: 0 }).delayMs, 0)
  })

  it('refuses wrong types and out-of-range numbers, field by field', () => {
    const bad: [Record<string, unknown>, string][] = [
      [{ priority: 101 }, 'priority'],
      [{ priority: 'top' }, 'priority'],
      [{ delayMs: -1 }, 'delayMs'],
      [{ delayMs: TEN_YEARS + 1 }, 'delayMs'],
      [{ delayMs: 0.5 }, 'delayMs'],
      [{ maxAttempts: 0 }, 'maxAttempts'],
      [{ maxAttempts: 1001 }, 'maxAttempts'],
      [{ backoff: { jitter: 5 } }, 'backoff.jitter'],
      [{ timeoutMs: 0 }, 'timeoutMs'],
      [{ timeoutMs: 1e20 }, 'timeoutMs'],
      [{ owner: '' }, 'owner'],
      [{ owner: 'o'.repeat(201) }, 'owner'],
      [{ owner: 5 }, 'owner'],
      [{ capabilities: 'gpu' }, 'capabilities'],
      [{ capabilities: ['gpu', ''] }, 'capabilities.1'],
      [{ capabilities: Array.from({ length: 51 }, (_, i) => `c${i}`) }, 'capabilities'],
      [{ dedupeKey: '' }, 'dedupeKey'],
      [{ dedupeKey: 'k'.repeat(501) }, 'dedupeKey'],
      [{ dependsOn: ID }, 'dependsOn'],
      [{ dependsOn: [ID, 'nope'] }, 'dependsOn.1'],
      [{ dependsOn: Array.from({ length: 1001 }, () => ID) }, 'dependsOn'],
      [{ estimatedDurationMs: -1 }, 'estimatedDurationMs'],
    ]
    for (const [fields, path] of bad) refused(jobInput, { ...base, ...fields }, path)
  })

  it('lower-cases the ids it depends on', () => {
    assert.deepEqual(ok(jobInput, { ...base, dependsOn: [ID.toUpperCase(), ID2] }).dependsOn, [ID, ID2])
  })

  it('refuses unknown keys', () => {
    refusesUnknownKey(jobInput, { ...base, delay: 5 }, 'delay')
    refusesUnknownKey(jobInput, { ...base, backoff: { retries: 3 } }, 'retries')
  })
})

describe('listJobsInput', () => {
  it('accepts no filters, or all of them', () => {
    assert.deepEqual(ok(listJobsInput, {}), {})
    const all = {
      queue: 'q',
      status: ['waiting', 'failed'],
      type: 't',
      owner: 'o',
      batchId: 'b',
      limit: 1000,
      cursor: 'c',
      sort: 'runAt',
      order: 'asc',
    }
    assert.deepEqual(ok(listJobsInput, all), all)
  })

  it('takes one status or a non-empty list of them', () => {
    assert.equal(ok(listJobsInput, { status: 'held' }).status, 'held')
    refused(listJobsInput, { status: [] }, 'status')
    refused(listJobsInput, { status: 'done' }, 'status')
    refused(listJobsInput, { status: ['waiting', 'done'] }, 'status')
  })

  it('sorts only by the known keys, in either order', () => {
    assert.deepEqual([...SORT_KEYS], ['createdAt', 'priority', 'runAt'])
    for (const sort of SORT_KEYS) assert.equal(ok(listJobsInput, { sort }).sort, sort)
    refused(listJobsInput, { sort: 'id' }, 'sort')
    refused(listJobsInput, { order: 'up' }, 'order')
  })

  it('refuses out-of-range limits, bad cursors, bad names and unknown keys', () => {
    refused(listJobsInput, { limit: 0 }, 'limit')
    refused(listJobsInput, { limit: 1001 }, 'limit')
    refused(listJobsInput, { cursor: '' }, 'cursor')
    refused(listJobsInput, { cursor: 'c'.repeat(1001) }, 'cursor')
    refused(listJobsInput, { queue: 'a b' }, 'queue')
    refused(listJobsInput, { batchId: '' }, 'batchId')
    refusesUnknownKey(listJobsInput, { page: 2 }, 'page')
  })
})

describe('claimInput', () => {
  const base = { workerId: 'w1', queues: ['q'] }

  it('needs a worker id and at least one queue', () => {
    assert.deepEqual(ok(claimInput, base), base)
    refused(claimInput, { queues: ['q'] }, 'workerId')
    refused(claimInput, { workerId: 'w1' }, 'queues')
    refused(claimInput, { ...base, queues: [] }, 'queues')
    refused(claimInput, { ...base, workerId: '' }, 'workerId')
  })

  it('checks every queue name and caps the list at 100', () => {
    refused(claimInput, { ...base, queues: ['q', 'bad name'] }, 'queues.1')
    assert.equal(
      ok(claimInput, { ...base, queues: Array.from({ length: 100 }, (_, i) => `q${i}`) }).queues.length,
      100,
    )
    refused(claimInput, { ...base, queues: Array.from({ length: 101 }, (_, i) => `q${i}`) }, 'queues')
  })

  it('bounds the lease to 50 ms .. 24 h and the batch to 1..1000', () => {
    assert.equal(ok(claimInput, { ...base, leaseMs: 50 }).leaseMs, 50)
    assert.equal(ok(claimInput, { ...base, leaseMs: 86_400_000 }).leaseMs, 86_400_000)
    refused(claimInput, { ...base, leaseMs: 49 }, 'leaseMs')
    refused(claimInput, { ...base, leaseMs: 86_400_001 }, 'leaseMs')
    refused(claimInput, { ...base, limit: 0 }, 'limit')
    refused(claimInput, { ...base, limit: 1001 }, 'limit')
    refused(claimInput, { ...base, capabilities: [''] }, 'capabilities.0')
    refusesUnknownKey(claimInput, { ...base, timeout: 1 }, 'timeout')
  })
})

describe('progressInput', () => {
  it('accepts a percent in 0..100, fractions included, and nullable step and message', () => {
    for (const percent of [0, 33.3, 100]) assert.equal(ok(progressInput, { percent }).percent, percent)
    assert.deepEqual(ok(progressInput, { step: null, message: null }), { step: null, message: null })
    assert.deepEqual(ok(progressInput, {}), {})
  })

  it('refuses out-of-range percent, long texts and unknown keys', () => {
    refused(progressInput, { percent: -1 }, 'percent')
    refused(progressInput, { percent: 100.5 }, 'percent')
    refused(progressInput, { percent: '50' }, 'percent')
    refused(progressInput, { step: 's'.repeat(201) }, 'step')
    refused(progressInput, { message: 'm'.repeat(2001) }, 'message')
    refusesUnknownKey(progressInput, { pct: 5 }, 'pct')
  })
})

describe('cleanupInput', () => {
  it('accepts its options in range', () => {
    const all = { olderThanMs: 0, queue: 'q', batchSize: 100_000 }
    assert.deepEqual(ok(cleanupInput, all), all)
  })

  it('refuses out-of-range values and unknown keys', () => {
    refused(cleanupInput, { olderThanMs: -1 }, 'olderThanMs')
    refused(cleanupInput, { batchSize: 0 }, 'batchSize')
    refused(cleanupInput, { batchSize: 100_001 }, 'batchSize')
    refused(cleanupInput, { queue: '' }, 'queue')
    refusesUnknownKey(cleanupInput, { all: true }, 'all')
  })
})

describe('small option objects', () => {
  it('failOptions: retryable must be a boolean', () => {
    assert.deepEqual(ok(failOptions, { retryable: false }), { retryable: false })
    refused(failOptions, { retryable: 'no' }, 'retryable')
    refusesUnknownKey(failOptions, { retry: false }, 'retry')
  })

  it('deleteQueueOptions: force must be a boolean', () => {
    assert.deepEqual(ok(deleteQueueOptions, { force: true }), { force: true })
    refused(deleteQueueOptions, { force: 1 }, 'force')
    refusesUnknownKey(deleteQueueOptions, { cascade: true }, 'cascade')
  })

  it('stepDetails: a whole non-negative duration and a message of at most 2000 characters', () => {
    assert.deepEqual(ok(stepDetails, { durationMs: 0, message: 'm' }), { durationMs: 0, message: 'm' })
    refused(stepDetails, { durationMs: -1 }, 'durationMs')
    refused(stepDetails, { durationMs: 1.5 }, 'durationMs')
    refused(stepDetails, { message: 'm'.repeat(2001) }, 'message')
    refusesUnknownKey(stepDetails, { data: {} }, 'data')
  })

  it('eventsQuery: afterId >= 0 and limit 1..10000', () => {
    assert.deepEqual(ok(eventsQuery, { afterId: 0, limit: 10_000 }), { afterId: 0, limit: 10_000 })
    refused(eventsQuery, { afterId: -1 }, 'afterId')
    refused(eventsQuery, { limit: 0 }, 'limit')
    refused(eventsQuery, { limit: 10_001 }, 'limit')
    refusesUnknownKey(eventsQuery, { before: 1 }, 'before')
  })

  it('docketOptions: positive sizes, a lease of at least 50 ms, a non-empty artifacts directory', () => {
    const all = { maxPayloadBytes: 1, defaultLeaseMs: 50, artifactsDir: '/tmp/a', maxArtifactBytes: 1 }
    assert.deepEqual(ok(docketOptions, all), all)
    refused(docketOptions, { maxPayloadBytes: 0 }, 'maxPayloadBytes')
    refused(docketOptions, { defaultLeaseMs: 49 }, 'defaultLeaseMs')
    refused(docketOptions, { artifactsDir: '' }, 'artifactsDir')
    refused(docketOptions, { maxArtifactBytes: 0 }, 'maxArtifactBytes')
    assert.deepEqual(ok(docketOptions, { searchTimeoutMs: 1 }), { searchTimeoutMs: 1 })
    refused(docketOptions, { searchTimeoutMs: 0 }, 'searchTimeoutMs')
    refused(docketOptions, { searchTimeoutMs: 1.5 }, 'searchTimeoutMs')
    refusesUnknownKey(docketOptions, { poolSize: 4 }, 'poolSize')
  })

  it('batchOptions: name and owner of 1..200 characters', () => {
    assert.deepEqual(ok(batchOptions, { name: 'n', owner: 'o' }), { name: 'n', owner: 'o' })
    refused(batchOptions, { name: '' }, 'name')
    refused(batchOptions, { owner: 'o'.repeat(201) }, 'owner')
    refusesUnknownKey(batchOptions, { size: 3 }, 'size')
  })
})
