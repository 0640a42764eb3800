/**
 * The worker runtime. Three parts, as in River:
 *   - the producer loop claims only as many jobs as there are free slots,
 *     then sleeps until a job arrives (LISTEN/NOTIFY or an in-process
 *     signal), a slot frees up, or the poll interval passes;
 *   - the executor runs one job: handler, timeout, abort signal, result;
 *   - the completer batches completions that finish close together into one write.
 * A lease keeper extends the leases of running jobs, and checks often
 * (cheaply, read-only) whether any was cancelled or lost, to abort its handler.
 */
import { hostname } from 'node:os'
import { isDocketError } from '../core/errors.js'
import { findNonJson } from '../core/json.js'
import { type Docket, UnrecoverableError } from '../docket.js'
import type { ClaimedJob } from '../index.js'
import type { WorkerRecord } from '../storage/store.js'
import { type AbortReason, createContext, JobAbortedError, type JobContext } from './context.js'
import { Maintenance } from './maintenance.js'

// biome-ignore lint/suspicious/noExplicitAny: handlers choose their own payload and result types
export type Handler<Payload = any, Result = unknown> = (
  job: ClaimedJob<Payload>,
  ctx: JobContext<Payload>,
) => Promise<Result> | Result

export interface WorkerOptions {
  queues: string[]
  /** A handler per job type, or one function for every type. */
  handlers: Record<string, Handler> | Handler
  /** Jobs run at once by this worker. Default 5. */
  concurrency?: number
  /** Most jobs taken per claim. Default: the free slots. */
  batchSize?: number
  /** Lease length. Default 30 s. */
  leaseMs?: number
  /** How often leases are extended. Default leaseMs / 3. */
  heartbeatMs?: number
  /** How often running jobs are checked for cancellation. Default 500 ms. */
  cancelCheckMs?: number
  /** Safety-net poll when no wake-up arrives. Default 1 s. */
  pollMs?: number
  capabilities?: string[]
  /** The kind of machine, such as 'cpu' or 'gpu'. Default 'cpu'. */
  kind?: string
  id?: string
  /** How long close() lets running jobs finish before aborting and releasing them. Default 10 s. */
  shutdownGraceMs?: number
  /** Close gracefully on SIGTERM and SIGINT. Default false in the library, true in `docket worker`. */
  handleSignals?: boolean
  /** Take part in maintenance (lease recovery, lost workers, retention). Default true. */
  maintenance?: boolean
  maintenanceIntervalMs?: number
  onError?: (error: unknown, job?: ClaimedJob) => void
}

interface Running {
  job: ClaimedJob
  controller: AbortController
  done: Promise<void>
}

