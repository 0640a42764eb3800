/**
 * The lease keeper looks after the leases of the jobs a worker is running:
 *
 * - every `heartbeatMs` it extends them in one statement (and records the
 *   worker's load); a lease it can no longer extend aborts its handler with
 *   reason 'lease-lost';
 * - cancellation: on PostgreSQL a cancel arrives at once as a notification on
 *   the Docket's LISTEN connection and aborts the handler with 'cancelled';
 *   every `cancelCheckMs`, on both drivers, one read-only statement asks which
 *   leases are gone and why (the safety net, and SQLite's only way).
 */
import type { ClaimedJob } from '../core/types.js'
import type { Docket } from '../docket.js'
import type { LeaseRef, WorkerRecord } from '../storage/store.js'
import type { Execution } from './executor.js'

export interface LeaseKeeperDeps {
  docket: Docket
  leaseMs: number
  heartbeatMs: number
  cancelCheckMs: number
  /** This worker, as registered (registered again if maintenance marked it lost). */
  record: () => WorkerRecord
  /** The jobs running now, by id. */
  running: ReadonlyMap<string, Execution>
  onError: (error: unknown, job?: ClaimedJob) => void
}

export class LeaseKeeper {
  readonly #deps: LeaseKeeperDeps
  readonly #timers: NodeJS.Timeout[] = []
  #unsubscribe: (() => Promise<void>) | null = null
  #stopped = false

  constructor(deps: LeaseKeeperDeps) {
    this.#deps = deps
  }

  async start(): Promise<void> {
    this.#unsubscribe = await this.#deps.docket.workers.onCancelled((lease) => this.#onCancelled(lease))
    this.#every(this.#deps.heartbeatMs, () => this.#heartbeat())
    this.#every(this.#deps.cancelCheckMs, () => this.#checkLeases())
  }

  async stop(): Promise<void> {
    this.#stopped = true
    for (const t of this.#timers) clearInterval(t)
    await this.#unsubscribe?.()
  }

  /** Running jobs whose handler has not been aborted yet. */
  #live(): Execution[] {
    return [...this.#deps.running.values()].filter((e) => !e.aborted)
  }

  #onCancelled(lease: LeaseRef | '*'): void {
    if (this.#stopped) return
    // '*': the connection was lost and notifications with it; check every lease now.
    if (lease === '*') {
      this.#checkLeases().catch((e) => this.#deps.onError(e))
      return
    }
    const execution = this.#deps.running.get(lease.id)
    // The token tells this attempt from a later one of the same job.
    if (execution?.job.lease.token === lease.token) execution.abort('cancelled')
  }

  async #heartbeat(): Promise<void> {
    const { docket, leaseMs } = this.#deps
    if (!(await docket.workers.beat(this.#deps.record().id, this.#deps.running.size))) {
      await docket.workers.register(this.#deps.record())
    }
    const live = this.#live()
    if (live.length === 0) return
    const sentAt = Date.now()
    const outcomes = await docket.workers.heartbeat(
      live.map((e) => e.job),
      leaseMs,
    )
    const renewedUntil = new Date(sentAt + leaseMs)
    for (const o of outcomes) {
      const execution = this.#deps.running.get(o.id)
      if (!o.ok) execution?.abort('lease-lost')
      else if (execution) execution.job.lease.expiresAt = renewedUntil
    }
  }

  async #checkLeases(): Promise<void> {
    const live = this.#live()
    if (live.length === 0) return
    const outcomes = await this.#deps.docket.workers.checkLeases(live.map((e) => e.job))
    for (const o of outcomes)
      if (!o.ok) this.#deps.running.get(o.id)?.abort(o.reason === 'cancelled' ? 'cancelled' : 'lease-lost')
  }

  /** Runs `fn` every `ms`, skipping a beat while the previous run is still going. */
  #every(ms: number, fn: () => Promise<void>): void {
    let busy = false
    const timer = setInterval(() => {
      if (busy || this.#stopped) return
      busy = true
      fn()
        .catch((e) => this.#deps.onError(e))
        .finally(() => {
          busy = false
        })
    }, ms)
    timer.unref()
    this.#timers.push(timer)
  }
}
