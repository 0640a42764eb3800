/**
 * Housekeeping that one process at a time does for everyone: recover
 * expired leases, mark silent workers lost, and apply queue retention.
 * Leadership is an advisory lock on PostgreSQL and a lease row on SQLite.
 * Each pass is scheduled after the previous one ends, so passes never pile up.
 */
import type { Docket } from '../docket.js'

export interface MaintenanceOptions {
  /** How often the leader runs a pass. Default 1 s. */
  intervalMs?: number
  /** A worker silent this long is marked lost. Default 30 s. */
  lostAfterMs?: number
  /** How often retention runs. Default 60 s. */
  cleanupEveryMs?: number
  holder: string
  onError?: (error: unknown) => void
}

export class Maintenance {
  readonly #docket: Docket
  readonly #intervalMs: number
  readonly #lostAfterMs: number
  readonly #cleanupEveryMs: number
  readonly #holder: string
  readonly #onError: (error: unknown) => void
  #timer: NodeJS.Timeout | null = null
  #running: Promise<void> | null = null
  #stopped = false
  #lastCleanup = 0

  constructor(docket: Docket, options: MaintenanceOptions) {
    this.#docket = docket
    this.#intervalMs = options.intervalMs ?? 1_000
    this.#lostAfterMs = options.lostAfterMs ?? 30_000
    this.#cleanupEveryMs = options.cleanupEveryMs ?? 60_000
    this.#holder = options.holder
    this.#onError = options.onError ?? (() => {})
  }

  start(): void {
    this.#schedule(0)
  }

  /** One pass, if this process holds leadership. Returns whether it did. */
  async runOnce(): Promise<boolean> {
    const store = this.#docket.store
    // Where leadership is a lease row (SQLite), a dead leader blocks lease recovery until its row
    // expires: keep that to three passes, so a crashed worker's jobs are not held much past their lease.
    const ttl = Math.max(this.#intervalMs * 3, 1_000)
    if (!(await store.acquireLeadership('maintenance', this.#holder, ttl))) return false
    await this.#docket.recoverExpiredLeases()
    await store.markLostWorkers(this.#lostAfterMs)
    if (Date.now() - this.#lastCleanup >= this.#cleanupEveryMs) {
      this.#lastCleanup = Date.now()
      await this.#docket.cleanup()
    }
    return true
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
          this.#schedule(this.#intervalMs)
        })
    }, delayMs)
    this.#timer.unref()
  }

  async stop(): Promise<void> {
    this.#stopped = true
    if (this.#timer) clearTimeout(this.#timer)
    await this.#running
    await this.#docket.store.releaseLeadership('maintenance', this.#holder).catch(() => {})
  }
}
