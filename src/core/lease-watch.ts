/**
 * Judging a lease by elapsed time, not by comparing clocks. On SQLite every
 * process writes lease times with its own clock, so a process whose clock
 * runs ahead sees every other process's leases as expired, and a clock
 * stepped forward (NTP) expires them all at once. Two rules, each judged by
 * one process's monotonic clock only (Clock.elapsedMs):
 *
 * - LeaseWatch, for a lease another process holds: it counts as run out
 *   only once this process has seen it unchanged (the same token, the same
 *   heartbeat count) for its whole length and a tolerance. A lease that is
 *   heartbeating changes state every beat, so it is never taken, whatever
 *   the clocks say. A watcher that starts late only waits longer.
 * - OwnLeases, for a lease this process granted or extended itself: it holds
 *   until the lease's length has elapsed since, even if the wall clock was
 *   stepped past its expiry meanwhile (the wall clock's verdict still counts
 *   when it says the lease holds, as before).
 *
 * Both are pure: the driver (storage/sqlite/leases.ts) reads the rows, says
 * what time it is, and writes what these decide.
 */

/** A lease as a read of the active jobs finds it. */
export interface SeenLease {
  id: string
  /** Changes whenever the lease does: its token, heartbeat count and expiry, joined. */
  state: string
  /** How long the lease lasts from its last claim or heartbeat. */
  leaseMs: number
}

export class LeaseWatch {
  readonly #seen = new Map<string, { state: string; since: number }>()

  /**
   * What a read of every active lease found at elapsed time `at`: each lease's state is
   * remembered from the first time it was seen as it is, leases no longer active are forgotten,
   * and those unchanged for their length plus `toleranceMs` come back as `stale`, with
   * `nextInMs`, how long until the next of the others is (null: none left).
   */
  observe(
    leases: SeenLease[],
    at: number,
    toleranceMs: number,
  ): { stale: SeenLease[]; nextInMs: number | null } {
    const active = new Set<string>()
    const stale: SeenLease[] = []
    let nextInMs: number | null = null
    for (const lease of leases) {
      active.add(lease.id)
      let seen = this.#seen.get(lease.id)
      if (seen?.state !== lease.state) {
        seen = { state: lease.state, since: at }
        this.#seen.set(lease.id, seen)
      }
      const left = seen.since + lease.leaseMs + toleranceMs - at
      if (left <= 0) stale.push(lease)
      else nextInMs = nextInMs === null ? left : Math.min(nextInMs, left)
    }
    for (const id of this.#seen.keys()) if (!active.has(id)) this.#seen.delete(id)
    return { stale, nextInMs }
  }
}

/** Most leases remembered by OwnLeases before those past their time are dropped. */
const OWN_LIMIT = 10_000

export class OwnLeases {
  readonly #own = new Map<string, { token: string; until: number }>()

  /** This process granted or extended the lease `token` on job `id` at elapsed time `at`. */
  granted(id: string, token: string, leaseMs: number, at: number): void {
    if (this.#own.size >= OWN_LIMIT) this.prune(at)
    this.#own.set(id, { token, until: at + leaseMs })
  }

  /** Whether that lease still holds by this process's elapsed time. */
  holds(id: string, token: string, at: number): boolean {
    const own = this.#own.get(id)
    return own !== undefined && own.token === token && at < own.until
  }

  /** The lease on job `id` ended here (completed, failed, released, recovered). */
  ended(id: string): void {
    this.#own.delete(id)
  }

  /** Forgets leases past their time. */
  prune(at: number): void {
    for (const [id, own] of this.#own) if (own.until <= at) this.#own.delete(id)
  }
}
