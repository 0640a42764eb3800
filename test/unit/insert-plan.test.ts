/** The insert plan (core/insert.ts): dedupe, renaming, dependency checks, pending counts, initial status. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { dedupeSlot, insertLookups, planInsert, type StoredUpstream } from '../../src/core/insert.js'
import { type NewJob, resolveJob, resolveQueue } from '../../src/core/resolve.js'
import type { Job } from '../../src/core/types.js'
import { expectDocketError } from './expect-error.js'

const NOW = Date.UTC(2030, 0, 1)
const queues = new Map([
  ['auto', resolveQueue({ name: 'auto' })],
  ['manual', resolveQueue({ name: 'manual', mode: 'manual' })],
])

let n = 0
const newJob = (patch: Partial<NewJob> = {}): NewJob => ({
  ...resolveJob({ queue: 'auto', type: 't' }, queues.get('auto')!, `job-${++n}`, null),
  ...patch,
})

/** A stored job, as a driver would read it back, with only what the plan looks at mattering. */
const storedJob = (id: string, patch: Partial<Job> = {}): Job =>
  ({ id, queue: 'auto', status: 'waiting', owner: null, dedupeKey: null, ...patch }) as Job

const plan = (
  jobs: NewJob[],
  stored: { duplicates?: Map<string, Job>; upstream?: Map<string, StoredUpstream> } = {},
) =>
  planInsert({
    jobs,
    queues,
    now: NOW,
    duplicates: stored.duplicates ?? new Map(),
    upstream: stored.upstream ?? new Map(),
  })

describe('planInsert', () => {
  it('gives each new job its initial status: blocked, held, scheduled or waiting', () => {
    const upstream = newJob()
    const jobs = [
      upstream,
      newJob({ dependsOn: [upstream.id] }),
      newJob({ queue: 'manual' }),
      newJob({ delayMs: 5_000 }),
      newJob({ runAt: new Date(NOW - 1) }),
    ]
    const p = plan(jobs)
    assert.deepEqual(
      p.inserts.map((i) => i.status),
      ['waiting', 'blocked', 'held', 'scheduled', 'waiting'],
    )
    assert.equal(p.inserts[3]!.runAtMs, NOW + 5_000, 'a delay counts from the transaction time')
    assert.deepEqual(p.edges, [[jobs[1]!.id, upstream.id, 'success']])
    assert.deepEqual(
      p.slots.map((s) => s.deduplicated),
      [false, false, false, false, false],
    )
  })

  it('counts only the stored dependencies that have not completed', () => {
    const job = newJob({ dependsOn: ['done', 'running'] })
    const p = plan([job], {
      upstream: new Map([
        ['done', { status: 'completed', owner: null }],
        ['running', { status: 'active', owner: null }],
      ]),
    })
    assert.equal(p.inserts[0]!.pending, 1)
    assert.equal(p.inserts[0]!.status, 'blocked')
    const free = plan([newJob({ dependsOn: ['done'] })], {
      upstream: new Map([['done', { status: 'completed', owner: null }]]),
    })
    assert.equal(free.inserts[0]!.status, 'waiting', 'every dependency completed: ready at once')
  })

  it('returns the live stored job for a dedupe key instead of inserting, and points dependents at it', () => {
    const twin = storedJob('stored-1', { dedupeKey: 'k' })
    const keyed = newJob({ dedupeKey: 'k' })
    const dependent = newJob({ dependsOn: [keyed.id] })
    const p = plan([dependent, keyed], {
      duplicates: new Map([[dedupeSlot('auto', null, 'k'), twin]]),
    })
    assert.deepEqual(p.slots, [
      { deduplicated: false, id: dependent.id },
      { deduplicated: true, stored: twin },
    ])
    assert.deepEqual(
      p.inserts.map((i) => i.job.id),
      [dependent.id],
    )
    assert.deepEqual(p.inserts[0]!.dependsOn, ['stored-1'], 'renamed even though it was listed first')
    assert.equal(p.inserts[0]!.status, 'blocked', 'the live job it now waits for has not completed')
  })

  it('deduplicates within one call onto the first job with the key, per queue and owner', () => {
    const first = newJob({ dedupeKey: 'k' })
    const again = newJob({ dedupeKey: 'k' })
    const otherOwner = newJob({ dedupeKey: 'k', owner: 'alice' })
    const otherQueue = newJob({ dedupeKey: 'k', queue: 'manual' })
    const p = plan([first, again, otherOwner, otherQueue])
    assert.deepEqual(p.slots, [
      { deduplicated: false, id: first.id },
      { deduplicated: true, id: first.id },
      { deduplicated: false, id: otherOwner.id },
      { deduplicated: false, id: otherQueue.id },
    ])
  })

  it("refuses a dependency that does not exist or is someone else's, alike", () => {
    expectDocketError(() => plan([newJob({ dependsOn: ['ghost'] })]), 'NOT_FOUND', 'ghost')
    const theirs = new Map([['theirs', { status: 'waiting' as const, owner: 'bob' }]])
    expectDocketError(
      () => plan([newJob({ owner: 'alice', dependsOn: ['theirs'] })], { upstream: theirs }),
      'NOT_FOUND',
      'theirs',
    )
    const bobs = newJob({ owner: 'bob' })
    expectDocketError(() => plan([bobs, newJob({ owner: 'alice', dependsOn: [bobs.id] })]), 'NOT_FOUND')
  })

  it('refuses a dependency that failed or was cancelled, and a cycle', () => {
    for (const status of ['failed', 'cancelled'] as const) {
      expectDocketError(
        () =>
          plan([newJob({ dependsOn: ['dead'] })], { upstream: new Map([['dead', { status, owner: null }]]) }),
        'CONFLICT',
        status,
      )
    }
    const a = newJob()
    const b = newJob({ dependsOn: [a.id] })
    a.dependsOn = [b.id]
    expectDocketError(() => plan([a, b]), 'INVALID_ARGUMENT', 'cycle')
  })

  it('refuses two new jobs with one id', () => {
    const job = newJob()
    expectDocketError(() => plan([job, { ...job }]), 'CONFLICT', job.id)
  })
})

describe('insertLookups', () => {
  it('asks only for keyed jobs and for dependencies outside the call', () => {
    const a = newJob({ dedupeKey: 'k' })
    const b = newJob({ dependsOn: [a.id, 'stored', 'stored'] })
    const lookups = insertLookups([a, b])
    assert.deepEqual(
      lookups.keyed.map((j) => j.id),
      [a.id],
    )
    assert.deepEqual(lookups.upstream, ['stored'])
  })

  it('a completion dependency on a failed or cancelled job is settled; a success one is refused', () => {
    for (const status of ['failed', 'cancelled'] as const) {
      const upstream = new Map([['up', { status, owner: null }]])
      const p = plan([newJob({ dependsOn: ['up'], onCompletion: ['up'] })], { upstream })
      assert.equal(p.inserts[0]!.status, 'waiting')
      assert.equal(p.inserts[0]!.pending, 0)
      assert.deepEqual(p.edges[0]!.slice(1), ['up', 'completion'])
      assert.throws(() => plan([newJob({ dependsOn: ['up'] })], { upstream }), /will never complete/)
    }
    const running = new Map([['up', { status: 'active' as const, owner: null }]])
    assert.equal(
      plan([newJob({ dependsOn: ['up'], onCompletion: ['up'] })], { upstream: running }).inserts[0]!.pending,
      1,
    )
  })
})
