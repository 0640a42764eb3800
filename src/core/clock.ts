/**
 * Where Docket's time comes from. Every decision that depends on the time
 * (is a lease still held, is a job due, when does a retry run, has a worker
 * gone silent) reads one clock. In production that is the database's own
 * clock on PostgreSQL (`now()` inside each statement, so every process agrees)
 * and the process's clock on SQLite. Tests pass a `TestClock` to
 * `Docket.open(url, { clock })` and move it instead of sleeping.
 */

export interface Clock {
  now(): Date
}

/** The process's clock: what Docket uses where the database does not keep the time. */
export const systemClock: Clock = { now: () => new Date() }

/**
 * A clock that stands still until told to move: `advance(ms)` and `set(date)`.
 * For tests only: a Docket opened with it takes every time from it, on both
 * drivers (PostgreSQL is handed the time as a statement parameter).
 */
export class TestClock implements Clock {
  #ms: number

  constructor(start: Date | number = Date.now()) {
    this.#ms = typeof start === 'number' ? start : start.getTime()
  }

  now(): Date {
    return new Date(this.#ms)
  }

  /** Moves the clock forward by `ms` milliseconds (backward if negative). */
  advance(ms: number): Date {
    this.#ms += ms
    return this.now()
  }

  set(at: Date | number): Date {
    this.#ms = typeof at === 'number' ? at : at.getTime()
    return this.now()
  }
}

export const isClock = (value: unknown): value is Clock =>
  typeof value === 'object' && value !== null && typeof (value as Clock).now === 'function'
