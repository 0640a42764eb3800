/**
 * A worker: serves queues with handlers. This file owns its life (start,
 * close, signals) and wires its parts, one role per file, as in River:
 *
 *   producer.ts      claims jobs for free slots; sleeps until woken or the poll
 *   local-queue.ts   jobs claimed ahead of the slots (prefetch)
 *   rate-limited.ts  which queues are rate-limited (their jobs are never prefetched)
 *   executor.ts      runs one job: handler, timeout, abort signal
 *   completer.ts     writes completions, batched
 *   lease-keeper.ts  heartbeats, lost leases and cancellation
 *   maintenance.ts   housekeeping, done by one process at a time
 *
 * Wake-ups reach the producer from the store (a job is ready in a served
 * queue), from the executor (a job finished) and from the completer (a
 * completion was written, so the slot it held is free).
 */
import { hostname } from 'node:os'
import type { ClaimedJob } from '../core/types.js'
import type { AnyTasks, TaskMap } from '../docket/tasks.js'
import type { Docket } from '../docket.js'
import type { WorkerRecord } from '../storage/store.js'
import { BatchCompleter, type Completer } from './completer.js'
import { WorkerEventEmitter } from './events.js'
import { Execution, type ExecutorDeps } from './executor.js'
import { LeaseKeeper } from './lease-keeper.js'
import { LocalQueue } from './local-queue.js'
import { Maintenance } from './maintenance.js'
import { resolveWorkerOptions, type WorkerOptions, type WorkerSettings } from './options.js'
import { Producer } from './producer.js'
import { RateLimitedQueues } from './rate-limited.js'

export type { ClaimedTask, WorkerEventName, WorkerEvents, WorkerListener } from './events.js'
export type { Handler, Handlers, WorkerOptions } from './options.js'

/** Runs jobs; tells what happened to them as events (`completed`, `retrying`, `failed`, `error`: see events.ts). */
export class Worker<Tasks extends TaskMap = AnyTasks> extends WorkerEventEmitter<Tasks> {
  readonly id: string
  readonly #docket: Docket
  readonly #o: WorkerSettings
  readonly #running = new Map<string, Execution>()
  readonly #prefetched = new LocalQueue()
  readonly #completer: Completer
  readonly #executorDeps: ExecutorDeps
  readonly #producer: Producer
  readonly #leaseKeeper: LeaseKeeper
  readonly #rateLimited: RateLimitedQueues
  #state: 'idle' | 'running' | 'stopping' | 'stopped' = 'idle'
  #unsubscribe: (() => Promise<void>) | null = null
  #maintenance: Maintenance | null = null
  #signalHandler: (() => void) | null = null
  #closing: Promise<void> | null = null

