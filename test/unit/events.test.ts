/** The one list of event kinds: the feed's kinds derive from the stored ones, each exactly once. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  FEED_EVENT_KINDS,
  feedKind,
  JOB_EVENT_KINDS,
  QUEUE_EVENT_KINDS,
  REPORTED_EVENT_KINDS,
  WORKER_EVENT_KINDS,
} from '../../src/core/events.js'
import { JOB_STATUSES } from '../../src/core/types.js'

describe('event kinds', () => {
  it('lists every feed kind once, and each is what some stored event becomes', () => {
    assert.equal(new Set(FEED_EVENT_KINDS).size, FEED_EVENT_KINDS.length)
    const produced = new Set([
      ...JOB_STATUSES.map((s) => feedKind('state', s)),
      ...[...JOB_EVENT_KINDS, ...QUEUE_EVENT_KINDS, ...WORKER_EVENT_KINDS]
        .filter((k) => k !== 'state')
        .map((k) => feedKind(k, null)),
    ])
    assert.deepEqual([...produced].sort(), [...FEED_EVENT_KINDS].sort())
  })

  it('names a state event for the status the job moved to, and prefixes job kinds with job.', () => {
    assert.equal(feedKind('added', 'waiting'), 'job.added')
    assert.equal(feedKind('state', 'active'), 'job.started')
    assert.equal(feedKind('state', 'scheduled'), 'job.retrying')
    assert.equal(feedKind('state', 'completed'), 'job.completed')
    assert.equal(feedKind('progress', null), 'job.progress')
    for (const k of REPORTED_EVENT_KINDS) assert.equal(feedKind(k, null), `job.${k}`)
    assert.equal(feedKind('worker.lost', null), 'worker.lost')
    assert.equal(feedKind('queue.paused', null), 'queue.paused')
  })
})
