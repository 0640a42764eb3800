/** Schedule timing (core/cron.ts): cron and interval ticks, time zones, and errors that name the field. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { checkTimezone, checkTiming, tickClock } from '../../src/core/cron.js'
import { expectDocketError } from './expect-error.js'

/** `fn` must throw INVALID_ARGUMENT whose message matches `pattern`. */
const refused = (fn: () => unknown, pattern: RegExp) =>
  assert.match(expectDocketError(fn, 'INVALID_ARGUMENT').message, pattern)

const at = (iso: string) => Date.parse(iso)
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())

describe('cron', () => {
  it('an interval ticks at anchor + k × every, the first strictly after the time asked', () => {
    const clock = tickClock({ cron: null, every: 1_000, timezone: null }, 10_000)
    assert.equal(clock.after(9_000), 11_000, 'before the anchor: the first tick')
    assert.equal(clock.after(10_000), 11_000)
    assert.equal(clock.after(11_000), 12_000, 'strictly after a tick')
    assert.equal(clock.after(11_999), 12_000)
  })

  it('an interval lists the latest ticks in (from, to], oldest first, never the anchor itself', () => {
    const clock = tickClock({ cron: null, every: 1_000, timezone: null }, 10_000)
    assert.deepEqual(clock.latestBetween(10_000, 15_000, 10), [11_000, 12_000, 13_000, 14_000, 15_000])
    assert.deepEqual(clock.latestBetween(10_000, 15_000, 2), [14_000, 15_000], 'the latest n')
    assert.deepEqual(clock.latestBetween(12_000, 12_999, 5), [])
  })

  it('a cron ticks on its expression, in UTC unless a zone is given', () => {
    const utc = tickClock({ cron: '0 3 * * *', every: null, timezone: null }, 0)
    assert.equal(iso(utc.after(at('2030-01-01T03:00:00Z'))), '2030-01-02T03:00:00.000Z')
    const berlin = tickClock({ cron: '0 3 * * *', every: null, timezone: 'Europe/Berlin' }, 0)
    assert.equal(iso(berlin.after(at('2030-01-01T00:00:00Z'))), '2030-01-01T02:00:00.000Z', 'CET is UTC+1')
    assert.equal(iso(berlin.after(at('2030-07-01T00:00:00Z'))), '2030-07-01T01:00:00.000Z', 'CEST is UTC+2')
  })

  it('a cron with seconds, and its latest ticks counting one exactly at `to`', () => {
    const clock = tickClock({ cron: '*/10 * * * * *', every: null, timezone: null }, 0)
    const to = at('2030-01-01T00:01:00Z')
    assert.deepEqual(clock.latestBetween(to - 30_000, to, 3).map(iso), [
      '2030-01-01T00:00:40.000Z',
      '2030-01-01T00:00:50.000Z',
      '2030-01-01T00:01:00.000Z',
    ])
    assert.deepEqual(clock.latestBetween(to, to, 3), [], 'an empty window')
  })

  it('refuses a bad expression naming the field and its range', () => {
    refused(
      () => tickClock({ cron: '61 * * * *', every: null, timezone: null }, 0),
      /invalid cron: minute field: 61 is out of range 0-59/,
    )
    refused(
      () => tickClock({ cron: '0 25 * * *', every: null, timezone: null }, 0),
      /hour field: 25 is out of range 0-23/,
    )
    refused(() => tickClock({ cron: '* * *', every: null, timezone: null }, 0), /expected 5 fields .* got 3/)
  })

  it('needs a cron or an interval', () => {
    refused(() => tickClock({ cron: null, every: null, timezone: null }, 0), /a schedule needs cron or every/)
  })

  it('refuses an unknown time zone, and a cron that never fires again', () => {
    checkTimezone('America/New_York')
    refused(() => checkTimezone('Mars/Olympus'), /'Mars\/Olympus' is not an IANA time zone/)
    refused(
      () => checkTiming({ cron: '0 0 * * *', every: null, timezone: 'Nowhere/Here' }, 0),
      /not an IANA time zone/,
    )
    refused(
      () =>
        checkTiming({ cron: '0 0 0 1 1 * 2020', every: null, timezone: null }, at('2030-01-01T00:00:00Z')),
      /never matches a time after now/,
    )
    checkTiming({ cron: '0 0 * * *', every: null, timezone: 'UTC' }, at('2030-01-01T00:00:00Z'))
  })
})