  /** Validates the options: INVALID_ARGUMENT naming each bad field. */
  constructor(typed: Docket<Tasks>, options: WorkerOptions<Tasks>) {
    const settings = resolveWorkerOptions(options)
    super(settings.onError)
    // The task map has done its work in the options' types; the runtime handles any job.
    const docket = typed as unknown as Docket
    this.#docket = docket
    this.#o = settings
    this.id = this.#o.id ?? `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`
    const onError = (error: unknown, job?: ClaimedJob) => this.reportError(error, job)
    this.#completer = new BatchCompleter({
      docket,
      onWritten: () => this.#producer.wake(),
      onCompleted: (job, result) => this.emitCompleted(job, result),
      onError,
    })
    this.#rateLimited = new RateLimitedQueues(async () => {
      const served = new Set(this.#o.queues)
      const queues = await docket.listQueues()
      return new Set(queues.filter((q) => q.rateLimit && served.has(q.name)).map((q) => q.name))
    })
    this.#producer = new Producer({
      queues: this.#o.queues,
      concurrency: this.#o.concurrency,
      prefetch: this.#o.prefetch,
      batchSize: this.#o.batchSize,
      pollMs: this.#o.pollMs,
      claim: (queues, limit) =>
        docket.workers.claim({
          workerId: this.id,
          queues,
          capabilities: this.#o.capabilities,
          limit,
          leaseMs: this.#o.leaseMs,
        }),
      nextSlotMs: (queues) => docket.workers.rateLimitWaitMs(queues),
      rateLimited: () => this.#rateLimited.get(),
      run: (job) => this.#startOrHold(job),
      running: () => this.#running.size + this.#prefetched.size,
      freeSlots: () => Math.max(0, this.#o.concurrency - this.#running.size),
      unwritten: () => this.#completer.unwritten,
      onError,
    })
    this.#executorDeps = {
      docket,
      workerId: this.id,
      handlers: this.#o.handlers,
      backoff: this.#o.backoff,
      completer: this.#completer,
      onAttemptFailed: (job, error, next) => this.emitAttemptFailed(job, error, next),
      onError,
    }
    this.#leaseKeeper = new LeaseKeeper({
      docket,
      leaseMs: this.#o.leaseMs,
      heartbeatMs: this.#o.heartbeatMs,
      cancelCheckMs: this.#o.cancelCheckMs,
      record: () => this.#record(),
      running: this.#running,
      prefetched: this.#prefetched,
      onError,
    })
  }

  /** Jobs running now. */
  get load(): number {
    return this.#running.size
  }

  async start(): Promise<this> {
    if (this.#state !== 'idle') throw new Error(`worker ${this.id} was already started`)
    this.#state = 'running'
    const workers = this.#docket.workers
    await workers.register(this.#record())
    this.#unsubscribe = await workers.onReady((queue) => {
      if (queue === '*' || this.#o.queues.includes(queue)) this.#producer.wake()
    })
    await this.#leaseKeeper.start()
    if (this.#o.maintenance) {
      this.#maintenance = new Maintenance(this.#docket, {
        holder: this.id,
        intervalMs: this.#o.maintenanceIntervalMs,
        lostAfterMs: Math.max(this.#o.heartbeatMs * 3, 3_000),
        onError: (e) => this.reportError(e),
      })
      this.#maintenance.start()
    }
    if (this.#o.handleSignals) {
      this.#signalHandler = () => void this.close()
      process.once('SIGTERM', this.#signalHandler)
      process.once('SIGINT', this.#signalHandler)
    }
    this.#producer.start()
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
    await this.#producer.stop()
    // Jobs claimed ahead and not started go back at once, for other workers to take.
    const unstarted = this.#prefetched.drain()
    if (unstarted.length > 0) await this.#docket.workers.release(unstarted).catch((e) => this.reportError(e))
    if (wasRunning) {
      // The lease keeper goes on meanwhile: leases of jobs still finishing are extended, cancels still arrive.
      const drained = await waitFor(
        Promise.all([...this.#running.values()].map((e) => e.done)),
        this.#o.shutdownGraceMs,
      )
      if (!drained) {
        const left = [...this.#running.values()]
        for (const e of left) e.abort('shutdown')
        await this.#docket.workers.release(left.map((e) => e.job)).catch((e) => this.reportError(e))
        await Promise.all(left.map((e) => e.done))
      }
      await this.#completer.flushed()
    }
    await this.#leaseKeeper.stop()
    await this.#unsubscribe?.()
    await this.#maintenance?.stop()
    if (wasRunning) await this.#docket.workers.deregister(this.id).catch((e) => this.reportError(e))
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

  #startOrHold(job: ClaimedJob): void {
    if (this.#running.size < this.#o.concurrency) this.#execute(job)
    else this.#prefetched.push(job)
  }

  #execute(job: ClaimedJob): void {
    const execution = new Execution(job, this.#executorDeps)
    this.#running.set(job.id, execution)
    execution.done.finally(() => {
      this.#running.delete(job.id)
      // The freed slot takes the next prefetched job, unless the worker is stopping (those go back).
      const next = this.#state === 'running' ? this.#prefetched.take() : undefined
      if (next) this.#execute(next)
      this.#producer.wake()
    })
  }
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
