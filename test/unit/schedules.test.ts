import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { checkTiming, tickClock } from '../../src/core/cron.js'
import {
  applyScheduleUpdate,
  MAX_CATCH_UP,
  nextTicks,
  ON_TIME_MS,
  planTicks,
  resolveSchedule,
  type ScheduleRecord,
} from '../../src/core/schedules.js'
import { expectDocketError, issuePaths } from './expect-error.js'

const T = (iso: string) => Date.parse(iso)
const iso = (ms: number[]) => ms.map((t) => new Date(t).toISOString())
const everyMinute = { cron: '* * * * *', every: null, timezone: null }
const everySecond = { cron: '* * * * * *', every: null, timezone: null }

describe('schedules: planTicks', () => {
  it('runs the one tick due since the cursor, and says when the next one is', () => {
    const plan = planTicks({
      timing: everyMinute,
      cursor: T('2026-01-01T00:00:30Z'),
      now: T('2026-01-01T00:01:00.400Z'),
      catchUp: 'latest',
    })
    assert.deepEqual(iso(plan.ticks), ['2026-01-01T00:01:00.000Z'])
    assert.equal(plan.cursor, T('2026-01-01T00:01:00Z'))
    assert.equal(plan.nextRunAt, T('2026-01-01T00:02:00Z'))
  })

  it('nothing due: no ticks, the cursor stays, the next run is the first after it', () => {
    const cursor = T('2026-01-01T00:01:00Z')
    const plan = planTicks({ timing: everyMinute, cursor, now: cursor + 59_000, catchUp: 'all' })
    assert.deepEqual(plan, { ticks: [], cursor, nextRunAt: T('2026-01-01T00:02:00Z') })
  })

  it('a tick exactly at now is due; one exactly at the cursor was done', () => {
    const plan = planTicks({
      timing: everyMinute,
      cursor: T('2026-01-01T00:01:00Z'),
      now: T('2026-01-01T00:02:00Z'),
      catchUp: 'all',
    })
    assert.deepEqual(iso(plan.ticks), ['2026-01-01T00:02:00.000Z'])
  })

  it('catchUp all runs every missed tick, oldest first; latest collapses them into one; none skips them', () => {
    const input = {
      timing: everyMinute,
      cursor: T('2026-01-01T00:00:00Z'),
      now: T('2026-01-01T00:05:10Z'),
    }
    const all = planTicks({ ...input, catchUp: 'all' })
    assert.deepEqual(iso(all.ticks), [
      '2026-01-01T00:01:00.000Z',
      '2026-01-01T00:02:00.000Z',
      '2026-01-01T00:03:00.000Z',
      '2026-01-01T00:04:00.000Z',
      '2026-01-01T00:05:00.000Z',
    ])
    assert.deepEqual(iso(planTicks({ ...input, catchUp: 'latest' }).ticks), ['2026-01-01T00:05:00.000Z'])
    // The 00:05 tick is 10 s late: on time, so `none` runs it and only it.
    assert.deepEqual(iso(planTicks({ ...input, catchUp: 'none' }).ticks), ['2026-01-01T00:05:00.000Z'])
    for (const catchUp of ['all', 'latest', 'none'] as const)
      assert.equal(planTicks({ ...input, catchUp }).cursor, T('2026-01-01T00:05:00Z'), catchUp)
  })

  it('catchUp none runs nothing when even the latest tick is late', () => {
    const plan = planTicks({
      timing: everyMinute,
      cursor: T('2026-01-01T00:00:00Z'),
      now: T('2026-01-01T00:05:00Z') + ON_TIME_MS + 1,
      catchUp: 'none',
    })
    assert.deepEqual(plan.ticks, [])
    assert.equal(plan.cursor, T('2026-01-01T00:05:00Z'), 'the missed ticks are done with')
  })

  it(`catchUp all is capped at the latest ${MAX_CATCH_UP} ticks`, () => {
    const plan = planTicks({
      timing: everySecond,
      cursor: T('2026-01-01T00:00:00Z'),
      now: T('2026-01-01T01:00:00Z'),
      catchUp: 'all',
    })
    assert.equal(plan.ticks.length, MAX_CATCH_UP)
    assert.equal(plan.ticks[0], T('2026-01-01T01:00:00Z') - (MAX_CATCH_UP - 1) * 1000)
    assert.equal(plan.ticks.at(-1), T('2026-01-01T01:00:00Z'))
  })

  it('every: ticks at cursor + k × every', () => {
    const cursor = T('2026-01-01T00:00:00.250Z')
    const timing = { cron: null, every: 10_000, timezone: null }
    const plan = planTicks({ timing, cursor, now: cursor + 35_000, catchUp: 'all' })
    assert.deepEqual(plan.ticks, [cursor + 10_000, cursor + 20_000, cursor + 30_000])
    assert.equal(plan.nextRunAt, cursor + 40_000)
    assert.deepEqual(nextTicks(timing, cursor, cursor, 2), [cursor + 10_000, cursor + 20_000])
  })

  it('time zones: a daily 02:30 in Berlin skips the missing hour of the spring change and runs once in autumn', () => {
    const timing = { cron: '30 2 * * *', every: null, timezone: 'Europe/Berlin' }
    // 2026-03-29: clocks go 02:00 -> 03:00 in Berlin; croner runs the job at the first valid time.
    const spring = nextTicks(timing, 0, T('2026-03-27T12:00:00Z'), 3)
    assert.deepEqual(iso(spring), [
      '2026-03-28T01:30:00.000Z',
      '2026-03-29T01:00:00.000Z',
      '2026-03-30T00:30:00.000Z',
    ])
    // 2026-10-25: 02:30 happens twice in Berlin; the schedule runs once.
    const autumn = nextTicks(timing, 0, T('2026-10-24T12:00:00Z'), 3)
    assert.equal(new Set(autumn).size, 3)
    assert.deepEqual(
      autumn.map((t) => new Date(t).toISOString().slice(0, 10)),
      ['2026-10-25', '2026-10-26', '2026-10-27'],
    )
  })

  it('a cron with a seconds field ticks every matching second', () => {
    const ticks = tickClock({ cron: '*/15 * * * * *', every: null, timezone: null }, 0).latestBetween(
      T('2026-01-01T00:00:00Z'),
      T('2026-01-01T00:01:00Z'),
      10,
    )
    assert.deepEqual(
      ticks.map((t) => new Date(t).toISOString().slice(14, 19)),
      ['00:15', '00:30', '00:45', '01:00'],
    )
  })
})

