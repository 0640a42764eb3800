/** Statistics from finished jobs and a queue's health (core/stats.ts): pure functions over what the store read. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { fingerprintError } from '../../src/core/fingerprint.js'
import {
  type FinishedJobRow,
  percentiles,
  queueHealth,
  type TopError,
  topErrorGroups,
  windowStats,
} from '../../src/core/stats.js'

const MIN = 60_000
const NOW = Date.UTC(2030, 0, 1, 12)

const row = (patch: Partial<FinishedJobRow>): FinishedJobRow => ({
  status: 'completed',
  createdAt: NOW - 10 * MIN,
  startedAt: NOW - 9 * MIN,
  finishedAt: NOW - MIN,
  durationMs: 1_000,
  ...patch,
})

describe('stats', () => {
  it('percentiles are nearest-rank over the sorted values, null when there are none', () => {
    assert.deepEqual(percentiles([]), { p50: null, p90: null, p99: null })
    assert.deepEqual(percentiles([7]), { p50: 7, p90: 7, p99: 7 })
    const hundred = Array.from({ length: 100 }, (_, i) => 100 - i)
    assert.deepEqual(percentiles(hundred), { p50: 50, p90: 90, p99: 99 })
  })

  it('counts what finished in the window by outcome, expired among the failed, and ignores the rest', () => {
    const s = windowStats(
      [
        row({}),
        row({ status: 'completed', finishedAt: NOW - 2 * 3600_000 }),
        row({ status: 'failed' }),
        row({ status: 'failed', expired: true, startedAt: null, durationMs: null }),
        row({ status: 'cancelled' }),
        row({ finishedAt: NOW + 1 }),
      ],
      NOW,
      3600_000,
      5 * MIN,
    )
    assert.deepEqual([s.completed, s.failed, s.expired, s.cancelled], [1, 2, 1, 1])
    assert.equal(s.failureRate, 0.6667, 'failed / (completed + failed), to four places')
    assert.equal(s.throughputPerMinute, Math.round((1 / 60) * 100) / 100)
  })

  it('waits and run times come from the jobs that ran; a cancelled job is not among them', () => {
    const s = windowStats(
      [
        row({ createdAt: NOW - 10 * MIN, startedAt: NOW - 9 * MIN, durationMs: 500 }),
        row({ status: 'cancelled', createdAt: NOW - 60 * MIN, startedAt: NOW - 2 * MIN, durationMs: 99_999 }),
        // A clock step back must not give a negative wait.
        row({ createdAt: NOW - MIN, startedAt: NOW - 2 * MIN, durationMs: 1_500 }),
      ],
      NOW,
      3600_000,
      5 * MIN,
    )
    assert.deepEqual(s.waitMs, { p50: 0, p90: MIN, p99: MIN })
    assert.deepEqual(s.runMs, { p50: 500, p90: 1_500, p99: 1_500 })
  })

  it('nothing finished: no failure rate, and a series of empty buckets covering the window', () => {
    const s = windowStats([], NOW, 3600_000, 5 * MIN)
    assert.equal(s.failureRate, null)
    assert.equal(s.series.length, 13, 'a bucket for each 5 minutes, and the one now is in')
    assert.ok(s.series.every((p) => p.completed === 0 && p.failed === 0))
    assert.equal(s.series[0]!.t, NOW - 3600_000)
  })

  it('puts each finished job in the bucket of its finish time', () => {
    const s = windowStats(
      [
        row({ finishedAt: NOW - 3600_000 }),
        row({ status: 'failed', finishedAt: NOW }),
        row({ status: 'cancelled' }),
      ],
      NOW,
      3600_000,
      5 * MIN,
    )
    assert.equal(s.series[0]!.completed, 1)
    assert.equal(s.series.at(-1)!.failed, 1)
    assert.equal(
      s.series.reduce((n, p) => n + p.completed + p.failed, 0),
      2,
      'cancelled jobs are in no bucket',
    )
  })

  it("a queue's health: latency of the oldest ready job, rates per minute, the backlog trend, stalled", () => {
    const health = queueHealth(
      {
        oldestReadyAt: NOW - 30_000,
        finished: { lastMinute: { completed: 4, failed: 1 }, last5Minutes: { completed: 10, failed: 3 } },
        added5Minutes: 20,
        topErrors: [
          {
            fingerprint: 'f1',
            name: 'Error',
            message: 'boom',
            stack: null,
            count: 3,
            firstSeenAt: NOW - 9,
            latestJobId: 'j',
            latestAt: NOW - 1,
          },
        ],
      },
      NOW,
      true,
    )
    assert.equal(health.latencyMs, 30_000)
    assert.deepEqual(health.rates, {
      lastMinute: { completed: 4, failed: 1 },
      last5Minutes: { completed: 2, failed: 0.6 },
    })
    assert.equal(health.backlogTrendPerMinute, 1.4, '(20 added - 13 finished) / 5')
    assert.equal(health.stalled, true, 'paused with a job ready')
    assert.deepEqual(health.topErrors[0]!.latestAt, new Date(NOW - 1))
  })

  it('top errors: the fingerprint and normalised text, and groups of old errors merged into their fingerprint', () => {
    const err = (patch: Partial<TopError>): TopError => ({
      fingerprint: null,
      name: 'Error',
      message: 'page 3 of deck 01JE4ZQ8M2V6X9T3K7B5N1R0CD failed',
      stack: null,
      count: 1,
      firstSeenAt: NOW - 50,
      latestJobId: 'a',
      latestAt: NOW - 40,
      ...patch,
    })
    const print = fingerprintError(err({}))
    const groups = topErrorGroups([
      err({ fingerprint: 'other', message: 'boom', count: 2, latestJobId: 'b' }),
      // Stored before fingerprints existed, grouped by exact message: one class with the newer group.
      err({}),
      err({
        fingerprint: print.fingerprint,
        message: 'page 4 of deck 01KF5ARBN3W7Y0V4M8C6P2S1DE failed',
        count: 2,
        firstSeenAt: NOW - 30,
        latestJobId: 'c',
        latestAt: NOW - 5,
      }),
    ])
    assert.deepEqual(
      groups.map((g) => [
        g.fingerprint,
        g.count,
        g.message,
        g.latestJobId,
        g.firstSeenAt.getTime(),
        g.lastSeenAt.getTime(),
      ]),
      [
        [print.fingerprint, 3, 'page 4 of deck 01KF5ARBN3W7Y0V4M8C6P2S1DE failed', 'c', NOW - 50, NOW - 5],
        ['other', 2, 'boom', 'b', NOW - 50, NOW - 40],
      ],
    )
    assert.equal(groups[0]!.normalized, 'Error: page <num> of deck <ulid> failed')
  })

  it('an idle queue has no latency, and is not stalled when nothing is ready', () => {
    const health = queueHealth(
      {
        oldestReadyAt: null,
        finished: { lastMinute: { completed: 0, failed: 0 }, last5Minutes: { completed: 5, failed: 0 } },
        added5Minutes: 0,
        topErrors: [],
      },
      NOW,
      true,
    )
    assert.equal(health.latencyMs, 0)
    assert.equal(health.stalled, false)
    assert.equal(health.backlogTrendPerMinute, -1, 'shrinking')
  })
})
