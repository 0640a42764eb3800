/**
 * Housekeeping. Every process's pass recovers expired leases, leader or not:
 * each recovery is fenced by the lease itself (the database's clock and a row
 * lock on PostgreSQL; on SQLite the lease unchanged for its length by this
 * process's own elapsed time), so it needs no leadership, and a leader that
 * dies or freezes near a lease's expiry no longer delays its recovery by the
 * takeover. The rest one process at a time does for everyone: end jobs past
 * their expiry, mark silent workers lost, run due schedules, and apply queue
 * retention (and forget long-stopped workers).
 *
 * Leadership is a lease row with an expiry (the database clock on
 * PostgreSQL, the writer's clock on SQLite), renewed at the start of every
 * pass and taken over by another process once it lapses, so a leader that is
 * frozen (SIGSTOP, a stalled event loop, a paused VM) stalls nobody for
 * longer than its lease. Every write of a pass names the leader's term and is
 * refused in its own transaction once the term is over, so a leader that
 * wakes late does nothing stale: its pass ends as `deposed`.
 *
 * Each pass is scheduled after the previous one ends, so passes never pile up:
 * one interval later, or sooner when a lease this process watches would run
 * out before that (SQLite), so that its recovery is not an interval late.
 */
import { isDocketError } from '../core/errors.js'
import type { LeaderTerm } from '../core/types.js'
import { internalsOf } from '../docket/internals.js'
import type { MaintenanceTasks } from '../docket/maintenance.js'
import type { Docket } from '../docket.js'

export interface MaintenanceOptions {
  /** How often the leader runs a pass. Default 1 s. */
  intervalMs?: number
  /**
   * How long leadership lasts unless renewed (every pass renews it). A frozen
   * leader is replaced this long after its last renewal, plus up to one
   * interval, so it bounds how long a crashed or frozen leader holds up the
   * leader's work (expiry, lost workers, schedules, retention; lease recovery
   * runs in every process); renewals come every interval plus a pass, so keep
   * it well above that. Default max(3 × intervalMs, 1 s).
   */
  leadershipTtlMs?: number
  /** A worker silent this long is marked lost. Default 30 s. */
  lostAfterMs?: number
  /** How often retention runs. Default 60 s. */
  cleanupEveryMs?: number
  /**
   * Stopped and lost workers are forgotten (removed from the registry) this
   * long after they were last heard from, at each retention run. Default 24 h.
   */
  workerRetentionMs?: number
  holder: string
  onError?: (error: unknown) => void
}

/** What a pass did: it led and finished; another process leads; or its term ended under it. */
export type PassOutcome = 'led' | 'follower' | 'deposed'

export const LEADERSHIP = 'maintenance'

/** The shortest wait between passes, however soon a watched lease would run out. */
const MIN_DELAY_MS = 10

export class Maintenance {
  readonly #docket: Docket
  /** The fenced writes of a pass and the leadership (docket/maintenance.ts), which Docket does not show its users. */
  readonly #tasks: MaintenanceTasks
  readonly #intervalMs: number
  readonly #ttlMs: number
  readonly #lostAfterMs: number
  readonly #cleanupEveryMs: number
  readonly #workerRetentionMs: number
  readonly #holder: string
  readonly #onError: (error: unknown) => void
  #timer: NodeJS.Timeout | null = null
  #running: Promise<void> | null = null
  #stopped = false
  #lastCleanup = 0
  #term: LeaderTerm | null = null
  /** When the next lease this process watches would run out, as the last sweep said. */
  #nextSweepMs: number | null = null

  constructor(docket: Docket, options: MaintenanceOptions) {
    this.#docket = docket
    this.#tasks = internalsOf(docket).maintenance
    this.#intervalMs = options.intervalMs ?? 1_000
    this.#ttlMs = options.leadershipTtlMs ?? Math.max(this.#intervalMs * 3, 1_000)
    this.#lostAfterMs = options.lostAfterMs ?? 30_000
    this.#cleanupEveryMs = options.cleanupEveryMs ?? 60_000
    this.#workerRetentionMs = options.workerRetentionMs ?? 24 * 3600_000
    this.#holder = options.holder
    this.#onError = options.onError ?? (() => {})
  }

  start(): void {
    this.#schedule(0)
  }

  /**
   * One pass: recovers expired leases (in every process), then takes or renews leadership, and if
   * this process has it, does the rest of the housekeeping under its term.
   */
  async runOnce(): Promise<PassOutcome> {
    this.#nextSweepMs = (await this.#tasks.sweepExpiredLeases()).nextInMs
    const term = await this.#tasks.leadership.acquire(LEADERSHIP, this.#holder, this.#ttlMs)
    this.#term = term
    if (!term) return 'follower'
    try {
      await this.#tasks.expireJobs(term)
      await this.#docket.workers.markLost(this.#lostAfterMs, term)
      await this.#tasks.runDueSchedules(term)
      if (Date.now() - this.#lastCleanup >= this.#cleanupEveryMs) {
        this.#lastCleanup = Date.now()
        await this.#tasks.cleanup({}, term)
        await this.#docket.workers.prune(this.#workerRetentionMs, term)
      }
      return 'led'
    } catch (error) {
      // The lease lapsed mid-pass (this process was frozen or slow) and maybe another took over.
      if (!isDocketError(error, 'LEADERSHIP_LOST')) throw error
      if (this.#term === term) this.#term = null
      return 'deposed'
    }
  }

  #schedule(delayMs: number): void {
    if (this.#stopped) return
    this.#timer = setTimeout(() => {
      this.#running = this.runOnce()
        .then(
          () => {},
          (error) => this.#onError(error),
        )
        .finally(() => {
          this.#running = null
          const next = this.#nextSweepMs
          this.#schedule(
            next === null ? this.#intervalMs : Math.min(this.#intervalMs, Math.max(MIN_DELAY_MS, next)),
          )
        })
    }, delayMs)
    this.#timer.unref()
  }

  async stop(): Promise<void> {
    this.#stopped = true
    if (this.#timer) clearTimeout(this.#timer)
    await this.#running
    // Hand leadership over now rather than make the others wait out the lease.
    if (this.#term) await this.#tasks.leadership.release(this.#term).catch(() => {})
    this.#term = null
  }
}
