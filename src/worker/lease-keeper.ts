/**
 * The lease keeper looks after the leases of the jobs a worker is running,
 * and of those it claimed ahead and holds in its local queue (a prefetched
 * job whose lease is gone is dropped there, never started):
 *
 * - every `heartbeatMs` it extends them in one statement (and records the
 *   worker's load); a lease it can no longer extend aborts its handler with
 *   reason 'cancelled' if the job was cancelled, 'lease-lost' otherwise;
 * - cancellation: on PostgreSQL a cancel arrives at once as a notification on
 *   the Docket's LISTEN connection and aborts the handler with 'cancelled';
 *   every `cancelCheckMs`, on both drivers, one read-only statement asks which
 *   leases are gone and why (the safety net, and SQLite's only way).
 */
import type { LeaseOutcome } from '../core/leases.js'
import type { ClaimedJob } from '../core/types.js'
import type { Docket } from '../docket.js'
import type { LeaseRef, WorkerRecord } from '../storage/store.js'
import type { Execution } from './executor.js'
import type { LocalQueue } from './local-queue.js'

/**
 * Why a handler whose lease is gone is aborted, from the store's answer: 'cancelled' when the job
 * was cancelled, whichever path (the heartbeat, the cancel poll, a notification) heard it first.
 */
function abortReason(o: Extract<LeaseOutcome, { ok: false }>): 'cancelled' | 'lease-lost' {
  return o.reason === 'cancelled' ? 'cancelled' : 'lease-lost'
}

export interface LeaseKeeperDeps {
  docket: Docket
  leaseMs: number
  heartbeatMs: number
  cancelCheckMs: number
  /** This worker, as registered (registered again if maintenance marked it lost). */
  record: () => WorkerRecord
  /** The jobs running now, by id. */
  running: ReadonlyMap<string, Execution>
  /** The jobs claimed ahead, not started yet. */
  prefetched: LocalQueue
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

  /** Jobs whose lease this worker holds: running and not aborted yet, or prefetched. */
  #held(): ClaimedJob[] {
    const running = [...this.#deps.running.values()].filter((e) => !e.aborted).map((e) => e.job)
    return [...running, ...this.#deps.prefetched.jobs()]
  }

  /** The lease of this job is gone: abort its handler, or drop it unstarted. */
  #lost(id: string, reason: 'cancelled' | 'lease-lost'): void {
    const execution = this.#deps.running.get(id)
    if (execution) execution.abort(reason)
    else this.#deps.prefetched.drop(id)
  }

  #onCancelled(lease: LeaseRef | '*'): void {
    if (this.#stopped) return
    // '*': the connection was lost and notifications with it; check every lease now.
    if (lease === '*') {
      this.#checkLeases().catch((e) => this.#deps.onError(e))
      return
    }
    const job = this.#deps.running.get(lease.id)?.job ?? this.#deps.prefetched.get(lease.id)
    // The token tells this attempt from a later one of the same job.
    if (job?.lease.token === lease.token) this.#lost(lease.id, 'cancelled')
  }

  async #heartbeat(): Promise<void> {
    const { docket, leaseMs } = this.#deps
    if (!(await docket.workers.beat(this.#deps.record().id, this.#deps.running.size))) {
      await docket.workers.register(this.#deps.record())
    }
    const held = this.#held()
    if (held.length === 0) return
    // Docket's clock, the one the store measures leases by (a test's clock when one was given).
    const sentAt = docket.now().getTime()
    const outcomes = await docket.workers.heartbeat(held, leaseMs)
    const renewedUntil = new Date(sentAt + leaseMs)
    const byId = new Map(held.map((j) => [j.id, j]))
    for (const o of outcomes) {
      if (!o.ok) this.#lost(o.id, abortReason(o))
      else {
        const job = byId.get(o.id)
        if (job) job.lease.expiresAt = renewedUntil
      }
    }
  }

  async #checkLeases(): Promise<void> {
    const held = this.#held()
    if (held.length === 0) return
    const outcomes = await this.#deps.docket.workers.checkLeases(held)
    for (const o of outcomes) if (!o.ok) this.#lost(o.id, abortReason(o))
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
