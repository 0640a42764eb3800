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
  /**
   * Milliseconds since some fixed moment, counted by a clock that never jumps (a monotonic
   * clock): what a process measures "how long since" with, unlike now(), which an NTP step or a
   * wrong system clock moves. Without it, a clock's now() stands in for it.
   */
  elapsedMs?(): number
}

/** The process's clock: what Docket uses where the database does not keep the time. */
export const systemClock: Clock = { now: () => new Date(), elapsedMs: () => performance.now() }

/** A clock's monotonic reading (its now() when it has none). */
export const elapsedMsOf = (clock: Clock): (() => number) =>
  clock.elapsedMs ? () => clock.elapsedMs!() : () => clock.now().getTime()

/**
 * A clock that stands still until told to move: `advance(ms)` and `set(date)`.
 * For tests only: a Docket opened with it takes every time from it, on both
 * drivers (PostgreSQL is handed the time as a statement parameter).
 *
 * `advance` is time passing: the time and the time elapsed move together.
 * `set` is the clock being set (an NTP step, someone fixing a wrong clock):
 * the time jumps and no time has passed. Two TestClocks set apart and moved
 * on together stand for two processes whose clocks disagree.
 */
export class TestClock implements Clock {
  #ms: number
  #elapsed = 0

  constructor(start: Date | number = Date.now()) {
    this.#ms = typeof start === 'number' ? start : start.getTime()
  }

  now(): Date {
    return new Date(this.#ms)
  }

  elapsedMs(): number {
    return this.#elapsed
  }

  /** Time passes: `ms` milliseconds. A negative `ms` sets the clock back instead (no time passes). */
  advance(ms: number): Date {
    this.#ms += ms
    if (ms > 0) this.#elapsed += ms
    return this.now()
  }

  /** The clock is set to `at` (a step): the time jumps, the time elapsed stays. */
  set(at: Date | number): Date {
    this.#ms = typeof at === 'number' ? at : at.getTime()
    return this.now()
  }
}

export const isClock = (value: unknown): value is Clock =>
  typeof value === 'object' && value !== null && typeof (value as Clock).now === 'function'
