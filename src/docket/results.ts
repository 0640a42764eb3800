/**
 * Producers awaiting the end of jobs: `docket.waitForJob(id)` and, over HTTP,
 * `GET /api/v1/jobs/{id}/result?waitMs=`.
 *
 * One tail of the event log serves every waiter of this Docket. It starts with
 * the first waiter and stops with the last, so a thousand waiters on one server
 * read the log once per poll, not a thousand times, and an idle server reads
 * nothing. The log is what every process writes to, so a job finished by a
 * worker anywhere wakes its waiters here.
 */
import { invalidArgument, notFound, waitTimeout } from '../core/errors.js'
import { FINAL_STATUSES, type Job, type JobDetail } from '../core/types.js'
import type { DocketEvent, Subscription } from '../events/feed.js'
import { checkJobId } from './arguments.js'
import type { Jobs } from './jobs.js'

/** Longest a single wait may last: a day. The HTTP route caps its long poll lower (routes/results.ts). */
export const MAX_WAIT_MS = 86_400_000
/** How often the shared tail reads the log while someone waits. */
const TAIL_POLL_MS = 25
/**
 * How often a waiter reads its job again by itself: catches what the log does
 * not say (the job was deleted, or its events were cleaned up).
 */
const RECHECK_MS = 5_000

export interface WaitOptions {
  /** Give up after this many milliseconds with WAIT_TIMEOUT. Default: wait as long as MAX_WAIT_MS. */
  timeoutMs?: number
  /** Stops waiting when aborted, rejecting with the signal's reason. */
  signal?: AbortSignal
}

export const isEnded = (job: Pick<Job, 'status'>): boolean => FINAL_STATUSES.includes(job.status)

function checkWaitOptions(options: WaitOptions): number {
  const { timeoutMs } = options
  if (timeoutMs === undefined) return MAX_WAIT_MS
  if (!Number.isInteger(timeoutMs) || timeoutMs < 0 || timeoutMs > MAX_WAIT_MS) {
    throw invalidArgument(`timeoutMs must be an integer from 0 to ${MAX_WAIT_MS}`, [
      { path: 'timeoutMs', message: `expected an integer from 0 to ${MAX_WAIT_MS}` },
    ])
  }
  return timeoutMs
}

export class JobWaiters {
  /** Job id -> the wake-ups of everyone waiting for it. */
  readonly #waiting = new Map<string, Set<() => void>>()
  #tail: Promise<Subscription> | null = null

  constructor(private readonly jobs: Jobs) {}

  /** Resolves with the job once it has ended; NOT_FOUND if there is none (or it is deleted meanwhile), WAIT_TIMEOUT when time runs out. */
  async wait(id: string, options: WaitOptions = {}): Promise<JobDetail> {
    checkJobId(id)
    const timeoutMs = checkWaitOptions(options)
    options.signal?.throwIfAborted()
    const deadline = performance.now() + timeoutMs
    for (;;) {
      let wake!: () => void
      const woken = new Promise<void>((resolve) => {
        wake = resolve
      })
      // Listen before reading, so an end that commits in between still wakes us.
      this.#add(id, wake)
      try {
        const job = await this.jobs.findJob(id)
        if (!job) throw notFound('job', id)
        if (isEnded(job)) return await this.jobs.getJob(id)
        const left = deadline - performance.now()
        if (left <= 0) throw waitTimeout(id, timeoutMs, job.status)
        await this.#until(woken, Math.min(left, RECHECK_MS), options.signal)
      } finally {
        this.#remove(id, wake)
      }
    }
  }

  async #until(woken: Promise<void>, ms: number, signal: AbortSignal | undefined): Promise<void> {
    // Aborted while the job was being read: the listener below would never fire.
    signal?.throwIfAborted()
    let timer: NodeJS.Timeout | undefined
    let onAbort: (() => void) | undefined
    const aborted = new Promise<never>((_, reject) => {
      if (!signal) return
      onAbort = () => reject(signal.reason)
      signal.addEventListener('abort', onAbort, { once: true })
    })
    try {
      await Promise.race([woken, new Promise<void>((r) => (timer = setTimeout(r, ms))), aborted])
    } finally {
      clearTimeout(timer)
      if (onAbort) signal?.removeEventListener('abort', onAbort)
    }
  }

  #add(id: string, wake: () => void): void {
    let set = this.#waiting.get(id)
    if (!set) {
      set = new Set()
      this.#waiting.set(id, set)
    }
    set.add(wake)
    if (this.#tail) return
    const tail = this.jobs.subscribe((event) => this.#onEvent(event), { pollMs: TAIL_POLL_MS })
    this.#tail = tail
    // A tail that could not start (the Docket is closing) is started again by the next waiter.
    tail.catch(() => {
      if (this.#tail === tail) this.#tail = null
    })
  }

  #remove(id: string, wake: () => void): void {
    const set = this.#waiting.get(id)
    set?.delete(wake)
    if (set?.size === 0) this.#waiting.delete(id)
    if (this.#waiting.size > 0 || !this.#tail) return
    const tail = this.#tail
    this.#tail = null
    void tail.then((s) => s.close()).catch(() => {})
  }

  #onEvent(event: DocketEvent): void {
    if (event.jobId === null || event.status === null || !FINAL_STATUSES.includes(event.status)) return
    for (const wake of this.#waiting.get(event.jobId) ?? []) wake()
  }

  /** Stops the shared tail (the Docket is closing); waiters still pending end at their next check. */
  async close(): Promise<void> {
    const tail = this.#tail
    this.#tail = null
    if (tail) await (await tail).close()
    for (const set of this.#waiting.values()) for (const wake of set) wake()
  }
}