export class Worker {
  readonly id: string
  readonly #docket: Docket
  readonly #o: Required<Omit<WorkerOptions, 'handlers' | 'batchSize' | 'id' | 'onError'>> & {
    batchSize: number | null
  }
  readonly #handlers: WorkerOptions['handlers']
  readonly #onError: (error: unknown, job?: ClaimedJob) => void
  readonly #running = new Map<string, Running>()
  #state: 'idle' | 'running' | 'stopping' | 'stopped' = 'idle'
  #wake: (() => void) | null = null
  #wakePending = false
  #loop: Promise<void> | null = null
  #timers: NodeJS.Timeout[] = []
  #unsubscribe: (() => Promise<void>) | null = null
  #maintenance: Maintenance | null = null
  #completions: { job: ClaimedJob; result: unknown; resolve: () => void }[] = []
  #flushing: Promise<void> | null = null
  #queueRotation = 0
  #signalHandler: (() => void) | null = null
  #closing: Promise<void> | null = null

  constructor(docket: Docket, options: WorkerOptions) {
    this.#docket = docket
    const leaseMs = options.leaseMs ?? 30_000
    this.#o = {
      queues: options.queues,
      concurrency: options.concurrency ?? 5,
      batchSize: options.batchSize ?? null,
      leaseMs,
      heartbeatMs: options.heartbeatMs ?? Math.max(50, Math.floor(leaseMs / 3)),
      cancelCheckMs: options.cancelCheckMs ?? 500,
      pollMs: options.pollMs ?? 1_000,
      capabilities: options.capabilities ?? [],
      kind: options.kind ?? 'cpu',
      shutdownGraceMs: options.shutdownGraceMs ?? 10_000,
      handleSignals: options.handleSignals ?? false,
      maintenance: options.maintenance ?? true,
      maintenanceIntervalMs: options.maintenanceIntervalMs ?? 1_000,
    }
    this.#handlers = options.handlers
    this.#onError = options.onError ?? ((error) => console.error('[docket worker]', error))
    this.id = options.id ?? `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`
    if (!Array.isArray(options.queues) || options.queues.length === 0)
      throw new TypeError('queues: name at least one queue')
    if (!Number.isInteger(this.#o.concurrency) || this.#o.concurrency < 1)
      throw new TypeError('concurrency must be an integer >= 1')
  }

  /** Jobs running now. */
  get load(): number {
    return this.#running.size
  }

  async start(): Promise<this> {
    if (this.#state !== 'idle') throw new Error(`worker ${this.id} was already started`)
    this.#state = 'running'
    const store = this.#docket.store
    await store.registerWorker(this.#record())
    this.#unsubscribe = await store.onReady((queue) => {
      if (queue === '*' || this.#o.queues.includes(queue)) this.#poke()
    })
    this.#every(this.#o.heartbeatMs, () => this.#heartbeat())
    this.#every(this.#o.cancelCheckMs, () => this.#checkCancellations())
    if (this.#o.maintenance) {
      this.#maintenance = new Maintenance(this.#docket, {
        holder: this.id,
        intervalMs: this.#o.maintenanceIntervalMs,
        lostAfterMs: Math.max(this.#o.heartbeatMs * 3, 3_000),
        onError: (e) => this.#onError(e),
      })
      this.#maintenance.start()
    }
    if (this.#o.handleSignals) {
      this.#signalHandler = () => void this.close()
      process.once('SIGTERM', this.#signalHandler)
      process.once('SIGINT', this.#signalHandler)
    }
    this.#loop = this.#produce()
    return this
  }

  /**
   * Stops claiming, lets running jobs finish within the grace period, then
   * aborts the rest and releases their leases so other workers take them at once.
   */
  close(): Promise<void> {
    this.#closing ??= this.#shutDown()
    return this.#closing
  }

  async #shutDown(): Promise<void> {
    const wasRunning = this.#state === 'running'
    this.#state = 'stopping'
    if (this.#signalHandler) {
      process.off('SIGTERM', this.#signalHandler)
      process.off('SIGINT', this.#signalHandler)
    }
    this.#poke()
    await this.#loop
    if (wasRunning) {
      const drained = await waitFor(
        Promise.all([...this.#running.values()].map((r) => r.done)),
        this.#o.shutdownGraceMs,
      )
      if (!drained) {
        const left = [...this.#running.values()]
        for (const r of left)
          r.controller.abort(new JobAbortedError('shutdown', 'the worker is shutting down'))
        await this.#docket.release(left.map((r) => r.job)).catch((e) => this.#onError(e))
        await Promise.all(left.map((r) => r.done))
      }
      await this.#flushed()
    }
    for (const t of this.#timers) clearInterval(t)
    await this.#unsubscribe?.()
    await this.#maintenance?.stop()
    if (wasRunning) await this.#docket.store.deregisterWorker(this.id).catch((e) => this.#onError(e))
    this.#state = 'stopped'
  }

  #record(): WorkerRecord {
    return {
      id: this.id,
      host: hostname(),
      pid: process.pid,
      kind: this.#o.kind,
      capabilities: this.#o.capabilities,
      queues: this.#o.queues,
      concurrency: this.#o.concurrency,
    }
  }

  // The producer

  async #produce(): Promise<void> {
    while (this.#state === 'running') {
      // Finished jobs whose completion is not written yet hold their slot only
      // when they pile up (a slow database); otherwise the next claim overlaps the write.
      const unwritten = Math.max(0, this.#completions.length - this.#o.concurrency)
      const free = this.#o.concurrency - this.#running.size - unwritten
      let claimed = 0
      let asked = 0
      if (free > 0) {
        asked = Math.min(free, this.#o.batchSize ?? free)
        this.#wakePending = false
        try {
          const jobs = await this.#docket.claim({
            workerId: this.id,
            queues: this.#rotatedQueues(),
            capabilities: this.#o.capabilities,
            limit: asked,
            leaseMs: this.#o.leaseMs,
          })
          claimed = jobs.length
          for (const job of jobs) this.#execute(job)
        } catch (error) {
          if (this.#state === 'running') this.#onError(error)
        }
      }
      if (this.#state !== 'running') break
      // A full batch means more may be waiting: claim again at once if there is room.
      if (claimed > 0 && claimed === asked && this.#running.size < this.#o.concurrency) continue
      await this.#sleep(this.#o.pollMs)
    }
  }

  /** Serve queues in turn, so that the first one listed cannot starve the others. */
  #rotatedQueues(): string[] {
    const q = this.#o.queues
    const k = this.#queueRotation++ % q.length
    return [...q.slice(k), ...q.slice(0, k)]
  }

  #sleep(ms: number): Promise<void> {
    if (this.#wakePending) {
      this.#wakePending = false
      return Promise.resolve()
    }
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms)
      function done() {
        clearTimeout(timer)
        resolve()
      }
      this.#wake = () => {
        this.#wake = null
        done()
      }
    })
  }

  #poke(): void {
    if (this.#wake) this.#wake()
    else this.#wakePending = true
  }

  // The executor

  #execute(job: ClaimedJob): void {
    const controller = new AbortController()
    const running: Running = { job, controller, done: Promise.resolve() }
    this.#running.set(job.id, running)
    running.done = this.#runJob(job, controller).finally(() => {
      this.#running.delete(job.id)
      this.#poke()
    })
  }

  async #runJob(job: ClaimedJob, controller: AbortController): Promise<void> {
    const handler = this.#handlerFor(job.type)
    const timeout =
      job.timeoutMs === null
        ? null
        : setTimeout(
            () => controller.abort(new JobAbortedError('timeout', `timed out after ${job.timeoutMs} ms`)),
            job.timeoutMs,
          )
    try {
      if (!handler) throw new UnrecoverableError(`no handler for job type '${job.type}' on worker ${this.id}`)
      const result = await untilAborted(
        Promise.resolve().then(() => handler(job, createContext(this.#docket, job, controller.signal))),
        controller.signal,
      )
      // Not awaited: the slot frees now and the completion is written with the next batch.
      this.#complete(job, result).catch((e) => this.#onError(e, job))
    } catch (error) {
      await this.#failed(job, controller.signal.aborted ? controller.signal.reason : error)
    } finally {
      if (timeout) clearTimeout(timeout)
    }
  }

  #handlerFor(type: string): Handler | undefined {
    const h = this.#handlers
    return typeof h === 'function' ? h : Object.hasOwn(h, type) ? h[type] : undefined
  }

  async #failed(job: ClaimedJob, error: unknown): Promise<void> {
    const reason: AbortReason | null = error instanceof JobAbortedError ? error.reason : null
    // Cancelled, lost or released: the lease is gone or handed back, so there is nothing to report.
    if (reason === 'cancelled' || reason === 'lease-lost' || reason === 'shutdown') return
    const err = error instanceof Error ? error : new Error(String(error))
    try {
      await this.#docket.fail(job, err, { retryable: !(error instanceof UnrecoverableError) })
    } catch (e) {
      if (!isDocketError(e, 'LEASE_LOST')) this.#onError(e, job)
    }
  }

  // The completer

  async #complete(job: ClaimedJob, result: unknown): Promise<void> {
    if (result !== undefined && findNonJson(result) !== null) {
      const issue = findNonJson(result)!
      return this.#failed(
        job,
        new UnrecoverableError(
          `the handler returned a result that is not JSON: ${issue.path || 'result'}: ${issue.message}`,
        ),
      )
    }
    return new Promise((resolve) => {
      this.#completions.push({ job, result: result === undefined ? null : result, resolve })
      if (!this.#flushing) this.#flushing = this.#flush()
    })
  }

  /** Resolves when every completion handed to the completer so far is written. */
  async #flushed(): Promise<void> {
    while (this.#flushing || this.#completions.length > 0) {
      this.#flushing ??= this.#flush()
      await this.#flushing
    }
  }

  async #flush(): Promise<void> {
    await new Promise((r) => setImmediate(r))
    while (this.#completions.length > 0) {
      const batch = this.#completions.splice(0, 500)
      await this.#writeCompletions(batch)
      for (const c of batch) c.resolve()
      this.#poke() // slots held by unwritten completions are free again
    }
    this.#flushing = null
  }

  /**
   * Writes a batch of completions. If the database is unreachable (a restart,
   * a network blip) it tries again while the leases still hold, so a job that
   * finished is not run a second time just because its completion was late.
   */
  async #writeCompletions(batch: { job: ClaimedJob; result: unknown }[]): Promise<void> {
    const deadline = Math.min(...batch.map((c) => c.job.lease.expiresAt.getTime()))
    for (let delay = 100; ; delay = Math.min(delay * 2, 2_000)) {
      try {
        const outcomes = await this.#docket.completeMany(batch.map((c) => ({ job: c.job, result: c.result })))
        for (const o of outcomes)
          if (!o.ok) this.#onError(new Error(`completion of ${o.id} refused: ${o.code}`))
        return
      } catch (error) {
        if (isDocketError(error) || Date.now() + delay >= deadline) {
          this.#onError(error)
          return
        }
        await new Promise((r) => setTimeout(r, delay))
      }
    }
  }

  // The lease keeper

  async #heartbeat(): Promise<void> {
    const store = this.#docket.store
    if (!(await store.heartbeatWorker(this.id, this.#running.size))) {
      await store.registerWorker(this.#record())
    }
    const running = [...this.#running.values()].filter((r) => !r.controller.signal.aborted)
    if (running.length === 0) return
    const sentAt = Date.now()
    const outcomes = await this.#docket.heartbeat(
      running.map((r) => r.job),
      this.#o.leaseMs,
    )
    const renewedUntil = new Date(sentAt + this.#o.leaseMs)
    for (const o of outcomes) {
      if (!o.ok) this.#abort(o.id, 'lease-lost')
      else {
        const lease = this.#running.get(o.id)?.job.lease
        if (lease) lease.expiresAt = renewedUntil
      }
    }
  }

  async #checkCancellations(): Promise<void> {
    const running = [...this.#running.values()].filter((r) => !r.controller.signal.aborted)
    if (running.length === 0) return
    const lost = await this.#docket.store.lostLeases(
      running.map((r) => ({ id: r.job.id, token: r.job.lease.token })),
    )
    if (lost.length === 0) return
    for (const id of lost) {
      const job = await this.#docket.store.getJob(id)
      this.#abort(id, job?.status === 'cancelled' ? 'cancelled' : 'lease-lost')
    }
  }

  #abort(id: string, reason: AbortReason): void {
    const r = this.#running.get(id)
    if (!r || r.controller.signal.aborted) return
    const message = reason === 'cancelled' ? 'the job was cancelled' : 'the lease on this job was lost'
    r.controller.abort(new JobAbortedError(reason, message))
  }

  #every(ms: number, fn: () => Promise<void>): void {
    let busy = false
    const timer = setInterval(() => {
      if (busy || this.#state !== 'running') return
      busy = true
      fn()
        .catch((e) => this.#onError(e))
        .finally(() => {
          busy = false
        })
    }, ms)
    timer.unref()
    this.#timers.push(timer)
  }
}

/** Settles with `promise`, or rejects with the signal's reason as soon as it aborts. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason)
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort)
        resolve(v)
      },
      (e) => {
        signal.removeEventListener('abort', onAbort)
        reject(e)
      },
    )
  })
}

async function waitFor(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms)
  })
  try {
    return await Promise.race([promise.then(() => true as const), timeout])
  } finally {
    clearTimeout(timer)
  }
}
