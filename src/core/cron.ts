/**
 * When a schedule ticks: a cron expression (parsed by croner, with an
 * optional seconds field and time zones with correct DST behaviour) or a
 * plain interval (`every` ms, counted from the schedule's start). Pure: the
 * caller passes every time in.
 *
 * croner's errors are translated here into INVALID_ARGUMENT naming the field
 * of the expression ("cron: minute field: 61 is out of range 0-59"), so bad
 * input never reaches the database.
 */
import { Cron } from 'croner'
import { invalidArgument } from './errors.js'

export interface Timing {
  cron: string | null
  every: number | null
  timezone: string | null
}

/** The tick times of a schedule: the first strictly after a time, and the latest ones at or before one. */
export interface TickClock {
  /** The first tick strictly after `t` (epoch ms); null when there is none (a cron that never fires again). */
  after(t: number): number | null
  /** Up to `n` ticks in (`from`, `to`], the latest ones, oldest first. */
  latestBetween(from: number, to: number, n: number): number[]
}

// croner's field names, with the range and name a person reads in the error.
const FIELDS: Record<string, { label: string; range: string }> = {
  second: { label: 'second', range: '0-59' },
  minute: { label: 'minute', range: '0-59' },
  hour: { label: 'hour', range: '0-23' },
  day: { label: 'day-of-month', range: '1-31' },
  month: { label: 'month', range: '1-12' },
  dayOfWeek: { label: 'day-of-week', range: '0-7' },
}

/** The field order of an expression with 5, 6 (seconds first) or 7 (seconds first, year last) parts. */
function fieldOrder(parts: number): string[] {
  const five = ['minute', 'hour', 'day', 'month', 'dayOfWeek']
  if (parts === 5) return five
  return parts === 6 ? ['second', ...five] : ['second', ...five, 'year']
}

/** A croner error as INVALID_ARGUMENT on `path`, naming the field and what is wrong with it. */
function cronError(expression: string, error: unknown, path: string) {
  const raw = (error instanceof Error ? error.message : String(error)).replace(/^CronPattern:\s*/, '')
  const parts = expression.trim().split(/\s+/)
  const invalid = /^Invalid value for (\w+)/.exec(raw)
  let message = raw
  if (invalid) {
    const field = invalid[1]!
    const info = FIELDS[field] ?? { label: field, range: '' }
    const given = parts[fieldOrder(parts.length).indexOf(field)] ?? ''
    message = `${info.label} field: ${given} is out of range${info.range ? ` ${info.range}` : ''}`
  } else {
    const entry = /^configuration entry (\d+) \((.*)\) contains illegal characters/.exec(raw)
    if (entry) {
      const field = fieldOrder(parts.length)[Number(entry[1]) - 1] ?? 'unknown'
      message = `${FIELDS[field]?.label ?? field} field: '${entry[2]}' contains characters that are not allowed`
    } else if (/exactly five, six, or seven/.test(raw)) {
      message = `expected 5 fields (minute hour day-of-month month day-of-week), 6 with seconds first, or 7 with a year last; got ${parts.filter(Boolean).length}`
    }
  }
  return invalidArgument(`invalid ${path}: ${message}`, [{ path, message }])
}

/** Refuses an unknown IANA time zone, naming `path`. */
export function checkTimezone(timezone: string, path = 'timezone'): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone })
  } catch {
    const message = `'${timezone}' is not an IANA time zone (e.g. 'Europe/Berlin', 'America/New_York', 'UTC')`
    throw invalidArgument(`invalid ${path}: ${message}`, [{ path, message }])
  }
}

/**
 * Compiles a schedule's timing. `anchor` is where an interval counts from
 * (ticks at anchor + k × every); cron ticks do not depend on it.
 * INVALID_ARGUMENT naming `cron` or `timezone` when either is bad.
 */
export function tickClock(timing: Timing, anchor: number): TickClock {
  if (timing.every !== null) return intervalClock(timing.every, anchor)
  if (timing.cron === null)
    throw invalidArgument('a schedule needs cron or every', [{ path: 'cron', message: 'required' }])
  return cronClock(timing.cron, timing.timezone)
}

/** Checks a timing without anything else: INVALID_ARGUMENT for a bad expression, a bad zone, or a cron that never fires after `now`. */
export function checkTiming(timing: Timing, now: number): void {
  if (timing.timezone !== null) checkTimezone(timing.timezone)
  const clock = tickClock(timing, now)
  if (timing.cron !== null && clock.after(now) === null) {
    const message = `'${timing.cron}' never matches a time after now`
    throw invalidArgument(`invalid cron: ${message}`, [{ path: 'cron', message }])
  }
}

function cronClock(expression: string, timezone: string | null): TickClock {
  let cron: Cron
  try {
    cron = new Cron(expression, { paused: true, ...(timezone ? { timezone } : { timezone: 'UTC' }) })
  } catch (error) {
    throw cronError(expression, error, 'cron')
  }
  return {
    after(t) {
      return cron.nextRun(new Date(t))?.getTime() ?? null
    },
    latestBetween(from, to, n) {
      if (to <= from || n <= 0) return []
      // previousRuns excludes its reference time: start 1 ms later so a tick exactly at `to` counts.
      return cron
        .previousRuns(n, new Date(to + 1))
        .map((d) => d.getTime())
        .filter((t) => t > from && t <= to)
        .sort((a, b) => a - b)
    },
  }
}

function intervalClock(every: number, anchor: number): TickClock {
  // Ticks are anchor + k × every for k >= 1.
  const lastAtOrBefore = (t: number) => anchor + Math.floor((t - anchor) / every) * every
  return {
    after(t) {
      if (t < anchor) return anchor + every
      return lastAtOrBefore(t) + every
    },
    latestBetween(from, to, n) {
      const last = lastAtOrBefore(to)
      const ticks: number[] = []
      for (let t = last; t > from && t > anchor && ticks.length < n; t -= every) ticks.push(t)
      return ticks.reverse()
    },
  }
}