describe('schedules: bad timing', () => {
  const now = T('2026-01-01T00:00:00Z')
  const cron = (expression: string) => ({ cron: expression, every: null, timezone: null })

  it('names the cron field and what is wrong with it', () => {
    const e = expectDocketError(
      () => checkTiming(cron('61 * * * *'), now),
      'INVALID_ARGUMENT',
      'cron',
      'minute field: 61 is out of range 0-59',
    )
    assert.deepEqual(issuePaths(e), ['cron'])
    expectDocketError(() => checkTiming(cron('0 25 * * *'), now), 'INVALID_ARGUMENT', 'hour field: 25')
    expectDocketError(
      () => checkTiming(cron('0 0 32 * *'), now),
      'INVALID_ARGUMENT',
      'day-of-month field: 32',
    )
    expectDocketError(() => checkTiming(cron('0 0 1 13 *'), now), 'INVALID_ARGUMENT', 'month field: 13')
    expectDocketError(() => checkTiming(cron('99 * * * * *'), now), 'INVALID_ARGUMENT', 'second field: 99')
    expectDocketError(() => checkTiming(cron('x * * * *'), now), 'INVALID_ARGUMENT', "minute field: 'x'")
    expectDocketError(() => checkTiming(cron('* * *'), now), 'INVALID_ARGUMENT', 'expected 5 fields')
    expectDocketError(() => checkTiming(cron('0 0 31 2 *'), now), 'INVALID_ARGUMENT', 'never matches')
  })

  it('refuses an unknown time zone, naming timezone', () => {
    const e = expectDocketError(
      () => checkTiming({ ...cron('* * * * *'), timezone: 'Mars/Olympus' }, now),
      'INVALID_ARGUMENT',
      'timezone',
      'Mars/Olympus',
    )
    assert.deepEqual(issuePaths(e), ['timezone'])
  })

  it('a schedule takes cron or every, exactly one, and a time zone only with cron', () => {
    const base = { name: 's', queue: 'q', type: 't' }
    expectDocketError(() => resolveSchedule(base, 'id', now), 'INVALID_ARGUMENT', 'cron or every')
    expectDocketError(
      () => resolveSchedule({ ...base, cron: '* * * * *', every: 5000 }, 'id', now),
      'INVALID_ARGUMENT',
      'not both',
    )
    expectDocketError(
      () => resolveSchedule({ ...base, every: 5000, timezone: 'UTC' }, 'id', now),
      'INVALID_ARGUMENT',
      'timezone',
    )
  })
})

describe('schedules: updates', () => {
  const now = T('2026-01-01T00:00:00Z')
  const current: ScheduleRecord = resolveSchedule(
    { name: 's', queue: 'q', type: 't', cron: '* * * * *', timezone: 'UTC' },
    'id',
    now,
  )

  it('switching to every drops cron and its time zone; ticks restart from now', () => {
    const { record, restart } = applyScheduleUpdate(current, { every: 5000 }, now)
    assert.deepEqual([record.cron, record.every, record.timezone], [null, 5000, null])
    assert.equal(restart, true)
  })

  it('resuming restarts the ticks; changing only the payload does not', () => {
    const paused = { ...current, enabled: false }
    assert.equal(applyScheduleUpdate(paused, { enabled: true }, now).restart, true)
    assert.equal(applyScheduleUpdate(current, { payload: { a: 1 } }, now).restart, false)
  })

  it('a bad new cron is refused', () => {
    expectDocketError(
      () => applyScheduleUpdate(current, { cron: '* 24 * * *' }, now),
      'INVALID_ARGUMENT',
      'hour',
    )
  })
})
