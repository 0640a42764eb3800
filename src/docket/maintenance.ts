/**
 * The maintenance pass's writes: the lease sweep every process runs, each
 * recovery fenced by its lease; and the leader's (expiry, retention, due
 * schedules, and lease recovery by the deprecated call), each fenced by the
 * leader's term when given one (refused with LEADERSHIP_LOST once it is
 * over), and the leadership itself. The
 * maintenance pass (worker/maintenance.ts) runs them; they are not part of
 * the library's front door (docket/internals.ts).
 */
import { type CleanupInput, cleanupInput, parse } from '../core/options.js'
import type { ScheduleRun } from '../core/schedules.js'
import type { LeaderTerm } from '../core/types.js'
import type { DocketContext } from './context.js'
import { Leadership } from './leadership.js'
import { runDueSchedules, type ScheduleContext } from './schedules.js'

export class MaintenanceTasks {
  readonly #ctx: DocketContext
  readonly #schedules: () => ScheduleContext
  /** Named leadership leases with fenced terms (docket/leadership.ts). */
  readonly leadership: Leadership

  constructor(ctx: DocketContext, schedules: () => ScheduleContext) {
    this.#ctx = ctx
    this.#schedules = schedules
    this.leadership = new Leadership(() => ctx.store())
  }

  /** Active jobs whose lease ran out go back to waiting (or fail, out of attempts). Returns how many. */
  async recoverExpiredLeases(fence?: LeaderTerm): Promise<number> {
    const n = await this.#ctx.store().recoverExpiredLeases(fence)
    if (n > 0) await this.#ctx.wake(['*'])
    return n
  }

  /**
   * The lease recovery every process's maintenance pass runs, leader or not, each lease fenced by
   * itself (Store.sweepExpiredLeases). Wakes every worker when it recovered any.
   */
  async sweepExpiredLeases(): Promise<{ recovered: number; nextInMs: number | null }> {
    const swept = await this.#ctx.store().sweepExpiredLeases()
    if (swept.recovered > 0) await this.#ctx.wake(['*'])
    return swept
  }

  /** Ends jobs not started by their expiry (expiresAt / expiresInMs) as failed and expired. Returns how many. */
  async expireJobs(fence?: LeaderTerm): Promise<number> {
    return this.#ctx.store().expireJobs(fence)
  }

  /** Deletes finished jobs older than `olderThanMs`, or, without it, older than each queue's retention. */
  async cleanup(input: CleanupInput = {}, fence?: LeaderTerm): Promise<number> {
    const c = parse(cleanupInput, input, 'cleanup')
    return this.#ctx.store().cleanup({
      olderThanMs: c.olderThanMs ?? null,
      queue: c.queue ?? null,
      batchSize: c.batchSize ?? 1000,
      ...(fence ? { fence } : {}),
    })
  }

  /** Runs every due schedule, each tick exactly once. */
  async runDueSchedules(fence?: LeaderTerm): Promise<ScheduleRun[]> {
    return runDueSchedules(this.#schedules(), fence)
  }
}
