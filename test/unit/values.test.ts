import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { decodeCursor, encodeCursor } from '../../src/core/cursor.js'
import { assertAcyclic } from '../../src/core/dependencies.js'
import { DocketError, isDocketError } from '../../src/core/errors.js'
import { findNonJson } from '../../src/core/json.js'
import { jobInput, parse, priorityValue, queueCreateInput } from '../../src/core/options.js'
import { applyQueueUpdate, assertJsonValue, resolveJob, resolveQueue } from '../../src/core/resolve.js'
import { percentiles, windowStats } from '../../src/core/stats.js'

const invalid = (fn: () => unknown, ...mentions: string[]) =>
  assert.throws(
    fn,
    (e: unknown) => isDocketError(e, 'INVALID_ARGUMENT') && mentions.every((m) => e.message.includes(m)),
  )

describe('JSON values', () => {
  it('accepts plain JSON, including a shared (non-cyclic) object', () => {
    const shared = { a: 1 }
    assert.equal(findNonJson({ x: [1, 'two', null, true, { y: shared, z: shared }] }), null)
  })
  it('names the first value that would not survive a round trip', () => {
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    const cases: [unknown, string][] = [
      [{ a: { b: undefined } }, 'a.b'],
      [{ n: Number.NaN }, 'n'],
      [{ list: [1, Number.POSITIVE_INFINITY] }, 'list.1'],
      [{ big: 1n }, 'big'],
      [{ f: () => 1 }, 'f'],
      [{ s: Symbol('x') }, 's'],
      [{ d: new Date() }, 'd'],
      [{ m: new Map() }, 'm'],
      [{ t: 'a\u0000b' }, 't'],
      [cyclic, 'self'],
    ]
    for (const [value, path] of cases) assert.equal(findNonJson(value)?.path, path)
  })
  it('refuses a value over the size limit', () => {
    invalid(() => assertJsonValue({ s: 'x'.repeat(100) }, 'payload', 50), 'payload', '50')
  })
})

describe('options', () => {
  it('rejects unknown keys, wrong types and out-of-range values, naming each field', () => {
    invalid(
      () => parse(jobInput, { queue: 'q', type: 't', priority: 101, colour: 'red' }, 'job'),
      'priority',
      'colour',
    )
    invalid(() => parse(jobInput, { queue: 'bad name!', type: 't' }, 'job'), 'queue')
    invalid(() => parse(jobInput, { queue: 'q', type: 't', runAt: 'tomorrow' }, 'job'), 'runAt')
    invalid(() => parse(jobInput, { queue: 'q', type: 't', runAt: new Date(), delayMs: 5 }, 'job'), 'delayMs')
    invalid(() => parse(jobInput, { queue: 'q', type: 't', dependsOn: ['nope'] }, 'job'), 'dependsOn.0')
    invalid(() => parse(queueCreateInput, { name: 'q', concurrency: 0 }, 'queue'), 'concurrency')
    try {
      parse(queueCreateInput, { name: 'q', ordering: 'random' }, 'queue')
    } catch (e) {
      assert.ok(e instanceof DocketError)
      assert.deepEqual(
        e.details.issues?.map((i) => i.path),
        ['ordering'],
      )
    }
  })
  it('maps priority names to numbers, higher first', () => {
    assert.deepEqual(
      ['low', 'normal', 'high', 'urgent'].map((p) => priorityValue(p as 'low')),
      [25, 50, 75, 100],
    )
    assert.equal(priorityValue(undefined), 50)
    assert.equal(priorityValue(7), 7)
  })
  it('lower-cases job ids so the same id always finds the same job', () => {
    const id = 'ABCDEF01-2345-4678-89AB-CDEF01234567'
    assert.equal(parse(jobInput, { queue: 'q', type: 't', id }, 'job').id, id.toLowerCase())
  })
})

describe('defaults', () => {
  it('fills a queue from defaults, and a job from its queue', () => {
    const queue = resolveQueue({ name: 'q', maxAttempts: 5, backoff: { delayMs: 10 } })
    assert.equal(queue.mode, 'automatic')
    assert.equal(queue.defaults.backoff.delayMs, 10)
    const job = resolveJob(
      { queue: 'q', type: 't', priority: 'high', capabilities: ['gpu', 'cuda', 'gpu'] },
      queue,
      'id1',
      null,
    )
    assert.equal(job.maxAttempts, 5)
    assert.equal(job.priority, 75)
    assert.deepEqual(job.capabilities, ['cuda', 'gpu'])
    assert.equal(job.payload, null)
  })
  it('an update changes only what it names; null clears a nullable field', () => {
    const queue = resolveQueue({ name: 'q', concurrency: 3, description: 'd' })
    const next = applyQueueUpdate(queue, { concurrency: null })
    assert.equal(next.concurrency, null)
    assert.equal(next.description, 'd')
  })
})

describe('dependency cycles', () => {
  it('accepts chains and diamonds, rejects self-loops and cycles naming the jobs', () => {
    assertAcyclic([
      { id: 'a', dependsOn: [] },
      { id: 'b', dependsOn: ['a'] },
      { id: 'c', dependsOn: ['a'] },
      { id: 'd', dependsOn: ['b', 'c', 'stored-elsewhere'] },
    ])
    invalid(() => assertAcyclic([{ id: 'a', dependsOn: ['a'] }]), 'a -> a')
    invalid(
      () =>
        assertAcyclic([
          { id: 'a', dependsOn: ['c'] },
          { id: 'b', dependsOn: ['a'] },
          { id: 'c', dependsOn: ['b'] },
        ]),
      'a',
      'b',
      'c',
    )
  })
})

describe('cursors', () => {
  const id = '01a2077c-1bd4-73c9-93ef-c56cc71c3994'
  it('round-trip, and only for the sort they were made for', () => {
    const token = encodeCursor({ sort: 'priority', order: 'desc', value: 75, id })
    assert.deepEqual(decodeCursor(token, 'priority', 'desc'), {
      sort: 'priority',
      order: 'desc',
      value: 75,
      id,
    })
    invalid(() => decodeCursor(token, 'createdAt', 'desc'), 'cursor')
    invalid(() => decodeCursor(token, 'priority', 'asc'), 'cursor')
    invalid(() => decodeCursor('garbage', 'priority', 'desc'), 'cursor')
  })
})

describe('statistics', () => {
  it('computes percentiles, throughput, failure rate and series', () => {
    assert.deepEqual(percentiles([]), { p50: null, p90: null, p99: null })
    assert.deepEqual(percentiles([5, 1, 4, 2, 3]), { p50: 3, p90: 5, p99: 5 })
    const now = 10 * 60_000
    const rows = [
      {
        status: 'completed' as const,
        createdAt: 0,
        startedAt: 100,
        finishedAt: now - 30_000,
        durationMs: 50,
      },
      {
        status: 'completed' as const,
        createdAt: 0,
        startedAt: 300,
        finishedAt: now - 90_000,
        durationMs: 70,
      },
      { status: 'failed' as const, createdAt: 0, startedAt: 200, finishedAt: now - 30_000, durationMs: 10 },
    ]
    const s = windowStats(rows, now, 5 * 60_000, 60_000)
    assert.equal(s.completed, 2)
    assert.equal(s.throughputPerMinute, 0.4)
    assert.equal(s.failureRate, 0.3333)
    assert.equal(s.waitMs.p50, 200)
    assert.equal(
      s.series.reduce((n, p) => n + p.completed + p.failed, 0),
      3,
    )
  })
})
